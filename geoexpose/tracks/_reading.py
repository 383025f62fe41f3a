"""The per-file reading loop of read_tracks and read_routes, and the file entries it fills.

Both read the same files the same way: the options are checked once, each file is
found, told and read by the format table (:mod:`geoexpose.tracks.formats`), and
gets a file entry saying what was read, kept, dropped and skipped. A file whose
positions have no time at all is a route (see :mod:`geoexpose.tracks.read`): its
positions are cleaned and summarised here for either reader.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geoexpose._files import file_labels
from geoexpose._progress import progress_bar
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    TIME_UTC,
)
from geoexpose.tracks._columns import ALT_REF_MSL
from geoexpose.tracks._kept import drop_empty_heights, take_kept
from geoexpose.tracks._takeoff import takeoff_heights
from geoexpose.tracks._values import TIME_BASIS_ASSUMED_UTC, check_time_zone
from geoexpose.tracks.files import track_files
from geoexpose.tracks.formats import ReadOptions, format_of, track_format
from geoexpose.tracks.normalize import (
    DROP_REASONS,
    FLIGHT_NO,
    MAX_ABS_HEIGHT_M,
    ROUTE_PLANNED,
    ROUTE_UNTIMED,
    RawTrack,
    blank_bad_heights,
    clean_fixes,
    clean_positions,
    clean_rows,
)

__all__ = [
    "blank_heights_noted",
    "check_options",
    "clean_read",
    "no_fix_reason",
    "read_file",
    "read_files",
    "read_route",
    "warn",
]

_COLUMN_KEYS = ("lat", "lon", "time", "alt", "alt_msl", "date")
_ALT_REFS = (ALT_REF_GROUND, ALT_REF_TAKEOFF, ALT_REF_MSL)
_DROP_WORDS = {
    "no_fix": "without a position or time",
    "null_island": "at 0/0, logged without a GNSS fix",
    "out_of_range": "coordinates out of range",
    "time_out_of_range": "dated before 2000 or in the future",
    "time_ahead": "dated ahead of the rest of their track",
    "duplicate_time": "repeating a time",
    "time_backwards": "going back in time",
    "gps_jump": "GPS jumps",
    "truncated_row": "cut short",
    "bad_row": "malformed",
}


def no_fix_reason(entry: dict[str, Any]) -> str:
    """Say why a file read kept no fix: its rows dropped, by reason."""
    counts = sorted(((v, k) for k, v in entry["dropped"].items() if v), reverse=True)
    detail = ", ".join(f"{v} {k}: {_DROP_WORDS.get(k, k)}" for v, k in counts)
    return f"no fix kept of {entry['rows_read']} rows ({detail or 'the file has no rows'})"


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


def check_options(
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
    split_gap_s: float,
) -> None:
    """Raise UsageError for an option of ``read_tracks`` or ``read_routes`` that cannot be used."""
    if format != "auto":
        track_format(format)  # raises UsageError for a name no format has
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


def warn(path: Path, message: str, *, depth: int = 0) -> None:
    """Warn about a file with an InputWarning, attributed to the caller's caller.

    ``depth``: that many more frames up (from a helper of the caller).
    """
    warnings.warn(InputWarning(f"{path}: {message}"), stacklevel=3 + depth)


def read_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    options: ReadOptions,
    *,
    strict: bool,
    progress: bool,
    what: str,
) -> Iterator[tuple[Path, str, dict[str, Any], RawTrack | None]]:
    """Read each file: (path, label, file entry, what the reader found or None).

    See :func:`read_file`; a bar over the files is shown with ``progress`` (on a
    terminal).
    """
    files = track_files(paths)
    jobs = list(zip(files, file_labels(files), strict=True))
    for path, label in progress_bar(jobs, progress=progress, desc=what, unit="file"):
        entry, raw = read_file(path, options, strict=strict)
        yield path, label, entry, raw


def read_file(
    path: Path, options: ReadOptions, *, strict: bool
) -> tuple[dict[str, Any], RawTrack | None]:
    """Read one file: its file entry, and what the reader found (None: it cannot be read).

    A file that cannot be read is warned about (or raised with ``strict``). A file
    whose rows carry positions but not one time is marked an untimed route.
    """
    entry = _entry(path)
    try:
        entry["format"] = kind = format_of(path, options.format)
        raw = track_format(kind).read(path, options)
    except (InputError, OSError) as exc:
        reason = str(exc) if isinstance(exc, InputError) else f"cannot read ({exc.strerror})"
        reason = " ".join(reason.split())
        entry["reason"] = reason
        if strict:
            raise InputError(f"{path}: {reason}") from exc
        warn(path, reason, depth=1)
        return entry, None
    frame = raw.frame
    if raw.route is None and len(frame) and frame[TIME_UTC].isna().all():
        raw.route = ROUTE_UNTIMED
    entry.update(format=raw.format, notes=raw.notes, aircraft=raw.meta.get("aircraft"))
    return entry, raw


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


def blank_heights_noted(frame: pd.DataFrame, notes: list[str]) -> None:
    """Empty the absurd heights of cleaned rows (in place) and note how many there were."""
    count = blank_bad_heights(frame)
    if count:
        notes.append(
            f"{count} row(s) with a height not finite or beyond {MAX_ABS_HEIGHT_M:,.0f} m: "
            "height emptied, position kept"
        )


def read_route(raw: RawTrack, entry: dict[str, Any]) -> pd.DataFrame:
    """Clean a route's positions and fill its file entry; return the kept positions."""
    positions, dropped = clean_positions(raw.frame)
    blank_heights_noted(positions, entry["notes"])
    n_routes = int(positions[FLIGHT_NO].max()) if len(positions) else 0
    entry["dropped"].update({**raw.dropped, **dropped, "untimed": len(positions)})
    entry.update(
        status="route",
        reason=_route_reason(raw, len(positions)),
        rows_read=len(raw.frame) + sum(raw.dropped.values()),
        route=_route_summary(positions, str(raw.route), n_routes),
    )
    return positions


