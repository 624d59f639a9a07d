#!/usr/bin/env python
"""Tickets created per second over real HTTP, with p50/p99 latency, under concurrency.

Runs the product as `walletdesk up` runs it (uvicorn, N web processes, plus the task worker)
on a fresh database, and drives it with the peer's load generator (`shared/peer/loadgen.py`,
wrk with one thread) so the figures compare with django-helpdesk's on the same box:

    .venv/bin/python bench/api_throughput.py                       # SQLite, c = 1 8 32
    .venv/bin/python bench/api_throughput.py --db postgres         # PostgreSQL (DATABASE_URL or local)
    .venv/bin/python bench/api_throughput.py --db both --rounds 3  # side by side, medians
    .venv/bin/python bench/api_throughput.py --db both --rounds 3 --isolated  # no inherited backlog

Guest create: POST /api/v1/tickets {"email","subject","body"}; triage runs on every ticket
(no category given), the shield scans it, and the acknowledgement is queued. Outgoing mail
uses Django's dummy backend, as the peer's run does (rendered, not sent).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import describe  # noqa: E402
from bench.up import raised_limits, start_up, stop_up  # noqa: E402

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/walletdesk_bench"


RESULT = re.compile(r"(\S+)=(\S+)")


def find_loadgen(explicit: str | None) -> Path:
    candidates = [explicit] if explicit else []
    candidates += [str(ROOT.parent / "shared" / "peer" / "loadgen.py")]
    for c in candidates:
        if c and Path(c).exists():
            return Path(c)
    sys.exit("loadgen.py not found: pass --loadgen PATH (shared/peer/loadgen.py)")


def run_point(loadgen: Path, port: int, conc: int, duration: int, pidfile: Path) -> dict[str, str]:
    out = subprocess.run(
        [
            sys.executable,
            str(loadgen),
            "--profile",
            "wd",
            "--url",
            f"http://127.0.0.1:{port}",
            "-c",
            str(conc),
            "-d",
            str(duration),
            "--server-pidfile",
            str(pidfile),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), "")
    if not line:
        sys.exit(f"loadgen failed: {out.stdout}\n{out.stderr}")
    if out.stderr.strip():
        print(out.stderr.strip()[:800], file=sys.stderr)
    return dict(RESULT.findall(line))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--concurrency", default="1,8,32")
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=1, help="repeat each point; medians are reported")
    ap.add_argument("--workers", type=int, default=2, help="web processes (walletdesk up --workers)")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--loadgen")
    ap.add_argument(
        "--isolated",
        action="store_true",
        help="a fresh server and database for every point, so no point inherits the task backlog "
        "(acknowledgements still queued) of the points before it",
    )
    a = ap.parse_args()
    if not shutil.which("wrk"):
        print(
            "note: wrk not on PATH; loadgen falls back to its Python engine (slower client)", file=sys.stderr
        )
    loadgen = find_loadgen(a.loadgen)
    print(describe())
    print(
        f"server: walletdesk up --workers {a.workers} (uvicorn) + task worker; load: {loadgen.name} (wrk, 1 thread)"
    )
    print(
        "rate limits raised for a one-address load: "
        + ", ".join(f"{k}={v}" for k, v in raised_limits().items())
    )
    dbs = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    concs = [int(c) for c in a.concurrency.split(",")]
    rows = []
    for db in dbs:
        samples: dict[int, list[dict[str, str]]] = {c: [] for c in concs}
        for _round in range(a.rounds):
            # In sequence (the default) every point after the first runs while the worker still
            # drains the acknowledgements of the points before it, as after any real burst.
            for group in [[c] for c in concs] if a.isolated else [concs]:
                data_dir = Path(tempfile.mkdtemp(prefix="wd-bench-"))
                proc, _env = start_up(
                    db,
                    a.port,
                    data_dir,
                    web_workers=a.workers,
                    postgres_url=os.environ.get("DATABASE_URL", PG_DEFAULT),
                    # the code beside this benchmark, whatever is installed (BENCH_CODE: another checkout)
                    code=os.environ.get("BENCH_CODE", str(ROOT)),
                    EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
                )
                try:
                    for conc in group:
                        samples[conc].append(
                            run_point(loadgen, a.port, conc, a.duration, data_dir / "walletdesk.pid")
                        )
                finally:
                    stop_up(proc)
                    shutil.rmtree(data_dir, ignore_errors=True)
        for conc in concs:
            s = samples[conc]

            def med(key: str, s: list[dict[str, str]] = s) -> float:
                return statistics.median(float(x[key].rstrip("ms%").split("%")[0]) for x in s)

            rows.append(
                (
                    db,
                    conc,
                    med("tickets/s"),
                    med("p50"),
                    med("p99"),
                    sum(int(x["non2xx"]) for x in s),
                    sum(int(x["errors"]) for x in s),
                    s[-1].get("server_cpu", "?"),
                    s[-1].get("machine_busy", "?"),
                )
            )
    print()
    print(
        f"{'db':<9}{'c':>4}{'tickets/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'non2xx':>8}{'errors':>8}  server_cpu  machine"
    )
    for db, conc, tps, p50, p99, bad, err, cpu, busy in rows:
        print(f"{db:<9}{conc:>4}{tps:>11.1f}{p50:>9.1f}{p99:>9.1f}{bad:>8}{err:>8}  {cpu:>10}  {busy}")
    fresh = "per point" if a.isolated else "per round, points in sequence"
    print(
        f"\n(medians of {a.rounds} round(s) of {a.duration} s per point; fresh server and database {fresh})"
    )
    print(json.dumps({"rows": rows}), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
