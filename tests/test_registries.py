"""Published registries read through the catalog's ``[registries]`` entries."""

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
from shapely.geometry import LineString, Point, Polygon

from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    CAPACITY_MW,
    FAMILY,
    KIND,
    NAME,
    OPERATOR,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    VOLTAGE_KV,
)
from geoexpose.sites.catalog import read_catalog
from geoexpose.sites.read import read_registry, read_sites
from geoexpose.sites.registries import load_registries

REPO = Path(__file__).resolve().parents[1]
CATALOG = REPO / "layers" / "catalog.toml"
EIA = "layers/us_power_plants_eia860_2019"
FRS = "layers/us_power_generators_eia2012_frs"
AMTRAK = "layers/us_rail_amtrak_stations_ntad/amtrak_stations.geojson"


@pytest.fixture(scope="module")
def raw() -> dict:
    with CATALOG.open("rb") as stream:
        return tomllib.load(stream)


def standoff(raw: dict, family: str, kind: str) -> float:
    return float(raw["families"][family]["kinds"][kind]["standoff_m"])


def quiet(read, *args, **kwargs):
    """Call a reader, returning its result and the InputWarning messages it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = read(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, InputWarning)]


def located_rows(path: Path, lat: str, lon: str) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    good = []
    for row in rows:
        try:
            y, x = float(row[lat]), float(row[lon])
        except ValueError:
            continue
        if -90 <= y <= 90 and -180 <= x <= 180 and (x, y) != (0, 0):
            good.append(row)
    return good


def xy(sites: gpd.GeoDataFrame) -> np.ndarray:
    return shapely.get_coordinates(sites.geometry.to_numpy())


# ------------------------------------------------------------------ real US tables
@pytest.mark.realdata
def test_eia860_xlsx_reads_like_its_csv_export(realdata: Path, raw: dict) -> None:
    """The original EIA-860 workbook (title row above the header) gives the plants of
    the CSV derived from it (SOURCE.txt): same codes, names, operators, positions."""
    reference = located_rows(
        realdata / EIA / "us_power_plants_eia860_2019_plants.csv", "latitude", "longitude"
    )
    path = realdata / EIA / "2___Plant_Y2019.xlsx"
    sites, messages = quiet(read_sites, f"eia860_plants={path}")
    assert messages  # rows without coordinates are named
    assert len(sites) == len(reference) == 11804
    assert sites[SITE_ID].tolist() == [f"eia860:{r['eia_plant_code']}" for r in reference]
    assert sites[NAME].tolist() == [r["plant_name"].strip() for r in reference]
    assert sites[OPERATOR].tolist() == [r["utility_name"].strip() for r in reference]
    np.testing.assert_allclose(
        xy(sites), [(float(r["longitude"]), float(r["latitude"])) for r in reference]
    )
    assert (sites[FAMILY] == "power").all() and (sites[KIND] == "plant").all()
    assert (sites[STANDOFF_M] == standoff(raw, "power", "plant")).all()
    assert (sites[SOURCE] == str(path)).all()
    kv = pd.to_numeric(pd.Series([r["grid_voltage_kv"] for r in reference]), errors="coerce")
    np.testing.assert_allclose(sites[VOLTAGE_KV], kv.where(kv >= 0))


@pytest.mark.realdata
def test_eia860_plants_with_capacity(realdata: Path) -> None:
    path = realdata / EIA / "us_power_plants_eia860_2019_plants.csv"
    reference = located_rows(path, "latitude", "longitude")
    sites, _ = quiet(read_registry, path)  # recognised by its columns
    assert sites[SITE_ID].tolist() == [f"eia860:{r['eia_plant_code']}" for r in reference]
    capacity = [
        float(r["gppd_capacity_mw"]) if r["gppd_capacity_mw"] else math.nan for r in reference
    ]
    np.testing.assert_allclose(sites[CAPACITY_MW], capacity)
    assert sites[CAPACITY_MW].notna().sum() > 9000
    assert sites.geometry.geom_type.eq("Point").all()
    bankhead = sites.set_index(SITE_ID).loc["eia860:2"]
    assert (bankhead[NAME], bankhead[CAPACITY_MW]) == ("Bankhead Dam", 53.9)


@pytest.mark.realdata
def test_gppd_table(realdata: Path) -> None:
    path = realdata / EIA / "gppd_database_USA.csv"
    reference = located_rows(path, "latitude", "longitude")
    sites, _ = quiet(read_registry, path)
    assert sites[SITE_ID].tolist() == [f"gppd:{r['gppd_idnr']}" for r in reference]
    assert sites[NAME].tolist() == [r["name"].strip() for r in reference]
    np.testing.assert_allclose(sites[CAPACITY_MW], [float(r["capacity_mw"]) for r in reference])


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["nuclear.geojson", "hydro.geojson"])
def test_eia_generators_located_by_frs(realdata: Path, raw: dict, name: str) -> None:
    path = realdata / FRS / name
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    props = [f["properties"] for f in features]
    sites = read_registry(path)
    assert len(sites) == len(features)
    assert sites[SITE_ID].tolist() == [
        f"eia860_generator:{p['EIA-860 PLANT_CODE']}-{p['GENERATOR_ID']}" for p in props
    ]
    assert sites[SITE_ID].is_unique  # one id per unit, no "#2" suffixes
    assert sites[NAME].tolist() == [p["PRIMARY_NAME"] for p in props]
    np.testing.assert_allclose(sites[CAPACITY_MW], [p["NAMEPLATE"] for p in props])
    assert (sites[KIND] == "generator_large").all()
    assert (sites[STANDOFF_M] == standoff(raw, "power", "generator_large")).all()
    np.testing.assert_allclose(xy(sites), [f["geometry"]["coordinates"] for f in features])


@pytest.mark.realdata
def test_amtrak_train_stations_only(realdata: Path) -> None:
    path = realdata / AMTRAK
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    trains = [f["properties"] for f in features if f["properties"]["stntype"] == "TRAIN"]
    sites = read_registry(path)
    assert len(sites) == len(trains) == 548
    assert sites[SITE_ID].tolist() == [f"amtrak:{p['code']}" for p in trains]
    assert sites[NAME].tolist() == [(p["name"] or "").strip() or p["stationnam"] for p in trains]
    assert set(sites[KIND]) == {"station"} and set(sites[FAMILY]) == {"rail"}
    # read as a plain layer it keeps every row, bus stops too
    assert len(read_sites(path, family="rail")) == len(features)


@pytest.mark.realdata
def test_sites_option_takes_entries_and_files(realdata: Path) -> None:
    """What scan does with --sites: catalog entries and files, several of both."""
    from geoexpose.scan import read_site_layers

    monaco = realdata / "layers/osm_monaco_2023_srai/monaco.osm.pbf"
    amtrak = f"ntad_amtrak_stations={realdata / AMTRAK}"
    nuclear = realdata / FRS / "nuclear.geojson"
    sites = read_site_layers([str(monaco), amtrak, f"eia860_generators_frs={nuclear}"])
    osm = read_sites(monaco)
    assert sites[SITE_ID].str.startswith("osm:").sum() == len(osm)
    assert sites[SITE_ID].str.startswith("amtrak:").sum() == 548
    assert sites[SITE_ID].str.startswith("eia860_generator:").sum() == 102
    assert [entry["path"] for entry in sites.attrs["geoexpose"]["layers"]] == [
        str(monaco),
        str(realdata / AMTRAK),
        str(nuclear),
    ]
    with pytest.raises(InputError, match="ntad_amtrak_stations=FILE"):
        read_site_layers(["ntad_amtrak_stations"])


# ------------------------------------------------------------------ HIFLD-style files
def hifld(tmp_path: Path, name: str, columns: dict, geometries: list, suffix: str) -> Path:
    frame = gpd.GeoDataFrame(columns, geometry=geometries, crs="EPSG:4326")
    path = tmp_path / f"{name}{suffix}"
    frame.to_file(path)
    return path


@pytest.mark.parametrize("suffix", [".shp", ".geojson"])
def test_hifld_style_layers(tmp_path: Path, raw: dict, suffix: str) -> None:
    substations = hifld(
        tmp_path,
        "Electric_Substations",
        {
            "ID": ["110001", "110002"],
            "NAME": ["NORTH", "SOUTH"],
            "TYPE": ["SUBSTATION", "TAP"],
            "STATUS": ["IN SERVICE"] * 2,
            "MAX_VOLT": [345.0, -999999.0],
            "MIN_VOLT": [115.0, 69.0],
            "LINES": [4, 2],
            "SOURCE": ["http://example.invalid/a", "b"],
        },
        [Point(-90.1, 35.1), Point(-90.2, 35.2)],
        suffix,
    )
    lines = hifld(
        tmp_path,
        "Transmission_Lines",
        {
            "ID": ["200001"],
            "TYPE": ["AC; OVERHEAD"],
            "OWNER": ["TVA"],
            "VOLTAGE": [500.0],
            "VOLT_CLASS": ["500"],
            "SUB_1": ["NORTH"],
            "SUB_2": ["SOUTH"],
        },
        [LineString([(-90.1, 35.1), (-90.2, 35.2)])],
        suffix,
    )
    mirta = hifld(
        tmp_path,
        "MIRTA_Boundaries",
        {
            "SITE_NAME": ["Fort Example"],
            "COMPONENT": ["Army Active"],
            "STATE_TERR": ["TN"],
            "OPER_STAT": ["Active"],
        },
        [Polygon([(-89, 35), (-88.9, 35), (-88.9, 35.1), (-89, 35.1)])],
        suffix,
    )
    rail = hifld(
        tmp_path,
        "NARN_Lines",
        {"FRAARCID": [301, 302], "RROWNER1": ["BNSF", "UP"], "SUBDIV": ["Memphis", None]},
        [LineString([(-90, 35), (-89.9, 35)]), LineString([(-89.9, 35), (-89.8, 35)])],
        suffix,
    )
    water = hifld(
        tmp_path,
        "Wastewater_Plants",
        {"REGISTRY_ID": ["110000000001"], "PRIMARY_NAME": ["CITY WWTP"]},
        [Point(-90.3, 35.3)],
        ".geojson",
    )  # names > 10 characters: GeoJSON

    subs = read_registry(substations)
    assert subs[SITE_ID].tolist() == ["hifld_substation:110001", "hifld_substation:110002"]
    assert subs[KIND].tolist() == ["substation"] * 2  # TYPE does not decide the kind
    assert subs[VOLTAGE_KV].iloc[0] == 345.0 and math.isnan(subs[VOLTAGE_KV].iloc[1])
    assert (subs[SOURCE] == str(substations)).all()  # not the file's SOURCE column
    assert (subs[STANDOFF_M] == standoff(raw, "power", "substation")).all()
    line = read_registry(lines)
    assert (line[SITE_ID].iloc[0], line[KIND].iloc[0], line[OPERATOR].iloc[0]) == (
        "hifld_line:200001",
        "transmission_line",
        "TVA",
    )
    assert line[VOLTAGE_KV].iloc[0] == 500.0 and line.geometry.iloc[0].geom_type == "LineString"
    base = read_registry(mirta)
    assert (base[FAMILY].iloc[0], base[KIND].iloc[0], base[NAME].iloc[0]) == (
        "military",
        "base",
        "Fort Example",
    )
    assert base[OPERATOR].iloc[0] == "Army Active"
    assert base[SITE_ID].iloc[0].startswith("mirta:")
    tracks = read_registry(rail)
    assert tracks[SITE_ID].tolist() == ["narn:301", "narn:302"]
    assert tracks[OPERATOR].tolist() == ["BNSF", "UP"] and tracks[NAME].iloc[0] == "Memphis"
    plants = read_registry(water)
    assert (plants[KIND].iloc[0], plants[SITE_ID].iloc[0]) == (
        "wastewater_plant",
        "frs:110000000001",
    )


def test_entry_arguments_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "plants.csv"
    path.write_text(
        "Plant Code,Plant Name,Utility Name,Sector Name,lat,lon\n7,Alpha,Util,IPP,40.0,-100.0\n",
        encoding="utf-8",
    )
    named = read_sites(path, registry="eia860_plants")
    assert named[SITE_ID].tolist() == ["eia860:7"] and named[OPERATOR].tolist() == ["Util"]
    # explicit arguments win over the entry's
    mine = read_sites(path, registry="eia860_plants", kind="substation", id_prefix="me")
    assert (mine[SITE_ID].iloc[0], mine[KIND].iloc[0]) == ("me:7", "substation")
    plain = read_sites(path, family="power")  # no entry: the alias table, the file's stem
    assert plain[SITE_ID].tolist() == ["plants:7"]
    with pytest.raises(UsageError, match=r"no registry entry 'eia861'.*eia860_plants"):
        read_sites(path, registry="eia861")
    with pytest.raises(InputError, match="eia860_plants=FILE"):
        read_sites("eia860_plants")
    with pytest.raises(InputError, match="no such file"):
        read_sites(f"eia860_plants={tmp_path / 'absent.xlsx'}")
    other = tmp_path / "other.csv"
    other.write_text("lon,lat,what\n1,2,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="match no registry entry"):
        read_registry(other)


def test_plain_spreadsheet(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "Plant Code": ["5"],
            "Plant Name": ["Beta"],
            "Utility Name": ["U"],
            "Sector Name": ["IPP"],
            "Latitude": ["41.5"],
            "Longitude": ["-99.5"],
        }
    )
    path = tmp_path / "plants.xlsx"
    import pyogrio

    pyogrio.write_dataframe(frame, path, driver="XLSX")
    sites = read_registry(path)
    assert sites[SITE_ID].tolist() == ["eia860:5"] and sites[NAME].tolist() == ["Beta"]
    np.testing.assert_allclose(xy(sites), [(-99.5, 41.5)])


def test_every_entry_is_valid_and_invalid_ones_are_refused(tmp_path: Path, raw: dict) -> None:
    entries = load_registries()
    assert set(entries) == set(raw["registries"])
    for entry in entries.values():
        assert entry.kind in raw["families"][entry.family]["kinds"]
    text = CATALOG.read_text(encoding="utf-8")
    bad = text.replace('id_prefix = "amtrak"', 'id_prefix = "Amtrak"\ncolour = "red"')
    bad = bad.replace('columns = { id = "FRAARCID"', 'columns = { fid = "FRAARCID"')
    path = tmp_path / "catalog.toml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_catalog(path)
    message = str(caught.value)
    assert "registries.ntad_amtrak_stations.id_prefix must be" in message
    assert "unknown key registries.ntad_amtrak_stations.colour" in message
    assert "registries.ntad_rail_lines.columns: unknown site field 'fid'" in message
