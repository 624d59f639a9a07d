"""Retrieval quality of walletdesk.kb.search.SearchIndex against plain BM25 baselines.

    .venv/bin/python bench/kb_eval.py [--ablations] [--misses]

Corpus: every starter article (walletdesk/kb/content), one text per language
(title + summary + body), doc id = slug, so a hit on either language counts for the slug.
Questions: bench/data/kb_questions.jsonl, {"q", "lang", "slug"[, "typo"]}, written as
users write (Simplified, Traditional, English with and without typos, mixed).

Baselines (bm25s, Lucene BM25, same k1/b as ours, no stop words, no synonyms, no
Traditional->Simplified, no typo handling):
  * bm25-jieba: lower-case, then plain `jieba.lcut` over the whole text (jieba splits
    English on spaces and punctuation itself); tokens without a letter/digit/CJK dropped.
  * bm25-char: lower-case; English words split on non-alphanumerics; Chinese as single
    characters (the usual segmentation-free Chinese baseline).

Metrics, per language and overall: recall@1 and recall@5 (the labelled slug is the first
hit / among the first five) and MRR over the first 10 hits.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bm25s
import jieba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from walletdesk.kb import search  # noqa: E402
from walletdesk.kb.search import SearchIndex  # noqa: E402
from walletdesk.kb.starter import load_starter_articles  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "kb_questions.jsonl"
K = 10
Ranker = Callable[[str], list[str]]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # Load average matters for tail latency on a 2-core box shared with other work.
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    python = f"{platform.python_version()} ({sys.platform})"
    return f"nproc={os.cpu_count()} cpu={cpu!r} python={python} loadavg={load}"


def corpus() -> list[tuple[str, str]]:
    docs = []
    for article in load_starter_articles():
        for translation in article.translations.values():
            text = f"{translation.title}\n{translation.summary}\n{translation.body_markdown}"
            docs.append((article.slug, text))
    return docs


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


# ---------------------------------------------------------------------------
# Baselines
# ---------------------------------------------------------------------------

_WORDLIKE = re.compile(r"[0-9a-z\u4e00-\u9fff]")
_CHAR_TOKENS = re.compile(r"[0-9a-z]+|[\u4e00-\u9fff]")


def jieba_tokens(text: str) -> list[str]:
    return [t for t in jieba.lcut(text.lower()) if _WORDLIKE.search(t)]


def char_tokens(text: str) -> list[str]:
    return _CHAR_TOKENS.findall(text.lower())


def bm25_baseline(docs: list[tuple[str, str]], tokenise: Callable[[str], list[str]]) -> Ranker:
    ids = [doc_id for doc_id, _ in docs]
    retriever = bm25s.BM25(method="lucene")
    retriever.index([tokenise(text) for _, text in docs], show_progress=False)

    def rank(query: str) -> list[str]:
        tokens = [t for t in tokenise(query) if t in retriever.vocab_dict]
        if not tokens:
            return []
        scores = retriever.get_scores(tokens)
        ranked: list[str] = []
        for row in np.argsort(-scores, kind="stable"):
            if scores[row] <= 0:
                break
            if ids[row] not in ranked:
                ranked.append(ids[row])
            if len(ranked) == K:
                break
        return ranked

    return rank


def ours(docs: list[tuple[str, str]], cutoff: bool = True) -> Ranker:
    index = SearchIndex.build(docs)
    return lambda query: [doc_id for doc_id, _ in index.search(query, k=K, cutoff=cutoff)]


# Questions no starter article answers: with the cut-off they should list nothing.
UNRELATED = (
    "how do I bake a chocolate cake",
    "weather in paris tomorrow",
    "football world cup score",
    "best pizza near me",
    "book a flight to tokyo",
    "天气预报明天下雨吗",
    "附近有什么好吃的餐厅",
    "推荐一本好书",
)


def print_result_counts(docs: list[tuple[str, str]], questions: list[dict[str, Any]]) -> None:
    """How many articles a results page (k=20) lists, with and without the relevance cut-off."""
    index = SearchIndex.build(docs)
    for cutoff in (False, True):
        counts = sorted(len(index.search(q["q"], k=20, cutoff=cutoff)) for q in questions)
        unrelated = sum(1 for q in UNRELATED if index.search(q, k=20, cutoff=cutoff))
        print(
            f"cut-off {'on ' if cutoff else 'off'}: articles listed per labelled question "
            f"median {counts[len(counts) // 2]}, p90 {counts[int(len(counts) * 0.9)]}, "
            f"none {counts.count(0)}; unrelated questions with any hit {unrelated}/{len(UNRELATED)}"
        )
    print()


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def evaluate(rank: Ranker, questions: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for question in questions:
        ranked = rank(question["q"])
        position = ranked.index(question["slug"]) + 1 if question["slug"] in ranked else 0
        hit = (float(position == 1), float(0 < position <= 5), 1.0 / position if position else 0.0)
        keys = ["all", question["lang"]] + (["typo"] if question.get("typo") else [])
        for key in keys:
            groups.setdefault(key, []).append(hit)
    return {
        key: {
            "n": len(hits),
            "r@1": sum(h[0] for h in hits) / len(hits),
            "r@5": sum(h[1] for h in hits) / len(hits),
            "mrr": sum(h[2] for h in hits) / len(hits),
        }
        for key, hits in groups.items()
    }


GROUP_ORDER = ["all", "zh-hans", "zh-hant", "en", "mixed", "typo"]


def print_table(results: dict[str, dict[str, dict[str, float]]]) -> None:
    print(f"{'ranker':<26}{'group':<9}{'n':>5}{'r@1':>8}{'r@5':>8}{'MRR':>8}")
    for name, by_group in results.items():
        for group in GROUP_ORDER:
            if group in by_group:
                m = by_group[group]
                print(f"{name:<26}{group:<9}{m['n']:>5.0f}{m['r@1']:>8.3f}{m['r@5']:>8.3f}{m['mrr']:>8.3f}")
        print()


# ---------------------------------------------------------------------------
# Ablations: switch one idea off at a time, measured against the full engine
# ---------------------------------------------------------------------------


@contextmanager
def patched(**overrides: Any) -> Iterator[None]:
    saved = {name: getattr(search, name) for name in overrides}
    try:
        for name, value in overrides.items():
            setattr(search, name, value)
        search._concept_matcher.cache_clear()
        yield
    finally:
        for name, value in saved.items():
            setattr(search, name, value)
        search._concept_matcher.cache_clear()


def no_typo_correction(self: SearchIndex, word: str) -> str | None:
    return None


ABLATIONS: dict[str, dict[str, Any]] = {
    "- synonyms": {"SYNONYM_GROUPS": {}},
    "- title boost": {"TITLE_REPEAT": 1},
    "- typo correction": {},  # patched on the class below
    "- t2s": {"_to_simplified": lambda text: text},
    "- stop words": {"ENGLISH_STOP_WORDS": frozenset(), "CHINESE_STOP_WORDS": frozenset()},
    "- stemming": {"_stem": lambda word: word},
    "synonym weight 0.6": {"CONCEPT_WEIGHT": 0.6},
    "synonym weight 1.0": {"CONCEPT_WEIGHT": 1.0},
    "title repeat 2": {"TITLE_REPEAT": 2},
}


def run_ablations(docs: list[tuple[str, str]], questions: list[dict[str, Any]]) -> None:
    results = {}
    for name, overrides in ABLATIONS.items():
        with patched(**overrides):
            original = SearchIndex._correct
            if name == "- typo correction":
                SearchIndex._correct = no_typo_correction  # type: ignore[method-assign]
            try:
                results[name] = {"all": evaluate(ours(docs), questions)["all"]}
            finally:
                SearchIndex._correct = original  # type: ignore[method-assign]
    print("Ablations (overall):")
    print_table(results)


def print_misses(rank: Ranker, questions: list[dict[str, Any]]) -> None:
    print("Misses at @1 (ours):")
    for question in questions:
        ranked = rank(question["q"])
        if not ranked or ranked[0] != question["slug"]:
            print(f"  {question['q']!r:50} want {question['slug']:<28} got {ranked[:3]}")


def public_sets_note() -> None:
    print(
        "Public Chinese question-matching sets (LCQMC, AFQMC, BQ corpus): no PyPI package in the\n"
        "registry list ships one inside its wheel (C-MTEB and the like download from a hub at\n"
        "run time, which this environment forbids), so none was run. Evaluated on the\n"
        "labelled walletdesk set only.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ablations", action="store_true", help="also switch off one idea at a time")
    parser.add_argument("--misses", action="store_true", help="list the questions ours misses at @1")
    args = parser.parse_args()

    jieba.setLogLevel(logging.WARNING)
    print(machine())
    docs = corpus()
    questions = load_questions()
    print(f"corpus: {len(docs)} texts, {len({d for d, _ in docs})} articles; questions: {len(questions)}\n")
    public_sets_note()

    ours_rank = ours(docs)
    results = {
        "walletdesk SearchIndex": evaluate(ours_rank, questions),
        "walletdesk, no cut-off": evaluate(ours(docs, cutoff=False), questions),
        "baseline bm25-jieba": evaluate(bm25_baseline(docs, jieba_tokens), questions),
        "baseline bm25-char": evaluate(bm25_baseline(docs, char_tokens), questions),
    }
    print_table(results)
    print_result_counts(docs, questions)
    if args.ablations:
        run_ablations(docs, questions)
    if args.misses:
        print_misses(ours_rank, questions)


if __name__ == "__main__":
    main()
