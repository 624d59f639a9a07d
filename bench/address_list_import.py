#!/usr/bin/env python
"""Importing a scam-address list: rows per second for a 1M-line file, and the verdict's look-up.

Writes a CSV of N lines (a header, the addresses with a label column, one malformed line in
10,000), then, on a fresh SQLite database and a fresh PostgreSQL one, runs the real command
twice (`walletdesk manage import_address_list FILE --source bench`: the first import, then the
replacement of the same source, which deletes the old rows in the same transaction) and times
each, whole process included. Then it times the look-up a verdict makes
(registry.lookups.scam_lists_of: one indexed query) for listed and unlisted addresses.

    .venv/bin/python bench/address_list_import.py                 # 1,000,000 lines, both databases
    .venv/bin/python bench/address_list_import.py --lines 100000 --db sqlite
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.databases import targets  # noqa: E402
from bench.machine import describe  # noqa: E402

LOOKUPS = """
import random, time
from walletdesk.registry.lookups import scam_lists_of
from walletdesk.registry.models import ListedAddress
listed = list(ListedAddress.objects.order_by("?").values_list("address", flat=True)[:500])
rng = random.Random(2)
unlisted = ["0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40)) for _ in range(500)]
for name, sample in (("listed", listed), ("unlisted", unlisted)):
    took = []
    for address in sample:
        started = time.perf_counter()
        found = scam_lists_of(address)
        took.append(time.perf_counter() - started)
        assert bool(found) == (name == "listed"), address
    took.sort()
    print(f"LOOKUP {name} n={len(took)} p50_ms={took[len(took) // 2] * 1000:.3f} p99_ms={took[int(len(took) * 0.99)] * 1000:.3f}")
"""


def write_list(path: Path, lines: int) -> int:
    rng = random.Random(21)
    malformed = 0
    with path.open("w", newline="") as handle:
        handle.write("address,label\r\n")
        for number in range(lines):
            if number % 10_000 == 9_999:
                handle.write("0xnot-an-address,broken\r\n")
                malformed += 1
            else:
                handle.write(f"0x{rng.getrandbits(160):040x},drainer\r\n")
    return malformed


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "walletdesk.cli", "manage", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"manage {args[0]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default=None)
    args = parser.parse_args()
    print(describe())
    with tempfile.TemporaryDirectory(prefix="bench-address-list-") as tmp:
        path = Path(tmp) / "list.csv"
        malformed = write_list(path, args.lines)
        size = path.stat().st_size / 1e6
        print(f"file: {args.lines} lines + header, {malformed} malformed, {size:.0f} MB")
        for name, env in targets(args.db, tmp, "walletdesk_bench_address_list"):
            Path(env["WALLETDESK_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
            manage(env, "migrate", "--noinput", "-v", "0")
            for round_name in ("first import", "replacement"):
                started = time.perf_counter()
                out = manage(env, "import_address_list", str(path), "--source", "bench")
                seconds = time.perf_counter() - started
                summary = out.strip().splitlines()[-1]
                # The command's own time (reading, inserting, committing), without process start.
                inside = float(summary.rsplit(" in ", 1)[1].split()[0])
                print(
                    f"RESULT database={name} round={round_name.replace(' ', '_')} lines={args.lines} "
                    f"process_s={seconds:.1f} import_s={inside:.1f} rows_per_s={args.lines / inside:.0f} "
                    f"rows_per_s_with_startup={args.lines / seconds:.0f}"
                )
                print(f"  {summary}")
            print(manage(env, "shell", "-c", LOOKUPS).strip().replace("LOOKUP", f"LOOKUP database={name}"))
        print(describe())


if __name__ == "__main__":
    main()
