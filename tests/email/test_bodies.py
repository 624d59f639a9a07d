"""Acknowledgements and solved notices rendered once per shape and filled in per mail
(connectors/email/bodies.py) read exactly as the templates render them, mail by mail: in every
language, with and without a promised time and a confirmation link, with values that HTML must
escape, and for a second ticket after the first filled the cache."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.utils import translation

from tests.email.test_ingest import make_mail
from walletdesk.connectors.email import bodies, ingest
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

WRITERS = {
    "en": (
        "My deposit has not arrived",
        "I sent USDT from my exchange two hours ago and it is not in my wallet.",
    ),
    "zh-hans": ("充值没有到账", "我两个小时前从交易所转了USDT，钱包里还没有到账，请帮忙看看。"),
    "zh-hant": ("充值沒有到賬", "我兩個小時前從交易所轉了USDT，錢包裡還沒有到賬，請幫忙看看。"),
}


def _tickets(language: str) -> list[Ticket]:
    subject, body = WRITERS[language]
    found = []
    for n in (1, 2):
        result = ingest(make_mail(f"writer{n}.{language}@example.com", subject=f"{subject} {n}", body=body))
        assert result.ticket_reference, result
        found.append(
            Ticket.objects.select_related("contact", "category").get(reference=result.ticket_reference)
        )
    return found


def _whole(ticket: Ticket, kind: str, language: str) -> tuple[str, str]:
    with translation.override(language):
        return bodies.render_whole(language, bodies.context(ticket, kind, None))


def _shaped(ticket: Ticket, kind: str, language: str) -> tuple[str, str]:
    with translation.override(language):
        return bodies.render(ticket, kind, language)


# A site address with characters the HTML part must escape, so a value filled in unescaped shows.
@override_settings(SITE_URL="https://help.example.com/desk?a=1&b='2'")
@pytest.mark.parametrize("language", ["en", "zh-hans", "zh-hant"])
@pytest.mark.parametrize("kind", ["created", "solved"])
def test_every_shape_reads_as_the_template_renders_it(language: str, kind: str) -> None:
    bodies._shapes.clear()
    seen_confirm = seen_due = False
    for ticket in _tickets(language):
        assert ticket.language.startswith(language[:2])
        variants = [ticket]
        no_due = Ticket.objects.select_related("contact", "category").get(pk=ticket.pk)
        no_due.first_reply_due = None
        variants.append(no_due)
        proven = Ticket.objects.select_related("contact", "category").get(pk=ticket.pk)
        proven.contact.claim_key = ""  # an account's own contact: no confirmation link
        variants.append(proven)
        for variant in variants:
            text, html = _shaped(variant, kind, language)
            assert (text, html) == _whole(variant, kind, language)
            assert variant.reference in text and variant.reference in html
            seen_confirm |= bodies.context(variant, kind, None)["confirm_url"] is not None
            seen_due |= variant.first_reply_due is not None and kind == "created"
            assert "\ue000" not in text + html and "\ue001" not in text + html
            assert "a=1&amp;b=&#x27;2&#x27;" in html and "a=1&b='2'" in text
    assert seen_due or kind == "solved"
    assert seen_confirm or kind == "solved"


def test_a_reply_is_rendered_whole_with_its_message() -> None:
    (ticket, _other) = _tickets("en")
    message = ticket.messages.order_by("pk").first()
    assert message is not None
    text, html = bodies.render_bodies(ticket, "reply", message, "en")
    assert message.body.split()[0] in text
    assert (text, html) == _whole_with(ticket, message)


def _whole_with(ticket: Ticket, message: object) -> tuple[str, str]:
    with translation.override("en"):
        return bodies.render_whole("en", bodies.context(ticket, "reply", message))
