"""The scale benchmark's workload writer and its DuckDB peer, on tiny workloads."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow.parquet as pq
import pytest

import geoexpose as gx
from benchmarks._compare import compare
from benchmarks.baseline import RESULT_COLUMNS
from benchmarks.generate import generate
from benchmarks.scale import stream_workload

TINY = {"sites": 1_500, "fixes_per_flight": 800, "seed": 5}


def test_stream_workload_is_partitioned_by_flight_and_cached(tmp_path: Path) -> None:
    folder, made, _ = stream_workload(**TINY, flights=12, data_dir=tmp_path, chunk_flights=5)
    assert made
    again, made_again, _ = stream_workload(**TINY, flights=12, data_dir=tmp_path, chunk_flights=5)
    assert again == folder and not made_again
    files = sorted(folder.glob("*.parquet"))
    seen: set[str] = set()
    for path in files:
        flights = set(pq.read_table(path, columns=["flight_id"]).column(0).to_pylist())
        assert not flights & seen  # whole flights per file
        seen |= flights
    assert len(seen) == 12 and {f.split("-")[0] for f in seen} == {"C000", "C001", "C002"}
    fixes = gx.geoparquet.read_fixes(folder)
    assert len(fixes) == 12 * 800
    assert fixes["alt_agl_m"].dtype == "float32" and fixes["lon"].dtype == "float64"
    # the streamed answer over the files is the one-call answer over the same fixes
    sites = generate(**TINY, flights=1, data_dir=tmp_path).sites_path
    layer = gpd.read_parquet(sites)
    one = gx.expose(layer, fixes)
    many = gx.expose_stream(layer, folder, batch_fixes=2_000)
    assert (one.sites["n_flights"] > 0).sum() > 0
    pd.testing.assert_frame_equal(
        one.sites[RESULT_COLUMNS], many.sites[RESULT_COLUMNS], check_exact=False, rtol=1e-9
    )


def test_duckdb_peer_agrees_with_geoexpose(tmp_path: Path) -> None:
    pytest.importorskip("duckdb_extension_spatial", reason="the bench extra is not installed")
    from benchmarks.duckdb_peer import duckdb_exposure

    work = generate(**TINY, flights=6, data_dir=tmp_path)
    per_site, n_pairs, times = duckdb_exposure(work.sites_path, work.fixes_path, threads=1)
    sites = gpd.read_parquet(work.sites_path)
    fixes = gx.geoparquet.read_fixes(work.fixes_path)
    mine = gx.expose(sites, fixes)
    agreement = compare(pd.DataFrame(mine.sites[RESULT_COLUMNS]), per_site)
    assert agreement.exposed_a == agreement.exposed_b == agreement.exposed_both > 0
    assert agreement.within["n_flights"] == 1.0
    assert n_pairs == len(mine.pairs) and times["run_s"] > 0
