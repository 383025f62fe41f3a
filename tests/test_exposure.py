"""Exposure checked against answers computed independently with pyproj.Geod."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

import geoexpose as gx

GEOD = Geod(ellps="WGS84")


def geodesic_pass(site_lon, site_lat, offset_m, half_length_m, step_m, azimuth=90.0):
    """Fixes along the geodesic that passes ``offset_m`` north of a site, at right angles.

    The geodesic through C (offset_m due north of the site) leaving C at right angles
    to the site's bearing is tangent to the geodesic circle around the site, so C is
    the closest approach.
    """
    c_lon, c_lat, back = GEOD.fwd(site_lon, site_lat, 0.0, offset_m)
    heading = back + 90.0  # at right angles to the bearing back to the site
    s = np.arange(-half_length_m, half_length_m + step_m / 2, step_m)
    lon, lat, _ = GEOD.fwd(
        np.full(s.shape, c_lon), np.full(s.shape, c_lat), np.full(s.shape, heading), s
    )
    return np.asarray(lon), np.asarray(lat)


def time_within(lon, lat, site_lon, site_lat, radius_m, dt_s):
    """Seconds spent within radius_m of the site, from the geodesic distance of each
    fix and linear interpolation of the crossing between fixes."""
    _, _, d = GEOD.inv(lon, lat, np.full(lon.shape, site_lon), np.full(lat.shape, site_lat))
    inside = d <= radius_m
    total = 0.0
    for i in range(len(d) - 1):
        a, b = d[i] - radius_m, d[i + 1] - radius_m
        if inside[i] and inside[i + 1]:
            total += dt_s
        elif inside[i] != inside[i + 1]:
            u = a / (a - b)
            total += dt_s * (1 - u if not inside[i] else u)
    return total


@pytest.mark.parametrize(
    ("site_lon", "site_lat"),
    [
        (10.0, 50.0),  # mid-latitudes
        (-3.0, 0.0),  # on the equator, on a band's central meridian
        (5.99999, 45.0),  # on the edge between two bands
        (179.9995, -17.0),  # next to the antimeridian
        (20.0, 80.0),  # 80 degrees north
        (100.0, -89.5),  # half a degree from the south pole
    ],
)
def test_straight_pass_matches_geodesic(site_lon, site_lat):
    offset, standoff, speed, dt = 120.0, 300.0, 10.0, 0.1
    lon, lat = geodesic_pass(site_lon, site_lat, offset, 1500.0, speed * dt)
    fixes = make_track(lon, lat, dt_s=dt)
    sites = make_sites([shapely.Point(site_lon, site_lat)], standoff_m=standoff)
    result = gx.expose(sites, fixes)
    row = result.sites.iloc[0]
    expected_dwell = time_within(lon, lat, site_lon, site_lat, standoff, dt)
    analytic = 2 * np.sqrt(standoff**2 - offset**2) / speed
    assert expected_dwell == pytest.approx(analytic, rel=2e-3)
    assert row["dwell_s"] == pytest.approx(expected_dwell, rel=5e-3)
    _, _, d = GEOD.inv(lon, lat, np.full(lon.shape, site_lon), np.full(lat.shape, site_lat))
    assert row["min_distance_m"] == pytest.approx(d.min(), rel=5e-3)
    assert row["min_distance_m"] == pytest.approx(offset, rel=5e-3)
    assert row["n_flights"] == 1
    assert row["min_agl_m"] == 50.0
    inside_times = fixes["time_utc"][d <= standoff]
    assert row["first_seen_utc"] == inside_times.min()
    assert row["last_seen_utc"] == inside_times.max()


def test_pass_across_antimeridian_is_not_a_trip_round_the_world():
    # the track steps from 179.99... to -179.99...; the site sits on the antimeridian
    lon, lat = geodesic_pass(180.0, 10.0, 50.0, 800.0, 1.0)
    lon = (np.asarray(lon) + 180.0) % 360.0 - 180.0
    assert (lon > 179).any() and (lon < -179).any()
    fixes = make_track(lon, lat, dt_s=0.1)
    sites = make_sites([shapely.Point(-180.0, 10.0)], standoff_m=200.0)
    row = gx.expose(sites, fixes).sites.iloc[0]
    assert row["dwell_s"] == pytest.approx(2 * np.sqrt(200**2 - 50**2) / 10.0, rel=5e-3)
    assert row["min_distance_m"] == pytest.approx(50.0, rel=5e-3)


def test_orbit_inside_zone_counts_all_its_time():
    site_lon, site_lat, radius = 2.35, 48.85, 80.0
    n = 3600  # one fix a tenth of a second for six minutes
    az = np.linspace(0.0, 720.0, n)
    lon, lat, _ = GEOD.fwd(np.full(n, site_lon), np.full(n, site_lat), az, np.full(n, radius))
    fixes = make_track(lon, lat, dt_s=0.1, alt_agl_m=np.linspace(60.0, 30.0, n))
    sites = make_sites([shapely.Point(site_lon, site_lat)], standoff_m=100.0)
    row = gx.expose(sites, fixes).sites.iloc[0]
    assert row["dwell_s"] == pytest.approx((n - 1) * 0.1, rel=1e-9)
    assert row["min_distance_m"] == pytest.approx(radius, rel=5e-3)
    assert row["min_agl_m"] == pytest.approx(30.0)


def test_hover_inside_polygon_site():
    square = shapely.box(4.0, 52.0, 4.002, 52.0015)
    n = 600
    rng = np.random.default_rng(1)
    lon = 4.001 + rng.normal(0, 1e-6, n)
    lat = 52.00075 + rng.normal(0, 1e-6, n)
    fixes = make_track(lon, lat, dt_s=0.5, alt_agl_m=25.0)
    sites = make_sites([square], standoff_m=50.0)
    row = gx.expose(sites, fixes).sites.iloc[0]
    assert row["dwell_s"] == pytest.approx((n - 1) * 0.5)
    assert row["min_distance_m"] == 0.0
    assert row["min_agl_m"] == 25.0


def test_recording_gap_adds_no_dwell():
    site = (7.0, 47.0)
    n = 1000
    az = np.linspace(0.0, 360.0, n)
    lon, lat, _ = GEOD.fwd(np.full(n, site[0]), np.full(n, site[1]), az, np.full(n, 30.0))
    times = np.arange(n) * 0.1
    times[500:] += 30.0  # a 30-second hole in the recording, inside the zone
    fixes = make_track(lon, lat, times_s=times)
    sites = make_sites([shapely.Point(*site)], standoff_m=50.0)
    row = gx.expose(sites, fixes).sites.iloc[0]
    assert row["dwell_s"] == pytest.approx((n - 2) * 0.1, rel=1e-9)


def test_passage_between_sparse_fixes_is_counted():
    # one fix a second at 40 m/s: no fix falls inside a 15 m zone around a tower
    site = (11.0, 48.0)
    lon, lat = geodesic_pass(*site, offset_m=5.0, half_length_m=420.0, step_m=40.0)
    _, _, d = GEOD.inv(lon, lat, np.full(lon.shape, site[0]), np.full(lat.shape, site[1]))
    assert d.min() > 15.0
    fixes = make_track(lon, lat, dt_s=1.0)
    sites = make_sites([shapely.Point(*site)], standoff_m=15.0, kind="tower")
    row = gx.expose(sites, fixes).sites.iloc[0]
    assert row["n_flights"] == 1
    assert row["dwell_s"] == pytest.approx(2 * np.sqrt(15.0**2 - 5.0**2) / 40.0, rel=5e-3)
    assert row["min_distance_m"] == pytest.approx(d.min(), rel=5e-3)


def test_polygon_and_line_sites_zone_width():
    # a 100 m square site and a line site, passed straight across at 5 m/s
    lon0, lat0 = 8.0, 46.0
    corners = [GEOD.fwd(lon0, lat0, az, 50 * np.sqrt(2))[:2] for az in (45, 135, 225, 315)]
    square = shapely.Polygon(corners)
    line_lon, line_lat, _ = GEOD.fwd([lon0, lon0], [lat0 + 0.01, lat0 + 0.01], [0, 180], [500, 500])
    line = shapely.LineString(list(zip(line_lon, line_lat, strict=False)))
    # pass due east through the square's centre and across the line
    s = np.arange(-400.0, 400.0, 0.5)
    lon, lat, _ = GEOD.fwd(
        np.full(s.shape, lon0), np.full(s.shape, lat0), np.full(s.shape, 90.0), s
    )
    lon2, lat2, _ = GEOD.fwd(
        np.full(s.shape, lon0), np.full(s.shape, lat0 + 0.01), np.full(s.shape, 90.0), s
    )
    fixes = pd.concat(
        [make_track(lon, lat, dt_s=0.1, flight="a"), make_track(lon2, lat2, dt_s=0.1, flight="b")],
        ignore_index=True,
    )
    sites = make_sites([square, line], standoff_m=40.0)
    result = gx.expose(sites, fixes)
    sq, ln = result.sites.iloc[0], result.sites.iloc[1]
    assert sq["dwell_s"] == pytest.approx((100 + 2 * 40) / 5.0, rel=5e-3)
    assert ln["dwell_s"] == pytest.approx(2 * 40 / 5.0, rel=5e-3)
    assert sq["min_distance_m"] == 0.0 and ln["min_distance_m"] < 0.5
    assert len(result.pairs) == 2
    assert set(zip(result.pairs["flight_id"], result.pairs["site_id"], strict=False)) == {
        ("a", "s0"),
        ("b", "s1"),
    }


def test_pairs_add_up_per_site_and_untouched_sites_score_zero():
    site = (13.4, 52.5)
    lon, lat = geodesic_pass(*site, offset_m=20.0, half_length_m=300.0, step_m=1.0)
    far_lon, far_lat, _ = GEOD.fwd(site[0], site[1], 45.0, 5000.0)
    fixes = pd.concat(
        [
            make_track(lon, lat, flight="x", dt_s=0.1),
            make_track(lon[::-1], lat[::-1], flight="y", dt_s=0.2, t0="2026-06-12T11:00:00Z"),
        ],
        ignore_index=True,
    )
    sites = make_sites([shapely.Point(*site), shapely.Point(far_lon, far_lat)], standoff_m=100.0)
    result = gx.expose(sites, fixes)
    near, far = result.sites.iloc[0], result.sites.iloc[1]
    per_flight = result.pairs.set_index("flight_id")["dwell_s"]
    assert near["n_flights"] == 2
    assert near["dwell_s"] == pytest.approx(per_flight.sum())
    assert per_flight["y"] == pytest.approx(2 * per_flight["x"], rel=1e-3)
    assert near["last_seen_utc"] > pd.Timestamp("2026-06-12T11:00:00Z")
    assert far["n_flights"] == 0 and far["dwell_s"] == 0 and far["exposure_score"] == 0
    assert np.isnan(far["min_distance_m"])
    assert list(result.exposed["site_id"]) == ["s0"]


def test_inputs_are_not_modified_and_unsorted_fixes_are_fine():
    site = (1.0, 1.0)
    lon, lat = geodesic_pass(*site, offset_m=10.0, half_length_m=200.0, step_m=1.0)
    fixes = make_track(lon, lat)
    shuffled = fixes.sample(frac=1.0, random_state=3)
    before = shuffled.copy()
    sites = make_sites([shapely.Point(*site)], standoff_m=50.0)
    sites_before = sites.copy()
    a = gx.expose(sites, fixes).sites
    b = gx.expose(sites, shuffled).sites
    pd.testing.assert_frame_equal(shuffled, before)
    pd.testing.assert_frame_equal(sites, sites_before)
    assert a["dwell_s"].iloc[0] == pytest.approx(b["dwell_s"].iloc[0])


def test_sites_in_another_crs_give_the_same_answer():
    site = (-0.1, 51.5)
    lon, lat = geodesic_pass(*site, offset_m=30.0, half_length_m=300.0, step_m=1.0)
    fixes = make_track(lon, lat)
    sites = make_sites([shapely.Point(*site)], standoff_m=100.0)
    a = gx.expose(sites, fixes).sites.iloc[0]
    b = gx.expose(sites.to_crs(32630), fixes.to_crs(3857)).sites.iloc[0]
    assert b["dwell_s"] == pytest.approx(a["dwell_s"], rel=1e-5)
    assert b["min_distance_m"] == pytest.approx(a["min_distance_m"], rel=1e-6)


def test_bad_inputs_are_refused_with_a_message():
    sites = make_sites([shapely.Point(0.5, 0.5)])
    fixes = make_track([0.5, 0.50001], [0.5, 0.5])
    naive = fixes.assign(time_utc=fixes["time_utc"].dt.tz_localize(None))
    with pytest.raises(gx.InputError, match="timezone-aware"):
        gx.expose(sites, naive)
    with pytest.raises(gx.InputError, match="no CRS"):
        gx.expose(sites.set_crs(None, allow_override=True), fixes)
    with pytest.raises(gx.InputError, match="not unique"):
        gx.expose(sites.assign(site_id="same").iloc[[0, 0]], fixes)
    with pytest.raises(ValueError, match="missing column 'flight_id'"):
        gx.expose(sites, fixes.drop(columns="flight_id"))


def test_missing_standoff_comes_from_the_catalog():
    sites = make_sites([shapely.Point(0.5, 0.5)], kind="substation").drop(columns="standoff_m")
    fixes = make_track([0.5, 0.50001], [0.5, 0.5])
    out = gx.expose(sites, fixes).sites
    assert out["standoff_m"].iloc[0] == gx.default_standoff("power", "substation")


@settings(max_examples=25, deadline=None)
@given(
    offset=st.floats(0.0, 180.0),
    standoff=st.floats(20.0, 400.0),
    lat=st.floats(-85.0, 85.0),
    lon=st.floats(-180.0, 180.0),
)
def test_dwell_of_a_pass_is_its_geodesic_chord(offset, standoff, lat, lon):
    speed, dt = 12.0, 0.1
    lon_f, lat_f = geodesic_pass(lon, lat, offset, standoff + 100.0, speed * dt)
    fixes = make_track(lon_f, lat_f, dt_s=dt)
    sites = make_sites([shapely.Point(lon, lat)], standoff_m=standoff)
    row = gx.expose(sites, fixes).sites.iloc[0]
    expected = time_within(lon_f, lat_f, lon, lat, standoff, dt)
    assert row["dwell_s"] == pytest.approx(expected, rel=5e-3, abs=dt)


def test_flight_lines_durations_and_lengths():
    """One flight of 60 s along a meridian with a 30-s hole: duration, length, two parts."""
    lat = 50.0 + np.arange(61) * 1e-4  # about 11.1 m per second
    times = np.r_[np.arange(20), np.arange(50, 91)].astype(float)[:61]
    fixes = make_track(np.full(61, 10.0), lat, times_s=times, flight="f")
    flights = gx.expose(make_sites([shapely.Point(10.5, 50.0)]), fixes).flights
    row = flights.iloc[0]
    assert flights["duration_s"].dtype == "float64"
    assert row["duration_s"] == pytest.approx(times[-1] - times[0])
    # the segment across the 30-s gap is no part of the line
    _, _, steps = GEOD.inv(np.full(60, 10.0), lat[:-1], np.full(60, 10.0), lat[1:])
    expected = steps.sum() - steps[19]
    assert row["length_m"] == pytest.approx(expected, rel=1e-6)
    assert len(row.geometry.geoms) == 2


@pytest.mark.parametrize("standoff", [2e7, float("inf"), -1.0, float("nan")])
def test_an_absurd_standoff_in_a_frame_is_refused_before_any_geometry(standoff):
    sites = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "family": ["water", "water"], "standoff_m": [100.0, standoff]},
        geometry=[shapely.Point(10.0, 50.0), shapely.Point(10.1, 50.1)],
        crs="EPSG:4326",
    )
    with pytest.raises(
        gx.InputError, match=r"standoff_m is missing, negative or over 100000 m in row 1"
    ):
        gx.expose(sites)
