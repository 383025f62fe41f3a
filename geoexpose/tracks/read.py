"""Read flight tracks (one row per fix) and routes (positions without times).

:func:`read_tracks` finds the track files, detects each file's format from its
content, reads it (the ``geoexpose.tracks._*`` readers), cleans the fixes and
numbers the flights (:mod:`geoexpose.tracks.normalize`), and reports per file what it
read, kept, dropped and skipped.

Some files hold positions but no time at all: planned routes (DJI WPML mission
KMZ, Litchi mission CSV) and tracks drawn without times (AirData KML, a GPX
without ``<time>``). A fix needs a time (exposure integrates time over sites), so
such files give no fixes: :func:`read_tracks` reports each of them with status
``"route"``, counts its positions as dropped ``untimed``, summarises them under
``route`` in its file entry and warns once; :func:`read_routes` reads them, one
row per position, with ``route_kind`` ``"planned"`` or ``"untimed"``.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from geoexpose._files import expand_paths, file_labels
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    DRONE_ID,
    FIX_COLUMNS,
    FLIGHT_ID,
    ROUTE_ID,
    ROUTE_KIND,
    SOURCE,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
    VERTEX,
)
from geoexpose.tracks._ardupilot import (
    AUTOPILOT_FORMATS,
    AUTOPILOT_SUFFIXES,
    read_autopilot,
    sniff_autopilot,
)
from geoexpose.tracks._columns import ALT_REF_MSL
from geoexpose.tracks._csv import read_csv_track
from geoexpose.tracks._dji_txt import read_dji_txt, sniff_dji_txt
from geoexpose.tracks._gpx import read_gpx, read_vector
from geoexpose.tracks._kml import read_kml, sniff_kml
from geoexpose.tracks._remoteid import read_remote_id, sniff_remote_id
from geoexpose.tracks._srt import read_srt, sniff_srt
from geoexpose.tracks.normalize import (
    DROP_REASONS,
    EXTRA_COLUMNS,
    FLIGHT_NO,
    LAT,
    LON,
    MAX_SPEED_M_S,
    ROUTE_PLANNED,
    ROUTE_UNTIMED,
    TIME_BASIS_ASSUMED_UTC,
    RawTrack,
    check_time_zone,
    clean_fixes,
    clean_positions,
)

__all__ = ["FORMATS", "ROUTE_COLUMNS", "TRACK_SUFFIXES", "read_routes", "read_tracks"]

logger = logging.getLogger(__name__)

#: Values of ``format=``.
FORMATS = (
    "auto", "airdata_csv", "csv", "gpx", "geojson", "vector", "kml",
    "remote_id", "dji_srt", "dji_txt", *AUTOPILOT_FORMATS,
)  # fmt: skip
#: File name endings looked for in folders.
TRACK_SUFFIXES = (
    ".csv", ".gpx", ".geojson", ".json", ".kml", ".kmz", ".srt", ".pcap", ".pcapng",
    *AUTOPILOT_SUFFIXES,
)  # fmt: skip
_COLUMN_KEYS = ("lat", "lon", "time", "alt", "alt_msl", "date")
_ALT_REFS = (ALT_REF_GROUND, ALT_REF_TAKEOFF, ALT_REF_MSL)
_VECTOR_SUFFIXES = (".gpkg", ".fgb", ".shp")
_COLUMN_DTYPES = {
    FLIGHT_ID: "str",
    TIME_UTC: TIME_DTYPE,
    ALT_AGL_M: "float64",
    ALT_REF: "str",
    ALT_MSL_M: "float64",
    SOURCE: "str",
}
#: Columns of :func:`read_routes`, in order.
ROUTE_COLUMNS = [
    ROUTE_ID, ROUTE_KIND, VERTEX, ALT_AGL_M, ALT_REF, ALT_MSL_M, SPEED_M_S, SOURCE, "geometry",
]  # fmt: skip
_ROUTE_DTYPES = {
    ROUTE_ID: "str",
    ROUTE_KIND: "str",
    VERTEX: "int64",
    ALT_AGL_M: "float64",
    ALT_REF: "str",
    ALT_MSL_M: "float64",
    SPEED_M_S: "float64",
    SOURCE: "str",
}
_ROUTE_WHAT = {
    "dji_wpml": "DJI WPML mission",
    "litchi_mission": "Litchi mission",
    "kml": "KML LineString",
    "kmz": "KML LineString",
    "gpx": "GPX",
    "geojson": "lines without coordTimes",
    "vector": "lines without coordTimes",
    "dji_srt": "video subtitles without dates",
}


def _check_options(
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
    split_gap_s: float,
) -> None:
    if format not in FORMATS:
        raise UsageError(f"format={format!r}: expected one of {', '.join(FORMATS)}")
    if alt_ref is not None and alt_ref not in _ALT_REFS:
        raise UsageError(f"alt_ref={alt_ref!r}: expected one of {', '.join(_ALT_REFS)}")
    if columns is not None:
        unknown = sorted(set(columns) - set(_COLUMN_KEYS))
        if unknown or not all(isinstance(v, str) for v in columns.values()):
            raise UsageError(
                f"columns={dict(columns)!r}: keys must be among {', '.join(_COLUMN_KEYS)} "
                "and values column names"
            )
    try:
        check_time_zone(time_zone)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    if not split_gap_s > 0:
        raise UsageError(f"split_gap_s={split_gap_s!r}: expected a number of seconds > 0")


def _sniff(path: Path) -> str:
    """Tell the format of a file from its first bytes (and its name where needed)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if (kind := sniff_autopilot(head, path)) is not None:
        return kind
    if sniff_dji_txt(head, path):
        return "dji_txt"
    if not head.strip():
        raise InputError("empty file")
    if sniff_kml(head, path):
        return "kml"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    suffix = path.suffix.lower()
    if text.startswith(b"<"):
        lower = head.lower()
        if b"<gpx" in lower:
            return "gpx"
        if b"<kml" in lower:
            raise InputError("malformed KML (no <kml> root element)")
        raise InputError("XML that is neither GPX nor KML")
    if text.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith((b"SQLite format 3\x00", b"fgb")) or suffix in _VECTOR_SUFFIXES:
        return "vector"
    if sniff_remote_id(head, path):
        return "remote_id"
    if sniff_srt(head, path):
        return "dji_srt"
    if head.startswith(b"PK\x03\x04"):
        raise InputError("zip archive without a .kml or .wpml file; not a track format")
    return "csv"  # text or not, the CSV reader tells


