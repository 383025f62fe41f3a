"""Tests of read_sites: formats, CRS, attribute mapping, family/kind, standoff, geometry."""

from __future__ import annotations

import csv
import json
import math
import tomllib
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, MultiPolygon, Point, Polygon

from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    FAMILY,
    GEOMETRY,
    KIND,
    NAME,
    OPERATOR,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
)
from geoexpose.sites.read import CAPACITY_MW, DROPPED_ROWS, VOLTAGE_KV, read_sites

CATALOG = Path(__file__).resolve().parent.parent / "layers" / "catalog.toml"
LONLAT = [(13.40, 52.52), (2.35, 48.86), (-77.04, 38.90)]


@pytest.fixture(scope="module")
def raw() -> dict:
    with CATALOG.open("rb") as stream:
        return tomllib.load(stream)


def kind_standoff(raw: dict, family: str, kind: str) -> float:
    return float(raw["families"][family]["kinds"][kind]["standoff_m"])


def plants(crs: str = "EPSG:4326") -> gpd.GeoDataFrame:
    """Three power sites with HIFLD/EIA-style attribute names, in EPSG:4326."""
    frame = gpd.GeoDataFrame(
        {
            "PLANT_CODE": [17, 4, 99],
            "NAME": ["North Works", "Quay Sub", "Old Mill"],
            "OPERATOR": ["GridCo", "GridCo", None],
            "TYPE": ["Power Plant", "SUBSTATION", "Substation"],
            "family": ["Power", "power", "ELECTRIC"],
        },
        geometry=[Point(xy) for xy in LONLAT],
        crs="EPSG:4326",
    )
    return frame.to_crs(crs)


