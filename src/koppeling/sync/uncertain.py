"""Maybe sent: a call whose answer never came, or a claim a crashed worker left behind.

The target may have the document. The pusher (``sync.pushing``, whose mixin this is) looks it up
where the target can be searched and records what it finds; an upsert simply goes again (setting
stock or an article twice changes nothing); a document that cannot be looked up waits for a
person ("needs review") — it is never pushed blindly a second time.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from koppeling.connectors.base import Findability, PushResult
from koppeling.connectors.errors import ConnectorError, TransientError

from . import ledger
from .flowkinds import Prepared
from .ledger import Event
from .models import ActivityEvent, ActivityLevel, AttemptOutcome, ReasonCode, SyncAttempt, SyncRecord
from .outcomes import SyncCode

if TYPE_CHECKING:
    from .runstate import FlowRun

__all__ = ["InFlight", "MaybeSent", "mark_attempts", "number_of"]

log = logging.getLogger(__name__)


@dataclass
class InFlight:
    """A call on its way: the row, its attempt row (committed before the call), the document."""

    record: SyncRecord
    attempt: SyncAttempt
    prepared: Prepared
    started: float


class MaybeSent:
    """The pusher's answers to "maybe sent" (it provides ``record_successes``, ``_retry``,
    ``_attempt`` and ``_pushed_event``)."""

    run: FlowRun
    kind: Any
    target: Any

    def resolve_uncertain(
        self,
        token: uuid.UUID,
        record: SyncRecord,
        flight: InFlight | None,
        exc: TransientError | None,
        *,
        recovering: bool = False,
    ) -> None:
        """The target may have it. Look it up where it can be found; never push blindly again.

        Upserts are safe to repeat (setting stock or an article again changes nothing), so they
        simply go again; documents are looked up by reference where the target can be searched,
        and otherwise wait for a person ("needs review").
        """
        run = self.run
        found: PushResult | None = None
        searched = False
        if self.kind.upsert or self.target.findable == Findability.BY_REFERENCE:
            try:
                found = self.kind.find(self.target, record)
                searched = True
            except ConnectorError as lookup_exc:
                log.warning("lookup of %s failed: %s", record.reference, lookup_exc.code)
        if found is not None:
            prepared = flight.prepared if flight else Prepared(None)
            in_flight = flight or InFlight(
                record, _sending_attempt(record, token), prepared, time.perf_counter()
            )
            if recovering:
                self._recover_found(token, record, found)
            else:
                self.record_successes(token, [(in_flight, found)])
            return
        if searched or self.kind.upsert:  # certainly not there (or harmless to repeat): safe to go again
            if exc is not None and not recovering:
                self._retry(token, record, flight, exc)
            else:
                ledger.apply(
                    record, Event.RECOVER_UNSENT if recovering else Event.RELEASE, token=token, now=run.now()
                )
                mark_attempts(record, token, AttemptOutcome.TRANSIENT)
            return
        self._to_review(token, record, flight, exc, recovering=recovering)

    def _to_review(
        self,
        token: uuid.UUID,
        record: SyncRecord,
        flight: InFlight | None,
        exc: TransientError | None,
        *,
        recovering: bool,
    ) -> None:
        run = self.run
        params = {
            "number": number_of(record),
            "reference": record.reference or record.source_number,
            "system": self.target.label,
            "cause": str(exc.code) if exc is not None else "interrupted",
        }
        with transaction.atomic():
            won = ledger.apply(
                record,
                Event.RECOVER_UNCERTAIN if recovering else Event.UNCERTAIN,
                token=token,
                now=run.now(),
                reason_code=ReasonCode.INTERRUPTED,
                error_code=SyncCode.NEEDS_REVIEW,
                params=run.params(params),
            )
            if not won:
                return  # no longer ours: its new owner decides
            if flight is not None:
                self._attempt(flight, AttemptOutcome.UNCERTAIN, exc)
            else:
                mark_attempts(record, token, AttemptOutcome.UNCERTAIN)
            ActivityEvent.objects.bulk_create(
                [run.event(ActivityLevel.WARNING, SyncCode.NEEDS_REVIEW, params, record)]
            )
        run.report.needs_review += 1

    def _recover_found(self, token: uuid.UUID, record: SyncRecord, found: PushResult) -> None:
        run = self.run
        with transaction.atomic():
            won = ledger.apply(
                record,
                Event.RECOVER_FOUND,
                token=token,
                now=run.now(),
                target_id=found.target_id[:100],
                target_number=found.number[:100],
                target_token=found.token[:100],
                pushed_at=run.now(),
            )
            mark_attempts(record, token, AttemptOutcome.SUCCESS)
            if won:
                run.report.pushed += 1
                run.report.pushed_ids.append(record.pk)
                ActivityEvent.objects.bulk_create([self._pushed_event(record, found, True)])


def _sending_attempt(record: SyncRecord, token: uuid.UUID) -> SyncAttempt:
    attempt = (
        SyncAttempt.objects.filter(record=record, claim_token=token, outcome=AttemptOutcome.SENDING)
        .order_by("-started_at")
        .first()
    )
    return attempt or SyncAttempt(record=record, claim_token=token)


def mark_attempts(record: SyncRecord, token: uuid.UUID, outcome: str) -> None:
    SyncAttempt.objects.filter(record=record, claim_token=token, outcome=AttemptOutcome.SENDING).update(
        outcome=outcome
    )


def number_of(record: SyncRecord) -> str:
    return record.source_number or record.source_id
