"""The one writer of ledger state.

Every change of a ledger row's ``state`` is an **event** applied through this module. The
transitions are one explicit table, ``(state, event) → Action``; an event with no entry for the
row's state is refused (``IllegalTransition``), an entry whose action is ``None`` means "nothing
to do" (e.g. a record in flight is fetched again). Each write is a conditional UPDATE guarded by
the state the caller saw — and, for everything a worker does with a row it claimed, by its claim
token — so it says whether it won; a row another worker moved on meanwhile is left alone.

Besides state, events carry the record's facts (number, amounts, fingerprint …) and outcome
(reason, code, parameters), written in the same statement. Nothing else writes ``state``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from . import dbwrite
from .dbwrite import Assign
from .models import RecordState, SyncRecord

__all__ = [
    "TRANSITIONS",
    "Action",
    "Event",
    "IllegalTransition",
    "apply",
    "apply_many",
    "apply_rows",
    "create_many",
]

S = RecordState
#: the state of a row that does not exist yet (creation)
NEW = "new"


class Event(StrEnum):
    #: what the fetch saw (ingest)
    SEEN_ELIGIBLE = "seen_eligible"  # meets the conditions, content unchanged since last seen
    SEEN_CHANGED = "seen_changed"  # meets the conditions, content changed (or was unreadable before)
    SEEN_SKIPPED = "seen_skipped"  # outside the conditions (reason)
    SEEN_BAD = "seen_bad"  # could not be read (located error)
    SEEN_EDITED = "seen_edited"  # pushed before, edited since: flag it (documents are never re-booked)
    SEEN_EDITED_UPDATE = "seen_edited_update"  # pushed before, edited since: push the update (upserts)
    SEEN_EDIT_UNDONE = "seen_edit_undone"  # pushed, flagged as edited, now back to what was pushed
    #: a worker and its claim
    CLAIM = "claim"
    RELEASE = "release"  # handed back untouched: never sent (a stop, or not reached)
    DEFER = "defer"  # rate limited: waits for the next slot; no attempt counted
    SUCCEED = "succeed"
    REJECT = "reject"  # refused for good (rule, data, target): a person must act
    RETRY = "retry"  # a temporary failure: again after a backoff
    UNCERTAIN = "uncertain"  # maybe sent, and it cannot be looked up: a person reviews
    #: recovery of a claim whose worker died
    RECOVER_UNSENT = "recover_unsent"
    RECOVER_FOUND = "recover_found"
    RECOVER_UNCERTAIN = "recover_uncertain"
    #: a person
    PERSON_RETRY = "person_retry"  # Verwerk
    PERSON_CONFIRM_NOT_BOOKED = "person_confirm_not_booked"
    PERSON_MARK_BOOKED = "person_mark_booked"
    PERSON_IGNORE = "person_ignore"
    PERSON_UNIGNORE = "person_unignore"


@dataclass(frozen=True, slots=True)
class Action:
    """What an event does to a row in a given state."""

    to: RecordState
    #: only the claim holder may do this (guarded by ``claim_token``)
    claimed: bool = False
    #: the row leaves the worker's hands: claim token, time and worker are cleared
    ends_claim: bool = False
    #: one more try counted (``attempts + 1``)
    counts_attempt: bool = False
    #: the attempt counter starts again (a person asked, or the content changed)
    resets_attempts: bool = False
    #: reason, code and parameters of the previous outcome are cleared
    clears_outcome: bool = False
    #: the booking is what the row's fingerprint says (``booked_fingerprint = fingerprint``)
    books: bool = False


_ELIGIBLE_FRESH = Action(S.PENDING, clears_outcome=True, resets_attempts=True)
_SKIP = Action(S.SKIPPED, resets_attempts=True)
_BAD = Action(S.FAILED)
_PUSHED_FROM_CLAIM = Action(
    S.PUSHED, claimed=True, ends_claim=True, counts_attempt=True, clears_outcome=True, books=True
)
_REJECTED = Action(S.FAILED, claimed=True, ends_claim=True, counts_attempt=True)
_BACK = Action(S.PENDING, claimed=True, ends_claim=True)
_PERSON_AGAIN = Action(S.PENDING, clears_outcome=True, resets_attempts=True)

#: (state, event) → action; ``None``: the event changes nothing in that state
TRANSITIONS: dict[tuple[str, Event], Action | None] = {
    # creation
    (NEW, Event.SEEN_ELIGIBLE): Action(S.PENDING),
    (NEW, Event.SEEN_CHANGED): Action(S.PENDING),
    (NEW, Event.SEEN_SKIPPED): Action(S.SKIPPED),
    (NEW, Event.SEEN_BAD): Action(S.FAILED),
    # pending: waiting for its push
    (S.PENDING, Event.SEEN_ELIGIBLE): Action(S.PENDING),  # facts only (e.g. its status moved on)
    (S.PENDING, Event.SEEN_CHANGED): Action(S.PENDING),
    (S.PENDING, Event.SEEN_SKIPPED): _SKIP,
    (S.PENDING, Event.SEEN_BAD): _BAD,
    (S.PENDING, Event.CLAIM): Action(S.PUSHING),
    (S.PENDING, Event.PERSON_RETRY): _PERSON_AGAIN,
    (S.PENDING, Event.PERSON_IGNORE): Action(S.IGNORED),
    # skipped by the conditions
    (S.SKIPPED, Event.SEEN_ELIGIBLE): _ELIGIBLE_FRESH,
    (S.SKIPPED, Event.SEEN_CHANGED): _ELIGIBLE_FRESH,
    (S.SKIPPED, Event.SEEN_SKIPPED): Action(S.SKIPPED),
    (S.SKIPPED, Event.SEEN_BAD): _BAD,
    # failed: a person (or a change in the source) makes it go again
    (S.FAILED, Event.SEEN_ELIGIBLE): Action(S.FAILED),  # facts only: the same content fails the same way
    (S.FAILED, Event.SEEN_CHANGED): _ELIGIBLE_FRESH,
    (S.FAILED, Event.SEEN_SKIPPED): _SKIP,
    (S.FAILED, Event.SEEN_BAD): _BAD,
    (S.FAILED, Event.PERSON_RETRY): _PERSON_AGAIN,
    (S.FAILED, Event.PERSON_IGNORE): Action(S.IGNORED),
    # in a worker's hands
    (S.PUSHING, Event.SEEN_ELIGIBLE): None,
    (S.PUSHING, Event.SEEN_CHANGED): None,  # the push carries what was read when it was claimed
    (S.PUSHING, Event.SEEN_SKIPPED): None,
    (S.PUSHING, Event.SEEN_BAD): None,
    (S.PUSHING, Event.SEEN_EDITED): None,
    (S.PUSHING, Event.SEEN_EDITED_UPDATE): None,
    (S.PUSHING, Event.RELEASE): _BACK,
    (S.PUSHING, Event.DEFER): _BACK,
    (S.PUSHING, Event.SUCCEED): _PUSHED_FROM_CLAIM,
    (S.PUSHING, Event.REJECT): _REJECTED,
    (S.PUSHING, Event.RETRY): Action(S.PENDING, claimed=True, ends_claim=True, counts_attempt=True),
    (S.PUSHING, Event.UNCERTAIN): Action(S.NEEDS_REVIEW, claimed=True, ends_claim=True, counts_attempt=True),
    (S.PUSHING, Event.RECOVER_UNSENT): _BACK,
    (S.PUSHING, Event.RECOVER_FOUND): _PUSHED_FROM_CLAIM,
    (S.PUSHING, Event.RECOVER_UNCERTAIN): Action(S.NEEDS_REVIEW, claimed=True, ends_claim=True),
    # pushed: done for good (documents); upserts go again when the source changes
    (S.PUSHED, Event.SEEN_ELIGIBLE): None,
    (S.PUSHED, Event.SEEN_CHANGED): None,
    (S.PUSHED, Event.SEEN_SKIPPED): None,
    (S.PUSHED, Event.SEEN_BAD): None,
    (S.PUSHED, Event.SEEN_EDITED): Action(S.PUSHED),
    (S.PUSHED, Event.SEEN_EDIT_UNDONE): Action(S.PUSHED),
    (S.PUSHED, Event.SEEN_EDITED_UPDATE): Action(S.PENDING, clears_outcome=True, resets_attempts=True),
    # may have been booked: only a person decides
    (S.NEEDS_REVIEW, Event.SEEN_ELIGIBLE): None,
    (S.NEEDS_REVIEW, Event.SEEN_CHANGED): None,
    (S.NEEDS_REVIEW, Event.SEEN_SKIPPED): None,
    (S.NEEDS_REVIEW, Event.SEEN_BAD): None,
    (S.NEEDS_REVIEW, Event.SEEN_EDITED): None,
    (S.NEEDS_REVIEW, Event.SEEN_EDITED_UPDATE): None,
    (S.NEEDS_REVIEW, Event.PERSON_CONFIRM_NOT_BOOKED): _PERSON_AGAIN,
    (S.NEEDS_REVIEW, Event.PERSON_MARK_BOOKED): Action(S.PUSHED, clears_outcome=True, books=True),
    (S.NEEDS_REVIEW, Event.PERSON_IGNORE): Action(S.IGNORED),
    # set aside by a person: stays aside whatever the source does
    (S.IGNORED, Event.SEEN_ELIGIBLE): None,
    (S.IGNORED, Event.SEEN_CHANGED): None,
    (S.IGNORED, Event.SEEN_SKIPPED): None,
    (S.IGNORED, Event.SEEN_BAD): None,
    (S.IGNORED, Event.PERSON_UNIGNORE): _PERSON_AGAIN,
}

#: fields an event may set besides what its action implies (facts, outcome, push results)
FACT_FIELDS = frozenset(
    {"source_number", "reference", "fingerprint", "source_status", "order_date", "amount_inc", "warnings"}
)
OUTCOME_FIELDS = frozenset({"reason_code", "error_code", "params"})
#: a backfill (``sync.backfill``) takes the rows it brings in: they wait at its lower priority,
#: so the daily orders are never starved by a migration
BACKFILL_FIELDS = frozenset({"backfill_id", "priority"})
BACKFILL_PRIORITY = -10
EVENT_FIELDS: dict[Event, frozenset[str]] = {
    Event.SEEN_ELIGIBLE: FACT_FIELDS | BACKFILL_FIELDS,
    Event.SEEN_CHANGED: FACT_FIELDS | BACKFILL_FIELDS,
    Event.SEEN_SKIPPED: FACT_FIELDS | OUTCOME_FIELDS | BACKFILL_FIELDS,
    Event.SEEN_BAD: FACT_FIELDS | OUTCOME_FIELDS | BACKFILL_FIELDS,
    Event.SEEN_EDITED: FACT_FIELDS | {"changed_after_booking"},
    Event.SEEN_EDIT_UNDONE: FACT_FIELDS | {"changed_after_booking"},
    Event.SEEN_EDITED_UPDATE: FACT_FIELDS,
    Event.CLAIM: frozenset({"claim_token", "claimed_at", "claimed_by", "batch_id"}),
    Event.RELEASE: frozenset(),
    Event.DEFER: OUTCOME_FIELDS | {"next_attempt_at"},
    Event.SUCCEED: frozenset({"target_id", "target_number", "target_token", "pushed_at", "warnings", "sent"}),
    Event.REJECT: OUTCOME_FIELDS | {"warnings", "sent"},
    Event.RETRY: OUTCOME_FIELDS | {"next_attempt_at"},
    Event.UNCERTAIN: OUTCOME_FIELDS,
    Event.RECOVER_UNSENT: frozenset(),
    Event.RECOVER_FOUND: frozenset({"target_id", "target_number", "target_token", "pushed_at"}),
    Event.RECOVER_UNCERTAIN: OUTCOME_FIELDS,
    Event.PERSON_RETRY: frozenset({"priority", "next_attempt_at"}),
    Event.PERSON_CONFIRM_NOT_BOOKED: frozenset({"priority", "next_attempt_at"}),
    Event.PERSON_MARK_BOOKED: frozenset({"target_number", "target_id", "pushed_at"}),
    Event.PERSON_IGNORE: OUTCOME_FIELDS,
    Event.PERSON_UNIGNORE: frozenset({"priority"}),
}


class IllegalTransition(RuntimeError):
    """An event that makes no sense for the row's state: a bug in the caller, never data."""


