import csv
from pathlib import Path

import pytest

from walletdesk.shield import ADVICE, OfficialRegistry, PhishingLists, verify_contact

FIXTURE = Path(__file__).parents[1] / "fixtures" / "shield" / "lookalikes.csv"
REGISTRY = [
    ("domain", "token.im"),
    ("domain", "imtoken.com"),
    ("email", "support@token.im"),
    ("handle", "x:@imTokenOfficial"),
    ("handle", "telegram:@imToken"),
    ("phone", "+85212345678"),
]


def labelled_cases() -> list[dict[str, str]]:
    with FIXTURE.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_lookalike_precision_and_recall():
    cases = labelled_cases()
    assert len(cases) >= 200
    registry = OfficialRegistry.from_pairs(REGISTRY)
    true_positive = false_positive = false_negative = 0
    wrong = []
    for case in cases:
        verdict = verify_contact(case["kind"], case["value"], registry)
        flagged, lookalike = verdict.status == "impersonation", case["expected"] == "impersonation"
        true_positive += flagged and lookalike
        false_positive += flagged and not lookalike
        false_negative += lookalike and not flagged
        if verdict.status != case["expected"]:
            wrong.append((case["kind"], case["value"], case["expected"], verdict.status, verdict.code))
    precision = true_positive / (true_positive + false_positive)
    recall = true_positive / (true_positive + false_negative)
    print(f"\nlookalikes: {len(cases)} labelled items, precision {precision:.3f}, recall {recall:.3f}")
    assert precision == 1.0, wrong
    assert recall >= 0.95, wrong
    assert len(wrong) <= len(cases) * 0.02, wrong


@pytest.mark.parametrize(
    "kind, value, code",
    [
        ("url", "token.im", "exact_match"),
        ("url", "help.token.im", "official_subdomain"),
        ("url", "imt0ken.com", "typosquat"),
        ("url", "imtokken.com", "typosquat"),
        ("url", "іmtoken.com", "homograph"),
        ("url", "xn--mtoken-ovf.com", "homograph"),
        ("url", "imtoken-support.com", "combosquat"),
        ("url", "imtoken.com.evil.io", "brand_in_subdomain"),
        ("url", "https://evil.io/imtoken", "brand_in_path"),
        ("url", "token.com", "suffix_swap"),
        ("url", "https://token.im@evil.io", "userinfo_trick"),
        ("email", "imtoken.support@gmail.com", "brand_on_freemail"),
        ("handle", "telegram:@imTokenOfficial", "not_registered_on_platform"),
    ],
)
def test_each_verdict_explains_itself(kind, value, code):
    verdict = verify_contact(kind, value, REGISTRY)
    assert verdict.code == code
    assert verdict.reason and verdict.advice_key in ADVICE and verdict.advice


def test_homograph_reason_names_the_scripts():
    verdict = verify_contact("url", "іmtoken.com", REGISTRY)
    assert "Cyrillic" in verdict.reason and "imtoken.com" in verdict.reason


def test_typo_reason_says_what_changed():
    assert "two letters swapped" in verify_contact("url", "itmoken.com", REGISTRY).reason
    assert "doubled letter" in verify_contact("url", "imtokken.com", REGISTRY).reason


def test_blocklist_and_allowlist():
    lists = PhishingLists(
        blocklist=frozenset({"wallet-rescue.io"}), allowlist=frozenset({"imtoken-fans.org"})
    )
    assert (
        verify_contact("url", "https://app.wallet-rescue.io/x", REGISTRY, lists=lists).code == "blocklisted"
    )
    allowed = verify_contact("url", "imtoken-fans.org", REGISTRY, lists=lists)
    assert allowed.status == "unknown" and allowed.code == "allowlisted"
    assert verify_contact("email", "a@imtoken-fans.org", REGISTRY, lists=lists).status == "unknown"


def test_fuzzylist_from_imported_config():
    lists = PhishingLists(fuzzylist=frozenset({"myetherwallet.com"}), tolerance=2)
    assert verify_contact("url", "myetherwalet.com", REGISTRY, lists=lists).code == "fuzzy_match"


def test_emails_at_official_domain_can_require_exact_listing():
    verdict = verify_contact("email", "help@token.im", REGISTRY, trust_official_domain_emails=False)
    assert verdict.status == "unknown"
    assert verify_contact(
        "email", "support@token.im", REGISTRY, trust_official_domain_emails=False
    ).status == ("official")


def test_registry_may_name_extra_brands_and_generators_work():
    registry = ((kind, value) for kind, value in [*REGISTRY, ("brand", "tokenlon")])
    assert verify_contact("url", "tokenlon-airdrop.xyz", registry).code == "combosquat"


def test_unknown_kind_is_an_error():
    with pytest.raises(ValueError):
        verify_contact("fax", "123", REGISTRY)


def test_garbage_never_raises():
    for kind in ("url", "email", "handle", "phone"):
        for value in ("", " ", "@", "http://", "xn--", "a@b", "::::", "[::1]", "x" * 300, "http://[bad"):
            assert verify_contact(kind, value, REGISTRY).status in ("official", "impersonation", "unknown")
