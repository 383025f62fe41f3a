"""Exposure of random sites and flights against a brute-force reference.

The reference measures every fix against every site in an azimuthal equidistant
projection centred on the area (not geoexpose's bands), and integrates dwell on
the segments near a zone's edge cut into 400 steps.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track
from pyproj import CRS, Geod, Transformer

import geoexpose as gx

LON0, LAT0 = -97.3, 35.4
_STEPS = 400


def _random_sites(rng, n):
    to_ll = Transformer.from_crs(_aeqd(), "EPSG:4326", always_xy=True)
    geoms = []
    for i in range(n):
        cx, cy = rng.uniform(-1500, 1500, 2)
        kind = i % 4
        if kind == 0:
            g = shapely.Point(cx, cy)
        elif kind == 1:
            g = shapely.LineString(
                np.column_stack([cx + rng.uniform(-400, 400, 4), cy + rng.uniform(-400, 400, 4)])
            )
        elif kind == 2:
            g = shapely.Polygon(
                shapely.box(cx, cy, cx + rng.uniform(30, 300), cy + rng.uniform(30, 300))
            )
            g = shapely.affinity.rotate(g, rng.uniform(0, 90))
        else:
            g = shapely.MultiPoint(
                np.column_stack([cx + rng.uniform(-50, 50, 3), cy + rng.uniform(-50, 50, 3)])
            )
        geoms.append(
            shapely.transform(g, lambda xy: np.column_stack(to_ll.transform(xy[:, 0], xy[:, 1])))
        )
    return geoms


def _aeqd():
    return CRS.from_proj4(f"+proj=aeqd +lat_0={LAT0} +lon_0={LON0} +ellps=WGS84 +units=m")


def _random_flight(rng, n, dt, speed, name):
    heading = np.cumsum(rng.normal(0, 0.15, n))
    x = np.cumsum(np.cos(heading) * speed * dt) + rng.uniform(-800, 800)
    y = np.cumsum(np.sin(heading) * speed * dt) + rng.uniform(-800, 800)
    lon, lat = Transformer.from_crs(_aeqd(), "EPSG:4326", always_xy=True).transform(x, y)
    alt = 40 + 20 * np.sin(np.arange(n) / 50.0)
    return make_track(lon, lat, dt_s=dt, flight=name, alt_agl_m=alt)


def _reference(sites, fixes, standoff):
    to_m = Transformer.from_crs("EPSG:4326", _aeqd(), always_xy=True)
    geoms = [
        shapely.transform(g, lambda xy: np.column_stack(to_m.transform(xy[:, 0], xy[:, 1])))
        for g in sites.geometry
    ]
    rows = []
    for fid, f in fixes.groupby("flight_id"):
        x, y = to_m.transform(f.geometry.x.to_numpy(), f.geometry.y.to_numpy())
        t = (f["time_utc"] - f["time_utc"].iloc[0]).dt.total_seconds().to_numpy()
        u = np.linspace(0, 1, _STEPS + 1)
        length = np.hypot(np.diff(x), np.diff(y))
        for j, g in enumerate(geoms):
            d = shapely.distance(g, shapely.points(x, y))
            inside = d <= standoff
            # share of each segment inside: sampled where the segment may cross the edge
            share = (inside[:-1] & inside[1:]).astype(float)
            near = np.flatnonzero(np.minimum(d[:-1], d[1:]) <= standoff + length)
            sx = (x[near, None] + u * (x[near + 1] - x[near])[:, None]).ravel()
            sy = (y[near, None] + u * (y[near + 1] - y[near])[:, None]).ravel()
            ds = shapely.distance(g, shapely.points(sx, sy)).reshape(-1, _STEPS + 1)
            share[near] = (ds <= standoff).mean(axis=1)
            dwell = float((share * np.diff(t)).sum())
            if inside.any() or dwell > 0:
                rows.append(
                    {
                        "flight_id": fid,
                        "site_id": f"s{j}",
                        "n_fixes": int(inside.sum()),
                        "dwell_s": dwell,
                        "min_distance_m": d[inside].min() if inside.any() else np.nan,
                        "min_agl_m": f["alt_agl_m"].to_numpy()[inside].min()
                        if inside.any()
                        else np.nan,
                    }
                )
    return pd.DataFrame(rows)


def _lonlat_form(fixes):
    """The same fixes as a plain DataFrame with lon/lat columns (the fast form)."""
    xy = shapely.get_coordinates(fixes.geometry.array)
    return pd.DataFrame(fixes.drop(columns="geometry")).assign(lon=xy[:, 0], lat=xy[:, 1])


@pytest.mark.parametrize(("seed", "form"), [(1, "points"), (2, "points"), (3, "lonlat")])
def test_random_flights_match_brute_force(seed, form):
    rng = np.random.default_rng(seed)
    standoff = 60.0
    sites = make_sites(_random_sites(rng, 40), standoff_m=standoff)
    fixes = pd.concat(
        [
            _random_flight(rng, 3000, 0.1, 12.0, "fast10hz"),
            _random_flight(rng, 600, 1.0, 9.0, "slow1hz"),
            _random_flight(rng, 4000, 0.1, 3.0, "hover"),
        ],
        ignore_index=True,
    )
    given = _lonlat_form(fixes) if form == "lonlat" else fixes
    got = gx.expose(sites, given).pairs.set_index(["flight_id", "site_id"]).sort_index()
    ref = _reference(sites, fixes, standoff).set_index(["flight_id", "site_id"]).sort_index()
    both = ref[ref["n_fixes"] > 0].index
    assert set(both) <= set(got.index)
    assert (got.loc[both, "n_fixes"] == ref.loc[both, "n_fixes"]).all()
    np.testing.assert_allclose(
        got.loc[both, "min_distance_m"], ref.loc[both, "min_distance_m"], rtol=2e-3, atol=0.05
    )
    np.testing.assert_allclose(got.loc[both, "min_agl_m"], ref.loc[both, "min_agl_m"])
    # dwell: the reference resolves an edge-crossing segment to 1/400 of its time
    common = ref.index.intersection(got.index)
    tol = 0.005 * ref.loc[common, "dwell_s"] + 0.02
    assert (np.abs(got.loc[common, "dwell_s"] - ref.loc[common, "dwell_s"]) <= tol).all()
    only_got = got.index.difference(ref.index)
    assert (got.loc[only_got, "dwell_s"] < 0.02).all()


def test_lonlat_form_gives_the_same_answer_shuffled():
    """Fixes as lon/lat columns, in any row order, give what Points in order give."""
    rng = np.random.default_rng(4)
    sites = make_sites(_random_sites(rng, 30), standoff_m=80.0)
    fixes = pd.concat(
        [
            _random_flight(rng, 2000, 0.1, 10.0, "a"),
            _random_flight(rng, 500, 1.0, 8.0, "b"),
        ],
        ignore_index=True,
    )
    shuffled = _lonlat_form(fixes).sample(frac=1.0, random_state=5)
    before = shuffled.copy()
    want = gx.expose(sites, fixes)
    got = gx.expose(sites, shuffled)
    pd.testing.assert_frame_equal(shuffled, before)  # the input is not modified
    assert len(want.pairs) > 0
    key = ["flight_id", "site_id"]
    pd.testing.assert_frame_equal(
        got.pairs.sort_values(key, ignore_index=True),
        want.pairs.sort_values(key, ignore_index=True),
    )
    assert got.fixes is shuffled
    assert len(got.flights) == 2
    np.testing.assert_allclose(
        got.flights.sort_values("flight_id")["length_m"],
        want.flights.sort_values("flight_id")["length_m"],
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lon": [200.0, 10.0]}, "lon must be degrees within +-180 (row 0 is 200.0)"),
        ({"lat": [45.0, np.nan]}, "lat must be degrees within +-90 (row 1 is nan)"),
        ({"lat": ["45", "46"]}, "lat must be numeric degrees"),
    ],
)
def test_lonlat_form_refuses_bad_coordinates(change, message):
    sites = make_sites([shapely.Point(10.0, 45.0)])
    fixes = pd.DataFrame(
        {
            "flight_id": "f",
            "time_utc": pd.to_datetime(["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"]),
            "alt_agl_m": 30.0,
            "lon": [10.0, 10.0001],
            "lat": [45.0, 45.0001],
        }
    ).assign(**change)
    with pytest.raises(gx.InputError, match=re.escape(message)):
        gx.expose(sites, fixes)


def test_a_dataframe_without_lonlat_is_refused():
    sites = make_sites([shapely.Point(10.0, 45.0)])
    frame = pd.DataFrame({"flight_id": ["f"], "time_utc": [pd.Timestamp("2024-01-01", tz="UTC")]})
    with pytest.raises(gx.InputError, match="or a DataFrame with 'lon' and 'lat' columns"):
        gx.expose(sites, frame)


def test_a_chunk_that_starts_across_the_antimeridian_finds_the_site():
    """A site just west of 180 degrees, a flight coming from the east side (-179.99...)."""
    geod = Geod(ellps="WGS84")
    site_lon, site_lat, standoff, offset, speed = 179.997, 10.0, 60.0, 30.0, 20.0
    north_lon, north_lat, _ = geod.fwd(site_lon, site_lat, 0.0, offset)
    start_lon, start_lat, _ = geod.fwd(north_lon, north_lat, 90.0, 400.0)
    assert start_lon < -179.99  # the flight starts on the other side
    n = 41
    lon, lat, _ = geod.fwd(
        np.full(n, start_lon), np.full(n, start_lat), np.full(n, -90.0), np.arange(n) * speed
    )
    fixes = make_track(lon, lat, dt_s=1.0)
    sites = make_sites([shapely.Point(site_lon, site_lat)], standoff_m=standoff)
    row = gx.expose(sites, fixes).sites.iloc[0]
    _, _, d = geod.inv(lon, lat, np.full(n, site_lon), np.full(n, site_lat))
    assert row["n_flights"] == 1
    assert row["min_distance_m"] == pytest.approx(d.min(), rel=2e-3)
    chord_s = 2 * np.sqrt(standoff**2 - offset**2) / speed
    assert row["dwell_s"] == pytest.approx(chord_s, rel=1e-2)
