"""Nobody acts as a customer by typing their email (issue 16, part 2), over real HTTP.

Personas: carol and dave are customers with accounts; a guest (an attacker) types carol's
email into the request form, the ticket API and the stolen-account form; an app user of an app
that does not vouch for emails sends carol's email; alice is a General-team agent, bob a
Security-desk agent, erin an agent in no team.

Each journey shows the wrong person refused: carol's My requests does not show what the guest
filed until she confirms the link mailed to her; the desk says "email not confirmed", shows no
account history and refuses the account actions' POSTs; the app user cannot list or read
carol's web tickets.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from django.core import mail

from tests.accounts.conftest import picture_with_exif
from tests.browser import login_cookie
from walletdesk.accounts.lockout import lock_state
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.core.models import AuditEntry
from walletdesk.tickets.models import Ticket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("seeded")]


class Session:
    """A client over real HTTP: cookies kept, redirects not followed, errors returned."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    def __init__(self, base: str, user: Any = None) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), self._NoRedirect()
        )
        if user is not None:
            cookie = login_cookie(user, base)
            self.jar.set_cookie(_cookie(cookie["name"], cookie["value"], base))

    def csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return str(cookie.value)
        self.get("/new/")
        return next(str(c.value) for c in self.jar if c.name == "csrftoken")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, dict[str, str]]:
        url = path if path.startswith("http") else self.base + path
        req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        fields = {"csrfmiddlewaretoken": self.csrf(), **data}
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_multipart(
        self, path: str, data: dict[str, str], files: dict[str, tuple[str, bytes, str]]
    ) -> tuple[int, str, dict[str, str]]:
        boundary = uuid.uuid4().hex
        parts: list[bytes] = []
        for name, value in {"csrfmiddlewaretoken": self.csrf(), **data}.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for name, (filename, content, ctype) in files.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {ctype}\r\n\r\n".encode()
                + content
                + b"\r\n"
            )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def post_json(
        self, path: str, data: Any, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        status, text, got = self.request(
            "POST", path, json.dumps(data).encode(), {"Content-Type": "application/json", **(headers or {})}
        )
        return status, json.loads(text) if text else None, got


def _cookie(name: str, value: str, base: str) -> http.cookiejar.Cookie:
    host = urllib.parse.urlsplit(base).hostname or "localhost"
    if "." not in host:
        host += ".local"  # how http.cookiejar names a dotless host (RFC 2965)
    return http.cookiejar.Cookie(
        0, name, value, None, False, host, False, False, "/", True, False, None, False, None, None, {}
    )


def _mine(page: str) -> str:
    """My requests without its last section: requests that only typed the address, listed for
    its signed-in owner to confirm."""
    return page.split('data-testid="claims"')[0]


def _errors(page: str) -> str:
    return (
        " | ".join(re.findall(r'class="(?:errorlist|error)[^"]*"[^>]*>(.*?)</', page, re.S)) or page[-3000:]
    )


def _reference_from_redirect(session: Session, location: str) -> str:
    status, page, _ = session.get(location)
    assert status == 200, page[:500]
    match = re.search(r'data-testid="reference">(WD-[0-9A-Z-]+)<', page)
    assert match, page[:2000]
    return match.group(1)


def _confirm_link_for(reference: str) -> str:
    for message in mail.outbox:
        if reference in message.subject + message.body and "/confirm/" in message.body:
            assert message.to == ["carol@example.com"]
            match = re.search(r"https?://\S+/confirm/[^/\s]+/", message.body)
            assert match
            return match.group(0)
    raise AssertionError(f"no confirmation link was mailed for {reference}")


def _lock_out(session: Session, email: str) -> None:
    for _ in range(6):
        session.post_form("/accounts/login/", {"login": email, "password": "wrong password 1"})


def test_a_guest_typing_carols_email_gets_nothing_of_her_account(
    live_server: Any, carol: Any, dave: Any, alice: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    base = live_server.url
    as_carol = Session(base, carol)

    # carol's own request, signed in.
    status, page, headers = as_carol.post_form(
        "/new/?category=other", {"category": "other", "subject": "My own question", "body": "About fees."}
    )
    assert status == 302, _errors(page)
    own = _reference_from_redirect(as_carol, headers["Location"])

    # The guest types carol's email into the web form and into the ticket API.
    guest = Session(base)
    status, page, headers = guest.post_form(
        "/new/?category=login_locked",
        {
            "category": "login_locked",
            "email": "carol@example.com",
            "account": "carol@example.com",
            "subject": "Locked out, please unlock me",
            "body": "I am carol. Unlock my account and reset my 2FA.",
        },
    )
    assert status == 302, _errors(page)
    tracking = headers["Location"]
    by_form = _reference_from_redirect(guest, tracking)
    status, created, _ = guest.post_json(
        "/api/v1/tickets", {"email": "Carol@Example.com", "subject": "Reset 2FA", "body": "It is me, carol."}
    )
    assert status == 201, created
    by_api = created["reference"]

    # carol's My requests shows her own request only; the guest's cannot be opened as hers.
    status, page, _ = as_carol.get("/requests/")
    assert status == 200 and own in _mine(page)
    assert by_form not in _mine(page) and by_api not in _mine(page)
    assert as_carol.get(f"/requests/{by_form}/")[0] == 404
    status, listed, _ = as_carol.request("GET", "/api/v1/tickets")
    assert [t["reference"] for t in json.loads(listed)["items"]] == [own]
    # dave, another customer, sees none of them either.
    assert by_form not in Session(base, dave).get("/requests/")[1]

    # carol is locked out (by the guest's own failed sign-ins, say).
    _lock_out(guest, "carol@example.com")
    assert lock_state("carol@example.com").locked

    # The desk: "email not confirmed", no sign-in history, no account buttons...
    desk = Session(base, alice)
    status, page, _ = desk.get(f"/agent/tickets/{by_form}/")
    assert status == 200
    assert 'data-testid="account-security"' not in page and "/account/unlock/" not in page
    assert 'data-testid="identity-proof"' in page and "email not confirmed" in page
    # ...and the server refuses the POSTs whatever the page shows.
    for action, prefix in (("unlock", "unlock"), ("force-reset", "reset"), ("reset-2fa", "mfa")):
        status, page, _ = desk.post_form(
            f"/agent/tickets/{by_form}/account/{action}/",
            {f"{prefix}-reason": "customer asked on the phone", f"{prefix}-identity_check": "called back"},
        )
        assert status == 403, (action, status)
    assert lock_state("carol@example.com").locked
    assert not AuditEntry.objects.filter(target_id=str(carol.pk), action__startswith="account.").exists()
    assert Ticket.objects.get(reference=by_form).contact.user_id is None

    # The guest still follows their request by its tracking link, as before.
    track = tracking.replace("/submitted/", "/track/")
    assert guest.get(track)[0] == 200

    # The confirmation link went to carol's mailbox only. Opening it changes nothing...
    link = _confirm_link_for(by_form)
    mailbox = Session(base)
    status, page, _ = mailbox.get(link)
    assert status == 200 and 'data-testid="confirm-button"' in page
    assert by_form not in _mine(as_carol.get("/requests/")[1])
    # ...a tampered one is refused...
    assert mailbox.post_form(link[:-3] + "xx/", {})[0] == 403
    # ...and the POST confirms: the request is now carol's.
    status, _, headers = mailbox.post_form(link, {})
    assert status == 302
    assert by_form in _mine(as_carol.get("/requests/")[1])
    # Confirmed one by one: the API one is still a claim, which carol, signed in as the
    # address's owner, may confirm from My requests (dave may not).
    status, page, _ = as_carol.get("/requests/")
    assert by_api not in _mine(page) and by_api in page
    assert Session(base, dave).post_form(f"/requests/{by_api}/confirm/", {})[0] == 404
    assert guest.post_form(f"/requests/{by_api}/confirm/", {})[0] == 302  # to the sign-in page
    assert Ticket.objects.get(reference=by_api).contact.user_id is None
    assert as_carol.post_form(f"/requests/{by_api}/confirm/", {})[0] == 302
    assert Ticket.objects.get(reference=by_api).contact.user_id == carol.pk
    status, page, _ = desk.get(f"/agent/tickets/{by_form}/")
    assert "confirmed by link" in page and 'data-testid="account-security"' in page
    # A link works once; whoever typed the address no longer follows the request.
    assert mailbox.post_form(link, {})[0] == 403
    assert guest.get(track)[0] == 403
    # Now proven, the unlock goes through.
    status, _, _ = desk.post_form(f"/agent/tickets/{by_form}/account/unlock/", {"unlock-reason": "confirmed"})
    assert status == 302
    assert not lock_state("carol@example.com").locked


def test_the_stolen_account_form_is_no_route_into_carols_account(
    live_server: Any, carol: Any, alice: Any, bob: Any, erin: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    base = live_server.url
    stranger = Session(base)
    status, page, headers = stranger.post_multipart(
        "/account-recovery/",
        {
            "email": "carol@example.com",
            "what_happened": "Someone changed my password. Reset my 2FA so I can get back in.",
            "recent_activity": "",
            "document_kind": "id_card",
        },
        {"front": ("front.jpg", picture_with_exif("JPEG"), "image/jpeg")},
    )
    assert status == 302, _errors(page)
    reference = _reference_from_redirect(stranger, headers["Location"])
    ticket = Ticket.objects.select_related("contact", "team").get(reference=reference)
    assert ticket.team is not None and ticket.team.slug == "security"
    assert ticket.contact.user_id is None
    # carol, signing in afterwards and writing to support, does not inherit what the stranger
    # filed with her address (the old code linked the typed address's contact to her).
    as_carol = Session(base, carol)
    status, created, _ = as_carol.post_json(
        "/api/v1/tickets", {"subject": "A question", "body": "About fees."}, {"X-CSRFToken": as_carol.csrf()}
    )
    assert status == 201, created
    assert reference not in _mine(as_carol.get("/requests/")[1])

    # bob, on the Security desk, sees the case but not carol's account, and cannot act on it.
    desk = Session(base, bob)
    status, page, _ = desk.get(f"/agent/tickets/{reference}/")
    assert status == 200 and 'data-testid="account-security"' not in page
    assert "email not confirmed" in page
    for action, prefix in (("unlock", "unlock"), ("force-reset", "reset"), ("reset-2fa", "mfa")):
        status, _, _ = desk.post_form(
            f"/agent/tickets/{reference}/account/{action}/",
            {f"{prefix}-reason": "documents look fine", f"{prefix}-identity_check": "passport"},
        )
        assert status == 403, action
    assert not AuditEntry.objects.filter(target_id=str(carol.pk), action__startswith="account.").exists()
    # Agents of another team, or of none, do not even see the case.
    for agent in (alice, erin):
        other = Session(base, agent)
        assert other.get(f"/agent/tickets/{reference}/")[0] == 404
        assert (
            other.post_form(f"/agent/tickets/{reference}/account/unlock/", {"unlock-reason": "x"})[0] == 404
        )
    assert reference not in _mine(as_carol.get("/requests/")[1])


def test_an_app_user_sending_carols_email_cannot_reach_her_tickets(
    live_server: Any, carol: Any, settings: Any
) -> None:
    settings.SITE_URL = live_server.url
    base = live_server.url
    as_carol = Session(base, carol)
    status, created, _ = as_carol.post_json(
        "/api/v1/tickets",
        {"subject": "Stolen account follow-up", "body": "My case", "category": "account_stolen"},
        {"X-CSRFToken": as_carol.csrf()},
    )
    assert status == 201, created
    carols = created["reference"]

    _, raw = AppKey.issue("wallet-ios")  # does not vouch for emails (the default)
    app = Session(base)
    headers = {"X-App-Key": raw, "X-App-User": "attacker-1"}
    status, filed, _ = app.post_json(
        "/api/v1/inapp/tickets",
        {"message_id": "a-1", "subject": "Help", "body": "help me", "email": "carol@example.com"},
        headers,
    )
    assert status == 201, filed
    status, listed, _ = app.get("/api/v1/inapp/tickets", headers)
    assert status == 200
    assert [t["reference"] for t in json.loads(listed)["items"]] == [filed["reference"]]
    status, body, _ = app.get(f"/api/v1/inapp/tickets/{carols}", headers)
    assert status == 404 and "My case" not in body
    # Carol's app user's message id, sent by another user of the app, is that user's own
    # message: neither a replay that names carol's ticket nor a way to block her next one.
    status, first, _ = app.post_json(
        "/api/v1/inapp/tickets",
        {"message_id": "c-1", "subject": "Mine", "body": "b"},
        {"X-App-Key": raw, "X-App-User": "carol-in-app"},
    )
    status, replay, _ = app.post_json(
        "/api/v1/inapp/tickets", {"message_id": "c-1", "subject": "x", "body": "y"}, headers
    )
    assert status == 201 and first["reference"] not in json.dumps(replay)
    assert replay["reference"] != first["reference"]
    # Squatting: the other user sends carol's next (predictable) id first; hers still lands.
    status, _squat, _ = app.post_json(
        "/api/v1/inapp/tickets", {"message_id": "c-2", "subject": "x", "body": "y"}, headers
    )
    assert status == 201
    status, hers, _ = app.post_json(
        "/api/v1/inapp/tickets",
        {"message_id": "c-2", "subject": "Mine too", "body": "b"},
        {"X-App-Key": raw, "X-App-User": "carol-in-app"},
    )
    assert status == 201 and hers["reference"] not in (first["reference"], _squat["reference"])
