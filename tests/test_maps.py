"""Tests of geoexpose.maps: self-contained, private HTML maps of exposure.

What the maps do in a browser is in test_browser.py; here the pages are read as
text, and their data blocks decoded by tests/_map_scene.py.
"""

from __future__ import annotations

import base64
import html.parser
import importlib.resources
import io
import itertools
import re
import warnings
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
from PIL import Image
from pyproj import Geod, Transformer

from geoexpose import maps
from geoexpose.errors import InputError, OutputExistsError, UsageError
from geoexpose.maps._html_inline import assert_self_contained, inline_assets
from tests._map_scene import (
    T0,
    blocks,
    decode,
    layer_specs,
    make_captures,
    make_fixes,
    make_flights,
    make_sites,
    popups,
    write_photo,
)

GEOD = Geod(ellps="WGS84")
LEAFLET_DIR = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
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

    def handle_endtag(self, tag):
        self._open = None


def leaflet_code() -> str:
    return (LEAFLET_DIR / "leaflet.js").read_text("utf-8").split("//# sourceMappingURL")[0].strip()


def written(tmp_path: Path, *args, **kwargs) -> str:
    path = maps.write_map(maps.explore(*args, **kwargs), tmp_path / "map.html")
    assert path == tmp_path / "map.html"
    return path.read_text("utf-8")


def written_with_captures(tmp_path: Path, scene, captures, capture_sites) -> str:
    sites, flights, fixes = scene
    return written(
        tmp_path,
        sites=sites,
        flights=flights,
        fixes=fixes,
        captures=captures,
        capture_sites=capture_sites,
    )


def test_written_map_is_one_html_that_loads_nothing(tmp_path, scene):
    captures, capture_sites = make_captures(tmp_path)
    text = written_with_captures(tmp_path, scene, captures, capture_sites)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DJI_0001.JPG", "map.html"]
    page = Page(text)
    assert page.tags.count("html") == 1 and text.lstrip().startswith("<!DOCTYPE html>")
    assert "link" not in page.tags and "img" not in page.tags
    assert all(ref.startswith(("data:", "#")) for ref in page.refs), page.refs
    urls = [u for css in page.styles for u in re.findall(r"url\(\s*['\"]?([^'\")]+)", css)]
    assert urls and all(u.startswith(("data:", "#")) for u in urls)
    assert not any("@import" in css for css in page.styles)
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, flags=re.IGNORECASE)
    # Leaflet itself is inline, whole, from the installed package, and so is the runtime.
    assert leaflet_code() in text and 'version="1.9.4"' in text
    runtime = importlib.resources.files("geoexpose.maps") / "_map_runtime.js"
    assert runtime.read_text("utf-8").strip()[-500:] in text
    # Every absolute URL left in the page is one of Leaflet's own (comments, SVG namespace).
    own = (LEAFLET_DIR / "leaflet.js").read_text("utf-8") + (LEAFLET_DIR / "leaflet.css").read_text(
        "utf-8"
    )
    for url in set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'`)<>]*", text)):
        assert url in own, url
    for absent in ("jquery", "bootstrap", "awesome", "fontawesome", "cdn.", "file:", "alice"):
        assert absent not in text.lower()
    assert str(tmp_path) not in text  # no local folder, not even of the photos


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


def footprints(specs: dict[str, dict]) -> dict:
    """The two footprint layers as one: their table, each capture's geometry and colour."""
    parts = {n: specs[n] for n in maps.FOOTPRINT_LAYERS if n in specs}
    table = next(iter(parts.values()))["table"]
    geoms: list = [None] * len(table["title"])
    colors: list = [None] * len(table["title"])
    for part in parts.values():
        assert part["table"] == table
        for row, g, s in zip(part["rows"], decode(part["g"]), part["s"], strict=True):
            geoms[row], colors[row] = g, part["styles"][s]["color"]
    return {"table": table, "geoms": geoms, "colors": colors, "on": _shown_at_first(specs)}


