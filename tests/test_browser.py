"""The maps in a real headless Chromium, with the network blocked.

Chromium is Debian's (``apt-get install chromium``; ``.ci/run`` installs it),
driven by Playwright from PyPI (the ``test`` extra), which downloads nothing here:
it launches ``/usr/bin/chromium``. The pages are opened from ``file://`` URLs in an
offline browser context whose every other request is refused and recorded, and
with every host name unresolvable. Without Chromium or Playwright the tests skip,
except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoexpose as gx
from geoexpose import maps
from tests._map_scene import make_captures, make_fixes, make_flights, make_sites

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"
FAMILY_LAYERS = ["water sites", "rail sites", "power sites", "military sites"]


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; the browser tests must run under CI=true")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).is_file():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--host-resolver-rules=MAP * ~NOTFOUND", "--disable-background-networking"],
        )
        yield b
        b.close()


class Opened:
    """A page opened offline: its requests other than the page itself, and its errors."""

    def __init__(self, browser, path: Path, fragment: str = "") -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
        self.refused: list[str] = []
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        start = time.perf_counter()
        self.page.goto(self.url + fragment, wait_until="load", timeout=30_000)
        self.page.evaluate(
            "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
        )
        self.seconds = time.perf_counter() - start

    def _route(self, route) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            self.refused.append(route.request.url)
            route.abort()

    def check_private(self) -> None:
        """Nothing but the page itself was asked for, and nothing went wrong."""
        assert self.refused == []
        assert [u for u in self.requests if not u.startswith("data:")] == [self.url]
        assert self.errors == []

    def overlays(self) -> list[str]:
        return self.page.evaluate(
            "Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            ".map(e => e.textContent.trim())"
        )

    def open_popup(self, kind: str, key: str) -> str:
        """Open a feature's popup (the one open before closes) and return its text."""
        self.page.evaluate("void Object.values(window).find(v => v instanceof L.Map).closePopup()")
        self.page.wait_for_selector(".leaflet-popup", state="detached", timeout=5000)
        assert self.page.evaluate(f"geoexpose.open({kind!r}, {key!r})") is True
        self.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
        return self.page.inner_text(".leaflet-popup-content")

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def opened(browser):
    pages: list[Opened] = []

    def open_(path: Path, fragment: str = "") -> Opened:
        pages.append(Opened(browser, path, fragment))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()


