"""One large track file is read and cleaned in memory that grows little with its fixes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.tracks import _gpx_points, _jumps, _time_order, read_track_pieces
from geoexpose.tracks._takeoff import takeoff_heights
from geoexpose.tracks.normalize import FLIGHT_NO, clean_rows
from tests.test_track_pieces import write_gpx

T0 = pd.Timestamp("2024-05-01 08:00:00", tz="UTC")


def _track(n: int, spikes: list[int]) -> pd.DataFrame:
    """Fixes 1 s apart going north ~6.7 m a step, with lone spikes 1.1 km east."""
    lon = np.full(n, 8.0)
    lon[spikes] += 0.0155  # about 1.1 km at 50 N: 1,100 m/s from both neighbours
    return pd.DataFrame(
        {
            "lat": 50.0 + 0.00006 * np.arange(n),
            "lon": lon,
            "time_utc": T0 + pd.to_timedelta(np.arange(n), unit="s"),
        }
    )


def test_clean_rows_gives_the_kept_positions_and_flights() -> None:
    raw = _track(12, spikes=[4])
    raw.loc[1, "lat"] = np.nan  # no_fix
    raw.loc[2, ["lat", "lon"]] = 0.0  # null_island
    raw.loc[6, "time_utc"] = raw.loc[5, "time_utc"]  # duplicate_time
    raw.loc[7, "time_utc"] = T0 - pd.Timedelta(seconds=30)  # time_backwards
    later = pd.to_timedelta(np.arange(8, 12) + 600, unit="s")
    raw.loc[8:11, "time_utc"] = (T0 + later).to_numpy()  # a new flight after 10 min
    rows, flight_no, dropped = clean_rows(raw, split_gap_s=60.0)
    assert rows.tolist() == [0, 3, 5, 8, 9, 10, 11]
    assert flight_no.tolist() == [1, 1, 1, 2, 2, 2, 2]
    expected = {"no_fix": 1, "null_island": 1, "duplicate_time": 1, "time_backwards": 1}
    assert {k: dropped[k] for k in expected} == expected
    assert dropped["gps_jump"] == 1 and sum(dropped.values()) == 5


def test_jumps_are_found_the_same_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    spikes = [5, 8, 11, 16, 22]  # at chunk edges of 4 (chunks start at rows 1, 5, 9, ...)
    raw = _track(30, spikes)
    monkeypatch.setattr(_jumps, "CHUNK", 4)
    rows, _, dropped = clean_rows(raw, split_gap_s=60.0)
    assert dropped["gps_jump"] == len(spikes)
    assert sorted(set(range(30)) - set(rows.tolist())) == spikes


@pytest.mark.parametrize("many", [10_000, 0])
def test_running_times_within_each_track(monkeypatch: pytest.MonkeyPatch, many: int) -> None:
    monkeypatch.setattr(_time_order, "MANY_RUNS", many)  # the loop, or pandas' groupby
    values = np.array([3, 1, 4, 1, 5, 9, 2, 6], dtype=np.int64)
    group = np.array([0, 0, 0, 1, 1, 1, 1, 2])
    assert _time_order.running_max(values, group).tolist() == [3, 3, 4, 1, 5, 9, 9, 6]
    last = np.iinfo(np.int64).max
    after = _time_order._running_min_after(values, group)
    assert after.tolist() == [1, 4, last, 2, 2, 2, last, last]


def test_a_gpx_grows_its_columns_past_their_first_room(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_gpx_points, "_MAX_ROOM", 0)  # a first room of 1,024 points
    monkeypatch.setattr(_gpx_points, "_BATCH", 700)
    written = write_gpx(tmp_path / "t.gpx", 5_000)
    points, _ = _gpx_points.read_gpx_points(tmp_path / "t.gpx")
    assert len(points) == 5_000
    np.testing.assert_allclose(points.lon, written["lon"], atol=1e-7)
    np.testing.assert_allclose(points.lat, written["lat"], atol=1e-7)
    assert points.group.tolist() == [0] * (5_000 // 2 + 7) + [1] * (5_000 // 2 - 7)


def test_a_file_read_in_place_keeps_what_read_tracks_keeps(tmp_path: Path) -> None:
    path = tmp_path / "t.gpx"
    n = 6_000
    write_gpx(path, n)
    (piece,) = read_track_pieces(path, piece_fixes=n)
    rows = piece.rows
    fixes = gx.read_tracks(path, duplicates="keep")
    assert len(rows) == len(fixes) == n - 2  # a lone fix ahead in time, a GPS jump
    assert isinstance(rows["alt_ref"].dtype, pd.CategoricalDtype)
    assert (rows["alt_ref"] == "takeoff").all()  # a categorical: its values compare equal
    assert "segment" not in rows
    xy = np.column_stack([fixes.geometry.x, fixes.geometry.y])
    np.testing.assert_array_equal(rows[["lon", "lat"]].to_numpy(), xy)
    assert (rows["time_utc"].to_numpy() == fixes["time_utc"].to_numpy()).all()
    for name in ("alt_agl_m", "alt_msl_m"):
        np.testing.assert_array_equal(rows[name].to_numpy(), fixes[name].to_numpy())
    # the first flight starts still on the ground at 200 m: heights above take-off
    first = rows[rows[FLIGHT_NO] == 1]
    np.testing.assert_allclose(first["alt_agl_m"], first["alt_msl_m"] - 200.0, atol=1e-9)


def test_takeoff_heights_fill_a_categorical_alt_ref() -> None:
    n = 10
    fixes = pd.DataFrame(
        {
            FLIGHT_NO: np.ones(n, dtype=np.int64),
            "time_utc": T0 + pd.to_timedelta(np.arange(n), unit="s"),
            "lon": np.full(n, 8.0),
            "lat": 50.0 + np.r_[np.zeros(5), 0.0001 * np.arange(1, 6)],
            "alt_msl_m": 120.0 + np.r_[np.zeros(5), 10.0 * np.arange(1, 6)],
            "alt_agl_m": np.full(n, np.nan),
            "alt_ref": pd.Categorical([None] * n),
        }
    )
    notes: list[str] = []
    out = takeoff_heights(fixes, "GPX <ele>", notes, in_place=True)
    assert out["alt_agl_m"].tolist() == [0.0] * 5 + [10.0, 20.0, 30.0, 40.0, 50.0]
    assert out["alt_ref"].tolist() == ["takeoff"] * n
    assert len(notes) == 1 and "1 of 1 flights" in notes[0]


_PEAK = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import pandas as pd
    import geoexpose as gx
    from geoexpose.scale import TrackFiles, expose_stream
    def status(key):
        with open("/proc/self/status") as lines:
            return next(int(l.split()[1]) for l in lines if l.startswith(key))
    sites = gx.read_sites(pd.read_csv(sys.argv[3]))
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak so far (reading the sites) forgotten
    base = status("VmRSS")
    result = expose_stream(sites, TrackFiles((sys.argv[2],)), piece_fixes=50_000)
    peak = status("VmHWM")
    print(json.dumps({"base_kb": base, "peak_kb": peak, "fixes": result.stats["fixes"]}))
    """
)


