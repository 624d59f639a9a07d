"""WeChat against the real product (`walletdesk up`: web process and task worker): the URL
verification, a safe-mode push answered "success" well inside WeChat's 5 seconds, the ticket
opened by the worker and the acknowledgement sent through the stand-in customer-service API
with a token fetched once; WeChat's retries, a forgery and a wrong AppId store nothing more."""

from __future__ import annotations

import time
from pathlib import Path

import requests

from tests.connectors.standin import Handler, StandIn
from tests.connectors.wechat import wx
from tests.connectors.wechat.conftest import CUSTOM, OK, TOKEN_PATH
from tests.servers import Walletdesk, walletdesk_up

COUNTS = (
    "from walletdesk.connectors.social.models import SocialInbound;"
    "from walletdesk.tickets.models import Ticket;"
    "print('counts', SocialInbound.objects.count(), Ticket.objects.filter(channel='wechat').count())"
)


def test_a_safe_mode_push_to_the_running_product_becomes_a_ticket_and_an_acknowledgement(
    tmp_path: Path,
) -> None:
    routes: dict[str, Handler] = {
        TOKEN_PATH: (200, {"access_token": "ACCESS_TOKEN_1", "expires_in": 7200}),
        CUSTOM: OK,
    }
    with StandIn(routes) as api:

        def setup(up: Walletdesk) -> None:
            up.manage("migrate", "-v", "0")
            up.manage(
                "connect", "wechat", "--slug", "gzh", "--set", f"token={wx.TOKEN}",
                "--set", f"app_id={wx.APP_ID}", "--set", f"app_secret={wx.APP_SECRET}",
                "--set", f"encoding_aes_key={wx.AES_KEY}", "--set", f"api_base={api.base_url}",
            )  # fmt: skip

        with walletdesk_up(tmp_path, env={"HELPER_PROCESSES": "0"}, before_start=setup) as up:
            hook = f"{up.base_url}/hooks/wechat/gzh"
            echostr = wx.encrypt(b"2716371208536194981")
            params = wx.query()
            params.update(
                echostr=echostr,
                msg_signature=wx.sign(wx.TOKEN, params["timestamp"], params["nonce"], echostr),
            )
            check = requests.get(hook, params=params, timeout=10)
            assert check.status_code == 200 and check.text == "2716371208536194981"

            query, body = wx.safe(wx.text("助记词被人骗走了怎么办", 6054768590064717001))
            headers = {"Content-Type": "text/xml"}
            answers = []
            for _ in range(4):  # the push and WeChat's three retries
                started = time.monotonic()
                answer = requests.post(hook, params=query, data=body, headers=headers, timeout=10)
                answers.append(time.monotonic() - started)
                assert answer.status_code == 200 and answer.text == "success"
            assert max(answers) < 5, answers
            ack = api.wait_for(CUSTOM, 1)[0]
            assert ack.json()["touser"] == wx.OPENID and "WD-" in ack.json()["text"]["content"]
            assert ack.query["access_token"] == ["ACCESS_TOKEN_1"]

            forged = requests.post(hook, params=wx.query("guess"), data=body, headers=headers, timeout=10)
            assert forged.status_code == 403
            other_query, other_body = wx.safe(wx.text("hi", 6054768590064717002), app_id="wx9999999999999999")
            assert (
                requests.post(
                    hook, params=other_query, data=other_body, headers=headers, timeout=10
                ).status_code
                == 403
            )
            assert "counts 1 1" in up.manage("shell", "-c", COUNTS)
            assert len(api.requests_to(CUSTOM)) == 1 and len(api.requests_to(TOKEN_PATH)) == 1
        log = up.log()
        assert "Traceback" not in log, log[-4000:]
