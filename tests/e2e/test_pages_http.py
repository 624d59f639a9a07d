"""Every page issue 17 moved (portal, desk, reports, registry, SLA/CSAT), through the real server.

`walletdesk up` on an empty data directory, the real SMTP hop (aiosmtpd) and plain HTTP with
cookies and CSRF, as people use it:

- two customers sign up, confirm by the link in their mail and sign in; each files a request
  (one for the General team with a screenshot, one for the restricted Security desk);
- a guest files a request on /new/ and follows the tracking link;
- an agent of the General team and one of the Security desk sign in.

Each page must render for the right person (200 and a phrase of the page, so a template error,
which answers 500, is caught) and be refused for the wrong one, the way a person would notice:
another customer's request is "not found", a guest on the desk is sent to sign in, a customer on
the desk is refused, an agent does not find a ticket of a restricted team they are not in, and a
tracking link opens no other ticket's files. The survey mailed when an agent solves a request
takes a rating; a tampered survey link is refused.

Screenshots of the main pages (phone and desktop, English and Chinese) go to
test-artifacts/pages/.
"""

from __future__ import annotations

import email
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.servers import SmtpServer, Walletdesk, smtp_server, walletdesk_up

PASSWORD = "correct horse battery staple 9"
GENERAL_AGENT = "alice@desk.example.com"
SECURITY_AGENT = "bob@desk.example.com"
CUSTOMER_A = "wang@example.com"
CUSTOMER_B = "li@example.com"
GUEST = "guest@example.com"
REFERENCE = re.compile(r"WD-[0-9A-Z-]+")

# Made before the server starts, as an administrator would: the two agents in their teams and
# the official channels the verifier checks against. Customers sign up through the site.
SETUP = f"""
from allauth.account.models import EmailAddress
from walletdesk.accounts.models import User
from walletdesk.registry.models import OfficialContact
from walletdesk.tickets.models import Team

for address, name, team in (
    ({GENERAL_AGENT!r}, "Alice (General)", "general"),
    ({SECURITY_AGENT!r}, "Bob (Security)", "security"),
):
    user = User.objects.create_user(email=address, password={PASSWORD!r})
    user.is_staff = True
    user.display_name = name
    user.save()
    EmailAddress.objects.create(user=user, email=address, verified=True, primary=True)
    Team.objects.get(slug=team).members.add(user)
OfficialContact.objects.create(
    kind="domain", value="token.im", label_en="Official website", label_zh="官方网站",
    url="https://token.im", position=0,
)
OfficialContact.objects.create(
    kind="email", value="support@token.im", label_en="Support email", label_zh="客服邮箱", position=1
)
"""


