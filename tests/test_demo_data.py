"""The demo's synthetic inputs: AirData CSV tracks and a sites GeoJSON.

Every check reads the written files with csv, pandas, geopandas, shapely and pyproj
only, never with geoexpose's readers or exposure code.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from geoexpose.demo import DemoInputs, make_demo_inputs
from geoexpose.errors import OutputExistsError

# AirData UAV's 46-column imperial export, as in its real files (leading spaces included).
AIRDATA_COLUMNS = [
    "time(millisecond)",
    "datetime(utc)",
    "latitude",
    "longitude",
    "height_above_takeoff(feet)",
    "height_above_ground_at_drone_location(feet)",
    "ground_elevation_at_drone_location(feet)",
    "altitude_above_seaLevel(feet)",
    "height_sonar(feet)",
    "speed(mph)",
    "distance(feet)",
    "satellites",
    "gpslevel",
    "voltage(v)",
    "max_altitude(feet)",
    "max_ascent(feet)",
    "max_speed(mph)",
    "max_distance(feet)",
    " xSpeed(mph)",
    " ySpeed(mph)",
    " zSpeed(mph)",
    " compass_heading(degrees)",
    " pitch(degrees)",
    " roll(degrees)",
    "isPhoto",
    "isVideo",
    "rc_elevator",
    "rc_aileron",
    "rc_throttle",
    "rc_rudder",
    "gimbal_heading(degrees)",
    "gimbal_pitch(degrees)",
    "battery_percent",
    "voltageCell1",
    "voltageCell2",
    "voltageCell3",
    "voltageCell4",
    "voltageCell5",
    "voltageCell6",
    "current(A)",
    "battery_temperature(f)",
    "altitude(feet)",
    "ascent(feet)",
    "flycStateRaw",
    "flycState",
    "message",
]

FT = 0.3048
MPH = 0.44704
GEOD = Geod(ellps="WGS84")
DEPOT_STANDOFFS_M = (500.0, 620.0)  # the zone and the catalog's default for depots


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoInputs:
    return make_demo_inputs(tmp_path_factory.mktemp("demo") / "inputs")


@pytest.fixture(scope="module")
def tracks(demo: DemoInputs) -> list[pd.DataFrame]:
    return [pd.read_csv(p, dtype=str, keep_default_na=False) for p in demo.tracks]


@pytest.fixture(scope="module")
def sites(demo: DemoInputs) -> gpd.GeoDataFrame:
    return gpd.read_file(demo.sites)


def _num(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column]).to_numpy(dtype="float64")


def _local(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Azimuthal equidistant metres about the town: independent of geoexpose.projection."""
    crs = CRS.from_proj4("+proj=aeqd +lat_0=52 +lon_0=-35 +ellps=WGS84 +units=m")
    return Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(lon, lat)


def _local_geom(geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(_local(xy[:, 0], xy[:, 1])))


