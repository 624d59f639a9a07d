"""Weibo against the real product (`walletdesk up`: web process and task worker): the URL
verification, a signed push answered with an empty body, the ticket opened by the worker and
the acknowledgement sent through the stand-in Weibo API; a replay and a stale signature send
nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import requests

from tests.connectors.standin import StandIn
from tests.connectors.weibo.test_webhook import APP_KEY, APP_SECRET, LIN, REPLY, TOKEN, message, signed
from tests.servers import Walletdesk, walletdesk_up

COUNTS = (
    "from walletdesk.connectors.social.models import SocialInbound;"
    "from walletdesk.tickets.models import Ticket;"
    "print('counts', SocialInbound.objects.count(), Ticket.objects.filter(channel='weibo').count())"
)


def test_a_push_to_the_running_product_becomes_a_ticket_and_an_acknowledgement(tmp_path: Path) -> None:
    with StandIn({REPLY: (200, {"result": True})}) as api:

        def setup(up: Walletdesk) -> None:
            up.manage("migrate", "-v", "0")
            up.manage(
                "connect", "weibo", "--slug", "fans", "--set", f"app_key={APP_KEY}",
                "--set", f"app_secret={APP_SECRET}", "--set", f"access_token={TOKEN}",
                "--set", f"api_base={api.base_url}",
            )  # fmt: skip

        with walletdesk_up(tmp_path, env={"HELPER_PROCESSES": "0"}, before_start=setup) as up:
            hook = f"{up.base_url}/hooks/weibo/fans"
            check = requests.get(hook, params={**signed(), "echostr": "e5cH0"}, timeout=10)
            assert check.status_code == 200 and check.text == "e5cH0"
            body = json.dumps(message(LIN, "充值一直没有到账"), ensure_ascii=False).encode()
            query = signed()
            answer = requests.post(hook, params=query, data=body, timeout=10)
            assert answer.status_code == 200 and answer.content == b""
            ack = {k: v[0] for k, v in parse_qs(api.wait_for(REPLY, 1)[0].body.decode()).items()}
            assert ack["receiver_id"] == str(LIN) and ack["access_token"] == TOKEN
            assert "WD-" in json.loads(ack["data"])["text"]
            # Weibo's retry of the same push, and the same body under an old signed URL.
            assert requests.post(hook, params=query, data=body, timeout=10).status_code == 200
            stale = signed(timestamp=str(int((time.time() - 7200) * 1000)))
            assert requests.post(hook, params=stale, data=body, timeout=10).status_code == 403
            assert "counts 1 1" in up.manage("shell", "-c", COUNTS)
            assert len(api.requests_to(REPLY)) == 1
        log = up.log()
        assert "Traceback" not in log, log[-4000:]
