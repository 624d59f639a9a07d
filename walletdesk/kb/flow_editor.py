"""The troubleshooter editor: one form per step instead of raw JSON.

The step forms read and write *rows*: one flat dict per step, in the order the operator
arranged them (the first is where customers start). `graph_from_rows` and `rows_from_graph`
convert between rows and the stored graph (see walletdesk.kb.flows), so the graph format,
its checks and the customer's walk stay exactly as they were. `raw_rows` reads rows straight
from a POST without validating, for the live preview and for add/remove/move, which must work
on a half-finished flow.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms import formset_factory
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from walletdesk.kb.flows import MAX_STEPS, STEP_ID, Problem
from walletdesk.kb.models import Article, current_language
from walletdesk.kb.starter import TICKET_CATEGORIES

PREFIX = "steps"
MAX_CHOICES = 8
MAX_TEXT = 300
MAX_BODY = 4000
ROW_TEXT_FIELDS = (
    "id", "title_en", "title_zh", "body_en", "body_zh", "ending", "request_category",
    "subject_en", "subject_zh", "link_url", "link_en", "link_zh",
)  # fmt: skip
ENDING_CHOICES = [
    ("", _("Ask the customer (choices below)")),
    ("solved", _("Ending: solved")),
    ("request", _("Ending: contact support")),
]


def _pair(en: str, zh: str) -> dict[str, str]:
    return {"en": en.strip(), "zh-hans": zh.strip()}


def choice_count(row: dict[str, Any]) -> int:
    return sum(1 for i in range(MAX_CHOICES) if any(row.get(f"choice_{i}_{k}") for k in ("en", "zh", "next")))


# --- rows <-> graph ---------------------------------------------------------------------------


def graph_from_rows(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The stored graph for the steps as the operator arranged them; nothing is checked here
    (`flows.flow_problems` does that), so a half-finished flow still converts for the preview."""
    steps: dict[str, Any] = {}
    for row in rows:
        step: dict[str, Any] = {"text": _pair(row.get("title_en", ""), row.get("title_zh", ""))}
        if (row.get("body_en", "") + row.get("body_zh", "")).strip():
            step["body"] = _pair(row.get("body_en", ""), row.get("body_zh", ""))
        fixes: list[dict[str, Any]] = []
        if row.get("link_url", "").strip() or (row.get("link_en", "") + row.get("link_zh", "")).strip():
            fixes.append(
                {
                    "kind": "link",
                    "url": row.get("link_url", "").strip(),
                    "label": _pair(row.get("link_en", ""), row.get("link_zh", "")),
                }
            )
        fixes += [{"kind": "article", "slug": slug} for slug in row.get("articles", []) if slug]
        if fixes:
            step["fixes"] = fixes
        options = []
        for i in range(MAX_CHOICES):
            en, zh, nxt = (row.get(f"choice_{i}_{k}", "") for k in ("en", "zh", "next"))
            if en.strip() or zh.strip() or nxt:
                options.append({"label": _pair(en, zh), "next": nxt})
        if options:
            step["options"] = options
        ending = row.get("ending", "")
        if ending:
            step["end"] = ending
        if ending == "request":
            step["request"] = {
                "category": row.get("request_category", ""),
                "subject": _pair(row.get("subject_en", ""), row.get("subject_zh", "")),
            }
        # The last of two rows with one id wins here; the form refuses duplicates before saving.
        steps[row.get("id", "")] = step
    # `order` keeps the operator's arrangement: PostgreSQL's jsonb does not keep key order.
    return {"start": rows[0].get("id", "") if rows else "", "order": list(steps), "steps": steps}


