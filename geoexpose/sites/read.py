"""Read site layers (any family of the layer catalog, or a user's own) into the site schema.

:func:`read_sites` turns a file or a frame into one GeoDataFrame with the columns of
:data:`geoexpose.schema.SITE_COLUMNS`, in EPSG:4326, with a unique ``site_id`` and
a ``standoff_m`` for every site; :func:`read_registry` is its front door for a file of
a published registry.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geoexpose.errors import InputError, InputWarning
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
from geoexpose.sites._classify import check_family, classify, distinct_rows
from geoexpose.sites._columns import as_numbers, as_text, coalesce_text, match_fields
from geoexpose.sites._source import read_source
from geoexpose.sites.catalog import MAX_STANDOFF_M
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
_LONLAT = CRS.from_user_input(CRS_LONLAT)  # parsed once
_POINT = 0  # shapely type ids
_ALWAYS_VALID = (0, 4)  # Point, MultiPoint


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
        Family of the rows whose attributes give none: a family of the layer
        catalog (``water``, ``rail``, ``power``, ``military``, ``hazmat`` ...) or an alias of
        one, or a user's own family declared with its standoff in ``standoff``
        (``family="pipelines", standoff={"pipelines": 80}``); any other is refused.
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
        given (``longitude``, ``lon``, ``lng``, ``long``, ``x``, ``longdd`` and
        ``latitude``, ``lat``, ``y``, ``latdd``, in that order, any case).
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
        it from the file's columns.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`~geoexpose.schema.SITE_COLUMNS` then ``capacity_mw`` and
        ``voltage_kv`` (NaN where unknown); CRS EPSG:4326; one row per site with a
        geometry, in input order.

    Raises
    ------
    InputError
        A file that cannot be read, a file with no site (no feature, or every row
        dropped), a field given in ``columns`` that it lacks, a row without family,
        a bad ``standoff_m`` attribute (not a number of metres from 0 to
        :data:`~geoexpose.sites.MAX_STANDOFF_M`), no CRS, a CRS that contradicts
        ``crs``, every coordinate out of range. The message names the
        file and the row or field.
    UsageError
        An unknown key or a bad value in ``columns``, ``standoff`` or ``crs``; a
        ``family`` the catalog does not know that ``standoff`` does not declare (the
        message lists the catalog's families and suggests the closest).

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

    Row numbers in messages are the rows as the user sees them in the file: the
    line of a CSV file (the header is line 1), the row number Excel shows for a
    spreadsheet (title rows above the header counted), the feature's position from
    1 for other formats and for a frame. Empty rows of a spreadsheet and blank lines
    of a CSV file are no rows.

    Family and kind values are normalised to labels and resolved through the
    catalog's aliases (``"Drinking water treatment"`` -> ``water_works``); values
    the catalog does not know are a user's own, kept as they are: they are logged
    (a warning listing them, with their site counts and the catalog's default
    standoff they get) unless ``standoff`` declares them. A row without kind is
    ``unspecified``.

    ``standoff_m``: the row's own attribute; else ``standoff`` by kind, then by
    family; else :func:`geoexpose.sites.catalog.default_standoff`.

    ``source``: the row's ``source`` attribute; else the path as given (or
    ``GeoDataFrame`` for a frame).

    Invalid geometries are repaired with :func:`shapely.make_valid`; Z is dropped.
    """
    if family is not None:
        family = check_family(family, standoff)
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

    geometries, keep, dropped = _clean_geometries(frame, label, loaded.row_numbers())
    if not keep.any() and not isinstance(source, pd.DataFrame):
        raise InputError(f"{label}: {_no_sites(len(keep), dropped)}")
    if not keep.all():
        frame = frame.loc[keep]
    rows = loaded.row_numbers()[keep]  # as the user sees them in the file, for messages
    counted = np.flatnonzero(keep) + 1  # rows counted from 1, for site ids

    site_ids = _site_ids(frame, fields, counted, label, id_prefix, loaded.stem)
    pairs = {name: _field(frame, fields, name) for name in (FAMILY, KIND)}
    classes = classify(
        distinct_rows(pairs, len(frame)),
        index=frame.index,
        given_family=family,
        given_kind=kind,
        standoff=standoff,
        family_field=next(iter(fields.get(FAMILY, [])), None),
        label=label,
        rows=rows,
    )
    own = _attribute_numbers(
        frame, fields.get("standoff_m", []), label, rows, strict=True, maximum=MAX_STANDOFF_M
    )
    sources = coalesce_text(frame, fields.get("source", [])).fillna(label)
    data = {
        SITE_ID: site_ids,
        FAMILY: classes.family,
        KIND: classes.kind,
        NAME: coalesce_text(frame, fields.get("name", [])),
        OPERATOR: coalesce_text(frame, fields.get("operator", [])),
        STANDOFF_M: own.fillna(classes.standoff_m).astype("float64"),
        SOURCE: sources,
        CAPACITY_MW: _attribute_numbers(frame, fields.get(CAPACITY_MW, []), label, rows),
        VOLTAGE_KV: _attribute_numbers(frame, fields.get(VOLTAGE_KV, []), label, rows),
    }
    table = pd.DataFrame({key: value.reset_index(drop=True) for key, value in data.items()})
    sites = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometries), crs=_LONLAT)
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


