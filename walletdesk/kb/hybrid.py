"""Hybrid help-centre search: the lexical BM25 index and dense passage vectors, mixed.

    from walletdesk.kb import hybrid
    hybrid.search("我转的币去哪了", "zh-hans", k=5)  # -> [HybridHit(slug=..., score=..., passage=...)]

Why both: BM25 (walletdesk.kb.search) is exact on our words and typos and costs ~1 ms;
the e5 model (walletdesk.kb.dense) meets customers who do not use our words ("我转的币去哪了"
for "转账显示成功但没到账"). Each finds what the other misses.

How they mix (`mix`): lexical scores are divided by the query's best lexical score (BM25 has no
absolute scale); dense cosines are mapped onto [0, 1] between DENSE_LOW and DENSE_HIGH, an
absolute scale, so an out-of-scope question ("what's the BTC price tomorrow") whose best cosine
is low stays low instead of being stretched to 1. The score is LEXICAL_WEIGHT x lexical + the
rest x dense, over the union of both candidate lists (each candidate scored by both). The
constants were tuned only on the questions marked "tune" in bench/data/kb_questions.jsonl
(bench/kb_eval.py prints both sets).

Two forms:

* `HybridIndex` is offline, on plain data (bench/kb_eval.py scores lexical vs dense vs hybrid).
* `search()` is the app's: the process-wide lexical index (walletdesk.kb.index) plus a
  process-wide `MatrixStore` of the stored, published passages (`ArticlePassage`), which
  follows changes the way the lexical index does: row 2 of `IndexState` is the vectors'
  token, replaced by the embedding task whenever it writes; a process that sees a new token
  reloads only the articles whose passages changed. The query is embedded in this process: the
  model loads on the first hybrid query (as-you-type suggestions never load it).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from walletdesk.kb import dense
from walletdesk.kb.dense import MatrixStore, article_passages
from walletdesk.kb.search import SearchIndex

__all__ = ["HybridHit", "HybridIndex", "mix", "search", "warm"]

# Tuned on the "tune" questions (bench/kb_eval.py --tune).
LEXICAL_WEIGHT = 0.4
DENSE_LOW = 0.80  # a cosine at or under this adds nothing
DENSE_HIGH = 0.92  # and one at or over this is a full match
MIN_SCORE = 0.2  # a hit under this is not shown at all
RELATIVE_CUTOFF = 0.5  # nor one under half the best hit's score
CANDIDATES = 30  # from each side, before mixing

log = logging.getLogger(__name__)


def dense_scale(cosine: float) -> float:
    return float(min(1.0, max(0.0, (cosine - DENSE_LOW) / (DENSE_HIGH - DENSE_LOW))))


def mix(
    lexical: dict[str, float], dense_scores: dict[str, float], k: int, *, cutoff: bool = True
) -> list[tuple[str, float]]:
    """Doc ids best first, from raw BM25 scores and raw cosines (either may lack a doc: 0)."""
    best_lexical = max(lexical.values(), default=0.0)
    scored: list[tuple[str, float]] = []
    for doc_id in lexical.keys() | dense_scores.keys():
        lex = lexical.get(doc_id, 0.0) / best_lexical if best_lexical > 0 else 0.0
        score = LEXICAL_WEIGHT * lex + (1 - LEXICAL_WEIGHT) * dense_scale(dense_scores.get(doc_id, 0.0))
        scored.append((doc_id, score))
    scored.sort(key=lambda item: (-item[1], item[0]))
    if cutoff and scored:
        floor = max(MIN_SCORE, scored[0][1] * RELATIVE_CUTOFF)
        scored = [item for item in scored if item[1] >= floor]
    return scored[:k]


@dataclass(frozen=True, slots=True)
class HybridHit:
    slug: str
    article_id: int
    score: float  # the mix, 0..1
    passage: str  # the article's best passage for this query, in the asked language if it has one
    lexical: float  # raw BM25 (0.0: not a lexical candidate)
    dense: float  # cosine of the best passage (0.0: no stored vectors)
    language: str  # the language of `passage`


# ---------------------------------------------------------------------------
# Offline form, on plain data
# ---------------------------------------------------------------------------


def split_text(text: str) -> tuple[str, str, str]:
    """ "title\\nsummary\\nbody" (the form kb/index.py and the benches use) into its parts."""
    title, _, rest = text.strip().partition("\n")
    summary, _, body = rest.partition("\n")
    return title, summary, body


class HybridIndex:
    """Lexical + dense over (doc_id, language, text) triples; text is "title\\nsummary\\nbody".

    A doc id may come in several languages (one article's translations): its passages are
    pooled and it scores by its best one, as in the app.
    """

    def __init__(
        self,
        lexical: SearchIndex,
        store: MatrixStore,
        passages: dict[str, list[tuple[str, str]]],
    ) -> None:
        self.lexical = lexical
        self.store = store
        self.passages = passages  # doc id -> [(language, passage text)] in store order

    @classmethod
    def build(
        cls, docs: Iterable[tuple[str, str, str]], *, vectors: dict[str, np.ndarray] | None = None
    ) -> HybridIndex:
        """`vectors`: precomputed passage vectors by passage text (a bench's cache), else embedded."""
        docs = list(docs)
        passages: dict[str, list[tuple[str, str]]] = {}
        for doc_id, language, text in docs:
            passages.setdefault(doc_id, []).extend((language, p) for p in article_passages(*split_text(text)))
        texts = sorted({p for items in passages.values() for _, p in items} - set(vectors or {}))
        known = dict(vectors or {})
        if texts:
            known.update(zip(texts, dense.embed_passages(texts), strict=True))
        store = MatrixStore.build(
            (doc_id, np.stack([known[p] for _, p in items])) for doc_id, items in passages.items()
        )
        lexical = SearchIndex.build((doc_id, text) for doc_id, _, text in docs)
        return cls(lexical, store, passages)

    def dense_search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        return [(key, score) for key, score, _ in self.store.search(dense.embed_query(query), k)]

    def lexical_search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        return self.lexical.search(query, k)

    def scores(self, query: str) -> tuple[dict[str, float], dict[str, float]]:
        """Raw BM25 and cosine of every candidate of either side (each scored by both)."""
        vector = dense.embed_query(query)
        lexical = dict(self.lexical.search(query, CANDIDATES))
        dense_scores = {key: score for key, score, _ in self.store.search(vector, CANDIDATES)}
        for doc_id in lexical.keys() - dense_scores.keys():
            dense_scores[doc_id] = float(self.store.passage_scores(doc_id, vector).max(initial=0.0))
        return lexical, dense_scores

    def search(self, query: str, k: int = 10, *, cutoff: bool = True) -> list[tuple[str, float]]:
        if not query.strip():
            return []
        lexical, dense_scores = self.scores(query)
        return mix(lexical, dense_scores, k, cutoff=cutoff)


# ---------------------------------------------------------------------------
# The app's form: process-wide, following changes
# ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Live:
    token: str
    store: MatrixStore
    row_ids: set[int]  # ArticlePassage ids in the store
    passages: dict[str, list[tuple[int, str]]]  # article id -> [(passage row id, language)]
    slugs: dict[str, str]  # article id -> slug
    ids: dict[str, str]  # slug -> article id


_lock = threading.Lock()
_live: _Live | None = None
_checked_at = 0.0
_checked_token = ""
VECTOR_STATE = 2  # IndexState row of the vectors' token (row 1 is the lexical index's)


def _check_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "KB_INDEX_CHECK_SECONDS", 2.0))


