"""Validation of a layer catalog file (``layers/catalog.toml``) after TOML parsing.

:func:`catalog_problems` lists every problem at once: unknown tables or keys, missing
keys, values of the wrong type, and names used twice. The layout is documented in
``layers/catalog.toml`` and ``layers/README.md``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "LABEL_PATTERN",
    "MAX_STANDOFF_M",
    "OSM_ELEMENTS",
    "REGISTRY_FIELDS",
    "SUPPORTED_VERSION",
    "catalog_problems",
]

LABEL_PATTERN = r"^[^\W_]+(?:_[^\W_]+)*$"
"""A label: words of letters and digits joined by single ``_`` (and lower case)."""
SUPPORTED_VERSION = 1
OSM_ELEMENTS = ("node", "way", "relation")
"""The OSM element types a ``[[osm.rules]]`` entry may read."""
REGISTRY_FIELDS = ("id", "name", "operator", "capacity_mw", "voltage_kv", "standoff_m")
"""The site fields a ``[registries.<name>]`` entry may map in ``columns``."""

MAX_STANDOFF_M = 100_000.0
"""The largest standoff (metres) geoexpose takes, from any source: 100 km, beyond any
protective zone; a zone buffered by a distance of the Earth's size has no meaning and
breaks the geometry engine."""

_LABEL = re.compile(LABEL_PATTERN)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_Check = Callable[[Any], bool]


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value >= 0
    )


def _is_standoff(value: Any) -> bool:
    return _is_number(value) and value <= MAX_STANDOFF_M


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_color(value: Any) -> bool:
    return isinstance(value, str) and _COLOR.match(value) is not None


def _is_label(value: Any) -> bool:
    return isinstance(value, str) and value == value.lower() and _LABEL.match(value) is not None


def _is_labels(value: Any) -> bool:
    return isinstance(value, list) and all(_is_label(item) for item in value)


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_texts(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(_is_text(item) for item in value)


def _is_tag_table(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and bool(value)
        and all(_is_text(key) and _is_texts(values) for key, values in value.items())
    )


def _is_text_table(value: Any) -> bool:
    return isinstance(value, dict) and all(
        _is_text(key) and _is_text(item) for key, item in value.items()
    )


def _is_elements(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and len(set(value)) == len(value)
        and all(item in OSM_ELEMENTS for item in value)
    )


def _is_tables(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


_EXPECTED: dict[_Check, str] = {
    _is_number: "a number >= 0",
    _is_standoff: f"a number >= 0 and <= {MAX_STANDOFF_M:.0f} (metres)",
    _is_text: "a non-empty string",
    _is_color: 'a colour "#rrggbb"',
    _is_labels: "a list of labels (lower-case words joined by _)",
    _is_table: "a table",
    _is_label: "a label (lower-case words joined by _)",
    _is_bool: "true or false",
    _is_texts: "a non-empty list of non-empty strings",
    _is_tag_table: 'a non-empty table of tag keys to lists of values, e.g. { power = ["line"] }',
    _is_text_table: "a table of names to non-empty strings",
    _is_elements: f"a list of element types from {', '.join(OSM_ELEMENTS)}",
    _is_tables: "an array of tables",
}
# key: (check, required)
_TOP_KEYS: dict[str, tuple[_Check, bool]] = {
    "catalog": (_is_table, True),
    "defaults": (_is_table, True),
    "families": (_is_table, True),
    "osm": (_is_table, False),
    "registries": (_is_table, False),
}
_META_KEYS: dict[str, tuple[_Check, bool]] = {"version": (_is_number, True)}
_DEFAULT_KEYS: dict[str, tuple[_Check, bool]] = {
    "standoff_m": (_is_standoff, True),
    "color": (_is_color, True),
}
_FAMILY_KEYS: dict[str, tuple[_Check, bool]] = {
    "color": (_is_color, True),
    "standoff_m": (_is_standoff, True),
    "description": (_is_text, False),
    "aliases": (_is_labels, False),
    "kinds": (_is_table, True),
}
_KIND_KEYS: dict[str, tuple[_Check, bool]] = {
    "standoff_m": (_is_standoff, True),
    "description": (_is_text, True),
    "aliases": (_is_labels, False),
}
_OSM_KEYS: dict[str, tuple[_Check, bool]] = {
    "license": (_is_text, True),
    "attribution": (_is_text, True),
    "name_tags": (_is_texts, True),
    "operator_tags": (_is_texts, True),
    "capacity_tags": (_is_texts, True),
    "voltage_tags": (_is_texts, True),
    "rules": (_is_tables, True),
}
_RULE_KEYS: dict[str, tuple[_Check, bool]] = {
    "family": (_is_label, True),
    "kind": (_is_label, True),
    "tags": (_is_tag_table, True),
    "any_tags": (_is_tag_table, False),
    "not_tags": (_is_tag_table, False),
    "elements": (_is_elements, False),
    "area": (_is_bool, False),
}
_REGISTRY_KEYS: dict[str, tuple[_Check, bool]] = {
    "description": (_is_text, True),
    "family": (_is_label, True),
    "kind": (_is_label, True),
    "id_prefix": (_is_label, True),
    "detect": (_is_texts, True),
    "columns": (_is_text_table, False),
    "id_fields": (_is_texts, False),
    "where": (_is_tag_table, False),
    "license": (_is_text, False),
    "attribution": (_is_text, False),
}


def _check_table(
    table: Mapping[str, Any], keys: Mapping[str, tuple[_Check, bool]], where: str
) -> list[str]:
    """Problems of one table: unknown keys, missing keys, values of the wrong type."""
    prefix = f"{where}." if where else ""
    problems = [f"unknown key {prefix}{key}" for key in table if key not in keys]
    for key, (check, required) in keys.items():
        if key not in table:
            if required:
                problems.append(f"missing key {prefix}{key}")
        elif not check(table[key]):
            problems.append(f"{prefix}{key} must be {_EXPECTED[check]}, not {table[key]!r}")
    return problems


def catalog_problems(data: Mapping[str, Any]) -> list[str]:
    """Every problem of a parsed catalog, each naming its key; empty when valid."""
    problems = _check_table(data, _TOP_KEYS, "")
    if problems:
        return problems
    problems += _check_table(data["catalog"], _META_KEYS, "catalog")
    problems += _check_table(data["defaults"], _DEFAULT_KEYS, "defaults")
    version = data["catalog"].get("version")
    if _is_number(version) and version != SUPPORTED_VERSION:
        problems.append(f"catalog.version is {version}; this geoexpose reads version 1")
    for name, family in data["families"].items():
        problems += _check_family(name, family)
    problems += _check_family_aliases(data["families"])
    if "osm" in data:
        problems += _check_osm(data["osm"], data["families"])
    for name, entry in data.get("registries", {}).items():
        problems += _check_registry(name, entry, data["families"])
    return problems


def _check_family(name: str, family: Any) -> list[str]:
    where = f"families.{name}"
    if not _is_label(name):
        return [f"{where}: family names must be labels (lower-case words joined by _)"]
    if not _is_table(family):
        return [f"{where} must be a table"]
    problems = _check_table(family, _FAMILY_KEYS, where)
    kinds = family.get("kinds")
    if not _is_table(kinds):
        return problems
    seen: dict[str, str] = {}
    for kind, entry in kinds.items():
        at = f"{where}.kinds.{kind}"
        if not _is_label(kind):
            problems.append(f"{at}: kind names must be labels (lower-case words joined by _)")
            continue
        if not _is_table(entry):
            problems.append(f"{at} must be a table")
            continue
        problems += _check_table(entry, _KIND_KEYS, at)
        aliases = entry.get("aliases", [])
        for label in [kind, *(aliases if _is_labels(aliases) else [])]:
            if label in seen and seen[label] != kind:
                problems.append(f"{at}: {label!r} already names kind {seen[label]!r}")
            seen.setdefault(label, kind)
    return problems


def _check_family_aliases(families: Mapping[str, Any]) -> list[str]:
    seen = {name: name for name in families}
    problems = []
    for name, family in families.items():
        aliases = family.get("aliases", []) if _is_table(family) else []
        for alias in aliases if _is_labels(aliases) else []:
            if alias in seen and seen[alias] != name:
                problems.append(f"families.{name}.aliases: {alias!r} already names {seen[alias]!r}")
            seen.setdefault(alias, name)
    return problems


def _check_defined(entry: Mapping[str, Any], families: Mapping[str, Any], where: str) -> list[str]:
    """Check that the entry's family and kind are defined in ``families``."""
    family, kind = entry.get("family"), entry.get("kind")
    if not (isinstance(family, str) and isinstance(kind, str)):
        return []  # reported by _check_table
    definition = families.get(family)
    if not isinstance(definition, dict):
        return [f"{where}.family: no family {family!r} in [families]"]
    kinds = definition.get("kinds")
    if not isinstance(kinds, dict) or kind not in kinds:
        return [f"{where}.kind: family {family!r} has no kind {kind!r}"]
    return []


def _check_osm(osm: Mapping[str, Any], families: Mapping[str, Any]) -> list[str]:
    problems = _check_table(osm, _OSM_KEYS, "osm")
    rules = osm.get("rules")
    if not isinstance(rules, list) or not _is_tables(rules):
        return problems
    for number, rule in enumerate(rules, start=1):
        where = f"osm.rules[{number}]"
        problems += _check_table(rule, _RULE_KEYS, where)
        problems += _check_defined(rule, families, where)
    return problems


def _check_registry(name: str, entry: Any, families: Mapping[str, Any]) -> list[str]:
    where = f"registries.{name}"
    if not _is_label(name):
        return [f"{where}: registry names must be labels (lower-case words joined by _)"]
    if not _is_table(entry):
        return [f"{where} must be a table"]
    problems = _check_table(entry, _REGISTRY_KEYS, where)
    problems += _check_defined(entry, families, where)
    columns = entry.get("columns", {})
    for field in columns if _is_text_table(columns) else {}:
        if field not in REGISTRY_FIELDS:
            problems.append(
                f"{where}.columns: unknown site field {field!r}; "
                f"the fields are: {', '.join(REGISTRY_FIELDS)}"
            )
    return problems
