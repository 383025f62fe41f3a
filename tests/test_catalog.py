"""Tests of the layer catalog: shipped content, lookups, validation, where it is found."""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import geoexpose
from geoexpose.errors import InputError, UsageError
from geoexpose.sites import catalog
from geoexpose.sites.catalog import (
    FamilyDef,
    KindDef,
    default_standoff,
    family_color,
    layers_dir,
    load_catalog,
    read_catalog,
    resolve_family,
    resolve_kind,
)

REPO_LAYERS = Path(__file__).resolve().parent.parent / "layers"
EXPECTED_KINDS = {
    "power": {
        "plant",
        "generator_large",
        "substation",
        "transmission_line",
        "tower",
        "control_centre",
    },
    "water": {
        "water_works",
        "wastewater_plant",
        "reservoir",
        "dam",
        "water_tower",
        "pumping_station",
        "water_well",
    },
    "rail": {"line", "urban_line", "yard", "station", "bridge"},
    "military": {
        "base",
        "military_land",
        "airfield",
        "barracks",
        "range",
        "training_area",
        "depot",
        "ammunition_depot",
        "bunker",
        "other",
    },
    "hazmat": {"storage_tank", "refinery", "chemical_plant", "oil_gas_site"},
    "transport": {"bridge", "tunnel", "highway_construction", "rail_construction"},
    "emergency": {"fire_station", "police_station", "ambulance_station"},
}


@pytest.fixture(scope="module")
def raw() -> dict:
    """The shipped catalog parsed directly, without the code under test."""
    with (REPO_LAYERS / "catalog.toml").open("rb") as stream:
        return tomllib.load(stream)


def test_shipped_families_and_kinds() -> None:
    families = load_catalog()
    assert set(families) == set(EXPECTED_KINDS)
    for name, kinds in EXPECTED_KINDS.items():
        assert isinstance(families[name], FamilyDef)
        assert set(families[name].kinds) == kinds
        for kind in families[name].kinds.values():
            assert isinstance(kind, KindDef)
            assert kind.family == name
            assert kind.description
            assert re.fullmatch(r"#[0-9a-f]{6}", families[name].color)


def test_values_match_the_toml(raw: dict) -> None:
    families = load_catalog()
    for name, table in raw["families"].items():
        assert families[name].standoff_m == table["standoff_m"]
        assert families[name].color == table["color"]
        for kind, entry in table["kinds"].items():
            assert families[name].kinds[kind].standoff_m == entry["standoff_m"]
            assert families[name].kinds[kind].aliases == tuple(entry.get("aliases", ()))


def test_readme_justifies_every_default(raw: dict) -> None:
    """layers/README.md states each family's and kind's default, equal to the catalog."""
    text = (REPO_LAYERS / "README.md").read_text(encoding="utf-8")
    stated = {
        (m["family"], m["kind"]): float(m["metres"])
        for m in re.finditer(
            r"^\|\s*`(?P<family>[a-z_]+)`\s*\|\s*`(?P<kind>[a-z_*]+)`\s*\|\s*(?P<metres>[\d.]+)\s*\|",
            text,
            re.MULTILINE,
        )
    }
    expected = {(f, "*"): t["standoff_m"] for f, t in raw["families"].items()}
    expected.update(
        {(f, k): e["standoff_m"] for f, t in raw["families"].items() for k, e in t["kinds"].items()}
    )
    assert stated == expected


def test_default_standoff_precedence(raw: dict) -> None:
    assert (
        default_standoff("power", "substation")
        == raw["families"]["power"]["kinds"]["substation"]["standoff_m"]
    )
    # alias and free spelling of a kind
    assert (
        default_standoff("Military", "Munitions")
        == (raw["families"]["military"]["kinds"]["ammunition_depot"]["standoff_m"])
    )
    # a user's own kind in a catalog family: the family's default
    assert default_standoff("water", "fish ladder") == raw["families"]["water"]["standoff_m"]
    assert default_standoff("rail") == raw["families"]["rail"]["standoff_m"]
    # a user's own family: the global default
    assert default_standoff("pipelines", "compressor") == raw["defaults"]["standoff_m"]


def test_resolve_names() -> None:
    assert resolve_kind("water", "drinking_water_treatment") == "water_works"
    assert resolve_kind("water", "Drinking-Water Treatment") == "water_works"
    assert resolve_kind("rail", "rail_yard") == "yard"
    assert resolve_kind("power", "line") == "transmission_line"
    assert resolve_kind("rail", "line") == "line"
    assert resolve_kind("railroad", "Train Station") == "station"
    assert resolve_kind("power", "Wind Farm") == "wind_farm"
    assert resolve_kind("pipelines", "Compressor Station") == "compressor_station"
    assert resolve_family("DEFENSE") == "military"
    assert resolve_family("Gas Pipelines") == "gas_pipelines"
    with pytest.raises(UsageError, match="substation"):
        resolve_kind("power", "wind farm", strict=True)
    with pytest.raises(UsageError):
        resolve_family("  ")


def test_family_color(raw: dict) -> None:
    assert family_color("water") == raw["families"]["water"]["color"]
    assert family_color("pipelines") == raw["defaults"]["color"]


def test_catalog_is_read_only() -> None:
    with pytest.raises(TypeError):
        load_catalog()["power"].kinds["x"] = None  # type: ignore[index]
    assert load_catalog() is load_catalog()


