"""The same flight in several files counts once (geoexpose.tracks.duplicates)."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

import geoexpose as gx
from geoexpose.errors import InputWarning, UsageError
from geoexpose.tracks import drop_duplicate_flights, find_duplicate_flights, read_tracks

GEOD = Geod(ellps="WGS84")
T0 = pd.Timestamp("2026-06-12T10:00:00Z")
LON0, LAT0 = 10.0, 55.0
N = 300  # fixes of a synthetic flight, one a second


def path_lonlat(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """A flight path: 2 m a second eastward, with a wiggle north and south."""
    east = 2.0 * np.arange(n)
    north = 30.0 * np.sin(np.arange(n) / 20.0)
    lon, lat, _ = GEOD.fwd(np.full(n, LON0), np.full(n, LAT0), np.full(n, 90.0), east)
    lon, lat, _ = GEOD.fwd(lon, lat, np.zeros(n), north)
    return np.asarray(lon), np.asarray(lat)


def flight(
    source: str,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    start_s: float = 0.0,
    heights: bool = True,
    drone: str | None = None,
    flight_no: int = 1,
) -> gpd.GeoDataFrame:
    """Fixes of one flight as read_tracks gives them, from file ``source``."""
    n = len(lon)
    time = T0 + pd.to_timedelta(start_s + np.arange(n), unit="s")
    return gpd.GeoDataFrame(
        {
            "flight_id": f"{Path(source).name}#{flight_no}",
            "time_utc": pd.Series(time).astype("datetime64[ns, UTC]"),
            "alt_agl_m": np.full(n, 40.0) if heights else np.full(n, np.nan),
            "alt_ref": "takeoff",
            "alt_msl_m": np.full(n, 90.0),
            "source": source,
            "drone_id": pd.array([drone] * n, dtype="string"),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def together(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return pd.concat(frames, ignore_index=True)


def quiet_drop(fixes: gpd.GeoDataFrame, **kwargs) -> gpd.GeoDataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        return drop_duplicate_flights(fixes, **kwargs)


# --- what is not a copy ------------------------------------------------------------


def test_the_same_path_an_hour_later_is_another_flight():
    lon, lat = path_lonlat()
    fixes = together(flight("a.csv", lon, lat), flight("b.gpx", lon, lat, start_s=3600))
    assert find_duplicate_flights(fixes).empty
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either
        out = drop_duplicate_flights(fixes)
    assert len(out) == 2 * N
    assert "duplicates" not in out.attrs.get("geoexpose", {})


def test_two_drones_side_by_side_50_m_apart_are_two_flights():
    lon, lat = path_lonlat()
    lon2, lat2, _ = GEOD.fwd(lon, lat, np.zeros(N), np.full(N, 50.0))  # 50 m north
    fixes = together(flight("a.csv", lon, lat), flight("b.csv", np.asarray(lon2), np.asarray(lat2)))
    assert find_duplicate_flights(fixes).empty
    assert len(quiet_drop(fixes)) == 2 * N


def test_same_positions_but_different_aircraft_are_two_flights():
    lon, lat = path_lonlat()
    fixes = together(
        flight("a.csv", lon, lat, drone="1581F4XFC2397001"),
        flight("b.csv", lon, lat, drone="1581F4XFC2397002"),
    )
    assert find_duplicate_flights(fixes).empty
    assert len(quiet_drop(fixes)) == 2 * N


def test_flights_of_one_file_are_never_copies_of_each_other():
    # a Remote ID capture: two drones of one file (the same ids would be one drone)
    lon, lat = path_lonlat()
    one = flight("capture.pcap", lon, lat, flight_no=1)
    two = flight("capture.pcap", lon, lat, flight_no=2)
    assert find_duplicate_flights(together(one, two)).empty


# --- copies ------------------------------------------------------------------------


def test_a_copy_without_heights_is_dropped_and_said_why():
    lon, lat = path_lonlat()
    csv = flight("logs/a.csv", lon, lat)
    gpx = flight("logs/a.gpx", lon, lat, heights=False)
    fixes = together(gpx, csv)
    with pytest.warns(InputWarning, match=r"logs/a\.gpx: duplicate of logs/a\.csv") as caught:
        out = drop_duplicate_flights(fixes)
    assert len(caught) == 1
    assert "heights above takeoff or ground" in str(caught[0].message)
    assert out["flight_id"].unique().tolist() == ["a.csv#1"]
    assert len(out) == N
    (record,) = out.attrs["geoexpose"]["duplicates"]
    assert record["flight_id"] == "a.gpx#1"
    assert record["duplicate_of"] == "a.csv#1"
    assert record["duplicate_of_source"] == "logs/a.csv"
    assert record["overlap_s"] == pytest.approx(N - 1)  # both fly the whole 299 s
    assert record["median_m"] == pytest.approx(0.0, abs=1e-6)
    assert record["fixes_dropped"] == N


def test_a_copy_with_the_same_aircraft_is_dropped():
    lon, lat = path_lonlat()
    fixes = together(
        flight("a.csv", lon, lat, drone="3NZCJ270048FFC"),
        flight("b.gpx", lon, lat, heights=False, drone=" 3nzcj270048ffc "),
        flight("c.kml", lon, lat, heights=False),  # no aircraft id: no conflict
    )
    found = find_duplicate_flights(fixes)
    pairs = set(zip(found["flight_id"], found["kept_flight_id"], strict=True))
    # b.gpx names the aircraft, c.kml does not: b.gpx is the richer of those two
    assert pairs == {("b.gpx#1", "a.csv#1"), ("c.kml#1", "a.csv#1"), ("c.kml#1", "b.gpx#1")}
    assert found.loc[found["kept_flight_id"] == "b.gpx#1", "kept_has"].tolist() == [
        "the aircraft id"
    ]
    out = quiet_drop(fixes)
    assert out["flight_id"].unique().tolist() == ["a.csv#1"]
    assert len(out) == N


def test_a_partial_copy_over_the_middle_half_is_dropped():
    lon, lat = path_lonlat()
    middle = slice(N // 4, 3 * N // 4)  # fixes 75 .. 224, seconds 75 .. 224
    csv = flight("a.csv", lon, lat)
    gpx = flight("a.gpx", lon[middle], lat[middle], start_s=N // 4, heights=False)
    found = find_duplicate_flights(together(csv, gpx))
    assert found["flight_id"].tolist() == ["a.gpx#1"]
    assert found["overlap_s"].iloc[0] == pytest.approx(3 * N // 4 - 1 - N // 4)  # 149 s
    out = quiet_drop(together(csv, gpx))
    assert out["flight_id"].unique().tolist() == ["a.csv#1"]
    assert len(out) == N


def test_a_richer_partial_copy_keeps_the_rest_of_the_poorer_one():
    # The copy with heights covers seconds 100 .. 199; the GPX the whole 0 .. 299.
    lon, lat = path_lonlat()
    part = slice(100, 200)
    csv = flight("a.csv", lon[part], lat[part], start_s=100)
    gpx = flight("a.gpx", lon, lat, heights=False)
    out = quiet_drop(together(csv, gpx), tolerance_s=5.0)
    kept_gpx = out.loc[out["flight_id"] == "a.gpx#1", "time_utc"]
    seconds = ((kept_gpx - T0).dt.total_seconds()).to_numpy()
    # dropped: the GPX fixes within [100 - 5, 199 + 5] s, that is 95 .. 204
    expected = np.r_[np.arange(0, 95), np.arange(205, N)]
    np.testing.assert_array_equal(np.sort(seconds), expected)
    assert (out["flight_id"] == "a.csv#1").sum() == 100
    entry_less = out.attrs["geoexpose"]["duplicates"][0]
    assert entry_less["fixes_dropped"] == 110


def test_a_noisy_copy_within_the_distance_is_dropped_and_its_distance_measured():
    lon, lat = path_lonlat()
    lon2, lat2, _ = GEOD.fwd(lon, lat, np.full(N, 90.0), np.full(N, 4.0))  # 4 m east
    fixes = together(flight("a.csv", lon, lat), flight("b.gpx", lon2, lat2, heights=False))
    found = find_duplicate_flights(fixes)
    assert found["median_m"].iloc[0] == pytest.approx(4.0, abs=0.01)
    assert find_duplicate_flights(fixes, max_distance_m=3.0).empty


def test_copies_as_rich_keep_the_first_path_whatever_the_order():
    lon, lat = path_lonlat()
    one, two = flight("x/b.csv", lon, lat), flight("x/a.csv", lon, lat)
    for fixes in (together(one, two), together(two, one)):
        out = quiet_drop(fixes)
        assert out["source"].unique().tolist() == ["x/a.csv"]


def test_more_fixes_win_between_otherwise_equal_copies():
    lon, lat = path_lonlat()
    dense = flight("b.csv", lon, lat)
    sparse = flight("a.csv", lon[::5], lat[::5])
    sparse["time_utc"] = T0 + pd.to_timedelta(np.arange(0, N, 5), unit="s")
    found = find_duplicate_flights(together(sparse, dense))
    assert found["kept_flight_id"].tolist() == ["b.csv#1"]
    assert found["kept_has"].tolist() == ["more fixes"]


def test_unordered_fixes_and_plain_frames_give_the_same_copies():
    lon, lat = path_lonlat()
    fixes = together(flight("a.csv", lon, lat), flight("b.gpx", lon, lat, heights=False))
    shuffled = fixes.sample(frac=1.0, random_state=1)
    plain = pd.DataFrame(shuffled.drop(columns="geometry"))
    plain["lon"], plain["lat"] = shuffled.geometry.x, shuffled.geometry.y
    for frame in (shuffled, plain):
        found = find_duplicate_flights(frame)
        assert found["flight_id"].tolist() == ["b.gpx#1"]
        out = quiet_drop(frame)
        assert len(out) == N
        assert set(out.index) == set(fixes.index[fixes["source"] == "a.csv"])


def test_the_input_is_not_modified():
    lon, lat = path_lonlat()
    fixes = together(flight("a.csv", lon, lat), flight("b.gpx", lon, lat, heights=False))
    entries = [
        {"path": "a.csv", "status": "read", "rows_kept": N, "flights": ["a.csv#1"], "notes": []},
        {"path": "b.gpx", "status": "read", "rows_kept": N, "flights": ["b.gpx#1"], "notes": []},
    ]
    for e in entries:
        e["dropped"] = {"no_fix": 0}
    fixes.attrs["geoexpose"] = {"files": entries}
    before = fixes.copy()
    out = quiet_drop(fixes)
    pd.testing.assert_frame_equal(fixes, before)
    assert fixes.attrs["geoexpose"]["files"][1]["status"] == "read"
    assert "duplicates" not in fixes.attrs["geoexpose"]
    gpx_entry = out.attrs["geoexpose"]["files"][1]
    assert gpx_entry["status"] == "skipped"
    assert gpx_entry["rows_kept"] == 0
    assert gpx_entry["dropped"] == {"no_fix": 0, "duplicate": N}
    assert gpx_entry["flights"] == []
    assert out.attrs["geoexpose"]["files"][0]["notes"] == ["also in b.gpx (duplicate skipped)"]


def test_bad_overlap_share_is_refused():
    lon, lat = path_lonlat()
    with pytest.raises(ValueError, match="min_overlap"):
        find_duplicate_flights(flight("a.csv", lon, lat), min_overlap=0)


# --- through read_tracks, from files -------------------------------------------------


def iso(seconds: float) -> str:
    when = datetime(2024, 6, 1, 12, 0, tzinfo=UTC) + timedelta(seconds=float(seconds))
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_read_tracks_counts_a_csv_and_its_gpx_once(tmp_path):
    lon, lat = path_lonlat(120)
    pairs = list(enumerate(zip(lon, lat, strict=True)))
    rows = ["lat,lon,time,alt"] + [f"{y:.8f},{x:.8f},{iso(i)},{20 + i % 7}" for i, (x, y) in pairs]
    (tmp_path / "f.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    points = "".join(
        f'<trkpt lat="{y:.8f}" lon="{x:.8f}"><time>{iso(i)}</time></trkpt>' for i, (x, y) in pairs
    )
    (tmp_path / "f.gpx").write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="t" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>",
        encoding="utf-8",
    )
    with pytest.warns(InputWarning, match=r"f\.gpx: duplicate of .*f\.csv"):
        fixes = read_tracks(tmp_path)
    assert fixes["flight_id"].unique().tolist() == ["f.csv#1"]
    assert len(fixes) == 120
    by_name = {Path(e["path"]).name: e for e in fixes.attrs["geoexpose"]["files"]}
    gpx = by_name["f.gpx"]
    assert gpx["status"] == "skipped"
    assert gpx["reason"].startswith(f"duplicate of {tmp_path / 'f.csv'} (same flight: 119 s")
    assert gpx["rows_read"] == gpx["rows_kept"] + sum(gpx["dropped"].values())
    assert gpx["dropped"]["duplicate"] == 120
    assert by_name["f.csv"]["status"] == "read"
    (record,) = fixes.attrs["geoexpose"]["duplicates"]
    assert record["duplicate_of"] == "f.csv#1"

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # keeping them, nothing to warn about
        kept = read_tracks(tmp_path, duplicates="keep")
    assert sorted(kept["flight_id"].unique()) == ["f.csv#1", "f.gpx#1"]
    assert len(kept) == 240
    with pytest.raises(UsageError, match="duplicates='dorp'"):
        read_tracks(tmp_path, duplicates="dorp")


# --- real files ------------------------------------------------------------------------


def test_real_airdata_csv_and_gpx_of_one_flight_count_once(realdata):
    folder = realdata / "tracks"
    csv = folder / "airdata_csv" / "Sep-5th-2021-07-23PM-Flight-Airdata.csv"
    other = folder / "airdata_csv" / "Sep-5th-2021-07-48PM-Flight-Airdata.csv"
    gpx = folder / "airdata_gpx" / "Sep-5th-2021-07-23PM-Flight-Airdata.gpx"
    alone = {p: read_tracks(p) for p in (csv, other, gpx)}  # one file: no copy possible
    with pytest.warns(InputWarning) as caught:
        fixes = read_tracks([gpx, csv, other])
    (message,) = [str(w.message) for w in caught if "duplicate" in str(w.message)]
    assert message.startswith(f"{gpx}: duplicate of {csv}")
    assert "gimbal angles, photo triggers" in message
    assert sorted(fixes["flight_id"].unique()) == [
        "Sep-5th-2021-07-23PM-Flight-Airdata.csv#1",
        "Sep-5th-2021-07-48PM-Flight-Airdata.csv#1",
    ]
    assert len(fixes) == len(alone[csv]) + len(alone[other])
    # what the CSV alone gives: heights, gimbal and photos all kept
    mine = fixes[fixes["source"] == str(csv)].reset_index(drop=True)
    pd.testing.assert_series_equal(mine["alt_agl_m"], alone[csv]["alt_agl_m"])
    assert int(mine["is_photo"].sum()) == int(alone[csv]["is_photo"].sum())

    # the overlap and the distance, worked out apart from the code under test
    c, g = alone[csv], alone[gpx]
    overlap_s = (
        min(c["time_utc"].max(), g["time_utc"].max())
        - max(c["time_utc"].min(), g["time_utc"].min())
    ).total_seconds()
    (record,) = fixes.attrs["geoexpose"]["duplicates"]
    assert record["overlap_s"] == pytest.approx(overlap_s, abs=0.1)
    on_csv = pd.DataFrame({"t": c["time_utc"], "x1": c.geometry.x, "y1": c.geometry.y})
    on_gpx = pd.DataFrame({"t": g["time_utc"], "x2": g.geometry.x, "y2": g.geometry.y})
    same_time = on_csv.merge(on_gpx, on="t")
    assert len(same_time) > 1000
    _, _, d = GEOD.inv(same_time["x1"], same_time["y1"], same_time["x2"], same_time["y2"])
    assert record["median_m"] <= float(np.median(d)) + 1.0
    assert record["fixes_dropped"] == len(g)

    by_path = {e["path"]: e for e in fixes.attrs["geoexpose"]["files"]}
    assert by_path[str(gpx)]["status"] == "skipped"
    assert by_path[str(gpx)]["dropped"]["duplicate"] == len(g)
    assert f"also in {gpx} (duplicate skipped)" in by_path[str(csv)]["notes"]
    assert by_path[str(other)]["status"] == "read"
    assert "duplicates" not in by_path[str(other)]


def test_real_copy_does_not_double_the_dwell(realdata):
    folder = realdata / "tracks"
    csv = folder / "airdata_csv" / "Sep-5th-2021-07-23PM-Flight-Airdata.csv"
    gpx = folder / "airdata_gpx" / "Sep-5th-2021-07-23PM-Flight-Airdata.gpx"
    alone = read_tracks(csv)
    with pytest.warns(InputWarning, match="duplicate of"):
        both = read_tracks([csv, gpx])
    home = alone.geometry.iloc[0]
    sites = gpd.GeoDataFrame(
        {"site_id": ["home"], "family": ["power"], "kind": ["substation"], "name": ["home"]},
        geometry=[home],
        crs="EPSG:4326",
    )
    sites["standoff_m"] = 100.0
    dwell_alone = gx.expose(sites, fixes=alone).sites["dwell_s"].iloc[0]
    dwell_both = gx.expose(sites, fixes=both).sites["dwell_s"].iloc[0]
    assert dwell_alone > 60  # the drone took off there
    assert dwell_both == pytest.approx(dwell_alone)
    assert gx.expose(sites, fixes=both).sites["n_flights"].iloc[0] == 1
