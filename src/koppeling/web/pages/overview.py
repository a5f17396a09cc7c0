"""Overview: every link and flow at a glance — running, paused or failing; what went today.

Per flow: status, last and next run, pushed today and this month, open failures and reviews, a
rate-limit wait with its ETA; above them the open alerts and a chart of booked orders per day
(Chart.js, vendored; its numbers are also a table for screen readers). Links are paged: a
bookkeeping firm can have thousands.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from koppeling.sync import ledger_totals
from koppeling.sync.flowkinds import KINDS
from koppeling.sync.models import (
    Alert,
    Flow,
    FlowStatus,
    LinkStatus,
    RecordState,
    Run,
    RunStatus,
    SyncRecord,
)
from koppeling.sync.totals_models import Grain

from ..access import links_for, organisations_for, records_for
from .common import acting_organisations, day_start, pager, query_without, today
from .ledger import kept_totals

LINKS_PER_PAGE = 25
CHART_DAYS = 30

RUNNING, PAUSED, FAILING = "running", "paused", "failing"
STATUS_LABELS = {RUNNING: _("Running"), PAUSED: _("Paused"), FAILING: _("Failing")}


def flow_counts(flow_ids: list[int], now: dt.datetime) -> dict[int, dict[str, int]]:
    """Per flow: pushed (ever, today, this month), failed, in review and waiting — one query."""
    start_today = day_start(timezone.localdate(now))
    start_month = day_start(timezone.localdate(now).replace(day=1))
    pushed = Q(state=RecordState.PUSHED)
    rows = (
        records_for_flows(flow_ids)
        .values("flow_id")
        .annotate(
            pushed=Count("id", filter=pushed),
            today=Count("id", filter=pushed & Q(pushed_at__gte=start_today)),
            month=Count("id", filter=pushed & Q(pushed_at__gte=start_month)),
            failed=Count("id", filter=Q(state=RecordState.FAILED)),
            review=Count("id", filter=Q(state=RecordState.NEEDS_REVIEW)),
            waiting=Count("id", filter=Q(state__in=(RecordState.PENDING, RecordState.PUSHING))),
        )
        .order_by()
    )
    return {row.pop("flow_id"): row for row in rows}


def records_for_flows(flow_ids: list[int]):
    return SyncRecord.objects.filter(flow_id__in=flow_ids).exclude(object_type="batch")


def flow_status(flow: Flow, run: Run | None, alerts: list[Alert]) -> str:
    """Running, paused (the link or the flow) or failing (an open alert, or the last run failed)."""
    if flow.link.status != LinkStatus.ACTIVE or flow.status != FlowStatus.ACTIVE:
        return PAUSED
    if alerts or (run is not None and run.status == RunStatus.FAILED):
        return FAILING
    return RUNNING


def chart_data(request: HttpRequest, now: dt.datetime) -> dict[str, list]:
    """Booked orders per day over the last ``CHART_DAYS`` days (zero days included), from the
    totals the database keeps per booked day (``sync.ledger_totals``)."""
    first = timezone.localdate(now) - dt.timedelta(days=CHART_DAYS - 1)
    rows = ledger_totals.totals_query(
        organisations_for(request.user).values("pk"),
        where=Q(state=RecordState.PUSHED),
        parts=[ledger_totals.Part(Grain.BOOKED_DAY, first)],
        days=(first, None),
        booked=True,
        by_day=True,
    )
    per_day = {row["day"]: row["n"] for row in rows}
    days = [first + dt.timedelta(days=i) for i in range(CHART_DAYS)]
    return {"labels": [d.isoformat() for d in days], "values": [per_day.get(d, 0) for d in days]}


def _latest_runs(flow_ids: list[int]) -> dict[int, Run]:
    latest = Run.objects.filter(flow=OuterRef("pk")).order_by("-started_at").values("pk")[:1]
    ids = (
        Flow.objects.filter(pk__in=flow_ids)
        .annotate(run_id=Subquery(latest))
        .values_list("run_id", flat=True)
    )
    return {run.flow_id: run for run in Run.objects.filter(pk__in=[i for i in ids if i])}


def _flows_of(links: list) -> list[Flow]:
    flows = list(
        Flow.objects.filter(link__in=links)
        .select_related("link", "source", "target")
        .order_by("link_id", "pk")
    )
    for flow in flows:
        kind = KINDS.get(flow.kind)
        flow.label = kind.label if kind else flow.kind
    return flows


def link_cards(links: list, now: dt.datetime) -> list[dict[str, Any]]:
    """Each link with its flows, their counts, runs, alerts and status."""
    flows = _flows_of(links)
    ids = [f.pk for f in flows]
    counts = flow_counts(ids, now)
    runs = _latest_runs(ids)
    open_alerts = defaultdict(list)
    for alert in Alert.objects.filter(link__in=links, closed_at__isnull=True).order_by("opened_at"):
        open_alerts[alert.link_id].append(alert)
    by_link = defaultdict(list)
    empty = {"pushed": 0, "today": 0, "month": 0, "failed": 0, "review": 0, "waiting": 0}
    for flow in flows:
        alerts = [a for a in open_alerts[flow.link_id] if a.flow_id in (None, flow.pk)]
        run = runs.get(flow.pk)
        status = flow_status(flow, run, alerts)
        waiting_until = flow.waiting_until if flow.waiting_until and flow.waiting_until > now else None
        by_link[flow.link_id].append(
            {
                "flow": flow,
                "run": run,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "counts": counts.get(flow.pk, empty),
                "waiting_until": waiting_until,
                "next_run": waiting_until or flow.next_run_at,
            }
        )
    cards = []
    for link in links:
        rows = by_link[link.pk]
        total = {key: sum(r["counts"][key] for r in rows) for key in empty}
        statuses = {r["status"] for r in rows}
        status = PAUSED if link.status != LinkStatus.ACTIVE else FAILING if FAILING in statuses else RUNNING
        last = max((r["run"] for r in rows if r["run"]), key=lambda run: run.started_at, default=None)
        cards.append(
            {
                "link": link,
                "flows": rows,
                "totals": total,
                "status": status,
                "status_label": STATUS_LABELS[status],
                "last_run": last,
                "next_run": min((r["next_run"] for r in rows if r["next_run"]), default=None),
                "alerts": open_alerts[link.pk],
            }
        )
    return cards


def recent_failures(user, size: int = 10) -> list[SyncRecord]:
    """The ``size`` latest failed or in-review rows: the latest of each state by the ledger's
    ``(state, -updated_at)`` index, then merged (one query over both states sorted every row of
    them: ~90 ms at 1,000,000 records, this ~2)."""
    rows: list[SyncRecord] = []
    for state in (RecordState.FAILED, RecordState.NEEDS_REVIEW):
        latest = records_for(user).filter(state=state).select_related("link__target")
        rows.extend(latest.order_by("-updated_at", "-id")[:size])
    return sorted(rows, key=lambda r: (r.updated_at, r.pk), reverse=True)[:size]


def open_counts(user) -> dict[str, int]:
    """Failed and in-review rows per state, from the totals the database keeps."""
    rows = kept_totals(user, Q(state__in=(RecordState.FAILED, RecordState.NEEDS_REVIEW)), group=("state",))
    return {row["state"]: row["n"] for row in rows}


def links_page(links, offset: int, size: int) -> list:
    """One page of links by organisation and name: the ids first (a sort of the user's links
    alone), then those rows with their connections (sorting every link with its connections
    joined took 15–20 ms at 10,000 links; this ~5)."""
    ids = list(
        links.order_by("organisation__name", "name", "pk").values_list("pk", flat=True)[
            offset : offset + size
        ]
    )
    found = {link.pk: link for link in links.filter(pk__in=ids)}
    return [found[pk] for pk in ids]


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    links = links_for(request.user).select_related("source", "target", "organisation")
    q = request.GET.get("q", "").strip()[:100]
    if q:
        links = links.filter(name__icontains=q)
    page = pager(request, links.count(), LINKS_PER_PAGE)
    shown = links_page(links, page.offset, page.size)
    by_state = open_counts(request.user)
    chart = chart_data(request, now)
    context = {
        "cards": link_cards(shown, now),
        "pager": page,
        "q": q,
        "query": query_without(request.GET, "page"),
        "alerts": Alert.objects.filter(link__in=links_for(request.user), closed_at__isnull=True)
        .select_related("link")
        .order_by("-opened_at")[:20],
        "chart": chart,
        "chart_rows": list(zip(chart["labels"], chart["values"], strict=True)),
        "n_failed": by_state.get(RecordState.FAILED, 0),
        "n_review": by_state.get(RecordState.NEEDS_REVIEW, 0),
        "recent_failures": recent_failures(request.user),
        "acting": acting_organisations(request.user),
        "today": today(),
    }
    return render(request, "web/pages/overview.html", context)
