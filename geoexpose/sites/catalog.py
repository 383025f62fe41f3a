"""The layer catalog: site families, their kinds and default standoff distances.

The catalog is plain data, ``layers/catalog.toml``, read with :mod:`tomllib` and
validated on load. ``layers/README.md`` justifies every default distance.

Names of families, kinds and aliases are *labels*: lower-case words joined by
``_``. Text from a user or a file is turned into a label by
:func:`normalize_label` before any lookup, so ``"Water Works"``, ``"WATER_WORKS"``
and ``"water-works"`` all name the kind ``water_works``.

A family or kind the catalog does not know is a user's own: it is kept as its
label, and its standoff falls back to the family's default, then to the global
default in the catalog's ``[defaults]`` table.
"""

from __future__ import annotations

import functools
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geoexpose.errors import InputError, UsageError
from geoexpose.sites._catalog_check import MAX_STANDOFF_M, catalog_problems

__all__ = [
    "CATALOG_FILE",
    "KIND_UNSPECIFIED",
    "LABEL_SEPARATORS",
    "MAX_STANDOFF_M",
    "FamilyDef",
    "KindDef",
    "default_standoff",
    "family_color",
    "layers_dir",
    "load_catalog",
    "normalize_label",
    "read_catalog",
    "resolve_family",
    "resolve_kind",
]

logger = logging.getLogger(__name__)

CATALOG_FILE = "catalog.toml"
KIND_UNSPECIFIED = "unspecified"
LABEL_SEPARATORS = r"[\W_]+"
"""Runs of these characters become one ``_`` in a label (a regular expression)."""

_SEPARATORS = re.compile(LABEL_SEPARATORS)
_PACKAGE = "geoexpose.sites"  # the wing that owns the layer folder
_WHEEL_DIR = "_layers"  # pyproject: force-include "layers" = "geoexpose/sites/_layers"
_CHECKOUT_DIR = "layers"  # beside the geoexpose folder, two levels above _PACKAGE


@dataclass(frozen=True)
class KindDef:
    """One kind of site within a family.

    Attributes
    ----------
    family, kind
        Labels of the family and the kind.
    standoff_m
        Default standoff distance, metres.
    description
        One line saying what the kind covers.
    aliases
        Other labels that name this kind in input data.
    """

    family: str
    kind: str
    standoff_m: float
    description: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class FamilyDef:
    """One family of sites (``water``, ``rail``, ``power``, ``military``, ``hazmat`` ...).

    Attributes
    ----------
    name
        Label of the family.
    color
        Display colour, ``#rrggbb``.
    standoff_m
        Standoff distance, metres, of a site whose kind the catalog does not know.
    kinds
        The family's kinds by label.
    description
        One line saying what the family covers.
    aliases
        Other labels that name this family in input data.
    """

    name: str
    color: str
    standoff_m: float
    kinds: Mapping[str, KindDef]
    description: str = ""
    aliases: tuple[str, ...] = ()

    def kind_index(self) -> dict[str, str]:
        """Map every kind label and alias of the family to its kind label."""
        index = {alias: k.kind for k in self.kinds.values() for alias in k.aliases}
        index.update({name: name for name in self.kinds})
        return index


@dataclass(frozen=True)
class _Catalog:
    families: Mapping[str, FamilyDef]
    standoff_m: float
    color: str


def normalize_label(text: object) -> str:
    """Turn free text into a label: lower case, words joined by ``_``.

    >>> normalize_label("  Water Works ")
    'water_works'
    >>> normalize_label("EIA-860 PLANT_CODE")
    'eia_860_plant_code'
    """
    return _SEPARATORS.sub("_", str(text).strip().lower()).strip("_")


def layers_dir() -> Path:
    """Return the folder that holds the catalog and the shipped layers.

    It is found with :mod:`importlib.resources` from this wing: in an installed
    wheel it is ``geoexpose/sites/_layers`` (the repository's ``layers/`` is copied
    there at build time); in a source checkout or an editable install it is
    ``layers/`` next to the ``geoexpose`` folder.

    Raises
    ------
    FileNotFoundError
        If neither holds ``catalog.toml``: the installation is broken.
    """
    wing = Path(str(resources.files(_PACKAGE)))  # geoexpose is installed as files, not zipped
    candidates = (wing / _WHEEL_DIR, wing.parent.parent / _CHECKOUT_DIR)
    for folder in candidates:
        if (folder / CATALOG_FILE).is_file():
            return folder
    tried = " or ".join(str(folder / CATALOG_FILE) for folder in candidates)
    raise FileNotFoundError(f"geoexpose layer catalog not found: no {tried}; reinstall geoexpose")


