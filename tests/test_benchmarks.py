"""The benchmark's generator, baseline, comparison and runner, on tiny workloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod
from shapely import Point, Polygon

from benchmarks._child import measure_memory
from benchmarks._compare import compare
from benchmarks._load import read_fixes_lonlat
from benchmarks.baseline import RESULT_COLUMNS, geopandas_exposure
from benchmarks.generate import generate
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    CRS_LONLAT,
    DWELL_S,
    FAMILIES,
    FAMILY,
    FIRST_SEEN_UTC,
    FIX_COLUMNS,
    FLIGHT_ID,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_FLIGHTS,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    TIME_DTYPE,
    TIME_UTC,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = {"sites": 2_000, "flights": 10, "fixes_per_flight": 600, "seed": 7}
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    work = generate(**TINY, data_dir=tmp_path_factory.mktemp("tiny"))
    return gpd.read_parquet(work.sites_path), gpd.read_parquet(work.fixes_path)


def test_generator_is_seeded_and_cached(tmp_path: Path) -> None:
    first = generate(**TINY, data_dir=tmp_path / "a")
    again = generate(**TINY, data_dir=tmp_path / "b")
    assert first.generated and again.generated
    for left, right in ((first.sites_path, again.sites_path), (first.fixes_path, again.fixes_path)):
        assert_geodataframe_equal(gpd.read_parquet(left), gpd.read_parquet(right))

    mtime = first.fixes_path.stat().st_mtime_ns
    cached = generate(**TINY, data_dir=tmp_path / "a")
    assert not cached.generated
    assert cached.fixes_path == first.fixes_path
    assert first.fixes_path.stat().st_mtime_ns == mtime

    other = generate(**{**TINY, "seed": 8}, data_dir=tmp_path / "a")
    assert other.sites_path != first.sites_path
    a, b = gpd.read_parquet(first.sites_path), gpd.read_parquet(other.sites_path)
    assert not a.geometry.geom_equals(b.geometry).all()


def test_sites_cover_every_family_and_geometry_type(tiny) -> None:
    sites, _ = tiny
    assert list(sites.columns) == SITE_COLUMNS
    assert len(sites) == TINY["sites"]
    assert sites.crs.equals(CRS_LONLAT)
    assert sites[SITE_ID].is_unique
    assert set(sites[FAMILY]) == {"water", "rail", "power", "military"}  # the national four
    assert set(sites[FAMILY]) <= set(FAMILIES)
    types = set(sites.geom_type)
    assert {"Point", "LineString", "Polygon"} <= types
    assert {"MultiPoint", "MultiLineString", "MultiPolygon"} & types
    assert sites.is_valid.all()
    assert sites[STANDOFF_M].between(15.0, 500.0).all()
    xmin, ymin, xmax, ymax = sites.total_bounds
    assert xmin > -126.0 and xmax < -66.0 and ymin > 24.0 and ymax < 50.0


def test_fixes_are_10_hz_multirotor_tracks(tiny) -> None:
    _, fixes = tiny
    assert list(fixes.columns) == FIX_COLUMNS
    assert str(fixes[TIME_UTC].dtype) == TIME_DTYPE
    assert fixes.crs.equals(CRS_LONLAT)
    assert (fixes.groupby(FLIGHT_ID).size() == TINY["fixes_per_flight"]).all()
    assert (fixes[ALT_REF] == "takeoff").all()
    assert (fixes[ALT_AGL_M] >= 0).all() and (fixes[ALT_AGL_M] <= 125).all()
    assert (fixes[ALT_MSL_M] >= fixes[ALT_AGL_M]).all()
    assert fixes[SOURCE].notna().all()

    same = (fixes[FLIGHT_ID].to_numpy()[1:] == fixes[FLIGHT_ID].to_numpy()[:-1]).nonzero()[0]
    dt = np.diff(fixes[TIME_UTC].array.asi8)[same] / 1e9
    gaps = np.unique(np.round(dt, 6), return_counts=True)
    assert gaps[0].tolist() == [0.1, 30.1]  # 10 Hz, and one flight with a 30-s gap
    assert gaps[1][1] == 1
    x, y = fixes.geometry.x.to_numpy(), fixes.geometry.y.to_numpy()
    _, _, step_m = GEOD.inv(x[same], y[same], x[same + 1], y[same + 1])
    speed = step_m[dt < 1.0] / dt[dt < 1.0]
    assert speed.max() < 20.0  # 15 m/s plus GNSS wander
    assert np.median(speed) > 3.0


def _track(lon0: float, lat0: float, azimuth: float, n: int, step_m: float) -> np.ndarray:
    """Lon/lat of n points step_m apart along a geodesic from (lon0, lat0)."""
    lon, lat, _ = GEOD.fwd(
        np.full(n, lon0), np.full(n, lat0), np.full(n, azimuth), np.arange(n) * step_m
    )
    return np.column_stack([lon, lat])


def _fixes(flight: str, xy: np.ndarray, seconds: np.ndarray, agl: np.ndarray) -> pd.DataFrame:
    start = pd.Timestamp("2024-05-01T12:00:00Z")
    return pd.DataFrame(
        {
            FLIGHT_ID: flight,
            TIME_UTC: (start + pd.to_timedelta(seconds, unit="s")).astype(TIME_DTYPE),
            ALT_AGL_M: agl,
            ALT_REF: "takeoff",
            ALT_MSL_M: agl + 100.0,
            SOURCE: "test",
            "geometry": [Point(p) for p in xy],
        }
    )


def test_baseline_matches_a_hand_computed_case() -> None:
    site_lon, site_lat, standoff = -100.0, 40.0, 100.0
    # Flight A passes 30 m north of the site, eastwards at 10 m/s, 10 Hz.
    lon0, lat0, _ = GEOD.fwd(site_lon, site_lat, 0.0, 30.0)
    west_lon, west_lat, _ = GEOD.fwd(lon0, lat0, 270.0, 300.0)
    a_xy = _track(west_lon, west_lat, 90.0, 601, 1.0)
    a_agl = np.linspace(80.0, 20.0, 601)
    a = _fixes("A", a_xy, np.arange(601) * 0.1, a_agl)
    # Flight B hovers 20 m south of the site, 1 Hz, with a 30-s recording gap.
    b_lon, b_lat, _ = GEOD.fwd(site_lon, site_lat, 180.0, 20.0)
    b_seconds = np.concatenate([np.arange(50.0), 80.0 + np.arange(50.0)])
    b = _fixes("B", np.tile([b_lon, b_lat], (100, 1)), b_seconds, np.full(100, 50.0))
    fixes = gpd.GeoDataFrame(pd.concat([b, a], ignore_index=True), crs=CRS_LONLAT)
    far = Polygon([(-90, 35), (-89.99, 35), (-89.99, 35.01), (-90, 35.01)])
    sites = gpd.GeoDataFrame(
        {
            SITE_ID: ["S1", "S2"],
            FAMILY: ["water", "power"],
            STANDOFF_M: [standoff, 50.0],
        },
        geometry=[Point(site_lon, site_lat), far],
        crs=CRS_LONLAT,
    )
    before = fixes.copy()
    result = geopandas_exposure(sites, fixes)
    assert_geodataframe_equal(fixes, before)  # inputs untouched

    got = result.sites.set_index(SITE_ID)
    assert got.loc["S2", N_FLIGHTS] == 0 and got.loc["S2", DWELL_S] == 0.0
    s1 = got.loc["S1"]
    assert s1[N_FLIGHTS] == 2
    _, _, dist = GEOD.inv(np.full(601, site_lon), np.full(601, site_lat), a_xy[:, 0], a_xy[:, 1])
    inside = dist <= standoff
    chord_s = 2.0 * np.sqrt(standoff**2 - 30.0**2) / 10.0  # 19.08 s at 10 m/s
    dwell_b = 49.0 + 49.0  # 1-s steps either side of the gap; the gap itself not counted
    assert s1[DWELL_S] == pytest.approx(chord_s + dwell_b, abs=0.25)
    assert s1[MIN_DISTANCE_M] == pytest.approx(20.0, rel=0.01)
    assert s1[MIN_AGL_M] == pytest.approx(a_agl[inside].min(), abs=0.15)
    first_a = a[TIME_UTC][inside].min()
    assert abs((s1[FIRST_SEEN_UTC] - b[TIME_UTC].min()).total_seconds()) < 1e-6
    assert abs((s1[LAST_SEEN_UTC] - b[TIME_UTC].max()).total_seconds()) < 1e-6

    pairs = result.pairs.set_index([FLIGHT_ID, SITE_ID])
    assert len(pairs) == 2
    assert pairs.loc[("B", "S1"), DWELL_S] == pytest.approx(dwell_b)
    assert pairs.loc[("A", "S1"), DWELL_S] == pytest.approx(chord_s, abs=0.25)
    assert pairs.loc[("A", "S1"), MIN_DISTANCE_M] == pytest.approx(30.0, rel=0.01)
    assert abs((pairs.loc[("A", "S1"), FIRST_SEEN_UTC] - first_a).total_seconds()) <= 0.15


def test_baseline_on_a_generated_workload(tiny) -> None:
    sites, fixes = tiny
    result = geopandas_exposure(sites, fixes)
    assert list(result.sites[SITE_ID]) == list(sites[SITE_ID])
    assert set(RESULT_COLUMNS) <= set(result.sites.columns)
    exposed = result.sites[result.sites[N_FLIGHTS] > 0]
    assert len(exposed) > 0  # inspection flights start next to a site
    # A fix inside a buffered zone is no farther than the standoff from the site.
    assert (exposed[MIN_DISTANCE_M] <= exposed[STANDOFF_M] + 1e-6).all()
    longest = TINY["fixes_per_flight"] * 0.1
    assert (exposed[DWELL_S] <= exposed[N_FLIGHTS] * longest + 1e-9).all()
    assert (exposed[FIRST_SEEN_UTC] <= exposed[LAST_SEEN_UTC]).all()
    assert result.pairs.groupby(SITE_ID)[FLIGHT_ID].nunique().sum() == exposed[N_FLIGHTS].sum()


def test_compare_counts_disagreements() -> None:
    t = pd.Timestamp("2024-01-01T00:00:00Z")
    a = pd.DataFrame(
        {
            SITE_ID: ["x", "y", "z"],
            N_FLIGHTS: [1, 2, 1],
            DWELL_S: [10.0, 100.0, 5.0],
            MIN_DISTANCE_M: [3.0, 0.0, 7.0],
            MIN_AGL_M: [30.0, 40.0, 50.0],
            FIRST_SEEN_UTC: [t, t, t],
            LAST_SEEN_UTC: [t, t, t],
        }
    )
    b = a.copy()
    b.loc[0, DWELL_S] = 10.9  # within 1 s + 2 %
    b.loc[1, DWELL_S] = 105.0  # outside: 5 s > 1 s + 2.1 s
    b.loc[2, N_FLIGHTS] = 0  # not exposed in b
    got = compare(a, b)
    assert (got.exposed_a, got.exposed_b, got.exposed_both) == (3, 2, 2)
    assert got.only_a == ["z"] and got.only_b == []
    assert got.within[DWELL_S] == pytest.approx(0.5)
    assert got.within[N_FLIGHTS] == 1.0
    assert got.max_diff[DWELL_S] == pytest.approx(5.0)


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc")
def test_measure_memory_sees_a_temporary_allocation() -> None:
    def allocate() -> int:
        block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
        return int(block.size)

    result, report = measure_memory(allocate)
    assert result == 200 * 2**20 // 8
    assert report["peak_reset"] is True
    assert 180.0 < report["peak_above_mb"] < 400.0
    assert report["run_s"] >= 0.0


def test_run_command_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    command = [sys.executable, "-m", "benchmarks.run", "--sites", "300", "--flights", "2"]
    command += ["--fixes-per-flight", "300", "--methods", "geopandas"]
    command += ["--data-dir", str(tmp_path), "--json", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "geopandas" in done.stdout and "peak run MB" in done.stdout
    summary = json.loads(out.read_text())
    assert summary["status"] == {"geopandas": "ok"}
    report = summary["reports"]["geopandas"]
    assert report["n_fixes"] == 600 and report["n_sites"] == 300
    assert report["run_s"] > 0 and report["peak_process_mb"] >= report["rss_before_mb"]


@pytest.mark.parametrize(("encoding", "crs"), [("geoarrow", "EPSG:4326"), ("WKB", "EPSG:3857")])
def test_read_fixes_lonlat_matches_geopandas(tmp_path: Path, tiny, encoding: str, crs: str) -> None:
    _, fixes = tiny
    path = tmp_path / "fixes.parquet"
    fixes.to_crs(crs).to_parquet(path, geometry_encoding=encoding, row_group_size=1000)
    got = read_fixes_lonlat(path, [FLIGHT_ID, TIME_UTC, ALT_AGL_M])
    assert list(got.columns) == [FLIGHT_ID, TIME_UTC, ALT_AGL_M, "lon", "lat"]
    assert not isinstance(got, gpd.GeoDataFrame)
    pd.testing.assert_frame_equal(
        got[[FLIGHT_ID, TIME_UTC, ALT_AGL_M]], pd.DataFrame(fixes[[FLIGHT_ID, TIME_UTC, ALT_AGL_M]])
    )
    np.testing.assert_allclose(got["lon"], fixes.geometry.x, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got["lat"], fixes.geometry.y, rtol=0, atol=1e-9)
