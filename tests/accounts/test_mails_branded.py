"""Every mail the product sends, in zh-hans and en, is ours: the brand, the line "support is
free, we never ask for your recovery phrase…" in the mail's language, and (in Chinese) no
English subject. Collected through Django's locmem outbox, each mail sent by the code path
that sends it in production (tasks, the sign-in flow, ticket actions)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client

from walletdesk.accounts import tasks
from walletdesk.core.hant import to_hant
from walletdesk.sla import notify
from walletdesk.tickets import actions
from walletdesk.tickets.actions import NewTicket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

NEVER_ASK = {
    "en": "Support is free. We never ask for your recovery phrase, private key or any fee.",
    "zh-hans": "客服永远免费。我们绝不会索要您的助记词、私钥或任何费用。",
    "zh-hant": to_hant("客服永远免费。我们绝不会索要您的助记词、私钥或任何费用。"),
}
TEXT = {
    "en": "My wallet says my account is locked and I cannot send anything.",
    "zh-hans": "我的钱包被锁了，转账一直显示失败，请帮忙看看。",
}
SECURITY_KINDS = [
    "new_device",
    "password_changed",
    "password_reset",
    "mfa_enabled",
    "mfa_disabled",
    "unlocked",
]


def bodies(message: EmailMessage) -> list[str]:
    parts = [str(message.body)]
    parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
    return parts


def check(message: EmailMessage, language: str, brand: str = "walletdesk", *, quoted: str = "") -> None:
    """`quoted`: the customer's own words, which a subject may repeat."""
    subject = str(message.subject)
    for body in bodies(message):
        assert NEVER_ASK[language] in body, (subject, body)
        assert brand in body, body
        assert "Hello from" not in body and "的 Hello" not in body, body
        assert "Thank you for using" not in body, body
    if language == "zh-hant":
        # Traditional throughout its own part (the English part is under the divider).
        first = str(message.body).split("-" * 40)[0]
        assert to_hant(first) == first and to_hant(subject) == subject, (subject, first)
    if language.startswith("zh"):
        ours = re.sub(r"WD-[0-9A-Z-]+", "", subject.replace(brand, "").replace(quoted, ""))
        words = re.findall(r"[A-Za-z]{3,}", ours)
        assert not words, f"English in a Chinese subject: {subject!r}"
        assert re.search(r"[\u4e00-\u9fff]", subject), subject


@pytest.fixture
def person(carol: Any) -> Any:
    EmailAddress.objects.get_or_create(
        user=carol, email=carol.email, defaults={"verified": True, "primary": True}
    )
    return carol


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant", "en"])
def test_security_notices(person: Any, language: str) -> None:
    person.language = language
    person.save(update_fields=["language"])
    mail.outbox.clear()
    for kind in SECURITY_KINDS:
        tasks.send_security_notice.call(person.pk, kind, {"ip": "10.0.0.1", "user_agent": "Firefox"})
    tasks.send_unlock_link.call(person.pk)
    tasks.send_password_reset_link.call(person.pk)
    assert len(mail.outbox) == len(SECURITY_KINDS) + 2
    for message in mail.outbox:
        check(message, language)
        assert message.subject.startswith("[walletdesk] ")


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_allauth_mails_sent_by_tasks(person: Any, language: str) -> None:
    address = EmailAddress.objects.create(user=person, email="carol.new@example.com", verified=False)
    mail.outbox.clear()
    tasks.send_email_confirmation.call(address.pk, signup=True, language=language)
    tasks.send_email_confirmation.call(address.pk, signup=False, language=language)
    tasks.send_account_exists_notice.call(person.pk, None, language=language)
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        check(message, language)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_password_reset_mail_through_the_real_form(person: Any, language: str) -> None:
    """The stock mail read "来自127.0.0.1:8311的 Hello!"; now the form sends ours."""
    mail.outbox.clear()
    client = Client(headers={"Accept-Language": language})
    for address in (person.email, "nobody@example.com"):  # known, and allauth's "no such account"
        reply = client.post("/accounts/password/reset/", {"email": address})
        assert reply.status_code == 302, reply.content.decode()[-1500:]
    assert len(mail.outbox) == 2
    reset, unknown = mail.outbox
    for message in (reset, unknown):
        check(message, language)
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", reset.body)
    assert link, reset.body
    # The link works: it opens the "set a new password" form.
    page = client.get(link.group(0).split("://", 1)[1].split("/", 1)[1].join(["/", ""]), follow=True)
    assert page.status_code == 200 and 'name="password1"' in page.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_ticket_acknowledgement_solved_notice_and_survey(
    alice: Any, language: str, django_capture_on_commit_callbacks: Any
) -> None:
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket = actions.create_ticket(
            NewTicket(subject="Locked", body=TEXT[language], email="wang@example.com", language=language)
        )
    with django_capture_on_commit_callbacks(execute=True):
        actions.change_status(ticket, "solved", actor=alice)
    kinds = {"ack": False, "survey": False}
    for message in mail.outbox:
        check(message, language, quoted="Locked")
        kinds["survey"] |= "satisfaction" in message.body
        kinds["ack"] |= ticket.reference in message.subject and "/track/" in message.body
    assert all(kinds.values()), [m.subject for m in mail.outbox]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_agent_notice_subject_in_the_agents_language(
    alice: Any, language: str, django_capture_on_commit_callbacks: Any
) -> None:
    alice.language = language
    alice.save(update_fields=["language"])
    ticket = actions.create_ticket(NewTicket(subject="Locked", body=TEXT["en"], email="wang@example.com"))
    mail.outbox.clear()
    from django.utils.translation import gettext as _

    with django_capture_on_commit_callbacks(execute=True):
        notify.mail_agents(
            [alice], lambda: _("Customer followed up: %(ref)s") % {"ref": ticket.reference}, ticket
        )
    (message,) = mail.outbox
    check(message, language)
    assert ("客户催促" in message.subject) == (language == "zh-hans")


def test_brand_name_from_settings(person: Any, settings: Any) -> None:
    settings.BRAND_NAME = "Acme Wallet"
    mail.outbox.clear()
    tasks.send_unlock_link.call(person.pk)
    Client().post("/accounts/password/reset/", {"email": person.email})
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        check(message, "en", brand="Acme Wallet")
        assert message.subject.startswith("[Acme Wallet] ")
