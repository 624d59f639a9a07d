#!/usr/bin/env python
"""How fast the task worker drains a backlog of acknowledgement mails.

    .venv/bin/python bench/worker_drain.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/worker_drain.py --tickets 3000 --only postgres

Under a burst the web processes get the cores and the worker (nice 19) gets what they leave,
so acknowledgements queue up as task rows. This measures the other half: N web tickets are
created (with the real actions, in batches as the API's writer thread does), then one
`db_worker --batch` process runs every queued acknowledgement task (one `notify_customers` per
batch; per ticket: render, record the OutboundEmail row, send through Django's dummy backend, as
the API benchmark does) and exits.
Reported: acknowledgements per second of wall time, and the worker's and the database server's
CPU per acknowledgement (the worker's includes its start-up of about a second).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_DB = os.environ.get("BENCH_PG_DB", "walletdesk_bench_drain")  # another name when benches run side by side


def _postgres_cpu(database: str) -> float:
    """Seconds of CPU used so far by the PostgreSQL backends serving `database`."""
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_text()
            if not cmdline.startswith("postgres:") or f" {database} " not in cmdline:
                continue
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def child(args: argparse.Namespace) -> None:
    if os.environ.get("WD_CODE"):  # another checkout's code, to compare (--code)
        sys.path.insert(0, os.environ["WD_CODE"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)
    from walletdesk.tickets import actions
    from walletdesk.tickets.actions import NewTicket

    news = [
        NewTicket(
            subject="忘记密码", body=f"我忘记密码了，怎么办？{i}", channel="web", email=f"u{i}@example.cn"
        )
        for i in range(args.tickets)
    ]
    for start in range(0, len(news), args.per_batch):
        actions.create_tickets(news[start : start + args.per_batch])
    database = str(connection.settings_dict["NAME"])
    connection.close()

    pg_before = _postgres_cpu(database) if connection.vendor == "postgresql" else 0.0
    started = time.perf_counter()
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "django",
            "db_worker",
            "--batch",
            "--queue-name",
            "email",
            "--no-startup-delay",
        ],
        env=os.environ,
    )
    pg_peak = pg_before
    while worker.poll() is None:  # the backend exits with the worker: sample while it runs
        if connection.vendor == "postgresql":
            pg_peak = max(pg_peak, _postgres_cpu(database))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    worker_cpu = usage.ru_utime + usage.ru_stime
    from walletdesk.connectors.email.models import OutboundEmail

    sent = OutboundEmail.objects.filter(kind="created", state="sent").count()
    assert sent == args.tickets, f"{sent} acknowledgements sent of {args.tickets}"
    print(
        f"RESULT {connection.vendor} {args.tickets / elapsed:.0f} {worker_cpu * 1000 / args.tickets:.2f} "
        f"{(pg_peak - pg_before) * 1000 / args.tickets:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--per-batch",
        type=int,
        default=50,
        help="tickets per write batch, so per acknowledgement task (at 8 API clients a batch holds a few)",
    )
    parser.add_argument("--code", help="run another checkout's code (its root), to compare")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from bench.databases import targets
    from bench.machine import describe

    print(describe())
    print(
        f"{args.tickets} acknowledgements queued ({args.per_batch} per write batch), then drained by one worker"
        + (f"; code from {args.code}" if args.code else "")
    )
    with tempfile.TemporaryDirectory(prefix="wd-drain-bench-") as tmp:
        for _name, env in targets(
            args.only,
            tmp,
            PG_DB,
            LOG_LEVEL="ERROR",
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        ):
            if args.code:
                env = {**env, "PYTHONPATH": args.code, "WD_CODE": args.code}
            cmd = [
                sys.executable,
                __file__,
                "--child",
                "--tickets",
                str(args.tickets),
                "--per-batch",
                str(args.per_batch),
            ]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")), None)
            if line is None:
                print(f"failed:\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}")
                continue
            vendor, rate, worker_ms, pg_ms = line.split()[1:]
            db_part = f", PostgreSQL {pg_ms} ms" if vendor == "postgresql" else ""
            print(
                f"{vendor:<11} {rate:>5} acknowledgements/s   CPU per acknowledgement: worker {worker_ms} ms{db_part}"
            )


if __name__ == "__main__":
    main()