def _current_token() -> str:
    from walletdesk.kb.models import IndexState

    global _checked_at, _checked_token
    now = time.monotonic()
    if not _checked_token or now - _checked_at >= _check_seconds():
        token = IndexState.objects.filter(pk=VECTOR_STATE).values_list("token", flat=True).first()
        _checked_token = token or "none"
        _checked_at = now
    return _checked_token


def _refresh(live: _Live | None, token: str) -> _Live:
    """The store with the database's searchable passages; only changed articles are reloaded."""
    from walletdesk.kb.models import Article, ArticlePassage, ArticleStatus

    rows = list(
        ArticlePassage.objects.filter(searchable=True, model=dense.MODEL_ID).values_list(
            "id", "article_id", "language", "position"
        )
    )
    if live is None:
        live = _Live(token, MatrixStore(), set(), {}, {}, {})
    current = {row[0] for row in rows}
    changed = {str(r[1]) for r in rows if r[0] not in live.row_ids}
    changed |= {key for key, items in live.passages.items() if any(pk not in current for pk, _ in items)}
    by_article: dict[str, list[tuple[int, str, int]]] = {}
    for pk, article_id, language, position in rows:
        if str(article_id) in changed:
            by_article.setdefault(str(article_id), []).append((pk, language, position))
    vectors = dict(
        ArticlePassage.objects.filter(pk__in=[pk for items in by_article.values() for pk, _, _ in items])
        .values_list("id", "vector")
        .iterator(chunk_size=2000)
    )
    for key in changed:
        items = sorted(by_article.get(key, []), key=lambda item: (item[1], item[2]))
        if items:
            live.store.upsert(key, np.stack([dense.from_bytes(bytes(vectors[pk])) for pk, _, _ in items]))
            live.passages[key] = [(pk, language) for pk, language, _ in items]
        else:
            live.store.remove(key)
            live.passages.pop(key, None)
    live.row_ids = current
    published = Article.objects.filter(status=ArticleStatus.PUBLISHED).values_list("id", "slug")
    live.slugs = {str(pk): slug for pk, slug in published}
    live.ids = {slug: pk for pk, slug in live.slugs.items()}
    live.token = token
    return live


