"""Review: orders that may have been booked (a crash or a timeout after sending), and the two ways out.

"It is there: mark as booked" — the number given is looked up in the target where the target can
be searched (``find_invoice`` by our reference, or by the id given), and refused when the target
says it has no such booking. "It is not there: push again" — only with a ticked confirmation that
names the risk: if it *is* there, the order is booked twice. Both are ledger events with who did it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from koppeling.connectors.base import Findability
from koppeling.connectors.errors import ConnectorError
from koppeling.sync.models import RecordState, Role, SyncRecord
from koppeling.sync.review import VERWERK_PRIORITY, mark_booked, retry_record
from koppeling.sync.tasks import enqueue_on_commit, push_record_now

from ..access import records_for, require
from .common import acting_organisations, pager, safe_next, system_label, user_label

log = logging.getLogger(__name__)

#: the target has it under that number; under another; not at all; cannot be searched by that
#: number (only by its own id, and this is none); could not be asked
FOUND, ELSEWHERE, MISSING, UNVERIFIABLE, UNKNOWN = "found", "elsewhere", "missing", "unverifiable", "unknown"


@dataclass
class Check:
    """What the target said about the number a person gave: ``result`` is one of the four above."""

    result: str
    number: str = ""
    findable: str = Findability.NONE


def check_booking(record: SyncRecord, number: str, runner_factory=None) -> Check:
    """Look the booking up in the target: by our reference where it can be searched, else by the
    number given as the target's id. A target that cannot be asked gives ``UNKNOWN``."""
    from koppeling.sync.runner import FlowRunner

    try:
        runner = (runner_factory or FlowRunner)(record.flow)
    except ConnectorError:
        return Check(UNKNOWN)
    try:
        findable = getattr(runner.target, "findable", Findability.NONE)
        if findable == Findability.BY_REFERENCE:
            found = runner.kind.find(runner.target, record)
            if found is None:
                return Check(MISSING, findable=findable)
            booked_as = found.number or found.target_id
            same = number in (found.number, found.target_id)
            return Check(FOUND if same else ELSEWHERE, booked_as, findable)
        probe = SimpleNamespace(
            reference=record.reference,
            source_id=record.source_id,
            target_id=number,
            target_number=number,
            target_token="",
        )
        found = runner.kind.find(runner.target, probe)
        if found is None:  # not an id of the target; an invoice number it cannot search
            return Check(UNVERIFIABLE, findable=findable)
        return Check(FOUND, found.number or found.target_id or number, findable)
    except ConnectorError as exc:
        log.info("booking check of record %s not possible: %s", record.pk, exc)
        return Check(UNKNOWN)
    finally:
        runner.close()


def _record(request: HttpRequest, pk: int) -> SyncRecord:
    record = get_object_or_404(records_for(request.user).select_related("link__target", "flow"), pk=pk)
    require(request, record.link.organisation_id, Role.MEMBER)
    return record


@login_required
@require_GET
def review(request: HttpRequest) -> HttpResponse:
    rows = records_for(request.user).filter(state=RecordState.NEEDS_REVIEW)
    page = pager(request, rows.count())
    context = {
        "rows": rows.select_related("link__target", "flow").order_by("-updated_at", "-id")[
            page.offset : page.offset + page.size
        ],
        "pager": page,
        "query": "",
        "acting": acting_organisations(request.user),
    }
    return render(request, "web/pages/review.html", context)


def _booked_message(request: HttpRequest, record: SyncRecord, number: str, check: Check) -> bool:
    """Say what the check found; True when marking as booked may go ahead."""
    system = system_label(record.link.target.system)
    if check.result == FOUND:
        return True
    if check.result == ELSEWHERE:
        messages.error(
            request,
            _("%(system)s has order %(number)s as %(found)s, not as %(given)s. Check the number.")
            % {"system": system, "number": record.source_number, "found": check.number, "given": number},
        )
    elif check.result == MISSING:
        messages.error(
            request,
            _(
                "%(system)s has no booking %(given)s for order %(number)s. Check the number; if it is not "
                "there, choose 'push again'."
            )
            % {"system": system, "number": record.source_number, "given": number},
        )
    elif request.POST.get("checked_myself") == "1":
        return True
    elif check.result == UNVERIFIABLE:
        messages.error(
            request,
            _(
                "%(system)s cannot be searched by invoice number, and %(given)s is not one of its entry "
                "ids. Tick that you found it yourself to mark it as booked."
            )
            % {"system": system, "given": number},
        )
    else:
        messages.error(
            request,
            _(
                "%(system)s cannot be asked about %(given)s right now. Tick that you found it yourself to "
                "mark it as booked."
            )
            % {"system": system, "given": number},
        )
    return False


@login_required
@require_POST
def mark(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk)
    back = safe_next(request, reverse("pages:review"))
    number = request.POST.get("target_number", "").strip()[:100]
    if not number:
        messages.error(request, _("Enter the invoice number you found."))
        return redirect(back)
    if record.state != RecordState.NEEDS_REVIEW:
        messages.error(
            request, _("Order %(number)s is not waiting for review.") % {"number": record.source_number}
        )
        return redirect(back)
    check = check_booking(record, number)
    if not _booked_message(request, record, number, check):
        return redirect(back)
    if mark_booked(record, check.number or number, user=user_label(request)):
        messages.success(
            request,
            _("Order %(number)s marked as booked (%(booked_as)s).")
            % {"number": record.source_number, "booked_as": check.number or number},
        )
    else:
        messages.error(
            request, _("Order %(number)s is not waiting for review.") % {"number": record.source_number}
        )
    return redirect(back)


@login_required
@require_POST
def push_again(request: HttpRequest, pk: int) -> HttpResponse:
    """Not in the target: push again — only with the duplicate risk confirmed."""
    record = _record(request, pk)
    back = safe_next(request, reverse("pages:review"))
    if request.POST.get("confirm_not_booked") != "1" or request.POST.get("accept_duplicate_risk") != "1":
        messages.error(
            request,
            _("Tick that you checked %(system)s and that pushing again books it twice if it is there.")
            % {"system": system_label(record.link.target.system)},
        )
        return redirect(back)
    if retry_record(record, confirm_not_booked=True, user=user_label(request)):
        enqueue_on_commit(push_record_now, record.flow_id, record.source_id, priority=VERWERK_PRIORITY)
        messages.success(
            request, _("Order %(number)s is pushed again with priority.") % {"number": record.source_number}
        )
    else:
        messages.error(
            request, _("Order %(number)s is not waiting for review.") % {"number": record.source_number}
        )
    return redirect(back)
