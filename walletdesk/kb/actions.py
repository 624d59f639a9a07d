"""Every change to the knowledge base, each in one transaction.

Views, the API, management commands and `tickets` (for deflection outcomes) call these;
none of them writes kb models directly. Changes to searchable content replace the index
token so every process rebuilds its search index (see walletdesk.kb.index).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from walletdesk import shield
from walletdesk.core import audit, queue
from walletdesk.kb import dense, hybrid, index
from walletdesk.kb.flows import LANGS, FlowError, Problem, validate_flow
from walletdesk.kb.models import (
    LANGUAGE_CODES,
    Article,
    ArticleCategory,
    ArticlePassage,
    ArticleStatus,
    ArticleTranslation,
    ArticleVote,
    DeflectionSession,
    IndexState,
    SuggestionEvent,
    Troubleshooter,
)
from walletdesk.kb.render import render_markdown
from walletdesk.kb.starter import TICKET_CATEGORIES

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFLECTION_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_BODY = 50_000


class KbError(Exception):
    """A change the knowledge base refuses; `field` names the input at fault, if one is."""

    def __init__(
        self,
        code: str,
        message: str,
        field: str | None = None,
        status: int = 400,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status = status
        # For a refused flow: each problem as data, so an editor can show it at its step.
        self.problems = problems or []


@dataclass(frozen=True, slots=True)
class TranslationInput:
    title: str
    summary: str
    body_markdown: str


@dataclass(frozen=True, slots=True)
class ArticleInput:
    category: str  # ArticleCategory slug
    translations: dict[str, TranslationInput]  # language -> text; at least one language
    position: int = 0
    ticket_categories: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # article slugs


@dataclass(frozen=True, slots=True)
class TroubleshooterInput:
    title_en: str
    title_zh: str
    graph: dict[str, Any]
    summary_en: str = ""
    summary_zh: str = ""
    position: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _content_changed() -> None:
    IndexState.objects.update_or_create(pk=1, defaults={"token": uuid.uuid4().hex})
    # Safe before commit: forgetting only makes this process re-read the token sooner.
    index.changed()


EMBED_ARTICLE = "walletdesk.kb.tasks.embed_article"


def _embed_later(article: Article) -> None:
    """Enqueue the embedding of `article` with this transaction (drafts too: publishing then
    needs no model run, only the `searchable` flag). Idempotent: run twice, it writes once."""
    if settings.KB_DENSE:
        queue.enqueue_named(EMBED_ARTICLE, article_id=article.pk)


# --- articles ---------------------------------------------------------------------------------


def _check_article(data: ArticleInput) -> ArticleCategory:
    category = ArticleCategory.objects.filter(slug=data.category).first()
    if category is None:
        raise KbError("unknown_category", _("Choose a category."), field="category")
    unknown = set(data.ticket_categories) - set(TICKET_CATEGORIES)
    if unknown:
        raise KbError(
            "unknown_ticket_category",
            _("Unknown ticket category: %(names)s") % {"names": ", ".join(sorted(unknown))},
            field="ticket_categories",
        )
    texts = {lang: t for lang, t in data.translations.items() if t.title.strip() or t.body_markdown.strip()}
    if not texts:
        raise KbError("no_translation", _("Write the article in at least one language."), field="title_en")
    for lang, text in texts.items():
        if lang not in LANGUAGE_CODES:
            raise KbError("unknown_language", _("Unknown language."), field="language")
        suffix = "zh" if lang == "zh-hans" else "en"
        if not text.title.strip():
            raise KbError("title_required", _("A translation needs a title."), field=f"title_{suffix}")
        if not text.body_markdown.strip():
            raise KbError("body_required", _("A translation needs a body."), field=f"body_{suffix}")
        if len(text.body_markdown) > MAX_BODY:
            raise KbError("body_too_long", _("The article is too long."), field=f"body_{suffix}")
    return category


def _write_article(article: Article, data: ArticleInput, category: ArticleCategory) -> None:
    article.category = category
    article.position = data.position
    article.ticket_categories = list(data.ticket_categories)
    article.save()
    for lang, text in data.translations.items():
        if not (text.title.strip() or text.body_markdown.strip()):
            ArticleTranslation.objects.filter(article=article, language=lang).delete()
            continue
        ArticleTranslation.objects.update_or_create(
            article=article,
            language=lang,
            defaults={
                "title": text.title.strip(),
                "summary": text.summary.strip(),
                "body_markdown": text.body_markdown,
                "body_html": render_markdown(text.body_markdown),
            },
        )
    related = Article.objects.filter(slug__in=data.related).exclude(pk=article.pk)
    article.related.set(related)


@transaction.atomic
def create_article(slug: str, data: ArticleInput, *, actor: Any = None) -> Article:
    """A new article, as a draft: nobody outside the desk sees it until it is published."""
    slug = slug.strip().lower()
    if not SLUG.match(slug) or len(slug) > 50:
        raise KbError("bad_slug", _("Use lower-case letters, digits and hyphens."), field="slug")
    if Article.objects.filter(slug=slug).exists():
        raise KbError("slug_taken", _("An article with this address already exists."), field="slug")
    category = _check_article(data)
    article = Article(slug=slug, status=ArticleStatus.DRAFT)
    _write_article(article, data, category)
    _embed_later(article)
    audit.record("kb.article_created", actor=actor, target=article)
    return article


@transaction.atomic
def update_article(article: Article, data: ArticleInput, *, actor: Any = None) -> Article:
    category = _check_article(data)
    article = Article.objects.select_for_update().get(pk=article.pk)
    _write_article(article, data, category)
    if article.is_published:
        _content_changed()
    _embed_later(article)
    audit.record("kb.article_updated", actor=actor, target=article)
    return article


@transaction.atomic
def publish_article(article: Article, *, actor: Any = None) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    if not article.translations.exists():
        raise KbError("no_translation", _("Write the article before publishing it."))
    article.status = ArticleStatus.PUBLISHED
    article.published_at = article.published_at or timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    _content_changed()
    _embed_later(article)
    audit.record("kb.article_published", actor=actor, target=article)
    return article


@transaction.atomic
def unpublish_article(article: Article, *, actor: Any = None) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.status = ArticleStatus.DRAFT
    article.save(update_fields=["status", "updated_at"])
    _content_changed()
    _embed_later(article)
    audit.record("kb.article_unpublished", actor=actor, target=article)
    return article


# --- dense vectors (walletdesk.kb.dense) ------------------------------------------------------


def _wanted_passages(article_id: int) -> tuple[bool, list[tuple[str, int, str]]] | None:
    """(published, [(language, position, text)]) as the article stands; None if it is gone."""
    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return None
    wanted = [
        (t.language, position, text)
        for t in ArticleTranslation.objects.filter(article_id=article_id).order_by("language")
        for position, text in enumerate(dense.article_passages(t.title, t.summary, t.body_markdown))
    ]
    return article.is_published, wanted


def embed_article(article_id: int) -> str:
    """Store the passages and vectors of one article (the task `kb.tasks.embed_article`).

    The model runs outside any transaction (it takes a second or more per article here); then,
    under the article's row lock, the passages are written as the article stands *then*. A
    passage whose text changed again meanwhile is skipped: the edit that changed it enqueued
    its own run. Run twice, the second run embeds nothing (every content hash matches) and
    writes nothing, so a retry after a crash or a duplicate task is harmless.
    """
    found = _wanted_passages(article_id)
    if found is None:
        return "gone"
    _published, wanted = found
    have = {
        row.content_hash: row.vector
        for row in ArticlePassage.objects.filter(article_id=article_id, model=dense.MODEL_ID)
    }
    todo = sorted({text for _, _, text in wanted if dense.content_hash(text) not in have})
    fresh = dict(zip(todo, dense.embed_passages(todo), strict=True)) if todo else {}
    vectors = {
        **{h: bytes(v) for h, v in have.items()},
        **{dense.content_hash(t): dense.to_bytes(v) for t, v in fresh.items()},
    }
    return _store_passages(article_id, vectors)


@transaction.atomic
def _store_passages(article_id: int, vectors: dict[str, bytes]) -> str:
    if not Article.objects.select_for_update().filter(pk=article_id).exists():
        return "gone"
    found = _wanted_passages(article_id)
    assert found is not None
    published, wanted = found
    existing = {
        (row.language, row.position): row for row in ArticlePassage.objects.filter(article_id=article_id)
    }
    changes = 0
    keep: set[tuple[str, int]] = set()
    for language, position, text in wanted:
        digest = dense.content_hash(text)
        row = existing.get((language, position))
        if digest not in vectors:
            if row is not None:
                keep.add((language, position))  # changed again since: its own run writes it
            continue
        keep.add((language, position))
        if row is None:
            ArticlePassage.objects.create(
                article_id=article_id,
                language=language,
                position=position,
                text=text,
                content_hash=digest,
                model=dense.MODEL_ID,
                vector=vectors[digest],
                searchable=published,
            )
            changes += 1
        elif row.content_hash != digest or row.model != dense.MODEL_ID or row.searchable != published:
            row.text, row.content_hash, row.model = text, digest, dense.MODEL_ID
            row.vector, row.searchable = vectors[digest], published
            row.save()
            changes += 1
    stale = [row.pk for key, row in existing.items() if key not in keep]
    if stale:
        ArticlePassage.objects.filter(pk__in=stale).delete()
        changes += len(stale)
    if changes:
        vectors_changed()
    return f"changed={changes}"


def vectors_changed() -> None:
    """Every process reloads the changed articles' vectors on its next hybrid search."""
    IndexState.objects.update_or_create(pk=hybrid.VECTOR_STATE, defaults={"token": uuid.uuid4().hex})
    hybrid.changed()


