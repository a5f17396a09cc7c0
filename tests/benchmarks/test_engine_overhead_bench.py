"""The engine benchmark runs once at a tiny size, so it cannot rot (the real run is `make bench`)."""

from __future__ import annotations

import pytest

from benchmarks import engine_overhead


@pytest.mark.django_db
@pytest.mark.parametrize(("latency", "label"), [(0.0, "tiny-inproc"), (0.002, "tiny-socket")])
def test_engine_overhead_measures_both_sides(latency, label):
    result = engine_overhead.measure(25, latency, label)
    assert result["bare"]["pushed"] == result["engine"]["pushed"] == 25
    assert result["engine"]["failed"] == 0
    assert result["engine"]["second_run_pushed"] == 0
    assert result["engine"]["idle_api_calls"] == 1
    assert result["ratio"] > 0 and result["cpu_ratio"] > 0
    if latency:
        assert result["pooled_rate"] > 0
