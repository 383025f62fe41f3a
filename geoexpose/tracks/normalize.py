"""Turn what a track reader found into clean fixes: drops counted by reason, flights.

Every track reader (CSV, GPX, GeoJSON, ...) produces a :class:`RawTrack`: one row
per record in the file, with latitude, longitude, UTC time and altitudes already in
degrees, metres and UTC (times parsed by :func:`geoexpose.tracks._values.parse_times`).
:func:`clean_fixes` drops impossible rows with a counted reason, then splits the
rest into flights at recording gaps; :func:`clean_positions` does the same for the
positions of a route (no times).

Drop reasons (:data:`DROP_REASONS`), each row counted once, under the first that
applies:

``no_fix``
    latitude, longitude or time missing or not readable as a number / date-time.
``null_island``
    latitude and longitude both exactly 0 (logged before the GNSS fix).
``out_of_range``
    ``|lat| > 90`` or ``|lon| > 180``.
``time_out_of_range``
    a time before :data:`EARLIEST_TIME` (2000-01-01 UTC) or more than
    :data:`LATEST_AHEAD` (one day) after now: a clock not yet set, an epoch of
    -1, a hand-written ``9999-12-31``. Only the row goes, not its track.
``time_ahead``
    later than a later row of its track, where such rows are fewer than the rows
    they would otherwise push into ``time_backwards``: a lone row dated a year
    ahead in the middle of a log is the bad row, not every row after it. Where
    the rows ahead are as many as or more than those behind (a second log pasted
    after a longer first one), the rows behind are dropped as ``time_backwards``.
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

Heights (``alt_agl_m``, ``alt_msl_m``) that are not finite or lie beyond
:data:`MAX_ABS_HEIGHT_M` are no heights: :func:`blank_bad_heights` empties them and
the row keeps its position (the file entry's notes count them).

A *track* is what a file says belongs together: the whole CSV file (or one value
of its flight-id column), one GPX ``<trk>``, one line feature. A track is split
into flights where two kept fixes are more than ``split_gap_s`` apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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
from geoexpose.tracks._jumps import lone_spikes
from geoexpose.tracks._time_order import ahead_of_track, running_max
from geoexpose.tracks._values import TIME_BASIS_UTC

__all__ = [
    "DROP_REASONS",
    "EARLIEST_TIME",
    "EXTRA_COLUMNS",
    "FLIGHT_NO",
    "LATEST_AHEAD",
    "MAX_ABS_HEIGHT_M",
    "MAX_SPEED_M_S",
    "ROUTE_PLANNED",
    "ROUTE_UNTIMED",
    "SEGMENT",
    "RawTrack",
    "blank_bad_heights",
    "clean_fixes",
    "clean_positions",
    "clean_rows",
    "latest_time",
    "nanoseconds",
    "row_faults",
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

#: Fixes dated before this are dropped as ``time_out_of_range`` (drone logs with a GNSS
#: time start in the 2010s; a 1970 or 1999 date is a clock that was not set).
EARLIEST_TIME = pd.Timestamp("2000-01-01", tz="UTC")
#: Fixes dated more than this after the moment of reading are dropped as
#: ``time_out_of_range`` (a day of slack for clocks and zones).
LATEST_AHEAD = pd.Timedelta(days=1)
#: Heights (metres) beyond this, up or down, are no heights (emptied, see module notes):
#: above any drone (stratospheric ones fly near 20 km) and any place on Earth.
MAX_ABS_HEIGHT_M = 50_000.0

DROP_REASONS = (
    "no_fix",
    "null_island",
    "out_of_range",
    "time_out_of_range",
    "time_ahead",
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

_STR = pd.Series([], dtype="str").dtype  # pandas' default text dtype


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
    takeoff_from
        Where the file is a drone app's that records heights above sea level only:
        what ``alt_msl_m`` was read from (e.g. ``"GPX <ele>"``), so that heights
        above take-off are derived for the flights that start on the ground (see
        :mod:`geoexpose.tracks._takeoff`); None otherwise.
    """

    frame: pd.DataFrame
    format: str
    dropped: dict[str, int] = field(default_factory=dict)
    time_basis: str = TIME_BASIS_UTC
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    route: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    takeoff_from: str | None = None


