"""Tenancy in the database on SQLite too: triggers that refuse a link or flow whose connections
belong to another organisation, whatever writes the row (raw SQL, a bulk update, another tool).

PostgreSQL has composite foreign keys for this (migration ``sync.0008_tenancy``). SQLite cannot
add a foreign key to an existing table, and Django rebuilds a SQLite table for many schema changes
(create a copy, drop the table, rename the copy) — which a trigger naming that table makes fail
("error in trigger …: no such table"). So the triggers are not a migration's: the database
backend ``web.ops.sqlite`` lifts them for every schema change and puts them back after it, and
``post_migrate`` installs them on a database migrated before they existed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TRIGGERS", "drop_sqlite_guards", "install_sqlite_guards"]

_MESSAGE = "a link, its flows and their connections belong to one organisation"


def _org_of(table: str, column: str) -> str:
    return f"(SELECT organisation_id FROM {table} WHERE id = NEW.{column})"  # noqa: S608  (constants)


_LINK_CHECK = (
    f"{_org_of('sync_connection', 'source_id')} IS NOT NEW.organisation_id "
    f"OR {_org_of('sync_connection', 'target_id')} IS NOT NEW.organisation_id"
)
_FLOW_CHECK = (
    f"{_org_of('sync_link', 'link_id')} IS NOT NEW.organisation_id "
    f"OR {_org_of('sync_connection', 'source_id')} IS NOT NEW.organisation_id "
    f"OR {_org_of('sync_connection', 'target_id')} IS NOT NEW.organisation_id"
)
_CONNECTION_MOVE = (
    "NEW.organisation_id IS NOT OLD.organisation_id AND ("
    "EXISTS (SELECT 1 FROM sync_link WHERE source_id = NEW.id OR target_id = NEW.id) "
    "OR EXISTS (SELECT 1 FROM sync_flow WHERE source_id = NEW.id OR target_id = NEW.id))"
)

#: (name, event, condition)
TRIGGERS = [
    ("koppeling_link_same_org_insert", "BEFORE INSERT ON sync_link", _LINK_CHECK),
    (
        "koppeling_link_same_org_update",
        "BEFORE UPDATE OF organisation_id, source_id, target_id ON sync_link",
        _LINK_CHECK,
    ),
    ("koppeling_flow_same_org_insert", "BEFORE INSERT ON sync_flow", _FLOW_CHECK),
    (
        "koppeling_flow_same_org_update",
        "BEFORE UPDATE OF organisation_id, link_id, source_id, target_id ON sync_flow",
        _FLOW_CHECK,
    ),
    ("koppeling_connection_stays", "BEFORE UPDATE OF organisation_id ON sync_connection", _CONNECTION_MOVE),
]


def _connection(using: Any) -> Any:
    from django.db import connections

    return connections[using] if isinstance(using, str) else using


def install_sqlite_guards(using: Any = "default", **_kwargs: Any) -> None:
    """Create the triggers on a SQLite database that has the sync tables (a no-op elsewhere).

    ``using``: a database alias (as ``post_migrate`` sends it) or a connection."""
    connection = _connection(using)
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if not {"sync_link", "sync_flow", "sync_connection"} <= tables:
            return
        flow_columns = {c.name for c in connection.introspection.get_table_description(cursor, "sync_flow")}
        if "organisation_id" not in flow_columns:
            return  # migrated back before 0008: nothing to guard with
        for name, event, condition in TRIGGERS:
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {name} {event} FOR EACH ROW WHEN {condition} "
                f"BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END"
            )


def drop_sqlite_guards(using: Any = "default", **_kwargs: Any) -> None:
    """Remove the triggers (before a schema change: a SQLite table rebuild fails with them)."""
    connection = _connection(using)
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name, _event, _condition in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
