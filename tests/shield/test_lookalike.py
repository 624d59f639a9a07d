"""Address poisoning's shape: both ends copied, the middle different."""

import pytest

from walletdesk.shield.lookalike import likeness, looks_alike

GENUINE = "0x1A2b3c4D5e6F708192a3B4c5D6e7F8091a2B9f8E"


def test_a_poisoner_copying_both_ends_is_a_lookalike():
    poisoned = "0x1a2b" + "0" * 32 + "9f8e"
    assert looks_alike(poisoned, GENUINE)
    assert likeness(poisoned, GENUINE).head == 4


def test_the_same_address_in_another_case_is_not_a_lookalike_of_itself():
    assert not looks_alike(GENUINE.lower(), GENUINE)


def test_matching_only_one_end_is_not_enough():
    assert not looks_alike("0x1a2b" + "0" * 34, GENUINE)
    assert not looks_alike("0x" + "0" * 36 + "9f8e", GENUINE)


def test_a_random_address_is_not_a_lookalike():
    assert not looks_alike("0x" + "7" * 40, GENUINE)


def test_callers_may_ask_for_longer_ends():
    three_each_end = "0x1a2" + "0" * 34 + "f8e"
    assert looks_alike(three_each_end, GENUINE)
    assert not looks_alike(three_each_end, GENUINE, head=4, tail=4)


def test_non_addresses_are_never_lookalikes_and_likeness_refuses_them():
    assert not looks_alike("hello", GENUINE)
    with pytest.raises(ValueError):
        likeness("0x123", GENUINE)