def _ordered_segments(frame: pd.DataFrame) -> np.ndarray:
    """Track number of each row: 0, 1, ... in order of first appearance."""
    if SEGMENT not in frame:
        return np.zeros(len(frame), dtype=np.int64)
    values = frame[SEGMENT].to_numpy()
    if values.dtype.kind in "iu" and bool(np.all(values[1:] >= values[:-1])):
        # numbers that only rise (a GPX's <trk> count): their runs, with no hash table
        return np.cumsum(np.r_[False, values[1:] != values[:-1]], dtype=np.int64)
    codes, _ = pd.factorize(frame[SEGMENT], use_na_sentinel=False)
    return codes.astype(np.int64, copy=False)


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


def blank_bad_heights(frame: pd.DataFrame) -> int:
    """Empty the heights that are not finite or beyond :data:`MAX_ABS_HEIGHT_M`, in place.

    Parameters
    ----------
    frame
        Fixes or positions with ``alt_agl_m`` and ``alt_msl_m`` columns (modified).

    Returns
    -------
    int
        The number of rows with a height emptied.

    Examples
    --------
    >>> frame = pd.DataFrame({"alt_agl_m": [50.0, -np.inf, 1e308], "alt_msl_m": [80.0, 90, 1]})
    >>> blank_bad_heights(frame)
    2
    >>> frame["alt_agl_m"].tolist()
    [50.0, nan, nan]
    """
    bad_rows = np.zeros(len(frame), dtype=bool)
    for name in (ALT_AGL_M, ALT_MSL_M):
        if name not in frame:
            continue
        values = _floats(frame[name])
        with np.errstate(invalid="ignore"):
            bad = ~np.isnan(values) & ~(np.abs(values) <= MAX_ABS_HEIGHT_M)
        if bad.any():
            frame[name] = np.where(bad, np.nan, values)
            bad_rows |= bad
    return int(bad_rows.sum())


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
    kept, flight_no, dropped = clean_rows(raw, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s)
    fixes = raw.iloc[kept].reset_index(drop=True)
    fixes[FLIGHT_NO] = flight_no
    return _typed(fixes), dropped


def nanoseconds(times: pd.Series) -> np.ndarray:
    """UTC nanoseconds of a time column (NaT: int64 min), a view where it is typed."""
    if times.dtype != TIME_DTYPE:
        times = times.astype(TIME_DTYPE)
    return np.asarray(times.array.asi8)


def latest_time() -> int:
    """Return the latest time (UTC nanoseconds) a fix may have now (:data:`LATEST_AHEAD` ahead)."""
    return int((pd.Timestamp.now(tz="UTC") + LATEST_AHEAD).value)


