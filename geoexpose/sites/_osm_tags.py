"""Which OpenStreetMap objects are sites, of which family and kind: the catalog's ``[osm]``.

The rules are data (``layers/catalog.toml``, ``[[osm.rules]]``); this module turns them
into :class:`OsmRule` objects and classifies an object's tags with the first rule that
matches. It also parses the tag values read into numeric columns (capacity, voltage).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from geoexpose.sites._catalog_check import OSM_ELEMENTS
from geoexpose.sites._catalog_tables import catalog_table
from geoexpose.sites.catalog import resolve_family

__all__ = [
    "ANY_VALUE",
    "OsmRule",
    "OsmTags",
    "RuleIndex",
    "load_osm_tags",
    "parse_capacity_mw",
    "parse_voltage_kv",
    "primary_keys",
]

ANY_VALUE = "*"
"""A tag value in a rule that matches any value of its key."""

# Conditions: key -> accepted values, or None for any value.
_Condition = Mapping[str, frozenset[str] | None]

# Units of power values ("5 MW"); a bare number is ambiguous in OSM and reads as unknown.
_POWER_UNITS_MW = {"w": 1e-6, "kw": 1e-3, "kwp": 1e-3, "mw": 1.0, "mwp": 1.0, "gw": 1e3}
_NUMBER_UNIT = r"^\s*(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>[a-zA-Z]+)\s*$"


@dataclass(frozen=True)
class OsmRule:
    """One ``[[osm.rules]]`` entry: the tags that make an OSM object a site of one kind.

    Attributes
    ----------
    family, kind
        The site the rule makes.
    tags
        Every key present with one of its values (None: any value).
    any_tags
        At least one key present with one of its values (empty: no condition).
    not_tags
        No key present with one of its values.
    elements
        The OSM element types read (``node``, ``way``, ``relation``).
    area
        Whether a closed way is a polygon (else a line).
    """

    family: str
    kind: str
    tags: _Condition
    any_tags: _Condition
    not_tags: _Condition
    elements: frozenset[str]
    area: bool

    def matches(self, tags: Mapping[str, str]) -> bool:
        """Whether an object with ``tags`` (key -> value) meets the rule."""
        if not all(_has(tags, key, values) for key, values in self.tags.items()):
            return False
        if self.any_tags and not any(_has(tags, k, v) for k, v in self.any_tags.items()):
            return False
        return not any(_has(tags, key, values) for key, values in self.not_tags.items())

    def describe(self) -> str:
        """Return the rule as one line of tag expressions.

        >>> rule = load_osm_tags().rules_for(["power"])[0]
        >>> rule.describe()
        'power=plant'
        """
        text = " + ".join(_expression(k, v) for k, v in self.tags.items())
        if self.any_tags:
            text += " + one of (" + ", ".join(_expression(k, v) for k, v in self.any_tags.items())
            text += ")"
        if self.not_tags:
            text += " + not (" + ", ".join(_expression(k, v) for k, v in self.not_tags.items())
            text += ")"
        return text


@dataclass(frozen=True)
class OsmTags:
    """The catalog's ``[osm]`` table: rules, tags read into columns, licence.

    Attributes
    ----------
    rules
        The rules, most specific first.
    name_tags, operator_tags, capacity_tags, voltage_tags
        Tags read into ``name``, ``operator``, ``capacity_mw`` and ``voltage_kv``; the
        first one present wins.
    license, attribution
        Licence of OpenStreetMap data and the attribution it requires.
    """

    rules: tuple[OsmRule, ...]
    name_tags: tuple[str, ...]
    operator_tags: tuple[str, ...]
    capacity_tags: tuple[str, ...]
    voltage_tags: tuple[str, ...]
    license: str
    attribution: str

    def rules_for(self, families: Iterable[str] | None = None) -> tuple[OsmRule, ...]:
        """Return the rules of ``families`` (names or aliases; all for None), in order."""
        if families is None:
            return self.rules
        wanted = {resolve_family(family) for family in families}
        return tuple(rule for rule in self.rules if rule.family in wanted)

    def read_tags(self) -> tuple[str, ...]:
        """Every tag read into a column, in no particular order."""
        return (*self.name_tags, *self.operator_tags, *self.capacity_tags, *self.voltage_tags)


def primary_keys(rules: Sequence[OsmRule]) -> list[str]:
    """Return the first key of every rule: an object without any of them matches none.

    >>> primary_keys(load_osm_tags().rules_for(["water"]))
    ['man_made', 'water', 'landuse', 'waterway']
    """
    return list(dict.fromkeys(next(iter(rule.tags)) for rule in rules))


class RuleIndex:
    """Rules indexed by their first tag, to classify many objects fast.

    Parameters
    ----------
    rules
        The rules, most specific first.
    """

    def __init__(self, rules: Sequence[OsmRule]) -> None:
        self.rules = tuple(rules)
        self.keys = primary_keys(self.rules)
        self._by_value: dict[tuple[str, str], list[int]] = {}
        self._by_key: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            key, values = next(iter(rule.tags.items()))
            if values is None:
                self._by_key.setdefault(key, []).append(index)
            for value in values or ():
                self._by_value.setdefault((key, value), []).append(index)

    def classify(self, tags: Mapping[str, str], element: str) -> tuple[int, OsmRule] | None:
        """Return the index and the first rule that ``tags`` meet for ``element``, or None.

        >>> index = RuleIndex(load_osm_tags().rules)
        >>> index.classify({"landuse": "military", "military": "barracks"}, "way")[1].kind
        'barracks'
        >>> index.classify({"power": "line"}, "node") is None
        True
        """
        candidates: list[int] = []
        for key in self.keys:
            value = tags.get(key)
            if value is not None:
                candidates += self._by_value.get((key, value), ())
                candidates += self._by_key.get(key, ())
        for index in sorted(candidates):
            rule = self.rules[index]
            if element in rule.elements and rule.matches(tags):
                return index, rule
        return None


@functools.cache
def load_osm_tags() -> OsmTags:
    """Return the catalog's ``[osm]`` table (read once, then cached)."""
    table = catalog_table("osm")
    return OsmTags(
        rules=tuple(_rule(entry) for entry in table.get("rules", ())),
        name_tags=tuple(table.get("name_tags", ("name",))),
        operator_tags=tuple(table.get("operator_tags", ("operator",))),
        capacity_tags=tuple(table.get("capacity_tags", ())),
        voltage_tags=tuple(table.get("voltage_tags", ())),
        license=table.get("license", "ODbL-1.0"),
        attribution=table.get("attribution", "© OpenStreetMap contributors"),
    )


