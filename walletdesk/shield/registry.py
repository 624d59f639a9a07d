"""The official-channel registry, compiled once from plain ``(kind, value)`` pairs.

Accepted kinds: "domain" (or "url"), "email", "handle", "phone", and "brand" (a name to
protect beyond what the domains imply, e.g. ("brand", "imtoken")).

Handle format: ``[platform:]@name`` — the platform is optional and case-insensitive
(x/twitter, telegram/tg/t.me, weibo, wechat/weixin, discord, youtube, facebook/fb,
instagram/ig, reddit, github, medium, tiktok/douyin, line, kakao); the "@" is optional. A
registry handle without a platform is official on every platform.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from .confusables import fold_unicode
from .domains import parse_url, split_domain

PLATFORM_ALIASES = {
    "x": "x", "twitter": "x", "x.com": "x", "twitter.com": "x",
    "telegram": "telegram", "tg": "telegram", "t.me": "telegram", "telegram.me": "telegram",
    "weibo": "weibo", "weibo.com": "weibo", "wechat": "wechat", "weixin": "wechat",
    "discord": "discord", "discord.gg": "discord", "youtube": "youtube", "youtube.com": "youtube",
    "facebook": "facebook", "fb": "facebook", "facebook.com": "facebook",
    "instagram": "instagram", "ig": "instagram", "instagram.com": "instagram",
    "reddit": "reddit", "reddit.com": "reddit", "github": "github", "github.com": "github",
    "medium": "medium", "medium.com": "medium", "tiktok": "tiktok", "tiktok.com": "tiktok",
    "douyin": "douyin", "line": "line", "kakao": "kakao",
}  # fmt: skip
# Words too common to call a domain containing them an imitation of the brand.
GENERIC_NAMES = frozenset(
    {
        "token", "tokens", "wallet", "crypto", "coin", "coins", "support", "help", "app", "pay",
        "bank", "exchange", "chain", "defi", "swap", "mail", "web", "home", "official", "service",
        "online", "secure", "login", "account", "global", "team",
    }
)  # fmt: skip
_HANDLE_DECORATIONS = re.compile(r"(official|support|help|team|app|wallet|global|cn|zh|hq)+$")
_MIN_BRAND_LENGTH = 5


@dataclass(frozen=True, slots=True)
class Handle:
    platform: str | None
    name: str  # lower case, no "@"


def parse_handle(value: str) -> Handle | None:
    text = value.strip()
    if "/" in text:  # a profile URL: https://t.me/imToken, x.com/imTokenOfficial
        parsed = parse_url(text)
        if parsed is None:
            return None
        host = parsed.host.removeprefix("www.").removeprefix("mobile.")
        segment = parsed.path.strip("/").split("/", 1)[0]
        if not segment:
            return None
        return Handle(PLATFORM_ALIASES.get(host, host), segment.lstrip("@").lower())
    platform: str | None = None
    if ":" in text:
        prefix, _, text = text.partition(":")
        platform = PLATFORM_ALIASES.get(prefix.strip().lower(), prefix.strip().lower() or None)
    name = text.strip().lstrip("@").lower()
    return Handle(platform, name) if name else None


def normalise_phone(value: str) -> tuple[str, bool] | None:
    """(digits, international) — "+86 138-0013-8000" and "0086 13800138000" both become
    ("8613800138000", True); "010 1234 5678" becomes ("1012345678", False)."""
    text = value.strip()
    international = text.startswith("+")
    digits = "".join(char for char in text if char.isdigit())
    if not international and digits.startswith("00"):
        international, digits = True, digits[2:]
    if not international:
        digits = digits.lstrip("0")
    return (digits, international) if len(digits) >= 5 else None


@dataclass(frozen=True, slots=True)
class OfficialRegistry:
    domains: frozenset[str]
    emails: frozenset[str]
    handles: frozenset[Handle]
    phones: frozenset[str]  # international digits
    labels: frozenset[str]  # registered names of official domains: "token", "imtoken"
    brands: frozenset[str]  # distinctive names whose mere presence signals imitation

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> "OfficialRegistry":
        domains: set[str] = set()
        emails: set[str] = set()
        handles: set[Handle] = set()
        phones: set[str] = set()
        brands: set[str] = set()
        for kind, value in pairs:
            kind = kind.strip().lower()
            if kind in ("domain", "url"):
                parsed = parse_url(value)
                if parsed is not None:
                    domains.add(parsed.host.removeprefix("www."))
            elif kind == "email":
                emails.add(value.strip().lower())
                _, _, email_domain = value.strip().lower().rpartition("@")
                if email_domain:
                    domains.add(email_domain)
            elif kind == "handle":
                handle = parse_handle(value)
                if handle is not None:
                    handles.add(handle)
            elif kind == "phone":
                phone = normalise_phone(value)
                if phone is not None:
                    phones.add(phone[0])
            elif kind == "brand":
                brands.add(fold_unicode(value.strip()).replace(" ", ""))
        labels = frozenset(split_domain(domain).label for domain in domains)
        for label in labels:
            if len(label) >= _MIN_BRAND_LENGTH and label not in GENERIC_NAMES:
                brands.add(label)
        for handle in handles:
            base = _HANDLE_DECORATIONS.sub("", handle.name.replace("_", ""))
            if len(base) >= _MIN_BRAND_LENGTH and base not in GENERIC_NAMES:
                brands.add(base)
        return cls(
            frozenset(domains),
            frozenset(emails),
            frozenset(handles),
            frozenset(phones),
            labels,
            frozenset(brands),
        )


@lru_cache(maxsize=64)
def compile_registry(pairs: tuple[tuple[str, str], ...]) -> OfficialRegistry:
    return OfficialRegistry.from_pairs(pairs)


def as_registry(registry: "OfficialRegistry | Iterable[tuple[str, str]]") -> OfficialRegistry:
    if isinstance(registry, OfficialRegistry):
        return registry
    return compile_registry(tuple((str(kind), str(value)) for kind, value in registry))
