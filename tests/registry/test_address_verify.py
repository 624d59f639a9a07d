"""Addresses in the public verifier (#21): GET /api/v1/verify and /verify/ answer official,
impersonation, scam (naming the list) or unknown; malformed input is a 422 in the error shape;
a key or phrase pasted into the address check is answered as a secret and never echoed, stored
or logged; a verdict costs at most two queries; only administrators edit official addresses."""

from __future__ import annotations

import html
import logging
import random
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from eth_utils import to_checksum_address

from walletdesk.core.models import AuditEntry
from walletdesk.registry import actions, lookups
from walletdesk.registry.models import AddressList, ListedAddress, OfficialAddress

OFFICIAL = "0x52908400098527886e0f7030069857d2e4169ee7"
CONTRACT = "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"
LOOKALIKE = "0x52908" + "c0ffee" * 5 + "a" + "9ee7"  # both ends of OFFICIAL, another middle
LISTED = "0x000000000000000000000000000000000000dead"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
pytestmark = pytest.mark.django_db


@pytest.fixture
def addresses(db: Any) -> Iterator[None]:
    OfficialAddress.objects.create(
        address=OFFICIAL, purpose="deposit", label_en="USDT deposit", label_zh="USDT 充值地址"
    )
    OfficialAddress.objects.create(
        address=CONTRACT, chain_id=1, label_en="Token contract", label_zh="代币合约"
    )
    actions.import_address_list("scamsniffer", [f"{LISTED}\n", f"{LOOKALIKE}\n"])
    actions.import_address_list("chainabuse", [f"{LISTED.upper().replace('0X', '0x')}\n"])
    lookups.forget()
    yield
    lookups.forget()


def get(value: str, kind: str | None = "address", language: str = "en") -> Any:
    query = {"value": value} | ({"kind": kind} if kind else {})
    return Client(headers={"Accept-Language": language}).get("/api/v1/verify", query)


@pytest.mark.parametrize("kind", ["address", None, "auto"])
def test_the_four_verdicts(addresses: None, kind: str | None) -> None:
    for written in (OFFICIAL, OFFICIAL.upper().replace("0X", "0x"), to_checksum_address(OFFICIAL)):
        body = get(written, kind).json()
        assert (body["kind"], body["status"], body["code"]) == ("address", "official", "exact_match")
        assert body["matched"] == to_checksum_address(OFFICIAL) and body["lists"] == []

    body = get(LOOKALIKE, kind).json()
    assert (body["status"], body["code"], body["matched"]) == (
        "impersonation",
        "lookalike",
        to_checksum_address(OFFICIAL),
    )
    assert body["reasons"][0]["code"] == "address_lookalike"
    assert body["reasons"][0]["params"]["genuine"] == to_checksum_address(OFFICIAL)
    assert body["lists"] == ["scamsniffer"]  # and it is listed too, which the reasons say

    body = get(LISTED, kind).json()
    assert (body["status"], body["code"], body["lists"]) == ("scam", "listed", ["chainabuse", "scamsniffer"])
    assert "“chainabuse” and “scamsniffer”" in body["reason"]

    body = get(to_checksum_address("0x" + "7" * 40), kind).json()
    assert (body["status"], body["code"]) == ("unknown", "wallet_address")


def test_random_addresses_are_unknown(addresses: None) -> None:
    rng = random.Random(7)
    for _ in range(40):
        address = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        assert get(address, None).json()["status"] == "unknown", address


def test_the_old_answer_fields_are_all_there_and_advice_fits_an_address(addresses: None) -> None:
    body = get(LISTED).json()
    assert {"status", "code", "reason", "advice", "matched", "kind", "reasons", "language"} <= set(body)
    assert body["advice"].startswith("This address is on a list of known scam addresses")
    assert get(OFFICIAL).json()["advice"].startswith("This is an official address of ours")
    assert get(LOOKALIKE).json()["advice"].startswith("This address imitates one of ours")


