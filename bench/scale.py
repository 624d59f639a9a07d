#!/usr/bin/env python
"""The desk at a million tickets: generate them, then time the agent's pages (issue #23).

    # PostgreSQL (the database DATABASE_URL names; it is migrated, its tickets replaced)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/walletdesk_scale \\
        .venv/bin/python bench/scale.py --generate 1000000
    # SQLite (the data directory WALLETDESK_DATA_DIR names, default ./var)
    WALLETDESK_DATA_DIR=/tmp/scale .venv/bin/python bench/scale.py --generate 100000
    # time the pages again without regenerating
    .venv/bin/python bench/scale.py --rounds 40

Generation (`bench/scale_data.py`): a realistic zh-hans/zh-hant/en mix at ~1,400 tickets a
day, 2-6 messages each, categories, teams, customers, tx hashes and error codes; COPY on
PostgreSQL, batched inserts on SQLite, the full-text index kept as the product keeps it.

Timing: each page through Django's test client (the whole request: middleware, access rules,
queries, templates), signed in as an admin who sees everything and as an agent of the General
team (who must not see the Security desk's tickets), after one warm-up request per page:

- inbox views with their counts: open (the default, by due time), unassigned, urgent, mine,
  and a team queue; a second page of the open view (keyset cursor);
- ticket search in the inbox: Chinese and English words (common and rare), a tx hash, an
  error code, a customer's email, a reference prefix;
- the reports page (last 30 days, the default) and its CSV.

Prints p50 and p95 per view in ms, against the goals (search p95 < 100 ms, inbox p95 <
150 ms, reports < 1 s), and the machine with its load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
os.environ.setdefault("REQUIRE_AGENT_MFA", "0")

from bench.machine import describe  # noqa: E402

GOALS = {"search": 100.0, "inbox": 150.0, "reports": 1000.0}


def setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def _user(email: str, *, superuser: bool = False, team: str | None = None) -> Any:
    from walletdesk.accounts.models import User
    from walletdesk.tickets.models import Team

    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(email=email, password=None)
        user.is_staff = True
        user.is_superuser = superuser
        user.save()
    if team:
        Team.objects.get(slug=team).members.add(user)
    return user


def probes(agent: Any) -> list[tuple[str, str, str]]:
    """(kind, label, path) of every page timed, with identifiers read from the data."""
    from walletdesk.tickets.models import Ticket

    def some(**filters: Any) -> Ticket | None:
        return Ticket.objects.filter(**filters).order_by("-pk").first()

    hashed = some(tx_hash__startswith="0x")
    coded = some(error_code="E4012")
    recent = Ticket.objects.order_by("-pk").select_related("contact").first()
    pages = [
        ("inbox", "open (default, by due)", "/agent/"),
        ("inbox", "unassigned", "/agent/?view=unassigned"),
        ("inbox", "urgent", "/agent/?view=urgent"),
        ("inbox", "mine", "/agent/?view=mine"),
        ("inbox", "team queue: general", "/agent/?view=open&team=general"),
        ("inbox", "everything, newest", "/agent/?view=all"),
        ("search", "zh common: 转账", "/agent/?q=转账"),
        ("search", "zh two words: 账户 锁定", "/agent/?q=账户+锁定"),
        ("search", "zh-hant: 帳戶", "/agent/?q=帳戶"),
        ("search", "en: withdrawal exchange", "/agent/?q=withdrawal+exchange"),
        ("search", "en rare: hardware", "/agent/?q=hardware"),
        ("search", "everything: 助记词", "/agent/?view=all&q=助记词"),
    ]
    if hashed is not None:
        pages.append(("search", "tx hash", f"/agent/?view=all&q={hashed.tx_hash}"))
    if coded is not None:
        pages.append(("search", "error code E4012", "/agent/?view=all&q=E4012"))
    if recent is not None:
        pages.append(("search", "customer email", f"/agent/?view=all&q={recent.contact.email}"))
        pages.append(("search", "reference prefix", f"/agent/?view=all&q={recent.reference[:9]}"))
        pages.append(("search", "reference", f"/agent/?view=all&q={recent.reference.lower()}"))
    pages += [
        ("reports", "reports (30 days)", "/agent/reports/"),
        ("reports", "reports CSV", "/agent/reports/?format=csv"),
    ]
    return pages


class SqlClock:
    """Time spent in the database during a request (connection.execute_wrapper): what grows
    with the data, apart from the page's Python (templates, middleware), which does not."""

    def __init__(self) -> None:
        self.ms = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - began) * 1000


