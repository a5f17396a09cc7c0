"""Activity log: what came from where and what went where, filterable, with redacted payloads.

Every row is a code with parameters rendered in the reader's language. A payload (and, for a
booked order, what was sent) is shown only after every credential of the link's two connections
was masked, and any key that names a secret; the retention period is shown with the log.
"""

from __future__ import annotations

import json
import re
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Min, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from koppeling.sync.models import ActivityEvent, ActivityLevel, Connection
from koppeling.sync.redact import MASK, Redactor

from ..access import current_organisation, organisations_for
from .common import day_start, link_filter, pager, parse_date, query_without

_SECRET_KEY = re.compile(r"pass|secret|token|key|auth|credential|contractcode", re.I)


def _masked_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _SECRET_KEY.search(str(k)) else _masked_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_keys(v) for v in value]
    return value


def redactors(link_ids: set[int]) -> dict[int, Redactor]:
    """Per link, a redactor of both its connections' credentials."""
    secrets: dict[int, list[str]] = {i: [] for i in link_ids}
    connections = Connection.objects.filter(
        Q(links_out__in=link_ids) | Q(links_in__in=link_ids)
    ).prefetch_related("links_out", "links_in")
    for connection in connections.distinct():
        try:
            values = [str(v) for v in connection.credentials.values()]
        except Exception:  # an unreadable credential blob has nothing to leak here
            values = []
        for link in [*connection.links_out.all(), *connection.links_in.all()]:
            if link.pk in secrets:
                secrets[link.pk].extend(values)
    return {i: Redactor(values) for i, values in secrets.items()}


def shown_payload(event: ActivityEvent, redactor: Redactor | None) -> str:
    """The event's payload (or what was sent for its order), redacted, as indented JSON."""
    data: Any = event.payload or {}
    if not data and event.record_id and event.record is not None and event.record.sent:
        data = {"sent": event.record.sent}
    if not data:
        return ""
    data = _masked_keys(data)
    if redactor is not None:
        data = redactor.value(data)
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)


def _filtered(request: HttpRequest):
    rows = ActivityEvent.objects.filter(organisation__in=organisations_for(request.user))
    rows = link_filter(request).apply(rows)
    level = request.GET.get("level", "")
    if level in ActivityLevel.values:
        rows = rows.filter(level=level)
    start, end = parse_date(request.GET.get("start")), parse_date(request.GET.get("end"))
    if start:
        rows = rows.filter(created_at__gte=day_start(start))
    if end:
        import datetime as dt

        rows = rows.filter(created_at__lt=day_start(end + dt.timedelta(days=1)))
    q = request.GET.get("q", "").strip()[:100]
    if q:
        rows = rows.filter(Q(params__number=q) | Q(record__source_number=q))
    return rows


def _retention_days(request: HttpRequest) -> int:
    """The current organisation's period (its own, else the installation's)."""
    organisation = current_organisation(request)
    if organisation is None:
        return int(settings.KOPPELING["ACTIVITY_RETENTION_DAYS"])
    return organisation.retention_days


@login_required
@require_GET
def activity(request: HttpRequest) -> HttpResponse:
    rows = _filtered(request)
    page = pager(request, rows.count())
    events = list(
        rows.select_related("link__source", "link__target", "record", "flow").order_by("-created_at", "-id")[
            page.offset : page.offset + page.size
        ]
    )
    cleaners = redactors({e.link_id for e in events if e.link_id})
    items = [{"event": e, "payload": shown_payload(e, cleaners.get(e.link_id))} for e in events]
    oldest = ActivityEvent.objects.filter(organisation__in=organisations_for(request.user)).aggregate(
        first=Min("created_at")
    )["first"]
    context = {
        "items": items,
        "pager": page,
        "query": query_without(request.GET, "page"),
        "links": link_filter(request),
        "levels": ActivityLevel.choices,
        "params": request.GET,
        "retention_days": _retention_days(request),
        "oldest": oldest,
    }
    return render(request, "web/pages/activity.html", context)