def rows_from_graph(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the stored graph, the start first and the rest in their stored order."""
    steps = graph.get("steps") or {}
    start = graph.get("start")
    stored = graph.get("order")
    saved = [s for s in stored if isinstance(s, str) and s in steps] if isinstance(stored, list) else []
    rest = saved + [s for s in steps if s not in saved]
    order = ([start] if start in steps else []) + [s for s in dict.fromkeys(rest) if s != start]
    rows = []
    for step_id in order:
        step = steps[step_id]
        text, body = step.get("text") or {}, step.get("body") or {}
        row: dict[str, Any] = {
            "id": step_id,
            "title_en": text.get("en", ""),
            "title_zh": text.get("zh-hans", ""),
            "body_en": body.get("en", ""),
            "body_zh": body.get("zh-hans", ""),
            "ending": step.get("end") or "",
            "articles": [],
        }
        request = step.get("request") or {}
        subject = request.get("subject") or {}
        row.update(
            request_category=request.get("category", ""),
            subject_en=subject.get("en", ""),
            subject_zh=subject.get("zh-hans", ""),
        )
        for fix in step.get("fixes", []):
            if fix.get("kind") == "link" and "link_url" not in row:
                label = fix.get("label") or {}
                row.update(
                    link_url=fix.get("url", ""), link_en=label.get("en", ""), link_zh=label.get("zh-hans", "")
                )
            elif fix.get("kind") == "article":
                row["articles"].append(fix.get("slug", ""))
        for i, option in enumerate(step.get("options", [])[:MAX_CHOICES]):
            label = option.get("label") or {}
            row[f"choice_{i}_en"] = label.get("en", "")
            row[f"choice_{i}_zh"] = label.get("zh-hans", "")
            row[f"choice_{i}_next"] = option.get("next", "")
        rows.append(row)
    return rows


def raw_rows(data: QueryDict) -> list[dict[str, Any]]:
    """The steps as POSTed, unvalidated (lengths capped), for the preview and the layout buttons."""
    try:
        total = min(int(data.get(f"{PREFIX}-TOTAL_FORMS", "0")), MAX_STEPS)
    except ValueError:
        total = 0
    rows = []
    for n in range(max(total, 0)):

        def get(name: str, n: int = n) -> str:
            return str(data.get(f"{PREFIX}-{n}-{name}", ""))[:MAX_BODY]

        row: dict[str, Any] = {name: get(name) for name in ROW_TEXT_FIELDS}
        row["articles"] = [s[:50] for s in data.getlist(f"{PREFIX}-{n}-articles")][:20]
        for i in range(MAX_CHOICES):
            for k in ("en", "zh", "next"):
                row[f"choice_{i}_{k}"] = get(f"choice_{i}_{k}")
        try:
            row["rows"] = int(get("rows") or 0)
        except ValueError:
            row["rows"] = 0
        rows.append(row)
    return rows


def new_step_id(rows: list[dict[str, Any]]) -> str:
    taken = {r.get("id") for r in rows}
    n = len(rows) + 1
    while f"step-{n}" in taken:
        n += 1
    return f"step-{n}"


def rearrange(rows: list[dict[str, Any]], op: str) -> list[dict[str, Any]]:
    """Apply a layout button: add, remove-N, up-N, down-N, choice-N (one more choice row)."""
    rows = list(rows)
    verb, _sep, arg = op.partition("-")
    if verb == "add" and len(rows) < MAX_STEPS:
        rows.append({"id": new_step_id(rows), "rows": 2, "articles": []})
        return rows
    try:
        n = int(arg)
    except ValueError:
        return rows
    if not 0 <= n < len(rows):
        return rows
    if verb == "remove":
        del rows[n]
    elif verb == "up" and n > 0:
        rows[n - 1], rows[n] = rows[n], rows[n - 1]
    elif verb == "down" and n < len(rows) - 1:
        rows[n + 1], rows[n] = rows[n], rows[n + 1]
    elif verb == "choice":
        rows[n] = {**rows[n], "rows": max(int(rows[n].get("rows") or 0), choice_count(rows[n])) + 1}
    return rows


def step_label(row: dict[str, Any]) -> str:
    """How a step is named in the "leads to" lists: its title in the operator's language."""
    zh_first = current_language() == "zh-hans"
    first, second = ("title_zh", "title_en") if zh_first else ("title_en", "title_zh")
    title = (row.get(first) or row.get(second) or "").strip()
    return f"{title[:60]} ({row.get('id', '')})" if title else str(row.get("id", ""))


# --- the forms --------------------------------------------------------------------------------


class FlowDetailsForm(forms.Form):
    slug = forms.SlugField(label=_("Address (slug)"), max_length=50)
    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200)
    summary_en = forms.CharField(label=_("Summary (English)"), max_length=400, required=False)
    summary_zh = forms.CharField(label=_("Summary (Chinese)"), max_length=400, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, max_value=999, initial=0)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]


