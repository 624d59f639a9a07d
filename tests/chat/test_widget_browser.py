"""The chat widget in real Chromium against a real `walletdesk up` (uvicorn, Channels), with an
agent on the other side: their websocket (/ws/chat/agent/, signed in with a session) and the
REST API with a bearer token.

- A guest on a phone, in Chinese, starts a chat on /chat/; the agent sees the message, types
  (the widget says so), replies through the API (on screen within a second) and reads it (the
  widget says "已读"); the customer's typing reaches the agent.
- The web process is killed (-9) while the customer writes; later the whole server is stopped
  and started again on the same data while the customer writes again, and reloads the page.
  Each message is stored once (the database) and shown once (the page), with no message left
  greyed out.
- A signed-in customer on a desktop, in English: a pasted recovery phrase never reaches the
  agent, and the widget warns; markup in a message is shown as text; a message whose
  acknowledgement is lost is sent again with its client_id after a reconnect, stored once.
- The wallet app's webview page, opened from a conversation the app's backend started with its
  key, chats both ways, uploads a screenshot (a download link on both sides) and sends no
  Referer carrying its credential.

Screenshots (phone 390x844, desktop 1280x800; zh-hans and en) go to test-artifacts/chat/.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
import requests
from mnemonic import Mnemonic
from PIL import Image

from tests.browser import DESKTOP, PHONE, chromium, shot
from tests.servers import Walletdesk, _group_members, walletdesk_up

pytestmark = [pytest.mark.browser]

PASSWORD = "correct horse battery staple 9"
AGENT = "alice@desk.example.com"
CUSTOMER = "wang@example.com"

SETUP = f"""
import json
from allauth.account.models import EmailAddress
from walletdesk.accounts.actions import issue_api_token
from walletdesk.accounts.models import User
from walletdesk.connectors.inapp.models import AppKey
from walletdesk.tickets.models import Team

