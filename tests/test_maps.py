"""Tests of geoexpose.maps: self-contained, private HTML maps of exposure."""

from __future__ import annotations

import html.parser
import importlib.resources
import json
import re
from pathlib import Path
from types import SimpleNamespace

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from pyproj import Geod, Transformer

from geoexpose import maps
from geoexpose._html_inline import assert_self_contained, inline_assets
from geoexpose.errors import InputError, UsageError

GEOD = Geod(ellps="WGS84")
T0 = pd.Timestamp("2024-05-01T10:00:00Z")
LEAFLET_DIR = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"


def make_sites() -> gpd.GeoDataFrame:
    t = pd.to_datetime([T0, pd.NaT, T0, pd.NaT, T0, pd.NaT, pd.NaT], utc=True)
    return gpd.GeoDataFrame(
        {
            "site_id": ["W1", "W2", "R1", "P1", "M1", "M2", "U1"],
            "family": ["water", "water", "rail", "power", "military", "military", "bees"],
            "kind": [
                "water_works",
                "reservoir",
                "rail_yard",
                "substation",
                "barracks",
                "depot",
                "x",
            ],
            "name": ["Works <A&B>", "Reservoir", "Yard", "Sub", "Camp", None, "Hive"],
            "operator": [None, "Utility", None, None, None, None, None],
            "standoff_m": [100.0, 100.0, 50.0, 150.0, 500.0, 500.0, 50.0],
            "source": ["sites.gpkg"] * 7,
            "n_flights": [1, 0, 1, 0, 2, 0, 0],
            "n_captures": [3, 0, 0, 0, 1, 0, 0],
            "dwell_s": [123.4, 0.0, 5.5, 0.0, 60.0, 0.0, 0.0],
            "min_distance_m": [0.0, np.nan, 10.0, np.nan, 0.0, np.nan, np.nan],
            "min_agl_m": [40.2, np.nan, 80.0, np.nan, 30.0, np.nan, np.nan],
            "best_gsd_cm": [1.234, np.nan, np.nan, np.nan, 2.0, np.nan, np.nan],
            "imaged_area_m2": [1500.0, 0.0, 0.0, 0.0, 30.0, 0.0, 0.0],
            "imaged_fraction": [0.5, 0.0, 0.0, 0.0, 0.01, 0.0, 0.0],
            "first_seen_utc": t,
            "last_seen_utc": t,
            "exposure_score": [72.0, 0.0, 15.0, np.nan, 95.0, 0.0, 0.0],
        },
        geometry=[
            shapely.box(8.0, 50.0, 8.01, 50.01),
            shapely.Point(8.02, 50.0),
            shapely.LineString([(8.0, 50.02), (8.03, 50.02)]),
            shapely.Point(8.04, 50.01),
            shapely.box(8.05, 50.0, 8.06, 50.01),
            shapely.box(8.07, 50.0, 8.08, 50.01),
            shapely.Point(8.0, 49.99),
        ],
        crs="EPSG:4326",
    )


def make_fixes(lats: np.ndarray, agl: np.ndarray, seconds: np.ndarray, flight: str = "F1"):
    return gpd.GeoDataFrame(
        {
            "flight_id": flight,
            "time_utc": T0 + pd.to_timedelta(seconds, unit="s"),
            "alt_agl_m": agl,
            "alt_ref": "ground",
            "alt_msl_m": np.nan,
            "source": "track.csv",
        },
        geometry=shapely.points(np.full(len(lats), 8.0), lats),
        crs="EPSG:4326",
    )


