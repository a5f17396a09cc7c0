"""The dashboard benchmark runs once at a tiny size, so it cannot rot (the real run is `make bench`)."""

from __future__ import annotations

import json

import pytest

from benchmarks import dashboard
from koppeling.sync.models import Organisation, SyncRecord


@pytest.mark.django_db
def test_dashboard_benchmark_measures_each_page_against_its_bare_select():
    user = dashboard.populate(400, 4, slug="bench-tiny")
    assert dashboard.populate(400, 4, slug="bench-tiny") == user  # made once, then kept
    results = dashboard.measure(user, repeat=2)
    assert set(results) == {"overview", "report_first", "report_deep", "failures"}
    assert results["overview"]["rows"] == 4  # every link of the bookkeeper's clients
    assert results["failures"]["rows"] == 12  # 3 % of 400
    assert 0 < results["report_deep"]["rows"] <= results["report_first"]["rows"] <= 50
    for r in results.values():
        assert r["page_p95_ms"] > 0 and r["bare_p95_ms"] > 0 and r["ratio"] > 0
    line = dashboard.summary(results, 400, 4, "test")
    assert json.loads(json.dumps(line))["name"] == "dashboard" and line["goal"] == 100.0
    assert line["value"] == max(r["page_p95_ms"] for r in results.values())
    dashboard.drop("bench-tiny")
    assert (
        not SyncRecord.objects.exists()
        and not Organisation.objects.filter(slug__startswith="bench-tiny").exists()
    )