def write(frame: gpd.GeoDataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_file(path)
    return path


def xy(sites: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(sites.geometry.to_numpy())


# ------------------------------------------------------------------ formats
@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb", ".parquet"])
def test_vector_formats(tmp_path: Path, suffix: str, raw: dict) -> None:
    path = write(plants(), tmp_path / f"grid{suffix}")
    # FlatGeobuf stores features in spatial-index order: compare in id order
    order = {"grid:17": 0, "grid:4": 1, "grid:99": 2}
    sites = read_sites(path).sort_values(SITE_ID, key=lambda ids: ids.map(order))
    assert list(sites.columns) == [*SITE_COLUMNS, CAPACITY_MW, VOLTAGE_KV]
    assert sites.crs.to_epsg() == 4326
    assert sites[SITE_ID].tolist() == ["grid:17", "grid:4", "grid:99"]
    assert sites[NAME].tolist() == ["North Works", "Quay Sub", "Old Mill"]
    assert sites[OPERATOR].iloc[:2].tolist() == ["GridCo", "GridCo"]
    assert pd.isna(sites[OPERATOR].iloc[2])
    assert sites[FAMILY].tolist() == ["power"] * 3
    assert sites[KIND].tolist() == ["plant", "substation", "substation"]
    assert sites[STANDOFF_M].tolist() == [
        kind_standoff(raw, "power", "plant"),
        kind_standoff(raw, "power", "substation"),
        kind_standoff(raw, "power", "substation"),
    ]
    assert (sites[SOURCE] == str(path)).all()
    np.testing.assert_allclose(xy(sites), LONLAT, atol=1e-9)
    # naming the file's own CRS is allowed (GeoJSON's CRS84 is EPSG:4326 up to axis order)
    assert len(read_sites(path, crs="EPSG:4326")) == 3


def test_csv_with_lon_lat(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(
        "Plant Code,Plant Name,Utility Name,Latitude,Longitude,Grid Voltage (kV)\n"
        "007,Alpha,Util A,52.52,13.40,115\n"
        "008,Beta,,48.86,2.35,-999999\n",
        encoding="utf-8",
    )
    sites = read_sites(path, family="power", kind="plant")
    assert sites[SITE_ID].tolist() == ["sites:007", "sites:008"]  # leading zeros kept
    assert sites[NAME].tolist() == ["Alpha", "Beta"]
    np.testing.assert_allclose(xy(sites), LONLAT[:2])
    assert sites[VOLTAGE_KV].iloc[0] == 115.0
    assert math.isnan(sites[VOLTAGE_KV].iloc[1])  # HIFLD-style "unknown"


def test_csv_named_coordinates_and_crs(tmp_path: Path) -> None:
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    east, north = to_merc.transform(*np.array(LONLAT).T)
    path = tmp_path / "merc.csv"
    lines = ["E,N,family"] + [f"{e:.9f},{n:.9f},rail" for e, n in zip(east, north, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="lon"):
        read_sites(path)
    with pytest.raises(InputError, match="every coordinate is out of range"):
        read_sites(path, lon="e", lat="n")  # metres read as degrees
    sites = read_sites(path, lon="E", lat="N", crs="EPSG:3857")
    np.testing.assert_allclose(xy(sites), LONLAT, atol=1e-9)
    assert sites[KIND].tolist() == ["unspecified"] * 3


def test_projected_file_is_reprojected(tmp_path: Path) -> None:
    utm = "EPSG:32633"
    to_utm = Transformer.from_crs("EPSG:4326", utm, always_xy=True)
    to_lonlat = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    x0, y0 = to_utm.transform(13.40, 52.52)
    square = Polygon([(x0, y0), (x0 + 500, y0), (x0 + 500, y0 + 500), (x0, y0 + 500)])
    frame = gpd.GeoDataFrame(
        {"name": ["Depot", "Gate"], "kind": ["Munitions", "checkpoint"]},
        geometry=[square, Point(x0 - 1000, y0 - 2000)],
        crs=utm,
    )
    path = write(frame, tmp_path / "base.gpkg")
    sites = read_sites(path, family="military")
    expected = np.column_stack(to_lonlat.transform(*shapely.get_coordinates(frame.geometry).T))
    np.testing.assert_allclose(xy(sites), expected, atol=1e-9)
    assert sites[KIND].tolist() == ["ammunition_depot", "other"]
    with pytest.raises(InputError, match="EPSG:32633"):
        read_sites(path, family="military", crs="EPSG:32632")


def test_file_without_crs(tmp_path: Path) -> None:
    path = write(plants("EPSG:32633"), tmp_path / "nocrs.shp")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match="has no CRS"):
        read_sites(path)
    sites = read_sites(path, crs="EPSG:32633")
    np.testing.assert_allclose(xy(sites), LONLAT, atol=1e-7)


def test_frame_input_is_not_modified() -> None:
    frame = plants("EPSG:3857")
    before = frame.copy()
    sites = read_sites(frame, id_prefix="mine")
    pd.testing.assert_frame_equal(frame, before)
    assert sites[SITE_ID].tolist() == ["mine:17", "mine:4", "mine:99"]
    np.testing.assert_allclose(xy(sites), LONLAT, atol=1e-9)
    table = pd.DataFrame({"lng": [13.40], "lat": [52.52], "family": ["water"]})
    assert read_sites(table)[SITE_ID].tolist() == ["site:1"]


# ------------------------------------------------------------------ layers and errors
def test_multi_layer_geopackage(tmp_path: Path) -> None:
    path = tmp_path / "many.gpkg"
    plants().to_file(path, layer="plants")
    plants().iloc[:1].to_file(path, layer="other")
    with pytest.raises(InputError, match=r"2 layers \(plants, other\).*layer="):
        read_sites(path)
    assert len(read_sites(path, layer="other")) == 1
    with pytest.raises(InputError, match="no layer 'nope'"):
        read_sites(path, layer="nope")
    plants().iloc[:2].to_file(path, layer="sites")
    assert len(read_sites(path)) == 2  # the sites layer of a geoexpose output


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.gpkg", b"not a database", "cannot read"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [', "cannot read"),
        ("empty.csv", b"", "cannot read as CSV"),
        ("words.csv", b"lon,lat,family\nabc,1,water\n", "row 2: lon 'abc' is not a number"),
        ("plain.csv", b"a,b\n1,2\n", "no lon column"),
        ("area.osm.pbf", b"\x00", "cannot read as OpenStreetMap data"),
    ],
)
def test_unreadable_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_sites(path, family="water")
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_sites(tmp_path / "absent.gpkg")


# ------------------------------------------------------------------ attribute mapping
def test_alias_table_and_coalescing(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {
            "OBJECTID": [1, 2],
            "name": [" ", "Union Station"],  # blank in NTAD: falls back to stationnam
            "stationnam": ["Alma, MI", "Ignored"],
            "Utility Name": ["City", "Amtrak"],
            "owner": [None, "Other"],  # owner comes first in the alias table
            "Family": ["Railroad", "RAIL"],
            "Kind": ["Train Station", "rail yard"],
        },
        geometry=[Point(0.5, 0.5), Point(1, 1)],
        crs="EPSG:4326",
    )
    sites = read_sites(write(frame, tmp_path / "stations.geojson"))
    assert sites[SITE_ID].tolist() == ["stations:1", "stations:2"]
    assert sites[NAME].tolist() == ["Alma, MI", "Union Station"]
    assert sites[OPERATOR].tolist() == ["City", "Other"]
    assert sites[FAMILY].tolist() == ["rail", "rail"]
    assert sites[KIND].tolist() == ["station", "yard"]


def test_user_mapping(tmp_path: Path, raw: dict) -> None:
    frame = gpd.GeoDataFrame(
        {
            "NOM": ["Usine A", "Usine B"],
            "EXPLOITANT": ["EDF", "RTE"],
            "CATEGORIE": ["poste", "centrale"],
            "name": ["wrong", "wrong"],
            "RAYON": [40.0, None],
        },
        geometry=[Point(2.3, 48.8), Point(2.4, 48.9)],
        crs="EPSG:4326",
    )
    path = write(frame, tmp_path / "fr.gpkg")
    mapping = {"name": "nom", "operator": "EXPLOITANT", "kind": "CATEGORIE", "standoff_m": "RAYON"}
    sites = read_sites(path, family="power", columns=mapping)
    assert sites[NAME].tolist() == ["Usine A", "Usine B"]
    assert sites[OPERATOR].tolist() == ["EDF", "RTE"]
    assert sites[KIND].tolist() == ["poste", "centrale"]  # a user's own kinds
    assert sites[STANDOFF_M].tolist() == [40.0, raw["families"]["power"]["standoff_m"]]
    with pytest.raises(InputError, match=r"no field 'LIBELLE'.*NOM, EXPLOITANT"):
        read_sites(path, family="power", columns={"name": "LIBELLE"})
    with pytest.raises(UsageError, match="unknown site field"):
        read_sites(path, family="power", columns={"title": "NOM"})
    no_name = read_sites(path, family="power", columns={"name": None})
    assert no_name[NAME].isna().all()


def test_site_ids(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"code": ["A", "A", None, "B", "A"], "family": "water"},
        geometry=[Point(i + 1, i) for i in range(5)],
        crs="EPSG:4326",
    )
    path = write(frame, tmp_path / "wells.gpkg")
    ids = read_sites(path)[SITE_ID].tolist()
    assert ids == ["wells:A", "wells:A#2", "wells:3", "wells:B", "wells:A#3"]
    assert read_sites(path, id_prefix="nid")[SITE_ID].iloc[3] == "nid:B"
    no_ids = read_sites(path, columns={"id": None})[SITE_ID].tolist()
    assert no_ids == [f"wells:{row}" for row in range(1, 6)]


