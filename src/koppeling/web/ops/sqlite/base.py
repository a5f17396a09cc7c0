"""The backend's classes: Django's SQLite ones, the schema editor lifting the triggers (tenancy,
and the ledger's totals: ``sync.ledger_totals``)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base
from django.db.backends.sqlite3.schema import DatabaseSchemaEditor as SQLiteSchemaEditor

from ..dbguards import drop_sqlite_guards, install_sqlite_guards

__all__ = ["DatabaseSchemaEditor", "DatabaseWrapper"]


def _totals() -> Any:
    """``sync.ledger_totals``, imported when used (the backend loads before the app registry)."""
    from koppeling.sync import ledger_totals

    return ledger_totals


class DatabaseSchemaEditor(SQLiteSchemaEditor):
    """Drops the triggers inside the editor's transaction (a failed migration rolls that back
    too) and installs them again once the schema change is committed."""

    def __enter__(self) -> DatabaseSchemaEditor:
        editor = super().__enter__()
        drop_sqlite_guards(self.connection)
        _totals().drop(self.connection)
        return editor

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        super().__exit__(exc_type, exc_value, traceback)
        if exc_type is None:
            install_sqlite_guards(self.connection)
            _totals().install(self.connection)


class DatabaseWrapper(base.DatabaseWrapper):
    SchemaEditorClass = DatabaseSchemaEditor
