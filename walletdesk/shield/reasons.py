"""Why a verdict was reached, as codes with parameters, and their English wording.

The verifier explains itself in sentences (:class:`Reason`: a key and its parameters) rather
than finished text, so a page can word the same explanation in its own language: the registry
layer holds the translated templates (gettext) and renders them with :func:`render` and its own
:class:`Wording`; this module holds only the English, which the API's ``reason`` field and the
agents' scam flags keep using. Templates use ``%(name)s`` placeholders (gettext's python-format).

Some parameters are codes that need wording too: ``typo`` (what kind of typo), ``scripts``
(comma-separated Unicode script names), ``platform`` / ``platforms`` (platform codes),
``chain`` (address family), ``sources`` (comma-separated list names), and ``handle`` / ``official`` (``[platform:]@name``).
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    key: str
    params: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, key: str, **params: object) -> "Reason":
        return cls(key, tuple((name, str(value)) for name, value in params.items()))

    @property
    def args(self) -> dict[str, str]:
        return dict(self.params)


ENGLISH: dict[str, str] = {
    # Links and domains
    "url_invalid": "This is not a web address that can be checked.",
    "domain_official": "%(host)s is an official domain.",
    "domain_official_subdomain": "%(host)s is a subdomain of the official domain %(domain)s.",
    "domain_allowlisted": "%(host)s is on the imported allowlist.",
    "domain_blocklisted": "%(host)s is on the imported phishing blocklist.",
    "domain_fuzzy": "%(registrable)s is within %(tolerance)s edit(s) of %(fuzzy)s, a name on the imported watch list.",
    "domain_unknown": "%(host)s is not an official domain.",
    "homograph_mixed_domain": "%(host)s mixes %(scripts)s letters to look like the official domain %(domain)s.",
    "homograph_lookalike_domain": "%(host)s uses look-alike letters to look like the official domain %(domain)s.",
    "homograph_mixed_name": "%(host)s mixes %(scripts)s letters to imitate the name “%(name)s”.",
    "homograph_lookalike_name": "%(host)s uses look-alike letters to imitate the name “%(name)s”.",
    "punycode": "Written in punycode it is %(raw)s.",
    "brand_on_hosting": "%(host)s puts the official name “%(name)s” under %(suffix)s, where anyone can create a site.",
    "suffix_swap": "%(registrable)s uses the official name “%(name)s” with a different ending "
    "(.%(suffix)s instead of .%(official_suffix)s).",
    "typosquat_lookalike": "%(registrable)s swaps letters for look-alikes (0/o, 1/l, rn/m, vv/w) to imitate %(domain)s.",
    "typosquat_one_typo": "%(registrable)s is one typo away from the official %(domain)s (%(typo)s).",
    "hosting_platform": "It is hosted on %(suffix)s, where anyone can create a site.",
    "combosquat_domain": "%(registrable)s runs the official domain %(domain)s into a new name.",
    "combosquat_brand": "%(registrable)s adds words to the brand name “%(brand)s” to look official; "
    "it is not an official domain.",
    "subdomain_domain": "%(host)s starts with the official %(domain)s, but the site actually belongs to %(registrable)s.",
    "subdomain_brand": "%(host)s puts the brand “%(brand)s” in front of %(registrable)s, which is not an official domain.",
    "userinfo_trick": "The address shows “%(userinfo)s” before an “@”, but the browser actually opens %(host)s.",
    "third_party_platform": "%(host)s is a third-party platform; a page there that mentions the brand is not an "
    "official channel.",
    "brand_in_path": "%(host)s is not an official domain, but its link path uses the brand name to look official.",
    # Email
    "email_invalid": "This is not an email address that can be checked.",
    "email_official": "%(address)s is an official address.",
    "email_official_domain": "%(address)s is at the official domain %(domain)s.",
    "email_unlisted": "%(address)s is at an official domain but is not one of the listed support addresses.",
    "email_domain": "The email domain:",
    "brand_on_freemail": "%(address)s uses the brand name on a free mail service (%(domain)s); official support "
    "never writes from free mail.",
    "brand_in_local_part": "%(address)s uses the brand name at %(domain)s, which is not an official domain.",
    "email_unknown": "%(address)s is not an official address.",
    # Social accounts
    "handle_invalid": "This is not a handle that can be checked.",
    "handle_official": "%(handle)s is an official account.",
    "handle_official_on": "%(handle)s is our official account on %(platforms)s. On any other platform, an account "
    "with this name is not us.",
    "handle_wrong_platform": "%(handle)s is official only on %(platforms)s; the account on %(platform)s is not ours.",
    "handle_decorated": "%(handle)s is the name of our official account %(official)s with something added. "
    "We have no other support accounts: this one is fake.",
    "handle_lookalike": "%(handle)s imitates the official %(official)s with look-alike characters or separators.",
    "handle_near_miss": "%(handle)s is a near miss of the official %(official)s.",
    "handle_brand": "%(handle)s uses the brand name “%(brand)s” but is not an official account.",
    "handle_unknown": "%(handle)s is not an official account.",
    # Phones
    "phone_invalid": "This is not a phone number that can be checked.",
    "phone_official": "%(phone)s is an official phone number.",
    "phone_national": "%(phone)s is an official phone number written without its country code (%(official)s).",
    "phone_unknown": "%(phone)s is not an official phone number.",
    # EVM addresses (#21)
    "address_official": "%(address)s is an official address of ours.",
    "address_lookalike": "%(address)s is not ours: it copies the first %(head)s and last %(tail)s characters of "
    "our official address %(genuine)s, but the middle is different.",
    "address_poisoning": "This is address poisoning: scammers send a small or zero-value transfer from a lookalike "
    "address so that you copy it from your history. Always compare the whole address.",
    "address_listed": "%(address)s is on the imported scam address list %(sources)s.",
    "address_also_listed": "It is also on the imported scam address list %(sources)s.",
    "address_bad_prefix": "An Ethereum address starts with “0x” (a zero and a small x).",
    "address_bad_hex": "An Ethereum address holds only the digits 0-9 and the letters a-f after “0x”.",
    "address_wrong_length": "An Ethereum address has exactly 40 characters after “0x”; this one does not. "
    "Copy it again in full.",
    "address_bad_checksum": "The capital letters of this address do not match its checksum (EIP-55): it was "
    "mistyped or altered. Copy it again from the original.",
    # Not a contact at all
    "wallet_address": "This is a wallet address (%(chain)s), not a way to contact us. Support never asks you to "
    "send crypto to any address.",
    "secret_entered": "This looks like a recovery phrase or a private key. Never give it to anyone: support never "
    "asks for it. If you already did, move your funds to a new wallet now.",
    "hex_secret_or_hash": "This 64-character code is a transaction hash or a private key, not a contact. If it is "
    "a private key, never show it to anyone.",
    "not_a_contact": "This does not look like a link, an email address, a phone number, an account name or a "
    "wallet address.",
    # Scam signals in a customer's text (scam.scam_signals), shown to agents as flags
    "scam_fee_request": "Asks for a fee to unlock, verify or release funds; real support is free.",
    "scam_remote_access": "Mentions a remote-control or screen-sharing app; support never needs control of "
    "your device.",
    "scam_urgency": "Pressure with a deadline or a threat of freezing the account.",
    "scam_secret_request": "Asks for the recovery phrase or private key; nobody legitimate ever does.",
    "link_unofficial": "Links to %(url)s, which is not an official site.",
    # Risks in an agent's reply (scam.outbound_reply_risks), shown when the reply is held
    "reply_fee_request": "The reply asks the customer to pay a fee.",
    "reply_payment_request": "The reply asks the customer to send funds.",
    "reply_secret_request": "The reply asks for a recovery phrase or private key.",
}

# Words inside sentences, by code.
ENGLISH_WORDS: dict[str, str] = {
    "typo.doubled_letter": "a doubled letter",
    "typo.extra_letter": "an extra letter",
    "typo.missing_letter": "a missing letter",
    "typo.swapped_letters": "two letters swapped",
    "typo.changed_letter": "one letter changed",
    "script.LATIN": "Latin",
    "script.CYRILLIC": "Cyrillic",
    "script.GREEK": "Greek",
    "script.ARMENIAN": "Armenian",
    "platform.x": "X",
    "platform.telegram": "Telegram",
    "platform.weibo": "Weibo",
    "platform.wechat": "WeChat",
    "platform.discord": "Discord",
    "platform.youtube": "YouTube",
    "platform.facebook": "Facebook",
    "platform.instagram": "Instagram",
    "platform.reddit": "Reddit",
    "platform.github": "GitHub",
    "platform.medium": "Medium",
    "platform.tiktok": "TikTok",
    "platform.douyin": "Douyin",
    "platform.line": "LINE",
    "platform.kakao": "Kakao",
    "chain.evm": "Ethereum or another EVM chain",
    "chain.tron": "TRON",
    "chain.bitcoin": "Bitcoin",
    "chain.solana": "Solana",
    "handle_on": "%(name)s on %(platform)s",
}


def _english_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True, slots=True)
class Wording:
    """One language's templates, words, list joining and sentence separator."""

    templates: Mapping[str, str]
    words: Mapping[str, str]
    join_list: Callable[[list[str]], str] = _english_list
    separator: str = " "