def test_output_reads_back_unchanged(tmp_path: Path) -> None:
    first = read_sites(plants(), id_prefix="eia", standoff={"power": 10})
    path = tmp_path / "exposure.gpkg"
    first.to_file(path, layer="sites")
    again = read_sites(path)
    pd.testing.assert_frame_equal(again, first, check_dtype=False)


# ------------------------------------------------------------------ family, kind, standoff
def test_family_is_required(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"family": ["water", None, None]},
        geometry=[Point(0, 1), Point(0, 2), Point(0, 3)],
        crs="EPSG:4326",
    )
    path = write(frame, tmp_path / "mixed.gpkg")
    with pytest.raises(InputError, match=r"mixed.gpkg: row 2 has no family") as caught:
        read_sites(path)
    assert "2 such rows" in str(caught.value)
    with pytest.raises(UsageError, match=r"family='Pipelines' is not a family"):
        read_sites(path, family="Pipelines")  # unknown to the catalog and not declared
    filled = read_sites(path, family="Pipelines", standoff={"pipelines": 80})
    assert filled[FAMILY].tolist() == ["water", "pipelines", "pipelines"]
    assert filled[STANDOFF_M].tolist()[1:] == [80.0, 80.0]


def test_kind_keyword_fills_unknown_and_missing(tmp_path: Path, raw: dict) -> None:
    frame = gpd.GeoDataFrame(
        {"TYPE": ["NATURAL GAS", None, "substation"], "family": ["power", "power", "power"]},
        geometry=[Point(0, 1), Point(0, 2), Point(0, 3)],
        crs="EPSG:4326",
    )
    sites = read_sites(frame, kind="Power Station")
    assert sites[KIND].tolist() == ["plant", "plant", "substation"]
    kept = read_sites(frame)
    assert kept[KIND].tolist() == ["natural_gas", "unspecified", "substation"]
    assert kept[STANDOFF_M].tolist() == [
        raw["families"]["power"]["standoff_m"],
        raw["families"]["power"]["standoff_m"],
        kind_standoff(raw, "power", "substation"),
    ]


