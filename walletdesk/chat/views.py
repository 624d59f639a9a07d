"""The customer's chat pages: the help centre's chat page and the wallet app's webview page.

Both only host the widget (static/walletdesk/chat/widget.js); the conversation itself goes
through the API and the socket (docs/chat-protocol.md). Neither view checks a credential: the
socket does. The webview page only checks the shape of what it puts into the page.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import get_language
from django.views.decorators.csrf import ensure_csrf_cookie

from walletdesk.tickets.references import ALPHABET, RANDOM_CHARS

WIDGET_LANGUAGES = ("en", "zh-hans", "zh-hant")
REFERENCE_SHAPE = re.compile(rf"WD-\d{{6}}-[{ALPHABET}]{{{RANDOM_CHARS}}}")
# The socket decides whether a credential is good; the page only refuses what cannot be one
# (URL-safe token characters, a sane length), so nothing else ever reaches the page.
CREDENTIAL_SHAPE = re.compile(r"[A-Za-z0-9._~:=-]{8,512}")
TRADITIONAL = re.compile(r"^zh[-_](hant|tw|hk|mo)\b", re.IGNORECASE)


def widget_language(request: HttpRequest) -> str:
    """en, zh-hans or zh-hant: `?lang=` if given, else the page's language.

    The site's own pages have no Traditional Chinese catalogue, but the widget's strings do:
    a browser that asks for zh-Hant/zh-TW/zh-HK first among Chinese gets them.
    """
    asked = request.GET.get("lang", "").lower()
    if asked in WIDGET_LANGUAGES:
        return asked
    language = (get_language() or "en").lower()
    if not language.startswith("zh"):
        return "en"
    header = request.headers.get("Accept-Language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip()
        if tag.lower().startswith("zh"):
            return "zh-hant" if TRADITIONAL.match(tag) else "zh-hans"
    return "zh-hans"


@ensure_csrf_cookie
def home(request: HttpRequest) -> HttpResponse:
    """The help centre's chat page, for a guest or a signed-in customer (the widget reads the
    csrftoken cookie to start a conversation with the session)."""
    return render(
        request,
        "chat/home.html",
        {"widget_lang": widget_language(request), "signed_in": request.user.is_authenticated},
    )


def in_app(request: HttpRequest, reference: str) -> HttpResponse:
    """The wallet app's webview: the widget, full screen, bound to one conversation.

    The URL carries the conversation's credential, so the page is never cached and sends no
    Referer (an attachment or CSAT link opened from it must not carry the credential away).
    """
    credential = request.GET.get("t", "")
    valid = bool(REFERENCE_SHAPE.fullmatch(reference) and CREDENTIAL_SHAPE.fullmatch(credential))
    context = {"widget_lang": widget_language(request), "valid": valid, "ws_url": ""}
    if valid:
        context["ws_url"] = f"/ws/chat/{reference}/?t={quote(credential, safe='')}"
    response = render(request, "chat/in_app.html", context, status=200 if valid else 404)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    add_never_cache_headers(response)
    return response
