"""Satisfaction survey: sent on solve; GET only shows the form; POST records; links are per ticket."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from walletdesk.sla import csat
from walletdesk.sla.models import CsatSurvey
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket
from walletdesk.tickets.models import Ticket, TicketEvent


def solved(capture: Any, alice: Any, email: str = "g@example.com") -> Ticket:
    ticket = actions.create_ticket(NewTicket(subject="Fee", body="Why?", email=email, category="fees"))
    with capture(execute=True):
        actions.change_status(ticket, "solved", actor=alice)
    return ticket


def link_in_mail(rating: str) -> str:
    for message in mail.outbox:
        found = re.search(r"https?://\S+/satisfaction/\S+\?r=" + rating, message.body)
        if found:
            return found.group(0).split("://", 1)[1].split("/", 1)[1]
    raise AssertionError("no survey link mailed")


def test_solving_sends_one_survey_and_get_does_not_vote(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    ticket = solved(django_capture_on_commit_callbacks, alice)
    survey = CsatSurvey.objects.get(ticket=ticket)
    url = "/" + link_in_mail("good")
    page = Client().get(url)
    assert page.status_code == 200 and b'value="good" required checked' in page.content
    survey.refresh_from_db()
    assert survey.rating == "" and survey.answered_at is None  # a GET never records
    done = Client().post(url.split("?")[0], {"rating": "bad", "comment": "slow"})
    assert done.status_code == 200
    survey.refresh_from_db()
    assert (survey.rating, survey.comment) == ("bad", "slow")
    assert TicketEvent.objects.filter(ticket=ticket, kind="csat_answered").count() == 1


def test_survey_link_for_another_ticket_is_refused(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    mine = solved(django_capture_on_commit_callbacks, alice)
    other = solved(django_capture_on_commit_callbacks, alice, email="other@example.com")
    token = csat.make_token(CsatSurvey.objects.get(ticket=mine))
    response = Client().post(f"/requests/{other.reference}/satisfaction/{token}/", {"rating": "good"})
    assert response.status_code == 403
    forged = Client().post(f"/requests/{mine.reference}/satisfaction/{token[:-3]}abc/", {"rating": "good"})
    assert forged.status_code == 403
    assert not CsatSurvey.objects.exclude(rating="").exists()


def test_bad_rating_value_is_not_recorded(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    ticket = solved(django_capture_on_commit_callbacks, alice)
    survey = CsatSurvey.objects.get(ticket=ticket)
    url = f"/requests/{ticket.reference}/satisfaction/{csat.make_token(survey)}/"
    assert Client().post(url, {"rating": "excellent"}).status_code == 400
    survey.refresh_from_db()
    assert survey.rating == ""


@pytest.mark.parametrize("language", ["zh", "en"])
def test_survey_mail_in_the_tickets_language(
    db: None, alice: Any, language: str, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    ticket = actions.create_ticket(
        NewTicket(subject="Fee", body="Why?", email="z@example.com", category="fees", language=language)
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_status(ticket, "solved", actor=alice)
    survey_mail = [m for m in mail.outbox if "satisfaction" in m.body]
    assert len(survey_mail) == 1
    if language == "zh":
        assert "满意" in survey_mail[0].body


def test_survey_comment_is_screened_for_secrets(
    db: None, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Issue 16: the survey's comment box is inbound text too. A customer who pastes a recovery
    phrase or a key there ("still waiting, here is my phrase again") must not have it stored."""
    from mnemonic import Mnemonic

    from walletdesk.shield.checksums import base58check_encode

    english = Mnemonic("english").generate(128)
    chinese = Mnemonic("chinese_simplified").generate(128).replace(" ", "")
    wif = base58check_encode(b"\x80" + bytes(range(1, 33)) + b"\x01")
    mail.outbox.clear()
    ticket = solved(django_capture_on_commit_callbacks, alice)
    survey = CsatSurvey.objects.get(ticket=ticket)
    url = "/" + link_in_mail("bad").split("?")[0]
    # The phrase sits across the 2000-character cut: it must be found whole, not stored half.
    padding = "slow answer. " * 150
    comment = f"{padding}my words {english} and 助记词{chinese} and key {wif} thanks"
    assert Client().post(url, {"rating": "bad", "comment": comment}).status_code == 200
    survey.refresh_from_db()
    stored = survey.comment
    assert survey.rating == "bad" and stored.startswith("slow answer.")
    for word_run in (" ".join(english.split()[i : i + 4]) for i in range(9)):
        assert word_run not in stored
    assert chinese[:6] not in stored and wif[:16] not in stored
