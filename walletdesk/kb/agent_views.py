"""The agent desk's help-centre editor: articles in both languages, publishing, troubleshooters.

Agents only (staff). Anonymous visitors are sent to sign in; signed-in customers get 403.
Every change is a POST to an action.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.core.agents import agent_required
from walletdesk.kb import actions, reports
from walletdesk.kb.actions import KbError, TroubleshooterInput
from walletdesk.kb.flow_editor import (
    FlowDetailsForm,
    attach_problems,
    graph_from_rows,
    raw_rows,
    rearrange,
    rows_from_graph,
    step_formset,
)
from walletdesk.kb.flows import FlowError, flow_problems, parse_path, walk
from walletdesk.kb.forms import ArticleForm
from walletdesk.kb.models import Article, ArticleStatus, Troubleshooter, current_language
from walletdesk.kb.present import step_context
from walletdesk.kb.starter import TICKET_CATEGORIES

View = Callable[..., HttpResponse]


def _article(slug: str) -> Article:
    found = Article.objects.select_related("category").filter(slug=slug).first()
    if found is None:
        raise Http404
    return found


def _flow(slug: str) -> Troubleshooter:
    found = Troubleshooter.objects.filter(slug=slug).first()
    if found is None:
        raise Http404
    return found


def _form_error(form: Any, exc: KbError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@agent_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.select_related("category").prefetch_related("translations")
    rows = []
    for a in articles:
        titles = {t.language: t.title for t in a.translations.all()}
        rows.append({"article": a, "en": titles.get("en", ""), "zh": titles.get("zh-hans", "")})
    now = timezone.now()
    return render(
        request,
        "kb/agent/index.html",
        {
            "rows": rows,
            "flows": Troubleshooter.objects.all(),
            "deflection": reports.deflection_rate(now - timedelta(days=30), now),
        },
    )


@agent_required
@require_http_methods(["GET", "POST"])
def article_new(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = actions.create_article(form.cleaned_data["slug"], form.to_input(), actor=request.user)
        except KbError as exc:
            _form_error(form, exc)
        else:
            flash.success(request, _("Draft saved. Publish it when it is ready."))
            return redirect("kb_agent:article_edit", slug=article.slug)
    return render(request, "kb/agent/article_form.html", {"form": form, "article": None})


@agent_required
@require_http_methods(["GET", "POST"])
def article_edit(request: HttpRequest, slug: str) -> HttpResponse:
    article = _article(slug)
    if request.method == "POST":
        form = ArticleForm(request.POST, editing=article)
        if form.is_valid():
            try:
                actions.update_article(article, form.to_input(), actor=request.user)
            except KbError as exc:
                _form_error(form, exc)
            else:
                flash.success(request, _("Article saved."))
                return redirect("kb_agent:article_edit", slug=article.slug)
    else:
        form = ArticleForm(initial=ArticleForm.initial_for(article), editing=article)
    return render(request, "kb/agent/article_form.html", {"form": form, "article": article})


@agent_required
@require_POST
def article_publish(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        actions.publish_article(_article(slug), actor=request.user)
    except KbError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Published: customers can find it now."))
    return redirect("kb_agent:article_edit", slug=slug)


@agent_required
@require_POST
def article_unpublish(request: HttpRequest, slug: str) -> HttpResponse:
    actions.unpublish_article(_article(slug), actor=request.user)
    flash.success(request, _("Unpublished: only agents can see it."))
    return redirect("kb_agent:article_edit", slug=slug)


def kb_editor_required(view: View) -> View:
    """Troubleshooter editing: an agent who also holds the kb permission to change them.

    Texts written here are shown to every customer who opens the guide, so being staff is not
    enough; an admin grants `kb.change_troubleshooter` to the agents who curate the guides.
    """

    @wraps(view)
    @agent_required
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.has_perm("kb.change_troubleshooter"):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@kb_editor_required
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    """Name a new flow; it starts from a three-step example and opens in the step editor."""
    form = FlowDetailsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            flow = actions.save_troubleshooter(
                form.cleaned_data["slug"], _details_input(form, example_graph()), actor=request.user
            )
        except KbError as exc:
            _form_error(form, exc)
        else:
            flash.success(request, _("Flow saved as a draft. Now write its steps."))
            return redirect("kb_agent:flow_edit", slug=flow.slug)
    return render(request, "kb/agent/flow_new.html", {"form": form})


def _details_input(form: FlowDetailsForm, graph: dict[str, Any]) -> TroubleshooterInput:
    d = form.cleaned_data
    return TroubleshooterInput(
        title_en=d["title_en"],
        title_zh=d["title_zh"],
        summary_en=d["summary_en"],
        summary_zh=d["summary_zh"],
        position=d["position"] or 0,
        graph=graph,
    )


def _editor(
    request: HttpRequest,
    flow: Troubleshooter,
    details: FlowDetailsForm,
    steps: Any,
    rows: list[dict[str, Any]],
    *,
    problems: list[str] | None = None,
) -> HttpResponse:
    context = {
        "flow": flow,
        "form": details,
        "steps": steps,
        "problems": problems or [],
        "preview": _preview_context(rows, "", request.POST.get("preview_lang") or current_language()),
    }
    return render(request, "kb/agent/flow_form.html", context)


@kb_editor_required
@require_http_methods(["GET", "POST"])
def flow_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The step editor. "Save" validates the whole graph and saves through the action; the
    layout buttons (add, remove, move, one more choice) only redraw the form, nothing is saved
    until "Save"."""
    flow = _flow(slug)
    if request.method != "POST":
        rows = rows_from_graph(flow.graph if isinstance(flow.graph, dict) else {})
        details = FlowDetailsForm(
            initial={
                "title_en": flow.title_en,
                "title_zh": flow.title_zh,
                "summary_en": flow.summary_en,
                "summary_zh": flow.summary_zh,
                "position": flow.position,
            },
            editing=True,
        )
        return _editor(request, flow, details, step_formset(rows), rows)

    details = FlowDetailsForm(request.POST, editing=True)
    op = request.POST.get("op", "save")
    rows = raw_rows(request.POST)
    if op != "save":
        rows = rearrange(rows, op)
        # A layout button: redraw everything as typed, unchecked and unsaved.
        typed = FlowDetailsForm(initial=request.POST.dict(), editing=True)
        return _editor(request, flow, typed, step_formset(rows), rows)

    steps = step_formset(rows, request.POST)
    problems: list[str] = []
    if details.is_valid() and steps.is_valid():
        graph = graph_from_rows([f.row() for f in steps.forms])
        found = flow_problems(
            graph,
            article_slugs=set(Article.objects.values_list("slug", flat=True)),
            ticket_categories=TICKET_CATEGORIES,
        )
        problems = attach_problems(steps, found)
        if not found:
            try:
                actions.save_troubleshooter(
                    slug, _details_input(details, graph), actor=request.user, existing=flow
                )
            except KbError as exc:
                problems = attach_problems(steps, exc.problems) if exc.problems else [exc.message]
            else:
                flash.success(request, _("Flow saved."))
                return redirect("kb_agent:flow_edit", slug=slug)
    problems = [*problems, *steps.non_form_errors()]
    if not problems:
        problems = [_("Nothing was saved: fix the steps marked below.")]
    return _editor(request, flow, details, steps, rows, problems=problems)


