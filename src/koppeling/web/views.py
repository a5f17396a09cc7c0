"""Pages. Every query is scoped to the signed-in user's organisations."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koppeling.sync import alerts
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import RecordState, Run
from koppeling.sync.review import mark_booked, retry_record
from koppeling.sync.tasks import enqueue_on_commit, push_record_now, sync_link

from .access import links_for, records_for


def _links(request: HttpRequest):
    return links_for(request.user)


def _records(request: HttpRequest):
    return records_for(request.user)


@login_required
def links(request: HttpRequest) -> HttpResponse:
    rows = (
        _links(request)
        .select_related("source", "target", "organisation")
        .annotate(
            n_pushed=Count("records", filter=Q(records__state=RecordState.PUSHED)),
            n_failed=Count(
                "records", filter=Q(records__state__in=[RecordState.FAILED, RecordState.NEEDS_REVIEW])
            ),
            n_pending=Count("records", filter=Q(records__state=RecordState.PENDING)),
        )
        .order_by("organisation__name", "name")
    )
    latest = Run.objects.filter(link=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    rows = rows.annotate(last_run_id=Subquery(latest))
    last_runs = Run.objects.in_bulk([link.last_run_id for link in rows if link.last_run_id])
    failed = (
        _records(request)
        .filter(state__in=[RecordState.FAILED, RecordState.NEEDS_REVIEW])
        .select_related("link__target")
        .order_by("-updated_at")[:50]
    )
    items = [(link, last_runs.get(link.last_run_id)) for link in rows]
    return render(request, "web/links.html", {"items": items, "failed": failed})


@login_required
def link_detail(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(_links(request).select_related("source", "target"), pk=pk)
    state = request.GET.get("state", "")
    records = link.records.select_related("link__target").order_by("-updated_at")
    if state:
        records = records.filter(state=state)
    flows = list(link.flows.order_by("pk"))
    for flow in flows:
        flow.label = KINDS[flow.kind].label if flow.kind in KINDS else flow.kind
    context = {
        "link": link,
        "flows": flows,
        "records": records[:200],
        "state": state,
        "states": RecordState.choices,
        "runs": link.runs.order_by("-started_at")[:10],
        "activity": link.activity.order_by("-created_at")[:30],
        "alerts": link.alerts.filter(closed_at__isnull=True),
    }
    return render(request, "web/link_detail.html", context)


@login_required
@require_POST
def link_sync(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(_links(request), pk=pk)
    transaction.on_commit(lambda: sync_link(link.pk, "manual"))
    messages.success(request, _("Sync started for %(link)s.") % {"link": link.name})
    return redirect("web:link", pk=link.pk)


@login_required
@require_POST
def link_resume(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(_links(request), pk=pk)
    alerts.resume(link, user=request.user.get_username())
    transaction.on_commit(lambda: sync_link(link.pk, "manual"))
    messages.success(request, _("%(link)s resumed.") % {"link": link.name})
    return redirect("web:link", pk=link.pk)


@login_required
@require_POST
def record_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Verwerk: retry this order now, ahead of the queue."""
    record = get_object_or_404(_records(request).select_related("link"), pk=pk)
    # a record in review may already be booked: it goes again only on an explicit confirmation
    confirmed = request.POST.get("confirm_not_booked") == "1"
    if retry_record(record, confirm_not_booked=confirmed, user=request.user.get_username()):
        enqueue_on_commit(push_record_now, record.flow_id, record.source_id, priority=10)
        messages.success(
            request, _("Order %(number)s queued with priority.") % {"number": record.source_number}
        )
    else:
        messages.error(
            request,
            _("Order %(number)s cannot be pushed again from its current state.")
            % {"number": record.source_number},
        )
    return _back(request)


@login_required
@require_POST
def record_booked(request: HttpRequest, pk: int) -> HttpResponse:
    record = get_object_or_404(_records(request).select_related("link"), pk=pk)
    number = request.POST.get("target_number", "").strip()
    if not number:
        messages.error(request, _("Enter the invoice number you found."))
    elif mark_booked(record, number, user=request.user.get_username()):
        messages.success(request, _("Order %(number)s marked as booked.") % {"number": record.source_number})
    else:
        messages.error(
            request, _("Order %(number)s is not waiting for review.") % {"number": record.source_number}
        )
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("web:links")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
