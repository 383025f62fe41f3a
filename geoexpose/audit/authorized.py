"""Authorized areas of a work order: where, when and with which aircraft flying is allowed.

An authorized area is a polygon, or a site named by its ``site_id``: a site is
authorized together with its zone (its geometry buffered by ``standoff_m``). An area
may hold for a time window only, and for some aircraft or flights only:

============================  ==========================================================
attribute (any case)          meaning
============================  ==========================================================
``area_id`` (or ``id``,       the area's name in findings and the report (default:
``name``)                     ``<file name>#<row>``)
``site_id``                   the area is that site and its zone (the row's geometry,
                              if any, is not used)
``valid_from_utc``            start of the window, ISO 8601 (no zone: UTC); empty: open
``valid_to_utc``              end of the window; a date alone means the whole day
``aircraft`` (or              the aircraft allowed: their serials or Remote ID, as
``drone_id``)                 the fixes' ``drone_id``; several separated by ``;``
``flight`` (or                the flights allowed (``flight_id``); several by ``;``
``flight_id``)
============================  ==========================================================

Files are read like site layers (GeoPackage, GeoJSON, Shapefile, FlatGeobuf,
GeoParquet), or a CSV with a ``site_id`` column.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError
from geoexpose.projection import band_of_geometries, from_band, geometries_to_band
from geoexpose.schema import (
    AIRCRAFT,
    AREA_ID,
    CRS_LONLAT,
    FAMILY,
    FLIGHT_ID,
    GEOMETRY,
    KIND,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    TIME_DTYPE,
    VALID_FROM_UTC,
    VALID_TO_UTC,
)
from geoexpose.sites import default_standoff

__all__ = ["AUTHORIZED_COLUMNS", "area_polygons", "buffered", "read_authorized"]

#: Columns of the authorized areas, one row per area (and aircraft or flight).
AUTHORIZED_COLUMNS = [
    AREA_ID,
    SITE_ID,
    VALID_FROM_UTC,
    VALID_TO_UTC,
    AIRCRAFT,
    FLIGHT_ID,
    STANDOFF_M,
    SOURCE,
    GEOMETRY,
]
_ALIASES = {
    AREA_ID: ("area_id", "id", "name"),
    SITE_ID: ("site_id",),
    VALID_FROM_UTC: ("valid_from_utc", "valid_from"),
    VALID_TO_UTC: ("valid_to_utc", "valid_to"),
    AIRCRAFT: ("aircraft", "drone_id"),
    FLIGHT_ID: ("flight", "flight_id"),
}
_LAYERS = ("authorized", "work_areas")
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
_POLYGONAL = ("Polygon", "MultiPolygon")
_Source: TypeAlias = str | os.PathLike[str] | pd.DataFrame


def _empty() -> gpd.GeoDataFrame:
    columns: dict[str, Any] = {c: pd.Series(dtype=object) for c in AUTHORIZED_COLUMNS[:-1]}
    columns[VALID_FROM_UTC] = pd.Series(dtype=TIME_DTYPE)
    columns[VALID_TO_UTC] = pd.Series(dtype=TIME_DTYPE)
    columns[STANDOFF_M] = pd.Series(dtype="float64")
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=CRS_LONLAT), crs=CRS_LONLAT)


def _column(frame: pd.DataFrame, field: str) -> str | None:
    lower = {str(c).lower(): c for c in frame.columns}
    return next((lower[a] for a in _ALIASES[field] if a in lower), None)


def _text(value: Any) -> str | None:
    """Return a cell as stripped text, None where it is empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip() or None


def _times(values: pd.Series, label: str, rows: pd.Index, field: str, end: bool) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return pd.to_datetime(values, utc=True).astype(TIME_DTYPE)
    text = [_text(v) for v in values.astype(object)]
    given = np.array([t is not None for t in text], dtype=bool)
    out = pd.to_datetime(
        pd.Series(text, index=rows, dtype=object), utc=True, errors="coerce", format="ISO8601"
    )
    bad = given & out.isna().to_numpy()
    if bad.any():
        k = int(np.argmax(bad))
        raise InputError(
            f"{label}: row {rows[k]}, field {field}: {text[k]!r} is not an ISO 8601 time"
        )
    if end:  # a date alone: until the end of that day
        whole_day = np.array([t is not None and bool(_DATE_ONLY.fullmatch(t)) for t in text])
        out = out.where(~whole_day, out + pd.Timedelta(days=1) - pd.Timedelta(1, "ns"))
    return out.astype(TIME_DTYPE)