def test_standoff_precedence(raw: dict) -> None:
    frame = gpd.GeoDataFrame(
        {
            "family": ["military", "military", "power", "power", "water", "gas"],
            "kind": ["base", "depot", "substation", "plant", "dam", "compressor"],
            "standoff_m": [None, None, None, None, 12.5, None],
        },
        geometry=[Point(1, i) for i in range(6)],
        crs="EPSG:4326",
    )
    defaults = read_sites(frame)[STANDOFF_M].tolist()
    assert defaults == [
        kind_standoff(raw, "military", "base"),
        kind_standoff(raw, "military", "depot"),
        kind_standoff(raw, "power", "substation"),
        kind_standoff(raw, "power", "plant"),
        12.5,  # the site's own value
        raw["defaults"]["standoff_m"],  # a user's own family
    ]
    overrides = {"Military": 500, "substation": 150, "depot": 900, "dam": 1, "gas": 7}
    sites = read_sites(frame, standoff=overrides)
    assert sites[STANDOFF_M].tolist() == [
        500,
        900,
        150,
        kind_standoff(raw, "power", "plant"),
        12.5,
        7,
    ]
    alias = read_sites(frame, standoff={"ammunition": 1.0, "sub_station": 2.0})
    assert alias[STANDOFF_M].tolist()[2] == 2.0


@pytest.mark.parametrize(
    ("standoff", "message"),
    [
        ({"military": -1}, ">= 0"),
        ({"military": float("nan")}, ">= 0"),
        ({"military": "500"}, "number"),
        ({"militray": 500}, "neither a family nor a kind"),
    ],
)
def test_bad_standoff_option(standoff: dict, message: str) -> None:
    frame = gpd.GeoDataFrame({"family": ["military"]}, geometry=[Point(1, 2)], crs="EPSG:4326")
    with pytest.raises(UsageError, match=message):
        read_sites(frame, standoff=standoff)


