"""``verify_contact``: is this URL, email, phone number or handle an official channel?

Every verdict explains itself: a stable machine ``code``, the sentences that explain it as
codes with parameters (``reasons``, worded per language by the caller, see ``reasons.py``) and
their English text (``reason``), naming the official channel it resembles and how (swapped
letters, Cyrillic "о", brand in a subdomain …), so agents and users can see why a link was
flagged. The kind may be left to detection (``detect.py``); a value that cannot be what the
caller said it is (a handle checked as a link) is judged as what it is.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from .addresses import EVM_ATTEMPT, AddressBook, checksummed, evm_address_problem
from .confusables import fold_unicode, scripts_of, visual_skeleton
from .detect import EMAIL, PHONE, address_chain, detect_kind
from .domains import DomainParts, edit_distance, parse_url, split_domain
from .lists import PhishingLists
from .lookalike import likeness, looks_alike
from .reasons import Reason, render
from .registry import Handle, OfficialRegistry, as_registry, normalise_phone, parse_handle
from .scanner import scan

# "scam": an address on an imported scam list (#21); contacts are never "scam".
Status = Literal["official", "impersonation", "scam", "unknown"]
ContactKind = Literal["url", "email", "phone", "handle", "address", "auto"]
# Codes of verdicts on something that is not a contact: the value itself may be dangerous to
# keep (a recovery phrase, perhaps a private key), so pages do not show it back.
SECRET_CODES = frozenset({"secret_entered", "hex_secret_or_hash"})

ADVICE: dict[str, str] = {
    "shield.contact.official": "This is an official channel. Support will never ask for your recovery phrase, "
    "private key or any payment.",
    "shield.contact.impersonation": "This imitates an official channel. Do not open it, do not sign in, and never "
    "enter your recovery phrase or pay any fee there.",
    "shield.contact.scam": "This address is on a list of known scam addresses. Do not send anything to it; "
    "if you already did, report it to us now and keep your transaction hash.",
    # An address is not a channel: what to do with one we publish, or with a copy of it.
    "shield.address.official": "This is an official address of ours. Support will still never ask you to send "
    "crypto to any address, nor for your recovery phrase or private key.",
    "shield.address.impersonation": "This address imitates one of ours. Do not send anything to it, and never "
    "copy an address from your transaction history: take it from the original source and compare it in full.",
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
    kind: str  # what the value was judged as: url, email, phone, handle, address, secret, other
    value: str
    status: Status
    code: str  # stable: exact_match, official_subdomain, typosquat, homograph, combosquat, …
    reason: str  # English, for people
    matched: str | None = None  # the official channel this one is, or imitates
    reasons: tuple[Reason, ...] = ()  # the same explanation as codes, for other languages
    lists: tuple[str, ...] = ()  # the imported scam lists that hold this address

    @property
    def advice_key(self) -> str:
        if self.kind == "address" and self.status in ("official", "impersonation"):
            return f"shield.address.{self.status}"
        return f"shield.contact.{self.status}"

    @property
    def advice(self) -> str:
        return ADVICE[self.advice_key]


def _verdict(
    kind: str,
    value: str,
    status: Status,
    code: str,
    *reasons: Reason,
    matched: str | None = None,
    lists: tuple[str, ...] = (),
) -> Verdict:
    return Verdict(kind, value, status, code, render(reasons), matched, reasons, lists)


def verify_contact(
    kind: ContactKind | str | None,
    value: str,
    registry: OfficialRegistry | Iterable[tuple[str, str]],
    lists: PhishingLists | None = None,
    *,
    trust_official_domain_emails: bool = True,
    screen_secrets: bool = False,
    addresses: AddressBook | None = None,
) -> Verdict:
    """Judge one contact against the official registry (and optional imported lists).

    ``registry`` may be a compiled :class:`OfficialRegistry` (fastest) or plain pairs such as
    ``[("domain", "token.im"), ("email", "support@token.im"), ("handle", "x:@imTokenOfficial")]``.
    Emails at an official domain count as official unless ``trust_official_domain_emails``
    is False, in which case only addresses listed exactly do.

    ``kind`` None or "auto" detects the kind from the value. A named kind is judged as named,
    as it always was, unless the value cannot be one ("@imToken" as a link): then it is judged
    as the kind it is written as. A recovery phrase or key pasted into the check is answered as
    such (kind "secret"), never judged as a contact; callers that screen their text already
    (scam signals, on every inbound link) skip that scan unless they ask (``screen_secrets``).

    ``addresses`` holds the operator's official EVM addresses and the scam-list look-up; an EVM
    address is then official, an impersonation (a lookalike of an official one), scam or unknown.
    Something written as an EVM address but malformed (bad hex, length or EIP-55 checksum) is
    answered kind "address", code "invalid", with a reason saying what is wrong.
    """
    official = as_registry(registry)
    phishing = lists or PhishingLists()
    book = addresses or AddressBook()

    def judge(kind: str) -> Verdict:
        if kind == "address":
            return _verify_address(value, book)
        return _JUDGES[kind](value, official, phishing, trust_official_domain_emails)

    chosen = (kind or "auto").strip().lower()
    if chosen not in _JUDGES and chosen not in ("auto", "address"):
        raise ValueError(f"unknown contact kind {kind!r}; expected url, email, phone, handle or address")
    if screen_secrets or chosen == "auto":
        secret = _secret_verdict(value)
        if secret is not None:
            return secret
    text = value.strip()
    if (chosen == "auto" and EVM_ATTEMPT.match(text)) or (chosen == "address" and text[:2] in ("0x", "0X")):
        # Meant as an EVM address: judged, or told what is wrong with it; a 64-hex key pasted
        # into the address check is still answered as the secret it may be.
        return _secret_verdict(value) or _verify_address(value, book)
    if chosen != "auto":
        verdict = judge(chosen)
        if verdict.code != "invalid":
            return verdict
        secret = None if screen_secrets else _secret_verdict(value)
        if secret is not None:
            return secret
    detected = detect_kind(value)
    if detected is None or detected == "hex64":
        if chosen != "auto":
            return verdict  # what the caller asked for, and why it is not that
        return _verdict("other", value, "unknown", "invalid", Reason.of("not_a_contact"))
    if detected == chosen:
        return verdict
    return judge(detected)


def _secret_verdict(value: str) -> Verdict | None:
    if scan(value).findings:
        return _verdict("secret", value, "unknown", "secret_entered", Reason.of("secret_entered"))
    if detect_kind(value) == "hex64":
        return _verdict("secret", value, "unknown", "hex_secret_or_hash", Reason.of("hex_secret_or_hash"))
    return None


# --- URLs and domains -----------------------------------------------------------------------


def _verify_url(
    value: str, official: OfficialRegistry, phishing: PhishingLists, _trust: bool = True
) -> Verdict:
    parsed = parse_url(value)
    if parsed is None:
        return _verdict("url", value, "unknown", "invalid", Reason.of("url_invalid"))
    host = parsed.host.removeprefix("www.")
    verdict = _judge_host(host, parsed.raw_host, official, phishing)
    if verdict.status != "unknown" or verdict.code == "allowlisted":
        if verdict.status == "official" and parsed.userinfo:
            pass  # https://user@token.im still goes to token.im
        return _for(verdict, "url", value)
    if parsed.userinfo and _mentions_brand(parsed.userinfo, official):
        return _verdict(
            "url", value, "impersonation", "userinfo_trick",
            Reason.of("userinfo_trick", userinfo=parsed.userinfo, host=host),
        )  # fmt: skip
    if host in _SOCIAL_HOSTS or host.removeprefix("mobile.") in _SOCIAL_HOSTS:
        handle = parse_handle(f"{host}{parsed.path}")
        if handle is not None and parsed.path.strip("/"):
            return _for(_verify_handle_parsed(handle, value, official), "url", value)
    path = parsed.path.lower()
    if path.strip("/") and _mentions_brand(path, official):
        if _listed_in(host, THIRD_PARTY_PLATFORMS):
            return _verdict(
                "url", value, "unknown", "third_party_platform", Reason.of("third_party_platform", host=host)
            )  # fmt: skip
        return _verdict("url", value, "impersonation", "brand_in_path", Reason.of("brand_in_path", host=host))
    return _for(verdict, "url", value)


def _for(verdict: Verdict, kind: str, value: str) -> Verdict:
    return Verdict(
        kind,
        value,
        verdict.status,
        verdict.code,
        verdict.reason,
        verdict.matched,
        verdict.reasons,
        verdict.lists,
    )


def _listed_in(host: str, domains: frozenset[str]) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in domains for i in range(len(labels) - 1))


def _judge_host(host: str, raw_host: str, official: OfficialRegistry, phishing: PhishingLists) -> Verdict:
    for domain in official.domains:
        if host == domain:
            return _verdict(
                "url",
                host,
                "official",
                "exact_match",
                Reason.of("domain_official", host=host),
                matched=domain,
            )
        if host.endswith("." + domain):
            return _verdict(
                "url", host, "official", "official_subdomain",
                Reason.of("domain_official_subdomain", host=host, domain=domain), matched=domain,
            )  # fmt: skip
    if phishing.allows(host) or phishing.allows(raw_host):
        return _verdict("url", host, "unknown", "allowlisted", Reason.of("domain_allowlisted", host=host))
    if phishing.blocks(host) or phishing.blocks(raw_host):
        return _verdict(
            "url", host, "impersonation", "blocklisted", Reason.of("domain_blocklisted", host=host)
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
            return _verdict(
                "url", host, "impersonation", "fuzzy_match",
                Reason.of("domain_fuzzy", registrable=parts.registrable, tolerance=phishing.tolerance, fuzzy=fuzzy),
                matched=fuzzy,
            )  # fmt: skip
    return _verdict("url", host, "unknown", "no_resemblance", Reason.of("domain_unknown", host=host))


def _judge_homograph(
    host: str, raw_host: str, parts: DomainParts, official: OfficialRegistry
) -> Verdict | None:
    folded = fold_unicode(host)
    scripts = sorted(scripts_of(host))
    how = "mixed" if len(scripts) > 1 else "lookalike"
    shown = (Reason.of("punycode", raw=raw_host),) if "xn--" in raw_host else ()
    for domain in official.domains:
        if folded == domain or folded.endswith("." + domain):
            return _verdict(
                "url", host, "impersonation", "homograph",
                Reason.of(f"homograph_{how}_domain", host=host, scripts=",".join(scripts), domain=domain), *shown,
                matched=domain,
            )  # fmt: skip
    folded_label = fold_unicode(parts.label)
    # The longest name first, so the answer names "imtoken" rather than "token" (and does not
    # depend on set order, which changes from one process to the next).
    for name in sorted(official.labels | official.brands, key=lambda n: (-len(n), n)):
        if name in folded_label or (len(name) >= 5 and edit_distance(folded_label, name, 1) <= 1):
            return _verdict(
                "url", host, "impersonation", "homograph",
                Reason.of(f"homograph_{how}_name", host=host, scripts=",".join(scripts), name=name), *shown,
                matched=name,
            )  # fmt: skip
    return None


def _judge_lookalike_name(host: str, parts: DomainParts, official: OfficialRegistry) -> Verdict | None:
    label = fold_unicode(parts.label)
    bare = label.replace("-", "")
    skeleton = visual_skeleton(bare)
    platform = (Reason.of("hosting_platform", suffix=parts.suffix),) if parts.on_hosting_platform else ()
    for domain in sorted(official.domains):
        official_parts = split_domain(domain)
        name = official_parts.label
        if label == name:
            if parts.on_hosting_platform:
                return _verdict(
                    "url", host, "impersonation", "brand_in_subdomain",
                    Reason.of("brand_on_hosting", host=host, name=name, suffix=parts.suffix), matched=domain,
                )  # fmt: skip
            return _verdict(
                "url", host, "impersonation", "suffix_swap",
                Reason.of(
                    "suffix_swap", registrable=parts.registrable, name=name, suffix=parts.suffix,
                    official_suffix=official_parts.suffix,
                ),
                matched=domain,
            )  # fmt: skip
        if skeleton == visual_skeleton(name):
            return _verdict(
                "url", host, "impersonation", "typosquat",
                Reason.of("typosquat_lookalike", registrable=parts.registrable, domain=domain), *platform,
                matched=domain,
            )  # fmt: skip
        distance = edit_distance(bare, name, 1)
        if distance == 1 and (len(name) >= 6 or parts.suffix == official_parts.suffix):
            return _verdict(
                "url", host, "impersonation", "typosquat",
                Reason.of(
                    "typosquat_one_typo", registrable=parts.registrable, domain=domain, typo=_typo_kind(bare, name)
                ),
                *platform,
                matched=domain,
            )  # fmt: skip
        glued = domain.replace(".", "")
        if glued in bare and bare != name:
            return _verdict(
                "url", host, "impersonation", "combosquat",
                Reason.of("combosquat_domain", registrable=parts.registrable, domain=domain), matched=domain,
            )  # fmt: skip
    for brand in sorted(official.brands):
        if brand in bare or visual_skeleton(brand) in skeleton or _typo_in_parts(label, brand):
            return _verdict(
                "url", host, "impersonation", "combosquat",
                Reason.of("combosquat_brand", registrable=parts.registrable, brand=brand), *platform,
                matched=brand,
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
        return "doubled_letter" if doubled else "extra_letter"
    if len(candidate) + 1 == len(name):
        return "missing_letter"
    differing = [i for i, (a, b) in enumerate(zip(candidate, name, strict=False)) if a != b]
    if len(differing) == 2 and candidate[differing[0]] == name[differing[1]]:
        return "swapped_letters"
    return "changed_letter"


def _judge_subdomain(host: str, parts: DomainParts, official: OfficialRegistry) -> Verdict | None:
    if not parts.subdomain:
        return None
    subdomain = fold_unicode(parts.subdomain)
    for domain in sorted(official.domains):
        if domain in subdomain:
            return _verdict(
                "url", host, "impersonation", "brand_in_subdomain",
                Reason.of("subdomain_domain", host=host, domain=domain, registrable=parts.registrable),
                matched=domain,
            )  # fmt: skip
    for brand in sorted(official.brands):
        if any(
            brand in label or visual_skeleton(label) == visual_skeleton(brand)
            for label in subdomain.split(".")
        ):
            return _verdict(
                "url", host, "impersonation", "brand_in_subdomain",
                Reason.of("subdomain_brand", host=host, brand=brand, registrable=parts.registrable), matched=brand,
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
    value: str, official: OfficialRegistry, phishing: PhishingLists, trust_domain: bool = True
) -> Verdict:
    text = value.strip()
    if text.endswith(">") and "<" in text:  # "Support <support@token.im>": the address is what counts
        text = text[text.rindex("<") :]
    address = text.strip("<>").lower().removeprefix("mailto:")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or not EMAIL.match(address):
        return _verdict("email", value, "unknown", "invalid", Reason.of("email_invalid"))
    if address in official.emails:
        return _verdict(
            "email",
            value,
            "official",
            "exact_match",
            Reason.of("email_official", address=address),
            matched=address,
        )
    parsed = parse_url(domain)
    if parsed is None:
        return _verdict("email", value, "unknown", "invalid", Reason.of("email_invalid"))
    host_verdict = _judge_host(parsed.host, parsed.raw_host, official, phishing)
    if host_verdict.status == "official":
        if trust_domain:
            return _verdict(
                "email", value, "official", "official_domain",
                Reason.of("email_official_domain", address=address, domain=parsed.host), matched=host_verdict.matched,
            )  # fmt: skip
        return _verdict(
            "email", value, "unknown", "unlisted_address", Reason.of("email_unlisted", address=address)
        )
    if host_verdict.status == "impersonation":
        return _verdict(
            "email", value, "impersonation", host_verdict.code, Reason.of("email_domain"), *host_verdict.reasons,
            matched=host_verdict.matched,
        )  # fmt: skip
    if host_verdict.code != "allowlisted" and _mentions_brand(local, official):
        if parsed.host in FREE_MAIL_DOMAINS:
            return _verdict(
                "email", value, "impersonation", "brand_on_freemail",
                Reason.of("brand_on_freemail", address=address, domain=parsed.host),
            )  # fmt: skip
        return _verdict(
            "email", value, "impersonation", "brand_in_local_part",
            Reason.of("brand_in_local_part", address=address, domain=parsed.host),
        )  # fmt: skip
    return _verdict("email", value, "unknown", host_verdict.code, Reason.of("email_unknown", address=address))


# --- handles --------------------------------------------------------------------------------

# Typed on a phone keyboard in Chinese mode, "@" and ":" come out full width.
_HANDLE_PUNCTUATION = str.maketrans({"＠": "@", "：": ":"})


def _verify_handle(
    value: str, official: OfficialRegistry, _phishing: PhishingLists | None = None, _trust: bool = True
) -> Verdict:
    handle = parse_handle(value.translate(_HANDLE_PUNCTUATION))
    if handle is None or " " in handle.name or not handle.name:
        return _verdict("handle", value, "unknown", "invalid", Reason.of("handle_invalid"))
    return _verify_handle_parsed(handle, value, official)


def _verify_handle_parsed(handle: Handle, value: str, official: OfficialRegistry) -> Verdict:
    shown = _show(handle)
    same_name = [h for h in official.handles if h.name == handle.name]
    for known in same_name:
        if known.platform is None or handle.platform is None or known.platform == handle.platform:
            if handle.platform is None and all(h.platform for h in same_name):
                # "@imToken" alone is ours only where we registered it; say where.
                platforms = ",".join(sorted({str(h.platform) for h in same_name}))
                reason = Reason.of("handle_official_on", handle=shown, platforms=platforms)
            else:
                reason = Reason.of("handle_official", handle=shown)
            return _verdict("handle", value, "official", "exact_match", reason, matched=_show(known))
    if same_name:
        where = ",".join(sorted(str(h.platform) for h in same_name))
        return _verdict(
            "handle", value, "impersonation", "not_registered_on_platform",
            Reason.of("handle_wrong_platform", handle=f"@{handle.name}", platforms=where, platform=handle.platform),
            matched=_show(same_name[0]),
        )  # fmt: skip
    folded = fold_unicode(handle.name)
    squeezed = folded.translate(_HANDLE_SEPARATORS)
    skeleton = visual_skeleton(squeezed)
    non_latin = not handle.name.isascii()
    lookalike = "homograph" if non_latin else "typosquat"
    by_name = sorted(official.handles, key=_show)
    for known in by_name:
        known_squeezed = known.name.translate(_HANDLE_SEPARATORS)
        if squeezed == known_squeezed or skeleton == visual_skeleton(known_squeezed):
            return _verdict(
                "handle", value, "impersonation", lookalike,
                Reason.of("handle_lookalike", handle=shown, official=_show(known)), matched=_show(known),
            )  # fmt: skip
    # An official name with "_support", "help", "official", digits … before or after it: the
    # commonest fake-support account. The longest official name wins ("imtokenofficial_cn").
    for known in sorted(by_name, key=lambda h: -len(h.name)):
        known_skeleton = visual_skeleton(known.name.translate(_HANDLE_SEPARATORS))
        if len(known_skeleton) >= 4 and skeleton != known_skeleton and known_skeleton in skeleton:
            return _verdict(
                "handle", value, "impersonation", "homograph" if non_latin else "combosquat",
                Reason.of("handle_decorated", handle=shown, official=_show(known)), matched=_show(known),
            )  # fmt: skip
    for known in by_name:
        known_squeezed = known.name.translate(_HANDLE_SEPARATORS)
        if len(known_squeezed) >= 6 and edit_distance(squeezed, known_squeezed, 2) <= 2:
            return _verdict(
                "handle", value, "impersonation", "typosquat",
                Reason.of("handle_near_miss", handle=shown, official=_show(known)), matched=_show(known),
            )  # fmt: skip
    for brand in sorted(official.brands):
        if brand in squeezed or visual_skeleton(brand) in skeleton:
            return _verdict(
                "handle", value, "impersonation", "homograph" if non_latin else "combosquat",
                Reason.of("handle_brand", handle=shown, brand=brand), matched=brand,
            )  # fmt: skip
    return _verdict("handle", value, "unknown", "no_resemblance", Reason.of("handle_unknown", handle=shown))


def _show(handle: Handle) -> str:
    return (f"{handle.platform}:" if handle.platform else "") + f"@{handle.name}"


# --- phones ---------------------------------------------------------------------------------


def _verify_phone(
    value: str, official: OfficialRegistry, _phishing: PhishingLists | None = None, _trust: bool = True
) -> Verdict:
    text = value.strip().removeprefix("tel:")
    phone = normalise_phone(text) if PHONE.match(text) else None
    if phone is None:
        return _verdict("phone", value, "unknown", "invalid", Reason.of("phone_invalid"))
    digits, international = phone
    shown = ("+" if international else "") + digits
    for known in official.phones:
        if digits == known:
            return _verdict(
                "phone",
                value,
                "official",
                "exact_match",
                Reason.of("phone_official", phone=shown),
                matched=f"+{known}",
            )
        if not international and len(digits) >= 7 and known.endswith(digits):
            return _verdict(
                "phone", value, "official", "national_format",
                Reason.of("phone_national", phone=shown, official=f"+{known}"), matched=f"+{known}",
            )  # fmt: skip
    return _verdict("phone", value, "unknown", "no_match", Reason.of("phone_unknown", phone=shown))


# --- wallet addresses -----------------------------------------------------------------------


def _verify_address(value: str, book: AddressBook) -> Verdict:
    """An address is never a support channel: whoever hands one out wants to be paid. An EVM
    address may still be one the operator publishes (a deposit address, a contract), a copy of
    one made for address poisoning, or on an imported scam list."""
    text = value.strip()
    if text[:2] in ("0x", "0X"):
        problem = evm_address_problem(text)
        if problem is not None:
            return _verdict("address", value, "unknown", "invalid", Reason.of(problem))
        return _judge_evm(value, text, book)
    chain = address_chain(text)
    if chain is None:
        return _verdict("address", value, "unknown", "invalid", Reason.of("not_a_contact"))
    return _verdict("address", value, "unknown", "wallet_address", Reason.of("wallet_address", chain=chain))


def _judge_evm(value: str, text: str, book: AddressBook) -> Verdict:
    lower = text.lower()
    shown = checksummed(lower)
    if any(known.address == lower for known in book.official):
        return _verdict(
            "address", value, "official", "exact_match", Reason.of("address_official", address=shown), matched=shown
        )  # fmt: skip
    listed = tuple(book.listed_in(lower))
    also = (Reason.of("address_also_listed", sources=",".join(listed)),) if listed else ()
    # The official address it copies most closely, if any (ties: the first in address order).
    copies = [known.address for known in book.official if looks_alike(lower, known.address)]
    if copies:
        genuine = max(sorted(copies), key=lambda a: likeness(lower, a).head + likeness(lower, a).tail)
        like = likeness(lower, genuine)
        return _verdict(
            "address", value, "impersonation", "lookalike",
            Reason.of(
                "address_lookalike", address=shown, genuine=checksummed(genuine), head=like.head, tail=like.tail
            ),
            Reason.of("address_poisoning"), *also,
            matched=checksummed(genuine), lists=listed,
        )  # fmt: skip
    if listed:
        return _verdict(
            "address", value, "scam", "listed", Reason.of("address_listed", address=shown, sources=",".join(listed)),
            matched=listed[0], lists=listed,
        )  # fmt: skip
    return _verdict("address", value, "unknown", "wallet_address", Reason.of("wallet_address", chain="evm"))


_JUDGES: dict[str, Callable[[str, OfficialRegistry, PhishingLists, bool], Verdict]] = {
    "url": _verify_url,
    "domain": _verify_url,
    "email": _verify_email,
    "handle": _verify_handle,
    "phone": _verify_phone,
}