def _backend_cpu() -> Any:
    """A function that reads the CPU milliseconds the PostgreSQL server process of this
    connection has used (/proc, the server being on this machine), or None on SQLite, whose
    work is this process's own."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")
    if not stat.exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")

    def ms() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / tick  # utime + stime

    return ms


def time_pages(
    client: Any, pages: list[tuple[str, str, str]], rounds: int
) -> list[tuple[str, str, list[float], list[float], list[float]]]:
    from django.db import connection

    out = []
    for kind, label, path in pages:
        n = max(3, rounds // 8) if kind == "reports" else rounds
        got = client.get(path)  # warm-up
        assert got.status_code == 200, (path, got.status_code)
        took, sql, cpu = [], [], []
        server = _backend_cpu()
        for _ in range(n):
            clock = SqlClock()
            with connection.execute_wrapper(clock):
                server_before = server() if server else 0.0
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                took.append((time.perf_counter() - began) * 1000)
                used = (time.process_time() - began_cpu) * 1000
                cpu.append(used + (server() - server_before if server else 0.0))
            sql.append(clock.ms)
            assert response.status_code == 200
        out.append((kind, label, took, sql, cpu))
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(who: str, results: list[tuple[str, str, list[float], list[float], list[float]]]) -> None:
    # CPU: the CPU time a request used, this process's and (PostgreSQL) its server process's,
    # in clock ticks of 10 ms there. On a loaded machine it still says what the page costs
    # when the wall-clock times mostly say how long it waited for a core.
    print(f"\n{who}")
    print(
        f"  {'kind':8} {'page':30} {'p50 ms':>8} {'p95 ms':>8} {'SQL p50':>8} {'SQL p95':>8}"
        f" {'CPU p50':>8} {'CPU p95':>8}  goal (page p95)"
    )
    for kind, label, took, sql, cpu in results:
        goal = GOALS[kind]
        ok = "ok" if p95(took) < goal else "OVER"
        print(
            f"  {kind:8} {label:30} {statistics.median(took):8.1f} {p95(took):8.1f} "
            f"{statistics.median(sql):8.1f} {p95(sql):8.1f} {statistics.median(cpu):8.1f} {p95(cpu):8.1f}"
            f"  < {goal:.0f}: {ok}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--generate", type=int, help="replace the tickets with this many generated ones")
    parser.add_argument("--rounds", type=int, default=30, help="requests per page (reports: an eighth)")
    parser.add_argument("--no-measure", action="store_true", help="generate only")
    parser.add_argument("--users", choices=["both", "admin", "agent"], default="both", help="who to time as")
    args = parser.parse_args()

    setup()
    from django.db import connection
    from django.test import Client

    from walletdesk.tickets.models import Message, Ticket

    print(describe())
    print(f"database: {connection.vendor}")
    if args.generate:
        from bench.scale_data import generate

        began = time.perf_counter()
        timings = generate(args.generate)
        phases = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
        print(f"generated {args.generate} tickets in {time.perf_counter() - began:.0f} s ({phases})")
    if args.no_measure:
        return
    tickets = Ticket.objects.count()
    active = Ticket.objects.filter(status__in=("new", "open", "pending", "on_hold")).count()
    print(f"tickets: {tickets} ({active} active), messages: {Message.objects.count()}")
    admin = _user("scale-admin@example.com", superuser=True)
    agent = _user("scale-general@example.com", team="general")
    # Give the General agent some tickets of their own for "mine".
    mine = Ticket.objects.filter(status="open", team__slug="general", assignee__isnull=False).values_list(
        "pk", flat=True
    )[:40]
    Ticket.objects.filter(pk__in=list(mine)).update(assignee=agent)
    pages = probes(agent)
    users = [("admin (sees every team)", admin, "admin"), ("General-team agent", agent, "agent")]
    for who, user, key in users:
        if args.users not in ("both", key):
            continue
        client = Client(HTTP_HOST="localhost")
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        report(who, time_pages(client, pages, args.rounds))
    print("\n" + describe())


if __name__ == "__main__":
    main()