def _shown_at_first(specs: dict[str, dict]) -> dict[str, bool]:
    return {n: specs[n]["shown"] for n in maps.FOOTPRINT_LAYERS if n in specs}


def test_one_layer_per_family_then_flights_and_captures(tmp_path, scene):
    sites = scene[0]
    captures, capture_sites = make_captures(tmp_path)
    text = written_with_captures(tmp_path, scene, captures, capture_sites)
    specs = layer_specs(text)
    assert list(specs) == [
        "water sites",
        "rail sites",
        "power sites",
        "military sites",
        "bees sites",
        "flights",
        *maps.FOOTPRINT_LAYERS,  # c1 shows a site, c2 and c3 none
        "camera positions",
    ]
    # Each family's layer holds exactly that family's sites, each drawn where it is.
    ids = {name: sorted(popups(spec)) for name, spec in specs.items() if name.endswith(" sites")}
    assert ids == {
        "water sites": ["W1", "W2"],
        "rail sites": ["R1"],
        "power sites": ["P1"],
        "military sites": ["M1", "M2"],
        "bees sites": ["U1"],
    }
    by_id = sites.set_index("site_id").geometry
    for name, spec in specs.items():
        if name.endswith(" sites"):
            for sid, geom in zip(spec["table"]["ids"], decode(spec["g"]), strict=True):
                assert shapely.hausdorff_distance(geom, by_id[sid]) < 2e-6, sid
    # One colour per family: every outline in a family's layer has that colour.
    colours = maps.family_colors(["water", "rail", "power", "military", "bees"], None)
    for fam, colour in colours.items():
        spec = specs[f"{fam} sites"]
        outlines = {spec["styles"][s]["color"] for s in spec["s"]}
        polygonal = [g.geom_type != "LineString" for g in decode(spec["g"])]
        assert all(
            spec["styles"][s]["color"] == colour
            for s, p in zip(spec["s"], polygonal, strict=True)
            if p
        ), (fam, outlines)
    assert len(set(colours.values())) == len(colours)


def test_popup_shows_metrics_as_text_and_no_local_paths(tmp_path, scene):
    sites, flights, fixes = scene
    sites["source"] = sites["source"].where(sites["site_id"] != "W1", "/home/alice/x/w.gpkg")
    text = written(tmp_path, sites=sites, flights=flights, fixes=fixes)
    water = layer_specs(text)["water sites"]
    w1 = popups(water)["W1"]
    assert w1["source"] == "w.gpkg" and "alice" not in text  # no local paths
    assert w1["dwell_s"] == "123.4"
    assert w1["best_gsd_cm"] == "1.23"
    assert w1["first_seen_utc"] == "2024-05-01 10:00:00 UTC"
    titles = dict(zip(water["table"]["ids"], water["table"]["title"], strict=True))
    assert titles["W1"] == "Works <A&B>"  # text, which the runtime never parses as HTML
    assert "<A&B>" not in text and "\\u003cA&B>" in text  # and no "<" inside a script
    w2 = popups(water)["W2"]
    assert w2["min_distance_m"] == "\u2013" and w2["first_seen_utc"] == "\u2013"


def test_names_that_look_like_templates_stay_as_they_are(tmp_path, scene):
    # folium runs rendered text through Jinja again: "{{ 7*7 }}" must not become 49.
    sites, flights, _ = scene
    sites.loc[sites["site_id"] == "W1", "name"] = "{{ 7*7 }} {% if 1 %}x{% endif %}"
    sites.loc[sites["site_id"] == "U1", "family"] = "{{ 6*6 }}"
    text = written(tmp_path, sites=sites, flights=flights)
    specs = layer_specs(text)
    water = specs["water sites"]["table"]
    assert dict(zip(water["ids"], water["title"], strict=True))["W1"] == (
        "{{ 7*7 }} {% if 1 %}x{% endif %}"
    )
    # the layer control shows it as it reads (with zero-width spaces after the braces)
    assert "{{ 6*6 }} sites" in {name.replace("\u200b", "") for name in specs}
    legend = re.search(r"<details class='gx-legend' open>.*?</details>", text, re.S).group(0)
    assert "{{ 6*6 }}" in legend
    bare = re.sub(r"[0-9a-f]{32}", "ID", text)  # folium's random ids may hold "49"
    assert "49 " not in bare and "36 sites" not in bare and ">36<" not in bare


