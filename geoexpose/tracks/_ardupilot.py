"""Read flight tracks from autopilot logs: ArduPilot DataFlash ``.bin`` and MAVLink ``.tlog``.

Both are decoded with pymavlink (an optional dependency, imported when a log is
read; see :mod:`geoexpose.tracks._logs`). PX4 ``.ulg`` logs are read by
:mod:`geoexpose.tracks._ulog`.

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

:func:`dataflash_camera_events` and :func:`tlog_camera_events` return the camera
trigger records (``CAM``/``TRIG``, ``CAMERA_FEEDBACK``) of each. The aircraft
(``meta``; ``drone_id`` per sending system of a ``.tlog``) is what the boot messages
(``MSG``, ``STATUSTEXT``) name: see :func:`aircraft_of`.
"""

from __future__ import annotations

import contextlib
import logging
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    DRONE_ID,
    LAT,
    LON,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks._logs import (
    CAMERA_COLUMNS,
    EPOCH_MAX_S,
    EPOCH_MIN_S,
    MESSAGE,
    degrees,
    epoch_times,
    import_optional,
    library_errors,
)
from geoexpose.tracks.normalize import SEGMENT, RawTrack

__all__ = [
    "aircraft_of",
    "dataflash_camera_events",
    "read_dataflash",
    "read_tlog",
    "sniff_dataflash",
    "sniff_tlog",
    "tlog_camera_events",
]

logger = logging.getLogger(__name__)

_DATAFLASH_MAGIC = b"\xa3\x95\x80"
_MAVLINK_STARTS = (0xFE, 0xFD)
_GPS_EPOCH_S = 315964800  # 1980-01-06T00:00:00Z in UNIX seconds
_WEEK_S = 604800
# GPS - UTC in seconds, from the UTC date each value took effect (IERS bulletin C).
_LEAP_FROM_S = np.array([915148800, 1136073600, 1230768000, 1341100800, 1435708800, 1483228800])
_LEAP_S = np.array([13, 14, 15, 16, 17, 18])
_ARMED_EVENT = 10  # ArduPilot LogEvent ARMED


def gps_week_times(week: np.ndarray, ms: np.ndarray) -> pd.Series:
    """GPS week and milliseconds of the week to UTC (leap seconds of the date removed)."""
    week = np.asarray(week, dtype="float64")
    ms = np.asarray(ms, dtype="float64")
    ok = (week > 0) & (ms >= 0) & (ms < _WEEK_S * 1000)
    gps = _GPS_EPOCH_S + week * _WEEK_S + ms / 1000.0
    leap = _LEAP_S[np.clip(np.searchsorted(_LEAP_FROM_S + _LEAP_S, gps, side="right") - 1, 0, None)]
    return epoch_times(np.where(ok, gps - leap, np.nan))


def sniff_dataflash(head: bytes, path: Path) -> bool:
    """Tell an ArduPilot DataFlash log from its first bytes (an FMT message)."""
    return head.startswith(_DATAFLASH_MAGIC)


def sniff_tlog(head: bytes, path: Path) -> bool:
    """Tell a MAVLink telemetry log: ``.tlog`` name, a UNIX-µs stamp, a MAVLink start byte."""
    if path.suffix.lower() != ".tlog" or len(head) < 9 or head[8] not in _MAVLINK_STARTS:
        return False
    (stamp_us,) = struct.unpack(">Q", head[:8])
    return EPOCH_MIN_S < stamp_us / 1e6 < EPOCH_MAX_S


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
    messages = _dataflash_messages(path, ["GPS", "POS", "EV", "ARM", "MSG"])
    meta = aircraft_of([str(m.get("Message", "")) for m in messages if "Message" in m])
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
    return RawTrack(frame, "ardupilot_bin", notes=notes, meta=meta)


