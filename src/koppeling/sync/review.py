"""What a person does with a record: push it again (Verwerk), or confirm it is already booked."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import ActivityEvent, RecordState, SyncRecord


def retry_record(record: SyncRecord, *, confirm_not_booked: bool = False) -> bool:
    """ "Verwerk": put a failed record back at the head of the queue.

    A record in "needs review" may already be booked; it is pushed again only when a person
    confirmed it is not in the target (``confirm_not_booked``). Returns whether anything changed.
    """
    states = [RecordState.FAILED, RecordState.PENDING]
    if confirm_not_booked:
        states.append(RecordState.NEEDS_REVIEW)
    return bool(
        SyncRecord.objects.filter(pk=record.pk, state__in=states).update(
            state=RecordState.PENDING,
            priority=10,
            next_attempt_at=None,
            attempts=0,
            reason_code="",
            error_code="",
            message="",
            suggestion="",
            updated_at=timezone.now(),
        )
    )


def mark_booked(record: SyncRecord, target_number: str, user: str = "") -> bool:
    """A person confirmed the booking exists in the target (resolves "needs review")."""
    with transaction.atomic():
        updated = SyncRecord.objects.filter(pk=record.pk, state=RecordState.NEEDS_REVIEW).update(
            state=RecordState.PUSHED,
            target_number=target_number[:100],
            booked_fingerprint=F("fingerprint"),
            pushed_at=timezone.now(),
            reason_code="",
            message="",
            suggestion="",
            updated_at=timezone.now(),
        )
        if updated:
            ActivityEvent.objects.create(
                organisation_id=record.link.organisation_id,
                link=record.link,
                record=record,
                code="marked_booked",
                message=f"Order {record.source_number} marked as booked ({target_number})"
                + (f" by {user}" if user else ""),
            )
    return bool(updated)