def _fixes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local x, y of the rows with a fix, and the mask of those rows."""
    lon, lat = _num(frame, "longitude"), _num(frame, "latitude")
    fix = (lon != 0) | (lat != 0)
    x, y = _local(lon[fix], lat[fix])
    return np.asarray(x), np.asarray(y), fix


def _site(sites: gpd.GeoDataFrame, kind: str) -> shapely.Geometry:
    return _local_geom(sites.loc[sites["kind"] == kind, "geometry"].iloc[0])


def test_files_exist_with_airdata_names(demo: DemoInputs) -> None:
    assert demo.sites.is_file() and demo.sites.suffix == ".geojson"
    assert len(demo.tracks) == 3
    pattern = re.compile(
        r"[A-Z][a-z]{2}-\d{1,2}(st|nd|rd|th)-\d{4}-\d{2}-\d{2}[AP]M-Flight-Airdata\.csv"
    )
    for path in demo.tracks:
        assert path.is_file() and path.parent == demo.sites.parent
        assert pattern.fullmatch(path.name), path.name
    assert demo.tracks[0].name == "Jun-12th-2026-10-02AM-Flight-Airdata.csv"
    assert "synthetic" in demo.description and "52.0 N, 35.0 W" in demo.description


def test_header_and_rows_are_airdatas(demo: DemoInputs) -> None:
    for path in demo.tracks:
        raw = path.read_bytes()
        assert b"\r" not in raw
        first_line = raw.split(b"\n", 1)[0].decode()
        assert first_line == ",".join(AIRDATA_COLUMNS)
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == AIRDATA_COLUMNS
        assert {len(row) for row in rows} == {46}
        body = np.array(rows[1:], dtype=object)
        for column in (" pitch(degrees)", " roll(degrees)"):  # as in AirData's files
            values = body[:, AIRDATA_COLUMNS.index(column)].astype(str)
            assert np.char.startswith(values, " ").all()
            assert np.isfinite(values.astype("float64")).all()


def test_clock_10_hz_whole_second_datetimes(demo: DemoInputs, tracks: list[pd.DataFrame]) -> None:
    for path, frame in zip(demo.tracks, tracks, strict=True):
        ms = _num(frame, "time(millisecond)").astype("int64")
        assert ms[0] == 0
        steps = np.diff(ms)
        expected_gaps = [30_000] if path == demo.tracks[0] else []
        assert steps[steps != 100].tolist() == expected_gaps
        assert frame["datetime(utc)"].str.fullmatch(r"2026-06-12 \d\d:\d\d:\d\d").all()
        when = pd.to_datetime(frame["datetime(utc)"], format="%Y-%m-%d %H:%M:%S")
        elapsed = (when - when.iloc[0]).dt.total_seconds().to_numpy()
        assert np.all(np.abs(elapsed - ms / 1000) < 1.0)
        assert np.all(np.diff(elapsed) >= 0)
        hour = when.iloc[0].strftime("%I-%M%p")
        assert f"-2026-{hour}-Flight" in path.name
        duration = ms[-1] / 1000
        assert 180 <= duration <= 600  # a few minutes


def test_first_rows_have_no_fix_only_in_the_inspection(tracks: list[pd.DataFrame]) -> None:
    inspection = tracks[0]
    zero = (_num(inspection, "latitude") == 0) & (_num(inspection, "longitude") == 0)
    assert np.flatnonzero(zero).tolist() == [0, 1, 2, 3, 4]
    assert (inspection["height_above_ground_at_drone_location(feet)"][:5] == "").all()
    assert (inspection["gpslevel"][:5] == "0").all()
    for frame in tracks[1:]:
        assert (_num(frame, "latitude") != 0).all()


def test_heights_are_feet(tracks: list[pd.DataFrame]) -> None:
    for frame in tracks:
        takeoff_m = _num(frame, "height_above_takeoff(feet)") * FT
        # Barometric heights come in 0.1 m steps: exact only with 1 ft = 0.3048 m.
        assert np.allclose(takeoff_m * 10, np.round(takeoff_m * 10), rtol=0, atol=1e-7)
        assert takeoff_m[0] == 0 and takeoff_m[-1] == 0
        fix = frame["height_above_ground_at_drone_location(feet)"] != ""
        agl = _num(frame[fix], "height_above_ground_at_drone_location(feet)")
        ground = _num(frame[fix], "ground_elevation_at_drone_location(feet)")
        msl = _num(frame[fix], "altitude_above_seaLevel(feet)")
        assert np.allclose(msl, ground + agl, rtol=0, atol=1e-6)
        assert frame["altitude(feet)"].equals(frame["altitude_above_seaLevel(feet)"])
        assert frame["ascent(feet)"].equals(frame["height_above_takeoff(feet)"])
    inspection = tracks[0]
    photo = inspection["isPhoto"] == "1"
    orbit_m = _num(inspection[photo], "height_above_takeoff(feet)") * FT
    assert np.allclose(orbit_m, 40.0, rtol=0, atol=1e-9)
    orbit_agl_m = _num(inspection[photo], "height_above_ground_at_drone_location(feet)") * FT
    assert np.all(np.abs(orbit_agl_m - 40.0) < 5.0)
    assert _num(inspection, "height_above_takeoff(feet)").max() * FT == pytest.approx(60.0)


def test_speeds_are_mph_of_the_written_positions(tracks: list[pd.DataFrame]) -> None:
    for frame in tracks:
        lon, lat = _num(frame, "longitude"), _num(frame, "latitude")
        ms = _num(frame, "time(millisecond)")
        _, _, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
        ok = (np.diff(ms) == 100) & (lat[:-1] != 0)
        speed = _num(frame, "speed(mph)")[1:] * MPH
        # DJI logs speeds in 0.1 m/s steps: within 0.05 m/s of the geodesic step speed.
        assert np.max(np.abs(speed[ok] - dist[ok] / 0.1)) <= 0.0501
        assert speed[ok].max() > 5.0
        north, east = _num(frame, " xSpeed(mph)"), _num(frame, " ySpeed(mph)")
        assert np.allclose(np.hypot(north, east), _num(frame, "speed(mph)"), atol=2e-6)


def test_inspection_orbits_the_substation_taking_photos(
    sites: gpd.GeoDataFrame, tracks: list[pd.DataFrame]
) -> None:
    x, y, fix = _fixes(tracks[0])
    photo = (tracks[0]["isPhoto"] == "1").to_numpy()[fix]
    substation = _site(sites, "substation")
    centre = shapely.get_coordinates(substation.centroid)[0]
    radius = np.hypot(x[photo] - centre[0], y[photo] - centre[1])
    assert photo.sum() >= 60
    assert np.all((radius > 55) & (radius < 65))
    distance = shapely.distance(substation, shapely.points(x[0], y[0]))
    assert 130 < distance < 170  # takes off ~150 m from the substation


def test_inspection_strays_over_the_depot(
    sites: gpd.GeoDataFrame, tracks: list[pd.DataFrame]
) -> None:
    depot = sites.loc[sites["kind"] == "depot", "geometry"].iloc[0]
    inspection = tracks[0]
    lon, lat = _num(inspection, "longitude"), _num(inspection, "latitude")
    over = shapely.contains_xy(depot, lon, lat)
    assert 5.0 <= over.sum() * 0.1 <= 30.0
    over_m = _num(inspection[over], "height_above_ground_at_drone_location(feet)") * FT
    assert np.all((over_m > 50) & (over_m < 65))
    x, y, fix = _fixes(inspection)
    local_depot = _local_geom(depot)
    photo = (inspection["isPhoto"] == "1").to_numpy()[fix]
    for standoff in DEPOT_STANDOFFS_M:
        inside = shapely.contains_xy(local_depot.buffer(standoff, quad_segs=64), x, y)
        assert 40.0 <= inside.sum() * 0.1 <= 90.0, standoff
        assert not (inside & photo).any()  # the orbit stays outside the zone
        runs = np.flatnonzero(np.diff(inside.astype("int8")))
        assert len(runs) == 2  # one pass: in once, out once
    for frame in tracks[1:]:
        fx, fy, _ = _fixes(frame)
        assert shapely.distance(local_depot, shapely.points(fx, fy)).min() > 800


def test_sites_have_the_six_families_and_kinds(sites: gpd.GeoDataFrame) -> None:
    assert sites.crs.to_epsg() == 4326
    assert list(sites.columns) == ["site_id", "family", "kind", "name", "operator", "geometry"]
    assert sites["site_id"].is_unique
    pairs = set(zip(sites["family"], sites["kind"], strict=True))
    assert {
        ("water", "water_works"),
        ("rail", "yard"),
        ("rail", "line"),
        ("power", "substation"),
        ("power", "transmission_line"),
        ("military", "depot"),
    } <= pairs
    types = dict(zip(sites["kind"], sites.geom_type, strict=True))
    assert types["line"] == types["transmission_line"] == "LineString"
    assert types["water_works"] == types["yard"] == types["substation"] == "Polygon"
    assert types["depot"] == "Polygon"
    lon, lat = shapely.get_coordinates(sites.geometry.array).T
    assert np.all(np.abs(lon + 35.0) < 0.05) and np.all(np.abs(lat - 52.0) < 0.05)


def test_site_sizes_and_layout(sites: gpd.GeoDataFrame) -> None:
    substation, depot = _site(sites, "substation"), _site(sites, "depot")
    assert substation.area == pytest.approx(80 * 60, rel=0.01)
    assert depot.area == pytest.approx(400 * 300, rel=0.01)
    assert 600 < substation.distance(depot) < 800
    assert _site(sites, "transmission_line").distance(substation) < 1.0
    assert _site(sites, "line").intersects(_site(sites, "yard"))


def test_same_bytes_every_run(demo: DemoInputs, tmp_path: Path) -> None:
    again = make_demo_inputs(tmp_path)
    repeat = make_demo_inputs(tmp_path, overwrite=True)  # over its own files
    names = [p.name for p in (demo.sites, *demo.tracks)]
    assert [p.name for p in (again.sites, *again.tracks)] == names
    for name in names:
        first = (demo.sites.parent / name).read_bytes()
        assert (tmp_path / name).read_bytes() == first
    assert repeat == again


def test_an_existing_file_is_never_replaced_without_overwrite(tmp_path: Path) -> None:
    photos = tmp_path / "photos" / "flight1"
    photos.mkdir(parents=True)
    mine = photos / "DJI_0001.JPG"  # a real photo, where the demo would write its own
    mine.write_bytes(b"my photo")
    other = photos / "DJI_9999.JPG"  # a name the demo never writes
    other.write_bytes(b"another photo")
    with pytest.raises(OutputExistsError, match=r"DJI_0001\.JPG"):
        make_demo_inputs(tmp_path)
    assert mine.read_bytes() == b"my photo"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [mine.name, other.name]
    # with overwrite the demo's own names are replaced, and nothing else is touched
    demo = make_demo_inputs(tmp_path, overwrite=True)
    assert mine in demo.photos and mine.read_bytes()[:2] == b"\xff\xd8"
    assert other.read_bytes() == b"another photo"


def test_a_link_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "website.csv"
    target.write_text("keep me")
    folder = tmp_path / "demo"
    folder.mkdir()
    name = make_demo_inputs(tmp_path / "probe").tracks[0].name
    (folder / name).symlink_to(target)
    make_demo_inputs(folder, overwrite=True)
    assert target.read_text() == "keep me" and not (folder / name).is_symlink()