def row_faults(
    raw: pd.DataFrame, ns: np.ndarray, latest: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Find the rows of ``raw`` (any of a file's rows) with a place and a time in range.

    ``ns`` are their times (:func:`nanoseconds`), ``latest`` the latest time allowed
    (:func:`latest_time`). Returns the latitudes and longitudes (float64), whether
    each row is kept by the rules of a row alone, and the counts of ``no_fix``,
    ``null_island``, ``out_of_range`` and ``time_out_of_range``.

    Examples
    --------
    >>> t = pd.to_datetime(["2024-05-01", "1999-12-31", "2024-05-01"], utc=True)
    >>> raw = pd.DataFrame({"lat": [50.0, 50.0, 0.0], "lon": [8.0, 8.0, 0.0], "time_utc": t})
    >>> _, _, placed, dropped = row_faults(raw, nanoseconds(raw["time_utc"]), latest_time())
    >>> placed.tolist(), dropped["time_out_of_range"], dropped["null_island"]
    ([True, False, False], 1, 1)
    """
    lat, lon, no_fix, null_island, out_of_range = _placed(raw, need_time=True)
    placed = ~(no_fix | null_island | out_of_range)
    out_of_time = placed & ((ns < EARLIEST_TIME.value) | (ns > latest))
    placed &= ~out_of_time
    dropped = {
        "no_fix": int(no_fix.sum()),
        "null_island": int(null_island.sum()),
        "out_of_range": int(out_of_range.sum()),
        "time_out_of_range": int(out_of_time.sum()),
    }
    return lat, lon, placed, dropped


def clean_rows(
    raw: pd.DataFrame, *, split_gap_s: float, max_speed_m_s: float = MAX_SPEED_M_S
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Decide what :func:`clean_fixes` keeps, without copying the frame.

    Parameters
    ----------
    raw, split_gap_s, max_speed_m_s
        As for :func:`clean_fixes`.

    Returns
    -------
    rows : numpy.ndarray
        Positions (int64) of the kept rows in ``raw``, in the order of
        :func:`clean_fixes`.
    flight_no : numpy.ndarray
        The flight number (int64, 1, 2, ... within the file) of each kept row.
    dropped : dict
        Rows dropped by reason, as :func:`clean_fixes` counts them.

    Examples
    --------
    >>> t = pd.to_datetime(["2024-05-01 08:00:00", "2024-05-01 08:00:00",
    ...                     "2024-05-01 08:00:01", "2024-05-01 09:00:00"], utc=True)
    >>> raw = pd.DataFrame({"lat": [50.0, 50.0, 0.0, 50.0], "lon": [8.0, 8.0, 0.0, 8.0],
    ...                     "time_utc": t})
    >>> rows, flight_no, dropped = clean_rows(raw, split_gap_s=60.0)
    >>> rows.tolist(), flight_no.tolist(), dropped["duplicate_time"], dropped["null_island"]
    ([0, 3], [1, 2], 1, 1)
    """
    ns = nanoseconds(raw[TIME_UTC])
    lat, lon, placed, dropped = row_faults(raw, ns, latest_time())

    segment = _ordered_segments(raw)
    if len(segment) < 2 or bool(np.all(segment[1:] >= segment[:-1])):
        order = np.flatnonzero(placed)  # the tracks follow each other already
    else:
        order = np.argsort(segment, kind="stable")
        order = order[placed[order]]
    del placed
    ahead = ahead_of_track(ns[order], segment[order])
    order = order[~ahead]
    dropped["time_ahead"] = int(ahead.sum())
    del ahead
    seg_sorted = segment[order]
    ns_sorted = ns[order]
    # A fix is kept when it is later than every earlier placed fix of its track:
    # the running maximum is then the previous kept fix (see module notes).
    previous = np.roll(running_max(ns_sorted, seg_sorted), 1)
    first = np.ones(len(order), dtype=bool)
    first[1:] = seg_sorted[1:] != seg_sorted[:-1]
    del seg_sorted
    duplicate = ~first & (ns_sorted == previous)
    backwards = ~first & (ns_sorted < previous)
    del first, previous, ns_sorted
    dropped["duplicate_time"] = int(duplicate.sum())
    dropped["time_backwards"] = int(backwards.sum())
    kept = order[~(duplicate | backwards)]
    del order, duplicate, backwards
    jump = lone_spikes(kept, lon, lat, ns, segment, max_speed_m_s)
    dropped["gps_jump"] = int(jump.sum())
    kept = kept[~jump]
    del jump

    new_flight = np.ones(len(kept), dtype=bool)
    if len(kept) > 1:
        kept_ns = ns[kept]
        gap_s = np.diff(kept_ns) / 1e9
        del kept_ns
        new_flight[1:] = gap_s > split_gap_s
        del gap_s
        kept_seg = segment[kept]
        new_flight[1:] |= kept_seg[1:] != kept_seg[:-1]
    return kept, np.cumsum(new_flight), dropped


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
