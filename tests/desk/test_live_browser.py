"""The live desk in real browsers against `walletdesk up` with two web processes: sockets land on
either process, so presence and ticket nudges also go through the bridge between them
(core.live). Agents sign in through the real login form; a customer files requests through
the real web form.

- Alice and Bob (General) on one ticket see each other viewing, then Bob typing a reply.
- Bob solves it: Alice's page shows it without a reload (same page object, her draft kept) and
  says who changed what; her properties form, still from before, is refused with "changed by Bob".
- A request filed on /new/ appears in Alice's inbox without a reload, her ticked row stays ticked;
  a request for the restricted Security desk appears in Sam's (Security) inbox, never in Alice's.

Screenshots: test-artifacts/desk/live-*.png (phone and desktop, English and Chinese).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, walletdesk_up

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple 9"
AGENTS = {
    "alice": ("alice@desk.example.com", "Alice", "general"),
    "bob": ("bob@desk.example.com", "Bob", "general"),
}
AGENTS["sam"] = ("sam@desk.example.com", "Sam", "security")
SETUP = f"""
from allauth.account.models import EmailAddress
from walletdesk.accounts.models import User
from walletdesk.tickets.models import Team

for address, name, team in {list(AGENTS.values())!r}:
    user = User.objects.create_user(email=address, password={PASSWORD!r})
    user.is_staff = True
    user.display_name = name
    user.save()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    Team.objects.get(slug=team).members.add(user)
"""
REFERENCE = re.compile(r"WD-[0-9A-Z-]+")


class Person:
    def __init__(self, base: str) -> None:
        self.base = base
        self.session = requests.Session()

    def post(self, path: str, data: dict[str, str], form: str | None = None) -> requests.Response:
        page = self.session.get(self.base + (form or path), timeout=60)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text[:2000]
        return self.session.post(
            self.base + path,
            data={**data, "csrfmiddlewaretoken": token.group(1)},
            allow_redirects=False,
            timeout=60,
        )

    def sign_in(self, address: str) -> str:
        reply = self.post("/accounts/login/", {"login": address, "password": PASSWORD})
        assert reply.status_code == 302, reply.text[-2000:]
        return str(self.session.cookies["sessionid"])

    def file_request(self, category: str, subject: str, **fields: str) -> str:
        reply = self.post(
            "/new/",
            {
                "category": category,
                "email": "wang@example.com",
                "subject": subject,
                "body": "Please help.",
                **fields,
            },
            form=f"/new/?category={category}",
        )
        assert reply.status_code == 302, reply.text[-3000:]
        received = self.session.get(self.base + reply.headers["Location"], timeout=60)
        found = REFERENCE.search(received.text)
        assert found, received.text[:2000]
        return found.group(0)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walletdesk]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with walletdesk_up(
        tmp_path_factory.mktemp("desklive"), workers=2, env={"HELPER_PROCESSES": "0"}, before_start=accounts
    ) as up:
        yield up
    log = up.log()
    assert "Internal Server Error" not in log and "Traceback" not in log, log[-4000:]


def agent_page(
    browser: Any, site: Walletdesk, who: str, path: str, *, viewport: Any = DESKTOP, lang: str = "en"
) -> Any:
    sessionid = Person(site.base_url).sign_in(AGENTS[who][0])
    context = browser.new_context(viewport=viewport, locale="en-US")
    context.add_cookies(
        [
            {"name": "sessionid", "value": sessionid, "url": site.base_url},
            {"name": "django_language", "value": lang, "url": site.base_url},
        ]
    )
    page = context.new_page()
    page.goto(site.base_url + path)
    return page


def presence(page: Any, text: str, timeout: float = 10_000) -> None:
    page.wait_for_function(
        "t => { const p = document.querySelector('[data-presence]'); return p && !p.hidden && p.textContent.includes(t); }",
        arg=text,
        timeout=timeout,
    )


# Which web process each agent's socket on a ticket is served by: the origin of the latest
# presence signal it wrote to the bridge table.
WHO_WHERE = """
import json
from walletdesk.core.models import LiveSignal
from walletdesk.tickets.models import Ticket
group = "ticket.%d" % Ticket.objects.get(reference={ref!r}).pk
latest = {{}}
for origin, event in LiveSignal.objects.filter(group_name=group).order_by("id").values_list("origin", "event"):
    latest[event["name"]] = origin
