"""Triage classifier against the hand-labelled messages; prints accuracy and speed.

Run alone: ``.venv/bin/python bench/triage_eval.py [--errors] [--data PATH] [--rules PATH]``

The labelled messages carry a ``split`` saying where they came from, because the figures
on messages the rules were tuned on overstate what to expect on new tickets:

- ``dev_a`` (161): written first; the default rules were then written with them in view.
- ``dev_b`` (70): written after that, as a held-out set: 0.671 category accuracy on first
  run; the rules were then widened with general synonyms.
- ``dev_c`` (70): written with those rules frozen, again held out: 0.757 on first run; the
  rules were then widened again.

So all three are now tuned-on and score high; expect roughly 0.7-0.8 on unseen phrasing.
To measure that again, add new messages with ``"split": "holdout"`` *before* touching the
rules and read that split's figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runnable from anywhere without installing the project

from walletdesk.tickets.triage import (  # noqa: E402
    CATEGORIES,
    CompiledRules,
    TriageResult,
    classify,
    compile_rules,
    load_default_rules,
    rules_from_dicts,
)

DEFAULT_DATA = ROOT / "bench" / "data" / "triage_labelled.jsonl"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_labelled(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def report(title: str, subset: list[dict[str, str]], compiled: CompiledRules, *, show_errors: bool) -> None:
    print(f"\n=== {title} ===")
    results: list[TriageResult] = [classify(r["text"], compiled) for r in subset]
    gold = [r["category"] for r in subset]
    guess = [res.category for res in results]

    correct = sum(g == p for g, p in zip(gold, guess, strict=True))
    prio_correct = sum(r["priority"] == res.priority for r, res in zip(subset, results, strict=True))
    print(f"category accuracy: {correct / len(subset):.3f} ({correct}/{len(subset)})")
    print(f"priority accuracy: {prio_correct / len(subset):.3f} ({prio_correct}/{len(subset)})")
    urgent_gold = [r["priority"] == "urgent" for r in subset]
    urgent_hit = sum(u and res.priority == "urgent" for u, res in zip(urgent_gold, results, strict=True))
    print(f"urgent recall:     {urgent_hit / max(1, sum(urgent_gold)):.3f} ({urgent_hit}/{sum(urgent_gold)})")

    print(f"\n{'category':<17}{'precision':>10}{'recall':>8}{'f1':>7}{'n':>5}")
    for cat in CATEGORIES:
        tp = sum(g == cat and p == cat for g, p in zip(gold, guess, strict=True))
        n_pred, n_gold = guess.count(cat), gold.count(cat)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        print(f"{cat:<17}{precision:>10.3f}{recall:>8.3f}{f1:>7.3f}{n_gold:>5}")

    confusions = Counter((g, p) for g, p in zip(gold, guess, strict=True) if g != p)
    print("\nconfusions (labelled -> predicted: count):")
    for (g, p), n in confusions.most_common():
        print(f"  {g} -> {p}: {n}")
    if not confusions:
        print("  none")

    if show_errors:
        print("\nmisclassified:")
        for row, res in zip(subset, results, strict=True):
            if row["category"] != res.category or row["priority"] != res.priority:
                print(
                    f"  [{row['category']}/{row['priority']} -> {res.category}/{res.priority}"
                    f" {res.score:g} {list(res.matched)}] {row['text']}"
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--rules", type=Path, help="a rules JSON file instead of the shipped defaults")
    parser.add_argument("--errors", action="store_true", help="list every misclassified message")
    args = parser.parse_args()

    rules = (
        rules_from_dicts(json.loads(args.rules.read_text(encoding="utf-8")))
        if args.rules
        else load_default_rules()
    )
    compiled = compile_rules(rules)
    rows = load_labelled(args.data)

    print(f"machine: {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}")
    print(f"data: {args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data}")
    print(f"      {len(rows)} messages, {len(rules)} rules")
    print(f"      by category: {dict(Counter(r['category'] for r in rows))}")

    # Per split (see the module docstring for what each one is), then all together.
    splits = sorted({r.get("split", "all") for r in rows})
    for split in (*splits, "all") if len(splits) > 1 else splits:
        subset = [r for r in rows if split == "all" or r.get("split", "all") == split]
        report(f"{split} ({len(subset)} messages)", subset, compiled, show_errors=args.errors)

    # Speed: the whole set, repeated for about a second, on precompiled rules.
    texts = [r["text"] for r in rows]
    n, began = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - began) < 1.0:
        for t in texts:
            classify(t, compiled)
        n += len(texts)
    print(f"\nspeed: {n / elapsed:,.0f} classifications/s (single thread, precompiled rules)")
    began = time.perf_counter()
    for t in texts:
        classify(t, rules)  # plain rule list: compiled once, then served from the cache
    elapsed = time.perf_counter() - began
    print(f"       {len(texts) / elapsed:,.0f} classifications/s passing the plain rule list")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
