"""The "is this official?" page (/verify/): the verdict in the page's language, icons that ship
with the page, a report form that already holds the value, and nothing secret shown back."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.utils import translation

from walletdesk import shield
from walletdesk.registry import reasons

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
EMOJI = re.compile("[\u2600-\u27bf\U0001f300-\U0001faff]")
pytestmark = pytest.mark.django_db


def _client(language: str) -> Client:
    return Client(headers={"Accept-Language": language})


def _verdict(page: Any) -> str:
    """The verdict card's visible text."""
    text = page.content.decode()
    card = re.search(r'<section [^>]*data-testid="verdict".*?</section>', text, re.S)
    assert card, text
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card.group())))


def _status(page: Any) -> str:
    found = re.search(r'data-testid="verdict" data-status="(\w+)"', page.content.decode())
    assert found
    return found.group(1)


def test_the_official_handle_is_official_on_the_default_type_in_chinese(official: None) -> None:
    # Before #20: the default type judged it as a link: "不在我们的官方名单中" and an English reason.
    for query in (
        {"value": "@imToken"},
        {"value": "@imToken", "kind": "url"},
        {"value": "@imToken", "kind": ""},
    ):
        page = _client("zh-hans").get("/verify/", query)
        assert page.status_code == 200 and _status(page) == "official"
        shown = _verdict(page)
        assert "@imtoken 是我们在Telegram和微博上的官方账号" in shown, shown
        assert "official account" not in shown and not re.search(r"\b(is|the|not)\b", shown)


def test_a_fake_support_handle_gets_a_clear_warning_in_the_page_language(official: None) -> None:
    page = _client("zh-hans").get("/verify/", {"value": "@imToken_support"})
    assert _status(page) == "impersonation"
    shown = _verdict(page)
    assert "假冒：这不是我们" in shown and "这个是假的" in shown and "@imtoken（Telegram）" in shown
    assert not re.search(r"[A-Za-z]{4,} [a-z]{3,}", shown.replace("Telegram", "")), (
        shown
    )  # no English sentence
    page = _client("en").get("/verify/", {"value": "@imToken_support"})
    assert "Fake: this is not us" in _verdict(page) and "this one is fake" in _verdict(page)


def test_the_verdict_uses_shipped_icons_not_emoji(official: None) -> None:
    for value in ("token.im", "@imToken_support", "+1 555 0100"):
        page = _client("en").get("/verify/", {"value": value})
        text = page.content.decode()
        card = text[text.index('data-testid="verdict"') :]
        assert '<svg class="verdict-icon"' in card and not EMOJI.search(card), value


def test_report_carries_the_checked_value_into_the_report_form(official: None) -> None:
    client = _client("zh-hans")
    page = client.get("/verify/", {"value": "@imToken_support"})
    link = html.unescape(re.search(r'data-testid="report" href="([^"]+)"', page.content.decode()).group(1))
    query = parse_qs(urlsplit(link).query)
    assert urlsplit(link).path == "/new/" and query["category"] == ["scam_report"]
    form = client.get(link).content.decode()
    # The subject and the description hold the handle and what we said about it, in Chinese.
    assert 'value="假客服：@imToken_support"' in form
    assert "我在“这是官方的吗？”页面检查了“@imToken_support”" in html.unescape(form)


def test_a_reported_wallet_address_fills_the_address_fact(official: None) -> None:
    address = "0x52908400098527886E0F7030069857D2E4169EE7"
    client = _client("en")
    page = client.get("/verify/", {"value": address})
    assert "A wallet address, not a contact" in _verdict(page)
    link = html.unescape(re.search(r'data-testid="report" href="([^"]+)"', page.content.decode()).group(1))
    form = client.get(link).content.decode()
    assert re.search(
        rf'name="wallet_address"[^>]*value="{address}"|value="{address}"[^>]*name="wallet_address"', form
    )