def _streamed_mb(tmp_path: Path, n: int) -> float:
    """Peak MB over the start of a fresh process that streams a GPX of ``n`` points."""
    path, sites = tmp_path / f"big{n}.gpx", tmp_path / f"sites{n}.csv"
    points = write_gpx(path, n)  # written here: its text is not counted in the child
    near = points.iloc[:: n // 100]
    pd.DataFrame(
        {"name": [f"S{i}" for i in range(len(near))], "family": "military",
         "lon": near["lon"] + 0.0004, "lat": near["lat"] - 0.0003}
    ).to_csv(sites, index=False)  # fmt: skip
    del points, near
    root = str(Path(__file__).resolve().parents[1])
    args = [sys.executable, "-c", _PEAK, root, str(path), str(sites)]
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=os.environ)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    path.unlink()
    assert found["fixes"] >= n - 2
    return (found["peak_kb"] - found["base_kb"]) / 1024


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_reading_one_large_gpx_costs_little_per_fix(tmp_path: Path) -> None:
    # reading and cleaning a GPX in pieces held ~275 bytes a fix for the whole file
    # (the reader's frame, the cleaned copy and the working arrays at once); now the
    # reader's columns are taken into the kept ones (~50 bytes a fix) and the
    # working arrays are few: ~95 bytes a fix here
    small = _streamed_mb(tmp_path, 200_000)
    large = _streamed_mb(tmp_path, 1_000_000)
    assert small > 20  # the peak is measured (above what the sites took)
    assert (large - small) / 800_000 * 2**20 < 150, (small, large)  # bytes per extra fix
