"""Read flight tracks from autopilot logs: ArduPilot DataFlash ``.bin`` and MAVLink ``.tlog``.

Both are decoded with pymavlink (an optional dependency, imported when a log is
read). PX4 ``.ulg`` logs are read by :mod:`geoexpose.tracks._ulog`.

ArduPilot DataFlash (``.bin``)
    One fix per ``GPS`` message of the first receiver (instance 0). Rows without a
    3-D fix (``Status`` < 3) keep their place with an empty position, so cleaning
    counts them as ``no_fix``. ``Lat``/``Lng`` are degrees (read as integers of
    1e-7 degrees where a log stores them so). The time is GPS time (week ``GWk``
    or ``Week``, milliseconds of the week ``GMS`` or ``TimeMS``) minus the leap
    seconds of that date (16 s in 2014, 18 s since 2017) -> UTC. ``Alt`` is above
    mean sea level (``alt_msl_m``); the height above home is ``GPS.RelAlt`` (2014
    logs) or ``POS.RelHomeAlt`` matched by ``TimeUS``, as ``alt_agl_m`` with
    ``alt_ref="takeoff"``. Each arming (``EV`` id 10 or ``ARM`` with
    ``ArmState`` 1) starts a new ``segment``.
MAVLink telemetry log (``.tlog``)
    One fix per ``GLOBAL_POSITION_INT`` (``GPS_RAW_INT`` with a 3-D fix where the
    log has none): latitude and longitude in 1e-7 degrees, ``alt`` millimetres
    above mean sea level, ``relative_alt`` millimetres above home (``alt_agl_m``,
    ``alt_ref="takeoff"``). Times are the ground station's clock when it received
    each packet (the tlog's per-packet stamps), not the vehicle's. Each sending
    system and component is a ``segment``.

:func:`read_camera_events` returns the camera trigger records (``CAM``/``TRIG``,
``CAMERA_FEEDBACK``, PX4 ``camera_capture``) of any of the three formats.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import struct
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks.normalize import LAT, LON, SEGMENT, RawTrack

__all__ = [
    "AUTOPILOT_FORMATS",
    "AUTOPILOT_SUFFIXES",
    "CAMERA_COLUMNS",
    "MESSAGE",
    "PITCH_DEG",
    "ROLL_DEG",
    "read_autopilot",
    "read_camera_events",
    "read_dataflash",
    "read_tlog",
    "sniff_autopilot",
    "sniff_dataflash",
    "sniff_tlog",
]

logger = logging.getLogger(__name__)

#: The log message a camera record came from (``CAM``, ``TRIG``, ``CAMERA_FEEDBACK``,
#: ``camera_capture``).
MESSAGE = "message"
#: Columns of :func:`read_camera_events`, in order.
CAMERA_COLUMNS = [TIME_UTC, LAT, LON, ALT_MSL_M, ALT_AGL_M, ROLL_DEG, PITCH_DEG, YAW_DEG, MESSAGE]

#: Format names of the autopilot logs, and their file name endings.
AUTOPILOT_FORMATS = ("ardupilot_bin", "mavlink_tlog", "px4_ulog")
AUTOPILOT_SUFFIXES = (".bin", ".tlog", ".ulg")

_DATAFLASH_MAGIC = b"\xa3\x95\x80"
_MAVLINK_STARTS = (0xFE, 0xFD)
_GPS_EPOCH_S = 315964800  # 1980-01-06T00:00:00Z in UNIX seconds
_WEEK_S = 604800
# GPS - UTC in seconds, from the UTC date each value took effect (IERS bulletin C).
_LEAP_FROM_S = np.array([915148800, 1136073600, 1230768000, 1341100800, 1435708800, 1483228800])
_LEAP_S = np.array([13, 14, 15, 16, 17, 18])
# Plausible UNIX seconds for log times: 2000-01-01 .. 2100-01-01.
_EPOCH_MIN_S, _EPOCH_MAX_S = 946684800.0, 4102444800.0
_ARMED_EVENT = 10  # ArduPilot LogEvent ARMED


def import_optional(module: str, package: str) -> ModuleType:
    """Import ``module`` of an optional dependency, or raise InputError naming pip."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"reading this log needs {package}: pip install {package}") from exc


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Send what compiled code writes to file descriptor 2 to a temporary file."""
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to protect
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said = sink.read(2000)
            if said:
                logger.debug("log decoder wrote: %s", said.decode("utf-8", "replace"))


@contextlib.contextmanager
def library_errors(what: str) -> Iterator[None]:
    """Turn any error of a third-party log decoder into a one-line InputError.

    What the decoder prints (pymavlink prints "bad header ..." to standard error
    for every damaged byte, from Python and from its compiled indexer) is kept
    off the caller's standard output and error and logged at debug level.
    """
    printed = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(printed),
            contextlib.redirect_stderr(printed),
            _quiet_stderr_fd(),
        ):
            yield
    except InputError:
        raise
    except MemoryError as exc:
        raise InputError(f"{what} cannot be read (corrupt sizes: out of memory)") from exc
    except Exception as exc:  # decoders of damaged binary files raise anything
        text = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise InputError(f"{what} cannot be read ({text})") from exc
    finally:
        if printed.getvalue():
            logger.debug("%s decoder said: %s", what, printed.getvalue()[:2000])


def epoch_times(seconds: np.ndarray) -> pd.Series:
    """UNIX seconds to UTC times; NaT outside 2000-2100 (unset or damaged clocks)."""
    seconds = np.asarray(seconds, dtype="float64")
    ok = (seconds > _EPOCH_MIN_S) & (seconds < _EPOCH_MAX_S)
    ns = np.where(ok, np.round(np.where(ok, seconds, 0.0) * 1e6), 0).astype("int64") * 1000
    times = pd.Series(ns.astype("datetime64[ns]")).dt.tz_localize("UTC")
    return times.where(ok).astype(TIME_DTYPE)


def gps_week_times(week: np.ndarray, ms: np.ndarray) -> pd.Series:
    """GPS week and milliseconds of the week to UTC (leap seconds of the date removed)."""
    week = np.asarray(week, dtype="float64")
    ms = np.asarray(ms, dtype="float64")
    ok = (week > 0) & (ms >= 0) & (ms < _WEEK_S * 1000)
    gps = _GPS_EPOCH_S + week * _WEEK_S + ms / 1000.0
    leap = _LEAP_S[np.clip(np.searchsorted(_LEAP_FROM_S + _LEAP_S, gps, side="right") - 1, 0, None)]
    return epoch_times(np.where(ok, gps - leap, np.nan))


def degrees(values: np.ndarray) -> np.ndarray:
    """Latitudes or longitudes in degrees, from degrees or integers of 1e-7 degrees."""
    values = np.asarray(values, dtype="float64")
    finite = values[np.isfinite(values)]
    if len(finite) and np.abs(finite).max() > 360:
        return values * 1e-7
    return values


def sniff_dataflash(head: bytes, path: Path) -> bool:
    """Tell an ArduPilot DataFlash log from its first bytes (an FMT message)."""
    return head.startswith(_DATAFLASH_MAGIC)


def sniff_tlog(head: bytes, path: Path) -> bool:
    """Tell a MAVLink telemetry log: ``.tlog`` name, a UNIX-µs stamp, a MAVLink start byte."""
    if path.suffix.lower() != ".tlog" or len(head) < 9 or head[8] not in _MAVLINK_STARTS:
        return False
    (stamp_us,) = struct.unpack(">Q", head[:8])
    return _EPOCH_MIN_S < stamp_us / 1e6 < _EPOCH_MAX_S


def _open(cls: Any, path: Path) -> Any:
    """Return ``cls(path)`` of pymavlink, closing its file when the constructor fails."""
    log = cls.__new__(cls)
    try:
        log.__init__(str(path))
    except BaseException:
        for name in ("data_map", "filehandle", "f"):
            with contextlib.suppress(Exception):
                getattr(log, name).close()
        raise
    return log


def _records(log: Any, types: list[str]) -> Iterator[Any]:
    """Yield the messages of ``types`` in file order (pymavlink decodes one at a time)."""
    while (msg := log.recv_match(type=types)) is not None:
        if msg.get_type() != "BAD_DATA":
            yield msg


def _column(rows: list[dict[str, Any]], *names: str) -> np.ndarray:
    """Return a float column of decoded messages: the first of ``names`` each row has."""
    out = np.full(len(rows), np.nan)
    for i, row in enumerate(rows):  # a few thousand dicts from the decoder
        for name in names:
            value = row.get(name)
            if isinstance(value, int | float):
                out[i] = value
                break
    return out


def _frame(lat: np.ndarray, lon: np.ndarray, times: pd.Series, agl: np.ndarray,
           msl: np.ndarray, segment: np.ndarray) -> pd.DataFrame:  # fmt: skip
    return pd.DataFrame(
        {
            LAT: lat,
            LON: lon,
            TIME_UTC: times.array,
            ALT_AGL_M: agl,
            ALT_REF: ALT_REF_TAKEOFF,
            ALT_MSL_M: msl,
            SEGMENT: segment,
        }
    ).astype({TIME_UTC: TIME_DTYPE})


def _dataflash_messages(path: Path, types: list[str]) -> list[dict[str, Any]]:
    reader = import_optional("pymavlink.DFReader", "pymavlink")
    with library_errors("ArduPilot DataFlash log"):
        log = _open(reader.DFReader_binary, path)
        try:
            return [msg.to_dict() for msg in _records(log, types)]
        finally:
            log.close()


def read_dataflash(
    path: Path, *, time_zone: str | None = None, alt_ref: str | None = None
) -> RawTrack:
    """Read the GPS fixes of an ArduPilot DataFlash ``.bin`` log (see module notes).

    ``time_zone`` and ``alt_ref`` are accepted for a common reader signature and
    not used: the log says both.

    Raises
    ------
    InputError
        pymavlink is missing, the log cannot be decoded, or it has no GPS message.
    """
    messages = _dataflash_messages(path, ["GPS", "POS", "EV", "ARM"])
    kind = np.array([m.get("mavpackettype") for m in messages], dtype=object)
    armed = np.zeros(len(messages), dtype=bool)
    events = _column(messages, "Id", "ArmState")
    armed[kind == "EV"] = events[kind == "EV"] == _ARMED_EVENT
    armed[kind == "ARM"] = events[kind == "ARM"] == 1
    instance = _column(messages, "I")
    is_gps = (kind == "GPS") & ~(instance > 0)
    if not is_gps.any():
        raise InputError("no GPS message in the ArduPilot DataFlash log")
    gps = [m for m, keep in zip(messages, is_gps, strict=True) if keep]
    segment = np.cumsum(armed)[is_gps]
    fixed = _column(gps, "Status") >= 3
    lat = np.where(fixed, degrees(_column(gps, "Lat")), np.nan)
    lon = np.where(fixed, degrees(_column(gps, "Lng", "Lon")), np.nan)
    times = gps_week_times(_column(gps, "GWk", "Week"), _column(gps, "GMS", "TimeMS"))
    agl = _column(gps, "RelAlt")
    notes = []
    pos = [m for m, k in zip(messages, kind, strict=True) if k == "POS"]
    if np.isnan(agl).all() and pos:
        agl = _interpolate(_column(gps, "TimeUS"), _column(pos, "TimeUS"),
                           _column(pos, "RelHomeAlt"))  # fmt: skip
    if np.isnan(agl).all():
        notes.append("no height above home in the log (GPS.RelAlt, POS.RelHomeAlt)")
    frame = _frame(lat, lon, times, agl, _column(gps, "Alt"), segment)
    notes.append("times from GPS week/ms minus leap seconds; alt_agl_m is above home")
    return RawTrack(frame, "ardupilot_bin", notes=notes)


def _interpolate(at: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y(x)`` at ``at`` (x rising), NaN outside the range of ``x`` or without data."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0 or np.any(np.diff(x) < 0):
        return np.full(len(at), np.nan)
    inside = (at >= x[0]) & (at <= x[-1])
    return np.where(inside, np.interp(np.where(inside, at, x[0]), x, y), np.nan)


def _tlog_messages(path: Path, types: list[str]) -> list[tuple[float, int, dict[str, Any]]]:
    mavutil = import_optional("pymavlink.mavutil", "pymavlink")
    with library_errors("MAVLink telemetry log"):
        log = _open(mavutil.mavmmaplog, path)
        try:
            return [
                (
                    float(msg._timestamp),
                    msg.get_srcSystem() * 256 + msg.get_srcComponent(),
                    msg.to_dict(),
                )
                for msg in _records(log, types)
            ]
        finally:
            log.close()


def read_tlog(path: Path, *, time_zone: str | None = None, alt_ref: str | None = None) -> RawTrack:
    """Read the positions of a MAVLink ``.tlog`` (see module notes).

    ``time_zone`` and ``alt_ref`` are accepted for a common reader signature and
    not used: packet stamps are UNIX times and the log says the altitudes.

    Raises
    ------
    InputError
        pymavlink is missing, the log cannot be decoded, or it has no position.
    """
    messages = _tlog_messages(path, ["GLOBAL_POSITION_INT", "GPS_RAW_INT"])
    wanted = "GLOBAL_POSITION_INT"
    if not any(m[2].get("mavpackettype") == wanted for m in messages):
        wanted = "GPS_RAW_INT"
    chosen = [m for m in messages if m[2].get("mavpackettype") == wanted]
    if not chosen:
        raise InputError("no GLOBAL_POSITION_INT or GPS_RAW_INT message in the MAVLink log")
    stamps = np.array([m[0] for m in chosen], dtype="float64")
    source = np.array([m[1] for m in chosen], dtype="int64")
    rows = [m[2] for m in chosen]
    lat, lon = _column(rows, "lat") * 1e-7, _column(rows, "lon") * 1e-7
    if wanted == "GPS_RAW_INT":
        fixed = _column(rows, "fix_type") >= 3
        lat, lon = np.where(fixed, lat, np.nan), np.where(fixed, lon, np.nan)
    agl = _column(rows, "relative_alt") / 1000.0
    frame = _frame(lat, lon, epoch_times(stamps), agl, _column(rows, "alt") / 1000.0, source)
    notes = [f"positions from {wanted}; times are the ground station's clock at reception"]
    if wanted == "GPS_RAW_INT":
        notes.append("no height above home in GPS_RAW_INT")
    return RawTrack(frame, "mavlink_tlog", notes=notes)


def _euler_frame(rows: list[dict[str, Any]], times: pd.Series, lat: np.ndarray,
                 lon: np.ndarray, msl: np.ndarray, agl: np.ndarray) -> pd.DataFrame:  # fmt: skip
    return pd.DataFrame(
        {
            TIME_UTC: times.array,
            LAT: lat,
            LON: lon,
            ALT_MSL_M: msl,
            ALT_AGL_M: agl,
            ROLL_DEG: _column(rows, "R", "Roll", "roll"),
            PITCH_DEG: _column(rows, "P", "Pitch", "pitch"),
            YAW_DEG: _column(rows, "Y", "Yaw", "yaw"),
            MESSAGE: [str(row.get("mavpackettype", "")) for row in rows],
        },
        columns=CAMERA_COLUMNS,
    ).astype({TIME_UTC: TIME_DTYPE})


def read_camera_events(path: str | Path) -> pd.DataFrame:
    """Camera trigger records of an ArduPilot, MAVLink or PX4 log.

    Parameters
    ----------
    path
        A DataFlash ``.bin`` (``CAM`` and ``TRIG`` messages), a ``.tlog``
        (``CAMERA_FEEDBACK``) or a PX4 ``.ulg`` (``camera_capture``).

    Returns
    -------
    pandas.DataFrame
        One row per record in file order, columns :data:`CAMERA_COLUMNS`:
        ``time_utc``, ``lat``, ``lon`` (degrees), ``alt_msl_m``, ``alt_agl_m``
        (above home), ``roll_deg``, ``pitch_deg``, ``yaw_deg`` (vehicle or camera
        attitude as the log gives it), ``message`` (the record's message name);
        NaN/NaT where the log lacks a value. No rows when the log has no camera
        records.

    Raises
    ------
    InputError
        Not one of these logs, or it cannot be decoded.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})") from exc
    from geoexpose.tracks import _ulog as _track_ulog  # PX4 reading shares this module's helpers

    if _track_ulog.sniff_ulog(head, path):
        return _track_ulog.ulog_camera_events(path)
    if sniff_dataflash(head, path):
        rows = _dataflash_messages(path, ["CAM", "TRIG"])
        times = gps_week_times(_column(rows, "GPSWeek"), _column(rows, "GPSTime"))
        lat, lon = degrees(_column(rows, "Lat")), degrees(_column(rows, "Lng"))
        return _euler_frame(rows, times, lat, lon, _column(rows, "Alt"), _column(rows, "RelAlt"))
    if sniff_tlog(head, path):
        found = _tlog_messages(path, ["CAMERA_FEEDBACK"])
        rows = [m[2] for m in found]
        own = _column(rows, "time_usec") / 1e6
        stamps = np.array([m[0] for m in found], dtype="float64")
        seconds = np.where((own > _EPOCH_MIN_S) & (own < _EPOCH_MAX_S), own, stamps)
        lat, lon = _column(rows, "lat") * 1e-7, _column(rows, "lng") * 1e-7
        msl, agl = _column(rows, "alt_msl"), _column(rows, "alt_rel")
        return _euler_frame(rows, epoch_times(seconds), lat, lon, msl, agl)
    raise InputError("not an ArduPilot .bin, MAVLink .tlog or PX4 .ulg log")


def sniff_autopilot(head: bytes, path: Path) -> str | None:
    """Return the autopilot log format of a file's first bytes, or None."""
    from geoexpose.tracks._ulog import sniff_ulog

    if sniff_dataflash(head, path):
        return "ardupilot_bin"
    if sniff_tlog(head, path):
        return "mavlink_tlog"
    return "px4_ulog" if sniff_ulog(head, path) else None


def read_autopilot(
    path: Path, kind: str, *, time_zone: str | None = None, alt_ref: str | None = None
) -> RawTrack:
    """Read an autopilot log of format ``kind`` (one of :data:`AUTOPILOT_FORMATS`)."""
    from geoexpose.tracks._ulog import read_ulog

    readers = {"ardupilot_bin": read_dataflash, "mavlink_tlog": read_tlog, "px4_ulog": read_ulog}
    return readers[kind](path, time_zone=time_zone, alt_ref=alt_ref)
