"""What every mail we send shares: the brand in the subject and the closing lines.

Each sender renders its own words; `templates/mail/base.txt` (and `base.html`) add the brand
and the one line a wallet user must read in every mail, in the mail's language: support is
free and never asks for a recovery phrase, a private key or a fee. Senders outside templates
(`tickets.channels.mail_plainly`) wrap their text with `plain()`.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import translation

from walletdesk.core import brand


def language(code: str | None) -> str:
    """The language a mail is written in for a stored language code: "en", "zh-hans" or
    "zh-hant". A Traditional Chinese reader (zh-hant, or a zh-TW/zh-HK/zh-MO code) gets the
    Traditional mail; any other Chinese gets Simplified; everything else English."""
    code = (code or "").lower().replace("_", "-")
    if code.startswith("zh-hant") or code in ("zh-tw", "zh-hk", "zh-mo"):
        return "zh-hant"
    return "zh-hans" if code == "zh" or code.startswith("zh-") else "en"


def brand_name() -> str:
    """The operator's product name (settings.BRAND_NAME), "walletdesk" when none is set."""
    return str(brand.current()["name"])


def subject(text: str) -> str:
    """A subject line carrying the brand, so the mail is recognisable in a crowded inbox."""
    return f"[{brand_name()}] {text}"


def plain(body: str, language: str) -> str:
    """`body` inside the shared layout, the closing lines in `language`."""
    with translation.override(language):
        return render_to_string("mail/plain.txt", {"body": body})