def test_the_reasons_are_worded_in_the_requests_language(addresses: None) -> None:
    zh = get(LOOKALIKE, language="zh-hans").json()
    assert zh["language"] == "zh-hans"
    assert (
        f"不是我们的地址：它仿照了我们官方地址 {to_checksum_address(OFFICIAL)} 的前 5 位和后 4 位"
        in (zh["reason_localised"])
    )
    assert "地址投毒" in zh["reason_localised"] and "不要向它转账" in zh["advice_localised"]
    assert zh["reason"].startswith(to_checksum_address(LOOKALIKE) + " is not ours")  # stays English
    hant = get(LISTED, language="zh-hant").json()
    assert "在匯入的詐騙地址名單“chainabuse”和“scamsniffer”中" in hant["reason_localised"], hant


@pytest.mark.parametrize(
    "value, problem",
    [
        ("0x52908400098527886E0F7030069857D2E4169Ee7", "checksum (EIP-55)"),
        ("0x" + "z" * 40, "0-9 and the letters a-f"),
        ("0x" + "a" * 39, "exactly 40 characters"),
        ("0x123", "exactly 40 characters"),
        ("0x" + "b" * 50, "exactly 40 characters"),
    ],
)
def test_malformed_input_is_a_clear_422_that_does_not_echo_it(
    addresses: None, value: str, problem: str
) -> None:
    answer = get(value)
    assert answer.status_code == 422 and answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert (body["code"], body["field"]) == ("invalid_address", "value") and problem in body["message"]
    assert value not in answer.content.decode()
    assert "汉" not in body["message"]
    zh = get(value, language="zh-hans").json()
    assert re.search(r"[\u4e00-\u9fff]", zh["message"])  # said in the asker's language


def test_a_mistyped_address_is_also_a_422_when_the_kind_is_detected(addresses: None) -> None:
    assert get("0x52908400098527886E0F7030069857D2E4169Ee7", None).status_code == 422
    assert get("0x" + "a" * 41, "auto").status_code == 422
    assert get("hello world", None).status_code == 200  # not an address attempt: as before
    # Asked as an address but written as something else: judged as what it is, as since #20.
    assert get("@imToken", "address").json()["kind"] == "handle"


@pytest.mark.parametrize("value", [KEY, KEY[2:], KEY.upper().replace("0X", "0x"), PHRASE])
@pytest.mark.parametrize("kind", ["address", None, "url"])
def test_a_key_or_phrase_in_the_address_check_is_a_secret_never_echoed_stored_or_logged(
    addresses: None, value: str, kind: str | None, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    audit_before = AuditEntry.objects.count()
    answer = get(value, kind)
    assert answer.status_code == 200
    body = answer.json()
    assert body["kind"] == "secret" and body["code"] in ("secret_entered", "hex_secret_or_hash")
    secret = value.removeprefix("0x").lower()[:24] if value != PHRASE else "legal winner"
    assert secret not in answer.content.decode().lower()
    assert secret not in caplog.text.lower()
    assert AuditEntry.objects.count() == audit_before
    assert not ListedAddress.objects.filter(address__icontains=secret[:20]).exists()


def test_a_verdict_is_at_most_two_queries_and_the_list_is_indexed(
    addresses: None, django_assert_max_num_queries: Any
) -> None:
    get(LISTED)  # the official registry and addresses are cached per process after this
    for value in (LISTED, LOOKALIKE, OFFICIAL, "0x" + "7" * 40):
        with django_assert_max_num_queries(2):
            get(value)
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, ListedAddress._meta.db_table)
    assert any(c["index"] and c["columns"] == ["address"] for c in found.values()), found


def test_a_change_to_the_official_addresses_applies_after_forget(addresses: None) -> None:
    other = "0x" + "5" * 40
    assert get(other).json()["status"] == "unknown"
    OfficialAddress.objects.create(address=other, label_en="New", label_zh="新")
    lookups.forget()  # what the admin's save does
    assert get(other).json()["status"] == "official"


