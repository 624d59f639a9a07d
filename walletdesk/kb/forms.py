"""Agent forms for articles (troubleshooters: `flow_editor`); they shape input, the actions decide."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from walletdesk.kb.actions import ArticleInput, TranslationInput
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