def articles_to_embed() -> list[int]:
    """Articles with a translation whose passages are missing, stale or of another model
    (the backfill command's list); cheap: no model run, only hashes compared."""
    out = []
    for article_id in Article.objects.order_by("pk").values_list("pk", flat=True):
        found = _wanted_passages(article_id)
        if found is None:
            continue
        published, wanted = found
        stored = {
            (r.language, r.position): (r.content_hash, r.model, r.searchable)
            for r in ArticlePassage.objects.filter(article_id=article_id)
        }
        expected = {
            (lang, pos): (dense.content_hash(text), dense.MODEL_ID, published) for lang, pos, text in wanted
        }
        if stored != expected:
            out.append(article_id)
    return out


# --- votes ------------------------------------------------------------------------------------


@transaction.atomic
def vote(article: Article, *, helpful: bool, voter_key: str, language: str) -> ArticleVote:
    """Record one voter's answer; voting again changes the answer instead of adding one."""
    if not article.is_published:
        raise KbError("not_found", _("No such article."), status=404)
    if not voter_key:
        raise KbError("no_voter", _("Voting needs a session."))
    existing = ArticleVote.objects.select_for_update().filter(article=article, voter_key=voter_key).first()
    if existing is not None:
        if existing.helpful != helpful:
            # Move one count from the old answer to the new one.
            Article.objects.filter(pk=article.pk).update(
                helpful_yes=F("helpful_yes") + (1 if helpful else -1),
                helpful_no=F("helpful_no") + (-1 if helpful else 1),
            )
            existing.helpful = helpful
            existing.save(update_fields=["helpful", "updated_at"])
        return existing
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return ArticleVote.objects.create(
        article=article, voter_key=voter_key, helpful=helpful, language=language
    )


