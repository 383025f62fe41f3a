"""Read flight tracks from GeoJSON and other vector layers (through pyogrio/GDAL).

GeoJSON, GeoPackage, FlatGeobuf, Shapefile (first layer):

- Point features with a time property (same aliases as CSV columns, or
  ``columns={"time": ...}``), altitudes from properties as for CSV, else from the
  Z coordinate (taken as ``alt_msl_m`` unless ``alt_ref`` says otherwise);
- LineString / MultiLineString features with one time per vertex in a list
  property ``coordTimes`` (as written by togeojson and similar tools; also
  ``times``); each feature is a track. Lines without such a property (as
  dji-log-parser's ``--geojson`` writes) are an untimed route.

A layer in another CRS is transformed to longitude/latitude; a layer without one is
refused. Given ``blocks`` (a :class:`~geoexpose.tracks._row_blocks.RowBlocks`: the
reader of one huge file, through its :class:`~geoexpose.tracks.formats.ReadOptions`),
a layer of Point features gives its rows to it in blocks, read in batches
(:mod:`geoexpose.tracks._vector_blocks`), and the frame returned has no rows; another
layer is read whole, with a note saying why.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoexpose.errors import InputError
from geoexpose.schema import CRS_LONLAT, LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks._columns import key_of
from geoexpose.tracks._row_blocks import RowBlocks, whole_note
from geoexpose.tracks._table_frame import TableFrames
from geoexpose.tracks._values import TIME_BASIS_UTC, parse_times
from geoexpose.tracks._vector_blocks import gdal_message, read_vector_blocks
from geoexpose.tracks._vector_points import (
    NO_CRS,
    POINT,
    geometry_kinds,
    point_frame,
    point_mapping,
    put_altitudes,
    z_heights,
)
from geoexpose.tracks.normalize import ROUTE_UNTIMED, SEGMENT, RawTrack

__all__ = ["read_vector", "sniff_geojson", "sniff_vector"]

logger = logging.getLogger(__name__)

_TIME_LISTS = ("coordtimes", "coord_times", "times", "timestamps")
_LINE, _MULTILINE = 1, 5
_VECTOR_MAGIC = (b"SQLite format 3\x00", b"fgb")  # GeoPackage, FlatGeobuf
_VECTOR_SUFFIXES = (".gpkg", ".fgb", ".shp")


def sniff_geojson(head: bytes, path: Path) -> bool:
    """Whether a file's first bytes are JSON (an object or an array)."""
    del path  # the content suffices
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def sniff_vector(head: bytes, path: Path) -> bool:
    """Whether a file is a GeoPackage or FlatGeobuf (first bytes), or named as a vector file."""
    return head.startswith(_VECTOR_MAGIC) or path.suffix.lower() in _VECTOR_SUFFIXES