def _read_one(
    path: Path,
    entry: dict[str, Any],
    *,
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
) -> RawTrack:
    if not path.exists():
        raise InputError("no such file or folder")
    kind = _sniff(path) if format == "auto" else format
    entry["format"] = kind
    if kind in AUTOPILOT_FORMATS:
        return read_autopilot(path, kind, time_zone=time_zone, alt_ref=alt_ref)
    if kind in ("csv", "airdata_csv"):
        return read_csv_track(
            path, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref
        )
    if kind == "kml":
        return read_kml(path, time_zone=time_zone, alt_ref=alt_ref)
    if kind == "gpx":
        return read_gpx(path, time_zone=time_zone, alt_ref=alt_ref)
    if kind == "dji_txt":
        return read_dji_txt(path, time_zone=time_zone, alt_ref=alt_ref)
    if kind == "dji_srt":
        return read_srt(path, time_zone=time_zone, alt_ref=alt_ref)
    if kind == "remote_id":
        return read_remote_id(path, time_zone=time_zone, alt_ref=alt_ref)
    return read_vector(path, format=kind, columns=columns, time_zone=time_zone, alt_ref=alt_ref)


def _fixes_of(kept: pd.DataFrame, label: str, path: Path, meta: Mapping[str, str]) -> pd.DataFrame:
    flight_ids = label + "#" + kept[FLIGHT_NO].astype("int64").astype("str")
    part = pd.DataFrame(
        {
            FLIGHT_ID: flight_ids.to_numpy(dtype=object),
            TIME_UTC: kept[TIME_UTC],
            ALT_AGL_M: kept[ALT_AGL_M],
            ALT_REF: kept[ALT_REF].to_numpy(dtype=object),
            ALT_MSL_M: kept[ALT_MSL_M],
            SOURCE: str(path),
            LON: kept[LON].astype("float64"),
            LAT: kept[LAT].astype("float64"),
        }
    )
    for name, dtype in EXTRA_COLUMNS.items():
        values = kept[name] if name in kept else pd.Series(index=kept.index, dtype=dtype)
        part[name] = values.astype(dtype)
    if DRONE_ID not in kept and meta.get("serial"):
        part[DRONE_ID] = pd.Series(meta["serial"], index=part.index, dtype="string")
    return part.astype(_COLUMN_DTYPES)