def clean_read(
    path: Path,
    entry: dict[str, Any],
    raw: RawTrack | None,
    *,
    split_gap_s: float,
    max_speed_m_s: float,
    in_place: bool = False,
) -> pd.DataFrame | None:
    """Clean what a reader found in one file as ``read_tracks`` does, filling its entry.

    Warns of the reader's problems; a route is summarised (None returned). The kept
    fixes (with ``flight_no``) get their absurd heights emptied and, for a drone
    app's file of heights above sea level, heights above take-off; ``entry`` gets
    ``status``, ``rows_read``, ``rows_kept``, ``dropped`` and ``time_basis`` (the
    caller names the flights). ``in_place``: the reader's frame is emptied as the
    kept rows are taken out of it (:mod:`geoexpose.tracks._kept`: ``alt_ref`` then a
    categorical, no ``segment``) and the kept frame is changed where it is (no copy
    for the take-off heights).
    """
    if raw is None:
        return None
    for problem in raw.warnings:
        warn(path, problem, depth=1)
    if raw.route is not None:
        read_route(raw, entry)
        warn(path, entry["reason"], depth=1)
        return None
    if raw.time_basis == TIME_BASIS_ASSUMED_UTC:
        warn(path, "times have no time zone; taken as UTC (pass time_zone=)", depth=1)
    rows_read = len(raw.frame) + sum(raw.dropped.values())
    if in_place:  # the reader's frame goes column by column as the kept one is made
        empty = drop_empty_heights(raw.frame)
        rows, flight_no, dropped = clean_rows(
            raw.frame, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s
        )
        kept = take_kept(raw.frame, rows, flight_no, empty)
        del rows, flight_no
    else:
        kept, dropped = clean_fixes(raw.frame, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s)
    blank_heights_noted(kept, entry["notes"])
    if raw.takeoff_from is not None:
        kept = takeoff_heights(kept, raw.takeoff_from, entry["notes"], in_place=in_place)
    entry["dropped"].update({**raw.dropped, **dropped})
    entry.update(
        status="read",
        rows_read=rows_read,
        rows_kept=len(kept),
        time_basis=raw.time_basis,
    )
    if not entry["rows_kept"]:
        entry["reason"] = no_fix_reason(entry)
        warn(path, entry["reason"], depth=1)
    return kept
