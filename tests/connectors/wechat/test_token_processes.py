"""One access-token refresher per account across processes: WeChat invalidates the old token
when a new one is fetched, so two processes refreshing at once must fetch it once. Two real
OS processes (`walletdesk manage shell`) on one SQLite file made by a real migrate, against a
stand-in token endpoint that counts its calls and answers only once both processes have asked,
so the overlap is certain however loaded the machine is (no timing in the assertions)."""

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
import os, pathlib, time
from walletdesk.connectors.social.base import adapter_for
from walletdesk.connectors.social.models import SocialAccount
from walletdesk.connectors.wechat import api
account = SocialAccount.objects.get(provider="wechat", slug="main")
time.sleep(max(0.0, {start} - time.time()))  # both ask at the same moment
pathlib.Path({asked!r}, str(os.getpid())).touch()  # the stand-in answers once both are here
print("TOKEN=" + api.token(account, adapter_for("wechat").api_base(account), force={force}))
"""


def _both(server: Walletdesk, asked: Path, *, force: bool) -> list[str]:
    for old in asked.iterdir():
        old.unlink()
    start = time.time() + 6  # both interpreters have usually started Django by then
    code = SCRIPT.format(start=start, force=force, asked=str(asked))
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
    assert len(list(asked.iterdir())) == 2, outputs
    return [line.removeprefix("TOKEN=") for line in lines if line.startswith("TOKEN=")]


def test_two_processes_refreshing_at_once_fetch_the_token_once(tmp_path: Path) -> None:
    issued: list[float] = []
    lock = threading.Lock()
    asked = tmp_path / "asked"
    asked.mkdir()

    def token(_request: Recorded) -> Any:
        with lock:
            issued.append(time.time())
            n = len(issued)
        # The first fetch is held open until the other process has asked too: it then waits
        # on the refresh lock, which is what this test is about, instead of finding a token.
        deadline = time.monotonic() + 90
        while len(list(asked.iterdir())) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # and is inside api.token (past the file) before the answer lands
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
        assert _both(server, asked, force=False) == ["ACCESS_TOKEN_1", "ACCESS_TOKEN_1"]
        assert len(issued) == 1
        # WeChat says the token is invalid to both at once: one new token, not two (the
        # second would invalidate the first's).
        assert _both(server, asked, force=True) == ["ACCESS_TOKEN_2", "ACCESS_TOKEN_2"]
        assert len(issued) == 2
        fetched = server.manage(
            "shell", "-c",
            "from walletdesk.connectors.social.models import ProviderToken; print(ProviderToken.objects.get().fetches)",
        )  # fmt: skip
        assert fetched.strip().splitlines()[-1] == "2"
