"""The risk rules, one by one, on plain data: each fires where it should and stays quiet on the
look-alike cases that are not attacks."""

from __future__ import annotations

import itertools

from walletdesk.chain import rules
from walletdesk.chain.rules import Event, Lists, RuleConfig

ME = "0x" + "a1" * 20
FRIEND = "0x1234aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5678"  # someone the victim really pays
POISON = "0x1234bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb5678"  # copies FRIEND's ends
STRANGER = "0x9999cccccccccccccccccccccccccccccccc0000"
SCAMMER = "0x" + "5c" * 20
USDT = "0x" + "d7" * 20
FAKE_USDT = "0x" + "d8" * 20
ROUTER = "0x" + "7a" * 20
DRAINER = "0x" + "de" * 20
MAX = 2**256 - 1

_counter = itertools.count(1)


def tx(
    sender: str,
    recipient: str,
    value: int = 10**18,
    *,
    kind: str = rules.TRANSFER,
    token: str | None = None,
    standard: str | None = None,
    block: int | None = None,
    t: int | None = None,
    approved: bool = True,
    tx_hash: str | None = None,
    log_index: int | None = None,
) -> Event:
    n = next(_counter)
    return Event(
        kind=kind,
        tx_hash=tx_hash or f"0x{n:064x}",
        log_index=log_index if log_index is not None else (-1 if token is None else 0),
        block_number=block if block is not None else n,
        timestamp=t if t is not None else n * 3600,
        sender=sender,
        recipient=recipient,
        value=value,
        token=token,
        standard=standard or (rules.NATIVE if token is None else rules.ERC20),
        approved=approved,
    )


NO_LISTS = Lists()


def run(
    new: list[Event], history: list[Event] | None = None, lists: Lists = NO_LISTS, **configs: RuleConfig
) -> list[str]:
    found = rules.evaluate(ME, new, list(history or []), {**rules.DEFAULTS, **configs}, lists)
    return [f.code for f in found]


# --- scam recipient ------------------------------------------------------------------------


def test_transfer_to_a_listed_address_is_flagged_with_the_recipient() -> None:
    event = tx(ME, SCAMMER)
    found = rules.evaluate(
        ME, [event], [], rules.DEFAULTS, Lists.of(scam=[SCAMMER.upper().replace("0X", "0x")])
    )
    assert [(f.code, f.severity, f.params["recipient"]) for f in found] == [
        (rules.SCAM_RECIPIENT, rules.CRITICAL, SCAMMER)
    ]
    assert found[0].key == (rules.SCAM_RECIPIENT, event.tx_hash, -1)


def test_money_from_a_listed_address_or_to_an_unlisted_one_is_not_a_scam_transfer() -> None:
    lists = Lists.of(scam=[SCAMMER])
    assert rules.SCAM_RECIPIENT not in run([tx(SCAMMER, ME)], lists=lists)
    assert rules.SCAM_RECIPIENT not in run([tx(ME, STRANGER)], lists=lists)


def test_approving_a_listed_address_is_flagged_but_revoking_it_is_not() -> None:
    lists = Lists.of(scam=[SCAMMER])
    assert rules.SCAM_RECIPIENT in run([tx(ME, SCAMMER, 5, kind=rules.APPROVAL, token=USDT)], lists=lists)
    assert rules.SCAM_RECIPIENT not in run([tx(ME, SCAMMER, 0, kind=rules.APPROVAL, token=USDT)], lists=lists)


# --- unlimited approval ----------------------------------------------------------------------


def test_unlimited_approval_to_an_unverified_spender_is_flagged_with_the_revoke_call() -> None:
    found = rules.evaluate(
        ME, [tx(ME, DRAINER, MAX, kind=rules.APPROVAL, token=USDT)], [], rules.DEFAULTS, Lists()
    )
    assert [(f.code, f.params["spender"], f.params["token"], f.params["call"]) for f in found] == [
        (rules.UNLIMITED_APPROVAL, DRAINER, USDT, "approve")
    ]


def test_set_approval_for_all_true_is_flagged_false_is_not() -> None:
    nft = "0x" + "11" * 20
    on = tx(ME, DRAINER, 0, kind=rules.APPROVAL_FOR_ALL, token=nft, standard=rules.ERC721)
    off = tx(ME, DRAINER, 0, kind=rules.APPROVAL_FOR_ALL, token=nft, standard=rules.ERC721, approved=False)
    assert run([on]) == [rules.UNLIMITED_APPROVAL]
    assert run([off]) == []


