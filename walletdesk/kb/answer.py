"""The first answer: one article's own passage, offered only when retrieval is sure of it.

`first_answer(text, language)` returns a `FirstAnswer` (the article's title, link and its best
passage, quoted verbatim from the article's Markdown) or None. It never writes text of its own:
a customer reads either something we published or nothing, and then the ticket goes to an
agent as it always did.

When it stays quiet, whatever the scores say:

* the text holds a recovery phrase or private key (the shield finds one): that customer needs a
  person at once (move the funds, never share it again), not an article, and the ticket goes to
  the Security desk anyway;
* the best article is one for a stolen account or an unauthorised transaction
  (`PERSON_ONLY`): time matters, the Security desk must act (freeze, trace), and a customer who
  pressed "this solved it" after reading the recovery steps would have closed the one ticket
  that could still save their funds.

The ticket side (tickets/first_answer.py) adds the rules that need the ticket: nothing for a
ticket already on the Security desk.

Confidence is three numbers, all chosen on the tuning half of bench/data/kb_questions.jsonl and
bench/data/kb_out_of_scope.jsonl only (`bench/first_answer_eval.py --tune`): the best article's
score must reach `FIRST_ANSWER_MIN_SCORE`, beat the runner-up by `FIRST_ANSWER_MIN_MARGIN`
(the share of the best score the runner-up lacks), and use `FIRST_ANSWER_MIN_COVERAGE` of the
question's terms. All are settings so a deployment with another retriever can re-tune without
a release.

Retrieval sits behind one function, `_candidates` (kb.hybrid, or the lexical index when no
passage has vectors yet). The passage quoted is chosen from the article's own Markdown
(`best_passage`), not the dense passage, which is normalised text with the title prepended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from walletdesk import shield
from walletdesk.kb import hybrid, index
from walletdesk.kb.models import LANGUAGE_CODES, ArticleStatus, ArticleTranslation
from walletdesk.kb.search import analyse

__all__ = ["PERSON_ONLY", "FirstAnswer", "first_answer", "passages"]

# Chosen on the tuning set by bench/first_answer_eval.py --tune: among the settings with the
# best tuning coverage at tuning precision >= 0.95, the strictest. Two sets, since the scores
# differ: hybrid (kb.hybrid's mix, 0..1) when passages have stored vectors, and lexical (raw
# BM25) when none do (KB_DENSE off, or a fresh install before the embedding backfill).
HYBRID = (0.79, 0.1, 0.4)  # (min score, min margin, min coverage)
LEXICAL = (1.4, 0.5, 0.4)
# Ticket categories whose articles are never offered as the answer (see the docstring).
PERSON_ONLY = frozenset({"account_stolen", "unauthorised_tx"})
MAX_PASSAGE = 900  # characters; a longer block is not quoted (we never cut our own text)
_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class FirstAnswer:
    slug: str
    article_id: int
    language: str  # the translation quoted
    title: str
    url: str  # the article's page
    passage: str  # verbatim from the article's Markdown
    score: float
    margin: float  # 1 - runner-up / best


@dataclass(frozen=True, slots=True)
class Candidate:
    slug: str
    score: float
    language: str
    hybrid: bool = False  # scored by kb.hybrid with stored vectors (else raw BM25)


def _thresholds(hybrid: bool) -> tuple[float, float, float]:
    """(min score, min margin, min coverage) for this kind of score; settings override them
    (FIRST_ANSWER_HYBRID / FIRST_ANSWER_LEXICAL, three numbers each)."""
    name, default = ("FIRST_ANSWER_HYBRID", HYBRID) if hybrid else ("FIRST_ANSWER_LEXICAL", LEXICAL)
    score, margin, cover = getattr(settings, name, default)
    return float(score), float(margin), float(cover)


def coverage(query: str, article_text: str) -> float:
    """Share of the question's terms the article uses: a question about something we never
    wrote about ("my iPhone battery drains") shares a word or two with some article by chance."""
    wanted = set(analyse(query))
    return len(wanted & set(analyse(article_text))) / len(wanted) if wanted else 0.0


def article_text(translation: ArticleTranslation) -> str:
    return f"{translation.title}\n{translation.summary}\n{translation.body_markdown}"


def _candidates(text: str, language: str) -> list[Candidate]:
    """The retrieval the first answer trusts, best first (the one place to change scorer):
    kb.hybrid; without stored vectors its mix is BM25 divided by the best BM25 (the best is
    always 0.4), which says nothing about confidence, so then the raw lexical scores decide."""
    hits = hybrid.search(text, language, k=_CANDIDATES)
    if any(h.dense > 0.0 for h in hits):
        return [Candidate(h.slug, h.score, h.language, hybrid=True) for h in hits]
    return [Candidate(h.slug, h.score, h.language) for h in index.search(text, language, k=_CANDIDATES)]


def confidence(candidates: list[Candidate]) -> tuple[float, float]:
    """(best score, margin over the runner-up) of a candidate list; (0, 0) for none."""
    if not candidates:
        return 0.0, 0.0
    best = candidates[0].score
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    return best, (1.0 - runner_up / best) if best > 0 else 0.0


def decide(candidates: list[Candidate], min_score: float, min_margin: float) -> Candidate | None:
    """The one confident candidate, or None (pure: the bench tunes with it)."""
    best, margin = confidence(candidates)
    if not candidates or best < min_score or margin < min_margin:
        return None
    return candidates[0]


_HEADING = re.compile(r"^(#{1,6}\s+.+|\*\*[^*]+\*\*)$")


def passages(markdown: str) -> list[str]:
    """An article's passages: its blank-line separated blocks, verbatim, a heading-only block
    joined to the block after it (a heading alone answers nothing)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", markdown.strip()) if b.strip()]
    out: list[str] = []
    pending = ""
    for block in blocks:
        if _HEADING.match(block):
            pending = f"{pending}\n\n{block}".strip() if pending else block
            continue
        out.append(f"{pending}\n\n{block}" if pending else block)
        pending = ""
    return out


