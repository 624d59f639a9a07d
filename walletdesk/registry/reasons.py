"""The verifier's explanations in the page's language.

The shield (pure Python, no Django) explains a verdict as reason codes with parameters and
words them in English only (``shield.reasons``). Here each code has the same English template
marked for translation, so the catalogue holds its Chinese, and a verdict is worded in the
language that is active for the request. ``tests/registry`` checks that every code of the shield
has a template here, with the same English and the same placeholders, so the two cannot drift.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from walletdesk import shield

TEMPLATES: dict[str, Promise] = {
    "url_invalid": _("This is not a web address that can be checked."),
    "domain_official": _("%(host)s is an official domain."),
    "domain_official_subdomain": _("%(host)s is a subdomain of the official domain %(domain)s."),
    "domain_allowlisted": _("%(host)s is on the imported allowlist."),
    "domain_blocklisted": _("%(host)s is on the imported phishing blocklist."),
    "domain_fuzzy": _(
        "%(registrable)s is within %(tolerance)s edit(s) of %(fuzzy)s, a name on the imported watch list."
    ),
    "domain_unknown": _("%(host)s is not an official domain."),
    "homograph_mixed_domain": _(
        "%(host)s mixes %(scripts)s letters to look like the official domain %(domain)s."
    ),
    "homograph_lookalike_domain": _(
        "%(host)s uses look-alike letters to look like the official domain %(domain)s."
    ),
    "homograph_mixed_name": _("%(host)s mixes %(scripts)s letters to imitate the name “%(name)s”."),
    "homograph_lookalike_name": _("%(host)s uses look-alike letters to imitate the name “%(name)s”."),
    "punycode": _("Written in punycode it is %(raw)s."),
    "brand_on_hosting": _(
        "%(host)s puts the official name “%(name)s” under %(suffix)s, where anyone can create a site."
    ),
    "suffix_swap": _(
        "%(registrable)s uses the official name “%(name)s” with a different ending "
        "(.%(suffix)s instead of .%(official_suffix)s)."
    ),
    "typosquat_lookalike": _(
        "%(registrable)s swaps letters for look-alikes (0/o, 1/l, rn/m, vv/w) to imitate %(domain)s."
    ),
    "typosquat_one_typo": _("%(registrable)s is one typo away from the official %(domain)s (%(typo)s)."),
    "hosting_platform": _("It is hosted on %(suffix)s, where anyone can create a site."),
    "combosquat_domain": _("%(registrable)s runs the official domain %(domain)s into a new name."),
    "combosquat_brand": _(
        "%(registrable)s adds words to the brand name “%(brand)s” to look official; it is not an official domain."
    ),
    "subdomain_domain": _(
        "%(host)s starts with the official %(domain)s, but the site actually belongs to %(registrable)s."
    ),
    "subdomain_brand": _(
        "%(host)s puts the brand “%(brand)s” in front of %(registrable)s, which is not an official domain."
    ),
    "userinfo_trick": _(
        "The address shows “%(userinfo)s” before an “@”, but the browser actually opens %(host)s."
    ),
    "third_party_platform": _(
        "%(host)s is a third-party platform; a page there that mentions the brand is not an official channel."
    ),
    "brand_in_path": _(
        "%(host)s is not an official domain, but its link path uses the brand name to look official."
    ),
    "email_invalid": _("This is not an email address that can be checked."),
    "email_official": _("%(address)s is an official address."),
    "email_official_domain": _("%(address)s is at the official domain %(domain)s."),
    "email_unlisted": _(
        "%(address)s is at an official domain but is not one of the listed support addresses."
    ),
    "email_domain": _("The email domain:"),
    "brand_on_freemail": _(
        "%(address)s uses the brand name on a free mail service (%(domain)s); official support never writes "
        "from free mail."
    ),
    "brand_in_local_part": _(
        "%(address)s uses the brand name at %(domain)s, which is not an official domain."
    ),
    "email_unknown": _("%(address)s is not an official address."),
    "handle_invalid": _("This is not a handle that can be checked."),
    "handle_official": _("%(handle)s is an official account."),
    "handle_official_on": _(
        "%(handle)s is our official account on %(platforms)s. On any other platform, an account with this name "
        "is not us."
    ),
    "handle_wrong_platform": _(
        "%(handle)s is official only on %(platforms)s; the account on %(platform)s is not ours."
    ),
    "handle_decorated": _(
        "%(handle)s is the name of our official account %(official)s with something added. We have no other "
        "support accounts: this one is fake."
    ),
    "handle_lookalike": _(
        "%(handle)s imitates the official %(official)s with look-alike characters or separators."
    ),
    "handle_near_miss": _("%(handle)s is a near miss of the official %(official)s."),
    "handle_brand": _("%(handle)s uses the brand name “%(brand)s” but is not an official account."),
    "handle_unknown": _("%(handle)s is not an official account."),
    "phone_invalid": _("This is not a phone number that can be checked."),
    "phone_official": _("%(phone)s is an official phone number."),
    "phone_national": _(
        "%(phone)s is an official phone number written without its country code (%(official)s)."
    ),
    "phone_unknown": _("%(phone)s is not an official phone number."),
    "address_official": _("%(address)s is an official address of ours."),
    "address_lookalike": _(
        "%(address)s is not ours: it copies the first %(head)s and last %(tail)s characters of our official "
        "address %(genuine)s, but the middle is different."
    ),
    "address_poisoning": _(
        "This is address poisoning: scammers send a small or zero-value transfer from a lookalike address so "
        "that you copy it from your history. Always compare the whole address."
    ),
    "address_listed": _("%(address)s is on the imported scam address list %(sources)s."),
    "address_also_listed": _("It is also on the imported scam address list %(sources)s."),
    "address_bad_prefix": _("An Ethereum address starts with “0x” (a zero and a small x)."),
    "address_bad_hex": _("An Ethereum address holds only the digits 0-9 and the letters a-f after “0x”."),
    "address_wrong_length": _(
        "An Ethereum address has exactly 40 characters after “0x”; this one does not. Copy it again in full."
    ),
    "address_bad_checksum": _(
        "The capital letters of this address do not match its checksum (EIP-55): it was mistyped or altered. "
        "Copy it again from the original."
    ),
    "wallet_address": _(
        "This is a wallet address (%(chain)s), not a way to contact us. Support never asks you to send crypto "
        "to any address."
    ),
    "secret_entered": _(
        "This looks like a recovery phrase or a private key. Never give it to anyone: support never asks for it. "
        "If you already did, move your funds to a new wallet now."
    ),
    "hex_secret_or_hash": _(
        "This 64-character code is a transaction hash or a private key, not a contact. If it is a private key, "
        "never show it to anyone."
    ),
    "not_a_contact": _(
        "This does not look like a link, an email address, a phone number, an account name or a wallet address."
    ),
    # Scam signals in a customer's text, shown to agents as the ticket's flags
    "scam_fee_request": _("Asks for a fee to unlock, verify or release funds; real support is free."),
    "scam_remote_access": _(
        "Mentions a remote-control or screen-sharing app; support never needs control of your device."
    ),
    "scam_urgency": _("Pressure with a deadline or a threat of freezing the account."),
    "scam_secret_request": _("Asks for the recovery phrase or private key; nobody legitimate ever does."),
    "link_unofficial": _("Links to %(url)s, which is not an official site."),
    # Risks in an agent's reply, shown when the outbound guard holds it
    "reply_fee_request": _("The reply asks the customer to pay a fee."),
    "reply_payment_request": _("The reply asks the customer to send funds."),
    "reply_secret_request": _("The reply asks for a recovery phrase or private key."),
}

WORDS: dict[str, Promise] = {
    "typo.doubled_letter": _("a doubled letter"),
    "typo.extra_letter": _("an extra letter"),
    "typo.missing_letter": _("a missing letter"),
    "typo.swapped_letters": _("two letters swapped"),
    "typo.changed_letter": _("one letter changed"),
    "script.LATIN": _("Latin"),
    "script.CYRILLIC": _("Cyrillic"),
    "script.GREEK": _("Greek"),
    "script.ARMENIAN": _("Armenian"),
    "platform.x": _("X"),
    "platform.telegram": _("Telegram"),
    "platform.weibo": _("Weibo"),
    "platform.wechat": _("WeChat"),
    "platform.discord": _("Discord"),
    "platform.youtube": _("YouTube"),
    "platform.facebook": _("Facebook"),
    "platform.instagram": _("Instagram"),
    "platform.reddit": _("Reddit"),
    "platform.github": _("GitHub"),
    "platform.medium": _("Medium"),
    "platform.tiktok": _("TikTok"),
    "platform.douyin": _("Douyin"),
    "platform.line": _("LINE"),
    "platform.kakao": _("Kakao"),
    "chain.evm": _("Ethereum or another EVM chain"),
    "chain.tron": _("TRON"),
    "chain.bitcoin": _("Bitcoin"),
    "chain.solana": _("Solana"),
    "handle_on": _("%(name)s on %(platform)s"),
}

KIND_LABELS: dict[str, Promise] = {
    "url": _("a website or link"),
    "email": _("an email address"),
    "phone": _("a phone number"),
    "handle": _("a social account"),
    "address": _("a wallet address"),
}

ADVICE: dict[str, Promise] = {
    "official": _(
        "This is an official channel. Support will never ask for your recovery phrase, private key or any payment."
    ),
    "impersonation": _(
        "This imitates an official channel. Do not open it, do not sign in, and never enter your recovery phrase "
        "or pay any fee there."
    ),
    "scam": _(
        "This address is on a list of known scam addresses. Do not send anything to it; if you already did, "
        "report it to us now and keep your transaction hash."
    ),
    "unknown": _(
        "This is not one of our official channels. Our support is free and only reachable through the channels "
        "listed in the app."
    ),
}


ADDRESS_ADVICE: dict[str, Promise] = {
    "official": _(
        "This is an official address of ours. Support will still never ask you to send crypto to any address, "
        "nor for your recovery phrase or private key."
    ),
    "impersonation": _(
        "This address imitates one of ours. Do not send anything to it, and never copy an address from your "
        "transaction history: take it from the original source and compare it in full."
    ),
}


def _chinese_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "、".join(items[:-1]) + "和" + items[-1]


def wording() -> shield.Wording:
    """The active language's wording (Chinese sentences are not separated by spaces)."""
    chinese = (get_language() or "").startswith("zh")
    templates = {key: str(template) for key, template in TEMPLATES.items()}
    words = {key: str(text) for key, text in WORDS.items()}
    if chinese:
        return shield.Wording(templates, words, join_list=_chinese_list, separator="")
    return shield.Wording(templates, words)


def explain(verdict: shield.Verdict) -> str:
    """Why, in the active language."""
    return shield.render_reasons(verdict.reasons, wording()) if verdict.reasons else verdict.reason


def advice(verdict: shield.Verdict) -> str:
    if verdict.advice_key.startswith("shield.address."):
        return str(ADDRESS_ADVICE[verdict.status])
    return str(ADVICE[verdict.status])


def kind_label(kind: str) -> str:
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else ""
