"""The benchmark's end-to-end timing: each process from its start to the per-site table."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from benchmarks.generate import generate
from benchmarks.run import format_table, run_method


def report(run_s: float, end_to_end_s: float | None) -> dict:
    return {
        "load_s": 1.0, "run_s": run_s, "rss_before_mb": 100.0, "peak_run_mb": 150.0,
        "peak_above_mb": 50.0, "peak_process_mb": 150.0, "n_exposed": 1, "n_pairs": 1,
        "sites_s": 0.5, "startup_s": 0.25, "end_to_end_s": end_to_end_s,
    }  # fmt: skip


def test_table_prints_the_end_to_end_ratio() -> None:
    text = format_table({"geoexpose": report(2.0, 10.0), "geopandas": report(40.0, 65.0)})
    assert "end to end (process start to per-site table, reading included): 6.5x" in text
    assert "time 20.0x" in text
    # reports without the figure (an older child) print no end-to-end ratio
    old = format_table({"geoexpose": report(2.0, None), "geopandas": report(40.0, None)})
    assert "end to end" not in old and " - " in old


@pytest.mark.parametrize("method", ["geoexpose", "geopandas"])
def test_child_times_from_process_start(tmp_path: Path, method: str) -> None:
    work = generate(sites=300, flights=1, fixes_per_flight=300, data_dir=tmp_path)
    before = time.time()
    status, figures = run_method(
        method, work.sites_path, work.fixes_path, tmp_path / "out.parquet", max_gap_s=5.0
    )
    wall = time.time() - before
    assert status == "ok" and figures is not None
    # the parts lie inside the whole, and the whole inside the parent's wall time
    assert 0 < figures["startup_s"] < figures["end_to_end_s"] <= wall
    parts = figures["startup_s"] + figures["load_s"] + figures["run_s"]
    assert parts <= figures["end_to_end_s"] + 1e-6
    assert 0 < figures["sites_s"] <= figures["load_s"]