print("WHERE", json.dumps(latest))
"""


def where(site: Walletdesk, ref: str) -> dict[str, str]:
    out = site.manage("shell", "-c", WHO_WHERE.format(ref=ref))
    line = next(x for x in out.splitlines() if x.startswith("WHERE "))
    return dict(json.loads(line[6:]))


def test_two_agents_on_one_ticket_live(site: Walletdesk) -> None:
    guest = Person(site.base_url)
    ref = guest.file_request("other", "Transfer stuck for two days")
    path = f"/agent/tickets/{ref}/"
    with chromium() as browser:
        a = agent_page(browser, site, "alice", path)
        b = agent_page(browser, site, "bob", path)
        presence(a, "Bob is viewing")
        presence(b, "Alice is viewing")
        # The kernel spreads connections over the two processes (SO_REUSEPORT): Bob reconnects
        # until his socket is on the other process than Alice's, so all that follows crosses
        # the bridge between them.
        for _attempt in range(10):
            placed = where(site, ref)
            if placed.get("Alice") and placed.get("Bob") and placed["Alice"] != placed["Bob"]:
                break
            b.reload()
            presence(b, "Alice is viewing")
            presence(a, "Bob is viewing")
        else:
            pytest.fail(f"both sockets stayed on one process: {placed}")

        # Alice starts a reply; Bob sees her typing, never her words.
        a.evaluate("window.__same_page = true")
        a.fill("textarea[name=body]", "")
        a.type("textarea[name=body]", "Let me check the chain", delay=20)
        presence(b, "Alice is typing a reply…")
        assert "Let me check" not in b.content()
        shot(b, "desk/live-presence-typing-desktop-en")

        # Bob solves the ticket; Alice's page shows it without a reload, her draft untouched.
        b.select_option("form[data-shortcut=properties] select[name=status]", "solved")
        b.click("form[data-shortcut=properties] button[type=submit]")
        b.wait_for_load_state()
        a.wait_for_function(
            "() => document.querySelector('header.ticket-head .badge.status-solved') !== null", timeout=10_000
        )
        banner = a.wait_for_selector("[data-testid=live-banner]:not([hidden])", timeout=10_000)
        assert "Bob changed this ticket: status Solved" in banner.inner_text(), banner.inner_text()
        assert a.evaluate("window.__same_page") is True
        assert a.input_value("textarea[name=body]") == "Let me check the chain"
        assert a.input_value("form[data-shortcut=properties] select[name=status]") == "solved"
        shot(a, "desk/live-changed-desktop-en")

        # Her properties form still carries the version she opened: a change from it is refused.
        a.select_option("form[data-shortcut=properties] select[name=priority]", "high")
        a.click("form[data-shortcut=properties] button[type=submit]")
        stale = a.wait_for_selector("[data-testid=stale]", timeout=10_000)
        assert "changed by Bob" in stale.inner_text() and "status Solved" in stale.inner_text(), (
            stale.inner_text()
        )

        # Screenshots with presence shown: Alice's page, phone and desktop, English and Chinese.
        a.goto(site.base_url + path)
        for lang, viewing in (("en", "Bob is viewing"), ("zh-hans", "Bob 正在查看")):
            a.context.add_cookies([{"name": "django_language", "value": lang, "url": site.base_url}])
            for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
                a.set_viewport_size(viewport)
                a.goto(site.base_url + path)
                presence(a, viewing)
                shot(a, f"desk/live-presence-{size}-{lang}")
        b.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": site.base_url}])
        b.goto(site.base_url + path)
        a.type("textarea[name=body]", "再确认一下", delay=20)
        presence(b, "Alice 正在输入回复…")
        b.set_viewport_size(PHONE)
        shot(b, "desk/live-presence-typing-phone-zh-hans")

        # Bob leaves: Alice's presence line goes.
        b.context.close()
        a.wait_for_selector("[data-presence]", state="hidden", timeout=10_000)


def test_new_requests_appear_in_the_inbox_of_those_who_may_see_them(site: Walletdesk) -> None:
    guest = Person(site.base_url)
    first = guest.file_request("other", "Old request")
    with chromium() as browser:
        a = agent_page(browser, site, "alice", "/agent/?view=open&sort=new")
        s = agent_page(browser, site, "sam", "/agent/?view=open&sort=new")
        for page in (a, s):
            page.wait_for_selector(f"tr[data-ticket='{first}']")
            page.evaluate("window.__same_page = true")
        a.check(f"tr[data-ticket='{first}'] input[name=t]")
        time.sleep(1)  # both sockets open

        ref = guest.file_request("other", "Fee seems too high")
        for page in (a, s):
            page.wait_for_selector(f"tr[data-ticket='{ref}']", timeout=10_000)
            assert page.evaluate("window.__same_page") is True
        assert a.is_checked(f"tr[data-ticket='{first}'] input[name=t]")

        secret = guest.file_request(
            "unauthorised_tx",
            "Transfer I did not make",
            wallet_address="0x52908400098527886E0F7030069857D2E4169EE7",
            tx_hash="0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b",
            chain="Ethereum",
        )
        s.wait_for_selector(f"tr[data-ticket='{secret}']", timeout=10_000)
        time.sleep(2)  # long enough for a nudge to have reached Alice, had it been sent
        assert a.query_selector(f"tr[data-ticket='{secret}']") is None
        assert "Transfer I did not make" not in a.content()
        assert a.evaluate("window.__same_page") is True
        shot(a, "desk/live-inbox-desktop-en")

        # Sam opens the request Alice ticked: her row shows it as it is now, still ticked, and a
        # bulk action from it is refused as made from what she saw when she ticked it.
        sam_ticket = s.context.new_page()
        sam_ticket.goto(f"{site.base_url}/agent/tickets/{first}/")
        sam_ticket.select_option("form[data-shortcut=properties] select[name=status]", "open")
        sam_ticket.click("form[data-shortcut=properties] button[type=submit]")
        a.wait_for_selector(f"tr[data-ticket='{first}'] .badge.status-open", timeout=10_000)
        assert a.is_checked(f"tr[data-ticket='{first}'] input[name=t]")
        assert not a.is_checked(f"tr[data-ticket='{ref}'] input[name=t]")
        a.click("[data-testid=bulk-assign-me]")
        flash = a.wait_for_selector("ul.flash li", timeout=10_000).inner_text()
        assert f"{first} was changed by Sam meanwhile" in flash, flash