def _entry(path: Path) -> dict[str, Any]:
    return {
        "path": str(path),
        "format": "unknown",
        "status": "skipped",
        "reason": None,
        "rows_read": 0,
        "rows_kept": 0,
        "dropped": dict.fromkeys(DROP_REASONS, 0),
        "flights": [],
        "time_basis": None,
        "aircraft": None,
        "notes": [],
    }


def _empty() -> pd.DataFrame:
    names = [c for c in FIX_COLUMNS if c in _COLUMN_DTYPES] + [LON, LAT, *EXTRA_COLUMNS]
    dtypes = {**_COLUMN_DTYPES, LON: "float64", LAT: "float64", **EXTRA_COLUMNS}
    return pd.DataFrame({name: pd.Series(dtype=dtypes[name]) for name in names})


def _warn(path: Path, message: str) -> None:
    warnings.warn(InputWarning(f"{path}: {message}"), stacklevel=3)


def _read_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
    strict: bool,
    progress: bool,
    what: str,
) -> Iterator[tuple[Path, str, dict[str, Any], RawTrack | None]]:
    """Read each file: (path, label, file entry, what the reader found or None).

    A file that cannot be read is warned about (or raised with ``strict``) and
    yielded with None. A file whose rows carry positions but not one time is
    marked an untimed route.
    """
    files = expand_paths(paths, TRACK_SUFFIXES)
    bar = tqdm(
        list(zip(files, file_labels(files), strict=True)),
        desc=what,
        unit="file",
        disable=None if progress else True,
    )
    for path, label in bar:
        entry = _entry(path)
        try:
            raw = _read_one(
                path, entry, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref
            )
        except (InputError, OSError) as exc:
            reason = str(exc) if isinstance(exc, InputError) else f"cannot read ({exc.strerror})"
            reason = " ".join(reason.split())
            entry["reason"] = reason
            if strict:
                raise InputError(f"{path}: {reason}") from exc
            _warn(path, reason)
            yield path, label, entry, None
            continue
        frame = raw.frame
        if raw.route is None and len(frame) and frame[TIME_UTC].isna().all():
            raw.route = ROUTE_UNTIMED
        entry.update(format=raw.format, notes=raw.notes, aircraft=raw.meta.get("aircraft"))
        yield path, label, entry, raw


def _route_summary(positions: pd.DataFrame, route: str, n_routes: int) -> dict[str, Any]:
    """Summarise a route file's positions for its file entry (and ``geoexpose inspect``)."""
    out: dict[str, Any] = {"kind": route, "routes": n_routes, "positions": len(positions)}
    if len(positions):
        lon, lat = positions[LON].astype("float64"), positions[LAT].astype("float64")
        bounds = [lon.min(), lat.min(), lon.max(), lat.max()]
        out["bounds_lonlat"] = [round(float(v), 6) for v in bounds]
    for name in (ALT_AGL_M, ALT_MSL_M):
        values = positions[name]
        if values.notna().any():
            out[name] = [round(float(values.min()), 1), round(float(values.max()), 1)]
    known = positions[ALT_AGL_M].notna().to_numpy()
    if known.any():
        out[ALT_REF] = sorted(pd.unique(positions.loc[known, ALT_REF].astype(str)).tolist())
    return out