def _store() -> _Live:
    global _live
    token = _current_token()
    live = _live
    if live is not None and live.token == token:
        return live
    with _lock:
        if _live is None or _live.token != token:
            _live = _refresh(_live, token)
        return _live


def search(query: str, language: str, k: int = 5) -> list[HybridHit]:
    """The k best published articles for `query`, lexical and dense mixed, best first.

    Without stored vectors (a fresh install before the backfill, or KB_DENSE off) it is the
    lexical search, with `dense` 0.0.
    """
    from django.conf import settings

    from walletdesk.kb import index
    from walletdesk.kb.models import ArticlePassage, ArticleTranslation

    query = query.strip()[:2000]
    if not query or k <= 0:
        return []
    lexical_hits = index.search(query, language, CANDIDATES)
    lexical = {hit.slug: hit.score for hit in lexical_hits}
    use_dense = getattr(settings, "KB_DENSE", True)
    with _lock if use_dense else _NoLock():
        live = _store_unlocked() if use_dense else None
        vector = dense.embed_query(query) if live is not None and len(live.store) else None
        dense_by_slug: dict[str, tuple[float, int]] = {}  # slug -> (cosine, best passage row id)
        if live is not None and vector is not None:
            for key, score, position in live.store.search(vector, CANDIDATES):
                slug = live.slugs.get(key)
                if slug is not None:
                    dense_by_slug[slug] = (score, live.passages[key][position][0])
            for slug in lexical.keys() - dense_by_slug.keys():
                other = live.ids.get(slug)
                if other is not None and other in live.passages:
                    scores = live.store.passage_scores(other, vector)
                    best = int(scores.argmax())
                    dense_by_slug[slug] = (float(scores[best]), live.passages[other][best][0])
        ranked = mix(lexical, {slug: s for slug, (s, _) in dense_by_slug.items()}, k)
        # The passage to show: the best one in the asked language, when the article has one.
        shown: dict[str, int] = {}
        for slug, _ in ranked:
            found = live.ids.get(slug) if live is not None else None
            if live is not None and vector is not None and found is not None and found in live.passages:
                items = live.passages[found]
                scores = live.store.passage_scores(found, vector)
                order = [i for i in np.argsort(-scores).tolist() if items[i][1] == language] or [
                    int(scores.argmax())
                ]
                shown[slug] = items[order[0]][0]
    passages = {
        pk: (text, lang)
        for pk, text, lang in ArticlePassage.objects.filter(pk__in=shown.values()).values_list(
            "id", "text", "language"
        )
    }
    missing = [slug for slug, _ in ranked if slug not in shown]
    fallback: dict[str, tuple[int, str, str]] = {}
    if missing:
        # Not embedded yet: the title and summary stand for the passage.
        for article_id, slug, lang, title, summary in ArticleTranslation.objects.filter(
            article__slug__in=missing
        ).values_list("article_id", "article__slug", "language", "title", "summary"):
            if slug not in fallback or lang == language:
                fallback[slug] = (article_id, f"{title}\n{summary}".strip(), lang)
    hits: list[HybridHit] = []
    for slug, score in ranked:
        if slug in shown:
            text, lang = passages.get(shown[slug], ("", language))
            article_id = int(live.ids[slug]) if live is not None else 0
        elif slug in fallback:
            article_id, text, lang = fallback[slug]
        else:
            continue  # unpublished since the lexical index was built
        hits.append(
            HybridHit(
                slug=slug,
                article_id=article_id,
                score=score,
                passage=text,
                lexical=lexical.get(slug, 0.0),
                dense=dense_by_slug.get(slug, (0.0, 0))[0],
                language=lang,
            )
        )
    return hits


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _store_unlocked() -> _Live:
    """`_store()` for a caller that holds `_lock` (searches hold it: the store is not
    safe to read while another thread applies changes to it)."""
    global _live
    token = _current_token()
    if _live is None or _live.token != token:
        _live = _refresh(_live, token)
    return _live


def warm() -> None:
    """Load the stored vectors at start (a core.warmup step); the model itself loads on the
    first hybrid query, so a process that only serves suggestions never holds it."""
    from django.conf import settings

    if not getattr(settings, "KB_DENSE", True):
        return
    started = time.monotonic()
    live = _store()
    log.info("kb vectors warmed: %d articles in %.2f s", len(live.store), time.monotonic() - started)


def changed() -> None:
    """The embedding task wrote vectors: re-read the token on this process's next search."""
    global _checked_at, _checked_token
    _checked_at = 0.0
    _checked_token = ""


def forget() -> None:
    global _live
    changed()
    _live = None
