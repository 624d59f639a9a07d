"""X against the real product (`walletdesk up`: web process and task worker, its own data
directory): a signed push is answered at once, the worker opens the ticket and sends the
acknowledgement through the stand-in X API, OAuth-signed; a replay and a forgery send nothing."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.connectors.standin import StandIn
from tests.connectors.x.test_webhook import (
    ACCESS_SECRET,
    ACCESS_TOKEN,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    LIN,
    assert_oauth_signed,
    dm,
    signature,
)
from tests.servers import Walletdesk, walletdesk_up

COUNTS = (
    "from walletdesk.connectors.social.models import SocialInbound;"
    "from walletdesk.tickets.models import Ticket;"
    "print('counts', SocialInbound.objects.count(), Ticket.objects.filter(channel='x').count())"
)


def test_a_push_to_the_running_product_becomes_a_ticket_and_an_acknowledgement(tmp_path: Path) -> None:
    path = f"/2/dm_conversations/with/{LIN}/messages"
    with StandIn({path: (201, {"data": {"dm_conversation_id": "c", "dm_event_id": "1"}})}) as api:

        def setup(up: Walletdesk) -> None:
            up.manage("migrate", "-v", "0")
            up.manage(
                "connect", "x", "--slug", "wallet",
                "--set", f"consumer_key={CONSUMER_KEY}", "--set", f"consumer_secret={CONSUMER_SECRET}",
                "--set", f"access_token={ACCESS_TOKEN}", "--set", f"access_token_secret={ACCESS_SECRET}",
                "--set", f"api_base={api.base_url}",
            )  # fmt: skip

        with walletdesk_up(tmp_path, env={"HELPER_PROCESSES": "0"}, before_start=setup) as up:
            hook = f"{up.base_url}/hooks/x/wallet"
            crc = requests.get(hook, params={"crc_token": "abc"}, timeout=10)
            assert crc.json() == {"response_token": signature(b"abc")}
            body = json.dumps(dm("7001", LIN, "My deposit is missing")).encode()
            headers = {"Content-Type": "application/json", "x-twitter-webhooks-signature": signature(body)}
            assert requests.post(hook, data=body, headers=headers, timeout=10).status_code == 200
            ack = api.wait_for(path, 1)[0]
            assert "WD-" in ack.json()["text"]
            assert_oauth_signed(ack, api.base_url)
            # The same push again, and a forged one: nothing more is stored or sent.
            assert requests.post(hook, data=body, headers=headers, timeout=10).status_code == 200
            forged = body.replace(b"My deposit", b"Our deposit")
            assert requests.post(hook, data=forged, headers=headers, timeout=10).status_code == 403
            assert "counts 1 1" in up.manage("shell", "-c", COUNTS)
            assert len(api.requests_to(path)) == 1
        log = up.log()
        assert "Traceback" not in log, log[-4000:]
