"""The agent desk's help-centre editor: articles in both languages, publishing, troubleshooters.

Agents only (staff). Anonymous visitors are sent to sign in; signed-in customers get 403.
Every change is a POST to an action.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages as flash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from walletdesk.core.agents import agent_required
from walletdesk.kb import actions, reports
from walletdesk.kb.actions import KbError
from walletdesk.kb.forms import ArticleForm, TroubleshooterForm
from walletdesk.kb.models import Article, ArticleStatus, Troubleshooter

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


@agent_required
@require_http_methods(["GET", "POST"])
def flow_new(request: HttpRequest) -> HttpResponse:
    form = TroubleshooterForm(request.POST or None, initial={"graph": _EXAMPLE_GRAPH})
    if request.method == "POST" and form.is_valid():
        try:
            flow = actions.save_troubleshooter(form.cleaned_data["slug"], form.to_input(), actor=request.user)
        except KbError as exc:
            _form_error(form, exc)
        else:
            flash.success(request, _("Flow saved as a draft."))
            return redirect("kb_agent:flow_edit", slug=flow.slug)
    return render(request, "kb/agent/flow_form.html", {"form": form, "flow": None})


@agent_required
@require_http_methods(["GET", "POST"])
def flow_edit(request: HttpRequest, slug: str) -> HttpResponse:
    flow = _flow(slug)
    if request.method == "POST":
        form = TroubleshooterForm(request.POST, editing=True)
        if form.is_valid():
            try:
                actions.save_troubleshooter(slug, form.to_input(), actor=request.user, existing=flow)
            except KbError as exc:
                _form_error(form, exc)
            else:
                flash.success(request, _("Flow saved."))
                return redirect("kb_agent:flow_edit", slug=slug)
    else:
        form = TroubleshooterForm(
            initial={
                "title_en": flow.title_en,
                "title_zh": flow.title_zh,
                "summary_en": flow.summary_en,
                "summary_zh": flow.summary_zh,
                "position": flow.position,
                "graph": json.dumps(flow.graph, ensure_ascii=False, indent=2),
            },
            editing=True,
        )
    return render(request, "kb/agent/flow_form.html", {"form": form, "flow": flow})


@agent_required
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


_EXAMPLE_GRAPH = json.dumps(
    {
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
    },
    ensure_ascii=False,
    indent=2,
)
