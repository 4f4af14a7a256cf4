"""`python -m bench --quick` runs end to end and writes every figure the issue lists."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

EXPECTED = {
    "append": [
        f"{name}{suffix}"
        for suffix in ("", "_1", "_32")
        for name in ("raw_insert_eps", "default_recorder_eps", "docket_eps")
    ]
    + ["writers"],
    "http": ["baseline_rps", "docket_rps", "p50_ms", "p99_ms"],
    "lag": ["rate", "p50_ms", "p99_ms"],
    "rebuild": ["events", "raw_eps", "rebuild_eps"],
    "reads": ["tickets", "inbox_p99_ms", "filter_p99_ms", "detail_p99_ms", "dashboard_p99_ms"],
    "memory": ["api_rss_mb"],
    "machine": ["cpus"],
    "reply_cost": ["ratio_large_over_small_cached", "ratio_large_over_small_uncached"],
}


def test_quick_bench_writes_every_figure_of_the_issue(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads((tmp_path / "results.json").read_text())
    for section, keys in EXPECTED.items():
        for key in keys:
            value = results[section][key]
            assert isinstance(value, int | float), (section, key, value)
            assert value > 0, (section, key, value)
    floor = results["http"]["per_request"]
    for key in ("baseline_rps", "filing_rps", "reply_rps", "filing_ratio", "reply_ratio"):
        assert isinstance(floor[key], int | float) and floor[key] > 0, (key, floor)
    assert results["append"]["writers"] == 8
    assert results["when"]
    assert results["targets"]
    assert all(isinstance(target["met"], bool) for target in results["targets"])
    assert (tmp_path / "results.png").stat().st_size > 0
    assert "targets" in done.stdout
