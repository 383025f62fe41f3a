"""Read flight tracks from PX4 ULog (``.ulg``) files, through pyulog (optional).

One fix per sample of the GNSS topic ``vehicle_gps_position`` (else
``sensor_gps``), first instance. Samples without a 3-D fix (``fix_type`` < 3)
keep their place with an empty position, so cleaning counts them as ``no_fix``.
Field layouts by PX4 version:

- before 1.14: ``lat``/``lon`` integers of 1e-7 degrees, ``alt`` millimetres
  above mean sea level (``alt_ellipsoid`` is above the WGS-84 ellipsoid, not read);
- 1.14 and later: ``latitude_deg``/``longitude_deg`` degrees, ``altitude_msl_m``.

Times are the receiver's ``time_utc_usec`` (UTC microseconds; NaT where 0). The
height above take-off (``alt_agl_m``, ``alt_ref="takeoff"``) is ``-z`` of
``vehicle_local_position`` (down from the estimator's origin, which PX4 sets at
the first GNSS fix on the ground) matched to each fix by boot time, where valid.
The aircraft is the flight controller's unique id (info ``sys_uuid``) and board
(``ver_hw``).
"""

from __future__ import annotations

import logging
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
    MESSAGE,
    degrees,
    epoch_times,
    import_optional,
    library_errors,
)
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_ulog", "sniff_ulog", "ulog_camera_events"]

logger = logging.getLogger(__name__)

_ULOG_MAGIC = b"ULog\x01\x12\x35"
_GPS_TOPICS = ("vehicle_gps_position", "sensor_gps")
_LOCAL = "vehicle_local_position"
_CAMERA = "camera_capture"


def sniff_ulog(head: bytes, path: Path) -> bool:
    """Tell a PX4 ULog file from its magic bytes."""
    return head.startswith(_ULOG_MAGIC)


def _topics(path: Path, names: list[str]) -> dict[str, dict[str, np.ndarray]]:
    """Fields of the first instance of each topic in ``names`` the log has."""
    return _read(path, names)[0]


def _read(path: Path, names: list[str]) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, str]]:
    """Return the topics of :func:`_topics` and the aircraft the log names."""
    pyulog = import_optional("pyulog", "pyulog")
    with library_errors("PX4 ULog"), path.open("rb") as handle:
        log = pyulog.ULog(handle, message_name_filter_list=names)
        found: dict[str, dict[str, np.ndarray]] = {}
        for data in sorted(log.data_list, key=lambda d: d.multi_id):
            if data.name not in found and len(data.data.get("timestamp", ())):
                found[data.name] = dict(data.data)
        return found, _aircraft(dict(log.msg_info_dict))


def _aircraft(info: dict[str, Any]) -> dict[str, str]:
    """Return the log's identity: ``serial`` (``sys_uuid``), ``aircraft`` (``ver_hw``).

    ``sys_uuid`` is the flight controller's unique id (its MCU's), which PX4 writes in
    the log's info messages; ``ver_hw`` the board it runs on (e.g.
    ``CUBEPILOT_CUBEORANGE``), given as ``PX4 <board>``.

    >>> _aircraft({"sys_uuid": "0006000038", "ver_hw": "PX4_FMU_V5", "sys_name": "PX4"})
    {'serial': '0006000038', 'aircraft': 'PX4 PX4_FMU_V5'}
    >>> _aircraft({"sys_uuid": " ", "ver_hw": ""})
    {}
    """
    meta: dict[str, str] = {}
    uuid = str(info.get("sys_uuid", "")).strip()
    if uuid and uuid.strip("0"):
        meta["serial"] = uuid
    board = str(info.get("ver_hw", "")).strip()
    if board:
        meta["aircraft"] = f"{str(info.get('sys_name') or 'PX4').strip()} {board}"
    return meta


def _field(topic: dict[str, np.ndarray], *names: str, scale: float = 1.0) -> np.ndarray:
    """Return the first of ``names`` as floats; integers times ``scale``; NaN when absent."""
    size = len(topic["timestamp"])
    for name in names:
        if name in topic:
            values = np.asarray(topic[name])
            factor = scale if np.issubdtype(values.dtype, np.integer) else 1.0
            return values.astype("float64") * factor
    return np.full(size, np.nan)


def _utc(topic: dict[str, np.ndarray], name: str) -> pd.Series:
    return epoch_times(_field(topic, name) / 1e6)