def _no_sites(n_rows: int, dropped: Mapping[str, int]) -> str:
    """Why a file gives no site: no row, or every row dropped (by reason)."""
    if not n_rows:
        return "holds no site (no feature or row); give a layer with sites"
    reasons = ", ".join(f"{count} with {reason}" for reason, count in dropped.items())
    return f"holds no usable site: all {n_rows} row(s) dropped ({reasons})"


def _rows_named(rows: np.ndarray) -> str:
    named = ", ".join(str(r) for r in rows[:_MAX_ROWS_NAMED])
    more = len(rows) - _MAX_ROWS_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _field(frame: pd.DataFrame, fields: Mapping[str, list[str]], name: str) -> pd.Series:
    """Return the attribute that holds site field ``name``, or an all-missing column."""
    found = fields.get(name)
    if found:
        return frame[found[0]]
    return pd.Series(np.nan, index=frame.index, dtype="str")


def _clean_geometries(
    frame: gpd.GeoDataFrame, label: str, file_rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Geometries kept (2D, valid), the mask of rows kept, and counts of rows dropped."""
    geometries = np.asarray(frame.geometry.array, dtype=object)
    if shapely.has_z(geometries).any():
        geometries = shapely.force_2d(geometries)
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    bounds = shapely.bounds(geometries).reshape(-1, 4)
    types = shapely.get_type_id(geometries)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(bounds).all(axis=1)
        inside &= (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        inside &= (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
        null_island = (types == _POINT) & (bounds == 0.0).all(axis=1)
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
                f"{_rows_named(file_rows[rows])}",
                InputWarning,
                stacklevel=3,
            )
    keep = located & inside & ~null_island
    kept = geometries[keep] if not keep.all() else geometries
    # Points and MultiPoints with finite coordinates are always valid
    check = ~np.isin(types[keep], _ALWAYS_VALID)
    invalid = np.zeros(len(kept), dtype=bool)
    invalid[check] = ~shapely.is_valid(kept[check])
    if invalid.any():
        kept = kept.copy()  # never the input's own array
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

    def numbered(where: np.ndarray | slice) -> pd.Series:
        return prefix + ":" + pd.Series(rows[where], index=frame.index[where]).astype("str")

    if fields.get("site_id") and id_prefix is None:
        ids = as_text(frame[fields["site_id"][0]])
    elif fields.get("site_id") or fields.get("id"):
        column = (fields.get("site_id") or fields["id"])[0]
        ids = prefix + ":" + as_text(frame[column])
    else:
        ids = numbered(slice(None))
    empty = ids.isna().to_numpy()
    if empty.any():
        ids = ids.fillna(numbered(empty))
    if not ids.is_unique:
        repeat = ids.groupby(ids, sort=False).cumcount()
        count = int((repeat > 0).sum())
        logger.warning("%s: %d repeated site ids made unique with #2, #3 ...", label, count)
        ids = ids.where(repeat == 0, ids + "#" + (repeat + 1).astype("str"))
        if ids.duplicated().any():
            clash = ids[ids.duplicated()].iloc[0]
            raise InputError(f"{label}: site id {clash!r} occurs twice; give unique ids")
    return ids


def _attribute_numbers(
    frame: pd.DataFrame,
    fields: list[str],
    label: str,
    rows: np.ndarray,
    *,
    strict: bool = False,
    maximum: float = np.inf,
) -> pd.Series:
    if not fields:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return as_numbers(
        frame[fields[0]], label=label, field=fields[0], rows=rows, strict=strict, maximum=maximum
    )
