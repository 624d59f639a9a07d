"""Row locks taken in one place, in primary-key order, so two transactions never deadlock."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import models


def lock_rows[M: models.Model](model: type[M], ids: Iterable[int]) -> dict[int, M]:
    """Lock the rows of `model` with these ids (SELECT … FOR UPDATE, ordered by pk).

    SQLite ignores FOR UPDATE, but there the IMMEDIATE transaction already holds the one write
    lock, which serialises writers just the same.
    """
    wanted = sorted(set(ids))
    rows = model._default_manager.select_for_update().filter(pk__in=wanted).order_by("pk")
    return {row.pk: row for row in rows}
