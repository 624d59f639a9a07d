"""kb fixtures: a fresh search index per test, and the starter content present."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _fresh_index() -> Iterator[None]:
    # The index is process-wide and test transactions roll back: never let one test's index
    # answer another's searches.
    from walletdesk.kb import index

    index.forget()
    yield
    index.forget()


@pytest.fixture
def starter(db: None) -> None:
    """The shipped articles and flows (the migration loads them; a transactional test may have
    flushed them)."""
    from django.apps import apps

    from walletdesk.kb.seed import load_starter, load_troubleshooters

    load_starter(apps)
    load_troubleshooters(apps)


@pytest.fixture
def draft(starter: None, alice: Any) -> Any:
    from walletdesk.kb import actions
    from walletdesk.kb.actions import ArticleInput, TranslationInput

    return actions.create_article(
        "secret-draft",
        ArticleInput(
            category="security",
            translations={
                "en": TranslationInput("Quokka migration notice", "Draft summary", "Quokka body text."),
                "zh-hans": TranslationInput("袋鼠迁移通知", "草稿摘要", "袋鼠正文。"),
            },
        ),
        actor=alice,
    )
