#!/usr/bin/env python
"""Sustained throughput, counting the whole job: a ticket is done when its acknowledgement went out.

    .venv/bin/python bench/sustained.py --db sqlite --rates 300,400,450          # 5 minutes each
    .venv/bin/python bench/sustained.py --db postgres --rates 500 --duration 60  # while iterating

For each rate: a fresh `walletdesk up` (2 web processes, the idle-priority worker and its
catch-up worker when a backlog builds, exactly as shipped) on a fresh database, sending its mail
through SMTP to a real aiosmtpd sink in its own process. Guests create tickets over HTTP at a
fixed arrival rate (open loop: request i is due at start + i/rate whatever the server does, and
its latency counts from then, so a slow server cannot slow the load down). After the run the
sink is watched for 60 s more.

Reported per rate: tickets created, acknowledgements received, the delay from a ticket's due
time to its acknowledgement's arrival at the sink (p50, p99, max), how many took longer than
60 s or never came, the backlog (created minus acknowledged) every 10 s, and the verdict: PASS
when every acknowledgement arrived within 60 s of its ticket and the backlog stayed flat (its
growth over the second half of the run is under 1 % of the rate per second), with no request
refused. The highest passing rate is printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import describe  # noqa: E402
from bench.up import start_up, stop_up  # noqa: E402

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/walletdesk_bench_sustained"
BODY = (
    "I sent 0.25 ETH from my wallet to an exchange deposit address two hours ago. The transaction "
    "shows as confirmed on the explorer but the exchange has not credited it yet. Ref {n}"
)

# The sink: aiosmtpd (tests/servers.py) in its own process, writing "arrival-time recipient" per
# mail to a file, so the load generator's loop and the sink never share a GIL.
SINK = """
import sys, time, threading
sys.path.insert(0, {root!r})
from tests.servers import smtp_server, RecordingHandler

class Sink(RecordingHandler):
    def __init__(self, out):
        super().__init__()
        self.out = out
    async def handle_DATA(self, server, session, envelope):
        self.out.write(f"{{time.time():.3f}} {{envelope.rcpt_tos[0]}}\\n")
        return "250 Message accepted for delivery"

with open({log!r}, "a", buffering=1) as out, smtp_server(Sink(out)) as smtp:
    print(smtp.port, flush=True)
    sys.stdin.read()  # until the benchmark closes it
