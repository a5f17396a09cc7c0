"""The webhook latency benchmark runs once at a tiny size, in one thread, so it cannot rot (the
real run, with a worker process and sockets, is ``python -m benchmarks.webhook_latency``)."""

from __future__ import annotations

import pytest

from benchmarks import webhook_latency


@pytest.mark.django_db(transaction=True)
def test_each_webhook_becomes_exactly_one_invoice_and_is_timed():
    result = webhook_latency.measure_inline(3)
    assert result["events"] == result["invoices"] == 3
    assert result["duplicates"] == result["missed"] == result["refused_deliveries"] == 0
    assert 0 < result["p50_s"] <= result["p95_s"] <= result["max_s"]
    assert result["ok"] and result["token_length"] >= 43


def test_the_summary_fails_a_run_that_missed_or_doubled_an_invoice():
    class Books:
        invoices = {"a": 1, "b": 2, "c": 3}

    outcome = {"latencies": [0.1, 0.2], "missed": 1, "refused": 0, "orders": [1, 2, 3]}
    assert not webhook_latency.summary(outcome, Books, 1)["ok"]  # 2 invoices for 3 events
    slow = {"latencies": [0.1, 2.5, 2.6], "missed": 0, "refused": 0, "orders": [1, 2, 3]}
    assert webhook_latency.summary(slow, Books, 0)["p95_s"] == 2.6
    assert not webhook_latency.summary(slow, Books, 0)["ok"]