def test_a_retired_official_address_is_no_longer_official(addresses: None) -> None:
    OfficialAddress.objects.filter(address=CONTRACT).update(current=False)
    lookups.forget()
    assert get(CONTRACT).json()["status"] == "unknown"


def test_the_openapi_document_declares_scam_and_lists() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    out = schema["components"]["schemas"]["VerdictOut"]
    assert "scam" in out["properties"]["status"]["enum"] and "lists" in out["properties"]
    assert set(out["properties"]["status"]["enum"]) == {"official", "impersonation", "scam", "unknown"}


# --- the page --------------------------------------------------------------------------------


def _card(page: Any) -> tuple[str, str]:
    text = page.content.decode()
    card = re.search(r'<section [^>]*data-testid="verdict".*?</section>', text, re.S)
    assert card, text
    status = re.search(r'data-status="(\w+)"', card.group())
    assert status
    return status.group(1), html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card.group())))


def test_the_page_shows_the_four_verdicts_in_chinese_and_english(addresses: None) -> None:
    zh = Client(headers={"Accept-Language": "zh-hans"})
    en = Client(headers={"Accept-Language": "en"})
    cases = [
        (OFFICIAL, "official", "官方", "Official"),
        (LOOKALIKE, "impersonation", "相似地址：不是我们的", "Lookalike address: not ours"),
        (LISTED, "scam", "已知诈骗地址", "Known scam address"),
        ("0x" + "7" * 40, "unknown", "这是钱包地址", "A wallet address, not a contact"),
    ]
    for value, status, chinese, english in cases:
        shown_status, shown = _card(zh.get("/verify/", {"value": value}))
        assert shown_status == status and chinese in shown, shown
        assert not re.search(r"\b(is|not|the)\b", shown), shown  # no English sentence on the Chinese page
        shown_status, shown = _card(en.get("/verify/", {"value": value}))
        assert shown_status == status and english in shown, shown
        page = en.get("/verify/", {"value": value}).content.decode()
        assert '<svg class="verdict-icon"' in page


