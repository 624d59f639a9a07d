#!/usr/bin/env python
"""Mixed load on the scale layout: PostgreSQL + Redis, 2 web processes, 2 task workers, locust.

    .venv/bin/python bench/load.py                       # 10 minutes (needs the `bench` extra)
    .venv/bin/python bench/load.py --smoke               # 1 minute, fewer users: the smoke run
    .venv/bin/python bench/load.py --duration 120 --agents 50 --db-name walletdesk_faults --redis-db 8
    .venv/bin/python bench/load.py --duration 120 --probe /tmp/probe  # + queue wait vs run time

What runs, each in its own process:
- PostgreSQL: a fresh database `--db-name` on DATABASE_URL's server (or 127.0.0.1:5432), dropped
  and created; Redis: db `--redis-db` of REDIS_URL's server (or 127.0.0.1:6379), flushed first.
- walletdesk: `python -m walletdesk.core.serve --workers 2` and two `django db_worker`, as
  `walletdesk up` starts them; outgoing mail to an aiosmtpd sink in this process (the
  acknowledgements and replies are counted); a Dovecot IMAP server holding the support
  mailbox, which the workers poll every 5 s.
- locust, headless, in its own process (`locust -f bench/load_users.py`), with these users:
  * customers: open a ticket (POST /api/v1/tickets), then read it (its tracking page);
  * agents (`--agents`, 100 by default, each with an API token): poll their inbox
    (GET /api/v1/tickets?view=unassigned), open a ticket and reply to it;
  * chats: start a conversation (POST /api/v1/chat/conversations), open its websocket, send
    messages and wait for each one's acknowledgement (its own copy, as the widget does);
  * mail: a customer writes to the support mailbox (IMAP APPEND to Dovecot).
- Every accepted item (a 201 ticket, a 201 reply, an acknowledged chat message, an appended
  mail) carries a unique token in its text. At the end, after the workers and the poller have
  had `--grace` seconds, this script looks each token up in PostgreSQL: "lost" is an accepted
  item whose text is not stored.

Printed: per kind of request, count, errors, p50 and p99 (locust's figures), the lost count,
mails sent by the workers, and the machine (bench/machine.py) with its load average before and
after. Goal (issue #23): 0 errors, p99 < 300 ms, 0 lost.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import probe  # noqa: E402
from bench.databases import reset_postgres  # noqa: E402
from bench.machine import describe  # noqa: E402

RAISED_LIMITS = {
    "RATE_LIMIT_GUEST_TICKET": "100000000/h/ip,100000000/h/email",
    "RATE_LIMIT_GUEST_REPLY": "100000000/h/ip,100000000/h/email",
    "RATE_LIMIT_GUEST_CHAT": "100000000/h/ip,100000000/h/email",
}
MAILBOX_USER = "support@example.test"
MAILBOX_PASSWORD = "load-bench-mailbox-password"


def child_setup(agents: int) -> None:
    """Migrate; create the agents (General team, an API token each) and the support mailbox."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from walletdesk.accounts.actions import issue_api_token
    from walletdesk.accounts.models import User
    from walletdesk.connectors.email.models import Mailbox
    from walletdesk.connectors.email.tasks import ensure_polling
    from walletdesk.tickets.models import Team

    team = Team.objects.get(slug="general")
    tokens = []
    for i in range(agents):
        # No password: they use API tokens (hashing 100 passwords would cost half a minute).
        user = User.objects.create_user(email=f"agent{i}@loadbench.test", password=None)
        user.is_staff = True
        user.save(update_fields=["is_staff"])
        team.members.add(user)
        tokens.append(issue_api_token(user, "load bench"))
    imap = json.loads(os.environ["LOAD_IMAP"])
    box = Mailbox(
        name="support",
        address=MAILBOX_USER,
        host=imap["host"],
        port=imap["port"],
        security=Mailbox.Security.NONE,
        username=MAILBOX_USER,
        poll_seconds=5,
    )
    box.set_secret(MAILBOX_PASSWORD)
    box.save()
    ensure_polling()
    print("SETUP " + json.dumps({"tokens": tokens}))


def child_check(tokens_path: str) -> None:
    """Which of the accepted tokens are stored (in a message's text). Prints CHECK {json}."""
    import django

    django.setup()
    from django.db import connection

    wanted = json.loads(Path(tokens_path).read_text())
    found: set[str] = set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(body from 'lt[0-9a-f]{16}') FROM tickets_message WHERE body LIKE '%%lt%%'"
        )
        found = {row[0] for row in cursor.fetchall() if row[0]}
        cursor.execute(
            "SELECT count(*) FROM tickets_ticket t WHERE NOT EXISTS "
            "(SELECT 1 FROM tickets_message m WHERE m.ticket_id = t.id)"
        )
        bare = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tickets_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tickets_message")
        messages = cursor.fetchone()[0]
    lost = {kind: sorted(set(items) - found) for kind, items in wanted.items()}
    print(
        "CHECK "
        + json.dumps(
            {
                "accepted": {kind: len(items) for kind, items in wanted.items()},
                "lost": {kind: len(items) for kind, items in lost.items()},
                "lost_examples": {kind: items[:5] for kind, items in lost.items() if items},
                "tickets_without_message": bare,
                "tickets": tickets,
                "messages": messages,
            }
        )
    )