def test_exposed_sites_filled_by_score_class(tmp_path, scene):
    sites, flights, _ = scene
    text = written(tmp_path, sites=sites, flights=flights, colors={"water": "#123456"})
    style = {}
    for name, spec in layer_specs(text).items():
        if name.endswith(" sites"):
            for sid, s in zip(spec["table"]["ids"], spec["s"], strict=True):
                style[sid] = spec["styles"][s]
    # Score classes of 20 points: 72 -> 60-80 (4th), 95 -> 80-100 (5th), 15 -> 0-20 (1st).
    assert style["W1"]["fillColor"] == maps.SCORE_COLORS[3]
    assert style["M1"]["fillColor"] == maps.SCORE_COLORS[4]
    # An exposed line keeps its family's colour, in a casing of its class colour.
    assert style["R1"]["color"] == maps.family_colors(["rail"], None)["rail"]
    assert style["R1"]["casing"] == maps.SCORE_COLORS[0]
    assert style["W1"]["casing"] == ""  # a polygon: filled
    assert style["W1"]["color"] == "#123456"  # outline: the family colour given
    assert style["W2"]["fillColor"] == "#123456"
    assert style["W2"]["fillOpacity"] < style["W1"]["fillOpacity"]
    for legend_color in maps.SCORE_COLORS:
        assert f"background:{legend_color}" in text


def test_family_colours_come_from_the_catalog(tmp_path, scene):
    catalog = pytest.importorskip("geoexpose.sites.catalog").load_catalog()
    sites, _, _ = scene
    specs = layer_specs(written(tmp_path, sites=sites))
    assert {specs["power sites"]["styles"][s]["color"] for s in specs["power sites"]["s"]} == {
        catalog["power"].color
    }
    assert catalog["military"].color in {st["color"] for st in specs["military sites"]["styles"]}


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
    spec = layer_specs(text)["flights"]
    expected: dict[tuple[str, str], float] = {}
    for fid, lats, agl, keep in (
        ("F1", LATS, AGL, np.ones(8, bool)),
        ("F2", lats2, agl2, np.arange(8) != 2),
    ):
        for i in np.flatnonzero(keep):
            colour = maps.AGL_COLORS[expected_class((agl[i] + agl[i + 1]) / 2)]
            length = GEOD.line_length([8.0, 8.0], lats[i : i + 2])
            expected[fid, colour] = expected.get((fid, colour), 0.0) + length
    finest = spec["decoded"][0]
    got = {
        (fid, spec["styles"][s]["color"]): GEOD.geometry_length(geom)
        for fid, s, geom in zip(spec["table"]["title"], spec["s"], finest, strict=True)
    }
    assert set(got) == set(expected)
    for key, length in expected.items():
        assert got[key] == pytest.approx(length, abs=0.5)
    # The popup of a piece is its flight's row, with the height class.
    rows = dict(zip(spec["table"]["title"], spec["table"]["rows"], strict=True))
    f1_row = dict(zip(spec["table"]["cols"], rows["F1"], strict=True))
    assert f1_row["duration_s"] == "42.0" and f1_row["source"] == "track.csv"
    assert "gx-legend" in text and "unknown" in text


