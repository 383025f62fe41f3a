"""Turn what a track reader found into clean fixes: times, drops, flights.

Every track reader (CSV, GPX, GeoJSON, ...) produces a :class:`RawTrack`: one row
per record in the file, with latitude, longitude, UTC time and altitudes already in
degrees, metres and UTC. This module holds what they share:

- :func:`parse_times`: text or epoch numbers to UTC times, with the time-zone rule;
- :func:`clean_fixes`: drop impossible rows with a counted reason, then split the
  rest into flights at recording gaps.

Drop reasons (:data:`DROP_REASONS`), each row counted once, under the first that
applies:

``no_fix``
    latitude, longitude or time missing or not readable as a number / date-time.
``null_island``
    latitude and longitude both exactly 0 (logged before the GNSS fix).
``out_of_range``
    ``|lat| > 90`` or ``|lon| > 180``.
``duplicate_time``
    same time as the previous kept fix of the same track (the first is kept).
``time_backwards``
    earlier than the previous kept fix of the same track. Such rows are dropped,
    not re-sorted: a time step backwards is a clock glitch or a second log pasted
    after the first, and sorting would interleave positions from different parts
    of the file, drawing jumps across the map that the drone never flew.
``gps_jump``
    a fix that both of its neighbours in the track reach only faster than
    ``max_speed_m_s`` while they reach each other within it: a lone spike of the
    position, not a flight (a stretch of several wrong fixes is kept: one rule
    cannot tell it from a fast leg).
``truncated_row``, ``bad_row``
    counted by the readers: a last row cut short, a row with more fields than
    the header.
``untimed``
    a position of a file that has no time at all: a planned route (DJI WPML
    mission, Litchi mission) or a line drawn without times (AirData KML). Such
    files give no fixes; :func:`geoexpose.tracks.read_routes` reads them, and
    :func:`clean_positions` cleans them.

A *track* is what a file says belongs together: the whole CSV file (or one value
of its flight-id column), one GPX ``<trk>``, one line feature. A track is split
into flights where two kept fixes are more than ``split_gap_s`` apart.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from geoexpose._geodesy import geodesic_m
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    DRONE_ID,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    IS_PHOTO,
    IS_VIDEO,
    LAT,
    LON,
    OPERATOR_LAT,
    OPERATOR_LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)

__all__ = [
    "DROP_REASONS",
    "EXTRA_COLUMNS",
    "FLIGHT_NO",
    "MAX_SPEED_M_S",
    "ROUTE_PLANNED",
    "ROUTE_UNTIMED",
    "SEGMENT",
    "TIME_BASIS_ASSUMED_UTC",
    "TIME_BASIS_UTC",
    "RawTrack",
    "check_time_zone",
    "clean_fixes",
    "clean_positions",
    "parse_bools",
    "parse_times",
]

logger = logging.getLogger(__name__)

# Columns of a RawTrack frame besides the schema ones (which include LAT and LON).
SEGMENT = "segment"
FLIGHT_NO = "flight_no"

# Optional per-fix columns the readers fill where the source has them.
#: Extra fix columns, in output order, with their dtypes.
EXTRA_COLUMNS: dict[str, str] = {
    SPEED_M_S: "float64",
    YAW_DEG: "float64",
    GIMBAL_PITCH_DEG: "float64",
    GIMBAL_YAW_DEG: "float64",
    IS_PHOTO: "boolean",
    IS_VIDEO: "boolean",
    DRONE_ID: "string",
    OPERATOR_LON: "float64",
    OPERATOR_LAT: "float64",
}

#: Default speed (m/s) beyond which a lone fix is a GPS jump: above any multirotor or
#: small fixed-wing drone (consumer drones fly under 25 m/s; racing quads near 50).
MAX_SPEED_M_S = 70.0

DROP_REASONS = (
    "no_fix",
    "null_island",
    "out_of_range",
    "duplicate_time",
    "time_backwards",
    "gps_jump",
    "truncated_row",
    "bad_row",
    "untimed",
)

#: ``RawTrack.route`` of a mission file: waypoints planned, not flown.
ROUTE_PLANNED = "planned"
#: ``RawTrack.route`` of positions flown but recorded without any time.
ROUTE_UNTIMED = "untimed"

TIME_BASIS_UTC = "utc"
TIME_BASIS_ASSUMED_UTC = "assumed_utc"

# A time of day followed by a zone: "...12:00:00Z", "...12:00+02:00", "... 12:00 UTC".
_ZONED = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$")
_TRUE = ("1", "1.0", "true", "yes", "y", "t", "recording", "on")
_STR = pd.Series([], dtype="str").dtype  # pandas' default text dtype
# Epoch numbers below this many seconds (1973) are elapsed times, not dates.
_MIN_EPOCH_S = 1e8


@dataclass
class RawTrack:
    """What a reader found in one file, before cleaning.

    Parameters
    ----------
    frame
        One row per record of the file, in file order, with columns ``lat``,
        ``lon`` (degrees), ``time_utc`` (UTC, NaT where missing), ``alt_agl_m``,
        ``alt_ref``, ``alt_msl_m``, optionally ``segment`` (the track a row
        belongs to) and any of :data:`EXTRA_COLUMNS`.
    format
        The format read, e.g. ``"airdata_csv"``, ``"csv"``, ``"gpx"``, ``"geojson"``.
    dropped
        Rows the reader already dropped, by reason (``truncated_row``, ``bad_row``).
    time_basis
        ``"utc"`` when times carried their zone, an IANA zone name when naive
        times were read in ``time_zone``, ``"assumed_utc"`` when naive times were
        taken as UTC for want of a zone.
    notes
        One-line remarks on how the file was read (encoding fallback, ...).
    warnings
        One-line problems the caller must report as warnings.
    route
        None for a track with times; :data:`ROUTE_PLANNED` for a mission's
        waypoints and :data:`ROUTE_UNTIMED` for positions recorded without times
        (the frame's ``time_utc`` is then NaT throughout).
    meta
        What the file says of the aircraft: ``aircraft`` (model name) and
        ``serial``, where it says so.
    """

    frame: pd.DataFrame
    format: str
    dropped: dict[str, int] = field(default_factory=dict)
    time_basis: str = TIME_BASIS_UTC
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    route: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


def _naive(text: pd.Series) -> pd.Series:
    """Parse zone-less date-time text; fast with one guessed format, then per value."""
    out = _parse_naive(text, format="ISO8601")
    todo = out.isna() & text.notna()
    if todo.any():
        guess = guess_datetime_format(str(text[todo].iloc[0]))
        if guess is not None:
            out[todo] = _parse_naive(text[todo], format=guess)
            todo = out.isna() & text.notna()
    if todo.any():
        out[todo] = _parse_naive(text[todo], format="mixed")
    return out


def _parse_naive(text: pd.Series, *, format: str) -> pd.Series:
    """Parse with one format to naive nanosecond times; stray zoned values as UTC."""
    try:
        out = pd.to_datetime(text, format=format, errors="coerce")
    except (TypeError, ValueError):  # naive and zoned text mixed
        out = pd.to_datetime(text, format=format, errors="coerce", utc=True)
    if getattr(out.dtype, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return out.dt.as_unit("ns")


def _zoned(text: pd.Series) -> pd.Series:
    """Parse date-time text that ends in a zone or offset, to UTC."""
    text = text.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True)
    out = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True).dt.as_unit("ns")
    todo = out.isna()
    if todo.any():
        more = pd.to_datetime(text[todo], format="mixed", errors="coerce", utc=True)
        out[todo] = more.dt.as_unit("ns")
    return out


def _epoch(numbers: pd.Series, *, seconds_per_unit: float | None, column: str) -> pd.Series:
    values = pd.to_numeric(numbers, errors="coerce").astype("float64")
    median = float(np.nanmedian(np.abs(values))) if values.notna().any() else 0.0
    if seconds_per_unit is None:
        # Seconds, milliseconds, microseconds or nanoseconds since 1970, by magnitude.
        seconds_per_unit = 1.0
        for scale in (1e-3, 1e-6, 1e-9):
            if median * seconds_per_unit >= 1e11:
                seconds_per_unit = scale
    if 0 < median * seconds_per_unit < _MIN_EPOCH_S:
        raise ValueError(
            f"column {column!r} holds numbers too small for dates since 1970 "
            "(elapsed time?); name a date-time column with columns={'time': ...}"
        )
    # whole seconds and the rest apart, so that float rounding of a 13-digit number of
    # milliseconds does not leave stray nanoseconds: the rest is kept to the microsecond
    if seconds_per_unit < 1.0 and np.array_equal(values, np.round(values), equal_nan=True):
        # whole numbers of ms, us or ns: integer arithmetic, exact
        ns = values.astype("Int64") * round(seconds_per_unit * 1e9)
    else:
        seconds = values * seconds_per_unit
        whole = np.floor(seconds)
        rest_us = np.round((seconds - whole) * 1e6)
        ns = whole.astype("Int64") * 1_000_000_000 + rest_us.astype("Int64") * 1_000
    return pd.to_datetime(ns, unit="ns", utc=True)


def parse_times(
    values: pd.Series,
    *,
    column: str,
    time_zone: str | None = None,
    naive_is_utc: bool = False,
    seconds_per_unit: float | None = None,
) -> tuple[pd.Series, str]:
    """Parse a column of times to UTC.

    Parameters
    ----------
    values
        Date-time text (ISO 8601 or any common layout), or numbers of seconds,
        milliseconds, microseconds or nanoseconds since 1970-01-01 UTC.
    column
        The column name, for messages.
    time_zone
        IANA zone name (e.g. ``"Europe/Berlin"``) in which to read times written
        without zone or offset.
    naive_is_utc
        Take times without zone as UTC (the column or format says so, e.g.
        ``datetime(utc)`` or GPX); ``time_zone`` still wins where given.
    seconds_per_unit
        For numbers: the unit of the epoch (``1e-3`` for milliseconds); None
        picks it from the magnitude of the values.

    Returns
    -------
    times : pandas.Series
        ``datetime64[ns, UTC]``, NaT where a value is missing or unreadable.
    time_basis : str
        ``"utc"``, the zone name used, or ``"assumed_utc"`` when times without
        zone were taken as UTC because no ``time_zone`` was given.

    Raises
    ------
    ValueError
        No value parses, or epoch numbers are too small to be dates.

    Notes
    -----
    Times with ``Z`` or an offset are converted to UTC whatever ``time_zone``
    says. Wall-clock times that do not exist or occur twice in ``time_zone``
    (daylight-saving changes) become NaT.
    """
    basis = TIME_BASIS_UTC
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        times = _epoch(values, seconds_per_unit=seconds_per_unit, column=column)
    else:
        text = values.astype("str").str.strip()
        text = text.where(values.notna() & (text != ""))
        zoned = text.str.contains(_ZONED, na=False).to_numpy()
        naive = text.notna().to_numpy() & ~zoned
        times = pd.Series(pd.NaT, index=values.index, dtype=TIME_DTYPE)
        if zoned.any():
            times[zoned] = _zoned(text[zoned]).astype(TIME_DTYPE)
        if naive.any():
            local = _naive(text[naive])
            if time_zone is not None:
                local = local.dt.tz_localize(time_zone, ambiguous="NaT", nonexistent="NaT")
                basis = time_zone
            else:
                local = local.dt.tz_localize("UTC")
                basis = TIME_BASIS_UTC if naive_is_utc else TIME_BASIS_ASSUMED_UTC
            times[naive] = local.dt.tz_convert("UTC").astype(TIME_DTYPE)
        if text.notna().any() and times.isna().all():
            first = text.dropna().iloc[0]
            raise ValueError(f"column {column!r}: no value reads as a date-time (first {first!r})")
    return times.astype(TIME_DTYPE), basis


def check_time_zone(time_zone: str | None) -> None:
    """Raise ValueError unless ``time_zone`` is None or a known IANA zone name."""
    if time_zone is None:
        return
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"time_zone {time_zone!r} is not an IANA zone name") from exc


def parse_bools(values: pd.Series) -> pd.Series:
    """Read a flag column (1/0, true/false, Yes/blank, Recording/Stop) as booleans.

    Blank cells are False: a log that has the column marks only the rows where
    the flag is set.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    truthy = np.array([str(u).strip().lower() in _TRUE for u in uniques], dtype=bool)
    flags = np.zeros(len(values), dtype=bool)
    known = codes >= 0
    flags[known] = truthy[codes[known]]
    return pd.Series(flags, index=values.index, dtype="boolean")


def _ordered_segments(frame: pd.DataFrame) -> np.ndarray:
    """Track number of each row: 0, 1, ... in order of first appearance."""
    if SEGMENT not in frame:
        return np.zeros(len(frame), dtype=np.int64)
    codes, _ = pd.factorize(frame[SEGMENT], use_na_sentinel=False)
    return codes.astype(np.int64)


def _floats(values: pd.Series) -> np.ndarray:
    if values.dtype == np.float64:
        return values.to_numpy()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")


def _placed(raw: pd.DataFrame, *, need_time: bool) -> tuple[np.ndarray, ...]:
    """Latitudes, longitudes and the masks no_fix, null_island, out_of_range of a frame."""
    lat, lon = _floats(raw[LAT]), _floats(raw[LON])
    no_fix = np.isnan(lat) | np.isnan(lon)
    if need_time:
        no_fix |= raw[TIME_UTC].isna().to_numpy()
    null_island = ~no_fix & (lat == 0) & (lon == 0)
    out_of_range = ~no_fix & ~null_island & ((np.abs(lat) > 90) | (np.abs(lon) > 180))
    return lat, lon, no_fix, null_island, out_of_range


def _running_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Return the running maximum of ``values`` within each run of equal ``group``."""
    if len(group) == 0 or group[0] == group[-1]:
        return np.maximum.accumulate(values) if len(values) else values
    return pd.Series(values).groupby(group).cummax().to_numpy(dtype="int64")


def _typed(fixes: pd.DataFrame) -> pd.DataFrame:
    """Give the altitude columns their dtypes (where they do not have them yet)."""
    for name in (ALT_AGL_M, ALT_MSL_M):
        if name in fixes and fixes[name].dtype != np.float64:
            fixes[name] = fixes[name].astype("float64")
    if ALT_REF in fixes and fixes[ALT_REF].dtype != _STR:
        fixes[ALT_REF] = fixes[ALT_REF].astype(_STR)
    return fixes


def clean_fixes(
    raw: pd.DataFrame, *, split_gap_s: float, max_speed_m_s: float = MAX_SPEED_M_S
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop impossible rows with a counted reason and number the flights.

    Parameters
    ----------
    raw
        A :class:`RawTrack` frame (not modified).
    split_gap_s
        A gap longer than this many seconds between two kept fixes of a track
        starts a new flight.
    max_speed_m_s
        Speed beyond which a lone fix is a GPS jump (``inf``: no gate).

    Returns
    -------
    fixes : pandas.DataFrame
        The kept rows, grouped by track in order of first appearance and in file
        order within a track, with a column ``flight_no`` (1, 2, ... within the
        file) and a fresh RangeIndex.
    dropped : dict
        Rows dropped by reason, for the reasons decided here (see module notes).
    """
    lat, lon, no_fix, null_island, out_of_range = _placed(raw, need_time=True)
    times = raw[TIME_UTC]
    if times.dtype != TIME_DTYPE:
        times = times.astype(TIME_DTYPE)
    ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
    placed = ~(no_fix | null_island | out_of_range)

    segment = _ordered_segments(raw)
    order = np.argsort(segment, kind="stable")
    order = order[placed[order]]
    seg_sorted = segment[order]
    ns_sorted = ns[order]
    # A fix is kept when it is later than every earlier placed fix of its track:
    # the running maximum is then the previous kept fix (see module notes).
    running = _running_max(ns_sorted, seg_sorted)
    previous = np.roll(running, 1)
    first = np.ones(len(order), dtype=bool)
    first[1:] = seg_sorted[1:] != seg_sorted[:-1]
    duplicate = ~first & (ns_sorted == previous)
    backwards = ~first & (ns_sorted < previous)
    kept = order[~(duplicate | backwards)]
    jump = _spikes(lon[kept], lat[kept], ns[kept], segment[kept], max_speed_m_s)
    kept = kept[~jump]

    kept_ns = ns[kept]
    kept_seg = segment[kept]
    new_flight = np.ones(len(kept), dtype=bool)
    if len(kept) > 1:
        gap_s = np.diff(kept_ns) / 1e9
        new_flight[1:] = (gap_s > split_gap_s) | (np.diff(kept_seg) != 0)
    fixes = raw.iloc[kept].reset_index(drop=True)
    fixes[FLIGHT_NO] = np.cumsum(new_flight)
    dropped = {
        "no_fix": int(no_fix.sum()),
        "null_island": int(null_island.sum()),
        "out_of_range": int(out_of_range.sum()),
        "duplicate_time": int(duplicate.sum()),
        "time_backwards": int(backwards.sum()),
        "gps_jump": int(jump.sum()),
    }
    return _typed(fixes), dropped


def clean_positions(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop the rows of an untimed frame (a route) that have no usable position.

    Parameters
    ----------
    raw
        A :class:`RawTrack` frame whose times are not used (not modified).

    Returns
    -------
    positions : pandas.DataFrame
        The rows with a position, grouped by track (``segment``) in order of
        first appearance and in file order within a track, with a column
        ``flight_no`` (1, 2, ...: one per track) and a fresh RangeIndex.
    dropped : dict
        ``no_fix``, ``null_island`` and ``out_of_range`` counts, as for
        :func:`clean_fixes`.
    """
    _, _, no_fix, null_island, out_of_range = _placed(raw, need_time=False)
    segment = _ordered_segments(raw)
    order = np.argsort(segment, kind="stable")
    order = order[~(no_fix | null_island | out_of_range)[order]]
    positions = raw.iloc[order].reset_index(drop=True)
    positions[FLIGHT_NO] = pd.factorize(segment[order])[0] + 1
    dropped = {
        "no_fix": int(no_fix.sum()),
        "null_island": int(null_island.sum()),
        "out_of_range": int(out_of_range.sum()),
    }
    return _typed(positions), dropped


def _spikes(lon, lat, ns, track, limit: float) -> np.ndarray:
    """Find fixes beyond ``limit`` m/s from both neighbours, which are within it of each other."""
    n = len(lon)
    spike = np.zeros(n, dtype=bool)
    if n < 3 or not np.isfinite(limit):
        return spike
    with np.errstate(divide="ignore", invalid="ignore"):
        step = geodesic_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) / (np.diff(ns) / 1e9)
        skip = geodesic_m(lon[:-2], lat[:-2], lon[2:], lat[2:]) / ((ns[2:] - ns[:-2]) / 1e9)
    same = (track[:-2] == track[1:-1]) & (track[1:-1] == track[2:])
    spike[1:-1] = same & (step[:-1] > limit) & (step[1:] > limit) & (skip <= limit)
    return spike
