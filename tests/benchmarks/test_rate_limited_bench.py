"""The rate-limit benchmark runs once at a tiny size, so it cannot rot (the real run is `make bench`)."""

from __future__ import annotations

import pytest

from benchmarks import rate_limited


@pytest.mark.django_db
def test_rate_limited_benchmark_meets_its_goals_at_a_tiny_size():
    result = rate_limited.simulate(25, limit=6)
    assert result["pushed"] == 25 and result["failed"] == 0
    assert result["windows_used"] == result["windows_needed"] == 5
    assert result["rate_limited_answers"] == 0
    assert result["eta_error"] <= 0.05