ENGLISH_WORDING = Wording(ENGLISH, ENGLISH_WORDS)
# Parameters whose value is a code to be worded, not shown as is.
_WORDED = {"typo", "scripts", "platform", "platforms", "chain", "handle", "official", "sources"}


def word(wording: Wording, name: str, value: str) -> str:
    words = wording.words
    if name == "typo" or name == "chain":
        return words.get(f"{name}.{value}", value)
    if name == "scripts":
        return wording.join_list([words.get(f"script.{s}", s.title()) for s in value.split(",") if s])
    if name == "platform":
        return words.get(f"platform.{value}", value)
    if name == "sources":  # names of imported lists, shown as they are, joined as a list
        return wording.join_list([f"“{source}”" for source in value.split(",") if source])
    if name == "platforms":
        return wording.join_list([words.get(f"platform.{p}", p) for p in value.split(",") if p])
    if name in ("handle", "official"):
        platform, colon, at_name = value.rpartition(":")
        if not colon or not platform:
            return value
        return words["handle_on"] % {"name": at_name, "platform": words.get(f"platform.{platform}", platform)}
    return value


def render(reasons: Iterable[Reason], wording: Wording = ENGLISH_WORDING) -> str:
    sentences = []
    for reason in reasons:
        args = {
            name: word(wording, name, value) if name in _WORDED else value for name, value in reason.params
        }
        sentences.append(wording.templates[reason.key] % args)
    return wording.separator.join(sentences)
