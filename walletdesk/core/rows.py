"""Insert model instances with one plain INSERT … RETURNING, for the hottest write paths.

`Model.save()` and `QuerySet.bulk_create()` build a query object, run the SQL compiler and
walk the signal machinery on every call: about 0.3 ms of Python per row, measured, which was
most of a ticket creation's cost (seven rows per ticket). `insert()` does what they do for a
fresh row — `pre_save(add=True)` (so `auto_now_add` works), `get_db_prep_save` (so JSON,
dates and foreign keys are adapted exactly as the ORM adapts them) — and sends one statement
per model, with the auto primary keys read back through RETURNING (SQLite ≥ 3.35 and
PostgreSQL both have it).

What it does not do, on purpose: send pre_save/post_save signals (nothing in walletdesk
listens to them for the models that use this; a test pins that), run `full_clean`, or
handle multi-table inheritance. Use it only for plain models written by actions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import DateTimeField, Field, Model
from django.db.models.fields import AutoFieldMixin


@cache
def _plan(model: type[Model], with_pk: bool, vendor: str) -> tuple[list[Field[Any, Any]], str, str]:
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    auto_pk = isinstance(meta.pk, AutoFieldMixin)
    fields = [f for f in meta.concrete_fields if with_pk or not (f.primary_key and auto_pk)]
    quote = connection.ops.quote_name
    # Table and column names come from the model's own metadata, quoted; values are parameters.
    head = f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) VALUES "  # noqa: S608
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return fields, head, row


def _sqlite_datetime(value: datetime | None) -> str | None:
    # What DatabaseOperations.adapt_datetimefield_value does for SQLite with USE_TZ and a UTC
    # connection (the only configuration walletdesk runs): the naive UTC time as str().
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return str(value)


@cache
def _adapters(model: type[Model], with_pk: bool, vendor: str) -> list[Callable[[Any], Any] | None]:
    """A faster adapter per column where one is exactly equivalent, else None (the ORM's).

    Datetimes are a third of the columns written per ticket, and the ORM's adaptation of one
    on SQLite walks four functions and the settings.
    """
    fields = _plan(model, with_pk, vendor)[0]
    connection = connections[DEFAULT_DB_ALIAS]
    fast = vendor == "sqlite" and settings.USE_TZ and connection.timezone == UTC
    return [
        _sqlite_datetime if fast and type(f) is DateTimeField else None  # not subclasses
        for f in fields
    ]


def insert(objs: Sequence[Model]) -> None:
    """INSERT these new instances of one model; set their primary keys.

    One statement per batch of rows (as many as the backend takes parameters for).
    """
    if not objs:
        return
    # The connection itself, not the `django.db.connection` proxy: the proxy costs a lookup
    # per attribute, and get_db_prep_save reads it for every column of every row.
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    pk = model._meta.pk
    assert pk is not None
    auto = isinstance(pk, AutoFieldMixin) and getattr(objs[0], pk.attname) is None
    fields, head, row = _plan(model, not auto, connection.vendor)
    adapters = _adapters(model, not auto, connection.vendor)
    step = max(1, connection.ops.bulk_batch_size(fields, objs))
    # Like save(), take a foreign key's value from a related object assigned before that
    # object had its primary key (a message built for a ticket inserted just now).
    related: list[Any] = [f for f in fields if f.is_relation and f.many_to_one]
    for obj in objs:
        for f in related:
            if getattr(obj, f.attname) is None and f.is_cached(obj):
                target = f.get_cached_value(obj)
                if target is not None:
                    setattr(obj, f.attname, target.pk)
    for begin in range(0, len(objs), step):
        chunk = objs[begin : begin + step]
        params: list[Any] = []
        for obj in chunk:
            for f, adapt in zip(fields, adapters, strict=True):
                value = f.pre_save(obj, True)
                params.append(adapt(value) if adapt is not None else f.get_db_prep_save(value, connection))
        sql = head + ", ".join([row] * len(chunk))
        if auto:
            sql += f" RETURNING {connection.ops.quote_name(str(pk.column))}"
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if auto:
                for obj, (value,) in zip(chunk, cursor.fetchall(), strict=True):
                    setattr(obj, pk.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias


def insert_values(model: type[Model], values: Sequence[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value}, without building model instances.

    For rows nobody reads back in this process (task queue rows): a model instance costs more
    to build than its INSERT. Every row must give the primary key and every `auto_now_add`
    column; other missing columns take their field default.
    """
    if not values:
        return
    connection = connections[DEFAULT_DB_ALIAS]
    fields, head, row = _plan(model, True, connection.vendor)
    adapters = _adapters(model, True, connection.vendor)
    step = max(1, connection.ops.bulk_batch_size(fields, values))
    for begin in range(0, len(values), step):
        chunk = values[begin : begin + step]
        params: list[Any] = []
        for given in chunk:
            for f, adapt in zip(fields, adapters, strict=True):
                value = given[f.attname] if f.attname in given else f.get_default()
                params.append(adapt(value) if adapt is not None else f.get_db_prep_save(value, connection))
        with connection.cursor() as cursor:
            cursor.execute(head + ", ".join([row] * len(chunk)), params)
