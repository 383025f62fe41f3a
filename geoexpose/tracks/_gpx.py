"""Read flight tracks from GPX, GeoJSON and other vector files (through pyogrio/GDAL).

GPX (1.0 and 1.1), streamed by :mod:`geoexpose.tracks._gpx_points` (memory bounded by
the points, not the text): every ``<trk>/<trkseg>/<trkpt>`` with its ``<time>`` is a fix;
each ``<trk>`` is a track of its own (so a separate flight), the ``<trkseg>`` of
a track are split only at gaps. Track points without any ``<time>`` are an
untimed route, and a file with only ``<rte>/<rtept>`` a planned route (see
:func:`geoexpose.tracks.read_routes`). ``<ele>`` is height above mean sea level in
metres (what GPS loggers and AirData write) and goes to ``alt_msl_m``, with
``alt_agl_m`` empty and ``alt_ref="takeoff"``; ``alt_ref="takeoff"`` or
``"ground"`` says the file's ``<ele>`` is that height instead (some phone and RC
apps write height above takeoff). Where the ``<gpx creator>`` is a drone app
(AirData, DJI, Litchi, ...) and ``alt_ref`` is not given, each flight that starts
still on the ground also gets its height above take-off, ``<ele>`` minus its
first fix's (:mod:`geoexpose.tracks._takeoff`). GPX times are UTC by the GPX schema; times
without a zone are read in ``time_zone`` only where one is given. Non-standard
children such as AirData's ``<speed>`` are not read. Given ``blocks`` (a
:class:`~geoexpose.tracks._row_blocks.RowBlocks`: the reader of one huge file, through its
:class:`~geoexpose.tracks.formats.ReadOptions`), the track points go to it in blocks of
rows as they are parsed, and the frame returned has no rows.

GeoJSON and other vector layers (GeoPackage, FlatGeobuf, Shapefile; first layer):

- Point features with a time property (same aliases as CSV columns, or
  ``columns={"time": ...}``), altitudes from properties as for CSV, else from the
  Z coordinate (taken as ``alt_msl_m`` unless ``alt_ref`` says otherwise);
- LineString / MultiLineString features with one time per vertex in a list
  property ``coordTimes`` (as written by togeojson and similar tools; also
  ``times``); each feature is a track. Lines without such a property (as
  dji-log-parser's ``--geojson`` writes) are an untimed route.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import shapely

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    LAT,
    LON,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks._columns import ALT_REF_MSL, generic_mapping, key_of
from geoexpose.tracks._gpx_points import GpxPoints, read_gpx_points
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._table_frame import build_frame
from geoexpose.tracks._values import TIME_BASIS_UTC, parse_times
from geoexpose.tracks.normalize import ROUTE_PLANNED, ROUTE_UNTIMED, SEGMENT, RawTrack

__all__ = ["read_gpx", "read_vector", "sniff_geojson", "sniff_vector"]

logger = logging.getLogger(__name__)

_TIME_LISTS = ("coordtimes", "coord_times", "times", "timestamps")
_POINT, _LINE, _MULTILINE = 0, 1, 5
_VECTOR_MAGIC = (b"SQLite format 3\x00", b"fgb")  # GeoPackage, FlatGeobuf
_VECTOR_SUFFIXES = (".gpkg", ".fgb", ".shp")
#: ``<gpx creator="...">`` values of drone apps, whose tracks start on the ground.
_DRONE_APPS = re.compile(
    rb"creator\s*=\s*[\"'][^\"']*(airdata|dji|litchi|phantomhelp|drone|uav|flighthub|autel|"
    rb"skydio|parrot|pix4d|ardupilot|px4|qgroundcontrol|mission ?planner)",
    re.IGNORECASE,
)


def sniff_geojson(head: bytes, path: Path) -> bool:
    """Whether a file's first bytes are JSON (an object or an array)."""
    del path  # the content suffices
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def sniff_vector(head: bytes, path: Path) -> bool:
    """Whether a file is a GeoPackage or FlatGeobuf (first bytes), or named as a vector file."""
    return head.startswith(_VECTOR_MAGIC) or path.suffix.lower() in _VECTOR_SUFFIXES


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text.split("; It might help")[0]  # GDAL's hint about driver prefixes


def _read(path: Path, what: str, **kwargs: Any) -> pd.DataFrame:
    try:
        return pyogrio.read_dataframe(path, datetime_as_string=True, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"not a readable {what} file ({_first_line(exc)})") from exc
    except (pyogrio.errors.FieldError, shapely.errors.GEOSException, ValueError) as exc:
        raise InputError(f"{what} content cannot be read ({_first_line(exc)})") from exc


def _times(values: pd.Series, **kwargs: Any) -> tuple[pd.Series, str]:
    try:
        return parse_times(values, **kwargs)
    except ValueError as exc:
        raise InputError(str(exc)) from exc


def _altitudes(frame: pd.DataFrame, z: np.ndarray, alt_ref: str | None) -> None:
    """Put a file's one altitude (GPX ele, a Z coordinate) where ``alt_ref`` says."""
    if alt_ref in (None, ALT_REF_MSL):
        frame[ALT_AGL_M] = np.nan
        frame[ALT_REF] = ALT_REF_TAKEOFF
        frame[ALT_MSL_M] = z
    else:
        frame[ALT_AGL_M] = z
        frame[ALT_REF] = alt_ref
        frame[ALT_MSL_M] = np.nan