def test_official_channels_offer_no_report_and_show_the_channel_not_the_text(official: None) -> None:
    page = _client("en").get("/verify/", {"kind": "url", "value": "https://token.im/ call +1 555 0100 now"})
    assert _status(page) == "official"
    assert "555" not in _verdict(page) and "token.im is an official domain." in _verdict(page)
    assert 'data-testid="report"' not in page.content.decode()


def test_a_recovery_phrase_is_not_kept_in_the_page_or_its_address(official: None) -> None:
    client = _client("zh-hans")
    for kind in ("", "url", "handle"):
        answer = client.get("/verify/", {"value": PHRASE, "kind": kind})
        assert answer.status_code == 302 and "legal" not in answer["Location"]
        page = client.get(answer["Location"])
        assert "legal" not in page.content.decode()
        assert "停！绝不要泄露这些内容" in _verdict(page) and "助记词" in _verdict(page)
        assert 'data-testid="report"' not in page.content.decode()


def test_old_form_links_still_answer(official: None) -> None:
    client = _client("en")
    assert (
        _status(client.get("/verify/", {"kind": "url", "value": "https://token.im/download"})) == "official"
    )
    assert _status(client.get("/verify/", {"kind": "email", "value": "support@token.im"})) == "official"
    assert _status(client.get("/verify/", {"kind": "handle", "value": "telegram:@imToken"})) == "official"
    assert _status(client.get("/verify/", {"kind": "url", "value": "imt0ken.com"})) == "impersonation"
    assert (
        client.get("/verify/", {"kind": "fax", "value": "x"}).status_code == 200
    )  # the form shows the error


def test_what_a_scammer_types_is_escaped(official: None) -> None:
    page = _client("en").get("/verify/", {"value": '@imToken"><script>alert(1)</script>'})
    assert "<script>alert(1)" not in page.content.decode()


# --- the catalogue ------------------------------------------------------------------------------


def test_every_reason_code_is_worded_here_with_the_shields_english() -> None:
    assert set(reasons.TEMPLATES) == set(shield.REASONS_EN)
    assert set(reasons.WORDS) == set(shield.ENGLISH_WORDS)
    with translation.override("en"):
        for key, english in shield.REASONS_EN.items():
            assert str(reasons.TEMPLATES[key]) == english, key
        for key, english in shield.ENGLISH_WORDS.items():
            assert str(reasons.WORDS[key]) == english, key
        for status in ("official", "impersonation", "unknown"):
            assert str(reasons.ADVICE[status]) == shield.ADVICE[f"shield.contact.{status}"]


@pytest.mark.parametrize("language", ["zh-hans", "zh-hant"])
def test_every_reason_is_translated_with_the_same_placeholders(language: str) -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    with translation.override(language):
        for key, english in shield.REASONS_EN.items():
            translated = str(reasons.TEMPLATES[key])
            assert translated != english, key
            assert re.search(r"[\u4e00-\u9fff]", translated), key
            assert sorted(placeholder.findall(translated)) == sorted(placeholder.findall(english)), key
            assert translated.endswith(("。", "：")), key  # Chinese sentences end with Chinese punctuation
        for label in [*reasons.ADVICE.values(), *reasons.KIND_LABELS.values()]:
            assert re.search(r"[\u4e00-\u9fff]", str(label)), label
        # Hong Kong and Taiwan read Traditional characters (ready for the zh-hant interface).
        traditional = str(reasons.TEMPLATES["handle_decorated"])
        assert ("這個是假的" in traditional) == (language == "zh-hant"), traditional


@pytest.mark.parametrize(
    ("language", "address"),
    [("en", "wallet address"), ("zh-hans", "钱包地址"), ("zh-hant", "錢包地址"), ("zh-TW", "錢包地址")],
)
def test_the_subtitle_says_a_wallet_address_can_be_checked_too(language: str, address: str) -> None:
    page = _client(language).get("/verify/")
    subtitle = re.search(r"<h1>.*?</h1>\s*<p[^>]*>(.*?)</p>", page.content.decode(), re.S)
    assert subtitle, page.content.decode()
    assert address in html.unescape(subtitle.group(1))
