"""Read flight tracks: one row per fix, from CSV, AirData, GPX and GeoJSON files.

:func:`read_tracks` finds the track files, detects each file's format from its
content, reads it (:mod:`geoexpose._track_csv`, :mod:`geoexpose._track_gpx`),
cleans the fixes and numbers the flights (:mod:`geoexpose.normalize`), and
reports per file what it read, kept, dropped and skipped.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from tqdm import tqdm

from geoexpose._track_autopilot import (
    AUTOPILOT_FORMATS,
    AUTOPILOT_SUFFIXES,
    read_autopilot,
    sniff_autopilot,
)
from geoexpose._track_columns import ALT_REF_MSL
from geoexpose._track_csv import read_csv_track
from geoexpose._track_dji_txt import read_dji_txt, sniff_dji_txt
from geoexpose._track_gpx import read_gpx, read_vector
from geoexpose._track_kml import read_kml, sniff_kml
from geoexpose._track_remoteid import read_remote_id, sniff_remote_id
from geoexpose._track_srt import read_srt, sniff_srt
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.normalize import (
    DROP_REASONS,
    EXTRA_COLUMNS,
    FLIGHT_NO,
    LAT,
    LON,
    MAX_SPEED_M_S,
    TIME_BASIS_ASSUMED_UTC,
    RawTrack,
    check_time_zone,
    clean_fixes,
)
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    FIX_COLUMNS,
    FLIGHT_ID,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["FORMATS", "TRACK_SUFFIXES", "read_tracks"]

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


def _expand(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[Path]:
    """List the files to read: given files as they are, folders walked for track files."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    found: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            walked = (
                p
                for p in item.rglob("*")
                if p.suffix.lower() in TRACK_SUFFIXES
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(item).parts)
            )
            found.extend(sorted(walked))
        else:
            found.append(item)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.absolute(), path)
    return list(unique.values())


def _labels(files: list[Path]) -> list[str]:
    """File names, with parent folders added where two files share a name."""
    parts = [path.absolute().parts for path in files]
    depth = [1] * len(files)
    while True:
        labels = ["/".join(p[-d:]) for p, d in zip(parts, depth, strict=True)]
        count = Counter(labels)
        clash = [
            i for i, label in enumerate(labels) if count[label] > 1 and depth[i] < len(parts[i])
        ]
        if not clash:
            return labels
        for i in clash:
            depth[i] += 1


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
            raise InputError("KML tracks are not read yet")
        raise InputError("XML that is not GPX")
    if text.startswith((b"{", b"[")):
        return "geojson"
    if head.startswith((b"SQLite format 3\x00", b"fgb")) or suffix in _VECTOR_SUFFIXES:
        return "vector"
    if sniff_remote_id(head, path):
        return "remote_id"
    if sniff_srt(head, path):
        return "dji_srt"
    if head.startswith(b"PK\x03\x04"):
        raise InputError("zip archive (KMZ?); not a track format read yet")
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


def _fixes_of(kept: pd.DataFrame, label: str, path: Path) -> pd.DataFrame:
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
        "notes": [],
    }


def _empty() -> pd.DataFrame:
    names = [c for c in FIX_COLUMNS if c in _COLUMN_DTYPES] + [LON, LAT, *EXTRA_COLUMNS]
    dtypes = {**_COLUMN_DTYPES, LON: "float64", LAT: "float64", **EXTRA_COLUMNS}
    return pd.DataFrame({name: pd.Series(dtype=dtypes[name]) for name in names})


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
        ending in ``.csv``, ``.gpx``, ``.geojson`` or ``.json`` (hidden files and
        folders left out); other files found there are ignored.
    format
        ``"auto"`` (from each file's content), or one of ``"airdata_csv"``,
        ``"csv"``, ``"gpx"``, ``"geojson"``, ``"vector"`` (any layer GDAL reads)
        for every file.
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
        ``is_video`` (empty where the source lacks them); sorted by flight then
        time. ``attrs["geoexpose"]["files"]`` has one entry per file: ``path``,
        ``format``, ``status`` (``"read"``/``"skipped"``), ``reason``,
        ``rows_read``, ``rows_kept``, ``dropped`` (by reason), ``flights``,
        ``time_basis``, ``notes``.

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
    dropped and counted (see :mod:`geoexpose.normalize`); ``rows_read`` equals
    ``rows_kept`` plus the dropped counts. AirData's ``alt_agl_m`` is AirData's
    height above the ground (from its elevation model) where present, else the
    height above takeoff, row by row, with ``alt_ref`` saying which.
    """
    _check_options(format, columns, time_zone, alt_ref, split_gap_s)
    files = _expand(paths)
    entries, parts = [], []
    bar = tqdm(
        list(zip(files, _labels(files), strict=True)),
        desc="tracks",
        unit="file",
        disable=None if progress else True,
    )
    for path, label in bar:
        entry = _entry(path)
        entries.append(entry)
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
            warnings.warn(InputWarning(f"{path}: {reason}"), stacklevel=2)
            continue
        for problem in raw.warnings:
            warnings.warn(InputWarning(f"{path}: {problem}"), stacklevel=2)
        if raw.time_basis == TIME_BASIS_ASSUMED_UTC:
            warnings.warn(
                InputWarning(f"{path}: times have no time zone; taken as UTC (pass time_zone=)"),
                stacklevel=2,
            )
        kept, dropped = clean_fixes(raw.frame, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s)
        part = _fixes_of(kept, label, path)
        entry["dropped"].update({**raw.dropped, **dropped})
        entry.update(
            format=raw.format,
            status="read",
            rows_read=len(raw.frame) + sum(raw.dropped.values()),
            rows_kept=len(part),
            flights=[str(f) for f in pd.unique(part[FLIGHT_ID])],
            time_basis=raw.time_basis,
            notes=raw.notes,
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
    table = pd.concat(parts, ignore_index=True) if parts else _empty()
    table = table.sort_values([FLIGHT_ID, TIME_UTC], kind="stable", ignore_index=True)
    geometry = gpd.points_from_xy(table[LON].to_numpy(), table[LAT].to_numpy(), crs=CRS_LONLAT)
    extras = list(EXTRA_COLUMNS)
    fixes = gpd.GeoDataFrame(table.drop(columns=[LON, LAT]), geometry=geometry, crs=CRS_LONLAT)
    fixes = fixes[FIX_COLUMNS + extras]
    fixes.attrs["geoexpose"] = {"files": entries}
    return fixes