def _preview_context(rows: list[dict[str, Any]], path: str, language: str) -> dict[str, Any]:
    """The step the preview shows: `path` walked through the flow as typed so far (from the
    start again when the edit made the path impossible)."""
    language = "zh-hans" if language.startswith("zh") else "en"
    ui_language = "zh-hans" if language == "zh-hans" else "en"
    graph = graph_from_rows(rows)
    context: dict[str, Any] = {"language": language, "ui_language": ui_language, "step": None}
    if graph["start"] not in graph["steps"]:
        return context
    try:
        step = walk(graph, parse_path(path))
    except (FlowError, KeyError, TypeError, AttributeError):
        step = walk(graph, [])
    with translation.override(ui_language):
        context.update(step_context(graph["steps"], step, language, fresh=True))
    context["step"] = step.id
    context["path"] = ",".join(step.path)
    context["vals"] = json.dumps({"preview_path": context["path"]})
    context["back_vals"] = json.dumps({"preview_path": context["back"]})
    context["restart_vals"] = json.dumps({"preview_path": ""})
    for option in context["options"]:
        option["vals"] = json.dumps({"preview_path": option["path"]})
    return context


@kb_editor_required
@require_POST
def flow_preview(request: HttpRequest, slug: str) -> HttpResponse:
    """The live preview (htmx): the flow as typed, not saved, walked as a customer would.
    A POST because it carries the whole form; it changes nothing."""
    flow = _flow(slug)
    language = request.POST.get("preview_lang", "")
    preview = _preview_context(raw_rows(request.POST), request.POST.get("preview_path", ""), language)
    with translation.override(preview["ui_language"]):
        html = render_to_string(
            "kb/agent/_flow_preview.html", {"flow": flow, "preview": preview}, request=request
        )
    return HttpResponse(html)


@kb_editor_required
@require_POST
def flow_status(request: HttpRequest, slug: str) -> HttpResponse:
    status = request.POST.get("status", "")
    try:
        actions.set_troubleshooter_status(_flow(slug), status, actor=request.user)
    except KbError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(
            request,
            _("Published.") if status == ArticleStatus.PUBLISHED else _("Unpublished: only agents see it."),
        )
    return redirect("kb_agent:flow_edit", slug=slug)


def example_graph() -> dict[str, Any]:
    """Where a new flow starts: one question, a solved ending and a contact-support ending."""
    return {
        "start": "start",
        "steps": {
            "start": {
                "text": {"en": "What happens?", "zh-hans": "出现了什么情况？"},
                "options": [
                    {"label": {"en": "It works now", "zh-hans": "已经好了"}, "next": "solved"},
                    {"label": {"en": "Still broken", "zh-hans": "还是不行"}, "next": "ask"},
                ],
            },
            "solved": {"text": {"en": "Glad it works.", "zh-hans": "很高兴问题解决了。"}, "end": "solved"},
            "ask": {
                "text": {"en": "Send us a request.", "zh-hans": "请提交工单。"},
                "end": "request",
                "request": {"category": "other", "subject": {"en": "Need help", "zh-hans": "需要帮助"}},
            },
        },
    }
