"""Published site registries (EIA-860, HIFLD, NTAD, MIRTA, NID ...) read through catalog entries.

Each ``[registries.<name>]`` table of ``layers/catalog.toml`` says how one published
dataset maps onto the site schema: the family and kind of its sites, the prefix of
their ids, which columns hold the id, name, operator, capacity and voltage, and which
rows are sites. Adding a dataset means adding a table, not code.

A registry file is read with :func:`geoexpose.read_sites` like any site layer, with the
entry's mapping as defaults (explicit arguments win):

- ``read_sites(path, registry="eia860_plants")`` or ``read_sites("eia860_plants=PATH")``
  (the form ``--sites`` takes) use the named entry;
- ``read_sites(path, registry="auto")`` or :func:`geoexpose.sites.read.read_registry`
  recognise the entry by the columns the file has (every column of its ``detect`` list).
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from geoexpose.errors import InputError, UsageError
from geoexpose.sites._catalog_tables import catalog_table
from geoexpose.sites._columns import as_labels, as_text
from geoexpose.sites._source import Loaded
from geoexpose.sites.catalog import normalize_label

__all__ = [
    "AUTO",
    "RegistryEntry",
    "apply_registry",
    "detect_registry",
    "find_registry",
    "load_registries",
    "split_source",
]

logger = logging.getLogger(__name__)

AUTO = "auto"
"""``registry=AUTO``: recognise the registry entry by the file's columns."""

_ENTRY_SEPARATOR = "="
_ID_SEPARATOR = "-"


@dataclass(frozen=True)
class RegistryEntry:
    """One ``[registries.<name>]`` table: how a published dataset maps to sites.

    Attributes
    ----------
    name
        Label of the entry.
    description
        The dataset and its publisher, one line.
    family, kind
        Family and kind of every site it gives.
    id_prefix
        Site ids are ``<id_prefix>:<id>``.
    detect
        Column names that all appear in the dataset.
    columns
        Site field -> column name.
    id_fields
        Columns joined with ``-`` into the id (empty: ``columns["id"]`` or the alias table).
    where
        Column name -> values (as labels); only rows with one of them are sites.
    license, attribution
        Of the dataset ("" where the catalog gives none).
    """

    name: str
    description: str
    family: str
    kind: str
    id_prefix: str
    detect: tuple[str, ...]
    columns: Mapping[str, str]
    id_fields: tuple[str, ...] = ()
    where: Mapping[str, frozenset[str]] = field(default_factory=dict)
    license: str = ""
    attribution: str = ""

    def matches(self, fields: list[str]) -> bool:
        """Whether every ``detect`` column is among ``fields`` (compared as labels)."""
        labels = {normalize_label(f) for f in fields}
        return all(normalize_label(d) in labels for d in self.detect)


@dataclass(frozen=True)
class RegistryDefaults:
    """What an entry gives :func:`~geoexpose.read_sites` (explicit arguments win)."""

    family: str
    kind: str
    id_prefix: str
    columns: Mapping[str, str | None]


@functools.cache
def load_registries() -> Mapping[str, RegistryEntry]:
    """Return the catalog's registry entries by name (read once, then cached).

    >>> load_registries()["eia860_plants"].kind
    'plant'
    """
    return {name: _entry(name, table) for name, table in catalog_table("registries").items()}


def find_registry(name: str) -> RegistryEntry:
    """Return the entry called ``name`` (compared as a label).

    Raises
    ------
    UsageError
        If the catalog has no such entry; the message lists the entries.
    """
    entries = load_registries()
    entry = entries.get(normalize_label(name))
    if entry is None:
        raise UsageError(
            f"no registry entry {name!r} in the layer catalog; the entries are: "
            f"{', '.join(entries)} (see `geoexpose layers list`)"
        )
    return entry


def detect_registry(fields: list[str], label: str) -> RegistryEntry:
    """Return the most specific entry whose ``detect`` columns are all in ``fields``.

    Raises
    ------
    InputError
        If no entry, or two equally specific ones, match.
    """
    found = [entry for entry in load_registries().values() if entry.matches(fields)]
    if not found:
        raise InputError(
            f"{label}: its columns match no registry entry of the layer catalog; read it "
            "as a plain site layer, or name an entry as ENTRY=FILE"
        )
    most = max(len(entry.detect) for entry in found)
    best = [entry for entry in found if len(entry.detect) == most]
    if len(best) > 1:
        names = ", ".join(entry.name for entry in best)
        raise InputError(f"{label}: its columns match the registry entries {names}; name one")
    return best[0]