def _text(label: Any, *, body: bool = False) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": 3}) if body else forms.TextInput()
    return forms.CharField(
        label=label, required=False, max_length=MAX_BODY if body else MAX_TEXT, widget=widget
    )


class StepForm(forms.Form):
    """One step. Texts are optional here: the pure check (`flows.flow_problems`) says what is
    missing, worded for the operator, next to the step, in one pass over the whole flow."""

    id = forms.RegexField(regex=STEP_ID, max_length=40, widget=forms.HiddenInput)
    rows = forms.IntegerField(required=False, min_value=0, max_value=MAX_CHOICES, widget=forms.HiddenInput)
    title_en = _text(_("Question or title (English)"))
    title_zh = _text(_("Question or title (Chinese)"))
    body_en = _text(_("Explanation (English, Markdown, optional)"), body=True)
    body_zh = _text(_("Explanation (Chinese, Markdown, optional)"), body=True)
    ending = forms.ChoiceField(label=_("This step"), choices=ENDING_CHOICES, required=False)
    request_category = forms.ChoiceField(
        label=_("Request category"), choices=[("", "—"), *((c, c) for c in TICKET_CATEGORIES)], required=False
    )
    subject_en = _text(_("Request subject (English)"))
    subject_zh = _text(_("Request subject (Chinese)"))
    articles = forms.MultipleChoiceField(
        label=_("Articles to suggest"), required=False, widget=forms.SelectMultiple(attrs={"size": 4})
    )
    link_url = forms.CharField(
        label=_("Link on this site (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "/accounts/unlock/"}),
    )
    link_en = _text(_("Link label (English)"))
    link_zh = _text(_("Link label (Chinese)"))

    def __init__(
        self, *args: Any, targets: list[tuple[str, str]], articles: list[tuple[str, str]], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["articles"].choices = articles  # type: ignore[attr-defined]
        choices = [("", gettext("— choose a step —")), *targets]
        for i in range(MAX_CHOICES):
            self.fields[f"choice_{i}_en"] = _text(_("Choice (English)"))
            self.fields[f"choice_{i}_zh"] = _text(_("Choice (Chinese)"))
            self.fields[f"choice_{i}_next"] = forms.ChoiceField(
                label=_("Leads to"),
                choices=choices,
                required=False,
                error_messages={
                    "invalid_choice": _("This choice leads to a step that is not in this troubleshooter.")
                },
            )

    def choice_rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField, forms.BoundField]]:
        """The choice rows to show: the filled ones and one blank, or as many as asked for."""
        if self.is_bound:
            values = {
                f"choice_{i}_{k}": self[f"choice_{i}_{k}"].value()
                for i in range(MAX_CHOICES)
                for k in ("en", "zh", "next")
            }
            asked = self["rows"].value()
        else:
            values = {k: v for k, v in self.initial.items() if k.startswith("choice_")}
            asked = self.initial.get("rows")
        filled = choice_count(values)
        try:
            asked_n = int(asked or 0)
        except (TypeError, ValueError):
            asked_n = 0
        ending = self["ending"].value() if self.is_bound else self.initial.get("ending")
        shown = max(filled, asked_n, 0 if ending else filled + 1)
        return [
            (i + 1, self[f"choice_{i}_en"], self[f"choice_{i}_zh"], self[f"choice_{i}_next"])
            for i in range(min(shown, MAX_CHOICES))
        ]

    def row(self) -> dict[str, Any]:
        d = self.cleaned_data
        row = {name: d.get(name) or "" for name in ROW_TEXT_FIELDS}
        row["articles"] = list(d.get("articles") or [])
        for i in range(MAX_CHOICES):
            for k in ("en", "zh", "next"):
                row[f"choice_{i}_{k}"] = d.get(f"choice_{i}_{k}") or ""
        return row


class BaseStepFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        ids = [f.cleaned_data.get("id") for f in self.forms]
        if len(ids) != len(set(ids)):
            raise forms.ValidationError(gettext("Two steps have the same id; reload the page and try again."))


StepFormSet = formset_factory(
    StepForm, formset=BaseStepFormSet, extra=0, max_num=MAX_STEPS, validate_max=True, absolute_max=MAX_STEPS
)