"""


def start_sink(log: Path) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", SINK.format(root=str(ROOT), log=str(log))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


class Load:
    """Open-loop HTTP/1.1 load: one request due every 1/rate s, on keep-alive connections."""

    def __init__(self, port: int, rate: float, duration: float, max_connections: int = 256) -> None:
        self.port, self.rate, self.duration = port, rate, duration
        self.max_connections = max_connections
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0
        self.due: dict[int, float] = {}  # request number -> wall time it was due
        self.latency: list[float] = []
        self.refused = 0
        self.refused_by: dict[int, int] = {}  # status -> count, so a run says why it was refused
        self.errors = 0
        self.dropped = 0  # due while every connection was busy and the cap was reached

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        if self.idle:
            return self.idle.pop()
        if self.opened >= self.max_connections:
            return None
        self.opened += 1
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def _one(self, n: int, due: float) -> None:
        conn = await self._connection()
        if conn is None:
            self.dropped += 1
            return
        reader, writer = conn
        body = json.dumps(
            {
                "email": f"customer{n}@example.com",
                "subject": f"Deposit not credited #{n}",
                "body": BODY.format(n=n),
            }
        ).encode()
        head = (
            f"POST /api/v1/tickets HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        try:
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError):
            self.errors += 1
            self.opened -= 1
            writer.close()
            return
        self.latency.append(time.time() - due)
        status = int(status_line.split()[1])
        if status == 201:
            self.due[n] = due
        else:
            self.refused += 1
            self.refused_by[status] = self.refused_by.get(status, 0) + 1
        self.idle.append((reader, writer))

    async def run(self) -> None:
        start = time.time() + 0.5
        pending: set[asyncio.Task[None]] = set()
        total = int(self.rate * self.duration)
        for n in range(total):
            due = start + n / self.rate
            delay = due - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._one(n, due))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.wait(pending)
        for _reader, writer in self.idle:
            writer.close()


def acks(log: Path) -> dict[int, float]:
    """Request number -> when its first acknowledgement reached the sink."""
    first: dict[int, float] = {}
    if not log.exists():
        return first
    for line in log.read_text().splitlines():
        at, rcpt = line.split(" ", 1)
        n = int(rcpt.split("@")[0].removeprefix("customer"))
        first.setdefault(n, float(at))
    return first


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_rate(db: str, rate: float, duration: float, port: int, drain: float) -> dict[str, object]:
    data_dir = Path(tempfile.mkdtemp(prefix="wd-sustained-"))
    log = data_dir / "sink.log"
    sink, smtp_port = start_sink(log)
    server, _env = start_up(
        db,
        port,
        data_dir,
        web_workers=2,
        postgres_url=os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT),
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
    )
    load = Load(port, rate, duration)
    backlog: list[tuple[float, int]] = []
    started = time.time()

    async def sample() -> None:
        while True:
            await asyncio.sleep(10)
            now = time.time()
            created = sum(1 for due in load.due.values() if due <= now)
            backlog.append((now - started, created - len(acks(log))))

    async def main() -> None:
        sampler = asyncio.create_task(sample())
        await load.run()
        sampler.cancel()

    loadavg = os.getloadavg()
    asyncio.run(main())
    ended = time.time()
    # Watch the sink for `drain` seconds more (or until every acknowledgement is in).
    while time.time() < ended + drain and len(acks(log)) < len(load.due):
        time.sleep(1)
    got = acks(log)
    stop_up(server)
    assert sink.stdin is not None
    sink.stdin.close()
    sink.wait(10)
    catch_ups = (data_dir / "server.log").read_text(errors="replace").count("starting a catch-up worker")
    shutil.rmtree(data_dir, ignore_errors=True)

    delays = [got[n] - due for n, due in load.due.items() if n in got]
    late = sum(1 for d in delays if d > 60)
    missing = len(load.due) - len(delays)
    half = [b for t, b in backlog if t >= duration / 2]
    growth = (half[-1] - half[0]) / max(1.0, (len(half) - 1) * 10) if len(half) >= 2 else 0.0
    flat = growth < 0.01 * rate
    ok = late == 0 and missing == 0 and flat and load.refused == 0 and load.errors == 0 and load.dropped == 0
    return {
        "db": db,
        "rate": rate,
        "created": len(load.due),
        "achieved": len(load.due) / duration,
        "acked": len(delays),
        "req_p50_ms": 1000 * percentile(load.latency, 0.5),
        "req_p99_ms": 1000 * percentile(load.latency, 0.99),
        "ack_p50_s": percentile(delays, 0.5),
        "ack_p99_s": percentile(delays, 0.99),
        "ack_max_s": max(delays, default=float("nan")),
        "late": late,
        "missing": missing,
        "refused": load.refused + load.errors + load.dropped,
        "refused_by": {
            "errors": load.errors,
            "dropped": load.dropped,
            **{str(k): v for k, v in load.refused_by.items()},
        },
        "backlog": [b for _t, b in backlog],
        "growth_per_s": growth,
        "catch_up_starts": catch_ups,
        "load_at_start": f"{loadavg[0]:.1f}",
        "verdict": "PASS" if ok else "FAIL",
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    ap.add_argument("--rates", default="300,400,500", help="arrival rates to try, tickets per second")
    ap.add_argument("--duration", type=float, default=300, help="seconds of load per rate (default 300)")
    ap.add_argument("--drain", type=float, default=60, help="seconds to watch the sink after the load")
    ap.add_argument("--port", type=int, default=8766)
    a = ap.parse_args()
    print(describe())
    print(
        "server: walletdesk up --workers 2 + idle-priority worker (+ catch-up worker on backlog);"
        " mail: SMTP to an aiosmtpd sink; load: open loop, Python asyncio"
    )
    dbs = ["sqlite", "postgres"] if a.db == "both" else [a.db]
    results = []
    for db in dbs:
        for rate in [float(r) for r in a.rates.split(",")]:
            result = run_rate(db, rate, a.duration, a.port, a.drain)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(
        f"{'db':<9}{'rate/s':>7}{'done/s':>8}{'req p50':>9}{'req p99':>9}{'ack p50':>9}{'ack p99':>9}"
        f"{'ack max':>9}{'late':>6}{'lost':>6}{'refused':>8}{'growth/s':>9}{'boosts':>7}  load  verdict"
    )
    for r in results:
        print(
            f"{r['db']:<9}{r['rate']:>7.0f}{r['achieved']:>8.1f}{r['req_p50_ms']:>7.1f}ms{r['req_p99_ms']:>7.1f}ms"
            f"{r['ack_p50_s']:>8.1f}s{r['ack_p99_s']:>8.1f}s{r['ack_max_s']:>8.1f}s{r['late']:>6}{r['missing']:>6}"
            f"{r['refused']:>8}{r['growth_per_s']:>9.1f}{r['catch_up_starts']:>7}  {r['load_at_start']:>4}  {r['verdict']}"
        )
    print(
        f"\n(backlog = created - acknowledged, sampled every 10 s; {a.duration:.0f} s per rate, then {a.drain:.0f} s drain)"
    )
    for db in dbs:
        passed = [float(str(r["rate"])) for r in results if r["db"] == db and r["verdict"] == "PASS"]
        best = f"{max(passed):.0f} tickets/s" if passed else "none of the rates tried"
        print(f"{db}: highest passing rate {best}")
    print(f"{describe()} (at the end)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