def test_verified_spender_bounded_amount_or_someone_elses_approval_is_not_flagged() -> None:
    assert (
        run(
            [tx(ME, ROUTER, MAX, kind=rules.APPROVAL, token=USDT)], lists=Lists.of(verified_spenders=[ROUTER])
        )
        == []
    )
    assert run([tx(ME, DRAINER, 500 * 10**6, kind=rules.APPROVAL, token=USDT)]) == []
    assert run([tx(STRANGER, ME, MAX, kind=rules.APPROVAL, token=USDT)]) == []


def test_the_operator_threshold_decides_what_counts_as_unlimited() -> None:
    strict = RuleConfig(rules.UNLIMITED_APPROVAL, params={"unlimited_from_bits": 32})
    event = tx(ME, DRAINER, 2**40, kind=rules.APPROVAL, token=USDT)
    assert run([event]) == []
    assert run([event], unlimited_approval=strict) == [rules.UNLIMITED_APPROVAL]


# --- address poisoning -----------------------------------------------------------------------


def test_zero_value_transfer_from_a_lookalike_of_a_real_counterparty_is_poisoning() -> None:
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    poison = tx(POISON, ME, 0, token=USDT)
    found = rules.evaluate(ME, [poison], [paid], rules.DEFAULTS, Lists())
    assert [(f.code, f.params["sender"], f.params["lookalike_of"], f.params["shape"]) for f in found] == [
        (rules.ADDRESS_POISONING, POISON, FRIEND.lower(), "zero")
    ]


def test_dust_and_fake_token_from_a_lookalike_are_poisoning() -> None:
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    assert run([tx(POISON, ME, 10**12)], [paid]) == [rules.ADDRESS_POISONING]  # native dust
    assert run([tx(POISON, ME, 50, token=USDT)], [paid]) == [rules.ADDRESS_POISONING]  # token dust
    # A fake "USDT" contract moving a matching-looking 100 USDT: the token is what gives it away.
    assert run([tx(POISON, ME, 100 * 10**6, token=FAKE_USDT)], [paid]) == [rules.ADDRESS_POISONING]


def test_lookalike_of_an_address_the_victim_only_received_from_is_not_evidence() -> None:
    # FRIEND only ever sent to the victim: anyone can send to anyone, so that proves nothing.
    received = tx(FRIEND, ME, 100 * 10**6, token=USDT)
    assert run([tx(POISON, ME, 0, token=USDT)], [received]) == []


def test_a_real_transfer_from_a_lookalike_or_a_zero_transfer_from_a_stranger_is_not_poisoning() -> None:
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    assert run([tx(POISON, ME, 5 * 10**18)], [paid]) == []  # a real amount of the native coin
    assert run([tx(POISON, ME, 100 * 10**6, token=USDT)], [paid]) == []  # a real amount of a token I use
    assert run([tx(STRANGER, ME, 0, token=USDT)], [paid]) == []  # zero, but not a lookalike


def test_dust_back_from_the_real_counterparty_itself_is_not_poisoning() -> None:
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    assert run([tx(FRIEND, ME, 0, token=USDT)], [paid]) == []


def test_a_counterparty_paid_only_after_the_event_is_not_evidence_for_it() -> None:
    poison = tx(POISON, ME, 0, token=USDT, block=10)
    later = tx(ME, FRIEND, 100 * 10**6, token=USDT, block=11)
    assert run([poison], [later]) == []


def test_a_victim_who_then_pays_the_poisoner_is_flagged_by_the_paid_lookalike_only_if_listed() -> None:
    # The follow-up payment to POISON is an outflow, not an incoming poison; poisoning stays on
    # the zero transfer. (The scam list catches the payment once POISON is reported.)
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    poison = tx(POISON, ME, 0, token=USDT)
    mistake = tx(ME, POISON, 100 * 10**6, token=USDT)
    assert run([mistake], [paid, poison]) == []
    assert run([mistake], [paid, poison], lists=Lists.of(scam=[POISON])) == [rules.SCAM_RECIPIENT]


def test_longer_ends_required_by_the_operator_are_honoured() -> None:
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    strict = RuleConfig(rules.ADDRESS_POISONING, params={"head": 5, "tail": 5})
    assert run([tx(POISON, ME, 0, token=USDT)], [paid], address_poisoning=strict) == []


# --- large outflow ---------------------------------------------------------------------------


def test_outflow_far_above_the_largest_of_the_history_is_flagged() -> None:
    history = [tx(ME, STRANGER, v * 10**17) for v in (1, 3, 2, 5)]
    found = rules.evaluate(ME, [tx(ME, STRANGER, 3 * 10**18)], history, rules.DEFAULTS, Lists())
    assert [(f.code, f.params["largest"], f.params["factor"]) for f in found] == [
        (rules.LARGE_OUTFLOW, str(5 * 10**17), "5")
    ]


