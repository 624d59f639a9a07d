"""The judgement behind "is this official?": what a pasted value is, and whether it is ours.

The registry is the one `walletdesk up --demo` registers. Before #20 the page's default type
("website or link") judged the official "@imToken" as "not on our official list" and a fake
"@imToken_support" got the same mild answer; these tests pin the fix.
"""

from __future__ import annotations

import pytest

from walletdesk.shield import (
    ENGLISH_WORDS,
    REASONS_EN,
    SECRET_CODES,
    OfficialRegistry,
    detect_kind,
    render_reasons,
    verify_contact,
)

REGISTRY = OfficialRegistry.from_pairs(
    [
        ("domain", "token.im"),
        ("email", "support@token.im"),
        ("handle", "x:@imTokenOfficial"),
        ("handle", "telegram:@imToken"),
        ("handle", "wechat:imToken钱包"),
        ("handle", "weibo:@imToken"),
        ("phone", "+85212345678"),
    ]
)
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.mark.parametrize(
    "value, kind",
    [
        ("https://token.im/download", "url"),
        ("token.im", "url"),
        ("imtoken-support.com", "url"),
        ("hxxps://imt0ken[.]com", "url"),
        ("support@token.im", "email"),
        ("mailto:help@token.im", "email"),
        ("imToken Support <support@token.im>", "email"),
        ("+852 1234 5678", "phone"),
        ("(852) 1234-5678", "phone"),
        ("tel:+85212345678", "phone"),
        ("@imToken", "handle"),
        ("＠imToken", "handle"),
        ("imToken", "handle"),
        ("imToken钱包", "handle"),
        ("telegram:@imToken", "handle"),
        ("x：@imTokenOfficial", "handle"),
        ("0x52908400098527886E0F7030069857D2E4169EE7", "address"),
        ("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "address"),
        ("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "address"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "address"),
        ("7EcDhSYGxXyscszYEp35KHN8vvw3svAuLKTzXwCFLtV", "address"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hex64"),
        ("hello there, I am support", None),
        ("", None),
    ],
)
def test_the_kind_is_read_from_the_value(value: str, kind: str | None) -> None:
    assert detect_kind(value) == kind


@pytest.mark.parametrize("kind", [None, "auto", "url", "handle", "phone", "email"])
def test_the_official_handle_is_official_whatever_type_was_chosen(kind: str | None) -> None:
    # "url" was the page's default: the one that said "not on our official list".
    verdict = verify_contact(kind, "@imToken", REGISTRY)
    assert (verdict.status, verdict.kind, verdict.code) == ("official", "handle", "exact_match")
    # Ours on Telegram and Weibo only: the answer says where, so "@imToken" on X is not trusted.
    assert "Telegram and Weibo" in verdict.reason


def test_the_official_name_on_another_platform_is_not_us() -> None:
    verdict = verify_contact(None, "x:@imToken", REGISTRY)
    assert verdict.status == "impersonation" and verdict.code == "not_registered_on_platform"
    assert verdict.reason == "@imtoken is official only on Telegram and Weibo; the account on X is not ours."
    assert verify_contact(None, "https://t.me/imToken", REGISTRY).status == "official"
    assert verify_contact(None, "https://x.com/imToken", REGISTRY).status == "impersonation"


@pytest.mark.parametrize(
    "fake, code, sentence",
    [
        ("@imToken_support", "combosquat", "handle_decorated"),
        ("@imToken_help", "combosquat", "handle_decorated"),
        ("@imTokenHelp", "combosquat", "handle_decorated"),
        ("@support_imToken", "combosquat", "handle_decorated"),
        ("@imToken2", "combosquat", "handle_decorated"),
        ("@imToken_2024", "combosquat", "handle_decorated"),
        ("@imTokenOfficial_CN", "combosquat", "handle_decorated"),
        ("@imToken_official", "typosquat", "handle_lookalike"),  # the X account with an "_"
        ("@imT0ken", "typosquat", "handle_lookalike"),  # zero for o
        ("@lmToken", "typosquat", "handle_lookalike"),  # l for i
        ("@іmToken", "homograph", "handle_lookalike"),  # Cyrillic і
        ("@imТoken", "homograph", "handle_lookalike"),  # Cyrillic Т
        ("@ｉmToken_support", "homograph", "handle_decorated"),  # full-width i
        ("imToken钱包客服", "homograph", "handle_decorated"),
        ("https://t.me/imToken_support", "combosquat", "handle_decorated"),
    ],
)
@pytest.mark.parametrize("kind", [None, "url", "handle"])
def test_a_lookalike_of_an_official_handle_is_a_clear_impersonation(
    fake: str, code: str, sentence: str, kind: str | None
) -> None:
    verdict = verify_contact(kind, fake, REGISTRY)
    assert (verdict.status, verdict.code) == ("impersonation", code), verdict
    assert verdict.reasons[0].key == sentence
    assert verdict.matched is not None and "imtoken" in verdict.matched  # names the account it copies


def test_an_unrelated_handle_is_unknown_not_a_lookalike() -> None:
    verdict = verify_contact(None, "@alice_cooks", REGISTRY)
    assert (verdict.status, verdict.code) == ("unknown", "no_resemblance")


@pytest.mark.parametrize(
    "value, status, code",
    [
        ("https://token.im/download", "official", "exact_match"),
        ("https://help.token.im", "official", "official_subdomain"),
        ("imt0ken.com", "impersonation", "combosquat"),
        ("https://token.im@evil.io", "impersonation", "userinfo_trick"),
        ("token-im.example.net", "unknown", "no_resemblance"),
        ("support@token.im", "official", "exact_match"),
        ("imToken Support <support@token.im>", "official", "exact_match"),
        ("imtoken.support@gmail.com", "impersonation", "brand_on_freemail"),
        ("+852 1234 5678", "official", "exact_match"),
        ("1234 5678", "official", "national_format"),
        ("+1 555 0100", "unknown", "no_match"),
    ],
)
def test_links_emails_and_phones_detected_and_judged(value: str, status: str, code: str) -> None:
    verdict = verify_contact(None, value, REGISTRY)
    assert (verdict.status, verdict.code) == (status, code)


@pytest.mark.parametrize(
    "value",
    [
        "Call +852 1234 5678 for your refund",  # a scammer's sentence around our number
        "refund desk call 555 support@token.im",
        "support@token.im is official, now pay the fee at evil.io",
    ],
)
def test_words_around_an_official_contact_are_not_official(value: str) -> None:
    # A link to the check page carrying such a value must not make the page say "official"
    # next to the scammer's words.
    for kind in (None, "phone", "email"):
        assert verify_contact(kind, value, REGISTRY).status != "official", (kind, value)


@pytest.mark.parametrize(
    "address, chain",
    [
        ("0x52908400098527886E0F7030069857D2E4169EE7", "evm"),
        ("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", "tron"),
        ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bitcoin"),
    ],
)
def test_a_wallet_address_is_never_a_support_channel(address: str, chain: str) -> None:
    for kind in (None, "address", "url"):
        verdict = verify_contact(kind, address, REGISTRY)
        assert (verdict.kind, verdict.status, verdict.code) == ("address", "unknown", "wallet_address")
        assert verdict.reasons[0].args == {"chain": chain}
        assert "never asks you to send crypto" in verdict.reason


@pytest.mark.parametrize("kind", [None, "url", "handle", "email"])
def test_a_recovery_phrase_pasted_into_the_check_is_answered_as_a_secret(kind: str | None) -> None:
    verdict = verify_contact(kind, PHRASE, REGISTRY)
    assert (verdict.kind, verdict.code) == ("secret", "secret_entered") and verdict.code in SECRET_CODES
    assert "legal" not in verdict.reason and not any(
        "legal" in v for r in verdict.reasons for _, v in r.params
    )


@pytest.mark.parametrize(
    "value",
    [
        "0x3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ],
)
def test_a_bare_64_hex_string_may_be_a_key_and_is_answered_as_a_secret(value: str) -> None:
    verdict = verify_contact(None, value, REGISTRY)
    assert verdict.kind == "secret" and verdict.code in SECRET_CODES


def test_an_explicit_kind_keeps_its_old_answer_when_the_value_fits_it() -> None:
    # "support@token.im" as a link has always been the site token.im (a user name before "@").
    assert verify_contact("url", "support@token.im", REGISTRY).kind == "url"
    with pytest.raises(ValueError):
        verify_contact("fax", "x", REGISTRY)


def test_every_reason_code_has_english_and_renders_its_parameters() -> None:
    values = [
        "https://token.im",
        "іmtoken.com",
        "xn--mtoken-ovf.com",
        "imtokken.com",
        "imtoken.github.io",
        "imtoken-support.com",
        "token.com",
        "imtoken.com.evil.io",
        "https://evil.io/imtoken",
        "https://github.com/imtoken",
        "imtoken.support@gmail.com",
        "help@token.im",
        "telegram:@imToken",
        "x:@imToken",
        "@imToken_support",
        "@imT0ken",
        "+852 1234 5678",
        "0x52908400098527886E0F7030069857D2E4169EE7",
    ]
    seen = set()
    for value in values:
        verdict = verify_contact(None, value, REGISTRY)
        assert verdict.reasons, value
        assert render_reasons(verdict.reasons) == verdict.reason
        assert "%(" not in verdict.reason and "_" not in verdict.reason.replace("@imtoken_support", "")
        seen |= {r.key for r in verdict.reasons}
    assert seen <= set(REASONS_EN)
    assert (
        "typo.doubled_letter" in ENGLISH_WORDS
        and "Latin" in verify_contact(None, "іmtoken.com", REGISTRY).reason
    )
