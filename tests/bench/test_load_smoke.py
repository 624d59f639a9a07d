"""bench/load.py --smoke, for real: locust against 2 web and 2 worker processes on PostgreSQL
and Redis, with chats over websockets and mail through Dovecot.

The benchmark is the one place where tickets, agents' replies, chats and mail run at once
through every process; here it must answer every request (0 errors) and store every item it
accepted (0 lost), and print its figures. Needs the `bench` extra (locust), which CI does not
install: run `.venv/bin/pip install -e '.[test,bench]'` to have it run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_smoke_run_answers_everything_and_loses_nothing() -> None:
    pytest.importorskip("locust", reason="the bench extra is not installed")
    database = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    need(database.startswith("postgres"), "PostgreSQL (set DATABASE_URL=postgres://…)")
    need(bool(redis), "Redis (set REDIS_URL=redis://…)")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load.py"),
            "--smoke",
            "--duration",
            "20",
            "--db-name",
            "walletdesk_load_smoke",
            "--redis-db",
            "11",
        ],
        env=os.environ.copy(),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"exit {done.returncode}\n{out[-3000:]}\n{done.stderr[-3000:]}"
    assert out.startswith("machine: ")
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    assert result["errors"] == 0 and result["lost"] == 0
    # Each kind of request ran and has its figures.
    for kind in ("create ticket", "agent inbox", "chat message", "mail to support", "start chat"):
        assert re.search(rf"^\S+ {kind}.*\s\d+\s+0\s+\d+\s+\d+", out, re.M), kind
