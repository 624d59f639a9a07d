"""How many mails per second go through `walletdesk.connectors.email.ingest()`.

    .venv/bin/python bench/email_ingest.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/email_ingest.py --only sqlite --mails 2000 --runs 3
    .venv/bin/python bench/email_ingest.py --profile       # cProfile of one SQLite run

Each database gets its own throw-away database (a temporary SQLite file; a fresh PostgreSQL
database `walletdesk_bench_email` on DATABASE_URL's server, or postgres://postgres@127.0.0.1:5432),
migrated from scratch. The mails are the 63 test fixtures plus generated variants (new
Message-IDs, senders and subjects, replies threading onto earlier mails) up to --mails; about
2% are garbage that must be quarantined without stopping the rest. Every mail goes through the
whole path: parse, attachment checks, threading, the shield, triage, ticket or message insert,
the encrypted raw copy, the acknowledgement task row (django-tasks-db, as in production).

Three paths are timed, in batches of 50 mails as the IMAP poller fetches them:
- `ingest()`, one mail at a time (the MTA pipe);
- `ingest_many()`, one call per batch: parsed and drafted, then stored 20 mails per commit;
- `ingest_stream()`, the poller's own path: the same, with the next batches drafted in the
  helper processes (HELPER_PROCESSES, one per spare core) while this one is stored.
Figures are medians of --runs runs; each run uses fresh Message-IDs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "email"
PG_DB = "walletdesk_bench_email"

sys.path.insert(0, str(ROOT))


# --- the mails --------------------------------------------------------------------------------

_MID = re.compile(rb"^Message-ID:[^\r\n]*\r?\n", re.IGNORECASE | re.MULTILINE)
_FROM = re.compile(rb"^From:[^\r\n]*\r?\n", re.IGNORECASE | re.MULTILINE)
_SUBJECT = re.compile(rb"^Subject:[^\r\n]*\r?\n", re.IGNORECASE | re.MULTILINE)

SUBJECTS = [
    "账户被锁定，请帮忙解锁",
    "转账一直显示pending",
    "Forgot my password",
    "Transaction not received on TRON",
    "提币失败 error 1002",
    "App crashes on login (iOS 17)",
    "手续费太高了？",
    "Is this support link real?",
]
BODIES = [
    "我的钱包账户被锁定了，输错了几次密码，怎么解锁？",
    "I sent 120 USDT to 0x52908400098527886E0F7030069857D2E4169EE7 two hours ago and it has not arrived.",
    "登录的时候一直提示网络错误，换了 WiFi 也不行，版本 2.14.3。",
    "Someone on Telegram says they are imToken support and asks for a fee. Is that you?",
    "提现显示成功但是没有到账，交易哈希 0x9f2b1e7c3d4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4",
]


def _with_headers(raw: bytes, message_id: str, sender: str, subject: str | None) -> bytes:
    raw = _MID.sub(b"", raw, count=1)
    raw = _FROM.sub(b"", raw, count=1)
    head = f"Message-ID: <{message_id}>\r\nFrom: {sender}\r\n".encode()
    if subject is not None:
        raw = _SUBJECT.sub(b"", raw, count=1)
        head += b"Subject: =?utf-8?b?" + __import__("base64").b64encode(subject.encode()) + b"?=\r\n"
    return head + raw


def _fresh(message_id: str, sender: str, subject: str, body: str, in_reply_to: str | None) -> bytes:
    lines = [
        f"Message-ID: <{message_id}>",
        f"From: {sender}",
        "To: support@example.test",
        "Subject: =?utf-8?b?" + __import__("base64").b64encode(subject.encode()).decode() + "?=",
        "Date: Sat, 01 Jun 2024 15:04:05 +0800",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Transfer-Encoding: 8bit",
    ]
    if in_reply_to:
        lines += [f"In-Reply-To: <{in_reply_to}>", f"References: <{in_reply_to}>"]
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def corpus(count: int, run: int, seed: int = 7) -> list[bytes]:
    """A deterministic mix: fixtures with new ids, fresh mails, replies, and ~2% garbage."""
    # Runs 0, 100 and 200 are the same mails with other Message-IDs: each path gets the same mix.
    rng = random.Random(seed + run % 100)
    fixtures = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
    mails: list[bytes] = []
    earlier: list[str] = []
    for i in range(count):
        mid = f"bench-{run}-{i}@example.cn"
        sender = f"user{rng.randrange(count // 3 + 1)}@example.cn"
        roll = rng.random()
        if roll < 0.02:
            # Unique garbage (identical bytes would be duplicates of the first quarantined copy).
            kind = rng.randrange(2)
            junk = b" " * (i + 1) + b"\r\n" * (1 + run) if kind else b"\xff\xfe\x00 garbage %d-%d" % (run, i)
            mails.append(junk)
            continue
        if roll < 0.35:
            base = fixtures[i % len(fixtures)]
            subject = None if rng.random() < 0.5 else rng.choice(SUBJECTS)
            mails.append(_with_headers(base, mid, sender, subject))
        elif roll < 0.55 and earlier:
            parent = rng.choice(earlier[-200:])
            mails.append(_fresh(mid, sender, "Re: " + rng.choice(SUBJECTS), rng.choice(BODIES), parent))
        else:
            mails.append(_fresh(mid, sender, rng.choice(SUBJECTS), rng.choice(BODIES), None))
        earlier.append(mid)
    return mails


# --- one database (child process) -------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "walletdesk.settings")
    os.environ.setdefault("LOG_LEVEL", "CRITICAL")
    import django

    django.setup()
    import logging

    logging.disable(logging.CRITICAL)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", interactive=False, verbosity=0)

    from walletdesk.connectors.email import ingest
    from walletdesk.connectors.email.inbound import ingest_many, ingest_stream
    from walletdesk.tickets import screening

    screening.triage("warm up")  # jieba dictionary and the triage rules load once per process
    ingest(_fresh("warmup@example.cn", "warm@example.cn", "账户被锁定", "我的钱包账户被锁定了", None))

    results: dict[str, object] = {"vendor": connection.vendor, "mails": args.mails}
    outcome_counts: dict[str, dict[str, int]] = {}

    def timed(path: str, run: int) -> float:
        mails = corpus(args.mails, run)
        started = time.perf_counter()
        batches = [mails[start : start + 50] for start in range(0, len(mails), 50)]
        if path == "one":
            out = [ingest(raw, source="bench") for raw in mails]
        elif path == "many":
            out = [r for batch in batches for r in ingest_many(batch, source="bench")]
        else:
            out = [r for results in ingest_stream(batches, source="bench") for r in results]
        elapsed = time.perf_counter() - started
        for r in out:
            counts = outcome_counts.setdefault(path, {})
            counts[r.outcome] = counts.get(r.outcome, 0) + 1
        assert len(out) == len(mails)
        return len(mails) / elapsed

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        timed(args.profile_path, 999)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
        return

    results["helpers"] = settings.HELPER_PROCESSES
    for offset, path in enumerate(("one", "many", "stream")):
        rates = [timed(path, run + 100 * offset) for run in range(args.runs)]
        results[path] = {"median": statistics.median(rates), "runs": rates}
    results["outcomes"] = outcome_counts
    print("RESULT " + json.dumps(results))


# --- parent -----------------------------------------------------------------------------------


def run_child(name: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, object] | None:
    cmd = [sys.executable, __file__, "--child", "--mails", str(args.mails), "--runs", str(args.runs)]
    if args.profile:
        cmd += ["--profile", "--profile-path", args.profile_path]
    proc = subprocess.run(cmd, env=env, capture_output=not args.profile, text=True, check=False)
    if args.profile:
        return None
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    print(f"{name}: failed\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-path", choices=["one", "many", "stream"], default="many")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    from bench.databases import targets
    from bench.machine import describe

    print(describe())
    print(f"{args.mails} mails per run, {args.runs} runs, median mails/s; target 740 (django-helpdesk: 74)")
    with tempfile.TemporaryDirectory(prefix="wd-email-bench-") as tmp:
        # A profile is of the SQLite run only.
        only = "sqlite" if args.profile else args.only
        for name, env in targets(only, tmp, PG_DB):
            result = run_child(name, env, args)
            if result is None:
                continue
            for path, label in (
                ("one", "ingest(), one by one"),
                ("many", "ingest_many(), per batch"),
                ("stream", f"ingest_stream(), the poller ({result['helpers']} helper process(es))"),
            ):
                figures = result[path]
                assert isinstance(figures, dict)
                runs = " ".join(f"{r:.0f}" for r in figures["runs"])
                print(f"{name:<10} {label:<50} {figures['median']:6.0f} mails/s   runs: {runs}")
            outcomes = result["outcomes"]
            assert isinstance(outcomes, dict)
            same = (
                "the same for every path"
                if len({json.dumps(c, sort_keys=True) for c in outcomes.values()}) == 1
                else "DIFFERENT PER PATH"
            )
            print(
                f"{'':<10} outcomes over all runs, {same}: {outcomes if 'DIFF' in same else outcomes['one']}  (no run stopped on a bad mail)"
            )


if __name__ == "__main__":
    main()