def _route_reason(raw: RawTrack, positions: int) -> str:
    what = _ROUTE_WHAT.get(raw.format, raw.format)
    if raw.route == ROUTE_PLANNED:
        return (
            f"planned route ({what}), not a flown track: {positions} waypoints without "
            "times, no fixes; gx.read_routes reads them"
        )
    return (
        f"{positions} positions without times ({what}): no fixes; "
        "gx.read_routes reads them as an untimed track"
    )


def _read_route(raw: RawTrack, entry: dict[str, Any]) -> pd.DataFrame:
    """Clean a route's positions and fill its file entry; return the kept positions."""
    positions, dropped = clean_positions(raw.frame)
    n_routes = int(positions[FLIGHT_NO].max()) if len(positions) else 0
    entry["dropped"].update({**raw.dropped, **dropped, "untimed": len(positions)})
    entry.update(
        status="route",
        reason=_route_reason(raw, len(positions)),
        rows_read=len(raw.frame) + sum(raw.dropped.values()),
        route=_route_summary(positions, str(raw.route), n_routes),
    )
    return positions


_DROP_WORDS = {
    "no_fix": "without a position or time",
    "null_island": "at 0/0, logged without a GNSS fix",
    "out_of_range": "coordinates out of range",
    "duplicate_time": "repeating a time",
    "time_backwards": "going back in time",
    "gps_jump": "GPS jumps",
    "truncated_row": "cut short",
    "bad_row": "malformed",
}


def _no_fix_reason(entry: dict[str, Any]) -> str:
    counts = sorted(((v, k) for k, v in entry["dropped"].items() if v), reverse=True)
    detail = ", ".join(f"{v} {k}: {_DROP_WORDS.get(k, k)}" for v, k in counts)
    return f"no fix kept of {entry['rows_read']} rows ({detail or 'the file has no rows'})"


