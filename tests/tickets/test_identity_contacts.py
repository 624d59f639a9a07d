"""Who a new ticket is for: a typed address is a claim, proven ones land on the account
(issue 16, part 2), and resolving them stays a few statements per batch, not one per ticket."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Contact, Proof, Ticket

pytestmark = pytest.mark.django_db


def _new(n: int, **extra: Any) -> NewTicket:
    values: dict[str, Any] = {
        "subject": f"locked {n}",
        "body": f"please help ({n})",
        "email": f"p{n}@example.com",
    }
    values.update(extra)
    return NewTicket(**values)


def _contact_statements(news: list[NewTicket]) -> int:
    drafts = [actions.draft(n) for n in news]
    with transaction.atomic(), CaptureQueriesContext(connection) as seen:
        actions._contacts_for([d.new for d in drafts])
    return len(seen)


@pytest.mark.parametrize("proof", ["", Proof.MAIL], ids=["claims", "authenticated-mail"])
def test_contact_resolution_does_not_grow_with_the_batch(seeded: None, carol: Any, proof: str) -> None:
    def batch(size: int, start: int) -> list[NewTicket]:
        news = [_new(start + i, email_proof=proof, proven_by="DKIM example.com") for i in range(size)]
        news[0].email = "carol@example.com"  # one of them an account's address
        return news

    small = _contact_statements(batch(2, 0))
    large = _contact_statements(batch(20, 100))
    # Found, accounts that verified the address, their contacts, one INSERT: whatever the size.
    assert small <= 4 and large <= 4, (small, large)


def test_a_typed_address_never_lands_on_the_account(carol: Any) -> None:
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    typed = actions.create_tickets([_new(1, email="CAROL@example.com"), _new(2, email="carol@example.com")])
    assert {t.contact_id for t in typed} == {Contact.objects.get(claim_key="carol@example.com").pk}
    assert own.contact_id not in {t.contact_id for t in typed}
    assert list(Ticket.objects.filter(contact__user=carol)) == [own]


def test_a_claim_can_never_carry_an_account(carol: Any) -> None:
    claim = actions.create_ticket(_new(1, email="carol@example.com")).contact
    claim.user = carol
    with pytest.raises(IntegrityError), transaction.atomic():
        claim.save(update_fields=["user"])


def test_signing_in_later_does_not_adopt_what_was_typed_before(carol: Any) -> None:
    typed = actions.create_ticket(_new(1, email="carol@example.com"))
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    assert own.contact_id != typed.contact_id
    assert actions.link_contact_to_user(carol) == 0
    assert not Ticket.objects.filter(pk=typed.pk, contact__user=carol).exists()


def test_confirming_moves_one_ticket_to_the_account_once(carol: Any, dave: Any) -> None:
    first = actions.create_ticket(_new(1, email="carol@example.com"))
    second = actions.create_ticket(_new(2, email="carol@example.com"))
    # dave, signed in, holding carol's link: the link is the proof, so it goes to carol.
    confirmed = actions.confirm_claim(first, email="carol@example.com", user=dave)
    assert confirmed.contact.user == carol
    assert Ticket.objects.get(pk=second.pk).contact.user_id is None  # one by one
    with pytest.raises(actions.TicketError):
        actions.confirm_claim(first, email="carol@example.com")
    with pytest.raises(actions.TicketError):  # a link for another address does nothing
        actions.confirm_claim(second, email="dave@example.com")


def test_the_desk_is_told_how_the_requester_is_proven(carol: Any, dave: Any) -> None:
    from walletdesk.tickets import identity

    def label(ticket: Ticket) -> tuple[bool, str, Any]:
        ticket = Ticket.objects.select_related("contact").get(pk=ticket.pk)
        status = identity.status(ticket)
        return status.proven, status.label, identity.account_of(ticket)

    typed = actions.create_ticket(_new(1, email="carol@example.com"))
    assert label(typed) == (False, "email not confirmed", None)
    app_claim = actions.create_ticket(_new(2, channel="inapp", identity=("inapp", "1:u1")))
    assert label(app_claim) == (False, "email not confirmed: known only by the app's user id", None)
    vouched = actions.create_ticket(
        _new(
            3,
            email="dave@example.com",
            channel="inapp",
            identity=("inapp", "1:u2"),
            email_proof=Proof.APP,
            proven_by="wallet-ios",
        )
    )
    assert label(vouched) == (True, "vouched by app wallet-ios", dave)
    mailed = actions.create_ticket(
        _new(4, email="new@example.com", email_proof=Proof.MAIL, proven_by="DKIM example.com")
    )
    assert label(mailed)[:2] == (True, "authenticated mail (DKIM example.com)")
    own = actions.create_ticket(NewTicket(subject="mine", body="b", user=carol))
    assert label(own) == (True, "signed in", carol)
    assert identity.confirm_url(Ticket.objects.select_related("contact").get(pk=typed.pk))
    assert identity.confirm_url(Ticket.objects.select_related("contact").get(pk=own.pk)) is None
    assert identity.confirm_url(Ticket.objects.select_related("contact").get(pk=app_claim.pk)) is None
