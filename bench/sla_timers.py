#!/usr/bin/env python
"""SLA timers under the real task worker: checks handled per second, and how late they act.

On a fresh SQLite database (or PostgreSQL with --db postgres), creates N tickets, sets one
breach check per ticket due a few seconds ahead and enqueues its task with `run_after` (as
`sla_tasks.schedule` does), then runs the real `db_worker` (django-tasks-db) in W processes
and measures, from the database afterwards:

- throughput: checks acted on per second, from the first action to the last;
- delay: action time (the check's claim) minus its due time; median and p90.

    .venv/bin/python bench/sla_timers.py                 # N=300, 1 worker, 3 rounds
    .venv/bin/python bench/sla_timers.py --workers 2 --n 500
    .venv/bin/python bench/sla_timers.py --db postgres   # DATABASE_URL or a local walletdesk_bench
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import reset_postgres  # noqa: E402
from bench.machine import describe  # noqa: E402

PG_DEFAULT = "postgres://postgres@127.0.0.1:5432/walletdesk_bench"


def setup(n: int, lead_seconds: float) -> list[int]:
    """Tickets, and one due breach check each, enqueued for `lead_seconds` from now."""
    from datetime import timedelta

    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from walletdesk.sla import timers as sla_tasks
    from walletdesk.sla.models import EscalationRule, SlaCheck
    from walletdesk.tickets import actions
    from walletdesk.tickets.actions import NewTicket
    from walletdesk.tickets.models import Ticket

    EscalationRule.objects.get_or_create(name="bench raise", action="raise_priority")
    ids = []
    for i in range(n):
        t = actions.create_ticket(
            NewTicket(subject=f"bench {i}", body="fee question", email=f"b{i}@example.com", category="fees")
        )
        ids.append(t.pk)
    # Drop the timers the tickets scheduled themselves; make one breach check per ticket due
    # shortly, with the ticket's due time matching (so the check is current, not stale).
    SlaCheck.objects.all().delete()
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    due = timezone.now() + timedelta(seconds=lead_seconds)
    Ticket.objects.filter(pk__in=ids).update(first_reply_due=due)
    with transaction.atomic():
        checks = SlaCheck.objects.bulk_create(
            SlaCheck(ticket_id=pk, kind="first_reply_breach", due_at=due, run_at=due) for pk in ids
        )
        for check in checks:
            sla_tasks.sla_check.using(run_after=due).enqueue(check_id=check.pk)
    return [c.pk for c in checks]


def run_round(n: int, workers: int, lead: float, env: dict[str, str]) -> tuple[float, float, float]:
    from walletdesk.sla.models import SlaCheck
    from walletdesk.tickets.models import TicketEvent

    check_ids = setup(n, lead)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django",
                "db_worker",
                "--queue-name",
                "sla",
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--verbosity",
                "0",
                "--worker-id",
                f"bench-{i}",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in range(workers)
    ]
    try:
        deadline = time.monotonic() + lead + 120
        while time.monotonic() < deadline:
            if SlaCheck.objects.filter(pk__in=check_ids).exclude(outcome="").count() == n:
                break
            time.sleep(0.2)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)
    rows = list(SlaCheck.objects.filter(pk__in=check_ids).values_list("run_at", "claimed_at", "outcome"))
    done = [(r, c) for r, c, o in rows if c is not None and o.startswith("escalated")]
    assert len(done) == n, f"only {len(done)} of {n} checks acted on"
    events = TicketEvent.objects.filter(kind="sla_breached", ticket__sla_checks__pk__in=check_ids).count()
    assert events == n, f"{events} breach events for {n} checks: an action ran twice or not at all"
    delays = sorted((c - r).total_seconds() for r, c in done)
    claimed = sorted(c for _, c in done)
    span = (claimed[-1] - claimed[0]).total_seconds() or 1e-9
    p90 = delays[min(len(delays) - 1, round(0.9 * (len(delays) - 1)))]
    return n / span, statistics.median(delays), p90


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--lead", type=float, default=3.0, help="seconds from enqueue to due")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="wd-sla-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "walletdesk.settings",
        "WALLETDESK_DATA_DIR": tmp,
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    env.pop("TASKS_BACKEND", None)
    if args.db == "postgres":
        env["DATABASE_URL"] = os.environ.get("DATABASE_URL", PG_DEFAULT)
        reset_postgres(env["DATABASE_URL"])
    else:
        env.pop("DATABASE_URL", None)
    os.environ.update(env)
    import django

    django.setup()
    print(describe())
    print(f"db={args.db} n={args.n} workers={args.workers} rounds={args.rounds}")
    results = []
    for i in range(args.rounds):
        rate, median, p90 = run_round(args.n, args.workers, args.lead, env)
        results.append((rate, median, p90))
        print(
            f"round {i + 1}: {rate:.0f} checks/s, delay median {median * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms"
        )
    print(
        "median over rounds: "
        f"checks_per_s={statistics.median(r[0] for r in results):.0f} "
        f"delay_median_ms={statistics.median(r[1] for r in results) * 1000:.0f} "
        f"delay_p90_ms={statistics.median(r[2] for r in results) * 1000:.0f}"
    )


if __name__ == "__main__":
    main()
