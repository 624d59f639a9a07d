"""bench/chat_load.py --quick, for real: 50 customer sockets over Redis, 2 web processes.

The benchmark is the only thing that drives the chat through every layer at once (many
sockets, two processes joined by channels-redis, PostgreSQL): here it must lose nothing,
deliver nothing twice, store what was sent, and print the figures it promises.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _services() -> tuple[str, str]:
    """The PostgreSQL server of DATABASE_URL and db 9 of REDIS_URL's Redis (the bench's own)."""
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    need(database.startswith("postgres"), "PostgreSQL (set DATABASE_URL=postgres://…)")
    need(bool(redis), "Redis (set REDIS_URL=redis://…)")
    return database, redis.rsplit("/", 1)[0] + "/9"


def test_quick_run_loses_nothing_and_prints_its_figures() -> None:
    database, redis = _services()
    env = {**os.environ, "DATABASE_URL": database}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "chat_load.py"),
            "--quick",
            "--db-name",
            "walletdesk_chatbench_smoke",
            "--redis-url",
            redis,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out[-3000:]}\n{done.stderr[-3000:]}"
    assert out.startswith("machine: 2 cores" if os.cpu_count() == 2 else "machine: ")
    result = dict(re.findall(r"(\w+)=(\S+)", next(ln for ln in out.splitlines() if ln.startswith("RESULT"))))
    # Every socket opened, every message reached an agent, once, and was stored once.
    assert result["sockets"] == "50/50"
    assert int(result["sent"]) >= 150  # 50 sockets, one message every 2.5 s for 10 s
    assert result["lost"] == "0" and result["duplicated"] == "0"
    assert result["stored_equals_sent"] == "yes"
    # The figures: latency both ways, and the memory of each of the two web processes.
    for key in ("p50_ms", "p99_ms", "agent_to_customer_p50_ms", "agent_to_customer_p99_ms"):
        assert float(result[key]) > 0, key
    assert float(result["p50_ms"]) <= float(result["p99_ms"]) < 5000
    rss = [float(x) for x in result["rss_mib_per_process"].split("/")]
    assert len(rss) == 2 and all(20 < x < 2000 for x in rss)
    assert len(re.findall(r"web process \d+: CPU \d+% of a core, RSS \d+ MiB", out)) == 2
    assert re.search(r"^goal: p99 < 150 ms: (met|MISSED) \(", out, re.M)
