"""Site maps of a fleet scan prepare only what the mapped sites need: their rows and the
fixes near them; MultiPoints are encoded without opening them."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geoexpose import maps
from geoexpose.maps._encode import encode_geometries
from geoexpose.maps._site_data import SiteMapData
from tests._map_scene import make_fixes
from tests.conftest import make_sites

GEOD = Geod(ellps="WGS84")


def _north(lat: float, metres: float) -> float:
    """Latitude ``metres`` north of ``lat`` at 8 E, by pyproj.Geod."""
    return float(GEOD.fwd(8.0, lat, 0.0, metres)[1])


def _scene() -> SimpleNamespace:
    """Two sites 100 m standoff at 8 E, 50 N and 51 N; fixes at known distances north."""
    sites = make_sites([shapely.Point(8.0, 50.0), shapely.Point(8.0, 51.0)])
    sites["n_flights"] = [1, 1]
    sites["exposure_score"] = [5.0, 3.0]
    lats = [_north(50.0, 50.0), _north(50.0, 150.0), _north(51.0, 20.0), 52.0, _north(50.0, 90)]
    fixes = make_fixes(lats, [30.0, 40.0, 50.0, 60.0, 70.0], [0, 1, 2, 3, 4])
    return SimpleNamespace(sites=sites, fixes=fixes, flights=None, pairs=None)


def test_site_map_data_keeps_only_the_chosen_sites_and_the_fixes_near_them():
    """s0 alone: its row, and of the fixes only those within about its zone (rows 0 and 4)."""
    data = SiteMapData(_scene(), site_ids=["s0"])
    assert data.sites["site_id"].tolist() == ["s0"]
    assert data.site("s1") is None and data.site("s0") is not None
    assert data.fixes.index.tolist() == [0, 4]  # 50 m and 90 m north; 150 m is beyond
    assert data.fix_index.inside(shapely.Point(8.0, 50.0).buffer(0.01)).tolist() == [0, 1]


def test_site_map_data_for_all_sites_keeps_every_fix():
    data = SiteMapData(_scene())
    assert data.sites["site_id"].tolist() == ["s0", "s1"]
    assert data.fixes.index.tolist() == [0, 1, 2, 3, 4]


def _masked(path) -> str:
    return re.sub(r"[0-9a-f]{32}", "ID", path.read_text(encoding="utf-8"))


def test_a_site_map_is_the_same_drawn_from_the_chosen_rows_or_from_all(tmp_path):
    """The map of s0 from data kept for s0 alone equals the one from all the data."""
    scene = _scene()
    alone = maps.write_site_maps(scene, tmp_path / "a", site_ids=["s0"])["s0"]
    full = maps.write_site_maps(scene, tmp_path / "b", site_ids=["s0"], data=SiteMapData(scene))[
        "s0"
    ]
    text = _masked(alone)
    assert text == _masked(full)
    assert "fixes in the zone" in text


def test_points_and_multipoints_are_encoded_vertex_by_vertex():
    """fp counts each feature's points; each point is a part of one path of one vertex."""
    geoms = np.array(
        [shapely.Point(1, 2), None, shapely.MultiPoint([(3, 4), (5, 6)]), shapely.MultiPoint()],
        dtype=object,
    )
    got = {k: np.asarray(v).tolist() for k, v in encode_geometries(geoms).items()}
    micro = 1_000_000
    assert got["fp"] == [1, 0, 2, 0]
    assert got["pt"] == [0, 0, 0] and got["pr"] == [1, 1, 1] and got["rc"] == [1, 1, 1]
    assert got["d"] == [1 * micro, 2 * micro, 2 * micro, 2 * micro, 2 * micro, 2 * micro]


def test_site_file_names_of_arrow_text_match_those_of_python_strings():
    """Case-only clashes take the SHA-1 suffix whatever the column's dtype."""
    ids = ["W1", "w1", "osm:way/7", "con"]
    expect = {
        "W1": "W1-66ed7150.html",  # hashlib.sha1(b"W1").hexdigest()[:8]
        "w1": "w1-2927b464.html",
        "osm:way/7": "osm_way_7.html",
        "con": "_con.html",
    }
    assert maps.site_file_names(pd.Series(ids, dtype="string[pyarrow]")) == expect
    assert maps.site_file_names(ids) == expect