def test_long_track_is_drawn_per_zoom_within_each_levels_tolerance(tmp_path):
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
    text = written(tmp_path, flights=make_flights(fixes), fixes=fixes)
    size = (tmp_path / "map.html").stat().st_size
    assert size < 1_000_000, size  # raw, the track takes over 4 MB as GeoJSON
    spec = layer_specs(text)["flights"]
    tolerances = [lev["tol_m"] for lev in spec["levels"]]
    assert tolerances == sorted(tolerances) and tolerances[0] == maps.SIMPLIFY_M
    sample = rng.choice(n, 5000, replace=False)
    points = shapely.points(x[sample], y[sample])
    vertices = []
    for k, level in enumerate(spec["decoded"]):
        drawn = shapely.MultiLineString(
            [part for g in level if g is not None for part in shapely.get_parts(g)]
        )
        xy = np.column_stack(to_utm.transform(*shapely.get_coordinates(drawn).T))
        vertices.append(len(xy))
        metric = shapely.transform(drawn, lambda c: np.column_stack(to_utm.transform(*c.T)))
        # level k is simplified from level k-1: within the sum of the tolerances so far
        bound = sum(tolerances[: k + 1]) + 0.15
        assert shapely.distance(metric, points).max() < bound, k
    assert vertices[0] < n / 10
    assert all(a >= b for a, b in itertools.pairwise(vertices))
    assert vertices[-1] < vertices[0] / 20


def test_captures_have_footprints_cameras_and_popups_with_thumbnails(tmp_path, scene):
    captures, capture_sites = make_captures(tmp_path)
    text = written_with_captures(tmp_path, scene, captures, capture_sites)
    specs = layer_specs(text)
    foot, cams = footprints(specs), specs["camera positions"]
    assert foot["table"] is cams["table"] or foot["table"] == cams["table"]
    for got, want in zip(foot["geoms"], captures.geometry, strict=True):
        assert shapely.hausdorff_distance(got, want) < 2e-6
    # The footprint that shows a site is drawn at first; the others are a layer off.
    assert foot["on"] == {maps.FOOTPRINT_LAYERS[0]: True, maps.FOOTPRINT_LAYERS[1]: False}
    cam_points = decode(cams["g"])
    assert cam_points[2] is None  # no camera position known
    assert cam_points[0].equals_exact(shapely.Point(8.005, 50.005), 1e-7)
    rows = popups(foot)
    assert foot["table"]["title"] == ["DJI_0001.JPG", "DJI_0002.JPG", "V.MP4"]
    assert rows["c1"]["gsd_cm"] == "1.65" and rows["c1"]["time_utc"] == "2024-05-01 10:00:00 UTC"
    assert rows["c1"]["sites shown"] == "W1" and rows["c2"]["sites shown"] == "\u2013"
    # A footprint that shows a site is drawn in the second colour.
    colours = foot["colors"]
    assert colours == [maps.CAPTURE_COLORS[1], maps.CAPTURE_COLORS[0], maps.CAPTURE_COLORS[0]]
    # Only the readable photo has a thumbnail: a small JPEG of its colour.
    thumbs = blocks(text)[foot["table"]["thumbs"]]
    assert set(thumbs["of"]) == {"0"} and len(thumbs["uris"]) == 1
    uri = thumbs["uris"][thumbs["of"]["0"]]
    assert uri.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert image.format == "JPEG" and max(image.size) == 160 and image.size == (160, 120)
    assert np.abs(np.asarray(image).reshape(-1, 3).mean(axis=0) - (200, 30, 30)).max() < 8


def test_thumbnail_budget_keeps_captures_that_show_a_site_first(tmp_path):
    from geoexpose.maps._thumbnails import Thumbnails

    n = 6
    paths = [write_photo(tmp_path / f"p{i}.jpg", (10 * i, 100, 50)) for i in range(n)]
    captures = gpd.GeoDataFrame(
        {
            "capture_id": [f"c{i}" for i in range(n)],
            "path": [str(p) for p in paths],
            "kind": "photo",
            "gsd_cm": [5.0, 4.0, 3.0, 2.0, 1.0, 0.5],
        },
        geometry=[shapely.box(8 + i * 0.01, 50, 8.005 + i * 0.01, 50.005) for i in range(n)],
        crs="EPSG:4326",
    )
    shows = pd.DataFrame({"capture_id": ["c0", "c1"], "site_id": ["A", "B"]})
    one = len(Thumbnails()._one(str(paths[0])) or "")
    budget = Thumbnails(budget_bytes=int(2.5 * one))
    text = written(tmp_path, captures=captures, capture_sites=shows, thumbnails=budget)
    table = footprints(layer_specs(text))["table"]
    thumbs = blocks(text)[table["thumbs"]]
    assert sorted(thumbs["of"]) == ["0", "1"]  # the two that show a site, within the budget
    assert len(set(thumbs["uris"])) == 2
    assert [bool(r) for r in table["no_thumb"]] == [False, False, True, True, True, True]
    assert "budget" in table["no_thumb"][2]