def _read(path: Path, what: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pyogrio.read_dataframe(path, datetime_as_string=True, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"not a readable {what} file ({gdal_message(exc)})") from exc
    except (pyogrio.errors.FieldError, shapely.errors.GEOSException, ValueError) as exc:
        raise InputError(f"{what} content cannot be read ({gdal_message(exc)})") from exc


def _times(values: pd.Series, **kwargs: Any) -> tuple[pd.Series, str]:
    try:
        return parse_times(values, **kwargs)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _flatten(value: Any) -> list[Any]:
    """Flatten a per-vertex time list (nested for MultiLineStrings, maybe JSON text)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    if isinstance(value, list | tuple | np.ndarray):
        return [item for part in value for item in _flatten(part)]
    return [value]


def _lines(
    table: pd.DataFrame, columns: Mapping[str, str], time_zone: str | None, alt_ref: str | None
) -> tuple[pd.DataFrame, str]:
    names = {key_of(str(name)): name for name in table.columns if name != "geometry"}
    prop = columns.get("time") or next((names[k] for k in _TIME_LISTS if k in names), None)
    if prop is not None and prop not in table:
        raise InputError(f"no per-vertex time list property {prop!r} (columns={{'time': ...}})")
    coords, index = shapely.get_coordinates(
        table.geometry.to_numpy(), include_z=True, return_index=True
    )
    if prop is None:  # lines without times (e.g. dji-log-parser --geojson): an untimed route
        frame = pd.DataFrame({LAT: coords[:, 1], LON: coords[:, 0]})
        frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
        put_altitudes(frame, coords[:, 2], alt_ref)
        frame[SEGMENT] = index
        return frame, TIME_BASIS_UTC
    per_feature = [_flatten(value) for value in table[prop]]  # one list per feature
    counts = np.bincount(index, minlength=len(table))
    for number, (times, count) in enumerate(zip(per_feature, counts, strict=True)):
        if len(times) != count:
            raise InputError(
                f"feature {number}: {len(times)} values in {prop!r} for {count} vertices"
            )
    stamps = pd.Series([item for times in per_feature for item in times])
    frame = pd.DataFrame({LAT: coords[:, 1], LON: coords[:, 0]})
    frame[TIME_UTC], basis = _times(stamps, column=prop, time_zone=time_zone)
    put_altitudes(frame, coords[:, 2], alt_ref)
    frame[SEGMENT] = index
    return frame, basis


def _points(
    table: pd.DataFrame,
    geoms: np.ndarray,
    columns: Mapping[str, str],
    time_zone: str | None,
    alt_ref: str | None,
) -> tuple[pd.DataFrame, str]:
    """Make the rows of a layer of Point features, each with its properties."""
    props = pd.DataFrame(table.drop(columns=table.geometry.name))
    mapping = point_mapping(list(props.columns), columns, alt_ref)
    frames = TableFrames(mapping, time_zone=time_zone)
    frames.decide(props, last=True)
    frames.see(props)
    z = shapely.get_z(geoms) if z_heights(mapping, bool(shapely.has_z(geoms).any())) else None
    frame, elapsed = point_frame(frames, props, geoms, z, alt_ref)
    frames.refine(frame, elapsed)
    return frame, frames.finish()


def _read_whole(
    path: Path,
    format: str,
    columns: Mapping[str, str],
    time_zone: str | None,
    alt_ref: str | None,
) -> RawTrack:
    """Read a whole vector layer (see :func:`read_vector`)."""
    what = "GeoJSON" if format == "geojson" else "vector"
    table = _read(path, what)
    if table.crs is None:
        raise InputError(NO_CRS)
    if not table.crs.equals(CRS_LONLAT):
        table = table.to_crs(CRS_LONLAT)
    geoms = table.geometry.to_numpy()
    kinds = geometry_kinds(geoms)
    if kinds and kinds <= {POINT}:
        frame, basis = _points(table, geoms, columns, time_zone, alt_ref)
    elif kinds and kinds <= {_LINE, _MULTILINE}:
        frame, basis = _lines(table, columns, time_zone, alt_ref)
        if frame[TIME_UTC].isna().all():
            note = "line features without per-vertex times (coordTimes): positions only"
            return RawTrack(frame, format, notes=[note], route=ROUTE_UNTIMED)
    else:
        raise InputError(
            "no track in the layer: need Point features with a time property, or "
            "LineStrings with a coordTimes property"
            + (
                f" (found {', '.join(shapely.GeometryType(k).name for k in sorted(kinds))})"
                if kinds
                else " (no geometries)"
            )
        )
    return RawTrack(frame, format, time_basis=basis)


def read_vector(
    path: Path,
    *,
    format: str = "vector",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read a GeoJSON or other vector track (see module notes).

    Parameters
    ----------
    path
        The file.
    format
        ``"geojson"`` or ``"vector"`` (the name of the format, in messages and the entry).
    columns, time_zone, alt_ref
        See :func:`geoexpose.tracks.read_tracks`.
    blocks
        Where the rows go, in blocks (the reader of one huge file): a layer of Point
        features gives them there and its frame has no rows; another is read whole,
        with a note saying why.

    Raises
    ------
    InputError
        Unreadable file, no CRS, geometry that is not points or lines, or no times.
    """
    whole_because = None
    if blocks is not None:
        given = read_vector_blocks(
            path, blocks, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref
        )
        if isinstance(given, RawTrack):
            return given
        whole_because = whole_note(path, given)
    raw = _read_whole(path, format, columns or {}, time_zone, alt_ref)
    if whole_because is not None:
        raw.notes.append(whole_because)
    return raw
