"""One parametrised UPDATE run for many rows (``executemany``), built from the model's metadata.

The push loop writes each answer's own values (booking ids, durations) for a few rows at a time,
hundreds of times a second. The ORM's ``bulk_update`` spells that as ``CASE WHEN`` per field and
row, and a ``filter().update()`` per row costs a query compilation each; this builds the
statement once per shape and lets the database driver run it for every row. Column names and
value conversion come from the model's fields, so nothing about the schema is written twice.

Each value still goes through its field's own conversion (``get_db_prep_save``), remembered per
exact value (:class:`Column`): that chain of method calls costs more than the database's own work
for a ledger row, and the values the runtime writes repeat (no value, 0, the flow, a batch's time,
a state).

>>> Assign("state"), Assign.increment("attempts")
(Assign(column='state', kind='value', source=''), Assign(column='attempts', kind='increment', source=''))
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, models

from koppeling.core.remembered import Remembered

__all__ = ["Assign", "Column", "insert_rows", "update_rows"]

#: immutable value types hashed and compared by value, whose conversion depends on the value alone
_BY_VALUE = frozenset({type(None), bool, int, str, uuid.UUID, dt.date})
#: distinct values remembered per column; a full memory starts afresh
COLUMN_MEMORY = 4096
_UNKNOWN = object()


class Column:
    """One field's values as the database driver takes them, remembered per exact value.

    Django converts a value for the database through a few method calls (~7,000 instructions
    for a text, ~47,000 for an aware time) — for a ledger row that is more than the database's
    own work. For a value of a plain immutable type the answer depends on the value alone, so it
    is worked out once per distinct value. The key is the value's exact type with the value (a time
    also with its zone and fold), so values that compare equal but are written differently
    (``True`` and ``1``, a date and a time) never share an answer. Anything else — JSON documents,
    ``Decimal`` (``0.00`` equals ``-0.00``), expressions — is converted every time.
    """

    __slots__ = ("_known", "_read", "field", "lookup")

    def __init__(self, field: models.Field, *, lookup: bool = False) -> None:
        self.field = field
        self.lookup = lookup  # a condition's value (``get_db_prep_value``), not one to store
        self._known: Remembered[tuple, Any] = Remembered(COLUMN_MEMORY)
        # a field that keeps Django's own pre_save (the attribute as it is) is read directly;
        # others (``auto_now`` times, …) decide their value on save
        plain = type(field).pre_save is models.Field.pre_save
        self._read = operator.attrgetter(field.attname) if plain else None

    def of(self, obj: models.Model, connection: Any) -> Any:
        """The value to insert for ``obj`` (its field's ``pre_save``, then converted)."""
        value = self._read(obj) if self._read is not None else self.field.pre_save(obj, True)
        return self.value(value, connection)

    def value(self, value: Any, connection: Any) -> Any:
        """``value`` as the field's own conversion gives it for this connection's backend."""
        kind = value.__class__
        if kind is dt.datetime:
            key: tuple = (kind, value, value.tzinfo, value.fold)
        elif kind in _BY_VALUE or _is_member(kind):
            key = (kind, value)
        else:
            return self._convert(value, connection)
        known = self._known.get(key, _UNKNOWN)
        if known is _UNKNOWN:
            known = self._known.keep(key, self._convert(value, connection))
        return known

    def _convert(self, value: Any, connection: Any) -> Any:
        if self.lookup:
            return self.field.get_db_prep_value(value, connection)
        return self.field.get_db_prep_save(value, connection)


@functools.cache
def _is_member(kind: type) -> bool:
    """An enumeration's members (``TextChoices`` states, levels) are constants: by value too."""
    return issubclass(kind, enum.Enum)


@functools.lru_cache(maxsize=1024)
def column(field: models.Field, using: str, *, lookup: bool = False) -> Column:
    """The :class:`Column` of ``field`` on database ``using`` (one memory per backend)."""
    return Column(field, lookup=lookup)


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
        row = [c.value(values[name], connection) for c, name in zip(value_fields, value_names, strict=True)]
        row += [c.value(where[name], connection) for c, name in zip(where_fields, where_names, strict=True)]
        params.append(row)
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        return cursor.rowcount


@functools.lru_cache(maxsize=256)
def _update_statement(
    model: type[models.Model], assignments: tuple[Assign, ...], where_names: tuple[str, ...], using: str
) -> tuple[str, list[Column], list[Column]]:
    """The statement of one shape of update, built once."""
    quote = connections[using].ops.quote_name
    meta = model._meta
    sets: list[str] = []
    value_fields: list[Column] = []
    for assign in assignments:
        field = meta.get_field(assign.column)
        target = quote(field.column)
        if assign.kind == "increment":
            sets.append(f"{target} = {target} + 1")
        elif assign.kind == "copy":
            sets.append(f"{target} = {quote(meta.get_field(assign.source).column)}")
        else:
            sets.append(f"{target} = %s")
            value_fields.append(column(field, using))
    where_fields = [column(meta.get_field(name), using, lookup=True) for name in where_names]
    conditions = " AND ".join(f"{quote(c.field.column)} = %s" for c in where_fields)
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
    connection = connections[using]
    first = objs[0]
    with_pk = getattr(first, first._meta.pk.attname) is not None
    sql, columns = _insert_statement(type(first), with_pk, ignore_conflicts, using)
    params = [[c.of(obj, connection) for c in columns] for obj in objs]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
        inserted = cursor.rowcount
    for obj in objs:  # stored now: a later save() updates them
        obj._state.adding, obj._state.db = False, using
    return inserted


@functools.lru_cache(maxsize=256)
def _insert_statement(
    model: type[models.Model], with_pk: bool, ignore_conflicts: bool, using: str
) -> tuple[str, list[Column]]:
    """The statement of one shape of insert, built once."""
    from django.db.models.constants import OnConflict

    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    head = connection.ops.insert_statement(on_conflict=on_conflict)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    suffix = (
        connection.ops.on_conflict_suffix_sql(fields, on_conflict, None, None) if ignore_conflicts else ""
    )
    sql = f"{head} {quote(meta.db_table)} ({columns}) VALUES ({marks}) {suffix}".strip()
    return sql, [column(f, using) for f in fields]
