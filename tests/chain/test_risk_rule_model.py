"""The operator's rule settings: seeded from the pure defaults, validated when edited."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from walletdesk.chain import rules
from walletdesk.chain.models import RiskRule, VerifiedSpender

pytestmark = pytest.mark.django_db


def test_migration_seeds_one_row_per_rule_with_the_pure_defaults() -> None:
    seeded = {r.code: (r.enabled, r.severity, r.params) for r in RiskRule.objects.all()}
    assert seeded == {code: (c.enabled, c.severity, dict(c.params)) for code, c in rules.DEFAULTS.items()}


def test_clean_refuses_unknown_or_non_numeric_params() -> None:
    rule = RiskRule.objects.get(code=rules.LARGE_OUTFLOW)
    rule.params = {"factor": "ten"}
    with pytest.raises(ValidationError):
        rule.full_clean()
    rule.params = {"factor": 10, "window": 20}
    rule.full_clean()


def test_verified_spender_is_stored_lower_case_and_must_be_an_address() -> None:
    spender = VerifiedSpender(address="0x" + "AB" * 20, label="Router")
    spender.full_clean()
    spender.save()
    assert VerifiedSpender.objects.get().address == "0x" + "ab" * 20
    with pytest.raises(ValidationError):
        VerifiedSpender(address="0x123", label="short").full_clean()
