"""Query latency and memory of help-centre search at 10k and 100k documents: as-you-type
suggestions (walletdesk.kb.search.SearchIndex, lexical) and full hybrid queries
(walletdesk.kb.hybrid: the query embedded by the real model, BM25, the vector store, the mix).

    .venv/bin/python bench/kb_latency.py [--sizes 10000 100000] [--queries 2000]
        [--hybrid-queries 300] [--embed-articles 1000]

Hybrid at 100k: embedding 100k synthetic articles would take a day here, so each synthetic
document gets ~1 vector per 160 tokens of its text (as dense.article_passages cuts it), each a
normalised mix of two real passage vectors of the starter corpus plus noise. The query side is
real (the model embeds every query), and a matrix-vector product costs the same whatever the
vectors hold. The time to embed articles is measured on real starter articles (cycled, each
text made unique), with EMBED_THREADS threads (default 1, as the app runs it).

Documents are synthesised from the starter articles so the vocabulary is realistic: each
one mixes 4-12 sentences drawn at random (seeded) from the English and Chinese versions of
all articles, in one language or both. Queries are the labelled questions of
bench/data/kb_questions.jsonl (Simplified, Traditional, English, typos, mixed), cycled.

Reported per size: build time and RSS growth (one build; tracemalloc would slow the
Python-heavy build ~2x, so memory is the process's resident-set delta plus the exact size of
the index's numpy arrays), then query p50/p99/max after a warm-up, measured in several
rounds (--rounds) over the same index; the median of the rounds is shown.
"""

from __future__ import annotations

import argparse
import gc
import random
import re
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # appended: PYTHONPATH=<a main checkout> measures main's code
sys.path.insert(0, str(ROOT / "bench"))

from kb_eval import load_questions, machine  # noqa: E402

from walletdesk.kb import dense  # noqa: E402
from walletdesk.kb.dense import MatrixStore  # noqa: E402
from walletdesk.kb.hybrid import HybridIndex  # noqa: E402
from walletdesk.kb.search import SearchIndex  # noqa: E402
from walletdesk.kb.starter import load_starter_articles  # noqa: E402

_SENTENCE_END = re.compile(r"(?<=[.!?。！？\n])\s*")


def sentences_by_language() -> dict[str, list[str]]:
    pools: dict[str, list[str]] = {}
    for article in load_starter_articles():
        for lang, translation in article.translations.items():
            text = f"{translation.title}\n{translation.summary}\n{translation.body_markdown}"
            pool = pools.setdefault(lang, [])
            pool.extend(s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) > 3)
    return pools


