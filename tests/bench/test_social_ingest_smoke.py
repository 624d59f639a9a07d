"""bench/social_ingest.py --quick, for real: a burst of signed webhook pushes to `walletdesk up`.

The benchmark is the one thing that sends many pushes at the same moment through the real
server (two web processes, the task worker, SQLite): here it must answer every push, store each
message once as a ticket message (the replays nothing more), give each person one ticket, and
print the figures it promises. No timing is asserted: the machine is shared.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.parametrize("provider", ["wechat", "telegram"])
def test_quick_run_stores_every_push_exactly_once(provider: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "social_ingest.py"), "--quick", "--provider", provider],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out[-3000:]}\n{done.stderr[-3000:]}"
    assert out.startswith("machine: ")
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT"))
    result = dict(re.findall(r"(\w+)=(\S+)", line))
    assert result["provider"] == provider and result["database"] == "sqlite"
    # Every push answered 200, every message stored once, the replays stored nothing.
    assert result["stored"] == "40/40"
    assert int(result["replays"]) == 4
    assert result["not_200"] == "0"
    assert result["lost"] == "0" and result["duplicated"] == "0"
    assert result["extra_inbox_rows"] == "0"
    assert result["one_ticket_per_person"] == "yes"
    # The figures it promises are there and sane.
    assert 0 < float(result["p50_ms"]) <= float(result["p99_ms"]) <= float(result["max_ms"])
    assert float(result["answers_per_s"]) > 0 and float(result["stored_per_s"]) > 0
    assert re.search(r"acknowledgements sent through the stand-in API: 10 ", out), out
    assert re.search(r"^goal \(sqlite\): p99 < 500 ms under a burst of 40: (met|MISSED) \(", out, re.M)
