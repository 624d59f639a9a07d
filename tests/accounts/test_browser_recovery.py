"""Real Chromium at phone size: a customer reports a stolen account with a real photo.

Proves the stored file is ciphertext, the decrypted photo has no EXIF, and only the Security
desk can open it (audited). Also screenshots the lockout and recovery pages in both
languages into test-artifacts/accounts/.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from tests.accounts.conftest import PASSWORD, picture_with_exif
from tests.conftest import need

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "accounts"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def browser() -> Iterator[Any]:
    need(Path(CHROMIUM).exists(), "Chromium at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield instance
        instance.close()


def phone(browser: Any, language: str = "en", user: Any = None, base_url: str = "") -> Any:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        extra_http_headers={"Accept-Language": language},
    )
    if user is not None:
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base_url}]
        )
    return context


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def assert_fits_phone(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"page is {width}px wide on a {PHONE['width']}px phone"


def test_customer_reports_stolen_account_and_only_the_security_desk_sees_the_document(
    browser: Any, live_server: Any, carol: Any, alice: Any, bob: Any, settings: Any
) -> None:
    from walletdesk.accounts import crypto
    from walletdesk.accounts.models import RecoveryCase
    from walletdesk.core.models import AuditEntry
    from walletdesk.tickets.models import Ticket

    base = live_server.url
    photo = picture_with_exif("JPEG", size=(320, 200))
    assert b"SecretCam" in photo

    # The customer signs in through the real form and files the report on a phone.
    context = phone(browser)
    page = context.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", "carol@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/requests/")
    page.goto(f"{base}/account-recovery/")
    assert_fits_phone(page)
    page.fill("textarea[name=what_happened]", "Someone changed my password and email last night.")
    page.fill("textarea[name=recent_activity]", "My last own sign-in was on my iPhone on Monday.")
    page.select_option("select[name=document_kind]", "passport")
    page.set_input_files(
        "input[name=front]", files=[{"name": "passport.jpg", "mimeType": "image/jpeg", "buffer": photo}]
    )
    shot(page, "recovery-form-en")
    page.click("form[data-testid=recovery-form] button[type=submit]")
    page.wait_for_url(f"{base}/submitted/**")
    shot(page, "recovery-submitted-en")

    case = RecoveryCase.objects.get()
    ticket = Ticket.objects.get(pk=case.ticket_id)
    assert ticket.priority == "urgent" and ticket.category.slug == "account_stolen"
    assert ticket.reference in page.content()
    document = case.documents.get()
    stored = Path(document.file.path).read_bytes()
    assert stored != photo and b"SecretCam" not in stored and not stored.startswith(b"\xff\xd8")
    plain = crypto.decrypt(stored)
    assert b"SecretCam" not in plain and b"Model-42" not in plain
    with Image.open(io.BytesIO(plain)) as image:
        assert image.format == "JPEG" and not image.getexif() and image.size == (320, 200)

    link = f"{base}/agent/documents/{document.public_id}/"
    # The customer who uploaded it cannot fetch it back.
    assert page.goto(link).status == 403
    context.close()
    # Anonymous: sent to sign in, never the file.
    anonymous = phone(browser).new_page()
    response = anonymous.goto(link)
    assert "/accounts/login/" in anonymous.url and response.headers.get("content-type", "").startswith(
        "text/html"
    )
    anonymous.context.close()
    # An agent outside the Security desk.
    refused = phone(browser, user=alice, base_url=base).new_page()
    assert refused.goto(link).status == 403
    refused.context.close()
    assert not AuditEntry.objects.filter(action="identity_document.viewed").exists()
    # A Security-desk agent (the team that owns the case) sees it, from the ticket's sidebar.
    desk = phone(browser, user=bob, base_url=base).new_page()
    desk.goto(f"{base}/agent/tickets/{ticket.reference}/")
    assert desk.locator("[data-testid=account-security]").is_visible()
    assert desk.locator("[data-testid=identity-document]").count() == 1
    response = desk.goto(link)
    assert response.status == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.body() == plain
    desk.context.close()
    entry = AuditEntry.objects.get(action="identity_document.viewed")
    assert entry.actor_id == bob.pk and entry.target_id == str(document.pk)


def test_lockout_and_recovery_pages_in_both_languages_on_a_phone(
    browser: Any, live_server: Any, carol: Any, settings: Any
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    base = live_server.url
    for language, suffix in (("en", "en"), ("zh-hans", "zh")):
        context = phone(browser, language)
        page = context.new_page()
        page.goto(f"{base}/accounts/login/")
        assert_fits_phone(page)
        shot(page, f"login-{suffix}")
        for _ in range(2):
            page.fill("input[name=login]", f"carol+{suffix}@example.com")
            page.fill("input[name=password]", "not my password at all")
            page.click("button[type=submit]")
            page.wait_for_load_state()
        lockout = page.locator("[data-testid=lockout]")
        assert lockout.is_visible()
        text = lockout.inner_text()
        assert ("Sign-in paused" in text) if suffix == "en" else ("为了您的安全" in text)
        assert_fits_phone(page)
        shot(page, f"lockout-{suffix}")
        page.click("a[href='/accounts/unlock/']")
        page.fill("input[name=email]", "carol@example.com")
        page.click("button[type=submit]")
        assert page.locator("[data-testid=unlock-sent]").is_visible()
        shot(page, f"unlock-sent-{suffix}")
        page.goto(f"{base}/account-recovery/")
        assert_fits_phone(page)
        shot(page, f"recovery-form-{suffix}")
        context.close()
        from axes.models import AccessAttempt

        AccessAttempt.objects.all().delete()