def _above_origin(gps_boot_us: np.ndarray, local: dict[str, np.ndarray] | None) -> np.ndarray:
    """``-z`` of the local position at each GNSS sample's boot time, NaN where unknown."""
    out = np.full(len(gps_boot_us), np.nan)
    if local is None:
        return out
    boot = _field(local, "timestamp")
    height = -_field(local, "z")
    valid = _field(local, "z_valid") != 0 if "z_valid" in local else np.isfinite(height)
    ok = valid & np.isfinite(height) & np.isfinite(boot)
    boot, height = boot[ok], height[ok]
    if len(boot) == 0 or np.any(np.diff(boot) < 0):
        return out
    inside = (gps_boot_us >= boot[0]) & (gps_boot_us <= boot[-1])
    out[inside] = np.interp(gps_boot_us[inside], boot, height)
    return out


def read_ulog(path: Path, *, time_zone: str | None = None, alt_ref: str | None = None) -> RawTrack:
    """Read the GNSS fixes of a PX4 ``.ulg`` log (see module notes).

    ``time_zone`` and ``alt_ref`` are accepted for a common reader signature and
    not used: the log says both.

    Raises
    ------
    InputError
        pyulog is missing, the log cannot be decoded, or it has no GNSS topic.
    """
    topics, meta = _read(path, [*_GPS_TOPICS, _LOCAL])
    name = next((t for t in _GPS_TOPICS if t in topics), None)
    if name is None:
        raise InputError("no vehicle_gps_position or sensor_gps topic in the PX4 ULog")
    gps = topics[name]
    fixed = _field(gps, "fix_type") >= 3
    lat = degrees(_field(gps, "latitude_deg", "lat", scale=1e-7))
    lon = degrees(_field(gps, "longitude_deg", "lon", scale=1e-7))
    agl = _above_origin(_field(gps, "timestamp"), topics.get(_LOCAL))
    frame = pd.DataFrame(
        {
            LAT: np.where(fixed, lat, np.nan),
            LON: np.where(fixed, lon, np.nan),
            TIME_UTC: _utc(gps, "time_utc_usec").array,
            ALT_AGL_M: agl,
            ALT_REF: ALT_REF_TAKEOFF,
            ALT_MSL_M: _field(gps, "altitude_msl_m", "alt", scale=1e-3),
        }
    ).astype({TIME_UTC: TIME_DTYPE})
    notes = [f"fixes from {name}; times from its time_utc_usec"]
    if np.isnan(agl).all():
        notes.append("no height above take-off (vehicle_local_position z) in the log")
    return RawTrack(frame, "px4_ulog", notes=notes, meta=meta)


def _euler(topic: dict[str, np.ndarray]) -> dict[str, Any]:
    """Roll, pitch, yaw in degrees from the topic's quaternion ``q`` (w, x, y, z)."""
    w, x, y, z = (_field(topic, f"q[{i}]") for i in range(4))
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0))
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return {
        ROLL_DEG: np.degrees(roll),
        PITCH_DEG: np.degrees(pitch),
        YAW_DEG: np.degrees(yaw) % 360.0,
    }


def ulog_camera_events(path: Path) -> pd.DataFrame:
    """Camera records (``camera_capture``) of a PX4 log, as the other logs' camera records.

    Raises
    ------
    InputError
        pyulog is missing, or the log cannot be decoded.
    """
    topic = _topics(path, [_CAMERA]).get(_CAMERA)
    if topic is None:
        empty = {name: pd.Series(dtype="float64") for name in CAMERA_COLUMNS}
        empty[TIME_UTC] = pd.Series(dtype=TIME_DTYPE)
        empty[MESSAGE] = pd.Series(dtype=object)
        return pd.DataFrame(empty, columns=CAMERA_COLUMNS)
    table = {
        TIME_UTC: _utc(topic, "timestamp_utc").array,
        LAT: degrees(_field(topic, "lat")),
        LON: degrees(_field(topic, "lon")),
        ALT_MSL_M: _field(topic, "alt"),
        ALT_AGL_M: _field(topic, "ground_distance"),
        **_euler(topic),
        MESSAGE: _CAMERA,
    }
    return pd.DataFrame(table, columns=CAMERA_COLUMNS).astype({TIME_UTC: TIME_DTYPE})