def _interpolate(at: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``y(x)`` at ``at`` (x rising), NaN outside the range of ``x`` or without data."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) == 0 or np.any(np.diff(x) < 0):
        return np.full(len(at), np.nan)
    inside = (at >= x[0]) & (at <= x[-1])
    return np.where(inside, np.interp(np.where(inside, at, x[0]), x, y), np.nan)


# ArduPilot's boot message naming the board and its 96-bit MCU id, e.g.
# "PX4v3 002F002C 3337510D 37353832" or "CubeOrange 0040001C 30385113 33353837".
_BOARD_ID = re.compile(r"^\s*(\S+)\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})\s+([0-9A-Fa-f]{8})\s*$")
# ... and the one naming the firmware ("ArduCopter V3.3-dev (c3349c61)", "APM:Copter V3.5.7 ...")
_FIRMWARE = re.compile(r"^\s*(?:APM:|Ardu)(Copter|Plane|Rover|Sub|Tracker|Blimp)\b")
_FRAME = re.compile(r"^\s*Frame:\s*(\S.*?)\s*$")


def aircraft_of(texts: list[str]) -> dict[str, str]:
    """Return the aircraft the boot messages of an ArduPilot log name.

    ``serial``: the board's MCU id (the three hexadecimal words of the boot message
    that names the board, joined); ``aircraft``: ``Ardu<vehicle>``, the board and
    the frame where named. A log without them gives ``{}``: the system id
    (``SYSID_THISMAV``, 1 on most aircraft) names no aircraft.

    >>> aircraft_of(["APM:Copter V3.5.7 (b11c6af3)", "PX4v3 002F002C 3337510D 37353832",
    ...              "Frame: QUAD"])
    {'serial': '002F002C3337510D37353832', 'aircraft': 'ArduCopter on PX4v3, frame QUAD'}
    >>> aircraft_of(["ArduPlane V3.1.2beta1 (834f90e8)", "init home"])
    {'aircraft': 'ArduPlane'}
    """
    meta: dict[str, str] = {}
    vehicle = board = frame = None
    for text in texts:
        if board is None and (found := _BOARD_ID.match(text)):
            board, meta["serial"] = found[1], "".join(found.group(2, 3, 4)).upper()
        elif vehicle is None and (found := _FIRMWARE.match(text)):
            vehicle = f"Ardu{found[1]}"
        elif frame is None and (found := _FRAME.match(text)):
            frame = found[1]
    if vehicle or board:
        name = vehicle or "ArduPilot"
        name += f" on {board}" if board else ""
        meta["aircraft"] = name + (f", frame {frame}" if frame else "")
    return meta


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
    messages = _tlog_messages(path, ["GLOBAL_POSITION_INT", "GPS_RAW_INT", "STATUSTEXT"])
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
    frame[DRONE_ID], models = _tlog_aircraft(messages, source)
    meta = {"aircraft": models.pop()} if len(models) == 1 else {}
    notes = [f"positions from {wanted}; times are the ground station's clock at reception"]
    if wanted == "GPS_RAW_INT":
        notes.append("no height above home in GPS_RAW_INT")
    return RawTrack(frame, "mavlink_tlog", notes=notes, meta=meta)


def _tlog_aircraft(
    messages: list[tuple[float, int, dict[str, Any]]], source: np.ndarray
) -> tuple[np.ndarray, set[str]]:
    """Board id of each position's sender (None where unknown), and the models named.

    The boot messages (``STATUSTEXT``) of each sending system are read apart, so a
    board id names only the positions its own system sent.
    """
    texts: dict[int, list[str]] = {}
    for _, sender, row in messages:
        if row.get("mavpackettype") == "STATUSTEXT":
            texts.setdefault(sender // 256, []).append(str(row.get("text", "")))
    found = {system: aircraft_of(lines) for system, lines in texts.items()}
    ids = {system: meta["serial"] for system, meta in found.items() if "serial" in meta}
    systems = source // 256
    drone = np.array([ids.get(int(s)) for s in np.unique(systems)], dtype=object)
    at = np.searchsorted(np.unique(systems), systems)
    models = {meta["aircraft"] for s, meta in found.items() if "aircraft" in meta and s in systems}
    return drone[at] if len(at) else np.zeros(0, dtype=object), models


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


def dataflash_camera_events(path: Path) -> pd.DataFrame:
    """Camera records (``CAM`` and ``TRIG``) of an ArduPilot DataFlash log.

    Raises
    ------
    InputError
        pymavlink is missing, or the log cannot be decoded.
    """
    rows = _dataflash_messages(path, ["CAM", "TRIG"])
    times = gps_week_times(_column(rows, "GPSWeek"), _column(rows, "GPSTime"))
    lat, lon = degrees(_column(rows, "Lat")), degrees(_column(rows, "Lng"))
    return _euler_frame(rows, times, lat, lon, _column(rows, "Alt"), _column(rows, "RelAlt"))


def tlog_camera_events(path: Path) -> pd.DataFrame:
    """Camera records (``CAMERA_FEEDBACK``) of a MAVLink telemetry log.

    Times are the record's own ``time_usec`` where plausible, else the packet's stamp.

    Raises
    ------
    InputError
        pymavlink is missing, or the log cannot be decoded.
    """
    found = _tlog_messages(path, ["CAMERA_FEEDBACK"])
    rows = [m[2] for m in found]
    own = _column(rows, "time_usec") / 1e6
    stamps = np.array([m[0] for m in found], dtype="float64")
    seconds = np.where((own > EPOCH_MIN_S) & (own < EPOCH_MAX_S), own, stamps)
    lat, lon = _column(rows, "lat") * 1e-7, _column(rows, "lng") * 1e-7
    msl, agl = _column(rows, "alt_msl"), _column(rows, "alt_rel")
    return _euler_frame(rows, epoch_times(seconds), lat, lon, msl, agl)
