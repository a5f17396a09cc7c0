"""The harnesses on the real PostgreSQL and Redis (``make test-services``), once at a tiny size.

Each creates a database of its own on the server of ``DATABASE_URL`` (named after it, dropped
afterwards) and uses the Redis of ``KOPPELING_QUEUE_URL`` under a queue name of its own. These
fail, not skip, when the services are missing.
"""

from __future__ import annotations

import os

import pytest
from tests.benchmarks.test_harnesses import assert_exactly_once, run_harness

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _services() -> list[str]:
    database, queue = os.environ.get("DATABASE_URL", ""), os.environ.get("KOPPELING_QUEUE_URL", "")
    assert database.startswith("postgres"), "DATABASE_URL must point at PostgreSQL for these tests"
    assert queue.startswith("redis"), "KOPPELING_QUEUE_URL must point at Redis for these tests"
    return ["--database", "postgres", "--postgres", database, "--redis", queue]


def test_chaos_kill_on_postgres():
    code, result = run_harness("chaos_kill", "--kills", "3", "--orders", "30", *_services())
    assert code == 0 and result["ok"], result
    assert_exactly_once(result, 30)
    assert result["kills"] == 3 and result["kills_while_booking"] >= 1
    assert (result["database"], result["queue"]) == ("postgres", "redis")
    assert result["worker_tracebacks"] == []


def test_concurrency_four_workers_on_postgres():
    code, result = run_harness("concurrency", "--workers", "4", "--orders", "5", *_services())
    assert code == 0 and result["ok"], result
    assert_exactly_once(result, 5)
    assert result["runs"].get("order/ok") == 3 * 5
    assert result["worker_tracebacks"] == []


def test_scale_out_measures_both_settings():
    """Tiny: the ratio is not asserted (start-up dominates), only that both settings book once."""
    code, result = run_harness("scale_out", "--orders", "24", "--flows", "2", "--warmup", "0.5", *_services())
    assert result["exactly_once"], result
    one, two = result["settings"]
    assert (one["workers"], two["workers"]) == (1, 2)
    assert one["finished"] and two["finished"]
    assert one["orders_per_second"] > 0 and two["orders_per_second"] > 0
    assert result["ratio"] > 0 and code in (0, 1)
