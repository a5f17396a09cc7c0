"""The reliability harnesses run once at a tiny size on SQLite, as the commands they are.

(The crash harness runs on PostgreSQL + Redis only, in ``test_harnesses_services.py``; on SQLite
it is measured in docs/reliability.md — the suite's two cores do not have room for both.)

Each is a ``python -m benchmarks.<name>`` process of its own (it sets up Django on a fresh
database of its own and starts real ``koppeling worker`` processes); the last line of its output
is the JSON result. The PostgreSQL + Redis runs are in ``test_harnesses_services.py``; the full
sizes and their figures are in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def run_harness(name: str, *args: str, timeout: float = 240) -> tuple[int, dict[str, Any]]:
    """Run ``python -m benchmarks.<name> args``; its exit code and last-line JSON."""
    path = os.pathsep.join(p for p in (str(REPO / "src"), str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", *args],
        cwd=REPO,
        env={**env, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"benchmarks.{name} printed nothing:\n{done.stderr[-4000:]}"
    try:
        return done.returncode, json.loads(lines[-1])
    except json.JSONDecodeError:
        raise AssertionError(
            f"last line is not JSON:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        ) from None


def assert_exactly_once(result: dict[str, Any], orders: int) -> None:
    assert result["duplicates"] == [] and result["missing"] == [], result
    assert result["invoices"] == orders
    assert result["ledger_states"] == {"pushed": orders}


def test_faults_every_order_delivered_once():
    code, result = run_harness("faults", "--orders", "30", "--rate", "0.3", "--deadline", "0.3")
    assert code == 0 and result["ok"], result
    assert_exactly_once(result, 30)
    assert sum(result["faults_injected"].values()) > 0
    assert result["retries_recorded"] > 0 and result["engine_exceptions"] == []


def test_concurrency_two_workers_on_sqlite():
    code, result = run_harness("concurrency", "--workers", "2", "--orders", "5", "--database", "sqlite")
    assert code == 0 and result["ok"], result
    assert_exactly_once(result, 5)
    assert result["runs"].get("order/ok") == 3 * 5  # every duplicate Verwerk ran
    assert result["worker_tracebacks"] == []
