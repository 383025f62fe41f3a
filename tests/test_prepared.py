"""Prepared sites: checked once, the same answer as plain sites, in every engine."""

from __future__ import annotations

import pickle

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track
from pyproj import Geod

import geoexpose as gx

GEOD = Geod(ellps="WGS84")


def _scene():
    sites = make_sites(
        [
            shapely.Point(8.0, 50.0),
            shapely.box(8.01, 50.0, 8.012, 50.002),
            shapely.LineString([(8.02, 49.99), (8.02, 50.01)]),
        ],
        standoff_m=[100.0, 50.0, 30.0],
    )
    lon = np.linspace(7.99, 8.03, 4000)
    one = make_track(lon, np.full(lon.size, 50.0005), flight="f1")
    two = make_track(lon[::-1], np.full(lon.size, 50.0012), flight="f2", t0="2026-06-12T11:00:00Z")
    return sites, pd.concat([one, two], ignore_index=True)


def test_prepared_sites_give_the_answer_of_plain_sites():
    sites, fixes = _scene()
    prepared = gx.prepare_sites(sites)
    plain = gx.expose(sites, fixes)
    again = gx.expose(prepared, fixes)
    pd.testing.assert_frame_equal(plain.sites, again.sites)
    pd.testing.assert_frame_equal(plain.pairs, again.pairs)
    # the point's zone (100 m) holds the first flight (55.6 m north of it), not the
    # second (133 m); both cross the box and the line
    assert plain.sites["n_flights"].tolist() == [1, 2, 2]


def test_one_preparation_serves_batch_after_batch():
    sites, fixes = _scene()
    prepared = gx.prepare_sites(sites)
    whole = gx.expose(sites, fixes).pairs
    parts = [gx.expose(prepared, f).pairs for _, f in fixes.groupby("flight_id")]
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    # and through the streamed engine, which ships it to the batches once
    streamed = gx.expose_stream(prepared, fixes, batch_fixes=4000)
    assert streamed.stats["batches"] == 2
    pd.testing.assert_frame_equal(streamed.pairs, whole)


def test_preparation_checks_and_fills_once():
    sites, _ = _scene()
    bare = sites.drop(columns="standoff_m")
    prepared = gx.prepare_sites(bare)
    expected = gx.default_standoff("power", "substation")
    assert prepared.standoff_m.tolist() == [expected] * 3
    assert "standoff_m" not in bare  # the input is untouched
    assert gx.prepare_sites(prepared) is prepared
    np.testing.assert_array_equal(prepared.bounds, shapely.bounds(sites.geometry.to_numpy()))
    twice = pd.concat([sites, sites], ignore_index=True)
    with pytest.raises(gx.InputError, match="not unique"):
        gx.prepare_sites(twice)


def test_prepared_sites_keep_the_readers_record_and_their_crs():
    sites, fixes = _scene()
    sites.attrs["geoexpose"] = {"layers": [{"path": "sites.gpkg"}]}
    metric = sites.to_crs("EPSG:32632")
    prepared = gx.prepare_sites(metric)
    assert prepared.layers == [{"path": "sites.gpkg"}]
    assert prepared.sites.crs.equals("EPSG:4326") and not prepared.sites.attrs
    assert gx.expose(prepared, fixes).inputs["sites"] == [{"path": "sites.gpkg"}]


def test_zone_boxes_hold_every_zone():
    # sites at several latitudes; each zone's farthest points, found with pyproj.Geod,
    # lie inside the site's box
    lats = [0.0, 45.0, 70.0, 85.0]
    sites = make_sites([shapely.Point(10.0, lat) for lat in lats], standoff_m=500.0)
    boxes = gx.prepare_sites(sites).zone_boxes
    for box, lat in zip(boxes, lats, strict=True):
        az = np.arange(0.0, 360.0, 5.0)
        n = az.size
        lon, lat2, _ = GEOD.fwd(np.full(n, 10.0), np.full(n, lat), az, np.full(n, 500.0))
        assert shapely.contains_xy(box, lon, lat2).all()
        # and the box is tight: no more than 6 % wider than the zone in latitude
        height_m = GEOD.inv(10.0, shapely.bounds(box)[1], 10.0, shapely.bounds(box)[3])[2]
        assert height_m < 2 * 500.0 * 1.06


def test_prepared_sites_travel_to_workers():
    sites, fixes = _scene()
    prepared = gx.prepare_sites(sites)
    _ = prepared.zone_boxes  # made, then pickled with the rest
    copy = pickle.loads(pickle.dumps(prepared))
    assert isinstance(copy, gx.PreparedSites) and len(copy) == 3
    pd.testing.assert_frame_equal(gx.expose(copy, fixes).pairs, gx.expose(prepared, fixes).pairs)


def test_captures_against_prepared_sites():
    sites, fixes = _scene()
    site = sites.iloc[[1]]
    footprint = shapely.box(8.0105, 50.0005, 8.0115, 50.0015)
    captures = gpd.GeoDataFrame(
        {
            "capture_id": ["c1"],
            "path": ["c1.jpg"],
            "kind": ["orthomosaic"],
            "time_utc": pd.to_datetime(["2026-06-12T10:00:01Z"]),
            "flight_id": [None],
            "cam_lon": [np.nan],
            "cam_lat": [np.nan],
            "alt_agl_m": [np.nan],
            "yaw_deg": [np.nan],
            "pitch_deg": [np.nan],
            "roll_deg": [np.nan],
            "gsd_cm": [3.0],
            "flags": [""],
        },
        geometry=[footprint],
        crs="EPSG:4326",
    )
    plain = gx.expose(site, fixes, captures=captures)
    prepared = gx.expose(gx.prepare_sites(site), fixes, captures=captures)
    pd.testing.assert_frame_equal(plain.sites, prepared.sites)
    pd.testing.assert_frame_equal(plain.footprints, prepared.footprints)
    # the capture matches no flight (no camera position): a pair of its own, and no
    # flight more for the site than the two flights that cross it
    assert prepared.pairs["flight_id"].isna().sum() == 1
    assert prepared.sites[["n_flights", "n_captures"]].iloc[0].tolist() == [2, 1]
    # the imaged share, measured independently in a local metric CRS
    local = gpd.GeoSeries([footprint, site.geometry.iloc[0]], crs="EPSG:4326").to_crs(
        "+proj=tmerc +lon_0=8.011 +lat_0=50.001"
    )
    share = local.iloc[0].intersection(local.iloc[1]).area / local.iloc[1].area
    assert prepared.sites["imaged_fraction"].iloc[0] == pytest.approx(share, rel=1e-3)
