"""The engine under each kind of fault, one at a time: every order ends booked exactly once.

Each test faults one request of one side (the shop's order list, or Acumulus's invoice_add) in one
mode, then runs the link on a simulated clock until nothing is left — doing a person's part for
rows "maybe sent" (Acumulus cannot be searched by order number): look the reference up in the
target, mark it booked, or confirm it is not there. ``benchmarks.faults`` does the same at 20 % of
all requests, every mode mixed.
"""

from __future__ import annotations

import pytest
from tests.reliability.conftest import DEADLINE, Clock
from tests.sync.test_engine import assert_exactly_once, invoices_for

from koppeling.connectors.simfaults import FAULT_MODES
from koppeling.sync.engine import Engine
from koppeling.sync.models import ActivityEvent, AttemptOutcome, RecordState, SyncAttempt, SyncRecord
from koppeling.sync.review import mark_booked, retry_record

HANG = DEADLINE * 2


def settle(link, books_sim, clock: Clock, runs: int = 12) -> list[str]:
    """Run until every row is pushed (a person resolving reviews); returns the run statuses."""
    statuses = []
    for _ in range(runs):
        with Engine(link, now=clock) as engine:
            statuses.append(str(engine.run().status))
        rows = SyncRecord.objects.filter(link=link)
        for record in rows.filter(state=RecordState.NEEDS_REVIEW):
            if invoices_for(books_sim, record.reference):
                mark_booked(record, record.reference, user="test")
            else:
                retry_record(record, confirm_not_booked=True, user="test")
        if rows.count() == 3 and not rows.exclude(state=RecordState.PUSHED).exists():
            return statuses
        clock.advance(2 * 3600)
    raise AssertionError(f"not settled after {runs} runs: {statuses}")


@pytest.mark.parametrize("mode", FAULT_MODES)
def test_one_fault_of_acumulus(socket_link, shop_sim, books_sim, mode):
    faults = books_sim.random_faults(1.0, modes=[mode], times=1, paths=["invoice_add"], hang_seconds=HANG)
    statuses = settle(socket_link, books_sim, Clock())
    assert sum(faults.injected.values()) == 1
    assert_exactly_once(socket_link, books_sim)
    assert len(books_sim.invoices) == 3
    # the failed call is on record: an attempt that did not succeed, and a second run (a drip may
    # finish within the call's deadline: then it simply succeeded, slowly)
    if mode != "drip":
        assert SyncAttempt.objects.exclude(outcome=AttemptOutcome.SUCCESS).exists() or len(statuses) > 1


@pytest.mark.parametrize("mode", FAULT_MODES)
def test_one_fault_of_the_shop(socket_link, shop_sim, books_sim, mode):
    faults = shop_sim.random_faults(1.0, modes=[mode], times=1, paths=["/orders"], hang_seconds=HANG)
    statuses = settle(socket_link, books_sim, Clock())
    assert sum(faults.injected.values()) == 1
    assert_exactly_once(socket_link, books_sim)
    assert len(books_sim.invoices) == 3
    if mode == "rate_limited":  # the shop's own limit: a wait for its slot, not a failure
        assert statuses[0] != "failed" and len(statuses) > 1
    elif mode != "drip":  # a drip may finish within the deadline
        assert statuses[0] == "failed"


def test_a_retry_is_visible_in_the_activity_log(socket_link, books_sim):
    books_sim.fail_next(503)  # refused before processing: safe to retry
    clock = Clock()
    with Engine(socket_link, now=clock) as engine:
        engine.run()
    retried = SyncRecord.objects.get(link=socket_link, attempts=1, state=RecordState.PENDING)
    assert SyncAttempt.objects.filter(record=retried, outcome=AttemptOutcome.TRANSIENT).exists()
    (event,) = ActivityEvent.objects.filter(record=retried)
    assert event.code == "retry_scheduled" and event.params["attempts"] == 1
