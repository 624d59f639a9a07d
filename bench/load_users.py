"""The locust users of bench/load.py (run by it: `locust -f bench/load_users.py --headless`).

Configured by the environment bench/load.py sets (LOAD_*). Every item the site accepts is
written to LOAD_ACCEPTED as "<kind> <token>", the token being in the item's text, so the
bench can look each one up in the database afterwards (0 lost).
"""

from __future__ import annotations

import imaplib
import json
import os
import random
import threading
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from locust import HttpUser, User, between, events, task

TOKENS: list[str] = (
    json.loads(Path(os.environ["LOAD_TOKENS"]).read_text()) if os.environ.get("LOAD_TOKENS") else []
)
IMAP = json.loads(os.environ.get("LOAD_IMAP", "{}"))
_accepted_lock = threading.Lock()
_accepted = open(os.environ.get("LOAD_ACCEPTED", os.devnull), "a", buffering=1)  # noqa: SIM115
_agent_numbers = iter(range(10**6))


def token() -> str:
    return "lt" + uuid.uuid4().hex[:16]


def accepted(kind: str, value: str) -> None:
    with _accepted_lock:
        _accepted.write(f"{kind} {value}\n")


SUBJECTS = [
    "Withdrawal pending for hours",
    "提现一直在处理中",
    "Swap failed but fee charged",
    "转账没有到账",
    "Cannot see my tokens after update",
    "如何导出交易记录",
]


class Customer(HttpUser):
    """Opens a ticket as a guest, then reads it on its tracking page."""

    fixed_count = int(os.environ.get("LOAD_CUSTOMERS", "20"))
    wait_time = between(1, 3)

    @task
    def open_and_read(self) -> None:
        mark = token()
        body = {
            "email": f"c{uuid.uuid4().hex[:10]}@example.com",
            "subject": random.choice(SUBJECTS),
            "body": f"My transfer has not arrived. Ref {mark}. 我的转账还没到账。",
        }
        with self.client.post("/api/v1/tickets", json=body, name="create ticket", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.error or r.text[:200]}")
                return
            accepted("ticket", mark)
            tracking = r.json()["tracking_url"]
        time.sleep(random.uniform(0.5, 2))
        path = tracking.split("://", 1)[-1].split("/", 1)[-1]
        self.client.get("/" + path, name="read ticket (tracking page)")


class Agent(HttpUser):
    """Polls the unassigned inbox through the API and answers one ticket in three polls."""

    fixed_count = int(os.environ.get("LOAD_AGENTS", "100"))
    wait_time = between(5, 15)

    def on_start(self) -> None:
        number = next(_agent_numbers)
        self.auth = {"Authorization": f"Bearer {TOKENS[number % len(TOKENS)]}"}

    @task
    def poll_and_reply(self) -> None:
        with self.client.get(
            "/api/v1/tickets?view=unassigned&limit=25",
            headers=self.auth,
            name="agent inbox",
            catch_response=True,
        ) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}: {r.error or r.text[:200]}")
                return
            items = r.json()["items"]
        if not items or random.random() > 0.33:
            return
        reference = random.choice(items)["reference"]
        self.client.get(f"/api/v1/tickets/{reference}", headers=self.auth, name="agent opens ticket")
        mark = token()
        with self.client.post(
            f"/api/v1/tickets/{reference}/messages",
            json={"body": f"Thanks, we are checking it ({mark})."},
            headers=self.auth,
            name="agent reply",
            catch_response=True,
        ) as r:
            if r.status_code == 201:
                accepted("reply", mark)
            elif r.status_code == 409:
                r.success()  # another agent changed it first: the desk asks to reload, as it should
            else:
                r.failure(f"{r.status_code}: {r.error or r.text[:200]}")


class ChatCustomer(User):
    """Starts a chat, opens its socket and sends a few messages, each acknowledged."""

    fixed_count = int(os.environ.get("LOAD_CHATS", "10"))
    wait_time = between(2, 5)

    def _fire(self, name: str, started: float, exc: Exception | None = None, kind: str = "WS") -> None:
        self.environment.events.request.fire(
            request_type=kind,
            name=name,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )

    @task
    def chat(self) -> None:
        import requests
        import websocket

        base = self.environment.host or os.environ["LOAD_BASE"]
        started = time.perf_counter()
        try:
            r = requests.post(
                f"{base}/api/v1/chat/conversations",
                json={
                    "language": "en",
                    "subject": "Transfer stuck",
                    "email": f"chat{uuid.uuid4().hex[:8]}@example.com",
                },
                timeout=30,
            )
            if r.status_code != 201:
                raise RuntimeError(f"{r.status_code}: {r.text[:200]}")
            conversation = r.json()
        except Exception as exc:
            self._fire("start chat", started, exc, kind="POST")
            return
        self._fire("start chat", started, kind="POST")
        started = time.perf_counter()
        try:
            ws = websocket.create_connection(
                base.replace("http", "ws", 1) + conversation["ws_url"], timeout=30
            )
            hello = json.loads(ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"expected hello, got {hello}")
        except Exception as exc:
            self._fire("open chat socket", started, exc)
            return
        self._fire("open chat socket", started)
        try:
            for _ in range(random.randint(2, 5)):
                mark = token()
                client_id = "c-" + uuid.uuid4().hex[:12]
                started = time.perf_counter()
                try:
                    ws.send(
                        json.dumps(
                            {"type": "message", "client_id": client_id, "body": f"Still waiting {mark}"}
                        )
                    )
                    while True:
                        frame: dict[str, Any] = json.loads(ws.recv())
                        if frame.get("type") == "message" and frame.get("client_id") == client_id:
                            break
                        if frame.get("type") == "error":
                            raise RuntimeError(f"error frame: {frame}")
                except Exception as exc:
                    self._fire("chat message (until acknowledged)", started, exc)
                    return
                self._fire("chat message (until acknowledged)", started)
                accepted("chat", mark)
                time.sleep(random.uniform(1, 3))
        finally:
            ws.close()


class Mailer(User):
    """A customer writing to the support mailbox (IMAP APPEND to Dovecot, polled by the workers)."""

    fixed_count = int(os.environ.get("LOAD_MAILERS", "1"))
    wait_time = between(1, 3)

    @task
    def send_mail(self) -> None:
        mark = token()
        mail = EmailMessage()
        mail["From"] = f"Mail Customer <m{uuid.uuid4().hex[:8]}@example.org>"
        mail["To"] = IMAP.get("user", "support@example.test")
        mail["Subject"] = random.choice(SUBJECTS)
        mail["Message-ID"] = make_msgid(domain="example.org")
        mail.set_content(f"Hello, my withdrawal is stuck. Ref {mark}.\n")
        started = time.perf_counter()
        exc: Exception | None = None
        try:
            client = imaplib.IMAP4(IMAP["host"], IMAP["port"], timeout=30)
            try:
                client.login(IMAP["user"], IMAP["password"])
                status, data = client.append("INBOX", None, None, mail.as_bytes())
                if status != "OK":
                    raise RuntimeError(f"APPEND: {data!r}")
            finally:
                client.logout()
        except Exception as e:
            exc = e
        self.environment.events.request.fire(
            request_type="IMAP",
            name="mail to support (APPEND)",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )
        if exc is None:
            accepted("mail", mark)


@events.quitting.add_listener
def _close(environment: Any, **kwargs: Any) -> None:
    _accepted.flush()