def test_a_photo_shown_by_many_captures_is_stored_once(tmp_path):
    photo = write_photo(tmp_path / "same.jpg", (0, 0, 255))
    captures = gpd.GeoDataFrame(
        {"capture_id": ["a", "b", "c"], "path": [str(photo)] * 3, "kind": "photo"},
        geometry=[shapely.box(8 + i * 0.01, 50, 8.005 + i * 0.01, 50.005) for i in range(3)],
        crs="EPSG:4326",
    )
    text = written(tmp_path, captures=captures)
    thumbs = blocks(text)[footprints(layer_specs(text))["table"]["thumbs"]]
    assert thumbs["of"] == {"0": 0, "1": 0, "2": 0} and len(thumbs["uris"]) == 1
    assert text.count("data:image/jpeg") == 1


def test_inputs_are_not_modified(tmp_path, scene):
    sites, flights, fixes = scene
    captures, capture_sites = make_captures(tmp_path)
    frames = (sites, flights, fixes, captures, capture_sites)
    before = [frame.copy() for frame in frames]
    maps.explore(
        sites=sites.iloc[::-1],
        flights=flights,
        fixes=fixes,
        captures=captures,
        capture_sites=capture_sites,
    )
    for frame, copy in zip(frames, before, strict=True):
        if isinstance(frame, gpd.GeoDataFrame):
            assert_geodataframe_equal(frame, copy)
        else:
            pd.testing.assert_frame_equal(frame, copy)


def test_result_object_and_keyword_override(tmp_path, scene):
    sites, flights, fixes = scene
    result = SimpleNamespace(sites=sites, flights=flights, fixes=None, captures=sites.iloc[:0])
    text = written(tmp_path, result, fixes=fixes)
    specs = layer_specs(text)
    assert len(specs) == 5 + 1 and specs["flights"]["styles"][0]["color"] in maps.AGL_COLORS
    projected = sites.to_crs("EPSG:3857")
    specs = layer_specs(written(tmp_path, sites=projected))
    spec = specs["water sites"]
    ring = shapely.get_coordinates(decode(spec["g"])[spec["table"]["ids"].index("W1")])
    assert ring.min(axis=0) == pytest.approx([8.0, 50.0], abs=2e-6)


def test_plain_fixes_with_lon_lat_columns_are_drawn(tmp_path, scene):
    _, _, fixes = scene
    plain = pd.DataFrame(fixes.drop(columns="geometry"))
    plain["lon"], plain["lat"] = fixes.geometry.x, fixes.geometry.y
    a = layer_specs(written(tmp_path, fixes=plain))["flights"]["decoded"][0]
    b = layer_specs(written(tmp_path, fixes=fixes))["flights"]["decoded"][0]
    assert [g.wkt for g in a] == [g.wkt for g in b]


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


# --- site maps ----------------------------------------------------------------


def test_site_file_names_are_safe_and_unique():
    names = maps.site_file_names(["osm:way/123", "W1", "w1", "a/../b", "CON", "", "ok-1.2_x"])
    assert names["osm:way/123"] == "osm_way_123.html"
    assert names["ok-1.2_x"] == "ok-1.2_x.html"
    assert names["CON"] == "_CON.html" and names[""] == "site.html"
    assert names["W1"] != names["w1"] and names["W1"].lower() != names["w1"].lower()
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+\.html", n) for n in names.values())
    assert not any(n.startswith(".") for n in names.values())
    assert len(set(names.values())) == len(names)