def make_flights(fixes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for fid, group in fixes.groupby("flight_id"):
        rows.append(
            {
                "flight_id": fid,
                "source": "track.csv",
                "n_fixes": len(group),
                "first_seen_utc": group["time_utc"].min(),
                "last_seen_utc": group["time_utc"].max(),
                "duration_s": 42.0,
                "length_m": 777.0,
                "max_agl_m": float(group["alt_agl_m"].max()),
                "alt_ref": "ground",
                "geometry": shapely.LineString(shapely.get_coordinates(group.geometry.values)),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


AGL = np.array([10.0, 10, 10, 50, 50, 100, 100, 200, 200])
LATS = 50.0 + 0.0001 * np.arange(len(AGL))


@pytest.fixture()
def scene():
    fixes = make_fixes(LATS, AGL, np.arange(len(AGL), dtype=float))
    return make_sites(), make_flights(fixes), fixes


class Page(html.parser.HTMLParser):
    """Tags, src/href values, style text and script text of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.refs: list[str] = []
        self.styles: list[str] = []
        self.scripts: list[str] = []
        self._open: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._open = tag
        self.refs += [v or "" for k, v in attrs if k in ("src", "href")]
        self.styles += [v or "" for k, v in attrs if k == "style"]

    def handle_data(self, data):
        if self._open == "style":
            self.styles.append(data)
        elif self._open == "script":
            self.scripts.append(data)

    def handle_endtag(self, tag):
        self._open = None


def layers(text: str) -> list[dict]:
    """The GeoJSON data of every L.geoJSON layer on the page, in order."""
    found = re.findall(r"L\.geoJSON\((.*), \{$", text, flags=re.MULTILINE)
    return [json.loads(data) for data in found]


def site_features(text: str) -> dict[str, dict]:
    out = {}
    for layer in layers(text):
        for feature in layer["features"]:
            popup = feature["properties"].get("popup", "")
            got = re.search(r"<th>site_id</th><td>([^<]*)</td>", popup)
            if got:
                out[got.group(1)] = feature
    return out


def leaflet_code() -> str:
    return (LEAFLET_DIR / "leaflet.js").read_text("utf-8").split("//# sourceMappingURL")[0].strip()


def written(tmp_path: Path, *args, **kwargs) -> str:
    path = maps.write_map(maps.explore(*args, **kwargs), tmp_path / "map.html")
    assert path == tmp_path / "map.html"
    return path.read_text("utf-8")


def test_written_map_is_one_html_that_loads_nothing(tmp_path, scene):
    sites, flights, fixes = scene
    text = written(tmp_path, sites=sites, flights=flights, fixes=fixes)
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]
    page = Page(text)
    assert page.tags.count("html") == 1 and text.lstrip().startswith("<!DOCTYPE html>")
    assert "link" not in page.tags
    assert all(ref.startswith(("data:", "#")) for ref in page.refs), page.refs
    urls = [u for css in page.styles for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", css)]
    assert urls and all(u.startswith(("data:", "#")) for u in urls)
    assert not any("@import" in css for css in page.styles)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.IGNORECASE)
    # Leaflet itself is inline, whole, from the installed package.
    assert leaflet_code() in text and 'version="1.9.4"' in text
    # Every absolute URL left in the page is one of Leaflet's own (comments, SVG namespace).
    own = (LEAFLET_DIR / "leaflet.js").read_text("utf-8") + (LEAFLET_DIR / "leaflet.css").read_text(
        "utf-8"
    )
    for url in set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)<>]*", text)):
        assert url in own, url
    for absent in ("jquery", "bootstrap", "awesome", "fontawesome", "cdn."):
        assert absent not in text.lower()


def test_map_has_scale_canvas_max_zoom_and_no_tiles(tmp_path, scene):
    sites, flights, _ = scene
    text = written(tmp_path, sites=sites, flights=flights)
    assert "L.control.scale()" in text
    assert '"preferCanvas": true' in text and '"maxZoom": 19' in text
    assert "L.tileLayer" not in text and "openstreetmap" not in text.lower()
    assert "L.control.layers" in text


def test_osm_basemap_adds_tiles_and_privacy_note(tmp_path, scene):
    sites, flights, _ = scene
    path = maps.write_map(
        SimpleNamespace(sites=sites, flights=flights), tmp_path / "m.html", basemap="osm"
    )
    text = path.read_text("utf-8")
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in text
    note = re.search(r"<div class='gx-note'>([^<]*)</div>", text)
    assert note and "tile.openstreetmap.org" in note.group(1) and "sees the area" in note.group(1)


def test_one_layer_per_family_in_layer_control(tmp_path, scene):
    sites, flights, fixes = scene
    text = written(tmp_path, sites=sites, flights=flights, fixes=fixes)
    control = re.search(r"overlays :\s*\{(.*?)\}", text, flags=re.DOTALL).group(1)
    names = re.findall(r'"([^"]+)" :', control)
    assert names == [
        "water sites",
        "rail sites",
        "power sites",
        "military sites",
        "bees sites",
        "flights",
    ]
    feats = site_features(text)
    assert set(feats) == set(sites["site_id"])
    # Each family's layer holds exactly that family's sites.
    family_layers = layers(text)[:5]
    ids = [
        sorted(
            re.search(r"<th>site_id</th><td>(\w+)", f["properties"]["popup"]).group(1)
            for f in lay["features"]
        )
        for lay in family_layers
    ]
    assert ids == [["W1", "W2"], ["R1"], ["P1"], ["M1", "M2"], ["U1"]]


def test_popup_shows_metrics_and_escapes_names(tmp_path, scene):
    sites, flights, fixes = scene
    sites["source"] = sites["source"].where(sites["site_id"] != "W1", "/home/alice/x/w.gpkg")
    text = written(tmp_path, sites=sites, flights=flights, fixes=fixes)
    popup = site_features(text)["W1"]["properties"]["popup"]
    assert "<th>source</th><td>w.gpkg</td>" in popup and "alice" not in text  # no local paths
    assert "<th>dwell_s</th><td>123.4</td>" in popup
    assert "<th>best_gsd_cm</th><td>1.23</td>" in popup
    assert "<th>first_seen_utc</th><td>2024-05-01 10:00:00 UTC</td>" in popup
    assert popup.startswith("<b>Works &lt;A&amp;B&gt;</b>")
    assert "<A&B>" not in text
    unexposed = site_features(text)["W2"]["properties"]["popup"]
    assert "<th>min_distance_m</th><td>\u2013</td>" in unexposed
    assert "<th>first_seen_utc</th><td>\u2013</td>" in unexposed


def test_exposed_sites_filled_by_score_class(tmp_path, scene):
    sites, flights, _ = scene
    text = written(tmp_path, sites=sites, flights=flights, colors={"water": "#123456"})
    feats = {k: v["properties"] for k, v in site_features(text).items()}
    # Score classes of 20 points: 72 -> 60-80 (4th), 95 -> 80-100 (5th), 15 -> 0-20 (1st).
    assert feats["W1"]["fillColor"] == maps.SCORE_COLORS[3]
    assert feats["M1"]["fillColor"] == maps.SCORE_COLORS[4]
    assert (
        feats["R1"]["color"] == maps.SCORE_COLORS[0]
    )  # an exposed line is drawn in its class colour
    assert feats["W1"]["color"] == "#123456"  # outline: the family colour given
    assert (
        feats["W2"]["fillColor"] == "#123456"
        and feats["W2"]["fillOpacity"] < feats["W1"]["fillOpacity"]
    )
    for legend_color in maps.SCORE_COLORS:
        assert f"background:{legend_color}" in text


def test_family_colours_come_from_the_catalog(tmp_path, scene):
    catalog = pytest.importorskip("geoexpose.catalog").load_catalog()
    sites, _, _ = scene
    feats = {k: v["properties"] for k, v in site_features(written(tmp_path, sites=sites)).items()}
    assert feats["P1"]["color"] == catalog["power"].color
    assert feats["M2"]["color"] == catalog["military"].color


def test_coordinates_are_rounded_to_micro_degrees(tmp_path):
    rng = np.random.default_rng(3)
    lats = 50.0 + np.cumsum(rng.uniform(0.00005, 0.0001, 50))
    fixes = make_fixes(lats, np.full(50, 40.0), np.arange(50.0))
    fixes["geometry"] = shapely.points(8.0 + 0.0005 * (np.arange(50) % 2), lats)  # zigzag
    sites = make_sites()
    sites["geometry"] = sites.geometry.translate(1.23456789e-4, 9.87654321e-5)
    text = written(tmp_path, sites=sites, flights=make_flights(fixes), fixes=fixes)
    coords = np.concatenate(
        [
            shapely.get_coordinates(shapely.from_geojson(json.dumps(lay))).ravel()
            for lay in layers(text)
        ]
    )
    assert coords.size > 200
    assert np.all(np.abs(coords * 1e6 - np.round(coords * 1e6)) < 1e-6)


def expected_class(agl: float) -> int:
    if np.isnan(agl):
        return 4
    return 0 if agl < 30 else 1 if agl < 60 else 2 if agl < 120 else 3


def test_flight_coloured_by_height_class_per_segment(tmp_path):
    # Flight F1: 1 s steps; flight F2: a 60 s recording gap between fixes 2 and 3.
    f1 = make_fixes(LATS, AGL, np.arange(9.0))
    lats2 = LATS + 0.01
    agl2 = np.array([10.0, 10, np.nan, np.nan, 10, 10, 10, 10, 10])
    f2 = make_fixes(lats2, agl2, np.array([0, 1, 2, 62, 63, 64, 65, 66, 67.0]), "F2")
    fixes = pd.concat([f2, f1], ignore_index=True).iloc[::-1]  # unsorted on purpose
    text = written(tmp_path, flights=make_flights(fixes), fixes=fixes)
    pieces = layers(text)[-1]["features"]
    expected: dict[str, float] = {}
    for lats, agl, keep in ((LATS, AGL, np.ones(8, bool)), (lats2, agl2, np.arange(8) != 2)):
        for i in np.flatnonzero(keep):
            colour = maps.AGL_COLORS[expected_class((agl[i] + agl[i + 1]) / 2)]
            length = GEOD.line_length([8.0, 8.0], lats[i : i + 2])
            expected[colour] = expected.get(colour, 0.0) + length
    got = {
        f["properties"]["color"]: GEOD.geometry_length(
            shapely.from_geojson(json.dumps(f["geometry"]))
        )
        for f in pieces
    }
    assert set(got) == set(expected)
    for colour, length in expected.items():
        assert got[colour] == pytest.approx(length, abs=0.5)
    assert "gx-legend" in text and "unknown" in text


def test_long_track_is_simplified_within_a_metre(tmp_path):
    n = 100_000
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32632", always_xy=True)
    x0, y0 = to_utm.transform(9.0, 48.0)
    angle = np.linspace(0, 6 * np.pi, n)
    rng = np.random.default_rng(7)
    x = x0 + 400 * np.cos(angle) + np.linspace(0, 3000, n) + rng.normal(0, 0.3, n)
    y = y0 + 400 * np.sin(angle) + rng.normal(0, 0.3, n)
    lon, lat = to_utm.transform(x, y, direction="INVERSE")
    fixes = gpd.GeoDataFrame(
        {
            "flight_id": "F",
            "time_utc": T0 + pd.to_timedelta(np.arange(n) * 0.1, unit="s"),
            "alt_agl_m": 50 + 40 * np.sin(angle / 3),
        },
        geometry=shapely.points(lon, lat),
        crs="EPSG:4326",
    )
    flights = make_flights(fixes)
    text = written(tmp_path, flights=flights, fixes=fixes)
    size = (tmp_path / "map.html").stat().st_size
    assert size < 800_000, size  # raw, the two drawings of the track take over 4 MB
    lines, pieces = layers(text)[-2:]
    fix_points = shapely.points(x, y)
    for layer in (lines, pieces):
        drawn = shapely.from_geojson(json.dumps(layer))
        xy = np.column_stack(to_utm.transform(*shapely.get_coordinates(drawn).T))
        assert len(xy) < n / 10
        segs = shapely.linestrings(np.stack([xy[:-1], xy[1:]], axis=1))
        parts = shapely.get_parts(shapely.get_parts(drawn))
        ends = np.cumsum([len(shapely.get_coordinates(p)) for p in parts]) - 1
        segs = np.delete(segs, ends[:-1])  # no segment joins two separate pieces
        tree = shapely.STRtree(segs)
        near = tree.query(fix_points, predicate="dwithin", distance=maps.SIMPLIFY_M + 0.15)
        assert np.unique(near[0]).size == n  # every fix lies within a metre of the drawing


def test_inputs_are_not_modified(scene):
    sites, flights, fixes = scene
    before = [frame.copy() for frame in scene]
    maps.explore(sites=sites.iloc[::-1], flights=flights, fixes=fixes)
    for frame, copy in zip(scene, before, strict=True):
        assert_geodataframe_equal(frame, copy)


def test_result_object_and_keyword_override(tmp_path, scene):
    sites, flights, fixes = scene
    result = SimpleNamespace(sites=sites, flights=flights, fixes=None)
    text = written(tmp_path, result, fixes=fixes)
    assert len(layers(text)) == 5 + 2  # five family layers, flight lines, height pieces
    projected = sites.to_crs("EPSG:3857")
    feats = site_features(written(tmp_path, sites=projected))
    ring = shapely.get_coordinates(shapely.from_geojson(json.dumps(feats["W1"]["geometry"])))
    assert ring.min(axis=0) == pytest.approx([8.0, 50.0], abs=2e-6)


def test_bad_inputs_are_refused(scene):
    sites, _, _ = scene
    with pytest.raises(InputError, match="family"):
        maps.explore(sites=sites.drop(columns="family"))
    with pytest.raises(InputError, match="CRS"):
        maps.explore(sites=sites.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="GeoDataFrame"):
        maps.explore(sites=pd.DataFrame(sites.drop(columns="geometry")))
    with pytest.raises(UsageError, match="basemap"):
        maps.explore(sites=sites, basemap="google")
    with pytest.raises(UsageError, match="explore"):
        maps.write_map(maps.explore(sites=sites), "never.html", basemap="osm")


def test_unknown_asset_raises_and_leaves_existing_file_untouched(tmp_path, scene):
    target = tmp_path / "map.html"
    target.write_text("old map")
    m = maps.explore(sites=scene[0])
    folium.plugins.Fullscreen().add_to(m)  # a plugin that needs a script from a CDN
    with pytest.raises(UsageError, match="cannot be inlined"):
        maps.write_map(m, target)
    assert target.read_text() == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_failed_write_leaves_no_partial_file(tmp_path, scene, monkeypatch):
    target = tmp_path / "map.html"
    target.write_text("old map")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(maps.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        maps.write_map(maps.explore(sites=scene[0]), target)
    assert target.read_text() == "old map"
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]


def test_folium_icon_and_jquery_popups_are_refused():
    m = folium.Map(tiles=None)
    folium.Marker([50.0, 8.0], icon=folium.Icon(color="red")).add_to(m)
    with pytest.raises(UsageError, match="awesome-markers"):
        inline_assets(m.get_root().render())
    m = folium.Map(tiles=None)
    folium.CircleMarker([50.0, 8.0], popup="hello").add_to(m)
    with pytest.raises(UsageError, match="jQuery"):
        inline_assets(m.get_root().render())


def test_folium_heat_plugin_is_inlined_from_the_wheel(tmp_path):
    m = folium.Map(tiles=None, maxZoom=19)
    folium.plugins.HeatMap([[50.0, 8.0], [50.001, 8.001]]).add_to(m)
    path = maps.write_map(m, tmp_path / "heat.html")
    text = path.read_text("utf-8")
    heat = (importlib.resources.files("folium") / "templates" / "leaflet_heat.min.js").read_text(
        "utf-8"
    )
    assert heat.strip()[:200] in text and "L.heatLayer" in text
    assert not re.search(r"<script[^>]*\bsrc\s*=", text)


@pytest.mark.parametrize(
    "page",
    [
        '<html><script src="https://example.org/x.js"></script></html>',
        '<html><link rel="stylesheet" href="//example.org/x.css"/></html>',
        "<html><img src='http://example.org/a.png'></html>",
        "<html><style>b {background: url(https://example.org/a.png)}</style></html>",
        '<html><style>@import "x.css";</style></html>',
        '<html><div style="background:url(//example.org/a.png)"></div></html>',
    ],
)
def test_external_references_raise(page):
    with pytest.raises(UsageError):
        inline_assets(page)
    with pytest.raises(UsageError):
        assert_self_contained(page.replace('rel="stylesheet" ', ""))


def test_empty_map_is_written(tmp_path):
    text = written(tmp_path)
    assert leaflet_code() in text and "L.geoJSON(" not in text
    assert_self_contained(text)
