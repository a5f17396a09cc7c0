"""The link page and the first landing's action URLs. Every query is scoped to the user's
organisations (``web.access``); every action needs the member role (read-only members look)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from koppeling.sync import alerts
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import RecordState, Role
from koppeling.sync.tasks import sync_link

from .access import links_for, records_for, require
from .pages import failures, review
from .pages.common import acting_organisations, safe_next, user_label
from .pages.overview import link_cards


@login_required
def link_detail(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(
        links_for(request.user).select_related("source", "target", "organisation"), pk=pk
    )
    state = request.GET.get("state", "")
    records = link.records.select_related("link__target").order_by("-updated_at")
    if state in RecordState.values:
        records = records.filter(state=state)
    flows = list(link.flows.order_by("pk"))
    for flow in flows:
        flow.label = KINDS[flow.kind].label if flow.kind in KINDS else flow.kind
    context = {
        "link": link,
        "card": link_cards([link], timezone.now())[0],
        "records": records[:100],
        "state": state,
        "states": RecordState.choices,
        "runs": link.runs.order_by("-started_at")[:10],
        "activity": link.activity.order_by("-created_at")[:30],
        "alerts": link.alerts.filter(closed_at__isnull=True),
        "acting": acting_organisations(request.user),
    }
    return render(request, "web/link_detail.html", context)


@login_required
@require_POST
def link_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Run now: every active flow of the link, once this request has committed."""
    link = get_object_or_404(links_for(request.user), pk=pk)
    require(request, link.organisation_id, Role.MEMBER)
    link_id = link.pk
    transaction.on_commit(lambda: sync_link(link_id, "manual"))
    messages.success(request, _("Sync started for %(link)s.") % {"link": link.name})
    return redirect(safe_next(request, reverse("web:link", args=[link.pk])))


@login_required
@require_POST
def link_resume(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_object_or_404(links_for(request.user), pk=pk)
    require(request, link.organisation_id, Role.MEMBER)
    if link.paused_code == "link_not_activated":  # never set up to the end: finish the wizard first
        return redirect("setup:resume", link.pk)
    alerts.resume(link, user=user_label(request))
    link_id = link.pk
    transaction.on_commit(lambda: sync_link(link_id, "manual"))
    messages.success(request, _("%(link)s resumed.") % {"link": link.name})
    return redirect(safe_next(request, reverse("web:link", args=[link.pk])))


@login_required
@require_POST
def record_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Verwerk from the overview and the link page (Fouten has its own, with htmx)."""
    record = get_object_or_404(records_for(request.user).select_related("link"), pk=pk)
    require(request, record.link.organisation_id, Role.MEMBER)
    number = record.source_number or record.source_id
    if record.state == RecordState.NEEDS_REVIEW:
        messages.error(
            request,
            _("Order %(number)s may already be booked: choose on the Review page.") % {"number": number},
        )
        return redirect("pages:review")
    if failures.verwerk(record, user_label(request)):
        messages.success(request, _("Order %(number)s queued with priority.") % {"number": number})
    else:
        messages.error(
            request, _("Order %(number)s cannot be pushed again from its current state.") % {"number": number}
        )
    return redirect(safe_next(request, reverse("pages:overview")))


@login_required
@require_POST
def record_booked(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark as booked: the Review page's check (the number looked up in the target)."""
    return review.mark(request, pk)


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})
