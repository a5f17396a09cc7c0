"""One parametrised UPDATE run for many rows (``executemany``), built from the model's metadata.

The push loop writes each answer's own values (booking ids, durations) for a few rows at a time,
hundreds of times a second. The ORM's ``bulk_update`` spells that as ``CASE WHEN`` per field and
row, and a ``filter().update()`` per row costs a query compilation each; this builds the
statement once per shape and lets the database driver run it for every row. Column names and
value conversion come from the model's fields, so nothing about the schema is written twice.

>>> Assign("state"), Assign.increment("attempts")
(Assign(column='state', kind='value', source=''), Assign(column='attempts', kind='increment', source=''))
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models

__all__ = ["Assign", "insert_rows", "update_rows"]


@dataclass(frozen=True, slots=True)
class Assign:
    """One ``SET`` of the statement: a value, ``column + 1``, or another column's value."""

    column: str
    kind: str = "value"
    source: str = ""

    @classmethod
    def increment(cls, name: str) -> Assign:
        return cls(name, "increment")

    @classmethod
    def copy(cls, name: str, source: str) -> Assign:
        return cls(name, "copy", source)


def update_rows(
    model: type[models.Model],
    assignments: Sequence[Assign],
    rows: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    *,
    using: str = "default",
) -> int:
    """``UPDATE model SET … WHERE …`` for each ``(values, where)`` of ``rows``; rows changed in total.

    Every row gives the values of the ``value`` assignments and the (equality) conditions of
    ``where``, with the same keys in every row.
    """
    if not rows:
        return 0
    connection = connections[using]
    sql, value_fields, where_fields = _update_statement(model, tuple(assignments), tuple(rows[0][1]), using)
    value_names = [a.column for a in assignments if a.kind == "value"]
    where_names = list(rows[0][1])
    params = []
    for values, where in rows:
        row = [
            f.get_db_prep_save(values[name], connection)
            for f, name in zip(value_fields, value_names, strict=True)
        ]
        row += [
            f.get_db_prep_value(where[name], connection)
            for f, name in zip(where_fields, where_names, strict=True)
        ]
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


@functools.lru_cache(maxsize=256)
def _update_statement(
    model: type[models.Model], assignments: tuple[Assign, ...], where_names: tuple[str, ...], using: str
) -> tuple[str, list[models.Field], list[models.Field]]:
    """The statement of one shape of update, built once."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    sets: list[str] = []
    value_fields: list[models.Field] = []
    for assign in assignments:
        field = meta.get_field(assign.column)
        column = quote(field.column)
        if assign.kind == "increment":
            sets.append(f"{column} = {column} + 1")
        elif assign.kind == "copy":
            sets.append(f"{column} = {quote(meta.get_field(assign.source).column)}")
        else:
            sets.append(f"{column} = %s")
            value_fields.append(field)
    where_fields = [meta.get_field(name) for name in where_names]
    conditions = " AND ".join(f"{quote(f.column)} = %s" for f in where_fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {', '.join(sets)} WHERE {conditions}"  # noqa: S608 - names from metadata
    return sql, value_fields, where_fields


def insert_rows(
    objs: Sequence[models.Model], *, ignore_conflicts: bool = False, using: str = "default"
) -> int:
    """``INSERT`` model instances (all of one model, primary keys chosen or database-assigned) as
    one statement the driver runs per row; with ``ignore_conflicts`` rows that collide with a
    unique constraint are skipped (another worker inserted them first).

    Unlike ``bulk_create`` the instances do not learn database-assigned keys.
    """
    if not objs:
        return 0
    from django.db.models.constants import OnConflict

    connection = connections[using]
    quote = connection.ops.quote_name
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and getattr(objs[0], f.attname) is None)]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    head = connection.ops.insert_statement(on_conflict=on_conflict)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    suffix = (
        connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) if ignore_conflicts else ""
    )
    sql = f"{head} {quote(meta.db_table)} ({columns}) VALUES ({marks}) {suffix}".strip()
    params = [[f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        inserted = cursor.rowcount
    for obj in objs:  # stored now: a later save() updates them
        obj._state.adding, obj._state.db = False, using
    return inserted