def read_gpx(
    path: Path,
    *,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read the track points of a GPX file (see module notes; ``blocks``: where they go).

    Raises
    ------
    InputError
        Not GPX, malformed XML, or neither track nor route points.
    """
    heights = False  # an <ele> given, of the points given out in blocks
    if blocks is None:
        points, route_points = read_gpx_points(path, time_zone=time_zone)
    else:

        def sink(batch: dict[str, Any]) -> None:
            nonlocal heights
            heights = heights or bool((~np.isnan(batch["ele"])).any())
            blocks.add(_gpx_frame(batch, alt_ref))

        points, route_points = read_gpx_points(
            path, time_zone=time_zone, sink=sink, progress=blocks.progress
        )
    if len(points) == 0:
        return _gpx_route(route_points, alt_ref)
    route, basis, notes = None, TIME_BASIS_UTC, []
    if blocks is None:
        batch = {"lon": points.lon, "lat": points.lat, "ele": points.ele, "group": points.group}
        frame = _gpx_frame({**batch, "times": points.times}, alt_ref)
    else:
        frame = _gpx_frame({k: np.zeros(0) for k in ("lon", "lat", "ele", "group")}, alt_ref)
    if not points.timed:
        if blocks is not None:  # positions only: read whole, as a route
            frame = pd.concat(blocks.frames(), ignore_index=True)
        frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
        route = ROUTE_UNTIMED
        notes.append("GPX track points without <time>: positions only")
    else:
        basis = points.basis
    takeoff = "GPX <ele>" if alt_ref is None and _from_drone_app(path) else None
    if alt_ref is None and takeoff is None and (heights or frame[ALT_MSL_M].notna().any()):
        notes.append(
            "<ele> read as metres above sea level (alt_msl_m), no height above take-off: "
            "not a drone app's GPX (creator); pass alt_ref='takeoff' if <ele> is that height"
        )
    return RawTrack(frame, "gpx", time_basis=basis, notes=notes, route=route, takeoff_from=takeoff)


def _gpx_frame(batch: dict[str, Any], alt_ref: str | None) -> pd.DataFrame:
    """Return the rows of some track points (``lon``, ``lat``, ``ele``, ``group``, ``times``)."""
    frame = pd.DataFrame({LAT: batch["lat"], LON: batch["lon"]}, copy=False)  # no copy
    times = batch.get("times")
    if times is None:
        times = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    frame[TIME_UTC] = times
    _altitudes(frame, batch["ele"], alt_ref)
    frame[SEGMENT] = np.asarray(batch["group"], dtype=np.int64)
    return frame


def _from_drone_app(path: Path) -> bool:
    """Whether the ``<gpx creator>`` names a drone app (AirData, DJI, Litchi, ...)."""
    with path.open("rb") as handle:
        return _DRONE_APPS.search(handle.read(4096)) is not None


def _gpx_route(points: GpxPoints, alt_ref: str | None) -> RawTrack:
    """Take the ``<rte><rtept>`` points of a GPX file without track points: a planned route."""
    if len(points) == 0:
        raise InputError("no track or route points (<trkpt>, <rtept>) in the GPX file")
    frame = pd.DataFrame({LAT: points.lat, LON: points.lon})
    frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    _altitudes(frame, points.ele, alt_ref)
    frame[SEGMENT] = points.group
    notes = ["GPX <rte>: route points, planned, without times"]
    return RawTrack(frame, "gpx", notes=notes, route=ROUTE_PLANNED)


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
        _altitudes(frame, coords[:, 2], alt_ref)
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
    _altitudes(frame, coords[:, 2], alt_ref)
    frame[SEGMENT] = index
    return frame, basis


def read_vector(
    path: Path,
    *,
    format: str = "vector",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read a GeoJSON or other vector track (see module notes; ``blocks``: not used yet).

    Raises
    ------
    InputError
        Unreadable file, no CRS, geometry that is not points or lines, or no times.
    """
    del blocks  # read whole for now
    what = "GeoJSON" if format == "geojson" else "vector"
    table = _read(path, what)
    columns = columns or {}
    if table.crs is None:
        raise InputError("the layer has no CRS; geoexpose needs one to place the fixes")
    if not table.crs.equals(CRS_LONLAT):
        table = table.to_crs(CRS_LONLAT)
    geoms = table.geometry.to_numpy()
    kinds = set(np.unique(shapely.get_type_id(geoms[~shapely.is_missing(geoms)])).tolist())
    if kinds and kinds <= {_POINT}:
        props = pd.DataFrame(table.drop(columns=table.geometry.name))
        mapping = generic_mapping(
            list(props.columns), columns=columns, alt_ref=alt_ref, need_position=False
        )
        lat = pd.Series(shapely.get_y(geoms), index=props.index)
        lon = pd.Series(shapely.get_x(geoms), index=props.index)
        frame, basis = build_frame(props, mapping, time_zone=time_zone, lat=lat, lon=lon)
        if mapping.agl is None and mapping.msl is None and shapely.has_z(geoms).any():
            _altitudes(frame, shapely.get_z(geoms), alt_ref)
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
