"""The troubleshooter editor in real Chromium: an operator adds a step, links a choice to it,
watches the preview follow, saves; then customers walk the saved flow, in Chinese on a phone
and in English on a desktop. No Content-Security-Policy violation on any page.

Screenshots: test-artifacts/kb/flow-editor-*.png.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.contrib.auth.models import Permission

from tests.browser import ARTIFACTS, DESKTOP, PHONE, chromium, login_cookie, shot
from walletdesk.core.models import AuditEntry
from walletdesk.kb.models import Troubleshooter

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]

NEW = {
    "title_en": "Try another network",
    "title_zh": "换一个网络试试",
    "body_en": "Switch between **Wi-Fi** and mobile data, then log in again.",
    "body_zh": "在**无线网络**和移动数据之间切换，然后重新登录。",
    "choice_en": "I am on public Wi-Fi",
    "choice_zh": "我在用公共无线网络",
}


def view(page: Any, name: str) -> None:
    """What the screen shows (the editor is long; a full-page shot hides the sticky parts)."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))


def _settle_previews(page: Any, field: Any) -> None:
    """Leave the field (its change event asks for a preview) and wait until no preview request
    is in flight and the 400 ms typing delay has passed. The test server's in-memory SQLite is
    one connection shared by its request threads, so a preview racing the save's POST fails
    with InterfaceError there (never in a real server, where each thread has its own)."""
    inflight: set[Any] = set()
    page.on("request", lambda r: inflight.add(r) if "/preview/" in r.url else None)
    page.on("requestfinished", lambda r: inflight.discard(r))
    page.on("requestfailed", lambda r: inflight.discard(r))
    field.blur()
    quiet = 0
    for _ in range(100):
        page.wait_for_timeout(250)
        quiet = quiet + 1 if not inflight else 0
        if quiet >= 3:
            return


def _watch_csp(page: Any, seen: list[str]) -> None:
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)


def test_operator_edits_a_flow_and_customers_walk_it(live_server: Any, starter: None, alice: Any) -> None:
    alice.user_permissions.add(Permission.objects.get(codename="change_troubleshooter"))
    base = live_server.url
    url = f"{base}/agent/kb/flows/cannot-log-in/"
    csp: list[str] = []
    with chromium() as browser:
        # --- the operator, in English on a desktop ---
        desk = browser.new_context(viewport=DESKTOP, locale="en-US")
        desk.add_cookies([login_cookie(alice, base), {"name": "django_language", "value": "en", "url": base}])
        page = desk.new_page()
        _watch_csp(page, csp)
        page.goto(url)
        steps_before = page.locator("fieldset.flow-step").count()
        preview = page.get_by_test_id("flow-preview")
        assert "What happens when you try to log in?" in preview.inner_text()
        shot(page, "kb/flow-editor-en-desktop-open")

        page.get_by_test_id("add-step").click()
        page.wait_for_load_state()
        new = page.get_by_test_id(f"step-{steps_before}")
        new_id = new.get_attribute("data-step-id")
        assert new_id == f"step-{steps_before + 1}"
        new.locator("[name$='-title_en']").fill(NEW["title_en"])
        new.locator("[name$='-title_zh']").fill(NEW["title_zh"])
        new.locator("[name$='-body_en']").fill(NEW["body_en"])
        new.locator("[name$='-body_zh']").fill(NEW["body_zh"])
        new.locator("[name$='-ending']").select_option("solved")

        start = page.get_by_test_id("step-0")
        start.locator("[name='steps-0-choice_4_en']").fill(NEW["choice_en"])
        start.locator("[name='steps-0-choice_4_zh']").fill(NEW["choice_zh"])
        start.locator("[name='steps-0-choice_4_next']").select_option(new_id)
        # The preview follows the typing: the new choice appears, and walks to the new step.
        choice = page.get_by_test_id("preview-choice").filter(has_text=NEW["choice_en"])
        choice.wait_for(timeout=15_000)
        choice.click()
        page.get_by_test_id("preview-title").filter(has_text=NEW["title_en"]).wait_for(timeout=15_000)
        assert "Wi-Fi" in page.get_by_test_id("flow-preview").locator("strong").inner_text()
        start.locator("[name='steps-0-choice_4_en']").scroll_into_view_if_needed()
        view(page, "kb/flow-editor-en-desktop-preview")
        # The same step in Chinese, as a zh customer will see it.
        page.get_by_test_id("preview-lang").select_option("zh-hans")
        page.get_by_test_id("preview-title").filter(has_text=NEW["title_zh"]).wait_for(timeout=15_000)

        page.get_by_test_id("save-flow").click()
        page.wait_for_load_state()
        assert page.get_by_test_id("flow-problems").count() == 0, page.get_by_test_id(
            "flow-problems"
        ).inner_text()
        shot(page, "kb/flow-editor-en-desktop-saved")
        flow = Troubleshooter.objects.get(slug="cannot-log-in")
        assert flow.graph["steps"][new_id]["end"] == "solved"
        assert flow.graph["steps"]["start"]["options"][4]["next"] == new_id
        assert AuditEntry.objects.filter(action="kb.troubleshooter_saved", actor=alice).exists()

        # A refused save: the new step's Chinese title emptied; the page says where, nothing saved.
        # The saved order is the order arranged, on any database.
        assert page.get_by_test_id(f"step-{steps_before}").get_attribute("data-step-id") == new_id
        emptied = page.get_by_test_id(f"step-{steps_before}").locator("[name$='-title_zh']")
        emptied.fill("")
        _settle_previews(page, emptied)
        page.get_by_test_id("save-flow").click()
        page.wait_for_load_state()
        problem = page.locator(f"fieldset[data-step-id='{new_id}'] .error")
        assert "title in both English and Chinese" in problem.first.inner_text()
        problem.first.scroll_into_view_if_needed()
        view(page, "kb/flow-editor-en-desktop-refused")
        assert Troubleshooter.objects.get(slug="cannot-log-in").graph == flow.graph
        desk.close()

        # --- the operator's editor on a phone, in Chinese ---
        phone_desk = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        phone_desk.add_cookies(
            [login_cookie(alice, base), {"name": "django_language", "value": "zh-hans", "url": base}]
        )
        page = phone_desk.new_page()
        _watch_csp(page, csp)
        page.goto(url)
        assert page.locator("h1").inner_text().startswith("编辑")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        view(page, "kb/flow-editor-zh-phone-open")
        page.get_by_test_id("step-1").scroll_into_view_if_needed()
        view(page, "kb/flow-editor-zh-phone-step")
        phone_desk.close()

        # --- customers walk the saved flow ---
        for lang, viewport, locale, name in (
            ("zh-hans", PHONE, "zh-CN", "zh-phone"),
            ("en", DESKTOP, "en-US", "en-desktop"),
        ):
            suffix = "zh" if lang == "zh-hans" else "en"
            context = browser.new_context(viewport=viewport, locale=locale, is_mobile=viewport is PHONE)
            context.add_cookies([{"name": "django_language", "value": lang, "url": base}])
            customer = context.new_page()
            _watch_csp(customer, csp)
            customer.goto(f"{base}/help/t/cannot-log-in/")
            customer.get_by_role("link", name=NEW[f"choice_{suffix}"]).click()
            customer.locator(f"[data-step='{new_id}']").wait_for(timeout=15_000)
            step = customer.locator(f"[data-step='{new_id}']")
            assert NEW[f"title_{suffix}"] in step.inner_text()
            assert step.locator(".kb-step-body strong").count() == 1
            assert customer.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
            shot(customer, f"kb/flow-editor-customer-{name}")
            context.close()
    assert csp == []