def read_tracks(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    split_gap_s: float = 60.0,
    max_speed_m_s: float = MAX_SPEED_M_S,
    strict: bool = False,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Read flight tracks into one row per fix.

    Parameters
    ----------
    paths
        A file or folder, or an iterable of them. Folders are walked for files
        ending in one of :data:`TRACK_SUFFIXES` (hidden files and folders left
        out); other files found there are ignored.
    format
        ``"auto"`` (from each file's content), or one of :data:`FORMATS` for
        every file: ``"airdata_csv"``, ``"csv"`` (generic, by column aliases),
        ``"gpx"``, ``"geojson"``, ``"vector"`` (any layer GDAL reads), ``"kml"``
        (KML/KMZ, DJI WPML), ``"remote_id"`` (pcap/pcapng), ``"dji_srt"``,
        ``"dji_txt"``, ``"ardupilot_bin"``, ``"mavlink_tlog"``, ``"px4_ulog"``.
    columns
        Names of the columns (or GeoJSON properties) to use, overriding the alias
        tables: keys ``"lat"``, ``"lon"``, ``"time"``, ``"alt"``, ``"alt_msl"``,
        ``"date"``. Not used for AirData files (unless ``format="csv"``).
    time_zone
        IANA zone name (``"Europe/Copenhagen"``) of times written without zone or
        offset. Without it such times are taken as UTC and an :class:`InputWarning`
        says so; times with ``Z`` or an offset are always converted to UTC.
    alt_ref
        What the file's generic altitude (a CSV ``alt`` column, GPX ``<ele>``, a
        Z coordinate) measures: ``"takeoff"``, ``"ground"`` or ``"msl"`` (then
        stored in ``alt_msl_m``, with ``alt_agl_m`` empty). Default: from the
        column name for CSV (``alt``/``altitude``/``height`` are above takeoff),
        ``"msl"`` for GPX ``<ele>`` and Z coordinates.
    split_gap_s
        Start a new flight where two fixes of a track are more than this many
        seconds apart (``math.inf``: never).
    max_speed_m_s
        A lone fix that both its neighbours reach only faster than this is a GPS
        jump, dropped and counted (``math.inf``: no gate).
    strict
        Raise :class:`InputError` for a file that cannot be read, instead of
        warning and skipping it.
    progress
        Show a progress bar over the files on standard error, when it is a terminal.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kept fix, columns :data:`geoexpose.schema.FIX_COLUMNS`
        (``flight_id`` like ``"<file name>#1"``, ``time_utc``, ``alt_agl_m``,
        ``alt_ref``, ``alt_msl_m``, ``source``, ``geometry``), then ``speed_m_s``,
        ``yaw_deg``, ``gimbal_pitch_deg``, ``gimbal_yaw_deg``, ``is_photo``,
        ``is_video``, ``drone_id`` (Remote ID: the broadcast UAS id, serial
        first; flight logs: the aircraft serial where the log names it),
        ``operator_lon``, ``operator_lat`` (Remote ID: the remote pilot's
        position) -- empty where the source lacks them; sorted by flight then
        time. ``attrs["geoexpose"]["files"]`` has one entry per file: ``path``,
        ``format``, ``status`` (``"read"``; ``"route"`` for a file of positions
        without times, see the module notes; ``"skipped"``), ``reason`` (why
        skipped, why no fix was kept, or what the route is), ``rows_read``,
        ``rows_kept``, ``dropped`` (by reason), ``flights``, ``time_basis``,
        ``aircraft`` (the model the log names, else None), ``notes``, and for
        routes ``route`` (``kind``, ``routes``, ``positions``,
        ``bounds_lonlat``, altitude ranges).

    Raises
    ------
    UsageError
        An option has a value that cannot be used.
    InputError
        With ``strict=True``, a file cannot be read.

    Notes
    -----
    Points are EPSG:4326 longitude/latitude; altitudes in metres; times UTC. Rows
    without a fix, at 0/0, out of range, repeating or going back in time are
    dropped and counted (see :mod:`geoexpose.tracks.normalize`); ``rows_read`` equals
    ``rows_kept`` plus the dropped counts. A file that is read but keeps no fix
    is warned about with the reasons. AirData's ``alt_agl_m`` is AirData's
    height above the ground (from its elevation model) where present, else the
    height above takeoff, row by row, with ``alt_ref`` saying which.

    Each drone of a Remote ID capture is a track of its own, so its fixes make
    flights of their own (``flight_id`` per drone and file).
    """
    _check_options(format, columns, time_zone, alt_ref, split_gap_s)
    entries, parts = [], []
    found = _read_files(
        paths, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref,
        strict=strict, progress=progress, what="tracks",
    )  # fmt: skip
    for path, label, entry, raw in found:
        entries.append(entry)
        if raw is None:
            continue
        for problem in raw.warnings:
            _warn(path, problem)
        if raw.route is not None:
            _read_route(raw, entry)
            _warn(path, entry["reason"])
            continue
        if raw.time_basis == TIME_BASIS_ASSUMED_UTC:
            _warn(path, "times have no time zone; taken as UTC (pass time_zone=)")
        kept, dropped = clean_fixes(raw.frame, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s)
        part = _fixes_of(kept, label, path, raw.meta)
        entry["dropped"].update({**raw.dropped, **dropped})
        entry.update(
            status="read",
            rows_read=len(raw.frame) + sum(raw.dropped.values()),
            rows_kept=len(part),
            flights=[str(f) for f in pd.unique(part[FLIGHT_ID])],
            time_basis=raw.time_basis,
        )
        logger.info(
            "%s: %d of %d rows kept, %d flights",
            path,
            len(part),
            entry["rows_read"],
            len(entry["flights"]),
        )
        if len(part):
            parts.append(part)
        else:
            entry["reason"] = _no_fix_reason(entry)
            _warn(path, entry["reason"])
    table = pd.concat(parts, ignore_index=True) if parts else _empty()
    table = table.sort_values([FLIGHT_ID, TIME_UTC], kind="stable", ignore_index=True)
    geometry = gpd.points_from_xy(table[LON].to_numpy(), table[LAT].to_numpy(), crs=CRS_LONLAT)
    extras = list(EXTRA_COLUMNS)
    fixes = gpd.GeoDataFrame(table.drop(columns=[LON, LAT]), geometry=geometry, crs=CRS_LONLAT)
    fixes = fixes[FIX_COLUMNS + extras]
    fixes.attrs["geoexpose"] = {"files": entries}
    return fixes


def _route_rows(positions: pd.DataFrame, label: str, path: Path, route: str) -> pd.DataFrame:
    numbers = positions[FLIGHT_NO].astype("int64")
    part = pd.DataFrame(
        {
            ROUTE_ID: (label + "#" + numbers.astype("str")).to_numpy(dtype=object),
            ROUTE_KIND: route,
            VERTEX: positions.groupby(numbers.to_numpy()).cumcount().to_numpy(dtype="int64"),
            ALT_AGL_M: positions[ALT_AGL_M],
            ALT_REF: positions[ALT_REF].to_numpy(dtype=object),
            ALT_MSL_M: positions[ALT_MSL_M],
            SPEED_M_S: positions.get(SPEED_M_S, np.nan),
            SOURCE: str(path),
            LON: positions[LON].astype("float64"),
            LAT: positions[LAT].astype("float64"),
        }
    )
    return part.astype(_ROUTE_DTYPES)


def read_routes(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    strict: bool = False,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Read the positions of files that have no times: planned routes and untimed tracks.

    Parameters
    ----------
    paths, format, columns, time_zone, alt_ref, strict, progress
        As for :func:`read_tracks`, which reads the same files; files with
        times are left to it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per position (Point, EPSG:4326), columns :data:`ROUTE_COLUMNS`:
        ``route_id`` (``"<file name>#1"``, one per wayline, line or track of the
        file), ``route_kind`` (``"planned"``: a mission's waypoints, DJI WPML or
        Litchi; ``"untimed"``: a flown track recorded without times, such as
        AirData's KML), ``vertex`` (0, 1, ... in route order), ``alt_agl_m``,
        ``alt_ref``, ``alt_msl_m`` (as for fixes), ``speed_m_s`` (the planned
        speed where a mission gives one), ``source``. Positions without a usable
        position (missing, 0/0, out of range) are dropped and counted.
        ``attrs["geoexpose"]["files"]`` has one entry per file as for
        :func:`read_tracks`; files with times have status ``"track"``.

    Raises
    ------
    UsageError
        An option has a value that cannot be used.
    InputError
        With ``strict=True``, a file cannot be read.

    Notes
    -----
    A route has no times, so it gives no dwell time, first or last seen time;
    it says where a drone flew (untimed) or was to fly (planned). WPML heights
    above the WGS-84 ellipsoid are left out (:mod:`geoexpose.tracks._kml`).
    """
    _check_options(format, columns, time_zone, alt_ref, 60.0)
    entries, parts = [], []
    found = _read_files(
        paths, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref,
        strict=strict, progress=progress, what="routes",
    )  # fmt: skip
    for path, label, entry, raw in found:
        entries.append(entry)
        if raw is None:
            continue
        if raw.route is None:
            entry.update(status="track", reason="has times: gx.read_tracks reads it")
            continue
        positions = _read_route(raw, entry)
        part = _route_rows(positions, label, path, str(raw.route))
        entry.update(
            status="read",
            rows_kept=len(part),
            flights=[str(r) for r in pd.unique(part[ROUTE_ID])],
            reason=None,
        )
        entry["dropped"]["untimed"] = 0
        if len(part):
            parts.append(part)
    names = [c for c in ROUTE_COLUMNS if c != "geometry"]
    empty = {name: pd.Series(dtype=_ROUTE_DTYPES[name]) for name in names}
    empty.update({LON: pd.Series(dtype="float64"), LAT: pd.Series(dtype="float64")})
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(empty)
    geometry = gpd.points_from_xy(table[LON].to_numpy(), table[LAT].to_numpy(), crs=CRS_LONLAT)
    routes = gpd.GeoDataFrame(table[names], geometry=geometry, crs=CRS_LONLAT)
    routes.attrs["geoexpose"] = {"files": entries}
    return routes