def load_catalog() -> Mapping[str, FamilyDef]:
    """Return the shipped catalog: families by label (read once, then cached).

    >>> sorted(load_catalog())
    ['emergency', 'hazmat', 'military', 'power', 'rail', 'transport', 'water']
    >>> load_catalog()["power"].kinds["substation"].standoff_m
    170.0
    """
    return _shipped().families


def read_catalog(path: str | Path) -> Mapping[str, FamilyDef]:
    """Read and validate a catalog file.

    Raises
    ------
    InputError
        If the file cannot be read, is not TOML, or has an unknown table or key,
        a value of the wrong type, or a name used twice. The message names the
        file and every key at fault.
    """
    return _read(Path(path)).families


@functools.cache
def _shipped() -> _Catalog:
    path = layers_dir() / CATALOG_FILE
    logger.debug("reading the layer catalog %s", path)
    return _read(path)


def resolve_family(name: str) -> str:
    """Return the family label that ``name`` (a family or an alias of one) stands for.

    A name the catalog does not know is a user's own family: its label is returned.

    >>> resolve_family("Railroad")
    'rail'
    >>> resolve_family("Pipelines")
    'pipelines'
    """
    label = normalize_label(name)
    if not label:
        raise UsageError(f"family must be a non-empty name, not {name!r}")
    families = load_catalog()
    if label in families:
        return label
    for family in families.values():
        if label in family.aliases:
            return family.name
    return label


def resolve_kind(family: str, kind_or_alias: str, *, strict: bool = False) -> str:
    """Return the kind label that ``kind_or_alias`` stands for within ``family``.

    Parameters
    ----------
    family
        A family or an alias of one.
    kind_or_alias
        A kind of that family, an alias of one, or a user's own kind.
    strict
        Raise :class:`~geoexpose.errors.UsageError` for a kind the catalog does not
        define for a catalog family, instead of returning its label.

    >>> resolve_kind("water", "Drinking water treatment")
    'water_works'
    >>> resolve_kind("power", "wind farm")
    'wind_farm'
    """
    label = normalize_label(kind_or_alias)
    if not label:
        raise UsageError(f"kind must be a non-empty name, not {kind_or_alias!r}")
    definition = load_catalog().get(resolve_family(family))
    if definition is None:
        return label
    kind = definition.kind_index().get(label)
    if kind is not None:
        return kind
    if strict:
        known = ", ".join(definition.kinds)
        raise UsageError(f"{family!r} has no kind {kind_or_alias!r}; its kinds are: {known}")
    return label


def default_standoff(family: str, kind: str | None = None) -> float:
    """Return the default standoff distance, metres, of a site of ``family`` and ``kind``.

    The kind's value where the catalog defines the kind; else the family's; else,
    for a user's own family, the global default of the catalog's ``[defaults]``.

    >>> default_standoff("military", "Ammunition")
    620.0
    >>> default_standoff("power", "wind_farm") == default_standoff("power")
    True
    """
    catalog = _shipped()
    definition = catalog.families.get(resolve_family(family))
    if definition is None:
        return catalog.standoff_m
    if isinstance(kind, str) and normalize_label(kind):
        found = definition.kinds.get(resolve_kind(definition.name, kind))
        if found is not None:
            return found.standoff_m
    return definition.standoff_m


def family_color(family: str) -> str:
    """Return the display colour (``#rrggbb``) of a family; the default one for a user's own."""
    catalog = _shipped()
    definition = catalog.families.get(resolve_family(family))
    return catalog.color if definition is None else definition.color


def _read(path: Path) -> _Catalog:
    try:
        with path.open("rb") as stream:
            data = tomllib.load(stream)
    except OSError as error:
        raise InputError(f"{path}: cannot read the catalog: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from error
    except RecursionError as error:  # arrays or tables nested thousands deep
        raise InputError(f"{path}: not valid TOML: nested too deep to read") from error
    problems = catalog_problems(data)
    if problems:
        raise InputError(f"{path}: invalid layer catalog: " + "; ".join(problems))
    return _build(data)


def _build(data: Mapping[str, Any]) -> _Catalog:
    families = {}
    for name, family in data["families"].items():
        kinds = {
            kind: KindDef(
                family=name,
                kind=kind,
                standoff_m=float(entry["standoff_m"]),
                description=entry["description"].strip(),
                aliases=tuple(entry.get("aliases", ())),
            )
            for kind, entry in family["kinds"].items()
        }
        families[name] = FamilyDef(
            name=name,
            color=family["color"],
            standoff_m=float(family["standoff_m"]),
            kinds=MappingProxyType(kinds),
            description=family.get("description", "").strip(),
            aliases=tuple(family.get("aliases", ())),
        )
    defaults = data["defaults"]
    return _Catalog(
        families=MappingProxyType(families),
        standoff_m=float(defaults["standoff_m"]),
        color=defaults["color"],
    )
