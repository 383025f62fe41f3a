"""Site maps of an output folder: which sites get one, what summary.json and the overview
say of them, and the cost of writing many (each map takes only its own rows)."""

from __future__ import annotations

import inspect
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

import geoexpose as gx
from geoexpose import maps
from geoexpose.errors import UsageError
from geoexpose.maps import _tracks
from geoexpose.maps._site_data import SiteMapData
from geoexpose.maps._tracks import TrackClip, flight_pieces, short_lines
from geoexpose.outputs import write_outputs
from tests._map_scene import decode, layer_specs, make_fixes, make_flights
from tests.conftest import make_sites, make_track

GEOD = Geod(ellps="WGS84")


def ranked(sites: pd.DataFrame) -> list[str]:
    """The exposed sites by hand: a flight or a capture; score down, then id up."""
    rows = [
        (-(0.0 if pd.isna(r.exposure_score) else r.exposure_score), str(r.site_id))
        for r in sites.itertuples()
        if r.n_flights > 0 or r.n_captures > 0
    ]
    return [site_id for _, site_id in sorted(rows)]


@pytest.fixture(scope="module")
def fleet():
    """Eight point sites 1 km apart on a parallel; three flights pass some of them.

    Sites s0..s7 lie at 50 N, 8.00 E + k x 0.014 deg (about 1 km); each zone is 100 m.
    Flight a passes s1 and s2 slowly, b passes s2 and s5, c hovers over s6.
    """
    lon = 8.0 + 0.014 * np.arange(8)
    sites = make_sites(shapely.points(lon, np.full(8, 50.0)))
    a = make_track(np.linspace(lon[1] - 0.002, lon[2] + 0.002, 600), 50.0, dt_s=1.0, flight="a")
    b = make_track(np.linspace(lon[2], lon[5], 300), 50.0003, dt_s=1.0, flight="b")
    c = make_track(np.full(50, lon[6]), np.full(50, 50.0002), dt_s=1.0, flight="c")
    fixes = pd.concat([a, b, c], ignore_index=True)
    return gx.expose(sites, fixes)


def test_pick_site_maps_most_exposed_first_ties_by_id():
    sites = gpd.GeoDataFrame(
        {
            "site_id": ["e", "b", "a", "d", "c", "z", "y"],
            "family": "water",
            "exposure_score": [10.0, 10.0, 55.0, 0.0, np.nan, 0.0, 99.0],
            "n_flights": [1, 1, 2, 1, 0, 0, 0],
            "n_captures": [0, 0, 0, 0, 1, 0, 0],
        },
        geometry=[shapely.Point(0, 0)] * 7,
        crs=4326,
    )
    # exposed: a flight, a capture or a score above 0 ("y" has a score but nothing else)
    assert maps.pick_site_maps(sites, "all") == ["y", "a", "b", "e", "c", "d"]
    assert maps.pick_site_maps(sites, 3) == ["y", "a", "b"]
    assert maps.pick_site_maps(sites, "2") == ["y", "a"]
    assert maps.pick_site_maps(sites, np.int64(1)) == ["y"]
    assert maps.pick_site_maps(sites, "none") == maps.pick_site_maps(sites, 0) == []
    assert maps.pick_site_maps(sites, 100) == maps.pick_site_maps(sites, "ALL")
    # the default is the documented cap
    assert maps.SITE_MAPS_CAP == 50
    for func in (maps.pick_site_maps, maps.write_maps, maps.rebuild_maps, write_outputs):
        assert inspect.signature(func).parameters["site_maps"].default == 50


@pytest.mark.parametrize("bad", [-1, "x", "-3", True, 2.5, None, "1e3"])
def test_a_bad_site_maps_value_is_refused(bad):
    sites = make_sites([shapely.Point(0, 0)]).assign(n_flights=1, n_captures=0)
    with pytest.raises(UsageError, match="site maps: expected a whole number"):
        maps.pick_site_maps(sites, bad)


