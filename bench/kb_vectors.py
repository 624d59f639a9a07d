"""A cache of passage vectors for the benches: embedding the starter corpus takes minutes here.

    .venv/bin/python bench/kb_vectors.py   # fills the cache (only what is missing)

The cache (var/bench/kb_vectors.npz, not committed) maps dense.content_hash(passage) to its
vector; the hash includes the model id, so another model never reads these.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from walletdesk.kb import dense  # noqa: E402
from walletdesk.kb.hybrid import split_text  # noqa: E402
from walletdesk.kb.starter import load_starter_articles  # noqa: E402

CACHE = ROOT / "var" / "bench" / "kb_vectors.npz"


def starter_docs() -> list[tuple[str, str, str]]:
    """(slug, language, "title\\nsummary\\nbody") for every starter article translation."""
    return [
        (article.slug, language, f"{t.title}\n{t.summary}\n{t.body_markdown}")
        for article in load_starter_articles()
        for language, t in article.translations.items()
    ]


def load() -> dict[str, np.ndarray]:
    if not CACHE.exists():
        return {}
    with np.load(CACHE) as data:
        return {key: data[key].astype(np.float32) for key in data.files}


def vectors_for(texts: list[str], *, save: bool = True) -> dict[str, np.ndarray]:
    """Passage text -> vector, embedding (and caching) only what the cache lacks."""
    cache = load()
    missing = sorted({t for t in texts if dense.content_hash(t) not in cache})
    for start in range(0, len(missing), 32):
        chunk = missing[start : start + 32]
        for text, vector in zip(chunk, dense.embed_passages(chunk), strict=True):
            cache[dense.content_hash(text)] = vector.astype(np.float16)
        if save:
            CACHE.parent.mkdir(parents=True, exist_ok=True)
            np.savez(CACHE, **cache)  # type: ignore[arg-type]
        print(f"embedded {min(start + 32, len(missing))}/{len(missing)}", file=sys.stderr, flush=True)
    return {t: cache[dense.content_hash(t)].astype(np.float32) for t in texts}


def passages_of(docs: list[tuple[str, str, str]]) -> list[str]:
    return [p for _, _, text in docs for p in dense.article_passages(*split_text(text))]


if __name__ == "__main__":
    started = time.perf_counter()
    texts = passages_of(starter_docs())
    vectors_for(texts)
    print(f"{len(texts)} passages cached in {time.perf_counter() - started:.0f} s")
