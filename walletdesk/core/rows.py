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

On PostgreSQL a batch goes as `INSERT … SELECT * FROM UNNEST(%b::type[], …)`, one array per
column (as Django's own bulk_create does since 5.2), sent in binary: the statement text is the
same whatever the batch size. With one placeholder per value, psycopg re-parses every long statement on the
client (it caches only short ones): 0.9 ms of Python per batch, measured.
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


@cache
def _unnest_head(model: type[Model], with_pk: bool, vendor: str) -> str | None:
    """`INSERT … SELECT * FROM UNNEST(…)` for this model on PostgreSQL, or None when a column
    type cannot go through an array (Django's own test, from its UNNEST bulk insert)."""
    if vendor != "postgresql":
        return None
    connection = connections[DEFAULT_DB_ALIAS]
    fields, head, _ = _plan(model, with_pk, vendor)
    for field in fields:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
        if hasattr(field, "get_placeholder_sql") or target.get_internal_type() not in connection.data_types:
            return None
    # varchar, not varchar(50): the array cast must not truncate (the column still checks).
    types = [str(field.db_type(connection)).split("(")[0] for field in fields]
    # %b: each array goes in PostgreSQL's binary format, bound on the server (`_cursor`).
    columns = ", ".join(f"(%b)::{db_type}[]" for db_type in types)
    # Types come from the model's own fields; values are parameters.
    return head.removesuffix(" VALUES ") + f" SELECT * FROM UNNEST({columns})"  # noqa: S608


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


def _write(model: type[Model], with_pk: bool, raw_rows: Sequence[list[Any]], returning: bool) -> list[Any]:
    """INSERT rows of raw column values (in `_plan`'s field order), adapted as the ORM adapts
    them, one statement per batch the backend takes parameters for; the new primary keys if
    `returning`."""
    # The connection itself, not the `django.db.connection` proxy: the proxy costs a lookup
    # per attribute, and get_db_prep_save reads it for every column of every row.
    connection = connections[DEFAULT_DB_ALIAS]
    fields, head, row = _plan(model, with_pk, connection.vendor)
    adapters = _adapters(model, with_pk, connection.vendor)
    unnest = _unnest_head(model, with_pk, connection.vendor) if len(raw_rows) > 1 else None
    step = len(raw_rows) if unnest else max(1, connection.ops.bulk_batch_size(fields, raw_rows))
    tail = ""
    if returning:
        assert model._meta.pk is not None
        tail = f" RETURNING {connection.ops.quote_name(str(model._meta.pk.column))}"
    keys: list[Any] = []
    for begin in range(0, len(raw_rows), step):
        chunk = raw_rows[begin : begin + step]
        params = [
            adapt(value) if adapt is not None else f.get_db_prep_save(value, connection)
            for values in chunk
            for f, adapt, value in zip(fields, adapters, values, strict=True)
        ]
        if unnest:
            # Column arrays; PostgreSQL returns the rows in the arrays' order, as Django's own
            # UNNEST bulk_create relies on too.
            width = len(fields)
            sql, params = unnest + tail, [params[i::width] for i in range(width)]
        else:
            sql = head + ", ".join([row] * len(chunk)) + tail
        with _cursor(connection, server_binding=bool(unnest)) as cursor:
            cursor.execute(sql, params)
            if returning:
                keys += [key for (key,) in cursor.fetchall()]
    return keys


def _cursor(connection: Any, server_binding: bool) -> Any:
    """`connection.cursor()`, or for the UNNEST arrays one that binds them on the server.

    Django's psycopg cursors bind on the client: every array is rendered as quoted text, each
    element through a regex, and PostgreSQL parses that text back. Sent in binary, a batch of
    tickets' columns cost a third of the time, measured (0.9 ms -> 0.28 ms for 12 rows of 15
    columns). Wrapped as Django wraps its own cursors, so errors, query logging and execute
    wrappers are the same. (Prepared statements on top gave nothing measurable.)
    """
    if not server_binding:
        return connection.cursor()
    import psycopg  # only on PostgreSQL, where the UNNEST form is used

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(psycopg.Cursor(connection.connection))


def insert(objs: Sequence[Model]) -> None:
    """INSERT these new instances of one model; set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    pk = model._meta.pk
    assert pk is not None
    auto = isinstance(pk, AutoFieldMixin) and getattr(objs[0], pk.attname) is None
    fields = _plan(model, not auto, connections[DEFAULT_DB_ALIAS].vendor)[0]
    # Like save(), take a foreign key's value from a related object assigned before that
    # object had its primary key (a message built for a ticket inserted just now).
    related: list[Any] = [f for f in fields if f.is_relation and f.many_to_one]
    for obj in objs:
        for f in related:
            if getattr(obj, f.attname) is None and f.is_cached(obj):
                target = f.get_cached_value(obj)
                if target is not None:
                    setattr(obj, f.attname, target.pk)
    raw_rows = [[f.pre_save(obj, True) for f in fields] for obj in objs]
    keys = _write(model, not auto, raw_rows, returning=auto)
    if auto:
        for obj, key in zip(objs, keys, strict=True):
            setattr(obj, pk.attname, key)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS


def insert_values(model: type[Model], values: Sequence[dict[str, Any]]) -> None:
    """INSERT rows given as {attname: value}, without building model instances.

    For rows nobody reads back in this process (task queue rows): a model instance costs more
    to build than its INSERT. Every row must give the primary key and every `auto_now_add`
    column; other missing columns take their field default.
    """
    if not values:
        return
    fields = _plan(model, True, connections[DEFAULT_DB_ALIAS].vendor)[0]
    raw_rows = [
        [given[f.attname] if f.attname in given else f.get_default() for f in fields] for given in values
    ]
    _write(model, True, raw_rows, returning=False)