def test_the_page_reports_a_scam_address_with_the_address_filled_in(addresses: None) -> None:
    page = Client(headers={"Accept-Language": "en"}).get("/verify/", {"value": LISTED}).content.decode()
    link = html.unescape(re.search(r'data-testid="report" href="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert "category=scam_report" in link and f"wallet_address={LISTED}" in link and "Scam+address" in link


def test_the_page_says_what_is_wrong_with_a_mistyped_address_without_repeating_it(addresses: None) -> None:
    value = "0x52908400098527886E0F7030069857D2E4169Ee7"
    page = Client(headers={"Accept-Language": "en"}).get("/verify/", {"value": value})
    status, shown = _card(page)
    assert status == "unknown" and "We could not check this" in shown and "checksum (EIP-55)" in shown
    assert value not in shown and 'data-testid="report"' not in page.content.decode()


def test_a_key_pasted_into_the_address_check_on_the_page_leaves_the_address_bar(addresses: None) -> None:
    page = Client().get("/verify/", {"value": KEY, "kind": "address"})
    assert page.status_code == 302 and KEY[2:20] not in page["Location"]


# --- who edits them ----------------------------------------------------------------------------


def test_only_administrators_edit_official_addresses_and_see_lists(
    addresses: None, carol: Any, alice: Any, root: Any, as_user: Any
) -> None:
    row = OfficialAddress.objects.get(address=OFFICIAL)
    for path in (
        "/admin/registry/officialaddress/",
        f"/admin/registry/officialaddress/{row.pk}/change/",
        "/admin/registry/addresslist/",
    ):
        for user in (None, carol):
            answer = as_user(user).get(path)
            assert answer.status_code == 302 and "/login/" in answer["Location"], (path, user)
        assert as_user(alice).get(path).status_code == 403, path  # staff without the permission
        assert as_user(root).get(path).status_code == 200, path
    # A customer's POST changes nothing.
    as_user(carol).post(f"/admin/registry/officialaddress/{row.pk}/delete/", {"post": "yes"})
    assert OfficialAddress.objects.filter(pk=row.pk).exists()


def test_the_admin_stores_an_address_lower_case_and_refuses_a_bad_checksum(
    addresses: None, root: Any, as_user: Any
) -> None:
    form = {"address": "", "chain_id": "", "purpose": "contract", "label_en": "Router", "label_zh": "路由合约",
            "current": "on", "position": "0"}  # fmt: skip
    client = as_user(root)
    answer = client.post(
        "/admin/registry/officialaddress/add/",
        form | {"address": "0x52908400098527886E0F7030069857D2E4169Ee7"},
    )
    assert answer.status_code == 200 and "EIP-55" in answer.content.decode()
    new = to_checksum_address("0x" + "ab" * 20)
    answer = client.post("/admin/registry/officialaddress/add/", form | {"address": new})
    assert answer.status_code == 302
    assert OfficialAddress.objects.filter(address=new.lower()).exists()
    assert get(new).json()["status"] == "official"  # the save forgot the cached set
    assert AddressList.objects.count() == 2


# --- the contact page ----------------------------------------------------------------------------


def test_the_contact_page_lists_contract_addresses_not_deposit_ones(addresses: None) -> None:
    OfficialAddress.objects.create(
        address="0x" + "9" * 40, purpose="contract", label_en="Old router", label_zh="旧路由", current=False
    )
    zh = Client(headers={"Accept-Language": "zh-hans"}).get("/contact/").content.decode()
    assert to_checksum_address(CONTRACT) in zh and "代币合约" in zh and "Ethereum" in zh
    assert "我们的合约地址" in zh
    en = Client(headers={"Accept-Language": "en"}).get("/contact/").content.decode()
    assert "Token contract" in en and "Ethereum" in en
    OfficialAddress.objects.filter(address=CONTRACT).update(chain_id=777)
    assert "链 777" in Client(headers={"Accept-Language": "zh-hans"}).get("/contact/").content.decode()
    for page in (zh, en):
        assert OFFICIAL not in page.lower() and "USDT" not in page  # a deposit address is not listed
        assert "0x" + "9" * 40 not in page.lower()  # nor a retired one


def test_a_lookalike_is_shown_beside_ours_with_the_copied_ends_marked(addresses: None) -> None:
    page = (
        Client(headers={"Accept-Language": "zh-hans"}).get("/verify/", {"value": LOOKALIKE}).content.decode()
    )
    block = re.search(r'<dl class="address-compare".*?</dl>', page, re.S)
    assert block, page
    fake, ours = to_checksum_address(LOOKALIKE), to_checksum_address(OFFICIAL)
    rows = re.findall(
        r'<span class="same">(\w+)</span><span class="differs">(\w+)</span><span class="same">(\w+)</span>',
        block.group(),
    )
    assert rows == [(fake[:7], fake[7:-4], fake[-4:]), (ours[:7], ours[7:-4], ours[-4:])]
    assert "这个地址" in block.group() and "我们的地址" in block.group()
    for value in (LISTED, OFFICIAL, "0x" + "7" * 40):  # only a lookalike has something to compare
        assert "address-compare" not in Client().get("/verify/", {"value": value}).content.decode()


def test_the_address_advice_is_the_shields_english_and_translated() -> None:
    from django.utils import translation

    from walletdesk import shield
    from walletdesk.registry import reasons

    with translation.override("en"):
        for status in ("official", "impersonation"):
            assert str(reasons.ADDRESS_ADVICE[status]) == shield.ADVICE[f"shield.address.{status}"]
        assert str(reasons.ADVICE["scam"]) == shield.ADVICE["shield.contact.scam"]
    for language in ("zh-hans", "zh-hant"):
        with translation.override(language):
            for text in [*reasons.ADDRESS_ADVICE.values(), reasons.ADVICE["scam"]]:
                assert re.search(r"[\u4e00-\u9fff]", str(text)) and str(text).endswith("。"), text