agent = User.objects.create_user(email={AGENT!r}, password={PASSWORD!r})
agent.is_staff = True
agent.display_name = "Alice"
agent.save()
EmailAddress.objects.create(user=agent, email={AGENT!r}, verified=True, primary=True)
Team.objects.get(slug="general").members.add(agent)
customer = User.objects.create_user(email={CUSTOMER!r}, password={PASSWORD!r})
EmailAddress.objects.create(user=customer, email={CUSTOMER!r}, verified=True, primary=True)
_key, raw = AppKey.issue("wallet app")
print("SETUP" + json.dumps({{"token": issue_api_token(agent, "chat test"), "app_key": raw}}))
"""


def _count_query(body: str) -> str:
    return (
        "from walletdesk.tickets.models import Message\n"
        f"print('COUNT', Message.objects.filter(body={body!r}).count())"
    )


@dataclass
class Site:
    up: Walletdesk
    token: str
    app_key: str
    sessions: dict[str, requests.Session] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.up.base_url

    def signed_in(self, address: str) -> requests.Session:
        if address not in self.sessions:
            s = requests.Session()
            page = s.get(f"{self.base}/accounts/login/", timeout=30)
            csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
            assert csrf, page.text[:2000]
            done = s.post(
                f"{self.base}/accounts/login/",
                data={"login": address, "password": PASSWORD, "csrfmiddlewaretoken": csrf.group(1)},
                headers={"Referer": f"{self.base}/accounts/login/"},
                allow_redirects=False,
                timeout=30,
            )
            assert done.status_code == 302, done.text[-2000:]
            # Follow it once: the page shows (and so clears) the "signed in" notice.
            s.get(urljoin(f"{self.base}/", done.headers["Location"]), timeout=30)
            self.sessions[address] = s
        return self.sessions[address]

    def cookies_for_browser(self, address: str) -> list[dict[str, Any]]:
        return [
            {"name": c.name, "value": c.value or "", "url": self.base}
            for c in self.signed_in(address).cookies
        ]

    def count(self, body: str) -> int:
        out = self.up.manage("shell", "-c", _count_query(body))
        found = re.search(r"COUNT (\d+)", out)
        assert found, out
        return int(found.group(1))

    def reply(self, reference: str, body: str) -> requests.Response:
        answer = requests.post(
            f"{self.base}/api/v1/tickets/{reference}/messages",
            json={"body": body},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        return answer


class AgentSocket:
    """The agent's side: a raw websocket client on /ws/chat/agent/ with the agent's session."""

    def __init__(self, site: Site) -> None:
        from websockets.sync.client import connect

        session = site.signed_in(AGENT)
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        url = site.base.replace("http://", "ws://") + "/ws/chat/agent/"
        self.ws = connect(url, additional_headers={"Cookie": cookie, "Origin": site.base}, open_timeout=10)
        self.frames: list[dict[str, Any]] = []
        self.send({"type": "presence", "status": "online"})

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send(json.dumps(frame))

    def wait_for(self, match: Callable[[dict[str, Any]], bool], timeout: float = 10) -> dict[str, Any]:
        for frame in self.frames:
            if match(frame):
                return frame
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            frame = json.loads(raw)
            self.frames.append(frame)
            if match(frame):
                return frame
        raise AssertionError(f"no such frame in {timeout} s; got {self.frames[-20:]}")

    def close(self) -> None:
        self.ws.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    found: dict[str, str] = {}

    def prepare(up: Walletdesk) -> None:
        up.manage("migrate", "-v", "0")
        out = up.manage("shell", "-c", SETUP)
        found.update(json.loads(out.split("SETUP", 1)[1].strip().splitlines()[0]))

    with walletdesk_up(
        tmp_path_factory.mktemp("chat"),
        workers=1,
        # FIRST_ANSWER off: these chats count bubbles and seqs; a bot line would be one more
        # (tests/kb/test_first_answer_browser.py drives the first answer).
        env={"HELPER_PROCESSES": "0", "FIRST_ANSWER": "0"},
        before_start=prepare,
    ) as up:
        yield Site(up, found["token"], found["app_key"])


def _bubbles(page: Any, text: str) -> int:
    return int(page.locator(".wd-bubble", has_text=text).count())


def _seqs(page: Any) -> list[int]:
    return [int(s) for s in page.eval_on_selector_all("[data-seq]", "els => els.map(e => e.dataset.seq)")]


def _send(page: Any, text: str) -> None:
    page.fill("[data-testid=chat-input]", text)
    page.press("[data-testid=chat-input]", "Enter")


def _shown_once(page: Any, texts: list[str]) -> None:
    seqs = _seqs(page)
    assert seqs == sorted(set(seqs)), seqs  # in order, none twice
    for text in texts:
        assert _bubbles(page, text) == 1, (text, page.inner_text("[data-testid=chat-log]"))
    assert page.locator(".wd-pending").count() == 0


def _kill_web_process(up: Walletdesk) -> int:
    """SIGKILL the uvicorn process serving the sockets: a child core.serve forked (and will
    replace), not the supervisor."""
    assert up.proc is not None
    serve: dict[int, int] = {}  # pid -> parent pid, for every process of core.serve
    for pid in _group_members(up.proc.pid):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if b"walletdesk.core.serve" in cmdline:
            serve[pid] = parent
    children = [pid for pid, parent in serve.items() if parent in serve]
    assert len(children) == 1, serve
    os.kill(children[0], signal.SIGKILL)
    return children[0]


def test_a_guest_chats_on_a_phone_through_a_crash_and_a_restart(site: Site) -> None:
    from playwright.sync_api import Error as PlaywrightError

    question = "我的转账一直显示处理中"
    answer = "您好，我是 Alice，请问交易哈希是多少？"
    agent = AgentSocket(site)
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        page.goto(f"{site.base}/chat/")
        assert "客服是免费的。我们绝不会索要您的助记词或私钥。" in page.inner_text(
            "[data-testid=chat-notice]"
        )
        page.fill("textarea[name=question]", question)
        page.click("[data-testid=chat-start] button[type=submit]")
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text=question).wait_for(timeout=10000)
        assert page.get_attribute("[data-testid=chat-connection]", "data-state") == "on"
        reference = page.get_attribute("[data-testid=chat-widget]", "data-reference")
        assert reference and re.fullmatch(r"WD-\d{6}-[0-9A-Z]{6}", reference)
        assert page.inner_text("[data-testid=chat-status]").strip()  # queued / assigned / offline

        # The agent watches the chat and gets the customer's message.
        agent.send({"type": "join", "reference": reference})
        got = agent.wait_for(lambda f: f.get("type") == "message" and f.get("body") == question)
        assert got["author"] == "customer" and got["reference"] == reference

        # Typing, both ways.
        agent.send({"type": "typing", "reference": reference, "typing": True})
        page.locator("[data-testid=chat-typing]", has_text="正在输入").wait_for(timeout=3000)
        page.fill("[data-testid=chat-input]", "交易哈希是")
        page.type("[data-testid=chat-input]", " 0x")
        agent.wait_for(
            lambda f: f.get("type") == "typing" and f.get("author") == "customer" and f.get("typing")
        )
        page.fill("[data-testid=chat-input]", "")

        # An agent reply through the REST API is on screen within a second.
        site.reply(reference, answer)
        sent = time.monotonic()
        page.locator(".wd-theirs .wd-bubble", has_text=answer).wait_for(timeout=1000)
        arrival = time.monotonic() - sent
        assert page.locator("[data-testid=chat-typing]").is_hidden()
        # The customer's page was visible: the agent gets a read receipt; then the agent reads.
        agent.wait_for(lambda f: f.get("type") == "read" and f.get("author") == "customer")
        agent.send({"type": "read", "reference": reference, "seq": got["seq"]})
        page.locator(".wd-mine [data-testid=chat-read]", has_text="已读").wait_for(timeout=3000)
        shot(page, "chat/phone-zh-hans")
        page.set_viewport_size(DESKTOP)
        shot(page, "chat/desktop-zh-hans")
        page.set_viewport_size(PHONE)

        # 1. The web process dies (-9) while the customer writes.
        during_crash = "断线时写的第一条消息"
        _kill_web_process(site.up)
        page.locator("[data-testid=chat-widget]:not([data-connection=on])").wait_for(timeout=10000)
        _send(page, during_crash)
        assert page.locator(".wd-pending .wd-bubble", has_text=during_crash).count() == 1
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text=during_crash).wait_for(timeout=40000)

        # 2. The whole server stops; the customer writes, reloads, writes again; it comes back.
        offline_1 = "服务器重启时写的消息"
        offline_2 = "刷新页面之后又写了一条"
        site.up.stop()
        page.locator("[data-testid=chat-widget][data-connection=off]").wait_for(timeout=10000)
        _send(page, offline_1)
        page.locator(".wd-pending .wd-bubble", has_text=offline_1).wait_for(timeout=2000)
        assert "连接已断开" in page.inner_text("[data-testid=chat-connection]")
        shot(page, "chat/phone-zh-hans-offline")
        with pytest.raises(PlaywrightError):  # the page itself cannot load while the server is down
            page.reload(timeout=3000)
        site.up.start()
        page.goto(f"{site.base}/chat/")
        # The reload kept the unacknowledged message (greyed) until the socket is back.
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text=offline_1).wait_for(timeout=40000)
        _send(page, offline_2)
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text=offline_2).wait_for(timeout=10000)
        page.locator(".wd-theirs .wd-bubble", has_text=answer).wait_for(timeout=5000)
        _shown_once(page, [question, answer, during_crash, offline_1, offline_2])

        # The agent's new socket sees each message once, in order.
        agent.close()
        agent = AgentSocket(site)
        agent.send({"type": "join", "reference": reference})
        agent.wait_for(lambda f: f.get("type") == "message" and f.get("body") == offline_2, timeout=15)
        bodies = [f["body"] for f in agent.frames if f.get("type") == "message"]
        for text in (question, answer, during_crash, offline_1, offline_2):
            assert bodies.count(text) == 1, bodies

        # Exactly once in the database.
        for text in (question, during_crash, offline_1, offline_2):
            assert site.count(text) == 1, text

        # The customer ends the chat; the reference is shown, and answered chats get a survey link.
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-testid=chat-end]")
        page.locator("[data-testid=chat-reference]", has_text=reference).wait_for(timeout=5000)
        assert page.locator("[data-testid=chat-composer]").is_hidden()
        # The survey follows as its own frame (the desk's survey task): two links, one click.
        page.locator("[data-testid=chat-csat-good]").wait_for(timeout=30000)
        assert page.locator("[data-testid=chat-csat-bad]").count() == 1
        assert "满意吗" in page.inner_text("[data-testid=chat-csat]")
        shot(page, "chat/phone-zh-hans-ended")
        context.close()
    agent.close()
    print(f"agent reply on screen {arrival * 1000:.0f} ms after the API answered")
    assert arrival < 1.0


class LoseAck:
    """Between the page and the server (Playwright's websocket route): the server's copy of the
    customer's `text` (its acknowledgement) is dropped on the way to the page. Then the test
    lets a later message through and cuts the connection. The widget must not lose the
    message nor store it twice: it reconnects with `after` at the seq it showed when it wrote
    the message, so the replay carries the stored copy, client_id included, as the ack."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.dropped = 0
        self.sent = 0  # times the page sent it
        self.hellos = 0
        self.page_side: Any = None
        self.log: list[str] = []  # every frame, for a failure's message

    def __call__(self, ws: Any) -> None:
        server = ws.connect_to_server()
        self.page_side = ws

        def from_page(raw: str | bytes) -> None:
            self.log.append(f"page> {raw!s:.200}")
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("body") == self.text:
                self.sent += 1
            server.send(raw)

        def from_server(raw: str | bytes) -> None:
            self.log.append(f"server> {raw!s:.200}")
            frame = json.loads(raw)
            self.hellos += frame.get("type") == "hello"
            if frame.get("type") == "message" and frame.get("body") == self.text and not self.dropped:
                self.dropped += 1
                return
            ws.send(raw)

        ws.on_message(from_page)
        server.on_message(from_server)

    def cut(self) -> None:
        self.page_side.close(code=3000, reason="network drop")


def test_a_signed_in_customer_on_a_desktop_never_sends_a_phrase_to_the_agent(site: Site) -> None:
    from playwright.sync_api import Error as PlaywrightError

    phrase = Mnemonic("english").generate(128)
    markup = '<img src=x onerror="document.title=1">hello <b>bold</b>'
    agent = AgentSocket(site)
    with chromium() as browser:
        context = browser.new_context(viewport=DESKTOP, locale="en-US")
        context.add_cookies(site.cookies_for_browser(CUSTOMER))
        page = context.new_page()
        lost = LoseAck("this one loses its acknowledgement")
        page.route_web_socket(re.compile(r"/ws/chat/WD-"), lost)
        page.goto(f"{site.base}/chat/")
        assert page.locator("input[name=email]").is_hidden()  # signed in: no name/email to type
        page.fill("textarea[name=question]", "Hi, my swap failed")
        page.click("[data-testid=chat-start] button[type=submit]")
        page.locator(".wd-mine[data-seq]").first.wait_for(timeout=10000)
        reference = page.get_attribute("[data-testid=chat-widget]", "data-reference")
        agent.send({"type": "join", "reference": reference})

        # The acknowledgement is lost; an agent reply arrives; the connection drops. The
        # message is acknowledged by the replay: stored once, shown once, in seq order.
        _send(page, lost.text)
        page.locator(".wd-pending .wd-bubble", has_text=lost.text).wait_for(timeout=5000)
        for _ in range(100):
            if lost.dropped:
                break
            page.wait_for_timeout(50)
        assert lost.dropped == 1
        site.reply(reference, "An answer after the lost acknowledgement")
        page.locator(".wd-theirs .wd-bubble", has_text="after the lost").wait_for(timeout=1000)
        assert page.locator(".wd-pending .wd-bubble", has_text=lost.text).count() == 1
        lost.cut()
        try:
            page.locator(".wd-mine[data-seq] .wd-bubble", has_text=lost.text).wait_for(timeout=20000)
        except PlaywrightError:
            raise AssertionError("\n".join(lost.log)) from None
        assert (lost.sent, lost.hellos) == (1, 2)  # acknowledged by the replay, not resent
        assert site.count(lost.text) == 1
        _shown_once(page, [lost.text, "An answer after the lost acknowledgement"])
        agent.wait_for(lambda f: f.get("type") == "message" and f.get("body") == lost.text)
        assert [f.get("body") for f in agent.frames].count(lost.text) == 1

        site.reply(reference, "Thanks, Wang. Never share those words with anyone.")
        page.locator(".wd-theirs .wd-bubble", has_text="Never share").wait_for(timeout=1000)

        _send(page, f"here are my words: {phrase}")
        page.locator("[data-testid=chat-removed]").wait_for(timeout=10000)
        _send(page, markup)
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text="hello <b>bold</b>").wait_for(timeout=10000)
        assert page.title() != "1" and page.locator(".wd-log img, .wd-log b").count() == 0

        removed = agent.wait_for(
            lambda f: f.get("type") == "message" and "here are my words" in str(f.get("body"))
        )
        words = phrase.split()
        assert " ".join(words[:2]) not in removed["body"]
        assert all(" ".join(words[i : i + 2]) not in json.dumps(agent.frames) for i in range(len(words) - 1))
        assert " ".join(words[:2]) not in page.inner_text("[data-testid=chat-log]")
        # A phrase moves the ticket to the Security desk, whose agents alone may answer it.
        assert site.count(f"here are my words: {phrase}") == 0

        shot(page, "chat/desktop-en")
        page.set_viewport_size(PHONE)
        shot(page, "chat/phone-en")
        context.close()
    agent.close()


