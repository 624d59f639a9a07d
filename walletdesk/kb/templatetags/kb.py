"""Template tags other apps' templates use to embed the help centre (tickets -> kb is allowed)."""

from __future__ import annotations

from django import template

from walletdesk.kb.actions import new_deflection_id

register = template.Library()


@register.simple_tag
def kb_deflection_id() -> str:
    """A fresh id for one visit to the request form: `{% kb_deflection_id as ds %}`."""
    return new_deflection_id()


@register.inclusion_tag("kb/partials/search_box.html")
def kb_search_box(q: str = "", browse: bool = False) -> dict[str, object]:
    """The help-centre search form; `browse` adds a link to the help-centre home."""
    return {"q": q, "browse": browse}