def test_a_new_address_is_not_flagged_on_its_first_moves() -> None:
    assert run([tx(ME, STRANGER, 10**24)]) == []
    assert run([tx(ME, STRANGER, 10**24)], [tx(ME, STRANGER, 1), tx(ME, STRANGER, 1)]) == []


def test_outflow_within_the_factor_or_of_another_asset_is_not_flagged() -> None:
    history = [tx(ME, STRANGER, 10**18) for _ in range(3)]
    assert run([tx(ME, STRANGER, 5 * 10**18)], history) == []  # exactly 5×: not above
    # A token's base units are not comparable with wei: no token history, no flag.
    assert run([tx(ME, STRANGER, 10**30, token=USDT)], history) == []
    # Incoming money is not an outflow, however large.
    assert run([tx(STRANGER, ME, 10**30)], history) == []


def test_only_the_last_window_of_outflows_counts() -> None:
    old_big = [tx(ME, STRANGER, 10**21)]
    recent = [tx(ME, STRANGER, 10**17) for _ in range(3)]
    windowed = RuleConfig(rules.LARGE_OUTFLOW, params={"factor": 5, "window": 3, "min_history": 3})
    assert run([tx(ME, STRANGER, 10**19)], old_big + recent, large_outflow=windowed) == [rules.LARGE_OUTFLOW]
    assert run([tx(ME, STRANGER, 10**19)], old_big + recent) == []


# --- rapid outflows --------------------------------------------------------------------------


def burst(n: int, *, start: int = 1_000_000, gap: int = 60) -> list[Event]:
    return [tx(ME, DRAINER, 10**6, token=USDT, block=100 + i, t=start + i * gap) for i in range(n)]


def test_the_fifth_outflow_within_ten_minutes_fires_once_for_the_burst() -> None:
    events = burst(7)
    found = rules.evaluate(ME, events, [], rules.DEFAULTS, Lists())
    rapid = [f for f in found if f.code == rules.RAPID_OUTFLOWS]
    assert [f.tx_hash for f in rapid] == [events[4].tx_hash]


def test_outflows_spread_out_or_incoming_do_not_fire() -> None:
    assert rules.RAPID_OUTFLOWS not in run(burst(6, gap=200))  # 5 in 10 min never happens
    incoming = [tx(STRANGER, ME, 1, block=100 + i, t=1_000_000 + i) for i in range(8)]
    assert run(incoming) == []


def test_one_transaction_with_many_logs_counts_once() -> None:
    multicall = [
        tx(
            ME,
            DRAINER,
            10**6,
            token="0x" + f"{i:02x}" * 20,
            block=50,
            t=5000,
            tx_hash="0x" + "ab" * 32,
            log_index=i,
        )
        for i in range(6)
    ]
    assert rules.RAPID_OUTFLOWS not in run(multicall)


# --- settings and determinism ----------------------------------------------------------------


def test_a_disabled_rule_never_fires() -> None:
    off = RuleConfig(rules.UNLIMITED_APPROVAL, enabled=False)
    assert run([tx(ME, DRAINER, MAX, kind=rules.APPROVAL, token=USDT)], unlimited_approval=off) == []


def test_the_same_events_give_the_same_findings_when_the_new_ones_are_also_in_history() -> None:
    # After a crash the monitor re-evaluates events it already stored: same keys, same params.
    paid = tx(ME, FRIEND, 100 * 10**6, token=USDT)
    poison = tx(POISON, ME, 0, token=USDT)
    first = rules.evaluate(ME, [poison], [paid], rules.DEFAULTS, Lists())
    again = rules.evaluate(ME, [poison], [paid, poison], rules.DEFAULTS, Lists())
    assert first == again and len(first) == 1


def test_check_params_refuses_unknown_names_and_bad_values() -> None:
    assert rules.check_params(rules.LARGE_OUTFLOW, {"factor": 10}) == []
    assert rules.check_params(rules.LARGE_OUTFLOW, {"factr": 10}) == ["unknown parameter 'factr'"]
    assert rules.check_params(rules.LARGE_OUTFLOW, {"factor": "10"}) == ["factor must be a whole number ≥ 0"]
    assert rules.check_params(rules.LARGE_OUTFLOW, {"factor": True}) == ["factor must be a whole number ≥ 0"]
    assert rules.check_params("nope", {}) == ["unknown rule 'nope'"]
