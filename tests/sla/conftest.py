from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

import pytest


@pytest.fixture(autouse=True)
def _forget_sla_caches() -> Iterator[None]:
    from walletdesk.sla import clock as sla
    from walletdesk.tickets import routing

    sla.forget()
    routing.forget()
    yield
    sla.forget()
    routing.forget()


@contextmanager
def frozen(moment: datetime) -> Iterator[Any]:
    """Django's clock stopped at `moment` (actions and the SLA engine read timezone.now())."""
    with mock.patch("django.utils.timezone.now", return_value=moment) as clock:
        yield clock


def reseed() -> None:
    """Put back the migrations' seed data (transactional tests flush every table afterwards)."""
    from importlib import import_module

    from tests.conftest import LiveApps

    for name in ("0002_seed_categories_and_teams", "0008_seed_sla_policies_and_macros"):
        import_module(f"walletdesk.tickets.migrations.{name}").seed(LiveApps(), None)
    from walletdesk.sla import clock as sla
    from walletdesk.tickets import actions

    actions.forget_categories()
    sla.forget()