def test_the_wallet_apps_webview_page_chats_and_sends_no_referer(site: Site) -> None:
    created = requests.post(
        f"{site.base}/api/v1/chat/conversations",
        json={"language": "zh-hans", "name": "Li"},
        headers={"X-App-Key": site.app_key, "X-App-User": "app-user-42"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    ws_url = created.json()["ws_url"]
    reference = created.json()["reference"]
    credential = re.search(r"[?&]t=([^&]+)", ws_url)
    assert credential
    agent = AgentSocket(site)
    agent.send({"type": "join", "reference": reference})
    with chromium() as browser:
        context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page = context.new_page()
        referers: list[str] = []
        page.on("request", lambda r: referers.append(r.headers.get("referer", "")))
        response = page.goto(f"{site.base}/chat/c/{reference}/?t={credential.group(1)}")
        assert response is not None and response.headers["referrer-policy"] == "no-referrer"
        page.locator("[data-testid=chat-widget][data-connection=on]").wait_for(timeout=10000)
        _send(page, "应用里发来的消息")
        page.locator(".wd-mine[data-seq] .wd-bubble", has_text="应用里发来的消息").wait_for(timeout=10000)
        agent.wait_for(lambda f: f.get("type") == "message" and f.get("body") == "应用里发来的消息")
        site.reply(reference, "收到，正在查看")
        page.locator(".wd-theirs .wd-bubble", has_text="收到，正在查看").wait_for(timeout=1000)
        # A screenshot through the paper clip: checked like a ticket's file, a link on both sides.
        png = io.BytesIO()
        Image.new("RGB", (40, 20), "red").save(png, format="PNG")
        page.set_input_files(
            "[data-testid=chat-file]",
            files=[{"name": "转账截图.png", "mimeType": "image/png", "buffer": png.getvalue()}],
        )
        link = page.locator(".wd-mine[data-seq] .wd-files a", has_text="转账截图.png")
        link.wait_for(timeout=10000)
        href = link.get_attribute("href") or ""
        assert href.startswith(site.base) and credential.group(1) not in href
        assert requests.get(href, timeout=30).content == png.getvalue()
        shared = agent.wait_for(lambda f: f.get("type") == "message" and bool(f.get("attachments")))
        assert shared["attachments"][0]["name"] == "转账截图.png"

        # The page takes the whole phone screen, the composer at the bottom.
        box = page.locator("[data-testid=chat-composer]").bounding_box()
        assert box is not None and box["y"] + box["height"] > PHONE["height"] - 10
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        shot(page, "chat/phone-zh-hans-in-app")
        assert not any(credential.group(1) in r for r in referers), referers
        context.close()
    agent.close()


def test_a_resent_message_is_acknowledged_on_a_socket_that_replayed_after_it(site: Site) -> None:
    """The protocol as the wallet app will use it: reconnect with after=<the highest seq>, resend
    what is unacknowledged. If the message was stored (its ack lost) and a later message exists,
    the replay does not carry it: the server must answer the resend with the stored frame."""
    from websockets.sync.client import connect

    created = requests.post(
        f"{site.base}/api/v1/chat/conversations",
        json={"language": "en"},
        headers={"X-App-Key": site.app_key, "X-App-User": "app-user-resend"},
        timeout=30,
    ).json()
    url = site.base.replace("http://", "ws://") + created["ws_url"]

    def frames_until(ws: Any, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            frame = json.loads(ws.recv(timeout=max(0.05, deadline - time.monotonic())))
            if match(frame):
                return frame
        raise AssertionError("no such frame")

    body = "stored, but its ack was lost"
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "message", "client_id": "app-1", "body": body}))
        stored = frames_until(ws, lambda f: f.get("client_id") == "app-1")
    site.reply(created["reference"], "a later reply")
    with connect(url, open_timeout=10) as ws:
        hello = frames_until(ws, lambda f: f.get("type") == "hello")
        assert hello["last_seq"] == stored["seq"] + 1
    with connect(f"{url}&after={hello['last_seq']}", open_timeout=10) as ws:
        frames_until(ws, lambda f: f.get("type") == "hello")
        ws.send(json.dumps({"type": "message", "client_id": "app-1", "body": body}))
        try:
            ack = frames_until(ws, lambda f: f.get("client_id") == "app-1")
        except TimeoutError:
            raise AssertionError("the resend got no answer") from None
        assert ack["seq"] == stored["seq"]
    assert site.count(body) == 1
