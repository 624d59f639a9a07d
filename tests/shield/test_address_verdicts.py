"""EVM addresses in the verifier (#21), judged purely: official (any case), impersonation (a
lookalike of an official address, naming it), scam (on an imported list, naming it), unknown;
malformed ones say what is wrong without repeating the value; the list-file reader."""

from __future__ import annotations

import random

import pytest
from eth_utils import to_checksum_address

from walletdesk.shield import (
    SECRET_CODES,
    AddressBook,
    OfficialAddress,
    Verdict,
    checksummed,
    evm_address_problem,
    evm_checksum_ok,
    parse_address_lines,
    verify_contact,
)

OFFICIAL = "0x52908400098527886e0f7030069857d2e4169ee7"
CONTRACT = "0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae"
# Both ends of OFFICIAL (5 and 4 characters), another middle: what a poisoner generates.
LOOKALIKE = "0x52908" + "c0ffee" * 5 + "a" + "9ee7"
LISTED = "0x000000000000000000000000000000000000dead"
KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
PHRASE = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def book(listed: dict[str, list[str]] | None = None) -> AddressBook:
    lists = listed if listed is not None else {LISTED: ["scamsniffer"]}
    return AddressBook(
        official=(OfficialAddress(OFFICIAL), OfficialAddress(CONTRACT, 1)),
        listed_in=lambda address: lists.get(address, []),
    )


def judge(value: str, kind: str | None = None, addresses: AddressBook | None = None) -> Verdict:
    return verify_contact(kind, value, [], addresses=addresses or book(), screen_secrets=True)


def test_the_lookalike_fixture_is_one() -> None:
    assert len(LOOKALIKE) == 42 and LOOKALIKE[:7] == OFFICIAL[:7] and LOOKALIKE[-4:] == OFFICIAL[-4:]


@pytest.mark.parametrize("kind", [None, "auto", "address", "url"])
@pytest.mark.parametrize(
    "written", [OFFICIAL, OFFICIAL.upper().replace("0X", "0x"), to_checksum_address(OFFICIAL)]
)
def test_an_official_address_is_official_in_any_valid_case(kind: str | None, written: str) -> None:
    verdict = verify_contact(kind, f"  {written} ", [], addresses=book())
    assert (verdict.kind, verdict.status, verdict.code) == ("address", "official", "exact_match")
    assert verdict.matched == to_checksum_address(OFFICIAL)
    assert verdict.reasons[0].key == "address_official"


def test_a_lookalike_of_an_official_address_is_an_impersonation_that_names_it() -> None:
    verdict = judge(LOOKALIKE)
    assert (verdict.status, verdict.code) == ("impersonation", "lookalike")
    assert verdict.matched == to_checksum_address(OFFICIAL)
    first = verdict.reasons[0]
    assert first.key == "address_lookalike"
    assert first.args == {
        "address": to_checksum_address(LOOKALIKE),
        "genuine": to_checksum_address(OFFICIAL),
        "head": "5",
        "tail": "4",
    }
    assert to_checksum_address(OFFICIAL) in verdict.reason
    assert "address poisoning" in verdict.reason


def test_a_lookalike_that_is_also_listed_stays_an_impersonation_and_names_the_list() -> None:
    verdict = judge(LOOKALIKE, addresses=book({LOOKALIKE: ["chainabuse", "scamsniffer"]}))
    assert verdict.status == "impersonation"
    assert verdict.lists == ("chainabuse", "scamsniffer")
    assert "“chainabuse” and “scamsniffer”" in verdict.reason


def test_one_shared_end_is_not_a_lookalike() -> None:
    head_only = OFFICIAL[:10] + "0" * 32
    assert judge(head_only).status == "unknown"
    assert judge("0x" + "1" * 34 + OFFICIAL[-6:]).status == "unknown"


def test_a_listed_address_is_scam_with_the_lists_name() -> None:
    for written in (LISTED, LISTED.upper().replace("0X", "0x")):
        verdict = judge(written)
        assert (verdict.kind, verdict.status, verdict.code) == ("address", "scam", "listed")
        assert verdict.lists == ("scamsniffer",) and verdict.matched == "scamsniffer"
        assert (
            verdict.reason
            == f"{to_checksum_address(LISTED)} is on the imported scam address list “scamsniffer”."
        )
        assert verdict.advice.startswith("This address is on a list of known scam addresses")