def child_run(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, *args],
        env=env,
        cwd=env["WALLETDESK_DATA_DIR"],
        capture_output=True,
        timeout=900,
    )
    out = done.stdout.decode(errors="replace")
    for line in out.splitlines():
        for tag in ("SETUP ", "CHECK "):
            if line.startswith(tag):
                return dict(json.loads(line[len(tag) :]))
    raise RuntimeError(f"{args[0]} failed:\n{out[-3000:]}\n{done.stderr.decode(errors='replace')[-3000:]}")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def stats_from_csv(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open() as f:
        for row in csv.DictReader(f):
            rows.append(
                {
                    "type": row["Type"],
                    "name": row["Name"],
                    "count": int(row["Request Count"]),
                    "errors": int(row["Failure Count"]),
                    "p50": row["50%"],
                    "p99": row["99%"],
                    "max": str(round(float(row["Max Response Time"] or 0))),
                }
            )
    return rows


def print_probe(folder: Path) -> None:
    """bench/chat_probe's figures, summed over the web processes: per function run on the sync
    threads, how long a call waited for a thread (the queue) and how long it ran."""
    rows = probe.merged(folder)
    print(f"{'sync work (probe)':52} {'calls':>7} {'wait ms':>8} {'run ms':>7} {'max wait':>8}")
    for name, (calls, waited, ran, most) in sorted(rows.items(), key=lambda item: -item[1][0]):
        if calls:
            print(
                f"{name[-52:]:52} {calls:7.0f} {1000 * waited / calls:8.0f} {1000 * ran / calls:7.0f}"
                f" {1000 * most:8.0f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=600, help="seconds of load (default 600)")
    parser.add_argument("--smoke", action="store_true", help="60 s, 20 agents, fewer customers and chats")
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--chats", type=int, default=10)
    parser.add_argument("--mailers", type=int, default=1)
    parser.add_argument("--grace", type=int, default=60, help="seconds for workers and poller to catch up")
    parser.add_argument("--db-name", default="walletdesk_load")
    parser.add_argument("--redis-db", type=int, default=10)
    parser.add_argument("--json", help="also write the results here")
    parser.add_argument(
        "--probe",
        metavar="DIR",
        help="time the web processes' sync work (bench/chat_probe): per call, how long it waited "
        "for a sync thread and how long it ran",
    )
    a = parser.parse_args()
    if a.smoke:
        a.duration, a.agents, a.customers, a.chats, a.grace = min(a.duration, 60), 20, 6, 3, 30

    import redis

    from tests.servers import dovecot_server, free_port, smtp_server

    base_db = os.environ.get("DATABASE_URL", "")
    server = (
        base_db.rsplit("/", 1)[0] if base_db.startswith("postgres") else "postgres://postgres@127.0.0.1:5432"
    )
    database_url = f"{server}/{a.db_name}"
    reset_postgres(database_url)
    redis_server = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0]
    redis_url = f"{redis_server}/{a.redis_db}"
    redis.Redis.from_url(redis_url).flushdb()

    print(describe())
    print(f"load average before: {load_average()}")
    data_dir = Path(tempfile.mkdtemp(prefix="wd-load-"))
    procs: list[subprocess.Popen[bytes]] = []
    with (
        smtp_server() as smtp,
        dovecot_server(data_dir / "imap", users={MAILBOX_USER: MAILBOX_PASSWORD}) as imap,
    ):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env.update(
            RAISED_LIMITS,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            WALLETDESK_DATA_DIR=str(data_dir),
            PYTHONPATH=str(ROOT),
            DJANGO_SETTINGS_MODULE="walletdesk.settings",
            SITE_URL=base,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST=smtp.host,
            EMAIL_PORT=str(smtp.port),
            EMAIL_POLL_SECONDS="5",
            LOG_LEVEL="WARNING",
            LOAD_IMAP=json.dumps({"host": imap.host, "port": imap.port}),
        )
        started = time.monotonic()
        setup = child_run(env, "--child-setup", str(a.agents))
        print(f"set up (migrate, {a.agents} agents, mailbox) in {time.monotonic() - started:.0f} s")
        log = (data_dir / "server.log").open("ab")

        def spawn(argv: list[str], environment: dict[str, str] = env) -> subprocess.Popen[bytes]:
            proc = subprocess.Popen(
                argv, env=environment, cwd=data_dir, stdout=log, stderr=log, start_new_session=True
            )
            procs.append(proc)
            return proc

        web_env = dict(env)
        if a.probe:
            Path(a.probe).mkdir(parents=True, exist_ok=True)
            web_env.update(
                CHAT_PROBE_DIR=str(Path(a.probe).resolve()),
                PYTHONPATH=f"{ROOT / 'bench' / 'chat_probe'}{os.pathsep}{env['PYTHONPATH']}",
            )
        try:
            spawn(
                [sys.executable, "-m", "walletdesk.core.serve", "--port", str(port), "--workers", "2"],
                web_env,
            )
            for _ in range(2):
                spawn([sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--verbosity", "0"])
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/readyz", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("walletdesk did not become ready")
                time.sleep(0.5)
            tokens_file = data_dir / "agent_tokens.json"
            tokens_file.write_text(json.dumps(setup["tokens"]))
            accepted_file = data_dir / "accepted.jsonl"
            locust_env = {
                **env,
                "LOAD_BASE": base,
                "LOAD_TOKENS": str(tokens_file),
                "LOAD_ACCEPTED": str(accepted_file),
                "LOAD_IMAP": json.dumps(
                    {"host": imap.host, "port": imap.port, "user": MAILBOX_USER, "password": MAILBOX_PASSWORD}
                ),
                "LOAD_AGENTS": str(a.agents),
                "LOAD_CUSTOMERS": str(a.customers),
                "LOAD_CHATS": str(a.chats),
                "LOAD_MAILERS": str(a.mailers),
            }
            users = a.agents + a.customers + a.chats + a.mailers
            csv_prefix = data_dir / "locust"
            print(
                f"load: {a.duration} s, {a.agents} agents, {a.customers} customers, {a.chats} chats, {a.mailers} mail"
            )
            load_started = time.monotonic()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(ROOT / "bench" / "load_users.py"),
                    "--headless",
                    "--host",
                    base,
                    "-u",
                    str(users),
                    "-r",
                    str(max(5, users // 10)),
                    "-t",
                    f"{a.duration}s",
                    "--csv",
                    str(csv_prefix),
                    "--only-summary",
                    "--stop-timeout",
                    "30",
                    "--loglevel",
                    "WARNING",
                ],
                env=locust_env,
                cwd=data_dir,
                capture_output=True,
                timeout=a.duration + 300,
                check=False,
            )
            load_seconds = time.monotonic() - load_started
            load_after = load_average()
            if not (csv_prefix.parent / "locust_stats.csv").exists():
                raise RuntimeError(f"locust failed:\n{done.stderr.decode(errors='replace')[-4000:]}")
            stats = stats_from_csv(csv_prefix.parent / "locust_stats.csv")
            accepted: dict[str, list[str]] = {}
            for line in accepted_file.read_text().splitlines() if accepted_file.exists() else []:
                kind, token = line.split(" ", 1)
                accepted.setdefault(kind, []).append(token)
            wanted = data_dir / "accepted.json"
            wanted.write_text(json.dumps(accepted))
            # The workers send acknowledgements and poll mail after the load: wait for the
            # mailbox to be read (every mail token stored) or the grace to pass.
            deadline = time.monotonic() + a.grace
            while True:
                check = child_run(env, "--child-check", str(wanted))
                if not any(check["lost"].values()) or time.monotonic() > deadline:
                    break
                time.sleep(5)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            log.close()
        mails = len(smtp.messages)

    errors = sum(row["errors"] for row in stats if row["name"] != "Aggregated")
    print(f"\nran {load_seconds:.0f} s; load average after: {load_after}")
    print(f"{'kind':44} {'count':>7} {'errors':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for row in stats:
        name = f"{row['type']} {row['name']}".strip()
        print(
            f"{name[:44]:44} {row['count']:7} {row['errors']:6} {row['p50']:>7} {row['p99']:>7} {row['max']:>7}"
        )
    failures = data_dir / "locust_failures.csv"
    if errors and failures.exists():
        print("failures:\n" + failures.read_text()[:3000])
    print(
        f"accepted: {check['accepted']}; lost: {check['lost']} {check.get('lost_examples', '')}; "
        f"tickets without a message: {check['tickets_without_message']}; "
        f"tickets {check['tickets']}, messages {check['messages']}; mails sent by the workers: {mails}"
    )
    if a.probe:
        print_probe(Path(a.probe))
    aggregated = next((row for row in stats if row["name"] == "Aggregated"), None)
    lost = sum(check["lost"].values())
    verdict = {
        "errors": errors,
        "lost": lost,
        "p99_ms": aggregated["p99"] if aggregated else None,
        "goal_met": errors == 0 and lost == 0 and aggregated is not None and float(aggregated["p99"]) < 300,
    }
    print(f"RESULT {json.dumps(verdict)}")
    if a.json:
        Path(a.json).write_text(
            json.dumps(
                {"stats": stats, "check": check, "mails": mails, "load_after": load_after, **verdict},
                indent=1,
            )
        )
    return 0 if errors == 0 and lost == 0 else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child-setup"]:
        child_setup(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--child-check"]:
        child_check(sys.argv[2])
    else:
        sys.exit(main())
