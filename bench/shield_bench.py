"""Benchmark of the security shield: run alone with ``.venv/bin/python bench/shield_bench.py``.

Prints the machine, then MB/s of ``scan`` on ordinary mixed Chinese/English support text and on
text full of secrets, ms per 2 KB message, seconds for a 1 MB body, and verdicts per second of
``verify_contact``. Every figure is the median of several runs; scan figures are given in CPU
time (``process_time``, the one to compare on a shared machine) and wall-clock time.
"""

import csv
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import describe  # noqa: E402
from tests.shield.secret_factory import (  # noqa: E402
    extended_private_key,
    keystore_json,
    layouts,
    phrase_words,
    raw_private_key,
    slip39_share,
    wif_key,
)
from tests.shield.support_corpus import adversarial_text, mixed_text  # noqa: E402
from walletdesk.shield import OfficialRegistry, scan, verify_contact  # noqa: E402

RUNS = 5
REGISTRY = [
    ("domain", "token.im"),
    ("domain", "imtoken.com"),
    ("email", "support@token.im"),
    ("handle", "x:@imTokenOfficial"),
    ("handle", "telegram:@imToken"),
    ("phone", "+85212345678"),
]


def median_times(action: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """Median (CPU seconds, wall seconds) of ``runs`` calls.

    CPU time (``process_time``) is the figure to compare: on a shared machine the wall clock
    also counts the time other processes held the core.
    """
    cpu, wall = [], []
    for _ in range(runs):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        action()
        cpu.append(time.process_time() - cpu_started)
        wall.append(time.perf_counter() - wall_started)
    return statistics.median(cpu), statistics.median(wall)


def median_seconds(action: Callable[[], object], runs: int = RUNS) -> float:
    return median_times(action, runs)[0]


def secret_heavy_text(size_bytes: int) -> tuple[str, int]:
    """Ordinary text with a secret of some kind every ~600 bytes."""
    rng = random.Random(5)
    filler = mixed_text(size_bytes, seed=11)
    pieces: list[str] = []
    position = 0
    makers: list[Callable[[], str]] = [
        lambda: layouts(phrase_words("english", 12, rng), chinese=False)["numbered_dot"],
        lambda: " ".join(phrase_words("chinese_simplified", 12, rng)),
        lambda: "".join(phrase_words("chinese_simplified", 12, rng)),
        lambda: " ".join(phrase_words("japanese", 24, rng)),
        lambda: "private key " + raw_private_key(),
        lambda: wif_key(True),
        lambda: extended_private_key("xprv"),
        lambda: keystore_json(),
        lambda: slip39_share(128),
    ]
    inserted = 0
    while position < len(filler):
        pieces.append(filler[position : position + 200])
        pieces.append("\n" + rng.choice(makers)() + "\n")
        inserted += 1
        position += 200
    return "".join(pieces), inserted


def throughput(label: str, text: str, expected: int | None = None) -> None:
    size = len(text.encode("utf-8")) / 1e6
    cpu, wall = median_times(lambda: scan(text))
    findings = len(scan(text).findings)
    planted = "" if expected is None else f" of {expected} planted"
    print(
        f"scan {label}: {size:.1f} MB, {size / cpu:.1f} MB/s CPU ({cpu:.3f} s), "
        f"{size / wall:.1f} MB/s wall ({findings} findings{planted})"
    )


def per_message(text: str) -> None:
    encoded = text.encode("utf-8")
    messages = [
        encoded[i : i + 2048].decode("utf-8", "ignore") for i in range(0, min(len(encoded), 2048 * 400), 2048)
    ]
    cpu, wall = median_times(lambda: [scan(message) for message in messages])
    print(
        f"scan 2 KB message: {cpu / len(messages) * 1000:.3f} ms CPU, {wall / len(messages) * 1000:.3f} ms wall "
        f"each (median over {RUNS} x {len(messages)})"
    )
    body = encoded[:1_000_000].decode("utf-8", "ignore")
    cpu, wall = median_times(lambda: scan(body))
    print(f"scan 1 MB body: {cpu:.3f} s CPU, {wall:.3f} s wall")


def verdicts() -> None:
    fixture = ROOT / "tests" / "fixtures" / "shield" / "lookalikes.csv"
    with fixture.open(encoding="utf-8") as handle:
        cases = [(row["kind"], row["value"]) for row in csv.DictReader(handle)]
    compiled = OfficialRegistry.from_pairs(REGISTRY)
    for label, registry in (("compiled registry", compiled), ("plain pairs", REGISTRY)):

        def verify_all(registry: Any = registry) -> None:
            for kind, value in cases:
                verify_contact(kind, value, registry)

        seconds = median_seconds(verify_all)
        print(
            f"verify_contact ({label}): {len(cases) / seconds:,.0f} verdicts/s over {len(cases)} labelled contacts"
        )


def main() -> None:
    print(describe())
    scan("warm up the wordlists: 的一是在不了有和人这中大 abandon ability able about above absent")
    scan(mixed_text(50_000, seed=3))  # and the tables of the long-text path (shield/textview.py)
    ordinary = mixed_text(6_000_000)
    throughput("ordinary zh/en support text", ordinary)
    throughput(
        "adversarial text (Faker word salad, chat Chinese without punctuation)", adversarial_text(3_000_000)
    )
    throughput("text full of secrets (one per ~200 characters)", *secret_heavy_text(1_000_000))
    per_message(ordinary)
    verdicts()


if __name__ == "__main__":
    main()