def site_scene(tmp_path):
    """A point site with a 100 m zone, a flight across it at 1 s steps, and captures."""
    sites = make_sites()
    sites.loc[sites["site_id"] == "W2", ["standoff_m", "n_flights", "dwell_s"]] = [100.0, 1, 42.5]
    sites.loc[sites["site_id"] == "W2", "exposure_score"] = 33.0
    lats = 49.997 + 0.00005 * np.arange(120)  # 5.6 m steps north along 8.02 E
    fixes = make_fixes(lats, np.linspace(20, 140, 120), np.arange(120.0), lon=8.02)
    captures, capture_sites = make_captures(tmp_path)
    pairs = pd.DataFrame(
        {
            "flight_id": ["F1"],
            "site_id": ["W2"],
            "n_fixes": [36],
            "dwell_s": [42.5],
            "min_distance_m": [1.2],
            "min_agl_m": [55.0],
            "first_seen_utc": [T0],
            "last_seen_utc": [T0],
        }
    )
    result = SimpleNamespace(
        sites=sites,
        fixes=fixes,
        flights=make_flights(fixes),
        pairs=pairs,
        captures=captures,
        capture_sites=capture_sites,
        footprints=None,
        params={},
    )
    return result


def test_site_map_shows_zone_fixes_inside_footprints_and_numbers(tmp_path):
    result = site_scene(tmp_path)
    m = maps.explore_site(result, "W2", overview="../map.html")
    text = maps.write_map(m, tmp_path / "W2.html").read_text("utf-8")
    assert_self_contained(text)
    specs = layer_specs(text)
    assert next(iter(specs)) == "zone" and "water site" in specs
    # The zone: a geodesic circle of 100 m around the site (area within 1 %).
    zone = decode(specs["zone"]["g"])[0]
    area = abs(GEOD.geometry_area_perimeter(zone)[0])
    assert area == pytest.approx(np.pi * 100.0**2, rel=0.01)
    # Fixes inside: those within 100 m of the site, by pyproj's geodesic distance.
    fixes = result.fixes
    _, _, dist = GEOD.inv(
        np.full(len(fixes), 8.02), np.full(len(fixes), 50.0), fixes.geometry.x, fixes.geometry.y
    )
    inside = np.flatnonzero(dist < 100.0 - 0.5)
    border = np.flatnonzero(np.abs(dist - 100.0) <= 0.5)
    drawn = decode(specs["fixes in the zone"]["g"])
    lats = np.round([p.y for p in drawn], 6)
    assert set(np.round(fixes.geometry.y.to_numpy()[inside], 6)) <= set(lats)
    assert len(drawn) - len(inside) <= len(border)
    # Coloured by height class.
    spec = specs["fixes in the zone"]
    for p, s, row in zip(drawn, spec["s"], spec["table"]["rows"], strict=True):
        agl = float(dict(zip(spec["table"]["cols"], row, strict=True))["alt_agl_m"])
        assert spec["styles"][s]["color"] == maps.AGL_COLORS[expected_class(agl)], p
    # Footprints touching the zone: c2 (55 m north of the site) only.
    assert popups(footprints(specs)).keys() == {"c2"}
    # The panel: the site's numbers, its flights, a link back.
    panel = re.search(r"<div class='gx-panel'>.*?</table>(?:.*?</table>)?", text, re.S).group(0)
    assert "<th>dwell_s</th><td>42.5</td>" in panel
    assert "<th>fixes in the zone</th><td>" + str(len(drawn)) + "</td>" in panel
    assert "<td>F1</td><td>36</td><td>42.5</td>" in panel
    assert "href='../map.html#site=W2'" in text
    # Zoomed to the zone.
    bounds = re.search(
        r"fitBounds\(\s*\[\[([-\d.]+), ([-\d.]+)\], \[([-\d.]+), ([-\d.]+)\]\]", text
    )
    s, w, n, e = map(float, bounds.groups())
    zw, zs, ze, zn = zone.bounds
    assert (s, w, n, e) == pytest.approx((zs, zw, zn, ze), abs=1e-6)


