"""``/ops/metrics``: Prometheus text format (prometheus-client), read from the shared database and
queue at each scrape — so every web process answers for the whole installation, however many
workers run on however many machines (no per-process counters to add up).

Windows are stated in the names: what the database keeps is bounded (runs and attempts are purged
after the retention period), so these are gauges over a window, not counters since the start.
Access: ``Authorization: Bearer $KOPPELING_METRICS_TOKEN`` when that is set; otherwise from this
machine (a local Prometheus or agent, not through a reverse proxy) or a signed-in operator. No
tenant's name is a label.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import time
from collections import defaultdict

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["KoppelingCollector", "metrics", "render_metrics"]

log = logging.getLogger(__name__)

QUANTILES = (0.5, 0.95, 0.99)
#: at most this many recent calls per system go into the latency quantiles (a scrape stays cheap)
LATENCY_SAMPLE = 5000


def _gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels or [])


class KoppelingCollector:
    """Collects the installation's state from the database and the queue at scrape time."""

    def collect(self):
        yield from self._runs()
        yield from self._records()
        yield from self._latency()
        yield from self._rate_limits()
        yield from self._queue_and_worker()

    def _runs(self):
        from koppeling.sync.models import Run

        since = timezone.now() - dt.timedelta(hours=24)
        runs = _gauge("koppeling_runs_last_24h", "Runs started in the last 24 hours, by status.", ["status"])
        for row in Run.objects.filter(started_at__gte=since).values("status").annotate(n=Count("id")):
            runs.add_metric([row["status"]], row["n"])
        yield runs
        totals = Run.objects.filter(started_at__gte=since).aggregate(
            pushed=Sum("pushed"), failed=Sum("failed"), deferred=Sum("deferred"), calls=Sum("api_calls")
        )
        for key, doc in (
            ("pushed", "Documents pushed by runs of the last 24 hours."),
            ("failed", "Records that failed in runs of the last 24 hours."),
            ("deferred", "Records deferred for a rate limit in runs of the last 24 hours."),
        ):
            gauge = _gauge(f"koppeling_{key}_last_24h", doc)
            gauge.add_metric([], totals[key] or 0)
            yield gauge
        running = _gauge("koppeling_runs_running", "Runs in progress now.")
        running.add_metric([], Run.objects.filter(status="running").count())
        yield running

    def _records(self):
        from koppeling.sync.models import Alert, SyncRecord

        records = _gauge("koppeling_records", "Ledger rows by state.", ["state"])
        for row in SyncRecord.objects.values("state").annotate(n=Count("id")):
            records.add_metric([row["state"]], row["n"])
        yield records
        alerts = _gauge("koppeling_alerts_open", "Open alerts by kind.", ["kind"])
        for row in Alert.objects.filter(closed_at__isnull=True).values("kind").annotate(n=Count("id")):
            alerts.add_metric([row["kind"]], row["n"])
        yield alerts

    def _latency(self):
        from koppeling.sync.models import SyncAttempt

        since = timezone.now() - dt.timedelta(hours=1)
        recent = SyncAttempt.objects.filter(started_at__gte=since)
        calls = _gauge(
            "koppeling_api_calls_last_hour",
            "Pushes to each system in the last hour, by outcome.",
            ["system", "outcome"],
        )
        for row in recent.values("record__flow__target__system", "outcome").annotate(n=Count("id")):
            calls.add_metric([row["record__flow__target__system"] or "", row["outcome"]], row["n"])
        yield calls
        durations: dict[str, list[int]] = defaultdict(list)
        rows = (
            recent.filter(duration_ms__isnull=False)
            .order_by("-started_at")
            .values_list("record__flow__target__system", "duration_ms")[: LATENCY_SAMPLE * 4]
        )
        for system, ms in rows:
            if len(durations[system or ""]) < LATENCY_SAMPLE:
                durations[system or ""].append(ms)
        latency = _gauge(
            "koppeling_api_call_seconds",
            "Duration of pushes to each system over the last hour (quantiles of the recorded calls).",
            ["system", "quantile"],
        )
        for system, values in sorted(durations.items()):
            values.sort()
            for q in QUANTILES:
                index = min(len(values) - 1, max(0, round(q * len(values)) - 1))
                latency.add_metric([system, str(q)], values[index] / 1000)
        yield latency

    def _rate_limits(self):
        from koppeling.sync.models import Flow, RateLimitHold, RecordState, SyncRecord

        now = timezone.now()
        waiting = _gauge(
            "koppeling_rate_limit_waiting_flows", "Flows waiting for a target's rate limit now.", ["system"]
        )
        backlog = _gauge(
            "koppeling_rate_limit_backlog", "Records waiting for a target's rate limit now.", ["system"]
        )
        rows = (
            Flow.objects.filter(waiting_until__gt=now)
            .values("target__system")
            .annotate(n=Count("id"), backlog=Sum("backlog"))
        )
        for row in rows:
            waiting.add_metric([row["target__system"]], row["n"])
            backlog.add_metric([row["target__system"]], row["backlog"] or 0)
        yield waiting
        yield backlog
        holds = _gauge("koppeling_rate_limit_holds", "Accounts held after a 429 (Retry-After) now.")
        holds.add_metric([], RateLimitHold.objects.filter(until__gt=now).count())
        yield holds
        deferred = _gauge(
            "koppeling_records_waiting_for_rate_limit", "Pending ledger rows deferred by a rate limit."
        )
        deferred.add_metric(
            [],
            SyncRecord.objects.filter(Q(state=RecordState.PENDING) & Q(reason_code="rate_limited")).count(),
        )
        yield deferred

    def _queue_and_worker(self):
        from huey.contrib.djhuey import HUEY

        from .cleanup import last_heartbeat

        pending = _gauge("koppeling_queue_pending", "Tasks waiting in the queue.")
        scheduled = _gauge("koppeling_queue_scheduled", "Tasks scheduled for later.")
        try:
            pending.add_metric([], HUEY.pending_count())
            scheduled.add_metric([], HUEY.scheduled_count())
        except Exception:  # a queue that is down is the health check's to report; leave the gauges empty
            log.warning("metrics: the queue did not answer", exc_info=True)
        yield pending
        yield scheduled
        beat = None
        try:
            beat = last_heartbeat()
        except Exception:
            log.warning("metrics: the worker heartbeat could not be read", exc_info=True)
        age = _gauge("koppeling_worker_heartbeat_age_seconds", "Seconds since a worker last checked in.")
        if beat:
            age.add_metric([], max(0.0, time.time() - float(beat.get("at", 0))))
        yield age


def render_metrics() -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(KoppelingCollector())
    return generate_latest(registry)


#: headers a reverse proxy adds: a request with one came from elsewhere, whatever REMOTE_ADDR says
_PROXIED = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_PROTO")


def _allowed(request: HttpRequest) -> bool:
    token = settings.KOPPELING.get("METRICS_TOKEN", "")
    if token:
        given = request.META.get("HTTP_AUTHORIZATION", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    user = getattr(request, "user", None)
    if user is not None and user.is_active and user.is_superuser:
        return True
    if any(header in request.META for header in _PROXIED):
        return False  # through a reverse proxy on this machine: from anywhere, so the token is needed
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "metrics: set KOPPELING_METRICS_TOKEN and send it as a Bearer token\n",
            status=403,
            content_type="text/plain",
        )
    return HttpResponse(render_metrics(), content_type=CONTENT_TYPE_LATEST)