@pytest.fixture(scope="module")
def scene_map(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scene")
    sites = make_sites()
    sites.loc[sites["site_id"] == "R1", "name"] = '<img src=x onerror="window.pwned=1">'
    fixes = make_fixes(50.0 + 0.0001 * np.arange(50), np.linspace(10, 150, 50), np.arange(50.0))
    captures, capture_sites = make_captures(folder)
    m = maps.explore(
        sites=sites,
        flights=make_flights(fixes),
        fixes=fixes,
        captures=captures,
        capture_sites=capture_sites,
    )
    return maps.write_map(m, folder / "map.html")


def test_overview_loads_nothing_and_has_one_toggle_per_family(opened, scene_map):
    page = opened(scene_map)
    page.check_private()
    assert page.page.evaluate("typeof window.L === 'object' && L.version") == "1.9.4"
    labels = page.overlays()
    assert labels == [
        *FAMILY_LAYERS,
        "bees sites",
        "flights",
        *maps.FOOTPRINT_LAYERS,  # those that show a site, and the others (off)
        "camera positions",
    ]
    assert page.page.locator(".leaflet-control-scale-line").count() >= 1
    assert page.page.locator("canvas").count() >= 1  # drawn on a canvas


def test_site_popup_shows_dwell_s_as_text(opened, scene_map):
    page = opened(scene_map)
    text = page.open_popup("site", "W1")
    assert "dwell_s\t123.4" in text or "dwell_s 123.4" in text.replace("\t", " ")
    assert page.page.text_content(".leaflet-popup-content b") == "Works <A&B>"
    # A name that is HTML stays text: no element made from it, no script run.
    text = page.open_popup("site", "R1")
    assert '<img src=x onerror="window.pwned=1">' in text
    assert page.page.locator(".leaflet-popup-content img").count() == 0
    assert page.page.evaluate("window.pwned === undefined")
    page.check_private()


def test_capture_popup_has_its_file_time_gsd_and_thumbnail(opened, scene_map):
    page = opened(scene_map)
    text = page.open_popup("footprint", "c1")
    assert "DJI_0001.JPG" in text and "2024-05-01 10:00:00 UTC" in text and "1.65" in text
    img = page.page.locator(".leaflet-popup-content img.gx-thumb")
    assert img.count() == 1
    size = img.evaluate("i => i.decode().then(() => [i.naturalWidth, i.naturalHeight])")
    assert size == [160, 120]
    text = page.open_popup("camera", "c2")  # its file is gone: no thumbnail
    assert "DJI_0002.JPG" in text
    assert page.page.locator(".leaflet-popup-content img").count() == 0
    page.check_private()


def test_layer_toggle_hides_a_family(opened, scene_map):
    page = opened(scene_map)
    count = "Object.values(geoexpose.registry).filter(l => l._map).length"
    before = page.page.evaluate(count)
    page.page.locator(".leaflet-control-layers-overlays label", has_text="water sites").click()
    assert page.page.evaluate(count) == before - 2  # W1 and W2 left the map
    page.check_private()


def test_tracks_get_finer_when_zooming_in(opened, tmp_path):
    n = 20_000
    angle = np.linspace(0, 8 * np.pi, n)
    lats = 50.0 + 0.004 * np.sin(angle) + np.linspace(0, 0.01, n)
    fixes = make_fixes(lats, np.full(n, 50.0), np.arange(n) * 0.1)
    fixes["geometry"] = gpd.points_from_xy(8.0 + 0.006 * np.cos(angle), lats, crs="EPSG:4326")
    path = maps.write_map(maps.explore(fixes=fixes), tmp_path / "track.html")
    page = opened(path)
    vertices = """() => { let n = 0;
        const map = Object.values(window).find(v => v instanceof L.Map);
        map.eachLayer(l => { if (l instanceof L.Polyline) n += l.getLatLngs().flat(3).length; });
        return n; }"""
    view = (
        "z => Object.values(window).find(v => v instanceof L.Map)"
        ".setView([50.005, 8.0], z, {animate: false}) && null"
    )
    counts = {}
    for zoom in (10, 18, 12):
        page.page.evaluate(view, zoom)
        counts[zoom] = page.page.evaluate(vertices)
    assert 0 < counts[10] < counts[12] < counts[18]
    assert counts[18] > 4 * counts[10]
    page.check_private()


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    inputs = gx.make_demo_inputs(folder / "inputs")
    result = gx.expose(gx.read_sites(inputs.sites), gx.read_tracks(list(inputs.tracks)))
    result.write(folder / "out")
    return folder / "out"


def test_demo_map_opens_fast_and_shows_the_substation_dwell(opened, demo_folder):
    page = opened(demo_folder / "map.html")
    page.check_private()
    assert page.seconds < 5.0
    table = pd.read_csv(demo_folder / "site_exposure.csv").set_index("site_id")
    families = [f"{f} sites" for f in ["water", "rail", "power", "military"]]
    assert page.overlays()[:4] == families
    dwell = table.loc["brenmoor-substation", "dwell_s"]
    text = page.open_popup("site", "brenmoor-substation")
    assert f"{dwell:.1f}" in text and "dwell_s" in text
    assert page.page.locator(".leaflet-popup-content a.gx-link").get_attribute("href") == (
        "sites/brenmoor-substation.html"
    )
    page.check_private()


def test_demo_site_map_shows_the_site_and_its_numbers(opened, demo_folder):
    page = opened(demo_folder / "sites" / "brenmoor-substation.html")
    page.check_private()
    table = pd.read_csv(demo_folder / "site_exposure.csv").set_index("site_id")
    dwell = table.loc["brenmoor-substation", "dwell_s"]
    panel = page.page.inner_text(".gx-panel")
    assert f"{dwell:.1f}" in panel and "fixes in the zone" in panel
    assert "power site" in page.overlays() and "zone" in page.overlays()
    assert f"{dwell:.1f}" in page.open_popup("site", "brenmoor-substation")
    href = "../map.html#site=brenmoor-substation"
    assert page.page.locator(".gx-panel a").get_attribute("href") == href
    page.check_private()


def test_a_link_with_a_site_fragment_opens_that_sites_popup(opened, demo_folder):
    page = opened(demo_folder / "map.html", "#site=brenmoor-depot")
    page.page.wait_for_selector(".leaflet-popup-content", timeout=5000)
    assert page.page.text_content(".leaflet-popup-content b") == "Brenmoor Depot"
    page.check_private()


# --- the time slider, labels, legend and footprint layers (issue 14) ----------------

_T0_MS = int(pd.Timestamp("2024-05-01T10:00:00Z").value // 1_000_000)  # tests/_map_scene T0


def _slide(page, ms: int) -> dict:
    """Move the time slider to ``ms`` as a reader would (an input event); return the state."""
    page.page.evaluate(
        "ms => { const s = document.querySelector('.gx-time input[type=range]');"
        " s.value = String(ms); s.dispatchEvent(new Event('input', {bubbles: true})); }",
        ms,
    )
    return page.page.evaluate(
        "({t: geoexpose.time.t, marks: geoexpose.time.marks, trail: geoexpose.time.trail,"
        " captures: geoexpose.time.captures, utc: document.querySelector('.gx-utc').textContent,"
        " drawn: document.querySelectorAll('.leaflet-tooltip-pane *').length})"
    )


def test_moving_the_time_slider_moves_the_aircraft_and_shows_the_captures(opened, scene_map):
    page = opened(scene_map)
    slider = page.page.locator(".gx-time input[type=range]")
    assert slider.count() == 1
    # The scene's fixes: one a second from T0 for 49 s, going north 0.0001 degrees a
    # second from 50.0 N, 8.0 E; its photos: c1 at T0 and c2 at T0 + 5 s (c3 has no
    # camera position).
    assert int(slider.get_attribute("min")) == _T0_MS
    assert int(slider.get_attribute("max")) == _T0_MS + 49_000
    start = _slide(page, _T0_MS)
    assert start["trail"] == 1 and start["captures"] == 1
    assert start["marks"] == [[pytest.approx(50.0, abs=1e-6), pytest.approx(8.0, abs=1e-6)]]
    assert start["utc"] == "2024-05-01 10:00:00 UTC"
    later = _slide(page, _T0_MS + 20_000)
    assert later["trail"] == 21 and later["captures"] == 2
    assert later["marks"][0][0] == pytest.approx(50.0020, abs=1e-6)
    assert later["utc"] == "2024-05-01 10:00:20 UTC"
    # Back again: the trail shortens and the later photo goes.
    again = _slide(page, _T0_MS + 2_000)
    assert again["trail"] == 3 and again["captures"] == 1
    page.check_private()


def test_play_advances_the_time_and_pause_stops_it(opened, scene_map):
    page = opened(scene_map)
    _slide(page, _T0_MS)
    page.page.select_option(".gx-time select", "10")
    page.page.click(".gx-time button")
    page.page.wait_for_function(f"geoexpose.time.t > {_T0_MS + 1000}", timeout=5000)
    page.page.click(".gx-time button")  # pause
    stopped = page.page.evaluate("geoexpose.time.t")
    page.page.wait_for_timeout(400)
    assert page.page.evaluate("geoexpose.time.t") == stopped < _T0_MS + 49_000
    assert page.page.evaluate("geoexpose.time.trail") > 1
    page.check_private()


def test_exposed_sites_are_labelled_by_name_as_text(opened, scene_map):
    page = opened(scene_map)
    labels = page.page.eval_on_selector_all(".gx-label", "els => els.map(e => e.textContent)")
    # W1 (72), M1 (95) and R1 (15, renamed to an <img> tag) are exposed; the others not.
    assert sorted(labels) == sorted(["Works <A&B>", "Camp", '<img src=x onerror="window.pwned=1">'])
    assert page.page.evaluate("window.pwned") is None
    page.check_private()


def test_legend_folds_and_starts_folded_on_a_small_screen(opened, scene_map, browser):
    page = opened(scene_map)
    assert page.page.evaluate("document.querySelector('details.gx-legend').open") is True
    page.page.click("details.gx-legend summary")
    assert page.page.evaluate("document.querySelector('details.gx-legend').open") is False
    small = browser.new_context(offline=True, viewport={"width": 600, "height": 500})
    try:
        p = small.new_page()
        p.goto(scene_map.resolve().as_uri(), wait_until="load")
        assert p.evaluate("document.querySelector('details.gx-legend').open") is False
    finally:
        small.close()


def test_footprints_showing_no_site_are_a_layer_off_at_first(opened, scene_map):
    page = opened(scene_map)
    checked = page.page.evaluate(
        "Object.fromEntries(Array.from(document.querySelectorAll("
        "'.leaflet-control-layers-overlays label')).map(l => [l.textContent.trim(),"
        " l.querySelector('input').checked]))"
    )
    assert checked["capture footprints showing a site"] is True
    assert checked["other capture footprints"] is False
    # Asking for such a footprint's popup switches its layer on.
    assert "DJI_0002.JPG" in page.open_popup("footprint", "c2")
    page.check_private()


def test_the_demo_site_map_has_a_time_slider_that_replays_the_zone(opened, demo_folder):
    page = opened(demo_folder / "sites" / "brenmoor-substation.html")
    slider = page.page.locator(".gx-time input[type=range]")
    assert slider.count() == 1
    lo, hi = int(slider.get_attribute("min")), int(slider.get_attribute("max"))
    first, last = _slide(page, lo), _slide(page, hi)
    assert first["trail"] < last["trail"] and last["captures"] >= first["captures"]
    page.check_private()


def test_a_label_that_would_cover_a_more_exposed_sites_label_is_hidden(opened, tmp_path):
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["low", "high", "far"],
            "family": ["water", "power", "rail"],
            "name": ["Low scorer", "High scorer", "Far away"],
            "exposure_score": [30.0, 90.0, 50.0],
        },
        # low and high overlap (their labels sit at the same centre); far is 5 km east
        geometry=[
            shapely.box(8.0, 50.0, 8.001, 50.001),
            shapely.box(8.0, 50.0, 8.001, 50.001),
            shapely.box(8.07, 50.0, 8.071, 50.001),
        ],
        crs="EPSG:4326",
    )
    path = maps.write_map(maps.explore(sites=sites), tmp_path / "map.html")
    page = opened(path)
    shown = page.page.eval_on_selector_all(
        ".gx-label",
        "els => els.filter(e => getComputedStyle(e).visibility !== 'hidden')"
        ".map(e => e.textContent)",
    )
    assert sorted(shown) == ["Far away", "High scorer"]
    page.check_private()