# --- deflection -------------------------------------------------------------------------------


def new_deflection_id() -> str:
    """A random id for one visit to the request form; no row exists until something is shown."""
    return uuid.uuid4().hex


def _session(ds: str, language: str) -> DeflectionSession | None:
    if not DEFLECTION_ID.match(ds or ""):
        return None
    session, _created = DeflectionSession.objects.get_or_create(id=ds, defaults={"language": language})
    return session


def _record(session: DeflectionSession, articles: list[Article], kind: str) -> None:
    have = set(
        SuggestionEvent.objects.filter(session=session, kind=kind, article__in=articles).values_list(
            "article_id", flat=True
        )
    )
    for article in articles:
        if article.pk in have:
            continue
        try:
            with transaction.atomic():  # a concurrent duplicate only loses its own savepoint
                SuggestionEvent.objects.create(session=session, article=article, kind=kind)
        except IntegrityError:
            pass


@transaction.atomic
def record_suggestions_shown(ds: str, articles: list[Article], *, language: str) -> None:
    """Note which articles the request form suggested in this visit (once per article)."""
    if not articles:
        return
    session = _session(ds, language)
    if session is not None:
        _record(session, articles, SuggestionEvent.Kind.SHOWN)


@transaction.atomic
def record_suggestion_opened(ds: str, article: Article, *, language: str) -> None:
    session = _session(ds, language)
    if session is not None:
        _record(session, [article], SuggestionEvent.Kind.OPENED)


@transaction.atomic
def link_deflection_outcome(ds: str, ticket_reference: str) -> bool:
    """Tickets calls this when a request is filed: the visit was not deflected.

    Only visits that were shown suggestions have a row; for the others there is nothing to
    record. Returns whether a visit was marked.
    """
    if not DEFLECTION_ID.match(ds or ""):
        return False
    updated = DeflectionSession.objects.filter(id=ds, ticket_reference="").update(
        ticket_reference=ticket_reference[:32], ticket_filed_at=timezone.now()
    )
    return updated > 0


# --- troubleshooters --------------------------------------------------------------------------


