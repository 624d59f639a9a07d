"""Agent forms for articles and troubleshooters; they shape input, the actions decide."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from walletdesk.kb.actions import ArticleInput, TranslationInput, TroubleshooterInput
from walletdesk.kb.models import Article, ArticleCategory
from walletdesk.kb.starter import TICKET_CATEGORIES

_BODY = forms.Textarea(attrs={"rows": 14})


class ArticleForm(forms.Form):
    slug = forms.SlugField(label=_("Address (slug)"), max_length=50, help_text=_("e.g. account-locked"))
    category = forms.ModelChoiceField(
        queryset=ArticleCategory.objects.all(),
        to_field_name="slug",
        label=_("Category"),
        empty_label=_("Choose a category"),
    )
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=999, initial=0)
    ticket_categories = forms.MultipleChoiceField(
        label=_("Suggest for request categories"),
        choices=[(c, c) for c in TICKET_CATEGORIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    related = forms.ModelMultipleChoiceField(
        queryset=Article.objects.all(), to_field_name="slug", required=False, label=_("Related articles")
    )
    title_en = forms.CharField(label=_("Title (English)"), max_length=200, required=False)
    summary_en = forms.CharField(label=_("Summary (English)"), max_length=400, required=False)
    body_en = forms.CharField(label=_("Body (English, Markdown)"), required=False, widget=_BODY)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    summary_zh = forms.CharField(label=_("Summary (Chinese)"), max_length=400, required=False)
    body_zh = forms.CharField(label=_("Body (Chinese, Markdown)"), required=False, widget=_BODY)

    def __init__(self, *args: Any, editing: Article | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].label_from_instance = lambda c: f"{c.name_en} / {c.name_zh}"  # type: ignore[attr-defined]
        if editing is not None:
            del self.fields["slug"]
            self.fields["related"].queryset = Article.objects.exclude(pk=editing.pk)  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(article: Article) -> dict[str, Any]:
        data: dict[str, Any] = {
            "category": article.category,
            "position": article.position,
            "ticket_categories": article.ticket_categories,
            "related": list(article.related.all()),
        }
        for t in article.translations.all():
            suffix = "zh" if t.language == "zh-hans" else "en"
            data.update(
                {
                    f"title_{suffix}": t.title,
                    f"summary_{suffix}": t.summary,
                    f"body_{suffix}": t.body_markdown,
                }
            )
        return data

    def to_input(self) -> ArticleInput:
        d = self.cleaned_data
        return ArticleInput(
            category=d["category"].slug,
            position=d["position"] or 0,
            ticket_categories=tuple(d["ticket_categories"]),
            related=tuple(a.slug for a in d["related"]),
            translations={
                lang: TranslationInput(d[f"title_{s}"], d[f"summary_{s}"], d[f"body_{s}"])
                for lang, s in (("en", "en"), ("zh-hans", "zh"))
            },
        )


class TroubleshooterForm(forms.Form):
    slug = forms.SlugField(label=_("Address (slug)"), max_length=50)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    summary_en = forms.CharField(label=_("Summary (English)"), max_length=400, required=False)
    summary_zh = forms.CharField(label=_("Summary (Chinese)"), max_length=400, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=999, initial=0)
    graph = forms.CharField(
        label=_("Steps (JSON)"),
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "mono"}),
        help_text=_(
            "Each step has text in en and zh-hans, options leading to other steps, and fixes or an end."
        ),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]

    def clean_graph(self) -> dict[str, Any]:
        try:
            graph = json.loads(self.cleaned_data["graph"])
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(graph, dict):
            raise forms.ValidationError(_("The steps must be a JSON object."))
        return graph

    def to_input(self) -> TroubleshooterInput:
        d = self.cleaned_data
        return TroubleshooterInput(
            title_en=d["title_en"],
            title_zh=d["title_zh"],
            summary_en=d["summary_en"],
            summary_zh=d["summary_zh"],
            position=d["position"] or 0,
            graph=d["graph"],
        )
