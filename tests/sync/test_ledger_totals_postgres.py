"""The ledger's totals on the real PostgreSQL: the same exactness checks, and writers in parallel
with a compactor (the deltas a compaction folds are the ones it deletes, in one statement)."""

from __future__ import annotations

import random
import threading

import pytest
from django.db import connection, connections
from tests.sync.test_ledger_totals import _change, _flows, check, missing_trigger_is_noticed, run_and_check

from koppeling.sync import ledger_totals
from koppeling.sync.models import SyncRecord
from koppeling.sync.totals_models import LedgerTotalDelta

pytestmark = pytest.mark.postgres


@pytest.mark.django_db
def test_database_is_postgresql():
    assert connection.vendor == "postgresql"
    assert ledger_totals.installed() == set(ledger_totals.EVENTS)


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
def test_random_changes_keep_the_totals_exact_on_postgresql(seed):
    run_and_check(seed)


@pytest.mark.django_db
@pytest.mark.parametrize("event", ledger_totals.EVENTS)
def test_a_missing_trigger_is_noticed_on_postgresql(event):
    missing_trigger_is_noticed(event)


@pytest.mark.django_db(transaction=True)
def test_writers_and_a_compactor_at_once_lose_nothing():
    flows = _flows()
    orgs = sorted({f.organisation_id for f in flows})
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(seed: int) -> None:
        rng, serial = random.Random(seed), [seed * 100_000]
        for _ in range(80):
            try:
                _change(rng, flows, serial)
            except Exception as exc:
                errors.append(exc)
        connections.close_all()

    def compactor() -> None:
        try:
            while not stop.is_set():
                ledger_totals.compact()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in (1, 2, 3)]
    folding = threading.Thread(target=compactor)
    folding.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    stop.set()
    folding.join(60)
    deadlocks = [e for e in errors if "deadlock" in str(e)]
    assert not deadlocks, deadlocks
    # a writer may pick a row another one deleted meanwhile (DoesNotExist): not the totals' concern
    assert SyncRecord.objects.exists()
    assert check(orgs, random.Random(0)) == []
    ledger_totals.compact()
    assert not LedgerTotalDelta.objects.exists()
    assert check(orgs, random.Random(1)) == []
