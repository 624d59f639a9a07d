"""Help-centre articles (zh and en), votes, deflection tracking and guided troubleshooters.

Every write goes through `walletdesk.kb.actions`; these classes only describe the tables.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from walletdesk.core.hant import shown

LANGUAGE_CHOICES = [("en", "English"), ("zh-hans", "简体中文")]
LANGUAGE_CODES: tuple[str, ...] = ("en", "zh-hans")


def current_language() -> str:
    """The request's language as one of our two translation codes."""
    return "zh-hans" if (get_language() or "").lower().startswith("zh") else "en"


def other_language(language: str) -> str:
    return "en" if language == "zh-hans" else "zh-hans"


class ArticleCategory(models.Model):
    slug = models.SlugField(unique=True)
    name_en = models.CharField(max_length=100)
    name_zh = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "article categories"

    def __str__(self) -> str:
        return self.name_en

    @property
    def name(self) -> str:
        return shown(self.name_zh) if current_language() == "zh-hans" else self.name_en


class ArticleStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")


class Article(models.Model):
    slug = models.SlugField(unique=True)
    category = models.ForeignKey(ArticleCategory, on_delete=models.PROTECT, related_name="articles")
    status = models.CharField(max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    position = models.PositiveSmallIntegerField(default=0)
    related = models.ManyToManyField("self", blank=True, symmetrical=False)
    # Ticket category slugs (tickets.Category.slug) this article answers; kb must not import
    # tickets, so the link is by slug, checked against walletdesk.kb.starter.TICKET_CATEGORIES.
    ticket_categories = models.JSONField(default=list, blank=True)
    # Counters for cheap display; ArticleVote keeps who voted what, so these can be recounted.
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["category__position", "position", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticleTranslation(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=400, blank=True)
    body_markdown = models.TextField()
    # Rendered and sanitised (nh3) by the actions when the Markdown changes; shown as is.
    body_html = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article_id", "language"]
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="kb_one_translation_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.language} {self.title}"


class ArticleVote(models.Model):
    """One "was this helpful?" answer per voter (a hash of their session) per article."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    voter_key = models.CharField(max_length=64)
    helpful = models.BooleanField()
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "voter_key"], name="kb_one_vote_per_voter")]

    def __str__(self) -> str:
        return f"{self.article_id}: {'yes' if self.helpful else 'no'}"


class IndexState(models.Model):
    """The one row whose token changes whenever searchable content changes.

    A random token rather than a counter: a counter can repeat after a rollback (and does in
    tests), which would make a process keep an index built from content that never committed.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=32, default="initial")
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.token


class DeflectionSession(models.Model):
    """One visit to the request form, identified by a random id the form carries.

    No query text is stored: customers type secrets into that box, and kb does not run the
    shield. Only which articles were shown/opened and whether a ticket followed.
    """

    id = models.CharField(max_length=32, primary_key=True)
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES, default="en")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    ticket_reference = models.CharField(max_length=32, blank=True)
    ticket_filed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.id


class SuggestionEvent(models.Model):
    class Kind(models.TextChoices):
        SHOWN = "shown", _("Shown")
        OPENED = "opened", _("Opened")

    session = models.ForeignKey(DeflectionSession, on_delete=models.CASCADE, related_name="events")
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "article", "kind"], name="kb_one_event_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.session_id} {self.kind} {self.article_id}"


class Troubleshooter(models.Model):
    """A guided flow: a graph of steps (see walletdesk.kb.flows for its shape and the checks)."""

    slug = models.SlugField(unique=True)
    title_en = models.CharField(max_length=200)
    title_zh = models.CharField(max_length=200)
    summary_en = models.CharField(max_length=400, blank=True)
    summary_zh = models.CharField(max_length=400, blank=True)
    graph = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT)
    position = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return shown(self.title_zh) if current_language() == "zh-hans" else self.title_en

    @property
    def summary(self) -> str:
        return shown(self.summary_zh) if current_language() == "zh-hans" else self.summary_en

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED


class ArticlePassage(models.Model):
    """One passage of one translation of an article, with its dense vector (walletdesk.kb.dense).

    Written only by the embedding task (actions.embed_article), off the request path, for
    drafts too, so publishing needs no model run. `searchable` (published) decides what the
    in-process index loads. A passage whose `content_hash` is unchanged keeps its vector.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="passages")
    language = models.CharField(max_length=8, choices=LANGUAGE_CHOICES)
    position = models.PositiveSmallIntegerField()
    text = models.TextField()
    content_hash = models.CharField(max_length=32)
    model = models.CharField(max_length=64)
    vector = models.BinaryField()  # float16, little-endian, dense.DIM values
    searchable = models.BooleanField(default=False)
    embedded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article_id", "language", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "language", "position"], name="kb_one_passage_per_position"
            )
        ]
        indexes = [models.Index(fields=["searchable", "model"], name="kb_passage_live_idx")]

    def __str__(self) -> str:
        return f"{self.article_id}:{self.language}:{self.position}"
