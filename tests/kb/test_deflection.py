"""Suggestions on the request form: shown, opened, and whether a ticket was still filed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from walletdesk.kb.actions import new_deflection_id
from walletdesk.kb.models import DeflectionSession, SuggestionEvent
from walletdesk.kb.reports import deflection_rate

pytestmark = pytest.mark.django_db


def suggest(client: Client, ds: str, **params: str) -> str:
    response = client.get("/help/suggest/", {"kb_ds": ds, **params}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    return response.content.decode()


def file_ticket(client: Client, ds: str) -> None:
    response = client.post(
        "/new/",
        {
            "category": "fees",
            "email": "guest@example.com",
            "subject": "Fee question",
            "body": "Why is the fee so high?",
            "kb_ds": ds,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]


def test_request_form_carries_a_deflection_id_and_the_suggestion_box() -> None:
    page = Client().get("/new/").content.decode()
    assert 'name="kb_ds"' in page and 'hx-get="/help/suggest/"' in page
    assert "keyup changed delay:300ms from:#id_subject" in page


def test_suggestions_partial_answers_chinese_and_english(starter: None) -> None:
    ds = new_deflection_id()
    zh = suggest(
        Client(headers={"Accept-Language": "zh-hans"}), ds, subject="账户被锁定", body="输错密码好几次"
    )
    assert "/help/a/account-locked/?from=suggest&amp;ds=" + ds in zh and "<html" not in zh
    en = suggest(Client(), ds, subject="I forgot my password")
    assert "/help/a/forgot-password/?from=suggest" in en
    assert suggest(Client(), ds).strip() == ""
    shown = SuggestionEvent.objects.filter(session_id=ds, kind="shown").values_list(
        "article__slug", flat=True
    )
    assert {"account-locked", "forgot-password"} <= set(shown)


def test_opened_then_ticket_filed(starter: None) -> None:
    client, ds = Client(), new_deflection_id()
    suggest(client, ds, subject="network fee too high")
    client.get("/help/a/network-fees-explained/", {"from": "suggest", "ds": ds})
    assert SuggestionEvent.objects.filter(
        session_id=ds, kind="opened", article__slug="network-fees-explained"
    ).exists()
    file_ticket(client, ds)
    session = DeflectionSession.objects.get(id=ds)
    assert session.ticket_reference.startswith("WD-") and session.ticket_filed_at is not None


def test_leaving_without_filing_is_not_a_deflection(starter: None) -> None:
    # Giving up looks exactly like being helped from here: only a customer's own "this solved
    # it" counts (#22). Leaving is reported, as leaving.
    start = timezone.now() - timedelta(minutes=1)
    deflected, filed, ignored = new_deflection_id(), new_deflection_id(), new_deflection_id()
    client = Client()
    for ds in (deflected, filed, ignored):
        suggest(client, ds, subject="network fee too high")
    client.get("/help/a/network-fees-explained/", {"from": "suggest", "ds": deflected})
    client.get("/help/a/network-fees-explained/", {"from": "suggest", "ds": filed})
    file_ticket(client, filed)
    file_ticket(client, new_deflection_id())  # a visit that was never shown anything: no row
    report = deflection_rate(start, timezone.now() + timedelta(minutes=1))
    assert report.sessions_shown == 3 and report.tickets_filed == 1 and report.left_without_filing == 2
    assert report.deflected == 0 and report.rate == 0.0
    assert report.sessions_opened == 2 and report.opened_then_filed == 1
    assert report.opened_rate == pytest.approx(0.5)
    empty = deflection_rate(start - timedelta(days=10), start - timedelta(days=9))
    assert empty.sessions_shown == 0 and empty.rate == 0.0


def test_junk_deflection_ids_are_ignored(starter: None) -> None:
    suggest(Client(), "not-a-valid-id", subject="forgot password")
    Client().get("/help/a/forgot-password/", {"from": "suggest", "ds": "../../x"})
    assert DeflectionSession.objects.count() == 0


def test_no_query_text_is_stored(starter: None) -> None:
    ds = new_deflection_id()
    suggest(Client(), ds, subject="my seed phrase is abandon ability able")
    session: Any = DeflectionSession.objects.filter(id=ds).values().first()
    assert session is None or "abandon" not in str(session)