def _ids(values: pd.Series | None, n: int) -> list[list[str | None]]:
    """Split ``a; b`` lists; an empty cell allows any."""
    if values is None:
        return [[None]] * n
    out: list[list[str | None]] = []
    for v in values.astype(object):
        text = _text(v)
        parts = [] if text is None else [p.strip() for p in text.split(";")]
        kept: list[str | None] = [p for p in parts if p]
        out.append(kept or [None])
    return out


def _site_rows(ids: Sequence[str], sites: gpd.GeoDataFrame | None, label: str) -> pd.DataFrame:
    if sites is None:
        raise InputError(f"{label}: site ids need the sites (pass sites=)")
    index = pd.Index(sites[SITE_ID].astype(str))
    missing = [i for i in ids if i not in index]
    if missing:
        raise InputError(f"{label}: no site has the id {missing[0]!r} (and no such file exists)")
    rows = sites.iloc[index.get_indexer(list(ids))]
    if STANDOFF_M in rows:
        standoff = pd.to_numeric(rows[STANDOFF_M]).to_numpy("float64")
    else:
        kinds = rows[KIND] if KIND in rows else pd.Series(None, index=rows.index)
        standoff = np.array(
            [default_standoff(f, k) for f, k in zip(rows[FAMILY], kinds, strict=True)]
        )
    return pd.DataFrame(
        {
            SITE_ID: rows[SITE_ID].astype(str).to_numpy(),
            STANDOFF_M: standoff,
            GEOMETRY: rows.geometry.to_crs(CRS_LONLAT).to_numpy(),
        }
    )


def _read_table(path: Path) -> pd.DataFrame:
    import pyogrio

    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
        named = [n for n in layers if n.lower() in _LAYERS]
        if len(layers) > 1 and not named:
            raise InputError(f"{path}: {len(layers)} layers; name one 'authorized' or 'work_areas'")
        layer = named[0] if named else None
        if path.suffix.lower() == ".csv":
            return pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
        return pyogrio.read_dataframe(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path}: cannot read as a vector layer ({exc})") from exc


def _from_frame(frame: pd.DataFrame, label: str, sites: gpd.GeoDataFrame | None) -> pd.DataFrame:
    n = len(frame)
    rows = frame.index
    site_col = _column(frame, SITE_ID)
    cells = frame[site_col].astype(object) if site_col else [None] * n
    site_ids = pd.Series([_text(v) for v in cells], index=rows, dtype=object)
    by_site = site_ids.notna().to_numpy()
    geoms = np.full(n, None, dtype=object)
    standoff = np.zeros(n)
    has_geom = isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame
    if has_geom and (~by_site).any():
        if frame.crs is None:
            raise InputError(f"{label}: the layer has no CRS")
        g = frame.geometry.to_crs(CRS_LONLAT)
        kinds = g.geom_type.to_numpy(dtype=object)
        bad = ~by_site & ~np.isin(kinds, _POLYGONAL)
        if bad.any():
            row = rows[int(np.argmax(bad))]
            raise InputError(
                f"{label}: row {row}: an authorized area must be a polygon or name a "
                f"site_id, got {kinds[bad][0] or 'no geometry'}"
            )
        geoms[~by_site] = g.to_numpy()[~by_site]
    elif (~by_site).any():
        row = rows[int(np.argmax(~by_site))]
        raise InputError(f"{label}: row {row}: no polygon and no site_id")
    if by_site.any():
        found = _site_rows(list(site_ids[by_site]), sites, label)
        geoms[by_site] = found[GEOMETRY].to_numpy()
        standoff[by_site] = found[STANDOFF_M].to_numpy()
    id_col = _column(frame, AREA_ID)
    default_ids = pd.Series([f"{label}#{i + 1}" for i in range(n)], index=rows)
    area_ids = default_ids
    if id_col:
        given = pd.Series([_text(v) for v in frame[id_col].astype(object)], index=rows)
        area_ids = given.where(given.notna(), default_ids)
    else:
        area_ids = site_ids.where(by_site, default_ids)
    out = pd.DataFrame(
        {
            AREA_ID: area_ids.astype(str).to_numpy(),
            SITE_ID: site_ids.to_numpy(),
            STANDOFF_M: standoff,
            SOURCE: label,
            GEOMETRY: geoms,
        }
    )
    for field, end in ((VALID_FROM_UTC, False), (VALID_TO_UTC, True)):
        col = _column(frame, field)
        values = frame[col] if col else pd.Series(None, index=rows, dtype=object)
        out[field] = _times(values, label, rows, col or field, end).array
    backwards = (out[VALID_TO_UTC] < out[VALID_FROM_UTC]).to_numpy()
    if backwards.any():
        raise InputError(
            f"{label}: row {rows[int(np.argmax(backwards))]}: valid_to_utc is before valid_from_utc"
        )
    for field in (AIRCRAFT, FLIGHT_ID):
        col = _column(frame, field)
        out[field] = _ids(frame[col] if col else None, n)
    return out.explode(AIRCRAFT).explode(FLIGHT_ID)