def _check_flow(graph: dict[str, Any]) -> None:
    slugs = set(Article.objects.values_list("slug", flat=True))
    try:
        validate_flow(graph, article_slugs=slugs, ticket_categories=TICKET_CATEGORIES)
    except FlowError as exc:
        raise KbError("bad_flow", "; ".join(exc.problems), field="graph", problems=exc.found) from exc


def _flow_texts(graph: dict[str, Any]) -> list[tuple[str, str]]:
    """(step id, text) for every text a customer will read in the flow."""
    out: list[tuple[str, str]] = []
    for step_id, step in graph["steps"].items():
        pieces = [step.get("text"), step.get("body"), (step.get("request") or {}).get("subject")]
        pieces += [o.get("label") for o in step.get("options", [])]
        pieces += [f.get("label") for f in step.get("fixes", [])]
        for texts in pieces:
            for lang in LANGS:
                value = (texts or {}).get(lang)
                if isinstance(value, str) and value:
                    out.append((step_id, value))
    return out


def _screen_flow(graph: dict[str, Any]) -> None:
    # Operators are staff, but these texts go to every customer who opens the guide: an example
    # recovery phrase or key pasted into one would teach customers to type theirs, or leak one.
    found = [step_id for step_id, text in _flow_texts(graph) if shield.scan(text).findings]
    if found:
        raise KbError(
            "secret_in_flow",
            _("A text looks like a recovery phrase or private key; never put one in a guide."),
            field="graph",
            problems=[Problem("secret", step_id) for step_id in dict.fromkeys(found)],
        )


def _render_bodies(graph: dict[str, Any]) -> dict[str, Any]:
    """The graph with each step's `body_html` rendered from its Markdown `body` (nh3-sanitised),
    replacing whatever `body_html` came in: pages show only HTML made here."""
    steps = {}
    for step_id, step in graph["steps"].items():
        step = {k: v for k, v in step.items() if k != "body_html"}
        body = step.get("body") or {}
        if any(str(body.get(lang, "")).strip() for lang in LANGS):
            step["body_html"] = {lang: render_markdown(str(body.get(lang, ""))) for lang in LANGS}
        else:
            step.pop("body", None)
        steps[step_id] = step
    return {**graph, "steps": steps}


@transaction.atomic
def save_troubleshooter(
    slug: str, data: TroubleshooterInput, *, actor: Any = None, existing: Troubleshooter | None = None
) -> Troubleshooter:
    """Create (as a draft) or update a troubleshooter; a flow that fails validation is refused."""
    if not data.title_en.strip() or not data.title_zh.strip():
        raise KbError("title_required", _("Give the flow a title in both languages."), field="title_en")
    _check_flow(data.graph)
    _screen_flow(data.graph)
    if existing is None:
        slug = slug.strip().lower()
        if not SLUG.match(slug) or len(slug) > 50:
            raise KbError("bad_slug", _("Use lower-case letters, digits and hyphens."), field="slug")
        if Troubleshooter.objects.filter(slug=slug).exists():
            raise KbError("slug_taken", _("A flow with this address already exists."), field="slug")
        flow = Troubleshooter(slug=slug, status=ArticleStatus.DRAFT)
        before: dict[str, Any] = {}
    else:
        flow = Troubleshooter.objects.select_for_update().get(pk=existing.pk)
        before = flow.graph.get("steps", {}) if isinstance(flow.graph, dict) else {}
    flow.title_en, flow.title_zh = data.title_en.strip(), data.title_zh.strip()
    flow.summary_en, flow.summary_zh = data.summary_en.strip(), data.summary_zh.strip()
    flow.graph = _render_bodies(data.graph)
    flow.position = data.position
    flow.save()
    after = flow.graph["steps"]
    audit.record(
        "kb.troubleshooter_saved",
        actor=actor,
        target=flow,
        # Which steps the save touched, so "who changed the locked-account answer" has an answer.
        added=sorted(set(after) - set(before)),
        removed=sorted(set(before) - set(after)),
        changed=sorted(k for k in set(after) & set(before) if after[k] != before[k]),
    )
    return flow


@transaction.atomic
def set_troubleshooter_status(flow: Troubleshooter, status: str, *, actor: Any = None) -> Troubleshooter:
    if status not in ArticleStatus.values:
        raise KbError("bad_status", _("Unknown status."), field="status")
    flow = Troubleshooter.objects.select_for_update().get(pk=flow.pk)
    if status == ArticleStatus.PUBLISHED:
        _check_flow(flow.graph)  # an article it links to may have been renamed since
    flow.status = status
    flow.save(update_fields=["status", "updated_at"])
    audit.record(f"kb.troubleshooter_{status}", actor=actor, target=flow)
    return flow
