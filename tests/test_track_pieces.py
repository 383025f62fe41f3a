"""A large track file is streamed in pieces of fixes and adds up to one reading of it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.imagery.captures import TRIGGER_CAMERA, captures_from_poses
from geoexpose.scale import TrackFiles, expose_stream
from geoexpose.tracks import read_track_pieces
from tests._stream_workloads import assert_same_result

T0 = np.datetime64("2024-05-01T08:00:00")


def _steps(n: int) -> np.ndarray:
    """Seconds between fixes: 1 s, recording gaps, a new flight, a slow last flight."""
    dt = np.ones(n, dtype="int64")
    dt[::997] = 9  # recording gaps (over 5 s) within a flight
    dt[n // 3] = 400  # a new flight (over split_gap_s)
    # the last flight (the GPX's second <trk>) is mostly 2 s apart, so its limit is
    # 3 x 2 s and its 6 s step is no gap; a piece of its 1 s start alone has 5 s
    start = n // 2 + 7
    dt[start + n // 12 :] = 2
    dt[start + n // 24] = 6
    return dt


def write_gpx(path: Path, n: int, seed: int = 7) -> pd.DataFrame:
    """Write a drone app's GPX of ``n`` points in two <trk>; return the points."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.08, n))
    lon = 8.0 + 0.00009 * np.cumsum(np.cos(heading))
    lat = 50.0 + 0.00006 * np.cumsum(np.sin(heading))
    ele = 200 + np.minimum(np.arange(n) % 3000, 60) + rng.normal(0, 0.05, n)
    ele[:10] = 200.0  # the first flight starts still on the ground
    lon[:10], lat[:10] = lon[0], lat[0]
    t = T0 + np.cumsum(_steps(n)).astype("timedelta64[s]")
    stamps = np.datetime_as_string(t, unit="s")
    stamps[n // 2] = "2024-06-01T00:00:00"  # a lone fix ahead of its track
    lon[n // 4] += 0.05  # a GPS jump
    rows = [
        f'<trkpt lat="{a:.7f}" lon="{o:.7f}"><ele>{e:.2f}</ele><time>{s}Z</time></trkpt>'
        for a, o, e, s in zip(lat, lon, ele, stamps, strict=True)
    ]
    half = n // 2 + 7
    body = "".join(
        f"<trk><trkseg>{''.join(part)}</trkseg></trk>" for part in (rows[:half], rows[half:])
    )
    head = '<?xml version="1.0"?>\n<gpx version="1.1" creator="DJI Fly" '
    path.write_text(f'{head}xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>\n')
    return pd.DataFrame({"lon": lon, "lat": lat, "time": t})


def write_csv(path: Path, n: int, seed: int = 9) -> None:
    """Write a generic CSV track of ``n`` rows (heights above take-off)."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.08, n))
    lon = 8.0 + 0.00009 * np.cumsum(np.cos(heading))
    lat = 50.0 + 0.00006 * np.cumsum(np.sin(heading))
    t = T0 + np.cumsum(_steps(n)).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "time": np.char.add(np.datetime_as_string(t, unit="s"), "Z"),
            "latitude": lat.round(7),
            "longitude": lon.round(7),
            "altitude": (40 + 30 * np.sin(np.arange(n) / 300)).round(2),
        }
    )
    frame.to_csv(path, index=False)


def sites_along(points: pd.DataFrame, every: int = 211) -> pd.DataFrame:
    """Point sites beside the track every ``every`` fixes (many pairs cross pieces)."""
    near = points.iloc[::every]
    return gx.read_sites(
        pd.DataFrame(
            {
                "name": [f"S{i}" for i in range(len(near))],
                "family": "military",
                "lon": near["lon"].to_numpy() + 0.0004,
                "lat": near["lat"].to_numpy() - 0.0003,
            }
        )
    )


def photos(fixes) -> gx.ExposureResult:
    """Photos straight down at every 37th fix, without a flight (matched by time)."""
    shot = fixes.iloc[::37].reset_index(drop=True)
    xy = np.column_stack([shot.geometry.x, shot.geometry.y])
    poses = pd.DataFrame(
        {
            "capture_id": [f"IMG_{i:05d}.JPG" for i in range(len(shot))],
            "path": [f"IMG_{i:05d}.JPG" for i in range(len(shot))],
            "kind": "photo",
            "time_utc": shot["time_utc"].to_numpy(),
            "flight_id": None,
            "cam_lon": xy[:, 0],
            "cam_lat": xy[:, 1],
            "alt_agl_m": 60.0,
            "yaw_deg": 0.0,
            "pitch_deg": -90.0,
            "roll_deg": 0.0,
            "flags": "",
            "alt_ref": "takeoff",
        }
    )
    poses["time_utc"] = pd.to_datetime(poses["time_utc"], utc=True)
    return captures_from_poses(poses, TRIGGER_CAMERA)


@pytest.fixture(scope="module")
def gpx_file(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("pieces") / "long.gpx"
    points = write_gpx(path, 12_000)
    return path, points


def test_pieces_hold_the_fixes_of_one_reading(gpx_file) -> None:
    path, _ = gpx_file
    whole = gx.read_tracks(path, duplicates="keep")
    pieces = list(read_track_pieces(path, piece_fixes=1_000))
    assert len(pieces) == 12  # 11,998 fixes kept: a jump and a fix ahead dropped
    assert [p.entry is not None for p in pieces] == [True] + [False] * 11
    frames = []
    for piece in pieces:
        fixes = piece.fixes()
        repeated = fixes["flight_id"].isin(piece.continued)
        first = repeated & ~repeated.shift(1, fill_value=False)
        frames.append(fixes[~first.to_numpy()])
    joined = pd.concat(frames, ignore_index=True)
    joined = joined.sort_values(["flight_id", "time_utc"], kind="stable", ignore_index=True)
    assert len(joined) == len(whole) == 11_998
    for col in ("flight_id", "time_utc", "alt_agl_m", "alt_msl_m", "alt_ref"):
        assert joined[col].astype(str).tolist() == whole[col].astype(str).tolist(), col
    assert joined.geometry.geom_equals_exact(whole.geometry, 0).all()
    entry = pieces[0].entry
    assert entry is not None
    assert entry["flights"] == whole.attrs["geoexpose"]["files"][0]["flights"]
    assert entry["dropped"]["gps_jump"] == 1 and entry["dropped"]["time_ahead"] == 1


def test_the_gap_limit_is_the_whole_flights(gpx_file) -> None:
    path, _ = gpx_file
    pieces = list(read_track_pieces(path, piece_fixes=1_000, max_gap_s=5.0, gap_factor=3.0))
    limits: dict[str, float] = {}
    for piece in pieces:
        for flight, limit in piece.gap_limits.items():
            assert limits.setdefault(flight, limit) == limit  # the same in every piece
    # three flights: two 1 s apart (limit 5 s), the last mostly 2 s apart (3 x 2 s)
    assert sorted(limits.values()) == [5.0, 5.0, 6.0]


def _same_flights(expected, got) -> None:
    a = expected.flights.sort_values("flight_id", ignore_index=True)
    b = got.flights.sort_values("flight_id", ignore_index=True)
    assert a["flight_id"].tolist() == b["flight_id"].tolist()
    assert a["n_fixes"].tolist() == b["n_fixes"].tolist()
    for col in ("length_m", "duration_s", "max_agl_m"):
        np.testing.assert_allclose(b[col].astype(float), a[col].astype(float), rtol=1e-9)
    assert (a["first_seen_utc"] == b["first_seen_utc"]).all()
    assert (a["last_seen_utc"] == b["last_seen_utc"]).all()
    assert a.geometry.geom_equals_exact(b.geometry, 0).all()  # the same vertices


def test_a_gpx_in_pieces_gives_the_answer_of_one_call(gpx_file) -> None:
    path, points = gpx_file
    sites = sites_along(points)
    fixes = gx.read_tracks(path)
    expected = gx.expose(sites, fixes)
    assert expected.pairs["flight_id"].nunique() == 3
    got = expose_stream(sites, TrackFiles((str(path),)), piece_fixes=700, simplify_m=None)
    assert got.stats["pieces"] == got.stats["batches"] == 18
    assert got.stats["fixes"] == len(fixes)
    assert_same_result(expected, got)
    _same_flights(expected, got)
    # hand counts: every fix in one flight; the pairs' fixes are those inside a zone
    assert got.flights["n_fixes"].sum() == 11_998
    assert got.pairs["n_fixes"].min() >= 1


def test_photos_match_across_pieces_as_in_one_call(gpx_file) -> None:
    path, points = gpx_file
    sites = sites_along(points, every=503)
    fixes = gx.read_tracks(path)
    captures = photos(fixes)
    expected = gx.expose(sites, fixes, captures=captures)
    assert expected.captures["flight_id"].notna().all()
    got = expose_stream(sites, TrackFiles((str(path),)), captures=captures, piece_fixes=500)
    assert got.stats["pieces"] == 24
    assert_same_result(expected, got)


def test_a_csv_in_pieces_gives_the_answer_of_one_call(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    write_csv(path, 6_000)
    fixes = gx.read_tracks(path)
    xy = pd.DataFrame({"lon": fixes.geometry.x, "lat": fixes.geometry.y})
    sites = sites_along(xy, every=157)
    expected = gx.expose(sites, fixes)
    got = expose_stream(sites, [str(path)], piece_fixes=450, simplify_m=None)
    assert got.stats["pieces"] == 14
    assert_same_result(expected, got)
    _same_flights(expected, got)


def test_files_beside_a_pieced_one_stay_whole(gpx_file, tmp_path: Path) -> None:
    path, points = gpx_file
    small = tmp_path / "small.csv"
    write_csv(small, 300)
    sites = sites_along(points)
    fixes = gx.read_tracks([str(path), str(small)])
    expected = gx.expose(sites, fixes)
    got = expose_stream(sites, [str(path), str(small)], piece_fixes=2_000)
    assert got.stats["pieces"] == 6 and got.stats["batches"] == 7
    assert_same_result(expected, got)
    assert [e["path"] for e in got.inputs["tracks"]] == [str(path), str(small)]