@pytest.mark.parametrize("value", ["-5", "far", "inf"])
def test_bad_standoff_attribute(tmp_path: Path, value: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(f"lon,lat,standoff_m\n1,1,10\n2,2,{value}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.csv: row 3: standoff_m"):  # line 3 of the file
        read_sites(path, family="rail")


# ------------------------------------------------------------------ geometry
def test_geometry_types_repair_and_drops(tmp_path: Path) -> None:
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1), (0, 0)])
    geometries = [
        LineString([(0, 0, 5), (1, 1, 5)]),
        bowtie,
        None,
        MultiPolygon([Polygon([(2, 2), (3, 2), (3, 3)]), Polygon([(4, 4), (5, 4), (5, 5)])]),
        Point(),
        Point(0, 0),
        Point(10, 95),
        Point(3, 3),
    ]
    frame = gpd.GeoDataFrame(
        {"family": ["rail"] * len(geometries)}, geometry=geometries, crs="EPSG:4326"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sites = read_sites(frame)
    messages = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert any("2 row(s) with no geometry: row(s) 3, 5" in m for m in messages)
    assert any("coordinates out of range: row(s) 7" in m for m in messages)
    assert any("a point at 0/0: row(s) 6" in m for m in messages)
    assert sites.attrs[DROPPED_ROWS] == {
        "no geometry": 2,
        "coordinates out of range": 1,
        "a point at 0/0": 1,
    }
    assert sites[SITE_ID].tolist() == ["site:1", "site:2", "site:4", "site:8"]
    geoms = sites[GEOMETRY].to_numpy()
    assert shapely.is_valid(geoms).all()
    assert not shapely.has_z(geoms).any()
    assert geoms[1].geom_type == "MultiPolygon"  # the bow tie, repaired
    assert math.isclose(geoms[1].area, 0.5, rel_tol=1e-12)  # two triangles of 0.25
    assert geoms[2].geom_type == "MultiPolygon"


def test_empty_layer(tmp_path: Path) -> None:
    path = tmp_path / "none.csv"
    path.write_text("lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"none\.csv: holds no site"):
        read_sites(path)  # a file without sites is an error (tests/test_hostile_inputs.py)
    frame = pd.DataFrame({"lon": pd.Series(dtype="float64"), "lat": pd.Series(dtype="float64")})
    sites = read_sites(frame)  # a frame may be empty
    assert len(sites) == 0
    assert list(sites.columns) == [*SITE_COLUMNS, CAPACITY_MW, VOLTAGE_KV]


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
def test_realdata_eia860_plants(realdata: Path, raw: dict) -> None:
    path = realdata / "layers/us_power_plants_eia860_2019/us_power_plants_eia860_2019_plants.csv"
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        rows, lines = [], []  # each record and the line of the file it ends on
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)

    def located(row: dict) -> bool:
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except ValueError:
            return False
        return -90 <= lat <= 90 and -180 <= lon <= 180

    good = [row for row in rows if located(row)]
    no_coordinates = [
        line for line, row in zip(lines, rows, strict=True) if not row["latitude"].strip()
    ]
    with pytest.warns(InputWarning) as caught:
        sites = read_sites(path, family="power", kind="plant")
    assert len(sites) == len(good) == 11804
    assert f"row(s) {no_coordinates[0]}, {no_coordinates[1]}," in str(caught[0].message)
    assert sites[SITE_ID].tolist() == [f"{path.stem}:{row['eia_plant_code']}" for row in good]
    assert sites[NAME].tolist() == [row["plant_name"].strip() for row in good]
    assert {"Bankhead Dam", "Sand Point"} <= set(sites[NAME])
    assert (sites[STANDOFF_M] == kind_standoff(raw, "power", "plant")).all()
    np.testing.assert_allclose(
        xy(sites), [(float(r["longitude"]), float(r["latitude"])) for r in good]
    )


@pytest.mark.realdata
def test_realdata_amtrak_stations(realdata: Path) -> None:
    path = realdata / "layers/us_rail_amtrak_stations_ntad/amtrak_stations.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    sites = read_sites(path, family="rail", kind="station")
    assert len(sites) == len(features) == 1096
    # the documented rule: "name" where not blank (224 rows), else "stationnam"
    names = [
        (f["properties"]["name"] or "").strip() or f["properties"]["stationnam"] for f in features
    ]
    assert sites[NAME].tolist() == names
    assert "Alma, MI" in set(sites[NAME])
    assert sites[SITE_ID].tolist() == [
        f"amtrak_stations:{f['properties']['code']}" for f in features
    ]
    assert (sites[KIND] == "station").all()


@pytest.mark.realdata
def test_realdata_nuclear_generators(realdata: Path) -> None:
    path = realdata / "layers/us_power_generators_eia2012_frs/nuclear.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    plant_codes = [f["properties"]["EIA-860 PLANT_CODE"] for f in features]
    sites = read_sites(path, family="power", kind="generator_large")
    assert len(sites) == len(features) == 102
    assert sites[SITE_ID].is_unique
    assert sites[SITE_ID].str.contains("#").sum() == len(plant_codes) - len(set(plant_codes))
    assert set(sites[NAME]) == {f["properties"]["PRIMARY_NAME"] for f in features}
    assert "FARLEY NUCLEAR PLANT" in set(sites[NAME])
    assert set(sites[OPERATOR]) == {f["properties"]["UTILITY_NAME"] for f in features}


def test_csv_in_latin1(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_bytes("name,lon,lat\nKöln,6.96,50.94\n".encode("latin-1"))
    sites = read_sites(path, family="water", kind="Wasserwerk")
    assert sites[NAME].tolist() == ["Köln"]
    assert sites[KIND].tolist() == ["wasserwerk"]
