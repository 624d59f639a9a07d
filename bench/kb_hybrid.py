"""Lexical vs dense vs hybrid on the starter corpus, and the tuning of the mix.

    .venv/bin/python bench/kb_hybrid.py [--tune]

Corpus: every starter article translation (bench/kb_vectors.py caches the passage vectors;
the first run embeds them, a few minutes here). Questions: bench/data/kb_questions.jsonl.
`--tune` grid-searches LEXICAL_WEIGHT, DENSE_LOW and DENSE_HIGH of walletdesk.kb.hybrid on the
questions marked "tune" only (MRR), then reports both sets with the best setting; the
constants in hybrid.py are what it printed. Out-of-scope questions (kb_eval.UNRELATED) show
how many get any hit at all.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from kb_eval import UNRELATED, load_questions, machine  # noqa: E402
from kb_vectors import passages_of, starter_docs, vectors_for  # noqa: E402

from walletdesk.kb import dense, hybrid  # noqa: E402
from walletdesk.kb.hybrid import HybridIndex  # noqa: E402

K = 10


def metrics(ranked: list[list[str]], gold: list[str]) -> tuple[float, float, float]:
    r1 = sum(1 for r, g in zip(ranked, gold, strict=True) if r[:1] == [g]) / len(gold)
    r5 = sum(1 for r, g in zip(ranked, gold, strict=True) if g in r[:5]) / len(gold)
    mrr = sum(1 / (r.index(g) + 1) for r, g in zip(ranked, gold, strict=True) if g in r[:K]) / len(gold)
    return r1, r5, mrr


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    print(machine())
    docs = starter_docs()
    index = HybridIndex.build(docs, vectors=vectors_for(passages_of(docs)))
    questions = load_questions()
    # Score every question once by both sides; the mix is then cheap to recompute.
    cached: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
    for q in [*questions, *({"q": u} for u in UNRELATED)]:
        cached[q["q"]] = index.scores(q["q"])

    def run(rank: Callable[[str], list[str]], subset: str) -> tuple[float, float, float]:
        chosen = [q for q in questions if q.get("set") == subset]
        return metrics([rank(q["q"]) for q in chosen], [q["slug"] for q in chosen])

    def lexical(q: str) -> list[str]:
        return [d for d, _ in sorted(cached[q][0].items(), key=lambda i: -i[1])][:K]

    def dense_only(q: str) -> list[str]:
        return [d for d, _ in sorted(cached[q][1].items(), key=lambda i: -i[1])][:K]

    def mixed(q: str) -> list[str]:
        return [d for d, _ in hybrid.mix(*cached[q], K, cutoff=False)]

    if args.tune:
        best: tuple[float, Any] = (-1.0, None)
        for weight, low, high in itertools.product(
            [0.2, 0.3, 0.35, 0.4, 0.5, 0.6], [0.74, 0.77, 0.80, 0.82, 0.84], [0.88, 0.90, 0.92, 0.94]
        ):
            hybrid.LEXICAL_WEIGHT, hybrid.DENSE_LOW, hybrid.DENSE_HIGH = weight, low, high
            score = run(mixed, "tune")[2]
            if score > best[0]:
                best = (score, (weight, low, high))
        print(f"best on tune (MRR {best[0]:.3f}): LEXICAL_WEIGHT, DENSE_LOW, DENSE_HIGH = {best[1]}")
        hybrid.LEXICAL_WEIGHT, hybrid.DENSE_LOW, hybrid.DENSE_HIGH = best[1]
    print(f"{len(docs)} texts, {len(index.store)} articles, model {dense.MODEL_ID}")
    print(f"{'':10}{'set':>6}{'n':>5}{'R@1':>7}{'R@5':>7}{'MRR':>7}")
    for name, rank in (("lexical", lexical), ("dense", dense_only), ("hybrid", mixed)):
        for subset in ("tune", "test"):
            n = sum(1 for q in questions if q.get("set") == subset)
            r1, r5, mrr = run(rank, subset)
            print(f"{name:10}{subset:>6}{n:>5}{r1:>7.3f}{r5:>7.3f}{mrr:>7.3f}")
    shown = sum(1 for u in UNRELATED if hybrid.mix(*cached[u], 5))
    print(f"out-of-scope questions with any hybrid hit (cut-off on): {shown}/{len(UNRELATED)}")
    best_cos = sorted(max(cached[u][1].values(), default=0.0) for u in UNRELATED)
    print("their best cosines:", " ".join(f"{c:.3f}" for c in best_cos))


if __name__ == "__main__":
    main()
