"""``/ops/healthz`` (database, queue, worker heartbeat) and ``/ops/metrics`` (Prometheus text)."""

from __future__ import annotations

import time
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from koppeling.sync.engine import Engine
from koppeling.web.ops import cleanup

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_heartbeat(monkeypatch):
    """Each test its own heartbeat key (the queue file is shared by parallel test processes)."""
    monkeypatch.setattr(cleanup, "HEARTBEAT_KEY", f"test-heartbeat-{uuid.uuid4().hex}")


def test_healthy_with_a_worker_that_checked_in(client):
    cleanup.beat()
    response = client.get("/ops/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert set(body["checks"]) == {"database", "queue", "worker"}
    assert body["checks"]["queue"]["detail"].startswith("ok, ")


def test_no_worker_is_unhealthy_but_the_web_check_can_leave_it_out(client):
    response = client.get("/ops/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["worker"] == {"ok": False, "detail": "no worker has checked in"}
    assert client.get("/ops/healthz?only=database,queue").status_code == 200
    assert client.get("/ops/healthz?only=disk").status_code == 400


def test_a_stale_heartbeat_is_unhealthy(client, settings):
    from huey.contrib.djhuey import HUEY

    HUEY.put(cleanup.HEARTBEAT_KEY, {"at": time.time() - 3600, "worker": "old"})
    response = client.get("/ops/healthz?only=worker")
    assert response.status_code == 503 and "s ago" in response.json()["checks"]["worker"]["detail"]


def test_a_failing_check_is_reported_without_details(client, monkeypatch):
    from koppeling.web.ops import health

    def down():
        raise ConnectionError("redis://:pw@queue.internal refused")

    monkeypatch.setitem(health.CHECKS, "queue", down)
    response = client.get("/ops/healthz?only=queue")
    assert response.status_code == 503
    assert response.json()["checks"]["queue"] == {"ok": False, "detail": "failed: ConnectionError"}
    assert b"pw@" not in response.content


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_metrics_in_prometheus_text_format(client, link, settings):
    settings.KOPPELING = {**settings.KOPPELING, "METRICS_TOKEN": "scrape-token"}
    Engine(link).run()
    cleanup.beat()
    assert client.get("/ops/metrics").status_code == 403  # the token is required
    assert client.get("/ops/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/ops/metrics", HTTP_AUTHORIZATION="Bearer scrape-token")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    families = _families(response.content.decode())
    pushed = families["koppeling_pushed_last_24h"].samples[0].value
    assert pushed > 0
    runs = {s.labels["status"]: s.value for s in families["koppeling_runs_last_24h"].samples}
    assert sum(runs.values()) == 1
    calls = families["koppeling_api_calls_last_hour"].samples
    assert {s.labels["system"] for s in calls} == {"acumulus"} and sum(s.value for s in calls) == pushed
    latency = families["koppeling_api_call_seconds"].samples
    assert {s.labels["quantile"] for s in latency} == {"0.5", "0.95", "0.99"}
    for name in (
        "koppeling_queue_pending",
        "koppeling_rate_limit_waiting_flows",
        "koppeling_records_waiting_for_rate_limit",
        "koppeling_worker_heartbeat_age_seconds",
    ):
        assert name in families
    assert families["koppeling_worker_heartbeat_age_seconds"].samples[0].value < 60
    assert link.organisation.name not in response.content.decode()  # no tenant is a label


def test_metrics_without_a_token_only_from_this_machine(client):
    assert client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/ops/metrics", REMOTE_ADDR="203.0.113.5").status_code == 403
    # through nginx on this machine the address is loopback, but the request came from anywhere
    proxied = client.get("/ops/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert proxied.status_code == 403
