"""Maps of large scans: which sites the overview draws, which fixes get popups, and the
writers' shortcuts (times as text, GeoPackage through Arrow) giving what they did."""

from __future__ import annotations

import dataclasses
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import Geod

import geoexpose as gx
from geoexpose import maps
from geoexpose.maps import _site_maps
from geoexpose.maps._context import near_mask
from geoexpose.maps._html_text import display_text
from geoexpose.maps._site_maps import popup_fixes
from tests._map_scene import _CALL, blocks, decode, layer_specs, make_fixes
from tests.conftest import make_sites, make_track

GEOD = Geod(ellps="WGS84")


def _east(lon: float, lat: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` east of (lon, lat) on the ellipsoid."""
    x, y, _ = GEOD.fwd(lon, lat, 90.0, metres)
    return float(x), float(y)


def _north(lon: float, lat: float, metres: float) -> tuple[float, float]:
    x, y, _ = GEOD.fwd(lon, lat, 0.0, metres)
    return float(x), float(y)


def test_near_mask_keeps_sites_within_the_distance_and_drops_far_ones():
    # A north-south track 2 km long at 8 E; sites east of its middle at known distances.
    line = shapely.LineString([(8.0, 50.0), _north(8.0, 50.0, 2000.0)])
    mid = _north(8.0, 50.0, 1000.0)
    distances = [0.0, 300.0, 990.0, 1300.0, 5000.0]
    sites = np.array([shapely.Point(_east(*mid, d)) for d in distances], dtype=object)
    got = near_mask(sites, [np.array([line], dtype=object)], 1000.0)
    # within 1 km: in; beyond 1 km + 128 m (the documented slack): out
    assert got.tolist() == [True, True, True, False, False]
    # a footprint polygon counts too, and a polygon site touching the zone is near
    square = shapely.Point(_east(8.0, 50.0, -1500.0)).buffer(0.001)
    big = shapely.box(7.95, 49.9, 7.99, 49.95)  # about 3.5 km west and 5.5 km south
    got = near_mask(np.array([big], dtype=object), [np.array([square], dtype=object)], 1000.0)
    assert got.tolist() == [False]
    assert not near_mask(sites, [], 1000.0).any()


@pytest.fixture()
def crowded():
    """Twelve point sites on the parallel 50 N, 1 km apart, and one flight over the first two.

    Site sk lies k km east of 8 E; the flight runs from 0.5 km west of s0 to 1.5 km east
    of it, so s0 and s1 are exposed, s2 (0.5 km past its end) is near it, and s3 to s11
    are 1.5 km or more away.
    """
    lon = [_east(8.0, 50.0, 1000.0 * k)[0] for k in range(12)]
    sites = make_sites(shapely.points(lon, np.full(12, 50.0)), standoff_m=50.0)
    west, east = _east(8.0, 50.0, -500.0)[0], _east(8.0, 50.0, 1500.0)[0]
    fixes = make_track(np.linspace(west, east, 400), 50.0, dt_s=1.0, flight="a")
    return gx.expose(sites, fixes)


def _site_ids(page: str) -> list[str]:
    specs = layer_specs(page)
    return sorted(
        i for name, s in specs.items() if name.endswith("sites") for i in s["table"]["ids"]
    )


def test_overview_of_many_sites_draws_exposed_and_nearby_ones_and_says_so(tmp_path, crowded):
    exposed = crowded.sites.loc[crowded.sites["n_flights"] > 0, "site_id"].tolist()
    assert exposed == ["s0", "s1"]
    page = maps.write_map(maps.explore(crowded, max_sites=5), tmp_path / "m.html").read_text()
    assert _site_ids(page) == ["s0", "s1", "s2"]
    assert "9 of 12 sites not drawn: unexposed and over 1 km from every flight" in page
    assert "(more than 5 sites)" in page
    # None, or a cap above the number of sites, draws every site and says nothing
    for cap in (None, 12):
        page = maps.write_map(maps.explore(crowded, max_sites=cap), tmp_path / "a.html")
        text = page.read_text()
        assert _site_ids(text) == sorted(f"s{k}" for k in range(12))
        assert "not drawn" not in text


def test_small_scans_give_the_same_overview_as_without_a_cap(tmp_path, crowded):
    def page(**kwargs) -> str:
        text = maps.write_map(maps.explore(crowded, **kwargs), tmp_path / "m.html").read_text()
        return re.sub(r"_[0-9a-f]{32}(?![0-9a-f])", "_ID", text)  # folium names elements at random

    assert page() == page(max_sites=None)
    assert page() != page(max_sites=5)


def test_popup_fixes_keeps_entries_exits_and_lowest_then_spreads():
    # flight 0: runs at positions 10-19 and 30-39; flight 1: run 50-59
    positions = np.r_[10:20, 30:40, 50:60]
    flights = np.repeat([0, 0, 1], 10)
    agl = np.full(30, 80.0)
    agl[4], agl[25] = 20.0, 25.0  # the lowest of each flight (positions 14 and 55)
    got = popup_fixes(flights, positions, agl, 12)
    must = {0, 9, 10, 19, 20, 29, 4, 25}  # entries, exits, the two lowest
    assert must <= set(got.tolist())
    assert len(got) == 12 and np.all(np.diff(got) > 0)
    # fewer popups than key fixes: spread over the key fixes only
    got = popup_fixes(flights, positions, agl, 4)
    assert len(got) == 4 and set(got.tolist()) <= must
    # few fixes: each has its popup
    assert popup_fixes(flights[:5], positions[:5], agl[:5], 10).tolist() == [0, 1, 2, 3, 4]


def test_site_map_gives_popups_to_a_bounded_number_of_fixes(tmp_path, monkeypatch):
    monkeypatch.setattr(_site_maps, "MAX_FIX_POPUPS", 10)
    lats = 49.999 + 0.00001 * np.arange(200)  # 200 fixes 1.1 m apart over s0's zone
    fixes = make_fixes(lats, np.linspace(100, 20, 200), np.arange(200.0), lon=8.0)
    sites = make_sites([shapely.Point(8.0, 50.0)], standoff_m=50.0)
    result = gx.expose(sites, fixes)
    # by hand: the fixes within 50 m of the site (ellipsoid distance)
    _, _, dist = GEOD.inv(np.full(200, 8.0), np.full(200, 50.0), np.full(200, 8.0), lats)
    inside = np.flatnonzero(dist <= 50.0)
    assert 80 < len(inside) < 100
    page = maps.write_map(maps.explore_site(result, "s0"), tmp_path / "s0.html").read_text()
    data = blocks(page)
    calls = [(fn, group, bid) for fn, group, bid in _CALL.findall(page)]
    group = next(g for fn, g, bid in calls if data[bid].get("table", {}) and "time_utc"
                 in data[bid]["table"]["cols"])  # fmt: skip
    plain, popup = [data[bid] for _, g, bid in calls if g == group]
    assert plain["interactive"] is False and "table" not in plain
    n_plain = sum(len(shapely.get_parts(g)) for g in decode(plain["g"]))
    assert len(popup["table"]["rows"]) == 10
    assert n_plain + 10 == len(inside)
    # the entry, the exit and the lowest fix (the last one in the zone) have popups
    times = [row[popup["table"]["cols"].index("time_utc")] for row in popup["table"]["rows"]]
    t0 = pd.Timestamp("2024-05-01T10:00:00Z")
    first, last = (t0 + pd.Timedelta(seconds=int(k)) for k in (inside[0], inside[-1]))
    assert first.strftime("%Y-%m-%d %H:%M:%S UTC") in times
    assert last.strftime("%Y-%m-%d %H:%M:%S UTC") in times
    assert "10 of the" in page and "have a popup" in page


def test_site_map_with_few_fixes_draws_each_with_its_popup(tmp_path):
    lats = 49.9995 + 0.00001 * np.arange(50)
    fixes = make_fixes(lats, np.full(50, 40.0), np.arange(50.0), lon=8.0)
    result = gx.expose(make_sites([shapely.Point(8.0, 50.0)], standoff_m=100.0), fixes)
    specs = layer_specs(maps.write_map(maps.explore_site(result, "s0"), tmp_path / "s.html")
                        .read_text())  # fmt: skip
    spec = specs["fixes in the zone"]
    assert len(spec["table"]["rows"]) == 50 and spec.get("interactive") is not False
    assert "have a popup" not in str(specs)


def test_time_text_matches_strftime_floored_to_the_second():
    rng = np.random.default_rng(7)
    ns = rng.integers(-(10**18), 4 * 10**18, 5000)
    times = pd.Series(pd.to_datetime(ns, utc=True)).dt.tz_convert("America/Denver")
    times[::9] = pd.NaT
    want = [
        "\u2013" if pd.isna(t) else t.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S UTC")
        for t in times
    ]
    assert display_text(times, "time_utc").tolist() == want
    text = display_text(pd.Series(["2026-01-01T00:00:00.999Z", None]), "first_seen_utc")
    assert text.tolist() == ["2026-01-01 00:00:00 UTC", "\u2013"]


def test_geopackage_keeps_times_geometry_and_ignores_attrs(tmp_path, crowded):
    sites = crowded.sites.copy()
    sites.attrs["geoexpose"] = {"files": [Path("not/json")]}  # not JSON: must not warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataclasses.replace(crowded, sites=sites).write(tmp_path, map_html=False)
    back = pyogrio.read_dataframe(tmp_path / "exposure.gpkg", layer="sites")
    assert back["site_id"].tolist() == sites["site_id"].tolist()
    assert shapely.equals_exact(back.geometry.values, sites.geometry.values, 0.0).all()
    seen = back.loc[back["site_id"] == "s0", "first_seen_utc"].iloc[0]
    want = crowded.sites.loc[crowded.sites["site_id"] == "s0", "first_seen_utc"].iloc[0]
    assert pd.Timestamp(seen).tz_convert("UTC") == want.round("ms")
    info = pyogrio.read_info(tmp_path / "exposure.gpkg", layer="flights")
    assert info["geometry_type"] == "MultiLineString"
