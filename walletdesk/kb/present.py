"""One troubleshooter step as a customer sees it, shared by the public page and the editor's
preview, so the preview cannot drift from what customers get."""

from __future__ import annotations

from typing import Any

from django.utils.safestring import SafeString, mark_safe

from walletdesk.core.hant import shown
from walletdesk.kb import queries
from walletdesk.kb.flows import Step, step_text
from walletdesk.kb.render import render_markdown


def _text(texts: Any, language: str) -> str:
    return (
        shown(step_text(texts or {}, language)) if language == "zh-hans" else step_text(texts or {}, language)
    )


def body_html(step: dict[str, Any], language: str, *, fresh: bool = False) -> SafeString:
    """The step's explanation as HTML. Saved flows carry `body_html` rendered and sanitised by
    the action; the editor's preview (`fresh`) renders unsaved Markdown through the same
    renderer (markdown-it without raw HTML, then nh3)."""
    if fresh:
        html = render_markdown(step_text(step.get("body") or {}, language))
    else:
        html = step_text(step.get("body_html") or {}, language)
    # Safe: produced by render_markdown (nh3-sanitised) in the action or just above.
    return mark_safe(shown(html) if language == "zh-hans" else html)  # noqa: S308  # nosec


def step_context(steps: dict[str, Any], step: Step, language: str, *, fresh: bool = False) -> dict[str, Any]:
    """The template context for one step: text, explanation, choices (with the path each one
    walks to), fixes (published articles only) and the ending."""
    here = ",".join(step.path)
    options = [
        {"label": _text(o.get("label"), language), "path": f"{here},{o.get('next', '')}"}
        for o in step.data.get("options", [])
    ]
    fix_slugs = [f.get("slug") for f in step.data.get("fixes", []) if f.get("kind") == "article"]
    article_cards = {
        c.slug: c for c in queries.cards(queries.visible_articles().filter(slug__in=fix_slugs), language)
    }
    fixes = []
    for fix in step.data.get("fixes", []):
        if fix.get("kind") == "link":
            fixes.append(
                {"url": fix.get("url", ""), "label": _text(fix.get("label"), language), "kind": "link"}
            )
        elif fix.get("slug") in article_cards:
            c = article_cards[fix["slug"]]
            fixes.append({"url": c.url, "label": c.title, "kind": "article"})
    return {
        "step_id": step.id,
        "text": _text(step.data.get("text"), language),
        "body_html": body_html(step.data, language, fresh=fresh),
        "options": options,
        "fixes": fixes,
        "end": step.data.get("end"),
        "back": ",".join(step.path[:-1]),
        "depth": len(step.path),
        "total": len(steps),
    }