def test_write_caps_site_maps_and_says_which(tmp_path, fleet):
    expected = ranked(fleet.sites)
    assert len(expected) >= 4  # s1, s2, s5 (at least), s6
    out = fleet.write(tmp_path / "out", site_maps=2)
    top = expected[:2]
    assert sorted(p.name for p in (out / "sites").iterdir()) == sorted(f"{i}.html" for i in top)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["site_maps"] == {
        "limit": 2,
        "exposed_sites": len(expected),
        "written": 2,
        "maps": {i: f"sites/{i}.html" for i in top},
    }
    assert list(summary["site_maps"]["maps"]) == top  # most exposed first
    # every exposed site stays in the table and on the overview; only two are linked
    table = pd.read_csv(out / "site_exposure.csv")
    assert sorted(table["site_id"]) == sorted(expected)
    text = (out / "map.html").read_text("utf-8")
    popup = layer_specs(text)["power sites"]["table"]
    links = dict(zip(popup["ids"], popup["links"], strict=True))
    assert set(popup["ids"]) == set(fleet.sites["site_id"])
    assert {i: u for i, u in links.items() if u} == {i: f"sites/{i}.html" for i in top}
    assert f"the 2 most exposed of {len(expected)} exposed sites have one" in text
    # each site map links back to its site on the overview
    for site_id in top:
        assert f"../map.html#site={site_id}" in (out / "sites" / f"{site_id}.html").read_text()


def test_none_then_all_then_fewer_site_maps(tmp_path, fleet):
    expected = ranked(fleet.sites)
    out = tmp_path / "out"
    fleet.write(out, site_maps="none")
    assert not (out / "sites").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["site_maps"]["limit"] == "none"
    assert summary["site_maps"]["written"] == 0 and summary["site_maps"]["maps"] == {}
    text = (out / "map.html").read_text("utf-8")
    assert f"none written ({len(expected)} exposed sites)" in text
    assert '"links"' not in text

    fleet.write(out, overwrite=True, site_maps="all")
    assert sorted(p.stem for p in (out / "sites").iterdir()) == sorted(expected)
    assert f"all {len(expected)} exposed sites have one" in (out / "map.html").read_text()

    fleet.write(out, overwrite=True, site_maps=1)  # the others' maps are removed
    assert [p.stem for p in (out / "sites").iterdir()] == expected[:1]
    assert json.loads((out / "summary.json").read_text())["site_maps"]["limit"] == 1


def test_rebuild_maps_chooses_site_maps_and_updates_the_summary(tmp_path, fleet):
    expected = ranked(fleet.sites)
    out = fleet.write(tmp_path / "out")  # default: all of them (fewer than the cap)
    assert json.loads((out / "summary.json").read_text())["site_maps"]["limit"] == 50
    assert len(list((out / "sites").iterdir())) == len(expected)
    written = maps.rebuild_maps(out, overwrite=True, site_maps=3)
    assert written[0] == out / "map.html"
    assert [p.stem for p in written[1:]] == expected[:3]
    assert sorted(p.stem for p in (out / "sites").iterdir()) == sorted(expected[:3])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["site_maps"]["written"] == 3 and summary["results"]["exposed_sites"] > 0
    with pytest.raises(UsageError):
        maps.rebuild_maps(out, overwrite=True, site_maps="some")


