#!/usr/bin/env python
"""Memory of an idle `walletdesk up`, process by process (RSS and PSS).

    .venv/bin/python bench/idle_memory.py                 # SQLite, the embedded default
    .venv/bin/python bench/idle_memory.py --settle 30 --requests 50

Starts `walletdesk up` on a fresh data directory, waits for /healthz, sends a few requests
(a help-centre page and a guest ticket, so the web processes have served what a visitor asks
first and the worker has sent one acknowledgement), waits `--settle` seconds, then reads
/proc/<pid>/smaps_rollup of the supervisor and every descendant. RSS counts a page shared
between processes (the forked web processes share their parent's code) in each of them; PSS
divides it among them, so the PSS total is what the install really costs. The goal (issue #23)
is <= 350 MiB for all processes together; both sums are printed. "Own" is the process's
private dirty memory: the pages it wrote since it was forked (or all it loaded, if not forked).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import describe  # noqa: E402


def children_of(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def tree(pid: int) -> list[int]:
    pids = [pid]
    for child in children_of(pid):
        pids += tree(child)
    return pids


def memory(pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, private dirty) in KiB."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("Rss", "Pss", "Private_Dirty"):
            found[key] = int(value.split()[0])
    return found.get("Rss", 0), found.get("Pss", 0), found.get("Private_Dirty", 0)


def describe_process(pid: int) -> str:
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    words = [a.decode(errors="replace") for a in argv if a]
    text = " ".join(Path(w).name if i == 0 else w for i, w in enumerate(words))
    # A forked catch-up worker shows --batch; an exec'd one (older checkouts) its environment.
    if "--batch" in words or b"WALLETDESK_CATCH_UP=1" in Path(f"/proc/{pid}/environ").read_bytes():
        text += " (catch-up)"
    return text[:90]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settle", type=float, default=20, help="seconds idle before measuring")
    ap.add_argument("--requests", type=int, default=20, help="requests to serve before idling")
    ap.add_argument("--port", type=int, default=8767)
    ap.add_argument("--code", default=str(ROOT), help="the checkout to run (default: this one), to compare")
    a = ap.parse_args()
    print(describe())
    data_dir = Path(tempfile.mkdtemp(prefix="wd-idle-"))
    env = dict(os.environ, WALLETDESK_DATA_DIR=str(data_dir), PYTHONPATH=a.code, LOG_LEVEL="WARNING")
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_HOST", "EMAIL_BACKEND"):
        env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "walletdesk.cli", "up", "--port", str(a.port)],
        env=env,
        cwd=str(data_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{a.port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    sys.exit("walletdesk up did not start")
                time.sleep(0.3)
        for n in range(a.requests):
            with urllib.request.urlopen(f"{base}/", timeout=30):
                pass
            body = json.dumps(
                {"email": f"idle{n}@example.com", "subject": "登录问题", "body": "我无法登录钱包"}
            )
            request = urllib.request.Request(
                f"{base}/api/v1/tickets", data=body.encode(), headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30):
                    pass
            except OSError:
                pass  # rate-limited after a few: the pages were served all the same
        time.sleep(a.settle)
        rows = []
        for pid in tree(proc.pid):
            try:
                rss, pss, own = memory(pid)
                rows.append((pid, rss, pss, own, describe_process(pid)))
            except OSError:
                continue
        print(f"\n{'pid':>8}{'RSS MiB':>9}{'PSS MiB':>9}{'Own MiB':>9}  process")
        for pid, rss, pss, own, what in rows:
            print(f"{pid:>8}{rss / 1024:>9.1f}{pss / 1024:>9.1f}{own / 1024:>9.1f}  {what}")
        total_rss = sum(r[1] for r in rows) / 1024
        total_pss = sum(r[2] for r in rows) / 1024
        total_own = sum(r[3] for r in rows) / 1024
        print(
            f"{'total':>8}{total_rss:>9.1f}{total_pss:>9.1f}{total_own:>9.1f}"
            f"  ({len(rows)} processes; goal <= 350 MiB PSS)"
        )
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
