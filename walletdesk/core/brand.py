"""The operator's brand: product name, logo and colours, from the environment.

    BRAND_NAME="Acme Wallet"  BRAND_LOGO=/etc/walletdesk/logo.svg  BRAND_COLOR="#0a7d5a"

The base templates read `current()` (through core.context). Colours reach the pages as a small
stylesheet (`/brand/colours.css`) that overrides app.css's custom properties, because our CSP
allows no inline style; the logo is served from our own origin (`/brand/logo`), because it
allows no image from elsewhere either. Values are checked at start-up like every setting
(core.env): a missing or oversized logo, a colour that is not `#rrggbb`, or colours too faint
to read stop the process with a message naming the variable.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponse

DEFAULT_NAME = "walletdesk"
LOGO_MAX_BYTES = 512 * 1024
WHITE, DARK = "#ffffff", "#1b1f24"  # app.css: the card background and the text colour
MIN_CONTRAST = 4.5  # WCAG AA for body-size text: links on white, button labels on the colour
_HEX = re.compile(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


# --- parsing (settings.py calls these) -----------------------------------------------------------


def name(raw: str) -> str:
    value = raw.strip()
    if len(value) > 60:
        raise ImproperlyConfigured(f"BRAND_NAME must be at most 60 characters; got {len(value)}.")
    if any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise ImproperlyConfigured("BRAND_NAME must not contain control or invisible characters.")
    return value


def color(variable: str, raw: str) -> str:
    """`#rrggbb` (or `#rgb`), lower-cased and expanded; empty stays empty (the default)."""
    value = raw.strip()
    if not value:
        return ""
    if not _HEX.fullmatch(value):
        raise ImproperlyConfigured(f"{variable} must be a colour like #1d5fd1; got {raw!r}.")
    digits = value[1:].lower()
    return "#" + (digits if len(digits) == 6 else "".join(ch * 2 for ch in digits))


def _kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<svg", b"<?xml")) and b"<svg" in data[:4096].lower():
        return "image/svg+xml"
    return None


def logo(raw: str) -> str:
    """The logo file's absolute path, checked now; empty for none."""
    if not raw.strip():
        return ""
    path = Path(raw.strip()).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImproperlyConfigured(f"BRAND_LOGO {raw!r} cannot be read: {exc.strerror or exc}.") from None
    if len(data) > LOGO_MAX_BYTES:
        raise ImproperlyConfigured(
            f"BRAND_LOGO must be at most {LOGO_MAX_BYTES // 1024} KiB; got {len(data)} bytes."
        )
    if _kind(data) is None:
        raise ImproperlyConfigured("BRAND_LOGO must be a PNG, JPEG, WebP or SVG file.")
    return str(path.resolve())


def _luminance(hex_colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on(background: str, text: str) -> str:
    """The label colour for buttons on `background`: the operator's, checked, or whichever of
    white and the page's dark text reads better."""
    if not background:
        return text
    if not text:
        return WHITE if contrast(background, WHITE) >= contrast(background, DARK) else DARK
    ratio = contrast(background, text)
    if ratio < MIN_CONTRAST:
        raise ImproperlyConfigured(
            f"BRAND_TEXT_COLOR {text} on BRAND_COLOR {background} has a contrast of {ratio:.1f}:1; "
            f"button labels need {MIN_CONTRAST}:1."
        )
    return text


def check_link_colour(colour: str) -> str:
    if colour and (ratio := contrast(colour, WHITE)) < MIN_CONTRAST:
        raise ImproperlyConfigured(
            f"BRAND_COLOR {colour} is too light for links on white ({ratio:.1f}:1; they need "
            f"{MIN_CONTRAST}:1); choose a darker shade."
        )
    return colour


# --- what pages use --------------------------------------------------------------------------------


@cache
def _logo_bytes(path: str) -> tuple[bytes, str]:
    data = Path(path).read_bytes()
    return data, _kind(data) or "application/octet-stream"


def _stylesheet() -> str:
    if not settings.BRAND_COLOR:
        return ""
    fg = settings.BRAND_TEXT_COLOR
    return f":root{{--brand:{settings.BRAND_COLOR};--brand-fg:{fg}}}\n.tabs a.active{{color:{fg}}}\n"


def _version(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()[:12]


@cache
def _current(name_: str, logo_path: str, css: str) -> dict[str, Any]:
    return {
        "name": name_ or DEFAULT_NAME,
        "custom_name": bool(name_),
        # Versioned addresses: a new logo or colour reaches browsers that cached the old one.
        "logo_url": f"/brand/logo?v={_version(_logo_bytes(logo_path)[0])}" if logo_path else "",
        "css_url": f"/brand/colours.css?v={_version(css)}" if css else "",
    }


def current() -> dict[str, Any]:
    return _current(settings.BRAND_NAME, settings.BRAND_LOGO, _stylesheet())


def logo_view(request: HttpRequest) -> HttpResponse:
    if not settings.BRAND_LOGO:
        raise Http404("No logo is configured.")
    data, kind = _logo_bytes(settings.BRAND_LOGO)
    response = HttpResponse(data, content_type=kind)
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    # An SVG opened on its own is a document of our origin: no script, no outside fetch.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


def colours_view(request: HttpRequest) -> HttpResponse:
    css = _stylesheet()
    if not css:
        raise Http404("No colours are configured.")
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
