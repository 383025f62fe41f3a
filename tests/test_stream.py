"""The streamed engine gives exactly the answer of one gx.expose call."""

from __future__ import annotations

import gc
import json
import shutil
import weakref
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import geoexpose as gx
from geoexpose import geoparquet
from geoexpose.cli import main
from geoexpose.scale import TrackFiles, expose_stream
from tests._stream_workloads import TABLES, assert_same_result, demo_inputs, generated


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    return demo_inputs(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def workload():
    return generated()


def test_demo_in_batches_equals_one_call(demo) -> None:
    _, sites, fixes, captures = demo
    expected = gx.expose(sites, fixes, captures=captures)
    got = expose_stream(sites, fixes, captures=captures, batch_fixes=3_000, batch_captures=40)
    assert got.stats["batches"] == 3 and got.stats["capture_batches"] > 1
    assert got.fixes is None and got.stats["fixes"] == len(fixes)
    assert_same_result(expected, got)
    # the flights: the same lines' lengths and times, the geometry simplified
    assert got.flights["flight_id"].tolist() == expected.flights["flight_id"].tolist()
    for col in ("n_fixes", "length_m", "duration_s"):
        want = expected.flights[col].astype(float)  # (duration_s comes as objects)
        np.testing.assert_allclose(got.flights[col].astype(float), want, rtol=1e-9)


def test_clock_shift_is_found_as_in_one_call(demo) -> None:
    _, sites, fixes, captures = demo
    shifted = captures.copy()
    shifted["flight_id"] = None
    shifted["time_utc"] = shifted["time_utc"] + pd.Timedelta(hours=2)
    shifted["flags"] = shifted["flags"].astype(str) + ";time_zone_assumed_utc"
    expected = gx.expose(sites, fixes, captures=shifted)
    assert expected.captures["flags"].str.contains("time_shifted_to_track").all()
    got = expose_stream(sites, fixes, captures=shifted, batch_fixes=2_000)
    assert_same_result(expected, got)


def test_generated_workload_in_batches_equals_one_call(workload) -> None:
    sites, fixes, captures = workload
    expected = gx.expose(sites, fixes, captures=captures)
    # the workload has photos matched by time, given a flight, and of no flight
    assert 0 < expected.captures["flight_id"].isna().sum() < len(captures)
    got = expose_stream(sites, fixes, captures=captures, batch_fixes=4_000, batch_captures=90)
    assert got.stats["batches"] >= 4 and got.stats["capture_batches"] >= 4
    assert_same_result(expected, got)


def test_geoparquet_partitioned_by_flight_streams_file_by_file(workload, tmp_path: Path) -> None:
    sites, fixes, captures = workload
    folder = geoparquet.write_fixes(fixes, tmp_path / "fixes", rows_per_file=3_000)
    files = geoparquet.fix_files(folder)
    assert len(files) >= 8 and sum(f.rows for f in files) == len(fixes)
    expected = gx.expose(sites, fixes, captures=captures)
    got = expose_stream(sites, folder, captures=captures, batch_fixes=6_000)
    assert got.stats["batches"] >= 4
    assert_same_result(expected, got)


def test_track_files_keep_the_flight_ids_of_one_reading(demo, tmp_path: Path) -> None:
    inputs, sites, _, captures = demo
    track = inputs.tracks[0]
    for folder in ("a", "b"):  # the same file name in two folders: labels a/x and b/x
        (tmp_path / folder).mkdir()
        shutil.copy(track, tmp_path / folder / track.name)
    paths = [str(tmp_path / "a"), str(tmp_path / "b")]
    fixes = gx.read_tracks(paths, duplicates="keep")  # both copies, each with its label
    assert fixes["flight_id"].nunique() == 2
    expected = gx.expose(sites, fixes, captures=captures)
    source = TrackFiles(tuple(paths), duplicates="keep")
    got = expose_stream(sites, source, captures=captures, batch_fixes=1)  # a file per batch
    assert got.stats["batches"] == 2
    assert_same_result(expected, got)
    assert [e["flights"] for e in got.inputs["tracks"]] == [
        e["flights"] for e in fixes.attrs["geoexpose"]["files"]
    ]


def test_only_a_batch_or_two_of_fixes_is_held(workload) -> None:
    sites, fixes, _ = workload
    alive: list[weakref.ref] = []
    most = 0

    flights = pd.unique(fixes["flight_id"])[:6]
    fixes = fixes[fixes["flight_id"].isin(flights)]

    def frames():
        nonlocal most
        for flight in flights:
            gc.collect()
            most = max(most, sum(r() is not None for r in alive))
            frame = fixes[fixes["flight_id"] == flight].copy()
            alive.append(weakref.ref(frame))
            yield frame

    got = expose_stream(sites, frames(), threads=1)
    assert got.stats["batches"] == len(flights)
    assert most <= 2  # the batch worked on and the one read ahead
    assert_same_result(gx.expose(sites, fixes), got)


def test_a_flight_in_two_frames_is_refused(workload) -> None:
    sites, fixes, _ = workload
    half = len(fixes) // 2 + 7  # cuts a flight in two
    with pytest.raises(gx.InputError, match="is in two batches"):
        expose_stream(sites, [fixes.iloc[:half], fixes.iloc[half:]])


def test_no_fixes_only_captures(demo) -> None:
    _, sites, _, captures = demo
    expected = gx.expose(sites, None, captures=captures)
    got = expose_stream(sites, [], captures=captures)
    assert got.stats["fixes"] == 0 and len(got.flights) == 0
    assert_same_result(expected, got)


def test_unknown_engine_is_a_usage_error(demo) -> None:
    _, sites, fixes, _ = demo
    with pytest.raises(gx.UsageError, match="engine"):
        expose_stream(sites, fixes, engine="spark")


def test_scan_engine_local_writes_the_answer_of_one_call(demo, tmp_path: Path) -> None:
    inputs, sites, fixes, captures = demo
    out = tmp_path / "out"
    args = ["scan", *map(str, (*inputs.tracks, *inputs.photos)), "--sites", str(inputs.sites)]
    args += ["--out", str(out), "--engine", "local", "--batch-fixes", "4000", "--parquet"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    expected = gx.expose(sites, fixes, captures=captures)
    table = pd.read_csv(out / "site_exposure.csv")
    want = expected.exposed.reset_index(drop=True)
    assert table["site_id"].tolist() == want["site_id"].tolist()
    for col in ("dwell_s", "min_distance_m", "imaged_area_m2", "exposure_score"):
        np.testing.assert_allclose(table[col], want[col], rtol=1e-9, atol=1e-3)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"]["fixes_kept"] == len(fixes)
    assert summary["engine"]["engine"] == "local"
    # the GeoParquet tables: partitioned by flight, so captures come by flight
    stored = geoparquet.read_result(out / "parquet")
    by_capture = ["capture_id", "site_id"]
    assert_same_result(_by_capture(expected, by_capture), _by_capture(stored, by_capture))


def _by_capture(result, key: list[str]) -> SimpleNamespace:
    tables = {name: getattr(result, name) for name in TABLES}
    tables["captures"] = tables["captures"].sort_values("capture_id", ignore_index=True)
    tables["capture_sites"] = tables["capture_sites"].sort_values(key, ignore_index=True)
    return SimpleNamespace(**tables)