def best_passage(query: str, markdown: str) -> str:
    """The passage sharing the most query terms (the earlier one on a tie); "" if none does."""
    wanted = set(analyse(query))
    best, best_hits = "", 0
    for passage in passages(markdown):
        if len(passage) > MAX_PASSAGE:
            continue
        hits = len(wanted & set(analyse(passage)))
        if hits > best_hits:
            best, best_hits = passage, hits
    return best


def first_answer(text: str, language: str) -> FirstAnswer | None:
    """The passage that answers `text` with high confidence, or None (see the module's docstring)."""
    text = (text or "").strip()
    if not text or shield.scan(text).found:
        return None
    if language not in LANGUAGE_CODES:
        language = "zh-hans" if language.lower().startswith("zh") else "en"
    candidates = _candidates(text, language)
    min_score, min_margin, min_coverage = _thresholds(bool(candidates) and candidates[0].hybrid)
    chosen = decide(candidates, min_score, min_margin)
    if chosen is None:
        return None
    translation = (
        ArticleTranslation.objects.select_related("article")
        .filter(article__slug=chosen.slug, article__status=ArticleStatus.PUBLISHED, language=chosen.language)
        .first()
    )
    if translation is None or PERSON_ONLY & set(translation.article.ticket_categories or []):
        return None
    if coverage(text, article_text(translation)) < min_coverage:
        return None
    passage = best_passage(text, translation.body_markdown)
    if not passage:
        return None
    best, margin = confidence(candidates)
    return FirstAnswer(
        slug=chosen.slug,
        article_id=translation.article_id,
        language=chosen.language,
        title=translation.title,
        url=reverse("kb:article", kwargs={"slug": chosen.slug}),
        passage=passage,
        score=best,
        margin=margin,
    )
