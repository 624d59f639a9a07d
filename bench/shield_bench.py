"""Benchmark of the security shield: run alone with ``.venv/bin/python bench/shield_bench.py``.

Prints the machine, then MB/s of ``scan`` on ordinary mixed Chinese/English support text and on
text full of secrets, ms per 2 KB message, seconds for a 1 MB body, and verdicts per second of
``verify_contact``. Every figure is the median of several runs.
"""

import csv
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def median_seconds(action: Callable[[], object], runs: int = RUNS) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def machine() -> None:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(
        f"machine: nproc={os.cpu_count()} cpu={model!r} python={platform.python_version()} load(1,5,15m)={load}"
    )


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
    seconds = median_seconds(lambda: scan(text))
    findings = len(scan(text).findings)
    planted = "" if expected is None else f" of {expected} planted"
    print(
        f"scan {label}: {size:.1f} MB in {seconds:.3f} s = {size / seconds:.1f} MB/s ({findings} findings{planted})"
    )


def per_message(text: str) -> None:
    encoded = text.encode("utf-8")
    messages = [
        encoded[i : i + 2048].decode("utf-8", "ignore") for i in range(0, min(len(encoded), 2048 * 400), 2048)
    ]
    seconds = median_seconds(lambda: [scan(message) for message in messages])
    print(
        f"scan 2 KB message: {seconds / len(messages) * 1000:.3f} ms each (median over {RUNS} x {len(messages)})"
    )
    body = encoded[:1_000_000].decode("utf-8", "ignore")
    print(f"scan 1 MB body: {median_seconds(lambda: scan(body)):.3f} s")


def verdicts() -> None:
    fixture = ROOT / "tests" / "fixtures" / "shield" / "lookalikes.csv"
    with fixture.open(encoding="utf-8") as handle:
        cases = [(row["kind"], row["value"]) for row in csv.DictReader(handle)]
    compiled = OfficialRegistry.from_pairs(REGISTRY)
    for label, registry in (("compiled registry", compiled), ("plain pairs", REGISTRY)):
        seconds = median_seconds(lambda registry=registry: [verify_contact(k, v, registry) for k, v in cases])
        print(
            f"verify_contact ({label}): {len(cases) / seconds:,.0f} verdicts/s over {len(cases)} labelled contacts"
        )


def main() -> None:
    machine()
    scan("warm up the wordlists: 的一是在不了有和人这中大 abandon ability able about above absent")
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
