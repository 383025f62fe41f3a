"""A family the layer catalog does not know: refused as family=, unless declared with its standoff.

Expected families, aliases and standoffs are read from ``layers/catalog.toml`` with
:mod:`tomllib`, not from geoexpose.
"""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Point

from geoexpose.errors import UsageError
from geoexpose.schema import FAMILY, STANDOFF_M
from geoexpose.sites import read_sites

CATALOG = Path(__file__).resolve().parent.parent / "layers" / "catalog.toml"


@pytest.fixture(scope="module")
def raw() -> dict:
    with CATALOG.open("rb") as stream:
        return tomllib.load(stream)


def layer(families: list[str | None]) -> gpd.GeoDataFrame:
    points = [Point(10.0 + i / 100, 50.0) for i in range(len(families))]
    return gpd.GeoDataFrame({"family": families}, geometry=points, crs="EPSG:4326")


def test_unknown_family_is_refused_with_the_known_ones_and_the_closest(raw: dict) -> None:
    with pytest.raises(UsageError) as caught:
        read_sites(layer([None, None]), family="waterr")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("family='waterr' is not a family of the layer catalog")
    for family in raw["families"]:
        assert family in message
    assert "did you mean 'water'?" in message
    assert "standoff={'waterr': METRES}" in message  # how to declare it


def test_unknown_family_is_refused_even_when_no_row_needs_it() -> None:
    with pytest.raises(UsageError, match="family='pipelinez'"):
        read_sites(layer(["water"]), family="pipelinez")


def test_far_name_gets_no_suggestion() -> None:
    with pytest.raises(UsageError) as caught:
        read_sites(layer([None]), family="zzqx")
    assert "did you mean" not in str(caught.value)


def test_declared_family_is_accepted_with_its_standoff() -> None:
    sites = read_sites(layer([None, "rail"]), family="Pipelines", standoff={"pipelines": 80})
    assert sites[FAMILY].tolist() == ["pipelines", "rail"]
    assert sites[STANDOFF_M].iloc[0] == 80.0
    # declared in another spelling of the same label
    sites = read_sites(layer([None]), family="pipelines", standoff={" PIPELINES ": 40.5})
    assert sites[STANDOFF_M].tolist() == [40.5]


def test_catalog_family_and_alias_need_no_declaration(raw: dict) -> None:
    for name, table in raw["families"].items():
        alias = table.get("aliases", [name])[0]
        sites = read_sites(layer([None]), family=alias)
        assert sites[FAMILY].tolist() == [name]
        assert sites[STANDOFF_M].tolist() == [float(table["standoff_m"])]


def test_unknown_family_values_in_the_layer_are_kept_and_logged(
    raw: dict, caplog: pytest.LogCaptureFixture
) -> None:
    default = float(raw["defaults"]["standoff_m"])
    with caplog.at_level(logging.WARNING, logger="geoexpose.sites"):
        sites = read_sites(layer(["telecom", "telecom", "water", "gas_grid"]))
    assert sites[FAMILY].tolist() == ["telecom", "telecom", "water", "gas_grid"]
    assert sites[STANDOFF_M].tolist()[:2] == [default, default]
    (record,) = [r for r in caplog.records if "does not know" in r.getMessage()]
    text = record.getMessage()
    assert "telecom (2 sites)" in text and "gas_grid (1 sites)" in text
    assert f"{default:g} m" in text and "water" not in text.split("know:")[1].split(";")[0]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="geoexpose.sites"):
        declared = read_sites(layer(["telecom"]), standoff={"telecom": 30})
    assert declared[STANDOFF_M].tolist() == [30.0]
    assert not [r for r in caplog.records if "does not know" in r.getMessage()]


def test_misspelt_standoff_key_is_refused_with_the_closest() -> None:
    with pytest.raises(UsageError) as caught:
        read_sites(layer(["military"]), standoff={"militray": 500})
    message = str(caught.value)
    assert "neither a family nor a kind" in message and "did you mean 'military'?" in message
