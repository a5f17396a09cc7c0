"""The one writer of ledger state: every (state, event) of the table, and nobody else writes state."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
from tests.conftest import flow_of

from koppeling.sync import ledger
from koppeling.sync.ledger import NEW, TRANSITIONS, Event, IllegalTransition
from koppeling.sync.models import RecordState, SyncRecord

pytestmark = pytest.mark.django_db

#: values an event needs to be applied (claims carry a token; some events carry an outcome)
VALUES = {
    Event.CLAIM: lambda: {"claim_token": uuid.uuid4()},
    Event.SEEN_SKIPPED: lambda: {"reason_code": "status_not_selected"},
    Event.SEEN_BAD: lambda: {"reason_code": "source_data", "error_code": "field_missing"},
    Event.SEEN_EDITED: lambda: {"changed_after_booking": True},
    Event.SEEN_EDIT_UNDONE: lambda: {"changed_after_booking": False},
    Event.SUCCEED: lambda: {"target_id": "E1"},
    Event.RECOVER_FOUND: lambda: {"target_id": "E1"},
    Event.PERSON_MARK_BOOKED: lambda: {"target_number": "2026001"},
}


def _row(link, state: str, **fields) -> SyncRecord:
    return SyncRecord.objects.create(
        link=link,
        flow=flow_of(link),
        source_id=uuid.uuid4().hex[:12],
        state=state,
        claim_token=fields.pop("claim_token", None),
        **fields,
    )


EXISTING = [(state, event) for (state, event) in TRANSITIONS if state != NEW]


@pytest.mark.parametrize(("state", "event"), EXISTING, ids=[f"{s}-{e}" for s, e in EXISTING])
def test_apply_every_transition_of_the_table(db, link, state, event):
    # given a row in `state` (held by a claim when the event needs one)
    action = TRANSITIONS[(state, event)]
    token = uuid.uuid4()
    record = _row(link, state, claim_token=token if state == RecordState.PUSHING else None)
    values = VALUES.get(event, dict)()
    # when the event is applied
    won = ledger.apply(record, event, token=token, **values)
    # then the row is in the table's state (or unchanged where the table says "nothing to do")
    stored = SyncRecord.objects.get(pk=record.pk)
    if action is None:
        assert not won and stored.state == state
    else:
        assert won and stored.state == action.to
        if action.ends_claim:
            assert stored.claim_token is None
        if action.books:
            assert stored.booked_fingerprint == stored.fingerprint


def test_apply_create_events_give_the_states_of_the_table(db, link):
    events = [Event.SEEN_ELIGIBLE, Event.SEEN_SKIPPED, Event.SEEN_BAD]
    rows = [SyncRecord(link=link, flow=flow_of(link), source_id=str(i)) for i in range(3)]
    ledger.create_many(rows, events)
    states = dict(SyncRecord.objects.values_list("source_id", "state"))
    assert states == {"0": RecordState.PENDING, "1": RecordState.SKIPPED, "2": RecordState.FAILED}


def test_apply_an_event_the_state_does_not_allow_is_refused(db, link):
    record = _row(link, RecordState.PUSHED)
    with pytest.raises(IllegalTransition):
        ledger.apply(record, Event.CLAIM, claim_token=uuid.uuid4())
    with pytest.raises(IllegalTransition):
        ledger.apply(record, Event.SUCCEED)  # pushed is not pushing


def test_apply_claimed_events_need_the_claim_token(db, link):
    token = uuid.uuid4()
    record = _row(link, RecordState.PUSHING, claim_token=token)
    with pytest.raises(IllegalTransition):
        ledger.apply(record, Event.SUCCEED, target_id="E1")
    # a stale token loses; the right one wins
    assert ledger.apply(record, Event.SUCCEED, token=uuid.uuid4(), target_id="E1") is False
    assert ledger.apply(record, Event.SUCCEED, token=token, target_id="E1") is True


def test_apply_loses_when_another_worker_moved_the_row_on(db, link):
    record = _row(link, RecordState.PENDING)
    stale = SyncRecord.objects.get(pk=record.pk)
    assert ledger.apply(record, Event.CLAIM, claim_token=uuid.uuid4())
    # the second worker saw it pending too: its claim loses, nothing is overwritten
    assert ledger.apply(stale, Event.CLAIM, claim_token=uuid.uuid4()) is False
    assert SyncRecord.objects.get(pk=record.pk).claim_token == record.claim_token


def test_apply_an_event_cannot_set_fields_it_does_not_own(db, link):
    record = _row(link, RecordState.PENDING)
    with pytest.raises(IllegalTransition, match="cannot set"):
        ledger.apply(record, Event.CLAIM, claim_token=uuid.uuid4(), target_id="forged")


def test_apply_many_reports_which_rows_it_won(db, link):
    token = uuid.uuid4()
    rows = [_row(link, RecordState.PUSHING, claim_token=token) for _ in range(3)]
    SyncRecord.objects.filter(pk=rows[1].pk).update(claim_token=uuid.uuid4())  # taken over meanwhile
    per_record = {r.pk: {"target_id": f"E{r.pk}", "target_number": f"N{r.pk}"} for r in rows}
    won = ledger.apply_many(rows, Event.SUCCEED, token=token, per_record=per_record)
    assert won == {rows[0].pk, rows[2].pk}
    stored = {r.pk: r for r in SyncRecord.objects.filter(pk__in=[r.pk for r in rows])}
    assert stored[rows[0].pk].target_number == f"N{rows[0].pk}" and stored[rows[0].pk].state == "pushed"
    assert stored[rows[1].pk].state == RecordState.PUSHING and stored[rows[1].pk].target_id == ""


def test_two_claims_at_the_same_moment_only_one_wins(db, link):
    """Two workers on one clock (same microsecond) claim the same rows: the rows go to one of
    them; the other learns it won nothing (found on PostgreSQL: both thought they had all 20)."""
    import datetime as dt

    moment = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    rows = [_row(link, RecordState.PENDING) for _ in range(3)]
    first, second = uuid.uuid4(), uuid.uuid4()
    stale = [SyncRecord.objects.get(pk=r.pk) for r in rows]  # the second worker read them as pending
    assert ledger.apply_many(rows, Event.CLAIM, now=moment, claim_token=first) == {r.pk for r in rows}
    assert ledger.apply_many(stale, Event.CLAIM, now=moment, claim_token=second) == set()
    SyncRecord.objects.filter(pk=rows[1].pk).update(state=RecordState.PENDING, claim_token=None)
    # a mixed batch: one row still claimed by the first worker, one free again
    mixed = [stale[0], SyncRecord.objects.get(pk=rows[1].pk)]
    assert ledger.apply_many(mixed, Event.CLAIM, now=moment, claim_token=second) == {rows[1].pk}
    assert {r.pk for r in SyncRecord.objects.filter(claim_token=first)} == {rows[0].pk, rows[2].pk}


def test_apply_counts_attempts_only_for_real_tries(db, link):
    token = uuid.uuid4()
    deferred = _row(link, RecordState.PUSHING, claim_token=token)
    retried = _row(link, RecordState.PUSHING, claim_token=token)
    ledger.apply(deferred, Event.DEFER, token=token, reason_code="rate_limited")
    ledger.apply(retried, Event.RETRY, token=token, reason_code="transient")
    assert SyncRecord.objects.get(pk=deferred.pk).attempts == 0  # waiting for a rate limit is no try
    assert SyncRecord.objects.get(pk=retried.pk).attempts == 1


SRC = Path(__file__).resolve().parents[2] / "src" / "koppeling"
WRITE_CALLS = {"update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


def _state_writes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in WRITE_CALLS
        ):
            if any(keyword.arg == "state" for keyword in node.keywords):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == "state":
                    found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_nothing_but_the_ledger_writes_state():
    writers = []
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or "connectors" in path.parts:
            continue  # connectors hold no ledger; migrations are history
        if path.name in ("ledger.py", "cursors.py"):
            continue  # the writer itself; a cursor's "state" is its position, not a ledger row's
        writers += _state_writes(path)
    assert writers == [], f"ledger state written outside sync/ledger.py: {writers}"