def action_for(state: str, event: Event) -> Action | None:
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransition(f"{event} is not possible for a record in state {state!r}") from None


def _updates(action: Action, event: Event, values: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    allowed = EVENT_FIELDS[event]
    unknown = set(values) - allowed
    if unknown:
        raise IllegalTransition(f"{event} cannot set {', '.join(sorted(unknown))}")
    fields: dict[str, Any] = {"state": action.to, "updated_at": now}
    if action.clears_outcome:
        fields.update(reason_code="", error_code="", params={})
    if action.resets_attempts:
        fields.update(attempts=0, next_attempt_at=None)
    if action.ends_claim:
        fields.update(claim_token=None, claimed_at=None, claimed_by="")
        if action.to in (S.PUSHED, S.FAILED, S.NEEDS_REVIEW):
            fields["priority"] = 0  # a Verwerk's priority ends with its outcome
    if action.counts_attempt:
        fields["attempts"] = INCREMENT
    if action.books:
        fields["booked_fingerprint"] = COPY_FINGERPRINT
        fields["changed_after_booking"] = False
    fields.update(values)
    return fields


#: computed in the database: ``attempts + 1``, and the booked fingerprint is the row's own
INCREMENT = Assign.increment("attempts")
COPY_FINGERPRINT = Assign.copy("booked_fingerprint", "fingerprint")


def _orm(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The update as ORM expressions."""
    out: dict[str, Any] = {}
    for name, value in fields.items():
        if value is INCREMENT:
            out[name] = F(name) + 1
        elif value is COPY_FINGERPRINT:
            out[name] = F("fingerprint")
        else:
            out[name] = value
    return out


def apply(
    record: SyncRecord,
    event: Event,
    *,
    token: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    **values: Any,
) -> bool:
    """Apply ``event`` to one row as the caller last saw it; True when this write won.

    ``token`` is the caller's claim token, required for what only the claim holder may do. On a
    win the in-memory ``record`` is updated to match; on a loss it is left as the caller saw it.
    """
    action = action_for(record.state, event)
    if action is None:
        return False
    if action.claimed and token is None:
        raise IllegalTransition(f"{event} needs the claim token")
    now = now or timezone.now()
    fields = _updates(action, event, values, now)
    query = SyncRecord.objects.filter(pk=record.pk, state=record.state)
    if action.claimed:
        query = query.filter(claim_token=token)
    won = query.update(**_orm(fields)) == 1
    if won:
        _refresh_in_memory(record, fields)
    return won


def apply_many(
    records: Iterable[SyncRecord],
    event: Event,
    *,
    token: uuid.UUID | None = None,
    now: dt.datetime | None = None,
    per_record: Mapping[int, Mapping[str, Any]] | None = None,
    **values: Any,
) -> set[int]:
    """Apply ``event`` to many rows at once (one UPDATE per state seen); returns the pks that won.

    ``values`` apply to every row; ``per_record`` (pk → values) gives each its own (e.g. the
    booking ids of each answer), written in the same statement.
    """
    by_state: dict[str, list[SyncRecord]] = {}
    for record in records:
        by_state.setdefault(record.state, []).append(record)
    now = now or timezone.now()
    won: set[int] = set()
    with transaction.atomic():
        for state, group in by_state.items():
            action = action_for(state, event)
            if action is None:
                continue
            if action.claimed and token is None:
                raise IllegalTransition(f"{event} needs the claim token")
            fields = _updates(action, event, values, now)
            pks = [r.pk for r in group]
            if per_record:
                for name in {key for pk in pks for key in per_record.get(pk, {})}:
                    field = SyncRecord._meta.get_field(name)
                    whens = [
                        When(pk=pk, then=Value(per_record[pk][name], output_field=field))
                        for pk in pks
                        if name in per_record.get(pk, {})
                    ]
                    fields[name] = Case(*whens, default=F(name), output_field=field)
            query = SyncRecord.objects.filter(pk__in=pks, state=state)
            if action.claimed:
                query = query.filter(claim_token=token)
            count = query.update(**_orm(fields))
            if count == len(pks):
                winners = set(pks)
            else:  # rare: someone else moved some of them; find which are ours now
                winners = set(_ours(pks, action, fields, now).values_list("pk", flat=True))
            won |= winners
            for record in group:
                if record.pk in winners:
                    _refresh_in_memory(record, {**fields, **(per_record or {}).get(record.pk, {})})
    return won


def _ours(pks: list[int], action: Action, fields: Mapping[str, Any], now: dt.datetime):
    """The rows of ``pks`` this call moved, when some were not ours to move.

    A claim is known by the new token it wrote (two workers on one clock claim in the same
    microsecond: the time alone would make both think they won); a row that stays claimed by its
    holder's token. Otherwise the time written tells: only the holder could move a claimed row,
    and an unclaimed event (skip, reset) is idempotent, so a tie there does no harm."""
    rows = SyncRecord.objects.filter(pk__in=pks, state=action.to)
    if fields.get("claim_token") is not None:
        return rows.filter(claim_token=fields["claim_token"])
    return rows.filter(updated_at=now)


def create_many(records: list[SyncRecord], events: list[Event]) -> None:
    """Insert new rows, each in the state its creation event (same position in ``events``) gives.

    Rows another worker created a moment ago stand: theirs win, ours are dropped.
    """
    for record, event in zip(records, events, strict=True):
        action = action_for(NEW, event)
        assert action is not None
        record.state = action.to
    dbwrite.insert_rows(records, ignore_conflicts=True)


def apply_rows(
    records: Iterable[SyncRecord],
    event: Event,
    per_record: Mapping[int, Mapping[str, Any]],
    *,
    token: uuid.UUID,
    now: dt.datetime | None = None,
    **values: Any,
) -> set[int]:
    """Like :func:`apply_many` for an event every row brings its own values to (the booking ids
    of each answer), as one statement the driver runs per row — the hot path of pushing.

    Only for events of the claim holder; every row of ``per_record`` has the same keys.
    """
    now = now or timezone.now()
    by_state: dict[str, list[SyncRecord]] = {}
    for record in records:
        by_state.setdefault(record.state, []).append(record)
    won: set[int] = set()
    for state, group in by_state.items():
        action = action_for(state, event)
        if action is None:
            continue
        if not action.claimed:
            raise IllegalTransition(f"{event} is not a claim holder's event")
        names = sorted(per_record[group[0].pk])
        fields = _updates(action, event, {**values, **{name: None for name in names}}, now)
        assignments = [v if isinstance(v, Assign) else Assign(k) for k, v in fields.items()]
        rows = []
        for record in group:
            row_values = {k: v for k, v in fields.items() if not isinstance(v, Assign)}
            row_values.update(per_record[record.pk])
            rows.append((row_values, {"id": record.pk, "state": state, "claim_token": token}))
        if dbwrite.update_rows(SyncRecord, assignments, rows) == len(group):
            winners = {r.pk for r in group}
        else:  # rare: someone else moved some of them; find which are ours now
            winners = set(
                SyncRecord.objects.filter(
                    pk__in=[r.pk for r in group], state=action.to, updated_at=now
                ).values_list("pk", flat=True)
            )
        won |= winners
        for record in group:
            if record.pk in winners:
                _refresh_in_memory(record, {**fields, **per_record[record.pk]})
    return won


def _refresh_in_memory(record: SyncRecord, fields: Mapping[str, Any]) -> None:
    for name, value in fields.items():
        if isinstance(value, F | Case | Assign):
            continue  # computed in the database (attempts + 1, …): not known here
        setattr(record, name, value)
