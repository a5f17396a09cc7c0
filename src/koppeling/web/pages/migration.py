"""Migratie: past orders brought into the books — pick a range, see count, totals and ETA, start,
watch it go, pause, resume or cancel (``sync.backfill``).

The preview reads the shop and writes nothing; starting asks the flow's next run to read the range
(started at once as a backfill run). Its orders go after the daily ones and within the target's
rate limit, so the ETA includes every limit.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from koppeling.connectors.errors import ConnectorError
from koppeling.sync import backfill as backfills
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import Backfill, BackfillStatus, Flow, Role, RunKind
from koppeling.sync.outcomes import render as render_outcome
from koppeling.sync.tasks import enqueue_on_commit, sync_flow

from ..access import links_for, require
from .common import acting_organisations, parse_date, parse_int, today, user_label

log = logging.getLogger(__name__)


def _flows(request: HttpRequest):
    return (
        Flow.objects.filter(link__in=links_for(request.user), kind__in=backfills.ORDER_KINDS)
        .select_related("link__organisation", "source", "target")
        .order_by("link__name", "pk")
    )


def _range(params) -> tuple[dt.date | None, dt.date | None, tuple[int | None, int | None]]:
    return (
        parse_date(params.get("start")),
        parse_date(params.get("end")) or today(),
        (parse_int(params.get("from_number")), parse_int(params.get("to_number"))),
    )


def _preview(request: HttpRequest, flow: Flow, start, end, numbers) -> tuple[object | None, str]:
    """The preview, or why there is none (a located, translated reason)."""
    from koppeling.sync.runner import FlowRunner

    try:
        with FlowRunner(flow) as runner:
            return backfills.preview(runner, start, end, numbers), ""
    except backfills.BackfillError as exc:
        shown = render_outcome(exc.code, exc.params)
        return None, f"{shown.text} {shown.suggestion}".strip()
    except ConnectorError as exc:
        shown = render_outcome(str(exc.code), getattr(exc, "params", {}) or {})
        return None, _("The shop could not be read: %(detail)s") % {"detail": shown.text}


@login_required
@require_GET
def migration(request: HttpRequest) -> HttpResponse:
    flows = list(_flows(request))
    for flow in flows:
        kind = KINDS.get(flow.kind)
        flow.label = str(kind.label) if kind else flow.kind
    acting = acting_organisations(request.user)
    flow_id = parse_int(request.GET.get("flow"))
    chosen = next((f for f in flows if f.pk == flow_id), None)
    start, end, numbers = _range(request.GET)
    preview, problem = None, ""
    if chosen is not None and request.GET.get("preview"):
        require(request, chosen.link.organisation_id, Role.MEMBER)
        if start is None:
            problem = _("Give the first order date of the range.")
        else:
            preview, problem = _preview(request, chosen, start, end, numbers)
    items = Backfill.objects.filter(flow__in=[f.pk for f in flows]).select_related("flow__link")
    context = {
        "flows": flows,
        "acting": acting,
        "chosen": chosen,
        "start": start,
        "end": end,
        "numbers": numbers,
        "preview": preview,
        "per_day": _per_day(preview),
        "problem": problem,
        "backfills": [backfills.progress(b) for b in items.order_by("-created_at")[:50]],
    }
    return render(request, "web/pages/migration.html", context)


def _per_day(preview) -> dict[str, list]:
    if preview is None:
        return {"labels": [], "values": []}
    return {
        "labels": [day.isoformat() for day in preview.per_day],
        "values": list(preview.per_day.values()),
    }


def _expected(request: HttpRequest, start, end, numbers) -> backfills.BackfillPreview:
    """What the person saw in the preview (count and totals), kept with the backfill."""
    totals = {}
    for currency, value in zip(request.POST.getlist("currency"), request.POST.getlist("total"), strict=False):
        try:
            totals[currency[:3]] = Decimal(value)
        except (InvalidOperation, ValueError):
            continue
    return backfills.BackfillPreview(
        start=start,
        end=end,
        from_number=numbers[0],
        to_number=numbers[1],
        eligible=parse_int(request.POST.get("expected")) or 0,
        totals=totals,
    )


@login_required
@require_POST
def start_backfill(request: HttpRequest) -> HttpResponse:
    flow = get_object_or_404(_flows(request), pk=parse_int(request.POST.get("flow")) or 0)
    require(request, flow.link.organisation_id, Role.MEMBER)
    start, end, numbers = _range(request.POST)
    if start is None or request.POST.get("confirm") != "1":
        messages.error(request, _("Preview the range and confirm it before starting."))
        return redirect(reverse("pages:migration") + f"?flow={flow.pk}")
    try:
        started = backfills.start(
            flow,
            start,
            end,
            numbers,
            requested_by=user_label(request),
            expected=_expected(request, start, end, numbers),
        )
    except backfills.BackfillError as exc:
        messages.error(request, render_outcome(exc.code, exc.params).text)
        return redirect(reverse("pages:migration") + f"?flow={flow.pk}")
    enqueue_on_commit(sync_flow, flow.pk, RunKind.BACKFILL)
    messages.success(
        request,
        _("Migration %(id)s started: its orders go after the daily ones, within the rate limit.")
        % {"id": started.pk},
    )
    return redirect("pages:migration")


def _backfill(request: HttpRequest, pk: int) -> Backfill:
    return get_object_or_404(
        Backfill.objects.filter(flow__link__in=links_for(request.user)).select_related("flow__link"), pk=pk
    )


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One migration's progress (htmx asks every few seconds while it runs), with its ETA."""
    from koppeling.sync.runner import FlowRunner

    item = _backfill(request, pk)
    runner = None
    try:
        if item.status == BackfillStatus.RUNNING:
            runner = FlowRunner(item.flow)
        shown = backfills.progress(item, runner)
    except ConnectorError:
        shown = backfills.progress(item)
    finally:
        if runner is not None:
            runner.close()
    context = {"p": shown, "acting": acting_organisations(request.user)}
    return render(request, "web/pages/_backfill.html", context)


ACTIONS = {"pause": backfills.pause, "resume": backfills.resume, "cancel": backfills.cancel}


@login_required
@require_POST
def backfill_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    item = _backfill(request, pk)
    require(request, item.flow.link.organisation_id, Role.MEMBER)
    before = item.status
    ACTIONS[action](item)
    item.refresh_from_db()
    if item.status == before:
        messages.error(request, _("Migration %(id)s cannot do that now.") % {"id": item.pk})
        return redirect("pages:migration")
    if action == "resume":
        enqueue_on_commit(sync_flow, item.flow_id, RunKind.BACKFILL)
    done = {
        "pause": _("Migration %(id)s paused."),
        "resume": _("Migration %(id)s resumed."),
        "cancel": _("Migration %(id)s cancelled; the orders it had not booked are set aside."),
    }
    messages.success(request, done[action] % {"id": item.pk})
    return redirect("pages:migration")
