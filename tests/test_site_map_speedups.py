"""The quicker paths of the site maps: areas of interest, point encoding, text, groups."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.maps._encode import encode_geometries, encode_points_xy
from geoexpose.maps._html_text import DASH, text_array
from geoexpose.maps._layers import base_names
from geoexpose.maps._site_data import zone_boxes
from geoexpose.maps._tracks import FlightPieces, TrackClip, short_lines


def test_short_lines_outside_the_boxes_are_not_made():
    line = shapely.LineString([(float(x), 0.0) for x in range(30)])
    # 10 vertices each: x 0-9, 9-18, 18-27, 27-29; only the third reaches x 20-21
    lines, of = short_lines(np.array([line], dtype=object), 10, boxes=np.array([[20, -1, 21, 1]]))
    assert of.tolist() == [0]
    assert shapely.get_coordinates(lines)[:, 0].tolist() == [float(x) for x in range(18, 28)]
    none, of = short_lines(np.array([line], dtype=object), 10, boxes=np.array([[50, 5, 60, 6]]))
    assert len(none) == 0 and len(of) == 0


def test_track_clip_within_its_boxes_clips_as_without_them():
    rng = np.random.default_rng(3)
    walk = np.cumsum(rng.normal(0, 1e-4, (3000, 2)), axis=0) + np.array([8.0, 50.0])
    geoms = np.array(
        [shapely.MultiLineString([walk[:1500]]), shapely.MultiLineString([walk[1499:]])],
        dtype=object,
    )
    frame = pd.DataFrame({"flight_id": ["f", "f"], "height": ["low", "high"]})
    pieces = FlightPieces(geoms, frame, [{"color": "#000"}], np.zeros(2, dtype="int64"))
    pieces = pieces.with_levels()
    w, s, e, n = shapely.bounds(shapely.MultiPoint(walk[1200:1800]))
    area = np.array([[w, s, e, n]])
    full, part = TrackClip(pieces, n_max=16), TrackClip(pieces, n_max=16, boxes=area)
    assert len(part._base.lines) < len(full._base.lines) / 2  # most lines never made
    box = shapely.box(w + (e - w) / 4, s + (n - s) / 4, e - (e - w) / 4, n - (n - s) / 4)
    want, got = full.clip(box), part.clip(box)
    assert want is not None and got is not None and len(want.geoms) > 0
    assert shapely.equals_exact(want.geoms, got.geoms, tolerance=0).all()
    for a, b in zip(want.levels or [], got.levels or [], strict=True):
        assert shapely.equals_exact(a, b, tolerance=0).all()


def test_zone_boxes_hold_the_zone_and_pad_by_its_size():
    sites = gpd.GeoDataFrame(
        {"standoff_m": [100.0]}, geometry=[shapely.Point(8.0, 50.0)], crs="EPSG:4326"
    )
    (w, s, e, n), (pw, ps, pe, pn) = zone_boxes(sites)[0], zone_boxes(sites, 0.5)[0]
    assert np.isclose(w - pw, (e - w) / 2) and np.isclose(pn - n, (n - s) / 2)
    # 100 m north is 0.000899 degrees of latitude; east, that / cos(50 deg) = 0.001399
    assert 0.000899 < n - 50.0 < 0.00095 and 0.001399 < e - 8.0 < 0.00148
    assert np.isclose(pe - e, (e - w) / 2) and np.isclose(s - ps, (n - s) / 2)


def test_points_from_coordinates_encode_as_from_geometries():
    xy = np.array([[8.1, 50.2], [8.1000004, 50.2], [-3.5, 40.0]])
    owner = np.array([0, 0, 2])  # two MultiPoints and an empty feature between them
    want = encode_geometries(
        np.array(
            [shapely.MultiPoint(xy[:2]), shapely.MultiPoint(), shapely.MultiPoint(xy[2:])],
            dtype=object,
        )
    )
    got = encode_points_xy(xy, owner, 3)
    assert {k: v.tolist() for k, v in got.items()} == {k: v.tolist() for k, v in want.items()}
    assert got["fp"].tolist() == [2, 0, 1]
    assert got["d"].tolist() == [8_100_000, 50_200_000, 0, 0, -11_600_000, -10_200_000]


def test_numbers_and_times_as_text():
    assert text_array(pd.Series([1.25, 2.0, np.nan, -0.04]), "dwell_s").tolist() == [
        "1.2",
        "2.0",
        DASH,
        "-0.0",
    ]
    times = pd.Series(
        pd.to_datetime(["1969-12-31T23:59:59.5Z", "2026-06-12T10:02:03.9+02:00", None], utc=True)
    ).dt.tz_convert("Europe/Paris")
    want = ["1969-12-31 23:59:59 UTC", "2026-06-12 08:02:03 UTC", DASH]
    assert text_array(times, "first_seen_utc").tolist() == want
    naive = pd.Series(pd.to_datetime(["2026-06-12T08:02:03.9", None]))
    assert text_array(naive, "t").tolist() == ["2026-06-12 08:02:03 UTC", DASH]
    text = pd.Series(["2026-06-12T10:02:03.9+02:00", "not a time"])
    assert text_array(text, "time_utc").tolist() == ["2026-06-12 08:02:03 UTC", DASH]


def test_base_names_cut_each_path_once_and_keep_missing():
    paths = pd.Series(pd.Categorical(["/a/b/x.csv", "C:\\logs\\y.csv", None, "/a/b/x.csv"]))
    assert base_names(paths).tolist() == ["x.csv", "y.csv", None, "x.csv"]
    mixed = pd.Series(["a\nb/c", 3, float("nan"), "<b>/n"], dtype=object)
    # '.' does not match a line break, so the first keeps its folder, as the regex says
    assert base_names(mixed).tolist() == ["a\nb/c", "3", None, "n"]
