"""The public help centre: home, categories, articles, search, suggestions, troubleshooters.

Thin views: queries decide what a person may see, actions make every change. The only
writes on GET are the suggestion analytics (shown/opened), which change nothing a user sees.
"""

from __future__ import annotations

import hashlib
from itertools import pairwise
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from walletdesk.kb import actions, queries
from walletdesk.kb.actions import KbError
from walletdesk.kb.flows import FlowError, Step, parse_path, step_text, walk
from walletdesk.kb.models import Article, ArticleCategory, Troubleshooter, current_language
from walletdesk.kb.present import step_context

MAX_QUERY = 500
SUGGESTIONS = 5


def _partial(request: HttpRequest) -> bool:
    # htmx asks for the whole page when it restores history it did not cache.
    htmx = request.htmx  # type: ignore[attr-defined]
    return bool(htmx) and not htmx.history_restore_request


def _query(request: HttpRequest, *names: str) -> str:
    return " ".join(request.GET.get(n, "") for n in names).strip()[:MAX_QUERY]


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    language = current_language()
    return render(
        request,
        "kb/home.html",
        {
            "blocks": queries.categories_with_articles(request.user, language),
            "flows": queries.visible_troubleshooters(request.user),
        },
    )


@require_GET
def category(request: HttpRequest, slug: str) -> HttpResponse:
    found = ArticleCategory.objects.filter(slug=slug).first()
    if found is None:
        raise Http404
    articles = queries.cards(
        queries.visible_articles(request.user).filter(category=found), current_language()
    )
    return render(request, "kb/category.html", {"category": found, "articles": articles})


def _article_or_404(request: HttpRequest, slug: str) -> Article:
    article = queries.visible_articles(request.user).filter(slug=slug).first()
    if article is None:
        raise Http404
    return article


def _voter_key(request: HttpRequest) -> str:
    # A hash of the session key: one vote per browser session, and the key itself is not stored.
    if not request.session.session_key:
        request.session.save()
    return hashlib.sha256(f"kb-vote:{request.session.session_key}".encode()).hexdigest()


@require_GET
def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = _article_or_404(request, slug)
    language = current_language()
    text = queries.pick_translation(found.translations.all(), language)
    if text is None:
        raise Http404
    if request.GET.get("from") == "suggest" and found.is_published:
        actions.record_suggestion_opened(request.GET.get("ds", ""), found, language=language)
    related = queries.cards(
        queries.visible_articles(request.user).filter(pk__in=found.related.all()), language
    )
    return render(
        request,
        "kb/article.html",
        {"article": found, "text": text, "related": related, "voted": request.GET.get("voted")},
    )


@require_POST
def vote(request: HttpRequest, slug: str) -> HttpResponse:
    found = _article_or_404(request, slug)
    helpful = request.POST.get("helpful")
    if helpful not in ("yes", "no"):
        return HttpResponse(_("Answer yes or no."), status=400)
    try:
        actions.vote(
            found, helpful=helpful == "yes", voter_key=_voter_key(request), language=current_language()
        )
    except KbError as exc:
        return HttpResponse(exc.message, status=exc.status)
    if _partial(request):
        return render(request, "kb/partials/vote_thanks.html", {"helpful": helpful == "yes"})
    return redirect(f"{reverse('kb:article', args=[found.slug])}?voted={helpful}#vote")


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    q = _query(request, "q")
    results = queries.search_cards(q, current_language(), k=20, dense=True) if q else []
    template = "kb/partials/results.html" if _partial(request) else "kb/search.html"
    return render(request, template, {"q": q, "results": results})


@require_GET
def suggest(request: HttpRequest) -> HttpResponse:
    """The request form's "these articles may answer it" box, refreshed as the customer types."""
    language = current_language()
    q = _query(request, "subject", "body", "q")
    results = queries.search_cards(q, language, k=SUGGESTIONS) if q else []
    ticket_category = request.GET.get("category", "")
    if len(results) < 3 and ticket_category:
        seen = {c.slug for c in results}
        extra = queries.articles_for_ticket_category(ticket_category, language)
        results += [c for c in extra if c.slug not in seen][: SUGGESTIONS - len(results)]
    ds = request.GET.get("kb_ds", "")
    if results:
        actions.record_suggestions_shown(
            ds, list(Article.objects.filter(slug__in=[c.slug for c in results])), language=language
        )
    return render(request, "kb/partials/suggestions.html", {"results": results, "ds": ds, "q": q})


# --- troubleshooters --------------------------------------------------------------------------


def _request_link(flow: Troubleshooter, step: Step, language: str) -> str:
    """The request form, prefilled with what the customer already tried."""
    steps = flow.graph["steps"]
    lines = [_("I followed the guide “%(title)s”:") % {"title": flow.title}]
    for here, nxt in pairwise(step.path):
        option = next(o for o in steps[here].get("options", []) if o["next"] == nxt)
        lines.append(f"- {step_text(steps[here]['text'], language)} → {step_text(option['label'], language)}")
    request_spec = step.data.get("request", {})
    params = {
        "category": request_spec.get("category", ""),
        "subject": step_text(request_spec.get("subject", {}), language),
        "body": "\n".join(lines) + "\n\n",
        "troubleshooter": flow.slug,
        "path": ",".join(step.path),
    }
    return f"{reverse('portal:new')}?{urlencode(params)}"


@require_GET
def troubleshooter(request: HttpRequest, slug: str) -> HttpResponse:
    flow = queries.visible_troubleshooters(request.user).filter(slug=slug).first()
    if flow is None:
        raise Http404
    language = current_language()
    try:
        step = walk(flow.graph, parse_path(request.GET.get("path", "")))
    except (FlowError, KeyError, TypeError):
        # A stale or hand-edited path: start again rather than fail.
        step = walk(flow.graph, [])
    context = {
        "flow": flow,
        **step_context(flow.graph["steps"], step, language),
        "request_url": _request_link(flow, step, language) if step.data.get("end") == "request" else "",
    }
    template = "kb/partials/flow_step.html" if _partial(request) else "kb/troubleshooter.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