def synthetic_docs(count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pools = sentences_by_language()
    languages = list(pools)
    docs = []
    for number in range(count):
        chosen = rng.choice([*languages, "both"])
        pool = pools["en"] + pools["zh-hans"] if chosen == "both" else pools[chosen]
        docs.append((f"doc-{number}", "\n".join(rng.sample(pool, rng.randint(4, 12)))))
    return docs


def rss_mib() -> float:
    # Current RSS from /proc (Linux); ru_maxrss (peak) as a fallback elsewhere.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def index_array_mib(index: SearchIndex) -> float:
    postings = index._postings
    return (postings.data.nbytes + postings.indices.nbytes + postings.indptr.nbytes) / 2**20


def time_queries(index: SearchIndex, queries: list[str], n_queries: int) -> dict[str, float]:
    for query in queries[:200]:  # warm caches (stemmer, jieba, numpy) before timing
        index.search(query, k=10)
    timings = []
    cpu = []
    for i in range(n_queries):
        query = queries[i % len(queries)]
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        index.search(query, k=10)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((time.thread_time_ns() - c0) / 1e6)
    timings.sort()
    cpu.sort()
    return {
        "p50_ms": timings[len(timings) // 2],
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "max_ms": timings[-1],
        # CPU time of the searching thread: on a shared, overloaded machine wall-clock p99 is
        # mostly time spent waiting for a core; this is the work a query itself costs.
        "cpu_p50_ms": cpu[len(cpu) // 2],
        "cpu_p99_ms": cpu[int(len(cpu) * 0.99) - 1],
    }


def pss_mib() -> float:
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def synthetic_vectors(docs: list[tuple[str, str]], seed: int = 11) -> MatrixStore:
    sys.path.insert(0, str(ROOT / "bench"))
    from kb_vectors import passages_of, starter_docs, vectors_for

    pool = np.stack(list(vectors_for(passages_of(starter_docs())).values()))
    rng = np.random.default_rng(seed)
    counts = [min(dense.MAX_PASSAGES, 1 + dense.tokens(text) // dense.PASSAGE_TOKENS) for _, text in docs]
    total = sum(counts)
    picks = rng.integers(0, len(pool), size=(total, 2))
    vectors = pool[picks[:, 0]] + 0.5 * pool[picks[:, 1]] + 0.02 * rng.standard_normal((total, dense.DIM))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    items, start = [], 0
    for (doc_id, _), n in zip(docs, counts, strict=True):
        items.append((doc_id, vectors[start : start + n]))
        start += n
    return MatrixStore.build(items)


def time_hybrid(index: HybridIndex, queries: list[str], n_queries: int) -> dict[str, float]:
    for query in queries[:20]:
        index.search(query, k=10)
    timings, cpu = [], []
    for i in range(n_queries):
        t0, c0 = time.perf_counter_ns(), time.process_time_ns()
        index.search(queries[(i * 7) % len(queries)], k=10)
        timings.append((time.perf_counter_ns() - t0) / 1e6)
        cpu.append((time.process_time_ns() - c0) / 1e6)
    timings.sort()
    cpu.sort()
    return {
        "p50_ms": timings[len(timings) // 2],
        "p99_ms": timings[int(len(timings) * 0.99) - 1],
        "cpu_p50_ms": cpu[len(cpu) // 2],
    }


def time_embedding(count: int) -> None:
    articles = [
        (t.title, t.summary, t.body_markdown)
        for article in load_starter_articles()
        for t in article.translations.values()
    ]
    if count <= 0:
        return
    started, cpu, passages = time.perf_counter(), time.process_time(), 0
    for n in range(count):
        title, summary, body = articles[n % len(articles)]
        texts = dense.article_passages(f"{title} ({n})", summary, body)
        dense.embed_passages(texts)
        passages += len(texts)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        f"embedded {count} articles ({passages} passages) in {wall:.0f} s wall, {cpu:.0f} s CPU "
        f"(threads={dense._threads()}); RSS now {rss_mib():.0f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hybrid-queries", type=int, default=300)
    parser.add_argument("--embed-articles", type=int, default=1000)
    args = parser.parse_args()

    print(machine())
    rss_before, pss_before = rss_mib(), pss_mib()
    dense.embed_query("warm up")
    print(
        f"model loaded: RSS +{rss_mib() - rss_before:.0f} MiB (now {rss_mib():.0f} MiB), "
        f"PSS +{pss_mib() - pss_before:.0f} MiB (the 4-bit weights are a shared read-only mmap)"
    )
    queries = [q["q"] for q in load_questions()]
    SearchIndex.build([("warm", "warm up jieba 预热")]).search("预热")  # load jieba's dictionary once
    print(
        f"{'docs':>8}{'build s':>9}{'RSS+ MiB':>10}{'arrays MiB':>11}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'cpu p50':>9}{'cpu p99':>9}"
        f"  (query times: median of {args.rounds} rounds x {args.queries})"
    )
    for size in args.sizes:
        docs = synthetic_docs(size)
        gc.collect()
        rss_before = rss_mib()
        started = time.perf_counter()
        index = SearchIndex.build(docs)
        build_s = time.perf_counter() - started
        gc.collect()
        rss_delta = rss_mib() - rss_before
        rounds = [time_queries(index, queries, args.queries) for _ in range(args.rounds)]
        med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
        print(
            f"{size:>8}{build_s:>9.1f}{rss_delta:>10.1f}{index_array_mib(index):>11.1f}"
            f"{med['p50_ms']:>8.3f}{med['p99_ms']:>8.3f}{med['max_ms']:>8.2f}"
            f"{med['cpu_p50_ms']:>9.3f}{med['cpu_p99_ms']:>9.3f}",
            flush=True,
        )
        if args.hybrid_queries > 0:
            store = synthetic_vectors(docs)
            hybrid_index = HybridIndex(index, store, {})
            rounds_h = [time_hybrid(hybrid_index, queries, args.hybrid_queries) for _ in range(args.rounds)]
            med_h = {key: statistics.median(r[key] for r in rounds_h) for key in rounds_h[0]}
            print(
                f"{'':>8}hybrid: {store.nbytes / 2**20:.0f} MiB of vectors ({store.nbytes // (dense.DIM * 4)} "
                f"passages), p50 {med_h['p50_ms']:.1f} ms, p99 {med_h['p99_ms']:.1f} ms, "
                f"CPU p50 {med_h['cpu_p50_ms']:.1f} ms "
                f"(median of {args.rounds} rounds x {args.hybrid_queries}, model query included)",
                flush=True,
            )
            del store, hybrid_index
        del index, docs
        gc.collect()
    time_embedding(args.embed_articles)


if __name__ == "__main__":
    main()
