"""The shield is pure Python: its tests need no Django, so the project-wide autouse fixtures
(which touch Django settings and caches) are replaced here by no-ops. This also lets the
suite run with ``pytest -p no:django``."""

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _immediate_tasks() -> None:
    return None


@pytest.fixture(autouse=True)
def _media() -> None:
    return None


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    yield