def split_source(source: Any, registry: str | None) -> tuple[Any, RegistryEntry | str | None]:
    """Split ``"ENTRY=PATH"`` (a registry entry and a file) into the path and the entry.

    A source that is an existing file, a frame, or text without a known entry before
    ``=`` is returned as is, with ``registry`` (None, ``"auto"``, or an entry name,
    resolved to its entry).

    Raises
    ------
    InputError
        If ``source`` names a registry entry without a file.
    UsageError
        If ``registry`` is not an entry name or ``"auto"``.
    """
    if isinstance(source, str | os.PathLike) and not Path(source).exists():
        text = os.fspath(source)
        name, separator, path = text.partition(_ENTRY_SEPARATOR)
        entries = load_registries()
        if separator and normalize_label(name) in entries and registry in (None, AUTO):
            return path, entries[normalize_label(name)]
        if normalize_label(text) in entries and not separator:
            raise InputError(
                f"{text}: a registry entry of the layer catalog needs its file: give {text}=FILE"
            )
    if registry is None or registry == AUTO:
        return source, registry
    return source, find_registry(registry)


def apply_registry(
    loaded: Loaded, registry: RegistryEntry | str
) -> tuple[Loaded, RegistryDefaults]:
    """Keep the entry's rows of ``loaded`` and say how its columns map to site fields.

    ``registry`` is an entry, or ``"auto"`` to recognise it by the columns. Columns of
    the mapping the file lacks are left to the alias table of ``read_sites``.
    """
    frame = loaded.frame
    fields = [str(c) for c in frame.columns if c != frame.geometry.name]
    if isinstance(registry, str):  # AUTO; the coordinate columns were read into points
        entry = detect_registry([*fields, *loaded.coordinates], loaded.label)
    else:
        entry = registry
    logger.info("%s: read as registry entry %s (%s)", loaded.label, entry.name, entry.description)
    by_label: dict[str, str] = {}
    for name in fields:
        by_label.setdefault(normalize_label(name), name)
    columns: dict[str, str | None] = {"family": None, "kind": None, "source": None}
    for site_field, column in entry.columns.items():
        actual = by_label.get(normalize_label(column))
        if actual is not None:
            columns[site_field] = actual
        else:
            logger.info("%s: no column %r for %s", loaded.label, column, site_field)
    keep = np.ones(len(frame), dtype=bool)
    for column, values in entry.where.items():
        actual = by_label.get(normalize_label(column))
        if actual is None:
            raise InputError(
                f"{loaded.label}: no column {column!r}, by which registry entry {entry.name} "
                "selects its rows"
            )
        keep &= as_labels(frame[actual]).isin(values).to_numpy()
    frame = frame.loc[keep].copy()
    ids = [by_label.get(normalize_label(name)) for name in entry.id_fields]
    if ids and all(name is not None for name in ids):
        id_column = f"{entry.name}_id"
        parts = [as_text(frame[name]) for name in ids if name is not None]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + _ID_SEPARATOR + part
        frame[id_column] = joined
        columns["id"] = id_column
    if not keep.all():
        kept = f"{int(keep.sum())} of {len(keep)}"
        logger.info("%s: %s rows kept by registry entry %s", loaded.label, kept, entry.name)
    defaults = RegistryDefaults(entry.family, entry.kind, entry.id_prefix, columns)
    rows = loaded.row_numbers()[keep]
    return replace(loaded, frame=frame.reset_index(drop=True), rows=rows), defaults


def _entry(name: str, table: Mapping[str, Any]) -> RegistryEntry:
    return RegistryEntry(
        name=name,
        description=table["description"],
        family=table["family"],
        kind=table["kind"],
        id_prefix=table["id_prefix"],
        detect=tuple(table["detect"]),
        columns=dict(table.get("columns", {})),
        id_fields=tuple(table.get("id_fields", ())),
        where={
            column: frozenset(normalize_label(v) for v in values)
            for column, values in table.get("where", {}).items()
        },
        license=table.get("license", ""),
        attribution=table.get("attribution", ""),
    )
