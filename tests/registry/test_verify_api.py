"""GET /api/v1/verify is a public contract: every request shape that worked before #20 answers as
before; the kind became optional and the answer gained fields (never lost one)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"
OFFICIAL_ADVICE = "This is an official channel. Support will never ask for your recovery phrase, private key or any payment."
FAKE_ADVICE = (
    "This imitates an official channel. Do not open it, do not sign in, and never enter your recovery phrase "
    "or pay any fee there."
)
pytestmark = pytest.mark.django_db

# What the API answered at 79c4429 (before #20) for these requests, with the same registry.
BEFORE = [
    (
        "url",
        "https://token.im/download",
        "official",
        "exact_match",
        "token.im",
        "token.im is an official domain.",
    ),
    (
        "url",
        "https://token-im.example.net/",
        "unknown",
        "no_resemblance",
        None,
        "token-im.example.net is not an official domain.",
    ),
    ("url", "imt0ken.com", "impersonation", "combosquat", "imtoken", None),
    ("url", "https://token.im@evil.io", "impersonation", "userinfo_trick", None, None),
    (
        "email",
        "support@token.im",
        "official",
        "exact_match",
        "support@token.im",
        "support@token.im is an official address.",
    ),
    ("email", "imtoken.support@gmail.com", "impersonation", "brand_on_freemail", None, None),
    ("email", "help@token.im", "official", "official_domain", "token.im", None),
    ("handle", "telegram:@imToken", "official", "exact_match", "telegram:@imtoken", None),
    ("handle", "@imToken_support", "impersonation", "combosquat", None, None),
    ("handle", "x:@imToken", "impersonation", "not_registered_on_platform", None, None),
    ("phone", "+852 1234 5678", "official", "exact_match", "+85212345678", None),
    ("phone", "+1 555 0100", "unknown", "no_match", None, None),
    # "token" or "imtoken" before, by the process's set order; now always the longer name.
    ("url", "іmtoken.com", "impersonation", "homograph", "imtoken", None),
]
FIELDS_BEFORE = {"status", "code", "reason", "advice", "matched"}


@pytest.mark.parametrize("kind, value, status, code, matched, reason", BEFORE)
def test_old_request_shapes_answer_as_before(
    official: None, kind: str, value: str, status: str, code: str, matched: str | None, reason: str | None
) -> None:
    answer = Client().get("/api/v1/verify", {"kind": kind, "value": value})
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) >= FIELDS_BEFORE
    assert (body["status"], body["code"]) == (status, code)
    if matched is not None:
        assert body["matched"] == matched
    if reason is not None:
        assert body["reason"] == reason
    assert body["advice"] == {"official": OFFICIAL_ADVICE, "impersonation": FAKE_ADVICE}.get(
        status, body["advice"]
    )


def test_an_unknown_kind_is_still_refused(official: None) -> None:
    answer = Client().get("/api/v1/verify", {"kind": "fax", "value": "x"})
    assert answer.status_code == 422 and answer.headers["Content-Type"].startswith("application/json")
    assert Client().get("/api/v1/verify", {"value": ""}).status_code == 422


@pytest.mark.parametrize("kind", [None, "auto"])
def test_the_kind_may_be_left_to_detection(official: None, kind: str | None) -> None:
    query: dict[str, Any] = {"value": "@imToken"} | ({"kind": kind} if kind else {})
    body = Client().get("/api/v1/verify", query).json()
    assert (body["status"], body["kind"], body["code"]) == ("official", "handle", "exact_match")
    assert body["reasons"] == [
        {"code": "handle_official_on", "params": {"handle": "@imtoken", "platforms": "telegram,weibo"}}
    ]


def test_a_handle_sent_as_a_link_is_judged_as_a_handle(official: None) -> None:
    # Before #20: {"status": "unknown", "code": "invalid"} for our own account.
    body = Client().get("/api/v1/verify", {"kind": "url", "value": "@imToken"}).json()
    assert (body["status"], body["kind"]) == ("official", "handle")
    body = Client().get("/api/v1/verify", {"kind": "url", "value": "@imToken_support"}).json()
    assert (body["status"], body["code"], body["matched"]) == (
        "impersonation",
        "combosquat",
        "telegram:@imtoken",
    )


def test_the_reason_is_localised_per_accept_language_and_stays_english_in_reason(official: None) -> None:
    zh = (
        Client(headers={"Accept-Language": "zh-hans"})
        .get("/api/v1/verify", {"value": "@imToken_support"})
        .json()
    )
    assert zh["language"] == "zh-hans"
    assert zh["reason"].startswith("@imtoken_support is the name of our official account")
    assert "这个是假的" in zh["reason_localised"] and "冒充官方渠道" in zh["advice_localised"]
    en = Client(headers={"Accept-Language": "en"}).get("/api/v1/verify", {"value": "@imToken_support"}).json()
    assert en["reason_localised"] == en["reason"] and en["advice_localised"] == en["advice"]


def test_a_wallet_address_and_a_secret_are_answered_for_what_they_are(official: None) -> None:
    body = Client().get("/api/v1/verify", {"value": "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"}).json()
    assert (body["kind"], body["status"], body["code"]) == ("address", "unknown", "wallet_address")
    body = Client().get(
        "/api/v1/verify", {"kind": "address", "value": "0x52908400098527886E0F7030069857D2E4169EE7"}
    )
    assert body.json()["code"] == "wallet_address"
    for kind in ("url", "handle", "auto"):
        answer = Client().get("/api/v1/verify", {"kind": kind, "value": PHRASE})
        assert answer.json()["kind"] == "secret" and answer.json()["code"] == "secret_entered"
        assert "legal" not in answer.content.decode()  # never echoed back


def test_the_openapi_document_declares_the_new_fields_as_additions() -> None:
    schema = Client().get("/api/v1/openapi.json").json()
    (operation,) = schema["paths"]["/api/v1/verify"].values()
    kind = next(p for p in operation["parameters"] if p["name"] == "kind")
    assert kind.get("required", False) is False
    out = schema["components"]["schemas"]["VerdictOut"]
    assert FIELDS_BEFORE | {"kind", "reasons", "reason_localised"} <= set(out["properties"])
