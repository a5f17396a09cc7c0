"""Fouten: failed orders with the reason and what to do, Verwerk (one, a selection), ignore.

The seed's "Dashboard >> fouten": suggestions, and a Verwerk button that pushes an order again
with priority. With htmx a row changes in place: Verwerk turns it into "queued", which asks every
few seconds how it went until it is booked (then it says as what, and links to Rapportage) or
fails again (then it shows the new reason). Without JavaScript every button is a plain form.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from koppeling.sync.models import RecordState, Role, SyncRecord
from koppeling.sync.outcomes import render as render_outcome
from koppeling.sync.review import VERWERK_PRIORITY, ignore_record, retry_record, unignore_record
from koppeling.sync.tasks import enqueue_on_commit, push_record_now

from ..access import records_for, require
from .common import (
    LinkFilter,
    acting_organisations,
    is_htmx,
    keyset_page,
    link_filter,
    parse_int,
    query_without,
    safe_next,
    user_label,
)
from .ledger import kept_totals

#: "retry all" takes at most this many at once (each is one priority task)
MAX_SELECTION = 500
IN_PROGRESS = (RecordState.PENDING, RecordState.PUSHING)


def _reason(request: HttpRequest) -> str:
    return (request.GET.get("reason") or request.POST.get("reason") or "").strip()


def _search(request: HttpRequest) -> str:
    return (request.GET.get("q") or "").strip()[:100]


def _failed(request: HttpRequest, links: LinkFilter | None = None):
    rows = records_for(request.user).filter(state=RecordState.FAILED).exclude(object_type="batch")
    rows = (links or link_filter(request)).apply(rows)
    if reason := _reason(request):
        rows = rows.filter(error_code=reason)
    if q := _search(request):
        rows = rows.filter(source_number=q)
    return rows


def _count(request: HttpRequest, rows, links: LinkFilter) -> int:
    """How many failed orders the filter holds: from the totals the database keeps unless a link
    or a search narrows it (then the rows are few and counted)."""
    if links.chosen or links.name or _search(request):
        return rows.count()
    where = Q(state=RecordState.FAILED) & ~Q(object_type="batch")
    if reason := _reason(request):
        where &= Q(error_code=reason)
    return sum(row["n"] for row in kept_totals(request.user, where))


def _record(request: HttpRequest, pk: int, *, act: bool) -> SyncRecord:
    """The user's record (404 otherwise); acting needs member or owner (403 for read-only)."""
    record = get_object_or_404(records_for(request.user).select_related("link__target", "flow"), pk=pk)
    if act:
        require(request, record.link.organisation_id, Role.MEMBER)
    return record


def verwerk(record: SyncRecord, user: str) -> bool:
    """Put the record at the head of the queue and start its priority push once committed."""
    if not retry_record(record, user=user):
        return False
    enqueue_on_commit(push_record_now, record.flow_id, record.source_id, priority=VERWERK_PRIORITY)
    return True


@login_required
@require_GET
def failures(request: HttpRequest) -> HttpResponse:
    links = link_filter(request)
    rows = _failed(request, links)
    page, shown = keyset_page(
        request, rows.select_related("link__target"), _count(request, rows, links), "updated_at"
    )
    found = kept_totals(request.user, Q(state=RecordState.FAILED), group=("error_code",))
    reasons = sorted(found, key=lambda row: (-row["n"], row["error_code"]))[:50]
    in_progress = (
        records_for(request.user)
        .filter(state__in=IN_PROGRESS, priority__gte=VERWERK_PRIORITY)
        .select_related("link__target")
        .order_by("-updated_at")[:50]
    )
    context = {
        "rows": shown,
        "in_progress": in_progress,
        "pager": page,
        "query": query_without(request.GET, "page"),
        "reasons": [
            {"code": r["error_code"], "n": r["n"], "text": render_outcome(r["error_code"]).text}
            for r in reasons
        ],
        "reason": request.GET.get("reason", ""),
        "q": request.GET.get("q", ""),
        "links": links,
        "acting": acting_organisations(request.user),
    }
    return render(request, "web/pages/failures.html", context)


def row_response(request: HttpRequest, record: SyncRecord, note: str = "") -> HttpResponse:
    record.refresh_from_db()
    context = {"r": record, "acting": acting_organisations(request.user), "note": note}
    return render(request, "web/pages/_failure_row.html", context)


@login_required
@require_GET
def failure_row(request: HttpRequest, pk: int) -> HttpResponse:
    """The row as it is now (htmx asks while an order is queued)."""
    return row_response(request, _record(request, pk, act=False))


@login_required
@require_POST
def retry(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk, act=True)
    done = verwerk(record, user_label(request))
    number = record.source_number or record.source_id
    if done:
        note = _("Order %(number)s queued with priority.") % {"number": number}
    else:
        note = _("Order %(number)s cannot be pushed again from its current state.") % {"number": number}
    if is_htmx(request):
        return row_response(request, record, note)
    (messages.success if done else messages.error)(request, note)
    return redirect(safe_next(request, reverse("pages:failures")))


@login_required
@require_POST
def retry_selected(request: HttpRequest) -> HttpResponse:
    """Verwerk for the ticked rows, or for every failed order of the filter ("retry all")."""
    rows = _failed(request)
    if request.POST.get("all") != "1":
        ids = [i for i in (parse_int(v) for v in request.POST.getlist("ids")) if i]
        rows = rows.filter(pk__in=ids)
    acting = acting_organisations(request.user)
    chosen = list(rows.select_related("link").order_by("-updated_at")[:MAX_SELECTION])
    refused = [r for r in chosen if r.link.organisation_id not in acting]
    if refused and len(refused) == len(chosen):
        require(request, refused[0].link.organisation_id, Role.MEMBER)  # read-only everywhere: 403
    queued = sum(verwerk(r, user_label(request)) for r in chosen if r.link.organisation_id in acting)
    if queued:
        messages.success(
            request,
            ngettext(
                "%(count)s order queued with priority.", "%(count)s orders queued with priority.", queued
            )
            % {"count": queued},
        )
    else:
        messages.error(request, _("Choose the orders to process."))
    return redirect(safe_next(request, reverse("pages:failures")))


@login_required
@require_POST
def ignore(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk, act=True)
    why = request.POST.get("why", "").strip()
    if not why:
        note = _("Say why this order is set aside: the reason stays with it.")
        if is_htmx(request):
            return row_response(request, record, note)
        messages.error(request, note)
    elif ignore_record(record, why, user=user_label(request)):
        note = _("Order %(number)s set aside.") % {"number": record.source_number or record.source_id}
        if is_htmx(request):
            return row_response(request, record, note)
        messages.success(request, note)
    return redirect(safe_next(request, reverse("pages:failures")))


@login_required
@require_POST
def unignore(request: HttpRequest, pk: int) -> HttpResponse:
    record = _record(request, pk, act=True)
    if unignore_record(record, user=user_label(request)):
        enqueue_on_commit(push_record_now, record.flow_id, record.source_id, priority=VERWERK_PRIORITY)
        note = _("Order %(number)s taken up again.") % {"number": record.source_number or record.source_id}
    else:
        note = _("Order %(number)s is not set aside.") % {"number": record.source_number or record.source_id}
    if is_htmx(request):
        return row_response(request, record, note)
    messages.info(request, note)
    return redirect(safe_next(request, reverse("pages:failures")))
