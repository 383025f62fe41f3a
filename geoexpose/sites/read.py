"""Read site layers (water, rail, power, military, or a user's own) into the site schema.

:func:`read_sites` turns a file or a frame into one GeoDataFrame with the columns of
:data:`geoexpose.schema.SITE_COLUMNS`, in EPSG:4326, with a unique ``site_id`` and
a ``standoff_m`` for every site; :func:`read_registry` is its front door for a file of
a published registry.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    CAPACITY_MW,
    CRS_LONLAT,
    FAMILY,
    GEOMETRY,
    KIND,
    NAME,
    OPERATOR,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    VOLTAGE_KV,
)
from geoexpose.sites._columns import as_labels, as_numbers, as_text, coalesce_text, match_fields
from geoexpose.sites._source import read_source
from geoexpose.sites.catalog import (
    KIND_UNSPECIFIED,
    default_standoff,
    load_catalog,
    normalize_label,
    resolve_family,
    resolve_kind,
)
from geoexpose.sites.registries import AUTO, apply_registry, split_source

__all__ = [
    "CAPACITY_MW",
    "DROPPED_ROWS",
    "SITE_EXTRA_COLUMNS",
    "VOLTAGE_KV",
    "read_registry",
    "read_sites",
]

logger = logging.getLogger(__name__)

# Extra columns read_sites returns after SITE_COLUMNS (NaN where the input has none).
SITE_EXTRA_COLUMNS = [CAPACITY_MW, VOLTAGE_KV]
# Key of ``attrs`` of the returned frame: rows dropped, by reason (for summary.json).
DROPPED_ROWS = "dropped_rows"

_MAX_ROWS_NAMED = 10
_PAIR = "\x1f"  # joins family and kind into one lookup key


def read_sites(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    layer: str | None = None,
    family: str | None = None,
    kind: str | None = None,
    columns: Mapping[str, str | None] | None = None,
    lon: str | None = None,
    lat: str | None = None,
    crs: object | None = None,
    standoff: Mapping[str, float] | None = None,
    id_prefix: str | None = None,
    registry: str | None = None,
) -> gpd.GeoDataFrame:
    """Read a site layer into the site schema.

    Parameters
    ----------
    source
        A file (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV with
        longitude/latitude columns, XLSX, or OpenStreetMap data: ``.osm.pbf``,
        ``.osm``, ``.osm.gz``, ``.osm.bz2``), ``"ENTRY=FILE"`` (a file read with a
        registry entry of the layer catalog), or a (Geo)DataFrame. Never modified.
    layer
        The layer to read from a file with several. Without it, a file with one
        layer, or with a layer named ``sites``, is read; any other is an error.
    family
        Family of the rows whose attributes give none (``water``, ``rail``,
        ``power``, ``military``, an alias of one, or a user's own family).
    kind
        Kind of the rows whose attributes give none, or give one the catalog does
        not define for the row's family.
    columns
        Site field -> attribute name, for attributes the alias table does not know:
        ``{"name": "NOM_SITE", "kind": None}``. Fields: ``site_id`` (used as is),
        ``id`` (prefixed), ``family``, ``kind``, ``name``, ``operator``,
        ``standoff_m``, ``source``, ``capacity_mw``, ``voltage_kv``. None reads the
        field from no attribute.
    lon, lat
        Coordinate columns of a table without geometry; found by name when not
        given (``longitude``, ``lon``, ``lng``, ``long``, ``x`` and ``latitude``,
        ``lat``, ``y``, in that order, any case).
    crs
        CRS of a table's coordinates (default EPSG:4326), or of a file that has
        none. Contradicting a file's own CRS is an error.
    standoff
        Standoff distances, metres, by family or kind: ``{"military": 500,
        "substation": 150}``. Kinds win over families; a site's own ``standoff_m``
        attribute wins over both.
    id_prefix
        Prefix of the site ids (default: the file name without its extension).
    registry
        A registry entry of the layer catalog (``"eia860_plants"``, see
        :mod:`geoexpose.sites.registries`) whose family, kind, id prefix, column mapping
        and row filter apply where the other arguments give none; ``"auto"`` finds
        it from the file's columns. Row numbers in messages then count the rows the
        entry keeps.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`~geoexpose.schema.SITE_COLUMNS` then ``capacity_mw`` and
        ``voltage_kv`` (NaN where unknown); CRS EPSG:4326; one row per site with a
        geometry, in input order.

    Raises
    ------
    InputError
        A file that cannot be read, a field given in ``columns`` that it lacks, a
        row without family, a bad ``standoff_m`` attribute, no CRS, a CRS that
        contradicts ``crs``, every coordinate out of range. The message names the
        file and the row or field.
    UsageError
        An unknown key or a bad value in ``columns``, ``standoff`` or ``crs``.

    Warns
    -----
    InputWarning
        Rows without geometry, with coordinates out of longitude/latitude range,
        or at exactly 0/0 (a point) are dropped and named; the counts by reason
        are in ``result.attrs["dropped_rows"]``.

    Notes
    -----
    Attribute names are matched case- and punctuation-insensitively against the
    alias table ``geoexpose.sites._columns.FIELD_ALIASES`` (``Plant Name``,
    ``SITE_NAME``, ``stationnam`` ... for name; ``Utility Name``, ``owner``,
    ``COMPONENT`` ... for operator). Name and operator take the first non-empty
    value over all matching attributes.

    ``site_id``: an attribute named ``site_id`` is used as is (unless
    ``id_prefix`` is given); else ``<prefix>:<id>`` from the first id attribute
    (``id``, ``Plant Code``, ``code``, ``OBJECTID`` ...); else, and for rows whose
    id is empty, ``<prefix>:<row>``, rows counted from 1 in file order. Repeated
    ids are kept and made unique: the second and later get ``#2``, ``#3`` ...

    Family and kind values are normalised to labels and resolved through the
    catalog's aliases (``"Drinking water treatment"`` -> ``water_works``); values
    the catalog does not know are a user's own. A row without kind is
    ``unspecified``.

    ``standoff_m``: the row's own attribute; else ``standoff`` by kind, then by
    family; else :func:`geoexpose.sites.catalog.default_standoff`.

    ``source``: the row's ``source`` attribute; else the path as given (or
    ``GeoDataFrame`` for a frame).

    Invalid geometries are repaired with :func:`shapely.make_valid`; Z is dropped.
    """
    source, entry = split_source(source, registry)
    loaded = read_source(source, layer=layer, lon=lon, lat=lat, crs=crs)
    if entry is not None:
        loaded, given = apply_registry(loaded, entry)
        family, kind = family or given.family, kind or given.kind
        columns = {**given.columns, **(columns or {})}
        id_prefix = given.id_prefix if id_prefix is None else id_prefix
    label, frame = loaded.label, loaded.frame
    attributes = [str(c) for c in frame.columns if c != frame.geometry.name]
    attributes = [c for c in attributes if c not in loaded.coordinates]
    fields = match_fields(attributes, columns, label)

    geometries, keep, dropped = _clean_geometries(frame, label)
    frame = frame.loc[keep]
    rows = np.flatnonzero(keep) + 1

    site_ids = _site_ids(frame, fields, rows, label, id_prefix, loaded.stem)
    families = _families(frame, fields.get("family", []), family, label, rows)
    kinds = _kinds(frame, fields.get("kind", []), families, kind, label)
    own = _attribute_numbers(frame, fields.get("standoff_m", []), label, rows, strict=True)
    standoffs = _standoffs(families, kinds, own, standoff)
    sources = coalesce_text(frame, fields.get("source", [])).fillna(label)
    data = {
        SITE_ID: site_ids,
        FAMILY: families,
        KIND: kinds,
        NAME: coalesce_text(frame, fields.get("name", [])),
        OPERATOR: coalesce_text(frame, fields.get("operator", [])),
        STANDOFF_M: standoffs,
        SOURCE: sources,
        CAPACITY_MW: _attribute_numbers(frame, fields.get(CAPACITY_MW, []), label, rows),
        VOLTAGE_KV: _attribute_numbers(frame, fields.get(VOLTAGE_KV, []), label, rows),
    }
    table = pd.DataFrame({key: value.reset_index(drop=True) for key, value in data.items()})
    sites = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometries), crs=CRS_LONLAT)
    sites = sites.rename_geometry(GEOMETRY) if sites.geometry.name != GEOMETRY else sites
    sites = sites[SITE_COLUMNS + SITE_EXTRA_COLUMNS]
    sites.attrs[DROPPED_ROWS] = dropped
    sites.attrs["geoexpose"] = {
        "layers": [
            {
                "path": label,
                "rows_read": len(keep),
                "sites": len(sites),
                "dropped": dict(dropped),
                "by_family": {str(k): int(v) for k, v in sites[FAMILY].value_counts().items()},
            }
        ]
    }
    logger.info("%s: %d sites read", label, len(sites))
    return sites


def read_registry(
    source: str | os.PathLike[str], name: str | None = None, **options: Any
) -> gpd.GeoDataFrame:
    """Read a registry file into the site schema.

    Parameters
    ----------
    source
        The file (XLSX, CSV, GeoJSON, Shapefile, GeoPackage ...).
    name
        The registry entry; by default it is recognised by the file's columns.
    **options
        Passed to :func:`geoexpose.read_sites` (``standoff``, ``columns``, ``crs`` ...).
    """
    return read_sites(source, registry=name or AUTO, **options)


def _rows_named(rows: np.ndarray) -> str:
    named = ", ".join(str(r) for r in rows[:_MAX_ROWS_NAMED])
    more = len(rows) - _MAX_ROWS_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _clean_geometries(
    frame: gpd.GeoDataFrame, label: str
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Geometries kept (2D, valid), the mask of rows kept, and counts of rows dropped."""
    geometries = shapely.force_2d(np.asarray(frame.geometry.array, dtype=object))
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    bounds = shapely.bounds(geometries).reshape(-1, 4)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(bounds).all(axis=1)
        inside &= (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        inside &= (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
    null_island = shapely.equals_exact(geometries, shapely.points(0.0, 0.0), tolerance=0.0)
    reasons = {
        "no geometry": missing,
        "coordinates out of range": ~missing & ~inside,
        "a point at 0/0": ~missing & null_island,
    }
    located = ~missing
    if located.any() and not (located & inside).any():
        raise InputError(
            f"{label}: every coordinate is out of range for longitude/latitude; "
            "give the CRS of the coordinates with crs="
        )
    dropped: dict[str, int] = {}
    for reason, rows in reasons.items():
        if rows.any():
            dropped[reason] = int(rows.sum())
            warnings.warn(
                f"{label}: dropped {dropped[reason]} row(s) with {reason}: row(s) "
                f"{_rows_named(np.flatnonzero(rows) + 1)}",
                InputWarning,
                stacklevel=3,
            )
    keep = located & inside & ~null_island
    kept = geometries[keep]
    invalid = ~shapely.is_valid(kept)
    if invalid.any():
        kept[invalid] = shapely.make_valid(kept[invalid])
        logger.info("%s: repaired %d invalid geometries", label, int(invalid.sum()))
    return kept, keep, dropped


def _site_ids(
    frame: pd.DataFrame,
    fields: Mapping[str, list[str]],
    rows: np.ndarray,
    label: str,
    id_prefix: str | None,
    stem: str,
) -> pd.Series:
    prefix = stem if id_prefix is None else id_prefix
    numbered = prefix + ":" + pd.Series(rows, index=frame.index).astype("str")
    if fields.get("site_id") and id_prefix is None:
        ids = as_text(frame[fields["site_id"][0]])
    elif fields.get("site_id") or fields.get("id"):
        column = (fields.get("site_id") or fields["id"])[0]
        ids = prefix + ":" + as_text(frame[column])
    else:
        ids = numbered
    ids = ids.fillna(numbered)
    repeat = ids.groupby(ids, sort=False).cumcount()
    if (repeat > 0).any():
        count = int((repeat > 0).sum())
        logger.warning("%s: %d repeated site ids made unique with #2, #3 ...", label, count)
        ids = ids.where(repeat == 0, ids + "#" + (repeat + 1).astype("str"))
    if ids.duplicated().any():
        clash = ids[ids.duplicated()].iloc[0]
        raise InputError(f"{label}: site id {clash!r} occurs twice; give unique ids")
    return ids


def _families(
    frame: pd.DataFrame,
    fields: list[str],
    given: str | None,
    label: str,
    rows: np.ndarray,
) -> pd.Series:
    labels = as_labels(frame[fields[0]]) if fields else pd.Series(np.nan, frame.index, "str")
    index = {a: f.name for f in load_catalog().values() for a in (f.name, *f.aliases)}
    families = labels.map(index).fillna(labels)
    if given is not None:
        families = families.fillna(resolve_family(given))
    missing = families.isna().to_numpy()
    if missing.any():
        where = f"field {fields[0]!r} is empty" if fields else "no family field"
        raise InputError(
            f"{label}: row {rows[missing][0]} has no family ({where}; {int(missing.sum())} such "
            "rows); give family= or map a field with columns={'family': ...}"
        )
    return families


def _kinds(
    frame: pd.DataFrame,
    fields: list[str],
    families: pd.Series,
    given: str | None,
    label: str,
) -> pd.Series:
    catalog = load_catalog()
    labels = as_labels(frame[fields[0]]) if fields else pd.Series(np.nan, frame.index, "str")
    table = {
        f"{name}{_PAIR}{alias}": kind
        for name, definition in catalog.items()
        for alias, kind in definition.kind_index().items()
    }
    kinds = (families + _PAIR + labels).map(table)
    unknown = kinds.isna() & labels.notna() & families.isin(catalog)
    if given is not None:
        fill = kinds.isna() & (labels.isna() | unknown)
        by_family = {name: resolve_kind(name, given) for name in families[fill].unique()}
        kinds = kinds.fillna(families.where(fill).map(by_family))
    elif unknown.any():
        examples = ", ".join(sorted(set(labels[unknown]))[:5])
        logger.warning(
            "%s: %d sites have a kind the catalog does not define for their family (%s); "
            "they get the family's standoff",
            label,
            unknown.sum(),
            examples,
        )
    return kinds.fillna(labels).fillna(KIND_UNSPECIFIED)


def _attribute_numbers(
    frame: pd.DataFrame,
    fields: list[str],
    label: str,
    rows: np.ndarray,
    *,
    strict: bool = False,
) -> pd.Series:
    if not fields:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return as_numbers(frame[fields[0]], label=label, field=fields[0], rows=rows, strict=strict)


def _standoffs(
    families: pd.Series,
    kinds: pd.Series,
    own: pd.Series,
    standoff: Mapping[str, float] | None,
) -> pd.Series:
    """Per site: its own value, else the override by kind, by family, else the default."""
    pairs = families + _PAIR + kinds
    unique = pd.DataFrame({FAMILY: families, KIND: kinds}).drop_duplicates()
    defaults = {
        f"{f}{_PAIR}{k}": default_standoff(f, None if k == KIND_UNSPECIFIED else k)
        for f, k in zip(unique[FAMILY], unique[KIND], strict=True)
    }
    by_family, by_pair = _overrides(standoff or {}, unique)
    result = own.fillna(pairs.map(by_pair)).fillna(families.map(by_family))
    return result.fillna(pairs.map(defaults)).astype("float64")


def _overrides(
    standoff: Mapping[str, float], pairs: pd.DataFrame
) -> tuple[dict[str, float], dict[str, float]]:
    """Standoff overrides keyed by family and by family + ``_PAIR`` + kind."""
    catalog = load_catalog()
    data_families = set(pairs[FAMILY])
    data_kinds = set(pairs[KIND])
    catalog_kinds = {a for d in catalog.values() for a in d.kind_index()}
    by_family: dict[str, float] = {}
    by_pair: dict[str, float] = {}
    for key, value in standoff.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"standoff[{key!r}] must be a number of metres, not {value!r}")
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"standoff[{key!r}] must be a number of metres >= 0, not {value!r}")
        name = normalize_label(key)
        family = resolve_family(key) if name else ""
        if family in catalog or family in data_families:
            by_family[family] = float(value)
        elif name in catalog_kinds or name in data_kinds:
            for fam in data_families:
                by_pair[f"{fam}{_PAIR}{resolve_kind(fam, name)}"] = float(value)
        else:
            raise UsageError(
                f"standoff has key {key!r}, neither a family nor a kind; families: "
                f"{', '.join(sorted(set(catalog) | data_families))}"
            )
    return by_family, by_pair
