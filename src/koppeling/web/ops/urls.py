"""Operations endpoints: ``/ops/healthz`` and ``/ops/metrics`` (issue 13); webhooks join later."""

from django.urls import path

from . import health, metrics

app_name = "ops"
urlpatterns: list = [
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics.metrics, name="metrics"),
]
