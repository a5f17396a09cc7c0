"""Reconciliation: after a push, read the document back and compare it with what was sent.

Runs as a queued task after each run (``tasks.reconcile_records``), so a slow read-back never
holds up pushing. Totals (excl. and incl. VAT) are compared with what was sent *and* with the
source order; the customer's name and e-mail and the reference where the target returns them.
The result is stored on the ledger row (``reconcile_status``, ``reconcile``); a difference above
the flow's tolerance (default 0.00: to the cent) is shown in the dashboard and alerted once per
link and problem.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from koppeling.connectors.base import BookedDocument
from koppeling.connectors.errors import ConnectorError, NotFound

from . import alerts
from .models import AlertKind, ReconcileStatus, SyncRecord
from .outcomes import SyncCode
from .privacy import forget_contents, is_minimal
from .runstate import FlowRun

__all__ = ["compare", "reconcile_records"]

log = logging.getLogger(__name__)


def _dec(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except (ArithmeticError, ValueError):
        return None


def compare(
    record: SyncRecord, booked: BookedDocument, tolerance: Decimal, system: str
) -> list[dict[str, Any]]:
    """What differs between the booking and what was sent / the source order, as outcomes."""
    sent = record.sent or {}
    problems: list[dict[str, Any]] = []
    checks = [
        ("total_inc", _dec(sent.get("total_inc")), Decimal(booked.total_inc), record.amount_inc),
        ("total_ex", _dec(sent.get("total_ex")), Decimal(booked.total_ex), None),
    ]
    for which, expected, got, source in checks:
        if expected is None:
            continue
        worst = max(abs(got - expected), abs(got - source) if source is not None else Decimal(0))
        if worst > tolerance:
            problems.append(
                {
                    "code": SyncCode.RECONCILE_TOTAL_DIFFERS
                    if which == "total_inc"
                    else SyncCode.RECONCILE_TOTAL_EX_DIFFERS,
                    "params": {
                        "system": system,
                        "booked": format(got, "f"),
                        "expected": format(expected, "f"),
                        "source": format(source, "f") if source is not None else format(expected, "f"),
                        "difference": format(got - expected, "f"),
                    },
                }
            )
    customer = (
        ()
        if sent.get("shared_customer")
        else (
            ("customer_name", booked.customer_name),
            ("customer_email", booked.customer_email),
        )
    )
    for field, got in customer:  # a shared debtor (per payment method, default) is not the order's
        expected_text = str(sent.get(field) or "")
        if got and expected_text and got.strip().casefold() != expected_text.strip().casefold():
            problems.append(
                {
                    "code": SyncCode.RECONCILE_CUSTOMER_DIFFERS,
                    "params": {"system": system, "field": field, "booked": got, "expected": expected_text},
                }
            )
    reference = str(sent.get("reference") or record.reference)
    if booked.reference_text and reference and reference not in booked.reference_text:
        problems.append(
            {
                "code": SyncCode.RECONCILE_REFERENCE_MISSING,
                "params": {"system": system, "reference": reference},
            }
        )
    return problems


def reconcile_records(run: FlowRun, record_ids: list[int]) -> dict[str, int]:
    """Read back and compare the given pushed rows; returns counts per result."""
    kind = run.kind
    tolerance = Decimal(getattr(run.context.settings, "reconcile_tolerance", Decimal("0.00")))
    counts = {"ok": 0, "mismatch": 0, "unavailable": 0}
    first_mismatch: tuple[SyncRecord, dict[str, Any]] | None = None
    read_back: list[int] = []  # rows whose booking was read (or that have nothing to read back)
    for record in SyncRecord.objects.filter(pk__in=record_ids, flow=run.flow).exclude(target_id=""):
        system = run.target.label
        try:
            booked = kind.read_back(run.target, record)
        except NotFound:
            result = [
                {
                    "code": SyncCode.RECONCILE_MISSING,
                    "params": {"system": system, "booked_as": record.target_number},
                }
            ]
            store_result(record, ReconcileStatus.MISMATCH, result)
        except ConnectorError as exc:
            detail = run.params({"system": system, "detail": exc.message})
            store_result(
                record,
                ReconcileStatus.UNAVAILABLE,
                [{"code": SyncCode.RECONCILE_UNAVAILABLE, "params": detail}],
            )
            counts["unavailable"] += 1
            continue
        else:
            if booked is None:
                read_back.append(record.pk)
                continue  # this kind has nothing to read back
            result = compare(record, booked, tolerance, system)
            store_result(record, ReconcileStatus.MISMATCH if result else ReconcileStatus.OK, result)
        read_back.append(record.pk)
        if result:
            counts["mismatch"] += 1
            first_mismatch = first_mismatch or (record, result[0])
        else:
            counts["ok"] += 1
    if is_minimal(run.context.settings, run.target):  # read back: now only number and date stay
        forget_contents(read_back)  # (an unavailable read-back keeps what it will compare with)
    if first_mismatch is not None:
        record, problem = first_mismatch
        open_mismatches = SyncRecord.objects.filter(
            link=run.flow.link, reconcile_status=ReconcileStatus.MISMATCH
        ).count()
        alerts.open_alert(
            run.flow.link,
            AlertKind.RECONCILIATION,
            SyncCode.RECONCILE_ALERT,
            {"count": open_mismatches, "number": record.source_number, "first": problem},
            pause=False,
            flow=run.flow,
        )
    return counts


def store_result(
    record: SyncRecord, status: str, problems: list[dict[str, Any]], *, at: dt.datetime | None = None
) -> None:
    """A row's read-back result (for a batch: what its import made of it), with its problems."""
    with transaction.atomic():
        SyncRecord.objects.filter(pk=record.pk).update(
            reconcile_status=status, reconcile={"problems": problems}, reconciled_at=at or timezone.now()
        )
