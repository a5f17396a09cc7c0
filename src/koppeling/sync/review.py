"""What a person does with a record: push it again (Verwerk), confirm it is (not) booked, set it aside.

Each is a ledger event (``sync.ledger``) plus one activity row saying who did it. A record in
"needs review" may already be booked: it goes again only when a person confirmed it is not in the
target. A batch row takes its members with it.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from . import ledger
from .ledger import Event
from .models import ActivityEvent, ActivityLevel, RecordState, SyncRecord
from .outcomes import SyncCode

__all__ = ["ignore_record", "mark_booked", "retry_failed", "retry_record", "unignore_record"]

VERWERK_PRIORITY = 10


def _log(record: SyncRecord, code: str, user: str, **params: object) -> None:
    ActivityEvent.objects.create(
        organisation_id=record.link.organisation_id,
        link_id=record.link_id,
        flow_id=record.flow_id,
        record=record,
        level=ActivityLevel.INFO,
        code=code,
        params={"number": record.source_number or record.source_id, "user": user or "?", **params},
    )


def _with_members(record: SyncRecord, event: Event, **values: object) -> bool:
    with transaction.atomic():
        won = ledger.apply(record, event, now=timezone.now(), **values)
        if won and record.object_type == "batch":
            members = list(SyncRecord.objects.filter(batch=record).exclude(pk=record.pk))
            ledger.apply_many(members, event, now=timezone.now(), **values)
    return won


def retry_record(record: SyncRecord, *, confirm_not_booked: bool = False, user: str = "") -> bool:
    """Verwerk: put a record back at the head of the queue. Returns whether anything changed."""
    if record.state == RecordState.NEEDS_REVIEW:
        if not confirm_not_booked:
            return False
        event, code = Event.PERSON_CONFIRM_NOT_BOOKED, SyncCode.CONFIRMED_NOT_BOOKED
    elif record.state in (RecordState.FAILED, RecordState.PENDING):
        event, code = Event.PERSON_RETRY, SyncCode.RETRY_REQUESTED
    else:
        return False
    won = _with_members(record, event, priority=VERWERK_PRIORITY, next_attempt_at=None)
    if won:
        _log(record, code, user)
    return won


def retry_failed(flow_id: int) -> int:
    """Every failed record of a flow back in the queue, e.g. after its mapping changed: what
    failed may book with the new mapping, and a failed record was not booked, so trying it again
    is safe (what fails again for its own reason fails the same way). Returns how many."""
    records = list(SyncRecord.objects.filter(flow_id=flow_id, state=RecordState.FAILED))
    if not records:
        return 0
    return len(ledger.apply_many(records, Event.PERSON_RETRY, now=timezone.now(), next_attempt_at=None))


def mark_booked(record: SyncRecord, target_number: str, user: str = "") -> bool:
    """A person confirmed the booking exists in the target (resolves "needs review")."""
    if record.state != RecordState.NEEDS_REVIEW:
        return False
    won = _with_members(
        record, Event.PERSON_MARK_BOOKED, target_number=target_number[:100], pushed_at=timezone.now()
    )
    if won:
        _log(record, SyncCode.MARKED_BOOKED, user, booked_as=target_number[:100])
    return won


def ignore_record(record: SyncRecord, why: str, user: str = "") -> bool:
    """Set a failed (or waiting, or unsure) record aside with a reason: it is never pushed."""
    if record.state not in (RecordState.FAILED, RecordState.PENDING, RecordState.NEEDS_REVIEW):
        return False
    params = {"why": why[:500], "user": user or "?", "number": record.source_number or record.source_id}
    won = _with_members(
        record,
        Event.PERSON_IGNORE,
        reason_code="ignored_by_person",
        error_code=SyncCode.IGNORED,
        params=params,
    )
    if won:
        _log(record, SyncCode.IGNORED, user, why=why[:500])
    return won


def unignore_record(record: SyncRecord, user: str = "") -> bool:
    if record.state != RecordState.IGNORED:
        return False
    won = _with_members(record, Event.PERSON_UNIGNORE, priority=VERWERK_PRIORITY)
    if won:
        _log(record, SyncCode.UNIGNORED, user)
    return won
