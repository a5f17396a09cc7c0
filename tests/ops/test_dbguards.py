"""The SQLite triggers (tenancy guards, the ledger's totals) survive Django's table rebuilds
(``web.ops.sqlite``): a schema change of a guarded table or of the ledger succeeds, and every
trigger is back after it."""

from __future__ import annotations

import pytest
from django.db import connection, models

from koppeling.sync import ledger_totals
from koppeling.sync.models import Connection, Flow, Link, SyncRecord
from koppeling.web.ops.dbguards import TRIGGERS

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL uses foreign keys")


def _expected() -> list[str]:
    guards = [name for name, _event, _condition in TRIGGERS]
    totals = [ledger_totals.trigger_name(event, "sqlite") for event in ledger_totals.EVENTS]
    return sorted(guards + totals)


def _triggers() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        return [row[0] for row in cursor.fetchall()]


def _alter(model, name: str, max_length: int) -> None:
    old = model._meta.get_field(name)
    new = models.CharField(max_length=max_length)
    new.set_attributes_from_name(name)
    new.model = model
    with connection.schema_editor() as editor:
        editor.alter_field(model, old, new)  # a table rebuild on SQLite


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_of_every_guarded_table_keeps_the_triggers(link):
    assert _triggers() == _expected()
    changed = [
        (Connection, "name", 200),
        (Link, "name", 200),
        (Flow, "kind", 50),
        (SyncRecord, "source_status", 50),
    ]
    try:
        for model, name, length in changed:
            _alter(model, name, length + 1)
    finally:
        for model, name, length in changed:
            model._meta.get_field(name).max_length = length + 1
            _alter(model, name, length)
            model._meta.get_field(name).max_length = length
    assert _triggers() == _expected()
    assert Link.objects.get(pk=link.pk).flows.count() == 1  # the data came through the rebuilds
