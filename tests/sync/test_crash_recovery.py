"""Crash the engine at every step of a push; afterwards every order is booked exactly once.

A crash is a ``SimulatedCrash`` (a BaseException nothing catches), leaving the database as a dead
process would. The re-run happens after the claim expired (``expired_claims``).
"""

from __future__ import annotations

import pytest
from tests.sync.test_engine import assert_exactly_once, invoices_for

from koppeling.sync.engine import CHECKPOINTS, Engine, SimulatedCrash
from koppeling.sync.models import RecordState, SyncRecord
from koppeling.sync.review import mark_booked, retry_record

pytestmark = pytest.mark.django_db

#: after these points the target may have booked the invoice without us knowing for sure
MAYBE_SENT = {"after_attempt_logged", "after_target_accepted", "before_ledger_update", "inside_ledger_update"}


def link_target_in_flight(link) -> int:
    from koppeling.connectors.registry import connector_class

    return connector_class(link.target.system).max_in_flight


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_crash_at_every_step_books_exactly_once(checkpoint, link, books_sim, expired_claims):
    # given a run that dies at `checkpoint` on its first push
    with pytest.raises(SimulatedCrash):
        Engine(link, crash_at=checkpoint).run()
    assert_exactly_once(link, books_sim)

    # when the next run recovers
    report = Engine(link).run()

    # then nothing is booked twice, and what could be unsure is put to a person, never re-pushed
    assert_exactly_once(link, books_sim)
    review = list(SyncRecord.objects.filter(link=link, state=RecordState.NEEDS_REVIEW))
    if checkpoint in MAYBE_SENT:
        # every push in flight when the process died is unsure (at most max_in_flight of them)
        assert 1 <= len(review) <= link_target_in_flight(link), checkpoint
        assert report.recovered >= len(review)
        # and the person resolves each with one click either way
        for record in review:
            booked = invoices_for(books_sim, record.reference)
            if booked:
                mark_booked(record, booked[0].invoicenumber)
            else:
                assert retry_record(record) is False  # never without a person's confirmation
                assert retry_record(record, confirm_not_booked=True)
        Engine(link).run()
    else:
        assert review == []
    eligible = SyncRecord.objects.filter(link=link).exclude(state=RecordState.SKIPPED)
    assert eligible.exists()
    assert set(eligible.values_list("state", flat=True)) == {RecordState.PUSHED}
    for record in eligible:
        assert len(invoices_for(books_sim, record.reference)) == 1, (checkpoint, record.reference)