def test_many_site_maps_prepare_the_tracks_once(tmp_path, fleet, monkeypatch):
    """Writing n site maps cuts the tracks once, for the overview and every site map."""
    calls = []
    real = _tracks.track_pieces

    def counting(*args, **kwargs):
        calls.append(len(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(_tracks, "track_pieces", counting)
    written = maps.write_maps(fleet, tmp_path / "out", site_maps="all")
    assert len(written) - 1 == len(ranked(fleet.sites)) >= 4
    assert calls == [len(fleet.fixes)]


def test_site_map_draws_only_the_tracks_around_its_zone(tmp_path):
    """A site map from prepared data: tracks clipped to the zone's box padded by half."""
    lats = 49.99 + 0.0001 * np.arange(200)  # north along 8.02 E, over W2 at 50.0 N
    near = make_fixes(lats, np.linspace(20, 140, 200), np.arange(200.0), lon=8.02)
    far = make_fixes(lats, np.full(200, 60.0), np.arange(200.0), flight="F9", lon=9.5)
    fixes = pd.concat([near, far], ignore_index=True)
    sites = make_sites([shapely.Point(8.02, 50.0), shapely.Point(9.0, 51.0)])
    sites = sites.assign(n_flights=[1, 0], n_captures=0, exposure_score=[10.0, 0.0])
    result = SimpleNamespace(sites=sites, fixes=fixes, flights=make_flights(fixes), params={})
    data = SiteMapData(result)
    m = maps.explore_site(result, "s0", data=data)
    specs = layer_specs(maps.write_map(m, tmp_path / "s0.html").read_text("utf-8"))
    zone = decode(specs["zone"]["g"])[0]
    w, s, e, n = zone.bounds
    box = shapely.box(w - (e - w) / 2, s - (n - s) / 2, e + (e - w) / 2, n + (n - s) / 2)
    spec = specs["flights around the zone"]
    assert set(spec["table"]["title"]) == {"F1"}  # not the far flight
    finest = [g for g in spec["decoded"][0] if g is not None]
    coords = np.concatenate([shapely.get_coordinates(g) for g in finest])
    assert shapely.contains_xy(shapely.buffer(box, 2e-6), coords[:, 0], coords[:, 1]).all()
    # The part of F1 drawn spans the box from south to north (about 200 m / 0.0018 deg each side).
    assert coords[:, 1].min() == pytest.approx(box.bounds[1], abs=2e-6)
    assert coords[:, 1].max() == pytest.approx(box.bounds[3], abs=2e-6)


def test_short_lines_keep_every_vertex_in_order():
    rng = np.random.default_rng(3)
    xy = np.cumsum(rng.normal(0, 1e-4, (101, 2)), axis=0)
    line = shapely.LineString(xy)
    other = shapely.MultiLineString([xy[:5], xy[10:12]])
    lines, of = short_lines(np.array([line, other], dtype=object), 10)
    assert (shapely.get_num_coordinates(lines) <= 10).all()
    assert (shapely.get_num_coordinates(lines) >= 2).all()
    mine = [shapely.get_coordinates(g) for g, o in zip(lines, of, strict=True) if o == 0]
    joined = np.concatenate([mine[0]] + [c[1:] for c in mine[1:]])
    assert all((a[-1] == b[0]).all() for a, b in itertools.pairwise(mine))
    np.testing.assert_array_equal(joined, xy)  # 100 segments: 12 lines of 9 or fewer
    assert len(mine) == 12 and list(of).count(1) == 2


def test_track_clip_equals_clipping_each_track_whole():
    rng = np.random.default_rng(7)
    n = 3000
    lon = 8.0 + np.cumsum(rng.normal(0, 2e-5, n))
    lat = 50.0 + np.cumsum(rng.normal(0, 2e-5, n))
    fixes = pd.concat(
        [
            make_track(lon[:1500], lat[:1500], flight="a", alt_agl_m=rng.uniform(10, 150, 1500)),
            make_track(lon[1500:], lat[1500:], flight="b", alt_agl_m=rng.uniform(10, 150, 1500)),
        ],
        ignore_index=True,
    )
    pieces = flight_pieces(None, fixes, {})
    clip = TrackClip(pieces, n_max=16)
    for box in [
        shapely.box(lon.min(), lat.min(), lon.max(), lat.max()),
        shapely.box(np.median(lon) - 2e-4, np.median(lat) - 2e-4, np.median(lon), np.median(lat)),
        shapely.box(20.0, 20.0, 21.0, 21.0),
    ]:
        got = clip.clip(box)
        whole = shapely.intersection(pieces.geoms, box)
        hit = np.flatnonzero(shapely.length(whole) > 0)
        assert got.frame.to_dict("records") == pieces.frame.iloc[hit].to_dict("records")
        np.testing.assert_array_equal(got.s, pieces.s[hit])
        np.testing.assert_allclose(shapely.length(got.geoms), shapely.length(whole[hit]))
        assert (shapely.hausdorff_distance(got.geoms, whole[hit]) < 1e-12).all()
        # with levels of detail: each level clipped as a whole would be, row by row
        got = TrackClip(pieces.with_levels(), n_max=16).clip(box)
        assert len(got.levels) == len(maps.TRACK_LEVELS_M) and len(got.frame) == len(hit)
        for level, mine in zip(pieces.with_levels().levels, got.levels, strict=True):
            expected = shapely.length(shapely.intersection(level[hit], box))
            np.testing.assert_allclose(shapely.length(mine), expected, atol=1e-12)


def test_site_map_data_groups_rows_by_site():
    pairs = pd.DataFrame({"site_id": ["b", "a", "b", 7], "flight_id": ["f1", "f2", "f3", "f4"]})
    sites = make_sites([shapely.Point(0, 0), shapely.Point(1, 1)])
    data = SiteMapData(SimpleNamespace(sites=sites, pairs=pairs))
    assert data.pairs_of("b")["flight_id"].tolist() == ["f1", "f3"]
    assert data.pairs_of("7")["flight_id"].tolist() == ["f4"]
    assert data.pairs_of("zz") is None
    assert data.site("s1")["name"].tolist() == ["site 1"] and data.site("nope") is None


def test_writing_site_maps_does_not_modify_the_result(tmp_path, fleet):
    before = {k: getattr(fleet, k).copy() for k in ("sites", "pairs", "fixes")}
    maps.write_maps(fleet, Path(tmp_path / "out"), site_maps=2)
    for key, frame in before.items():
        pd.testing.assert_frame_equal(getattr(fleet, key), frame)