def article_choices() -> list[tuple[str, str]]:
    zh = current_language() == "zh-hans"
    out = []
    for article in Article.objects.prefetch_related("translations").order_by("slug"):
        titles = {t.language: t.title for t in article.translations.all()}
        title = titles.get("zh-hans" if zh else "en") or next(iter(titles.values()), "")
        out.append((article.slug, f"{title} ({article.slug})" if title else article.slug))
    return out


def step_formset(
    rows: list[dict[str, Any]], data: QueryDict | None = None, articles: list[tuple[str, str]] | None = None
) -> Any:
    """A bound formset for `data`, or an unbound one showing `rows`. The "leads to" lists offer
    the steps in `rows` (for a POST, the steps as posted, so a step added in this edit can be
    linked before it is saved)."""
    kwargs = {
        "targets": [(str(r.get("id", "")), step_label(r)) for r in rows if r.get("id")],
        "articles": articles if articles is not None else article_choices(),
    }
    if data is not None:
        return StepFormSet(data, prefix=PREFIX, form_kwargs=kwargs)
    return StepFormSet(initial=rows, prefix=PREFIX, form_kwargs=kwargs)


# --- problems, worded for the operator ---------------------------------------------------------


def problem_text(problem: Problem) -> str:
    if problem.code == "no_label" and problem.fix is not None:
        return gettext("Give the link a label in both English and Chinese.")
    if problem.code == "missing_target" and not problem.detail:
        return gettext("Choose where this choice leads.")
    texts = {
        "not_a_flow": gettext("Add at least one step."),
        "too_many_steps": gettext("A troubleshooter has at most %(max)s steps.") % {"max": MAX_STEPS},
        "no_start": gettext("Add a first step: it is where customers start."),
        "bad_step_id": gettext("This step's id is not valid; reload the page."),
        "no_title": gettext("Give this step a title in both English and Chinese."),
        "body": gettext("Write the explanation in both languages, or leave both empty."),
        "no_label": gettext("Give this choice a label in both English and Chinese."),
        "missing_target": gettext(
            "This choice leads to a step that is not in this troubleshooter (%(step)s)."
        )
        % {"step": problem.detail},
        "bad_url": gettext(
            "A link must be a path on this site that starts with / (for example /accounts/unlock/)."
        ),
        "unknown_article": gettext("Unknown article: %(slug)s.") % {"slug": problem.detail},
        "request_category": gettext("A “contact support” ending needs a request category."),
        "request_subject": gettext("A “contact support” ending needs a request subject in both languages."),
        "dead_end": gettext(
            "This step has no choices, so it must be an ending: choose “solved” or “contact support”, or add a choice."
        ),
        "ending_with_options": gettext(
            "An ending cannot offer choices: remove them, or make it a normal step."
        ),
        "unreachable": gettext("No choice leads to this step, so customers can never reach it."),
        "no_way_out": gettext(
            "Customers who reach this step go round in a loop: no choice from here ever reaches an ending."
        ),
        "secret": gettext(
            "A text in this step looks like a recovery phrase or private key. Never put one in a guide."
        ),
    }
    return texts.get(problem.code, gettext("This step is not well formed."))


def _field_for(problem: Problem, row: dict[str, Any]) -> str | None:
    if problem.choice is not None:
        i = problem.choice - 1
        return f"choice_{i}_next" if problem.code == "missing_target" else f"choice_{i}_en"
    if problem.fix is not None:
        has_link = bool(row.get("link_url") or row.get("link_en") or row.get("link_zh"))
        return (
            "link_url"
            if problem.code == "bad_url"
            else ("link_en" if has_link and problem.fix == 1 else "articles")
        )
    return {
        "no_title": "title_en",
        "body": "body_en",
        "request_category": "request_category",
        "request_subject": "subject_en",
    }.get(problem.code)


def attach_problems(formset: Any, problems: list[Problem]) -> list[str]:
    """Put each problem on its step's form (on the field at fault when there is one); returns
    those that belong to no step, for the top of the page."""
    forms_by_id = {f.cleaned_data.get("id"): f for f in formset.forms if hasattr(f, "cleaned_data")}
    loose = []
    for problem in problems:
        form = forms_by_id.get(problem.step)
        if form is None:
            loose.append(problem_text(problem))
            continue
        field = _field_for(problem, form.row())
        form.add_error(field if field in form.fields else None, problem_text(problem))
    return loose