def read_authorized(
    sources: _Source | Iterable[_Source],
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read the authorized areas of a work order.

    Parameters
    ----------
    sources
        Files of areas (polygons, or rows naming a ``site_id``), site ids (one per
        item, or several separated by commas), (Geo)DataFrames with the same
        attributes, or an iterable of any of them.
    sites
        The sites that ids refer to (``site_id``, ``standoff_m``, geometry).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`AUTHORIZED_COLUMNS`, EPSG:4326: one row per area and allowed
        aircraft and flight (``None``: any). ``geometry`` is the polygon, or the site's
        geometry with ``standoff_m`` the width of its zone (0 for polygons).

    Raises
    ------
    InputError
        A file cannot be read, an id names no site, a row has neither a polygon nor a
        site id, or a time cannot be read; the message names the file, row and field.
    """
    single = isinstance(sources, str | os.PathLike | pd.DataFrame)
    items: list[Any] = [sources] if single else list(sources)  # type: ignore[arg-type]
    parts = []
    for item in items:
        if isinstance(item, pd.DataFrame):
            parts.append(_from_frame(item, "authorized", sites))
        elif Path(item).is_file():
            path = Path(item)
            parts.append(_from_frame(_read_table(path), path.name, sites))
        else:
            ids = [i.strip() for i in str(item).split(",") if i.strip()]
            if not ids:
                raise InputError(f"authorized: {str(item)!r} is no file and no site id")
            label = f"authorized {str(item)!r}"
            frame = pd.DataFrame({SITE_ID: ids})
            parts.append(_from_frame(frame, label, sites).assign(**{SOURCE: "site ids"}))
    if not parts:
        return _empty()
    table = pd.concat(parts, ignore_index=True)
    for col in (AIRCRAFT, FLIGHT_ID, SITE_ID):  # None where any is allowed (or no site)
        table[col] = pd.Series([_text(v) for v in table[col]], index=table.index, dtype=object)
    geometry = gpd.GeoSeries(table.pop(GEOMETRY).to_numpy(), crs=CRS_LONLAT)
    out = gpd.GeoDataFrame(table, geometry=geometry, crs=CRS_LONLAT)
    return out[AUTHORIZED_COLUMNS]


def buffered(geoms: np.ndarray, standoff_m: np.ndarray) -> np.ndarray:
    """Grow EPSG:4326 geometries by ``standoff_m`` metres (none where it is 0).

    Buffers are made in metres in each geometry's band (:mod:`geoexpose.projection`).
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    standoff_m = np.asarray(standoff_m, dtype="float64")
    grow = np.flatnonzero(standoff_m > 0)
    if len(grow):
        bands = band_of_geometries(geoms[grow])
        for band in np.unique(bands):
            sel = grow[bands == band]
            metric = geometries_to_band(geoms[sel], int(band))
            geoms[sel] = from_band(shapely.buffer(metric, standoff_m[sel], quad_segs=16), int(band))
    return geoms


def area_polygons(authorized: gpd.GeoDataFrame) -> np.ndarray:
    """Each area's polygon, EPSG:4326: site areas buffered by their zone width."""
    return buffered(authorized.geometry.to_numpy(), authorized[STANDOFF_M].to_numpy("float64"))