def _png(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(out, format="PNG")
    return out.getvalue()


class Person:
    """A browser of one person: cookies, CSRF, redirects not followed (the test looks at them)."""

    def __init__(self, base: str, language: str = "en") -> None:
        self.base = base
        self.session = requests.Session()
        self.session.cookies.set("django_language", language)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.base + path, allow_redirects=False, timeout=60, **kwargs)

    def csrf(self, path: str) -> str:
        """The form's token, as the page at `path` hands it out."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code, page.text[:2000])
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert found, page.text[:2000]
        return found.group(1)

    def post(
        self, path: str, data: dict[str, str], *, form: str | None = None, **kwargs: Any
    ) -> requests.Response:
        token = self.csrf(form or path)
        return self.session.post(
            self.base + path,
            data={**data, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=60,
            **kwargs,
        )

    def sign_in(self, address: str) -> None:
        reply = self.post("/accounts/login/", {"login": address, "password": PASSWORD})
        assert reply.status_code == 302, reply.text[-2000:]


@dataclass
class Site:
    up: Walletdesk
    smtp: SmtpServer
    people: dict[str, Person] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)  # who filed it -> reference
    files: dict[str, int] = field(default_factory=dict)  # whose ticket -> attachment id
    tracking: str = ""  # the guest's tracking token

    @property
    def base(self) -> str:
        return self.up.base_url

    def mail_to(self, address: str, containing: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in self.smtp.messages:
                if address in received.rcpt_tos:
                    text = _text(email.message_from_bytes(received.data))
                    if containing in text:
                        return text
            time.sleep(0.3)
        raise AssertionError(
            f"no mail to {address} with {containing!r}; got {[m.rcpt_tos for m in self.smtp.messages]}"
        )


def _text(message: email.message.Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(part.get_content_charset() or "utf-8")


def _sign_up(site: Site, address: str) -> Person:
    person = Person(site.base)
    reply = person.post("/accounts/signup/", {"email": address, "password1": PASSWORD, "password2": PASSWORD})
    assert (reply.status_code, reply.headers.get("Location")) == (302, "/accounts/confirm-email/"), (
        reply.text[-2000:]
    )
    link = re.search(r"http://[^/\s]+(/accounts/confirm-email/\S+/)", site.mail_to(address, "confirm-email"))
    assert link, "no confirmation link"
    assert person.post(link.group(1), {}).status_code == 302
    person.sign_in(address)
    return person


def _file_request(
    person: Person, category: str, fields: dict[str, str], attachment: bytes | None
) -> requests.Response:
    files = [("attachments", ("screenshot.png", attachment, "image/png"))] if attachment else None
    return person.post(
        "/new/", {"category": category, **fields}, form=f"/new/?category={category}", files=files
    )


def _first_file(page: str) -> int:
    found = re.search(r'href="/files/(\d+)/', page)
    assert found, page[:3000]
    return int(found.group(1))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    def accounts(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        up.manage("shell", "-c", SETUP)

    with (
        smtp_server() as smtp,
        walletdesk_up(
            tmp_path_factory.mktemp("pages"),
            workers=1,
            env={"EMAIL_HOST": smtp.host, "EMAIL_PORT": str(smtp.port), "HELPER_PROCESSES": "0"},
            before_start=accounts,
        ) as up,
    ):
        site = Site(up, smtp)
        a = site.people["a"] = _sign_up(site, CUSTOMER_A)
        b = site.people["b"] = _sign_up(site, CUSTOMER_B)

        # Customer A: a fee question with a screenshot (General team).
        filed = _file_request(
            a, "fees", {"subject": "Fee question from A", "body": "Why was the fee so high?"}, _png("red")
        )
        assert filed.status_code == 302, filed.text[-2000:]
        mine = a.get("/requests/")
        site.tickets["a"] = REFERENCE.search(mine.text).group(0)  # type: ignore[union-attr]
        site.files["a"] = _first_file(a.get(f"/requests/{site.tickets['a']}/").text)

        # Customer B: a transfer they did not make (the restricted Security desk).
        filed = _file_request(
            b,
            "unauthorised_tx",
            {
                "subject": "Transfer I did not make",
                "body": "An outgoing USDT transfer this morning was not mine.",
                "wallet_address": "0x52908400098527886E0F7030069857D2E4169EE7",
                "tx_hash": "0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b",
                "chain": "Ethereum",
            },
            None,
        )
        assert filed.status_code == 302, filed.text[-2000:]
        site.tickets["b"] = REFERENCE.search(b.get("/requests/").text).group(0)  # type: ignore[union-attr]

        # A guest, signed out, with a screenshot: the answer leads to the "received" page.
        guest = site.people["guest"] = Person(site.base)
        filed = _file_request(
            guest,
            "other",
            {"email": GUEST, "subject": "App crashes after update", "body": "It closes when I open it."},
            _png("blue"),
        )
        assert filed.status_code == 302, filed.text[-2000:]
        submitted = re.fullmatch(r"/submitted/([^/]+)/", filed.headers["Location"])
        assert submitted, filed.headers["Location"]
        site.tracking = submitted.group(1)

        for key, address in (("general", GENERAL_AGENT), ("security", SECURITY_AGENT)):
            agent = site.people[key] = Person(site.base)
            agent.sign_in(address)
        yield site
    log = up.log()
    # A refused agent page logs its PermissionDenied traceback; a 500 logs this.
    assert "Internal Server Error" not in log, log[-4000:]


def _shows(reply: requests.Response, *phrases: str) -> None:
    assert reply.status_code == 200, (reply.url, reply.status_code, reply.text[:2000])
    for phrase in phrases:
        assert phrase in reply.text, (reply.url, phrase, reply.text[:3000])


def _sent_to_sign_in(reply: requests.Response, path: str) -> None:
    assert reply.status_code == 302, (path, reply.status_code)
    assert reply.headers["Location"].startswith("/accounts/login/?next="), reply.headers["Location"]


def test_the_guest_files_a_request_and_follows_it_by_the_link(site: Site) -> None:
    guest = site.people["guest"]
    _shows(guest.get("/"), "How can we help?", "Common problems")
    _shows(guest.get("/contact/"), "Official support channels", "token.im")
    _shows(guest.get("/new/"), "Contact support")
    _shows(guest.get("/new/?category=account_stolen"), "Contact support", "Send request")
    received = guest.get(f"/submitted/{site.tracking}/")
    _shows(received, "We received your request", f"/track/{site.tracking}/")
    reference = REFERENCE.search(received.text)
    assert reference
    site.tickets["guest"] = reference.group(0)
    thread = guest.get(f"/track/{site.tracking}/")
    _shows(thread, "App crashes after update", "It closes when I open it.")
    site.files["guest"] = _first_file(thread.text)
    assert f'href="/files/{site.files["guest"]}/{site.tracking}/"' in thread.text

    # Their own screenshot, by the link; nobody else's, by the link or without it.
    own = guest.get(f"/files/{site.files['guest']}/{site.tracking}/")
    assert own.status_code == 200 and own.content.startswith(b"\x89PNG")
    assert "attachment" in own.headers["Content-Disposition"]
    assert guest.get(f"/files/{site.files['a']}/{site.tracking}/").status_code == 404
    assert guest.get(f"/files/{site.files['guest']}/").status_code == 404
    # A link someone altered opens nothing: the "not valid" page.
    tampered = site.tracking[:-3] + ("aaa" if not site.tracking.endswith("aaa") else "bbb")
    assert guest.get(f"/track/{tampered}/").status_code == 403
    assert guest.get(f"/submitted/{tampered}/").status_code == 403
    assert "This link is not valid" in guest.get(f"/track/{tampered}/").text
    assert guest.get(f"/files/{site.files['guest']}/{tampered}/").status_code == 404
    assert guest.get("/confirm/not-a-real-link/").status_code == 403

    # The stolen-account form renders for anyone.
    _shows(guest.get("/account-recovery/"), "Report a stolen account")

    # Signed-in pages send the guest to sign in; the desk too.
    for path in (
        "/requests/",
        f"/requests/{site.tickets['a']}/",
        "/agent/",
        "/agent/phone/",
        "/agent/reports/",
        f"/agent/tickets/{site.tickets['guest']}/",
    ):
        _sent_to_sign_in(guest.get(path), path)


def test_a_guest_reply_by_the_tracking_link_reaches_the_thread(site: Site) -> None:
    guest = site.people["guest"]
    path = f"/track/{site.tracking}/"
    reply = guest.post(path, {"body": "Still crashing on version 2.15.3."})
    assert (reply.status_code, reply.headers.get("Location")) == (302, path), reply.text[:2000]
    _shows(guest.get(path), "Still crashing on version 2.15.3.")


def test_each_customer_sees_only_their_own_requests(site: Site) -> None:
    a, b = site.people["a"], site.people["b"]
    ref_a, ref_b = site.tickets["a"], site.tickets["b"]
    _shows(a.get("/requests/"), "My requests", "Fee question from A")
    assert "Transfer I did not make" not in a.get("/requests/").text
    _shows(b.get("/requests/"), "My requests", "Transfer I did not make")
    _shows(a.get(f"/requests/{ref_a}/"), "Fee question from A", "Why was the fee so high?")
    _shows(b.get(f"/requests/{ref_b}/"), "Transfer I did not make")
    # Another customer's request is not found, nor their files; a made-up one neither.
    assert a.get(f"/requests/{ref_b}/").status_code == 404
    assert b.get(f"/requests/{ref_a}/").status_code == 404
    assert a.get(f"/requests/{site.tickets.get('guest', 'WD-NOPE')}/").status_code == 404
    assert a.get("/requests/WD-0000-NOPE/").status_code == 404
    own = a.get(f"/files/{site.files['a']}/")
    assert own.status_code == 200 and own.content.startswith(b"\x89PNG")
    assert b.get(f"/files/{site.files['a']}/").status_code == 404
    assert a.get(f"/files/{site.files['guest']}/").status_code == 404

    # Follow-up: on one's own request it goes back to it; on another's it is not found.
    reply = b.post(f"/requests/{ref_b}/follow-up/", {}, form=f"/requests/{ref_b}/")
    assert (reply.status_code, reply.headers.get("Location")) == (302, f"/requests/{ref_b}/"), reply.text[
        :2000
    ]
    assert a.post(f"/requests/{ref_b}/follow-up/", {}, form=f"/requests/{ref_a}/").status_code == 404

    # The desk refuses customers, its pages and its actions alike.
    for path in ("/agent/", "/agent/phone/", "/agent/reports/", f"/agent/tickets/{ref_a}/"):
        assert a.get(path).status_code == 403, path
    refused = a.post(f"/agent/tickets/{ref_a}/account/unlock/", {}, form="/new/?category=other")
    assert refused.status_code == 403
    refused = a.post(f"/agent/tickets/{ref_a}/update/", {"status": "solved"}, form="/new/?category=other")
    assert refused.status_code == 403
    _shows(a.get("/account-recovery/"), "Report a stolen account")


def test_agents_see_their_teams_tickets_and_not_a_restricted_team_they_are_not_in(site: Site) -> None:
    general, security = site.people["general"], site.people["security"]
    ref_a, ref_b, ref_guest = site.tickets["a"], site.tickets["b"], site.tickets["guest"]

    inbox = general.get("/agent/?view=all")
    _shows(inbox, ref_a, ref_guest, "Fee question from A")
    assert ref_b not in inbox.text
    _shows(general.get(f"/agent/tickets/{ref_a}/"), "Fee question from A", "Why was the fee so high?")
    _shows(general.get(f"/agent/tickets/{ref_guest}/"), "App crashes after update")
    assert general.get(f"/agent/tickets/{ref_b}/").status_code == 404
    assert general.get(f"/agent/tickets/{ref_b.lower()}/").status_code == 404
    # A macro fills the reply box (the htmx partial); on a hidden ticket it is not found.
    page = general.get(f"/agent/tickets/{ref_guest}/")
    # The picker groups macros by the ticket's category; any macro will do here.
    picker = page.text[page.text.index('id="macro-select"') :]
    macro = re.search(r'<option value="(\d+)"[^>]*>([^<]+)<', picker[: picker.index("</select>")])
    assert macro, page.text[:3000]
    filled = general.post(
        f"/agent/tickets/{ref_guest}/macro/",
        {"macro": macro.group(1), "mode": "fill"},
        form=f"/agent/tickets/{ref_guest}/",
        headers={"HX-Request": "true"},
    )
    _shows(filled, 'name="body"')
    assert "<html" not in filled.text  # the partial, not the page
    hidden = general.post(
        f"/agent/tickets/{ref_b}/macro/", {"macro": macro.group(1), "mode": "fill"}, form="/agent/phone/"
    )
    assert hidden.status_code == 404
    _shows(general.get("/agent/phone/"), "Log a phone call")
    _shows(general.get("/agent/reports/"), "Reports", "All teams")
    # Files: the agent opens files of tickets they see.
    assert general.get(f"/files/{site.files['a']}/").status_code == 200
    assert general.get(f"/files/{site.files['guest']}/").status_code == 200

    _shows(security.get("/agent/?view=all"), ref_b, "Transfer I did not make")
    _shows(security.get(f"/agent/tickets/{ref_b}/"), "Transfer I did not make")
    _shows(security.get("/agent/reports/"), "Reports")


def test_the_official_channel_check_on_the_page_and_in_the_api(site: Site) -> None:
    guest = site.people["guest"]
    _shows(guest.get("/verify/"), "Is this official?", "Check")
    page = guest.get("/verify/", params={"kind": "url", "value": "https://token.im/download"})
    _shows(page, 'data-status="official"', "Official")
    page = guest.get("/verify/", params={"kind": "url", "value": "https://token-im.example.net/"})
    assert page.status_code == 200 and 'data-testid="verdict"' in page.text
    assert 'data-status="official"' not in page.text
    page = guest.get("/verify/", params={"kind": "email", "value": "support@token.im"})
    _shows(page, 'data-status="official"')

    answer = guest.get("/api/v1/verify", params={"kind": "url", "value": "https://token.im"})
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["status"] == "official"
    answer = guest.get("/api/v1/verify", params={"kind": "url", "value": "https://token-im.example.net/"})
    assert answer.status_code == 200 and answer.json()["status"] in ("impersonation", "unknown")
    answer = guest.get("/api/v1/verify", params={"kind": "fax", "value": "x"})
    assert answer.status_code in (400, 422) and answer.headers["Content-Type"].startswith("application/json")
    channels = guest.get("/api/v1/official-channels")
    assert channels.status_code == 200
    assert {(c["kind"], c["value"]) for c in channels.json()} == {
        ("domain", "token.im"),
        ("email", "support@token.im"),
    }


def test_pages_in_chinese(site: Site) -> None:
    guest = Person(site.base, language="zh-hans")
    _shows(guest.get("/"), 'lang="zh-Hans"', "跟踪工单", "我的工单")
    _shows(
        guest.get("/verify/", params={"kind": "url", "value": "https://token.im"}), 'data-status="official"'
    )
    agent = Person(site.base, language="zh-hans")
    agent.sign_in(GENERAL_AGENT)
    for path in ("/agent/", f"/agent/tickets/{site.tickets['a']}/", "/agent/reports/", "/agent/phone/"):
        page = agent.get(path)
        assert page.status_code == 200, (path, page.status_code)
        assert re.search(r"[\u4e00-\u9fff]", page.text), path


def test_a_solved_request_gets_a_survey_that_takes_a_rating_and_refuses_a_tampered_link(site: Site) -> None:
    general, a = site.people["general"], site.people["a"]
    ref = site.tickets["a"]
    page = general.get(f"/agent/tickets/{ref}/")
    _shows(page, "Fee question from A")
    chosen = {name: _selected(page.text, name) for name in ("priority", "assignee", "team")}
    solved = general.post(
        f"/agent/tickets/{ref}/update/", {"status": "solved", **chosen}, form=f"/agent/tickets/{ref}/"
    )
    assert (solved.status_code, solved.headers.get("Location")) == (302, f"/agent/tickets/{ref}/")

    mail = site.mail_to(CUSTOMER_A, "/satisfaction/")
    link = re.search(r"http://[^/\s]+(/requests/[^/\s]+/satisfaction/[^/\s]+/)\?r=good", mail)
    assert link, mail
    path = link.group(1)
    assert f"/requests/{ref}/" in path
    # The link works for whoever holds it (the customer, signed in or not).
    survey = site.people["guest"].get(path + "?r=good")
    _shows(survey, "How did we do?", "Send my rating")
    thanks = a.post(path, {"rating": "good", "comment": "Quick answer, thanks"}, form=path)
    _shows(thanks, "Thank you for your feedback")

    # Tampered: the signature does not match, or the link is moved to another request.
    token = path.rstrip("/").rsplit("/", 1)[1]
    altered = token[:-2] + ("xx" if not token.endswith("xx") else "yy")
    refused = a.get(f"/requests/{ref}/satisfaction/{altered}/")
    assert refused.status_code == 403 and "This link is not valid" in refused.text
    moved = a.get(f"/requests/{site.tickets['b']}/satisfaction/{token}/")
    assert moved.status_code == 403


def _selected(page: str, name: str) -> str:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    option = re.search(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))
    return option.group(1) if option else ""


# --- screenshots ---------------------------------------------------------------------------------


def test_screenshots_of_the_moved_pages(site: Site) -> None:
    from tests.browser import DESKTOP, PHONE, chromium, shot

    general = site.people["general"]
    sessionid = general.session.cookies.get("sessionid")
    assert sessionid
    # The help centre as a guest sees it, the desk as the General agent.
    pages = {
        "home": ("/", False),
        "new": ("/new/?category=fees", False),
        "verify": ("/verify/?kind=url&value=https%3A%2F%2Ftoken.im", False),
        "inbox": ("/agent/?view=all", True),
        "ticket": (f"/agent/tickets/{site.tickets['a']}/", True),
        "reports": ("/agent/reports/", True),
    }
    problems: list[str] = []
    written: list[Path] = []
    with chromium() as browser:
        for language in ("en", "zh-hans"):
            for size_name, size in (("phone", PHONE), ("desktop", DESKTOP)):
                guest = browser.new_context(viewport=size)
                agent = browser.new_context(viewport=size)
                language_cookie = {"name": "django_language", "value": language, "url": site.base}
                guest.add_cookies([language_cookie])
                agent.add_cookies(
                    [language_cookie, {"name": "sessionid", "value": sessionid, "url": site.base}]
                )
                tabs = {False: guest.new_page(), True: agent.new_page()}
                for name, (path, as_agent) in pages.items():
                    page = tabs[as_agent]
                    response = page.goto(site.base + path)
                    assert response is not None and response.status == 200, (
                        path,
                        response and response.status,
                    )
                    facts = page.evaluate(
                        """() => ({
                            lang: document.documentElement.lang,
                            overflow: document.documentElement.scrollWidth - window.innerWidth,
                            sheets: document.styleSheets.length,
                            font: getComputedStyle(document.body).fontFamily,
                        })"""
                    )
                    where = f"{name} {size_name} {language}"
                    if facts["lang"].lower() != language:
                        problems.append(f"{where}: <html lang={facts['lang']!r}>")
                    if facts["overflow"] > 1:
                        problems.append(f"{where}: {facts['overflow']} px wider than the screen")
                    if not facts["sheets"]:
                        problems.append(f"{where}: no stylesheet")
                    written.append(shot(page, f"pages/{name}-{size_name}-{language}"))
                guest.close()
                agent.close()
    assert len(written) == 24 and all(p.stat().st_size > 5000 for p in written)
    assert not problems, problems
