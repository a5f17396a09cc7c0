"""The Strato converter benchmark runs once at a tiny size, so it cannot rot."""

from __future__ import annotations

import json

from benchmarks import strato_convert


def test_strato_benchmark_tiny(tmp_path, capsys):
    assert strato_convert.main(["--orders", "300", "--repeat", "1", "--keep", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert set(result) == {"name", "metric", "value", "baseline", "ratio", "goal", "ok"}
    assert result["name"] == "strato_convert" and result["ratio"] > 0 and result["goal"] == 3.5
    assert any("equal the orders' own totals to the cent: True" in line for line in lines)
    assert any("peak RSS" in line for line in lines)
