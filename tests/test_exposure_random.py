"""Exposure of random sites and flights against a brute-force reference.

The reference measures every fix against every site in an azimuthal equidistant
projection centred on the area (not geoexpose's bands), and integrates dwell on
the segments near a zone's edge cut into 400 steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track
from pyproj import CRS, Transformer

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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_flights_match_brute_force(seed):
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
    got = gx.expose(sites, fixes).pairs.set_index(["flight_id", "site_id"]).sort_index()
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