# ------------------------------------------------------------------ validation
GOOD = """
[catalog]
version = 1
[defaults]
standoff_m = 100
color = "#808080"
[families.gas]
color = "#00ff00"
standoff_m = 50.0
[families.gas.kinds.compressor]
standoff_m = 60
description = "Compressor station"
aliases = ["compressor_station"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_a_valid_catalog(tmp_path: Path) -> None:
    families = read_catalog(_write(tmp_path, GOOD))
    assert families["gas"].kinds["compressor"].standoff_m == 60.0
    assert families["gas"].kind_index() == {
        "compressor": "compressor",
        "compressor_station": "compressor",
    }


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t + "\n[sources.eia860]\nfamily = 'power'\n", "unknown key sources"),
        (lambda t: t.replace("standoff_m = 60", "standoff_m = 60\nbuffer = 3"), "buffer"),
        (lambda t: t.replace("standoff_m = 60", 'standoff_m = "60"'), "standoff_m must be"),
        (lambda t: t.replace("standoff_m = 60", "standoff_m = -1"), "number >= 0"),
        (lambda t: t.replace("standoff_m = 60", "standoff_m = true"), "standoff_m must be"),
        (lambda t: t.replace('color = "#00ff00"', 'color = "green"'), "color must be"),
        (lambda t: t.replace('description = "Compressor station"\n', ""), "missing key"),
        (lambda t: t.replace('["compressor_station"]', '["Compressor Station"]'), "aliases"),
        (lambda t: t.replace('["compressor_station"]', '"compressor_station"'), "aliases"),
        (lambda t: t.replace("version = 1", "version = 2"), "version"),
        (lambda t: t.replace("kinds.compressor", "kinds.Compressor"), "Compressor"),
        (
            lambda t: (
                t + '[families.gas.kinds.valve]\nstandoff_m = 1\ndescription = "v"\n'
                'aliases = ["compressor_station"]\n'
            ),
            "already names kind",
        ),
        (
            lambda t: (
                t + '[families.oil]\ncolor = "#000000"\nstandoff_m = 1\naliases = ["gas"]\n'
                "[families.oil.kinds]\n"
            ),
            "families.oil.aliases: 'gas' already names 'gas'",
        ),
        (lambda t: t.replace("version = 1", "version = [1"), "not valid TOML"),
    ],
)
def test_invalid_catalogs_are_refused(tmp_path: Path, edit, message: str) -> None:
    path = _write(tmp_path, edit(GOOD))
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        read_catalog(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    text = GOOD.replace("standoff_m = 60", "standoff_m = -1\nbuffer = 3")
    with pytest.raises(InputError) as caught:
        read_catalog(_write(tmp_path, text))
    assert "families.gas.kinds.compressor.buffer" in str(caught.value)
    assert "families.gas.kinds.compressor.standoff_m" in str(caught.value)


def test_missing_catalog_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_catalog(tmp_path / "nope.toml")


# ------------------------------------------------------------------ where it is found
FAKE_PACKAGE = "fake_geoexpose"


@pytest.fixture
def fake_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Path]]:
    """Build an installation in ``tmp_path`` and point the catalog lookup at its sites wing.

    The wing is a real package on ``sys.path``, found through importlib.resources as
    ``geoexpose.sites`` is: the wheel copy inside it, the checkout copy two levels up.
    """

    def make(*, wheel: bool, checkout: bool) -> Path:
        wing = tmp_path / FAKE_PACKAGE / "sites"
        wing.mkdir(parents=True)
        (wing.parent / "__init__.py").write_text("", encoding="utf-8")
        (wing / "__init__.py").write_text("", encoding="utf-8")
        if wheel:
            (wing / "_layers").mkdir()
            (wing / "_layers" / "catalog.toml").write_text(GOOD, encoding="utf-8")
        if checkout:
            (tmp_path / "layers").mkdir()
            (tmp_path / "layers" / "catalog.toml").write_text(GOOD, encoding="utf-8")
        monkeypatch.syspath_prepend(str(tmp_path))
        monkeypatch.setattr(catalog, "_PACKAGE", f"{FAKE_PACKAGE}.sites")
        return tmp_path

    yield make
    for name in [m for m in sys.modules if m.partition(".")[0] == FAKE_PACKAGE]:
        del sys.modules[name]


def test_layers_dir_in_this_checkout() -> None:
    assert layers_dir().resolve() == REPO_LAYERS


def test_layers_dir_does_not_read_the_package_face(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(geoexpose, "__file__", "/nowhere/geoexpose/__init__.py")
    assert layers_dir().resolve() == REPO_LAYERS


@pytest.mark.parametrize(
    ("wheel", "checkout", "expected"),
    [
        (True, False, f"{FAKE_PACKAGE}/sites/_layers"),  # installed wheel (force-include)
        (True, True, f"{FAKE_PACKAGE}/sites/_layers"),  # the wheel copy wins where both exist
        (False, True, "layers"),  # source checkout, editable install
    ],
)
def test_layers_dir_lookup(
    fake_install: Callable[..., Path], wheel: bool, checkout: bool, expected: str
) -> None:
    root = fake_install(wheel=wheel, checkout=checkout)
    assert layers_dir() == root / expected


def test_layers_dir_missing(fake_install: Callable[..., Path]) -> None:
    fake_install(wheel=False, checkout=False)
    with pytest.raises(FileNotFoundError, match="_layers"):
        layers_dir()


def test_load_catalog_reads_the_wheel_copy(
    fake_install: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_install(wheel=True, checkout=False)
    catalog._shipped.cache_clear()
    try:
        assert set(load_catalog()) == {"gas"}
        assert default_standoff("gas", "compressor_station") == 60.0
    finally:
        catalog._shipped.cache_clear()
    monkeypatch.undo()
    assert "gas" not in load_catalog()
