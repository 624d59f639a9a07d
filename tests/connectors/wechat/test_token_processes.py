"""One access-token refresher per account across processes: WeChat invalidates the old token
when a new one is fetched, so two processes refreshing at once must fetch it once. Two real
OS processes (`walletdesk manage shell`) on one SQLite file made by a real migrate, against a
stand-in token endpoint that is slow and counts its calls."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.connectors.standin import Recorded, StandIn
from tests.connectors.wechat import wx
from tests.servers import Walletdesk

SCRIPT = """
import time
from walletdesk.connectors.social.base import adapter_for
from walletdesk.connectors.social.models import SocialAccount
from walletdesk.connectors.wechat import api
account = SocialAccount.objects.get(provider="wechat", slug="main")
time.sleep(max(0.0, {start} - time.time()))  # both ask at the same moment
print("ASKED=" + repr(time.time()))
print("TOKEN=" + api.token(account, adapter_for("wechat").api_base(account), force={force}))
"""


def _both(server: Walletdesk, *, force: bool) -> list[str]:
    start = time.time() + 6  # both interpreters have started Django by then
    code = SCRIPT.format(start=start, force=force)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "walletdesk.cli", "manage", "shell", "-c", code],
            env=server.env,
            cwd=server.data_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    lines = [line for out in outputs for line in out.splitlines()]
    asked = [float(line.removeprefix("ASKED=")) for line in lines if line.startswith("ASKED=")]
    # They really overlapped: the second asked while the first's fetch (1.5 s) was under way.
    assert len(asked) == 2 and abs(asked[0] - asked[1]) < 0.5, outputs
    return [line.removeprefix("TOKEN=") for line in lines if line.startswith("TOKEN=")]


def test_two_processes_refreshing_at_once_fetch_the_token_once(tmp_path: Path) -> None:
    issued: list[float] = []
    lock = threading.Lock()

    def token(_request: Recorded) -> Any:
        with lock:
            issued.append(time.time())
            n = len(issued)
        time.sleep(1.5)  # slow, so the second process arrives while the first is fetching
        return 200, {"access_token": f"ACCESS_TOKEN_{n}", "expires_in": 7200}

    with StandIn({"/cgi-bin/token": token}) as api:
        server = Walletdesk(tmp_path / "data")
        server.manage("migrate", "--noinput", "-v", "0")
        server.manage(
            "connect", "wechat", "--slug", "main",
            "--set", f"token={wx.TOKEN}", "--set", f"app_id={wx.APP_ID}",
            "--set", f"app_secret={wx.APP_SECRET}", "--set", f"api_base={api.base_url}",
        )  # fmt: skip
        # No token yet: both need one at the same moment; one fetches, the other waits for it.
        assert _both(server, force=False) == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_1"]
        assert len(issued) == 1
        # WeChat says the token is invalid to both at once: one new token, not two (the
        # second would invalidate the first's).
        assert _both(server, force=True) == ["ACCESS_TOKEN_2", "ACCESS_TOKEN_2"]
        assert len(issued) == 2
        fetched = server.manage(
            "shell", "-c",
            "from walletdesk.connectors.social.models import ProviderToken; print(ProviderToken.objects.get().fetches)",
        )  # fmt: skip
        assert fetched.strip().splitlines()[-1] == "2"