def test_site_map_of_an_unknown_site_is_refused(tmp_path):
    with pytest.raises(InputError, match="nope"):
        maps.explore_site(site_scene(tmp_path), "nope")


def test_write_maps_writes_overview_and_one_map_per_exposed_site(tmp_path):
    result = site_scene(tmp_path)
    stale = tmp_path / "out" / "sites" / "old.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    written = maps.write_maps(result, tmp_path / "out")
    exposed = {"W1", "W2", "R1", "M1"}  # score, flights or captures above 0
    assert written[0] == tmp_path / "out" / "map.html"
    # a file geoexpose did not write is never deleted
    assert sorted(p.name for p in (tmp_path / "out" / "sites").iterdir()) == sorted(
        [*(f"{i}.html" for i in exposed), "old.html"]
    )
    assert stale.read_text() == "old"
    text = written[0].read_text("utf-8")
    water = layer_specs(text)["water sites"]["table"]
    links = dict(zip(water["ids"], water["links"], strict=True))
    assert links == {"W1": "sites/W1.html", "W2": "sites/W2.html"}
    assert_self_contained(text)


def test_rebuild_from_an_output_folder(tmp_path):
    import geoexpose as gx

    inputs = gx.make_demo_inputs(tmp_path / "in")
    result = gx.expose(gx.read_sites(inputs.sites), gx.read_tracks(list(inputs.tracks)))
    out = tmp_path / "out"
    result.write(out)
    site = result.exposed["site_id"].iloc[0]
    name = maps.site_file_names(result.sites["site_id"])[site]
    with pytest.raises(OutputExistsError):
        maps.rebuild_maps(out, site=site)
    before = (out / "map.html").read_bytes()
    written = maps.rebuild_maps(out, site=site, overwrite=True)
    assert written == [out / "sites" / name]
    assert (out / "map.html").read_bytes() == before
    specs = layer_specs(written[0].read_text("utf-8"))
    # The folder keeps no fixes: the positions come from the flight lines.
    assert "flight positions in the zone" in specs
    other = maps.rebuild_maps(out, out=tmp_path / "again.html")
    assert other == [tmp_path / "again.html"]
    assert "flights" in layer_specs(other[0].read_text("utf-8"))
    # The command line: geoexpose map DIR --site ID, and --basemap FILE.tif
    from click.testing import CliRunner

    from geoexpose.cli import main

    def cli(*args):
        return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)

    done = cli("map", out, "--site", site, "--out", tmp_path / "one.html")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(tmp_path / "one.html")
    assert "flight positions in the zone" in layer_specs((tmp_path / "one.html").read_text())
    assert cli("map", out, "--site", site).exit_code == 1  # exists; no --overwrite
    assert cli("map", out, "--site", "no-such-site", "--overwrite").exit_code == 1
    assert cli("map", out, "--basemap", tmp_path / "none.tif").exit_code == 2
    write_tif(tmp_path / "ortho.tif")
    done = cli("map", out, "--basemap", tmp_path / "ortho.tif", "--overwrite")
    assert done.exit_code == 0, done.output
    specs = layer_specs((out / "map.html").read_text("utf-8"))
    assert "basemap: ortho.tif" in specs


# --- GeoTIFF basemap ------------------------------------------------------------


def write_tif(path: Path, *, crs: str | None = "EPSG:32632") -> tuple[float, float, float, float]:
    """A 200 x 100 px RGB GeoTIFF in UTM 32N, 1 m pixels, red in its east half.

    Returns its bounds in EPSG:4326 (west, south, east, north of the corners).
    """
    rasterio = pytest.importorskip("rasterio")
    from rasterio.transform import from_origin

    x0, y0 = 500_000.0, 5_540_000.0
    data = np.zeros((3, 100, 200), dtype=np.uint8)
    data[:, :, :100] = 40
    data[0, :, 100:] = 230
    with warnings.catch_warnings():  # rasterio multiplies affine transforms with "*"
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=200,
            height=100,
            count=3,
            dtype="uint8",
            crs=crs,
            transform=from_origin(x0, y0, 1.0, 1.0),
        ) as dst:
            dst.write(data)
    to_lonlat = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform([x0, x0 + 200, x0, x0 + 200], [y0, y0, y0 - 100, y0 - 100])
    return min(lon), min(lat), max(lon), max(lat)


