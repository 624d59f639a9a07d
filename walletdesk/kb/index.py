"""The process-wide search index over published articles, rebuilt when content changes.

Every process keeps one SearchIndex per language in memory. The `IndexState` row holds a
random token that the actions replace whenever searchable content changes; a process
compares its token with the database at most every `KB_INDEX_CHECK_SECONDS` (one primary-key
read) and rebuilds lazily, on the next search, when they differ. No restart, no signal
between processes, and it works the same with one SQLite process or many PostgreSQL ones.

The process that made the change forgets its check time (see `changed`), so it sees its own
edit at once; other processes see it within the check interval.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings

from walletdesk.kb.models import LANGUAGE_CODES, ArticleStatus, ArticleTranslation, IndexState, other_language
from walletdesk.kb.search import RELATIVE_CUTOFF, SearchIndex

__all__ = ["Hit", "changed", "forget", "search", "warm"]


@dataclass(frozen=True, slots=True)
class Hit:
    slug: str
    score: float
    language: str  # the index that found it


@dataclass(slots=True)
class _Built:
    token: str
    indexes: dict[str, SearchIndex]


log = logging.getLogger(__name__)

_lock = threading.Lock()
_built: _Built | None = None
_checked_at = 0.0
_checked_token = ""


def _check_seconds() -> float:
    return float(getattr(settings, "KB_INDEX_CHECK_SECONDS", 2.0))


def _current_token() -> str:
    """The database token, read at most once per check interval by this process."""
    global _checked_at, _checked_token
    now = time.monotonic()
    if not _checked_token or now - _checked_at >= _check_seconds():
        _checked_token = IndexState.objects.filter(pk=1).values_list("token", flat=True).first() or "none"
        _checked_at = now
    return _checked_token


def _build(token: str) -> _Built:
    # Read the token before the rows (the caller did): an edit that commits in between leaves
    # us with newer rows under an older token, so the next check simply rebuilds again.
    docs: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGUAGE_CODES}
    rows = ArticleTranslation.objects.filter(article__status=ArticleStatus.PUBLISHED).values_list(
        "article__slug", "language", "title", "summary", "body_markdown"
    )
    for slug, language, title, summary, body in rows:
        # Title first: SearchIndex weights the first line as the title.
        docs.setdefault(language, []).append((slug, f"{title}\n{summary}\n{body}"))
    return _Built(token=token, indexes={lang: SearchIndex.build(d) for lang, d in docs.items()})


def _indexes() -> dict[str, SearchIndex]:
    global _built
    token = _current_token()
    built = _built
    if built is not None and built.token == token:
        return built.indexes
    with _lock:
        if _built is None or _built.token != token:
            _built = _build(token)
        return _built.indexes


def search(query: str, language: str, k: int = 10) -> list[Hit]:
    """Best published articles for `query`: the user's language first, then the other one.

    The other language only fills places the first left empty, so an English question typed
    on the Chinese site still finds English-only matches without reordering Chinese hits.
    """
    if language not in LANGUAGE_CODES:
        language = "en"
    indexes = _indexes()
    hits = [Hit(slug, score, language) for slug, score in indexes[language].search(query, k)]
    if len(hits) < k:
        seen = {h.slug for h in hits}
        # The same relevance cut-off across both: a fallback hit far weaker than the best
        # hit in the user's language is noise (the two indexes score on similar scales).
        floor = hits[0].score * RELATIVE_CUTOFF if hits else 0.0
        fallback = other_language(language)
        for slug, score in indexes[fallback].search(query, k):
            if slug not in seen and len(hits) < k and score >= floor:
                hits.append(Hit(slug, score, fallback))
    return hits


def warm() -> None:
    """Build this process's indexes (and so load jieba) now, not on the first search.

    A core.warmup step: the first search after start took ~4 s on a small machine.
    """
    started = time.monotonic()
    sizes = {lang: len(index) for lang, index in _indexes().items()}
    for index in _indexes().values():
        index.search("密码 password")  # the query path's own lazy parts (jieba's HMM, the stemmer)
    log.info("kb index warmed: %s articles in %.2f s", sizes, time.monotonic() - started)


def changed() -> None:
    """Called by the actions after writing a new token: re-read it on this process's next search."""
    global _checked_at, _checked_token
    _checked_at = 0.0
    _checked_token = ""


def forget() -> None:
    """Drop the built index (tests; a test database can roll a token back)."""
    global _built
    changed()
    _built = None
