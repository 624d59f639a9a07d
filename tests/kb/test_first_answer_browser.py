"""The first answer through a real server (`walletdesk up`) and Chromium: a chat guest on a
phone in Simplified Chinese says "this solved it"; a form guest on a desktop in English asks
for a person; a stranger with a forged tracking token is refused. Screenshots:
test-artifacts/first-answer/*.png.

The server runs without dense vectors (KB_DENSE=0: embedding the starter articles costs about
a minute here), so the lexical thresholds decide; bench/first_answer_eval.py reports both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]


def _state(up: Walletdesk, reference: str) -> dict[str, Any]:
    out = up.manage(
        "shell",
        "-c",
        "import json\n"
        "from walletdesk.tickets.models import Ticket, TicketEvent\n"
        f"t = Ticket.objects.get(reference={reference!r})\n"
        "kinds = list(TicketEvent.objects.filter(ticket=t, kind__startswith='first_answer')"
        ".values_list('kind', flat=True))\n"
        "print('STATE' + json.dumps({'status': t.status, 'events': kinds}))",
    )
    return dict(json.loads(out.split("STATE", 1)[1].strip().splitlines()[0]))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def prepare(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")

    with walletdesk_up(
        tmp_path_factory.mktemp("first-answer"),
        workers=1,
        env={"HELPER_PROCESSES": "0", "KB_DENSE": "0", "FIRST_ANSWER": "1"},
        before_start=prepare,
    ) as up:
        yield up


def test_a_chat_guest_on_a_phone_says_this_solved_it(site: Walletdesk) -> None:
    question = "转账一直显示确认中"
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(f"{site.base_url}/chat/?lang=zh-hans")
        page.fill("textarea[name=question]", question)
        page.click("[data-testid=chat-start] button[type=submit]")
        card = page.locator("[data-testid=chat-first-answer]")
        card.wait_for(timeout=15000)
        assert "确认中" in card.inner_text()
        href = page.eval_on_selector("[data-testid=chat-first-answer-link]", "a => a.href")
        assert href.endswith("/help/a/transaction-pending/")
        shot(page, "first-answer/chat-phone-zh-hans")
        reference = page.get_attribute("[data-testid=chat-widget]", "data-reference")
        assert reference
        page.click("[data-testid=chat-first-answer-solved]")
        page.locator("[data-testid=chat-first-answer-done]", has_text="已解决").wait_for(timeout=10000)
        shot(page, "first-answer/chat-phone-zh-hans-solved")
        context.close()
    state = _state(site, reference)
    assert state["status"] == "solved"
    assert state["events"] == ["first_answer_offered", "first_answer_solved"]


def test_a_form_guest_on_a_desktop_asks_for_a_person_and_a_stranger_is_refused(site: Walletdesk) -> None:
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="en-GB")
        page = context.new_page()
        page.goto(f"{site.base_url}/new/?category=other")
        page.fill("input[name=email]", "guest@example.com")
        page.fill("input[name=subject]", "My transfer is stuck")
        page.fill("textarea[name=body]", "It has been pending for an hour.")
        page.click("form.form button[type=submit]")
        page.locator("[data-testid=first-answer]").wait_for(timeout=15000)
        assert "/submitted/" in page.url
        reference = page.inner_text("[data-testid=reference]").strip()
        shot(page, "first-answer/form-desktop-en")
        token = page.url.rstrip("/").rsplit("/", 1)[-1]
        offer = page.get_attribute("input[name=offer]", "value")

        # A stranger: their own browser, a forged token, the real offer id.
        stranger = browser.new_context(viewport=DESKTOP).new_page()
        stranger.goto(f"{site.base_url}/new/")
        csrf = next(c["value"] for c in stranger.context.cookies() if c["name"] == "csrftoken")
        forged = stranger.request.post(
            f"{site.base_url}/track/{token[:-2]}xx/answer/",
            form={"offer": str(offer), "choice": "solved", "csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{site.base_url}/new/", "X-CSRFToken": csrf},
        )
        assert forged.status == 403
        assert stranger.request.get(f"{site.base_url}/track/{token}/answer/").status == 405

        page.click("[data-testid=first-answer-person]")
        page.locator("[data-testid=first-answer-done]").wait_for(timeout=10000)
        assert re.search(r"An agent will answer you", page.inner_text("[data-testid=first-answer]"))
        shot(page, "first-answer/track-desktop-en-person")
        context.close()
    state = _state(site, reference)
    assert state["status"] not in ("solved", "closed")
    assert state["events"] == ["first_answer_offered", "first_answer_declined"]