def test_random_addresses_are_unknown() -> None:
    rng = random.Random(21)
    asked: list[str] = []
    addresses = AddressBook(
        official=(OfficialAddress(OFFICIAL), OfficialAddress(CONTRACT)),
        listed_in=lambda a: asked.append(a) or [],  # type: ignore[func-returns-value]
    )
    for _ in range(500):
        address = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        verdict = verify_contact(None, to_checksum_address(address), [], addresses=addresses)
        assert (verdict.status, verdict.code) == ("unknown", "wallet_address"), address
    assert len(asked) == 500 and all(a == a.lower() for a in asked)  # asked lower case, once each


@pytest.mark.parametrize(
    "value, problem",
    [
        ("0x52908400098527886E0F7030069857D2E4169Ee7", "address_bad_checksum"),  # one capital wrong
        ("0x" + "g" * 40, "address_bad_hex"),
        ("0x5290840009852788 6e0f7030069857d2e4169ee7", "address_bad_hex"),
        ("0x" + "a" * 39, "address_wrong_length"),
        ("0x" + "a" * 41, "address_wrong_length"),
        ("0X52908400098527886E0F7030069857D2E4169EE7", "address_bad_prefix"),
    ],
)
def test_a_malformed_address_says_what_is_wrong_and_not_what_was_typed(value: str, problem: str) -> None:
    assert evm_address_problem(value) == problem
    for kind in ("address", None):
        verdict = verify_contact(kind, value, [], addresses=book())
        if kind is None and " " in value:
            continue  # with a space it is not an address attempt at all, detected as nothing
        assert (verdict.kind, verdict.status, verdict.code) == ("address", "unknown", "invalid"), (
            kind,
            value,
        )
        assert [r.key for r in verdict.reasons] == [problem]
        assert value[2:12] not in verdict.reason and not verdict.reasons[0].params


@pytest.mark.parametrize("kind", ["address", None, "url"])
def test_a_key_or_phrase_pasted_into_the_address_check_is_a_secret(kind: str | None) -> None:
    for value in (KEY, KEY[2:], PHRASE):
        verdict = verify_contact(kind, value, [], addresses=book(), screen_secrets=True)
        assert verdict.kind == "secret" and verdict.code in SECRET_CODES, (kind, value[:6])
        assert value[10:30] not in verdict.reason
    # Not screened by the caller: the key asked as an address is still answered as one.
    assert verify_contact("address", KEY, [], addresses=book()).kind == "secret"


def test_other_chains_keep_their_old_answer() -> None:
    verdict = judge("TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE")
    assert (verdict.status, verdict.code) == ("unknown", "wallet_address")


def test_the_checksum_is_eip55() -> None:
    rng = random.Random(55)
    for _ in range(200):
        address = "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40))
        right = to_checksum_address(address)
        assert checksummed(address) == right and evm_checksum_ok(right)
        flipped = right[:2] + right[2:].swapcase()
        assert evm_checksum_ok(flipped) == (flipped[2:] in (address[2:], address[2:].upper()))


# --- the list file ---------------------------------------------------------------------------


def test_the_list_reader_tolerates_what_real_files_hold() -> None:
    text = (
        "\ufeffAddress,Label,Reported\r\n"
        '"0x52908400098527886E0F7030069857D2E4169EE7","drainer",2025-01-01\r\n'
        "\r\n"
        "# a comment\r\n"
        "0x000000000000000000000000000000000000DEAD;tab\r\n"
        "'0xde0b295669a9fd93d5f28d9ec85e40f4cb697bae'\tother\n"
        "  0xDE0B295669A9FD93D5F28D9EC85E40F4CB697BAE  \n"
        "not an address,0x52908400098527886E0F7030069857D2E4169EE7\n"
        "0x1234\n"
    )
    assert list(parse_address_lines(text.splitlines(keepends=True))) == [
        (2, OFFICIAL),
        (5, LISTED),
        (6, CONTRACT),
        (7, CONTRACT),
        (8, None),  # the address must be in the first column
        (9, None),
    ]


def test_a_header_is_skipped_only_as_the_first_row() -> None:
    assert list(parse_address_lines(["# list\n", "address\n", OFFICIAL + "\n", "address\n"])) == [
        (3, OFFICIAL),
        (4, None),
    ]
    assert list(parse_address_lines(["0xnothex\n", OFFICIAL])) == [(1, None), (2, OFFICIAL)]