def parse_capacity_mw(values: pd.Series) -> pd.Series:
    """OSM power values (``"5 MW"``, ``"1,2 GW"``, ``"800 kW"``) in MW; NaN where unclear.

    A number without a unit, ``yes`` and other text read as unknown.

    >>> parse_capacity_mw(pd.Series(["5 MW", "1.2 GW", "800 kW", "yes", "40", None])).tolist()
    [5.0, 1200.0, 0.8, nan, nan, nan]
    """
    parts = values.astype("str").str.extract(_NUMBER_UNIT)
    number = pd.to_numeric(parts["number"].str.replace(",", ".", regex=False), errors="coerce")
    factor = parts["unit"].str.lower().map(_POWER_UNITS_MW)
    return (number * factor).astype("float64").where(values.notna())


def parse_voltage_kv(values: pd.Series) -> pd.Series:
    """OSM ``voltage`` values (volts, ``;``-separated for several circuits): the highest, kV.

    >>> parse_voltage_kv(pd.Series(["380000;110000", "20000", "medium", None])).tolist()
    [380.0, 20.0, nan, nan]
    """
    exploded = values.astype("str").str.split(";").explode().astype("str").str.strip()
    volts = pd.to_numeric(exploded, errors="coerce")
    highest = volts.groupby(level=0).max().reindex(values.index)
    return (highest / 1000.0).astype("float64").where(values.notna() & (highest > 0))


def _has(tags: Mapping[str, str], key: str, values: frozenset[str] | None) -> bool:
    value = tags.get(key)
    return value is not None and (values is None or value in values)


def _condition(table: Mapping[str, Sequence[str]] | None) -> _Condition:
    return {
        key: None if ANY_VALUE in values else frozenset(values)
        for key, values in (table or {}).items()
    }


def _rule(entry: Mapping[str, Any]) -> OsmRule:
    return OsmRule(
        family=entry["family"],
        kind=entry["kind"],
        tags=_condition(entry["tags"]),
        any_tags=_condition(entry.get("any_tags")),
        not_tags=_condition(entry.get("not_tags")),
        elements=frozenset(entry.get("elements", OSM_ELEMENTS)),
        area=bool(entry.get("area", True)),
    )


def _expression(key: str, values: frozenset[str] | None) -> str:
    return f"{key}=*" if values is None else f"{key}={'|'.join(sorted(values))}"