def test_geotiff_basemap_is_an_inline_image_where_the_raster_is(tmp_path):
    from geoexpose.maps._basemap import raster_overlay

    w, s, e, n = write_tif(tmp_path / "ortho.tif")
    overlay = raster_overlay(tmp_path / "ortho.tif")
    (south, west), (north, east) = overlay["bounds"]
    assert (west, south, east, north) == pytest.approx((w, s, e, n), abs=3e-6)  # ~0.3 m
    image = Image.open(io.BytesIO(base64.b64decode(overlay["uri"].split(",", 1)[1])))
    assert image.format == "PNG" and image.mode == "RGBA"
    px = np.asarray(image)
    h = px.shape[0]
    # East of the raster's middle meridian is red, west is grey (Web Mercator keeps east-west).
    mid = px[h // 2]
    opaque = mid[mid[:, 3] == 255]
    assert opaque[: len(opaque) // 3, 0].max() < 60 and opaque[-len(opaque) // 3 :, 0].min() > 200
    text = written(tmp_path, sites=make_sites(), basemap=tmp_path / "ortho.tif")
    specs = layer_specs(text)
    assert specs["basemap: ortho.tif"]["uri"] == overlay["uri"]
    assert "tile.openstreetmap" not in text and str(tmp_path) not in text


def test_geotiff_basemap_is_cropped_and_downsampled(tmp_path):
    from geoexpose.maps._basemap import raster_overlay

    w, s, e, n = write_tif(tmp_path / "ortho.tif")
    small = raster_overlay(tmp_path / "ortho.tif", max_px=50)
    image = Image.open(io.BytesIO(base64.b64decode(small["uri"].split(",", 1)[1])))
    assert max(image.size) <= 50
    east_half = raster_overlay(tmp_path / "ortho.tif", bounds=((w + e) / 2 + 1e-5, s, e + 1, n))
    image = np.asarray(Image.open(io.BytesIO(base64.b64decode(east_half["uri"].split(",")[1]))))
    assert image[image[..., 3] == 255][:, 0].min() > 200  # only the red half
    assert raster_overlay(tmp_path / "ortho.tif", bounds=(0.0, 0.0, 1.0, 1.0)) == {}


def test_geotiff_without_crs_or_unreadable_is_refused(tmp_path):
    from geoexpose.maps._basemap import raster_overlay

    write_tif(tmp_path / "plain.tif", crs=None)
    with pytest.raises(InputError, match="no CRS"):
        raster_overlay(tmp_path / "plain.tif")
    (tmp_path / "bad.tif").write_bytes(b"not a tiff")
    with pytest.raises(InputError, match=r"bad\.tif"):
        raster_overlay(tmp_path / "bad.tif")


# --- the page machinery ---------------------------------------------------------


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
    import geoexpose._atomic

    target = tmp_path / "map.html"
    target.write_text("old map")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(geoexpose._atomic.os, "replace", broken_replace)
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
        "<html><a href='https://example.org/x.html'>x</a></html>",
        "<html><a href='/etc/x.html'>x</a></html>",
        "<html><img src='sites/x.html'></html>",
    ],
)
def test_external_references_raise(page):
    with pytest.raises(UsageError):
        inline_assets(page)
    with pytest.raises(UsageError):
        assert_self_contained(page.replace('rel="stylesheet" ', ""))


def test_relative_links_between_maps_of_a_folder_are_allowed():
    assert_self_contained(
        "<html><a href='../map.html#site=osm%3Away%2F1'>o</a><a href='sites/W1.html'>s</a></html>"
    )


def test_empty_map_is_written(tmp_path):
    text = written(tmp_path)
    assert leaflet_code() in text and "geoexpose.features(" not in text
    assert_self_contained(text)
