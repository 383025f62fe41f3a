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

__all__ = ["LABEL_PATTERN", "SUPPORTED_VERSION", "catalog_problems"]

LABEL_PATTERN = r"^[^\W_]+(?:_[^\W_]+)*$"
"""A label: words of letters and digits joined by single ``_`` (and lower case)."""
SUPPORTED_VERSION = 1

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


_EXPECTED: dict[_Check, str] = {
    _is_number: "a number >= 0",
    _is_text: "a non-empty string",
    _is_color: 'a colour "#rrggbb"',
    _is_labels: "a list of labels (lower-case words joined by _)",
    _is_table: "a table",
}
# key: (check, required)
_TOP_KEYS: dict[str, tuple[_Check, bool]] = {
    "catalog": (_is_table, True),
    "defaults": (_is_table, True),
    "families": (_is_table, True),
}
_META_KEYS: dict[str, tuple[_Check, bool]] = {"version": (_is_number, True)}
_DEFAULT_KEYS: dict[str, tuple[_Check, bool]] = {
    "standoff_m": (_is_number, True),
    "color": (_is_color, True),
}
_FAMILY_KEYS: dict[str, tuple[_Check, bool]] = {
    "color": (_is_color, True),
    "standoff_m": (_is_number, True),
    "description": (_is_text, False),
    "aliases": (_is_labels, False),
    "kinds": (_is_table, True),
}
_KIND_KEYS: dict[str, tuple[_Check, bool]] = {
    "standoff_m": (_is_number, True),
    "description": (_is_text, True),
    "aliases": (_is_labels, False),
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
    return problems + _check_family_aliases(data["families"])


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
