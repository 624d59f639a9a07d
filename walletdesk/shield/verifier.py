"""``verify_contact``: is this URL, email, phone number or handle an official channel?

Every verdict explains itself: a stable machine ``code`` and an English ``reason`` naming
the official channel it resembles and how (swapped letters, Cyrillic "о", brand in a
subdomain …), so agents and users can see why a link was flagged.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .confusables import fold_unicode, scripts_of, visual_skeleton
from .domains import DomainParts, edit_distance, parse_url, split_domain
from .lists import PhishingLists
from .registry import Handle, OfficialRegistry, as_registry, normalise_phone, parse_handle

Status = Literal["official", "impersonation", "unknown"]
ContactKind = Literal["url", "email", "phone", "handle"]

ADVICE: dict[str, str] = {
    "shield.contact.official": "This is an official channel. Support will never ask for your recovery phrase, "
    "private key or any payment.",
    "shield.contact.impersonation": "This imitates an official channel. Do not open it, do not sign in, and never "
    "enter your recovery phrase or pay any fee there.",
    "shield.contact.unknown": "This is not one of our official channels. Our support is free and only reachable "
    "through the channels listed in the app.",
}
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com",
        "icloud.com", "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "mail.com",
        "yandex.com", "yandex.ru", "qq.com", "foxmail.com", "163.com", "126.com", "sina.com",
        "sohu.com", "aliyun.com", "139.com", "yeah.net", "tutanota.com", "zoho.com",
    }
)  # fmt: skip
# Sites where anyone may publish under a path: a brand in the path proves nothing either way.
THIRD_PARTY_PLATFORMS = frozenset(
    {
        "apps.apple.com", "play.google.com", "github.com", "medium.com", "x.com", "twitter.com",
        "t.me", "weibo.com", "youtube.com", "facebook.com", "reddit.com", "google.com",
        "bing.com", "baidu.com", "wikipedia.org", "zhihu.com", "coingecko.com", "coinmarketcap.com",
        "etherscan.io", "tronscan.org", "bscscan.com", "discord.gg", "instagram.com", "tiktok.com",
    }
)  # fmt: skip
_SOCIAL_HOSTS = frozenset({"x.com", "twitter.com", "t.me", "telegram.me", "weibo.com", "youtube.com",
                           "facebook.com", "instagram.com", "tiktok.com", "medium.com", "github.com"})  # fmt: skip
_HANDLE_SEPARATORS = str.maketrans("", "", "_.-")


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: str
    value: str
    status: Status
    code: str  # stable: exact_match, official_subdomain, typosquat, homograph, combosquat, …
    reason: str  # English, for people
    matched: str | None = None  # the official channel this one is, or imitates

    @property
    def advice_key(self) -> str:
        return f"shield.contact.{self.status}"

    @property
    def advice(self) -> str:
        return ADVICE[self.advice_key]


def verify_contact(
    kind: ContactKind | str,
    value: str,
    registry: OfficialRegistry | Iterable[tuple[str, str]],
    lists: PhishingLists | None = None,
    *,
    trust_official_domain_emails: bool = True,
) -> Verdict:
    """Judge one contact against the official registry (and optional imported lists).

    ``registry`` may be a compiled :class:`OfficialRegistry` (fastest) or plain pairs such as
    ``[("domain", "token.im"), ("email", "support@token.im"), ("handle", "x:@imTokenOfficial")]``.
    Emails at an official domain count as official unless ``trust_official_domain_emails``
    is False, in which case only addresses listed exactly do.
    """
    official = as_registry(registry)
    phishing = lists or PhishingLists()
    kind = kind.strip().lower()
    if kind in ("url", "domain"):
        return _verify_url(value, official, phishing)
    if kind == "email":
        return _verify_email(value, official, phishing, trust_official_domain_emails)
    if kind == "handle":
        return _verify_handle(value, official)
    if kind == "phone":
        return _verify_phone(value, official)
    raise ValueError(f"unknown contact kind {kind!r}; expected url, email, phone or handle")


# --- URLs and domains -----------------------------------------------------------------------


def _verify_url(value: str, official: OfficialRegistry, phishing: PhishingLists) -> Verdict:
    parsed = parse_url(value)
    if parsed is None:
        return Verdict("url", value, "unknown", "invalid", "This is not a web address that can be checked.")
    host = parsed.host.removeprefix("www.")
    verdict = _judge_host(host, parsed.raw_host, official, phishing)
    if verdict.status != "unknown" or verdict.code == "allowlisted":
        if verdict.status == "official" and parsed.userinfo:
            pass  # https://user@token.im still goes to token.im
        return _for(verdict, "url", value)
    if parsed.userinfo and _mentions_brand(parsed.userinfo, official):
        return Verdict(
            "url", value, "impersonation", "userinfo_trick",
            f"The address shows “{parsed.userinfo}” before an “@”, but the browser actually opens {host}.",
        )  # fmt: skip
    if host in _SOCIAL_HOSTS or host.removeprefix("mobile.") in _SOCIAL_HOSTS:
        handle = parse_handle(f"{host}{parsed.path}")
        if handle is not None and parsed.path.strip("/"):
            return _for(_verify_handle_parsed(handle, value, official), "url", value)
    path = parsed.path.lower()
    if path.strip("/") and _mentions_brand(path, official):
        if _listed_in(host, THIRD_PARTY_PLATFORMS):
            return Verdict(
                "url", value, "unknown", "third_party_platform",
                f"{host} is a third-party platform; a page there that mentions the brand is not an official channel.",
            )  # fmt: skip
        return Verdict(
            "url", value, "impersonation", "brand_in_path",
            f"{host} is not an official domain, but its link path uses the brand name to look official.",
        )  # fmt: skip
    return _for(verdict, "url", value)


def _for(verdict: Verdict, kind: str, value: str) -> Verdict:
    return Verdict(kind, value, verdict.status, verdict.code, verdict.reason, verdict.matched)


def _listed_in(host: str, domains: frozenset[str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def _judge_host(host: str, raw_host: str, official: OfficialRegistry, phishing: PhishingLists) -> Verdict:
    for domain in official.domains:
        if host == domain:
            return Verdict("url", host, "official", "exact_match", f"{host} is an official domain.", domain)
        if host.endswith("." + domain):
            return Verdict(
                "url", host, "official", "official_subdomain", f"{host} is a subdomain of the official domain {domain}.",
                domain,
            )  # fmt: skip
    if phishing.allows(host) or phishing.allows(raw_host):
        return Verdict("url", host, "unknown", "allowlisted", f"{host} is on the imported allowlist.")
    if phishing.blocks(host) or phishing.blocks(raw_host):
        return Verdict(
            "url", host, "impersonation", "blocklisted", f"{host} is on the imported phishing blocklist."
        )
    parts = split_domain(host)
    if not host.isascii():
        verdict = _judge_homograph(host, raw_host, parts, official)
        if verdict is not None:
            return verdict
    verdict = _judge_lookalike_name(host, parts, official)
    if verdict is not None:
        return verdict
    verdict = _judge_subdomain(host, parts, official)
    if verdict is not None:
        return verdict
    for fuzzy in phishing.fuzzylist:
        if (
            parts.registrable != fuzzy
            and edit_distance(parts.registrable, fuzzy, phishing.tolerance) <= phishing.tolerance
        ):
            return Verdict(
                "url", host, "impersonation", "fuzzy_match",
                f"{parts.registrable} is within {phishing.tolerance} edit(s) of {fuzzy}, a name on the imported "
                "watch list.",
                fuzzy,
            )  # fmt: skip
    return Verdict("url", host, "unknown", "no_resemblance", f"{host} is not an official domain.")


def _judge_homograph(
    host: str, raw_host: str, parts: DomainParts, official: OfficialRegistry
) -> Verdict | None:
    folded = fold_unicode(host)
    scripts = sorted(scripts_of(host))
    how = (
        f"mixes {' and '.join(s.title() for s in scripts)} letters"
        if len(scripts) > 1
        else "uses look-alike letters"
    )
    shown = f" (written {raw_host} in punycode)" if "xn--" in raw_host else ""
    for domain in official.domains:
        if folded == domain or folded.endswith("." + domain):
            return Verdict(
                "url", host, "impersonation", "homograph",
                f"{host}{shown} {how} to look like the official domain {domain}.", domain,
            )  # fmt: skip
    folded_label = fold_unicode(parts.label)
    for name in official.labels | official.brands:
        if name in folded_label or (len(name) >= 5 and edit_distance(folded_label, name, 1) <= 1):
            return Verdict(
                "url", host, "impersonation", "homograph",
                f"{host}{shown} {how} to imitate the name “{name}”.", name,
            )  # fmt: skip
    return None


def _judge_lookalike_name(host: str, parts: DomainParts, official: OfficialRegistry) -> Verdict | None:
    label = fold_unicode(parts.label)
    bare = label.replace("-", "")
    skeleton = visual_skeleton(bare)
    platform = f" on the hosting platform {parts.suffix}" if parts.on_hosting_platform else ""
    for domain in sorted(official.domains):
        official_parts = split_domain(domain)
        name = official_parts.label
        if label == name:
            if parts.on_hosting_platform:
                return Verdict(
                    "url", host, "impersonation", "brand_in_subdomain",
                    f"{host} puts the official name “{name}” under {parts.suffix}, where anyone can create a site.",
                    domain,
                )  # fmt: skip
            return Verdict(
                "url", host, "impersonation", "suffix_swap",
                f"{parts.registrable} uses the official name “{name}” with a different ending "
                f"(.{parts.suffix} instead of .{official_parts.suffix}).",
                domain,
            )  # fmt: skip
        if skeleton == visual_skeleton(name):
            return Verdict(
                "url", host, "impersonation", "typosquat",
                f"{parts.registrable}{platform} swaps letters for look-alikes (0/o, 1/l, rn/m, vv/w) to imitate {domain}.",
                domain,
            )  # fmt: skip
        distance = edit_distance(bare, name, 1)
        if distance == 1 and (len(name) >= 6 or parts.suffix == official_parts.suffix):
            return Verdict(
                "url", host, "impersonation", "typosquat",
                f"{parts.registrable}{platform} is one typo away from the official {domain} ({_typo_kind(bare, name)}).",
                domain,
            )  # fmt: skip
        glued = domain.replace(".", "")
        if glued in bare and bare != name:
            return Verdict(
                "url", host, "impersonation", "combosquat",
                f"{parts.registrable} runs the official domain {domain} into a new name.", domain,
            )  # fmt: skip
    for brand in sorted(official.brands):
        if brand in bare or visual_skeleton(brand) in skeleton or _typo_in_parts(label, brand):
            return Verdict(
                "url", host, "impersonation", "combosquat",
                f"{parts.registrable}{platform} adds words to the brand name “{brand}” to look official; "
                "it is not an official domain.",
                brand,
            )  # fmt: skip
    return None


def _typo_in_parts(label: str, brand: str) -> bool:
    """imtokn-support, support-lmtoken: one part of a hyphenated name is a typo of the brand."""
    return "-" in label and any(
        edit_distance(part, brand, 1) <= 1 or visual_skeleton(part) == visual_skeleton(brand)
        for part in label.split("-")
    )


def _typo_kind(candidate: str, name: str) -> str:
    if len(candidate) == len(name) + 1:
        doubled = any(
            candidate[i] == candidate[i + 1] and candidate[:i] + candidate[i + 1 :] == name
            for i in range(len(candidate) - 1)
        )
        return "a doubled letter" if doubled else "an extra letter"
    if len(candidate) + 1 == len(name):
        return "a missing letter"
    differing = [i for i, (a, b) in enumerate(zip(candidate, name, strict=False)) if a != b]
    if len(differing) == 2 and candidate[differing[0]] == name[differing[1]]:
        return "two letters swapped"
    return "one letter changed"


def _judge_subdomain(host: str, parts: DomainParts, official: OfficialRegistry) -> Verdict | None:
    if not parts.subdomain:
        return None
    subdomain = fold_unicode(parts.subdomain)
    for domain in sorted(official.domains):
        if domain in subdomain:
            return Verdict(
                "url", host, "impersonation", "brand_in_subdomain",
                f"{host} starts with the official {domain}, but the site actually belongs to {parts.registrable}.",
                domain,
            )  # fmt: skip
    for brand in sorted(official.brands):
        if any(
            brand in label or visual_skeleton(label) == visual_skeleton(brand)
            for label in subdomain.split(".")
        ):
            return Verdict(
                "url", host, "impersonation", "brand_in_subdomain",
                f"{host} puts the brand “{brand}” in front of {parts.registrable}, which is not an official domain.",
                brand,
            )  # fmt: skip
    return None


def _mentions_brand(text: str, official: OfficialRegistry) -> bool:
    folded = fold_unicode(text).lower()
    squeezed = folded.translate(_HANDLE_SEPARATORS)
    return any(domain in folded for domain in official.domains) or any(
        brand in squeezed or visual_skeleton(brand) in visual_skeleton(squeezed) for brand in official.brands
    )


# --- email ----------------------------------------------------------------------------------


def _verify_email(
    value: str, official: OfficialRegistry, phishing: PhishingLists, trust_domain: bool
) -> Verdict:
    address = value.strip().strip("<>").lower().removeprefix("mailto:")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        return Verdict(
            "email", value, "unknown", "invalid", "This is not an email address that can be checked."
        )
    if address in official.emails:
        return Verdict(
            "email", value, "official", "exact_match", f"{address} is an official address.", address
        )
    parsed = parse_url(domain)
    if parsed is None:
        return Verdict(
            "email", value, "unknown", "invalid", "This is not an email address that can be checked."
        )
    host_verdict = _judge_host(parsed.host, parsed.raw_host, official, phishing)
    if host_verdict.status == "official":
        if trust_domain:
            return Verdict(
                "email", value, "official", "official_domain", f"{address} is at the official domain {parsed.host}.",
                host_verdict.matched,
            )  # fmt: skip
        return Verdict(
            "email", value, "unknown", "unlisted_address",
            f"{address} is at an official domain but is not one of the listed support addresses.",
        )  # fmt: skip
    if host_verdict.status == "impersonation":
        return Verdict(
            "email", value, "impersonation", host_verdict.code, f"The email domain: {host_verdict.reason}",
            host_verdict.matched,
        )  # fmt: skip
    if host_verdict.code != "allowlisted" and _mentions_brand(local, official):
        if parsed.host in FREE_MAIL_DOMAINS:
            return Verdict(
                "email", value, "impersonation", "brand_on_freemail",
                f"{address} uses the brand name on a free mail service ({parsed.host}); official support never "
                "writes from free mail.",
            )  # fmt: skip
        return Verdict(
            "email", value, "impersonation", "brand_in_local_part",
            f"{address} uses the brand name at {parsed.host}, which is not an official domain.",
        )  # fmt: skip
    return Verdict("email", value, "unknown", host_verdict.code, f"{address} is not an official address.")


# --- handles --------------------------------------------------------------------------------


def _verify_handle(value: str, official: OfficialRegistry) -> Verdict:
    handle = parse_handle(value)
    if handle is None:
        return Verdict("handle", value, "unknown", "invalid", "This is not a handle that can be checked.")
    return _verify_handle_parsed(handle, value, official)


def _verify_handle_parsed(handle: Handle, value: str, official: OfficialRegistry) -> Verdict:
    shown = f"@{handle.name}" + (f" on {handle.platform}" if handle.platform else "")
    same_name = [h for h in official.handles if h.name == handle.name]
    for known in same_name:
        if known.platform is None or handle.platform is None or known.platform == handle.platform:
            return Verdict(
                "handle", value, "official", "exact_match", f"{shown} is an official account.", _show(known)
            )
    if same_name:
        where = ", ".join(sorted(str(h.platform) for h in same_name))
        return Verdict(
            "handle", value, "impersonation", "not_registered_on_platform",
            f"@{handle.name} is official only on {where}; the account on {handle.platform} is not ours.",
            _show(same_name[0]),
        )  # fmt: skip
    folded = fold_unicode(handle.name)
    squeezed = folded.translate(_HANDLE_SEPARATORS)
    non_latin = not handle.name.isascii()
    for known in sorted(official.handles, key=_show):
        known_squeezed = known.name.translate(_HANDLE_SEPARATORS)
        if squeezed == known_squeezed or visual_skeleton(squeezed) == visual_skeleton(known_squeezed):
            code = "homograph" if non_latin else "typosquat"
            return Verdict(
                "handle", value, "impersonation", code,
                f"{shown} imitates the official {_show(known)} with look-alike characters or separators.", _show(known),
            )  # fmt: skip
        if len(known_squeezed) >= 6 and edit_distance(squeezed, known_squeezed, 2) <= 2:
            return Verdict(
                "handle", value, "impersonation", "typosquat",
                f"{shown} is a near miss of the official {_show(known)}.", _show(known),
            )  # fmt: skip
    for brand in sorted(official.brands):
        if brand in squeezed or visual_skeleton(brand) in visual_skeleton(squeezed):
            return Verdict(
                "handle", value, "impersonation", "homograph" if non_latin else "combosquat",
                f"{shown} uses the brand name “{brand}” but is not an official account.", brand,
            )  # fmt: skip
    return Verdict("handle", value, "unknown", "no_resemblance", f"{shown} is not an official account.")


def _show(handle: Handle) -> str:
    return (f"{handle.platform}:" if handle.platform else "") + f"@{handle.name}"


# --- phones ---------------------------------------------------------------------------------


def _verify_phone(value: str, official: OfficialRegistry) -> Verdict:
    phone = normalise_phone(value)
    if phone is None:
        return Verdict(
            "phone", value, "unknown", "invalid", "This is not a phone number that can be checked."
        )
    digits, international = phone
    for known in official.phones:
        if digits == known:
            return Verdict(
                "phone", value, "official", "exact_match", "This is an official phone number.", f"+{known}"
            )
        if not international and len(digits) >= 7 and known.endswith(digits):
            return Verdict(
                "phone", value, "official", "national_format",
                "This is an official phone number written without its country code.", f"+{known}",
            )  # fmt: skip
    return Verdict("phone", value, "unknown", "no_match", "This phone number is not an official number.")
