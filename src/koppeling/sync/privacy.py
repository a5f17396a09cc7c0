"""Minimal privacy mode: once a document is delivered (and read back where the target can be), the
ledger keeps only what an audit needs — the order's number, its date, the batch it went in and the
target's ids — and forgets its contents.

Seed 002 promises it for the Lightspeed → Asperion link ("data in flight only"): no order contents,
customer data or payloads stay in the ledger, the attempts or the activity log. A flow chooses it
with ``privacy = "minimal"``; without a choice the target's own default applies (a connector
declares ``default_privacy``; Asperion's daily file is "minimal"). The outcome codes stay, so the
activity log still says what happened, only with the parameters that name no person.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from .models import ActivityEvent, SyncAttempt, SyncRecord

MINIMAL = "minimal"
STANDARD = "standard"

#: outcome parameters that name no person and reveal no order contents: kept in minimal mode
SAFE_PARAMS = frozenset(
    {
        "reference",
        "number",
        "count",
        "system",
        "date",
        "batch",
        "cause",
        "booked_as",
        "kind",
        "line",
        "rate",
        "rates",
        "status",
        "limit",
        "code",
        "booked",
        "expected",
        "field",
        "difference",
    }
)


def privacy_of(settings: Any, target: Any) -> str:
    """The flow's choice, else the target's default, else standard."""
    chosen = getattr(settings, "privacy", None)
    return chosen or getattr(target, "default_privacy", STANDARD) or STANDARD


def is_minimal(settings: Any, target: Any) -> bool:
    return privacy_of(settings, target) == MINIMAL


def _safe(params: Any) -> dict[str, Any]:
    if not isinstance(params, dict):
        return {}
    return {key: value for key, value in params.items() if key in SAFE_PARAMS}


def _safe_problem(problem: Any) -> dict[str, Any]:
    if not isinstance(problem, dict):
        return {}
    return {"code": problem.get("code", ""), "params": _safe(problem.get("params"))}


def forget_contents(record_ids: Iterable[int]) -> int:
    """Forget what delivered rows held beyond number, date, batch and target ids; returns how many.

    Not a state change (the ledger's writer keeps those): only the row's remembered contents."""
    pks = [pk for pk in record_ids if pk]
    if not pks:
        return 0
    with transaction.atomic():
        count = SyncRecord.objects.filter(pk__in=pks).update(params={}, warnings=[], sent={}, amount_inc=None)
        # a read-back's findings stay (a mismatch must still be seen), without names or addresses
        checked = list(SyncRecord.objects.filter(pk__in=pks).exclude(reconcile={}).only("pk", "reconcile"))
        for record in checked:
            problems = (record.reconcile or {}).get("problems", [])
            record.reconcile = {"problems": [_safe_problem(p) for p in problems]}
        SyncRecord.objects.bulk_update(checked, ["reconcile"], batch_size=500)
        SyncAttempt.objects.filter(record_id__in=pks).update(params={})
        events = list(ActivityEvent.objects.filter(record_id__in=pks).only("pk", "params", "payload"))
        for event in events:
            event.params, event.payload = _safe(event.params), {}
        ActivityEvent.objects.bulk_update(events, ["params", "payload"], batch_size=500)
    return count
