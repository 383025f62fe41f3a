"""Read DJI's native flight records (``DJIFlightRecord_*.txt``, binary despite the name).

Layout (little-endian throughout): a prefix (12 bytes for log versions 1-5, 100
bytes from version 6) whose first fields are ``detail_offset: u64``,
``detail_length: u16`` and ``version: u8``; then records; then the details block
(versions up to 11; version 12 puts it right after the prefix; from version 13 it
sits, XOR-encoded, in an "auxiliary" block after the prefix and the records follow
it). The details block holds the flight's start time (UTC, ms since 1970), the
home point (degrees), totals, the aircraft's name, product type and serials.

Each record is ``type: u8, length: u8 (u16 from version 13), payload, 0xFF``.
Records of versions 1-6 are plain and decoded here: OSD records (type 1: longitude
and latitude in radians as f64, height above takeoff as i16 decimetres, speeds
and angles as i16 tenths), gimbal records (type 3: pitch, roll, yaw as i16 tenths
of degrees) and "custom" records (type 5: the UTC clock, ms since 1970). One fix
per OSD record, timed by the custom record that follows it (as DJI's own apps
group them). Versions 7-12 XOR-encode each record and versions 13 and later also
AES-encrypt them with keys that only DJI's online service hands out, so their
fixes are not read: :func:`read_dji_txt` says which export to use instead, and
:func:`read_dji_txt_header` still reads the details (which identify the flight).
A record is read whole: one over :data:`geoexpose._limits.MAX_RECORD_BYTES` (1 GiB;
an hour's record is 10-30 MB) is refused before it is read.
"""

from __future__ import annotations

import logging
import math
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._limits import LimitError, check_file_bytes
from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    LAT,
    LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_dji_txt", "read_dji_txt_header", "sniff_dji_txt"]

logger = logging.getLogger(__name__)

_OLD_PREFIX, _PREFIX = 12, 100
_MAX_VERSION = 20  # highest version byte taken as plausible (14 seen in 2024 logs)
_LAST_PLAIN = 6  # records of versions up to this one are not encoded
_DETAILS_SIZE = 436
_OSD, _HOME, _GIMBAL, _CUSTOM = 1, 2, 3, 5
_MIN_MS, _MAX_MS = 1_000_000_000_000, 4_102_444_800_000  # 2001-09-09 .. 2100-01-01
_EXPORT_HINT = (
    "upload it to AirData (airdata.com) or PhantomHelp's DJI Flight Log Viewer "
    "(phantomhelp.com/logviewer), export the flight as CSV and read that CSV instead"
)
#: DJI product-type codes of the details block (a few common ones; others by number).
_PRODUCTS = {
    1: "Inspire 1", 2: "Phantom 3 Standard", 3: "Phantom 3 Advanced", 4: "Phantom 3 Pro",
    7: "Phantom 4", 13: "Mavic Pro", 17: "Inspire 2", 24: "Phantom 4 Pro", 26: "Spark",
    28: "Phantom 4 Advanced", 38: "Mavic Air", 42: "Mavic 2", 44: "Phantom 4 Pro V2",
    46: "Phantom 4 RTK", 58: "Mavic 2 Enterprise", 59: "Mavic Mini", 67: "Mavic Air 2",
    70: "Matrice 300 RTK", 73: "FPV", 75: "Air 2S", 76: "Mini 2", 77: "Mavic 3",
    96: "Mini SE", 103: "Mini 3 Pro", 111: "Mavic 3 Pro", 116: "Matrice 30",
    118: "Mavic 3 Enterprise", 121: "Avata", 126: "Mini 4 Pro", 152: "Avata 2",
    170: "Matrice 350 RTK",
}  # fmt: skip


def _prefix(head: bytes, size: int) -> tuple[int, int] | None:
    """Return (version, detail_offset) when the prefix looks like a flight record's."""
    if len(head) < _OLD_PREFIX or size < _OLD_PREFIX:
        return None
    detail_offset, _length, version = struct.unpack_from("<QHB", head)
    if not 1 <= version <= _MAX_VERSION:
        return None
    records = _OLD_PREFIX if version < _LAST_PLAIN else _PREFIX
    if version >= 13:
        # the offset is where records start, after the auxiliary blocks (magic 0)
        plausible = _PREFIX < detail_offset <= size and len(head) > _PREFIX and head[_PREFIX] == 0
    else:
        # a truncated file may end before its details: allow offsets past the end
        plausible = records <= detail_offset < 1 << 32 and size >= records
    if version < _LAST_PLAIN and len(head) > _OLD_PREFIX:
        plausible = plausible and 1 <= head[_OLD_PREFIX] <= 62  # a record type
    return (version, detail_offset) if plausible else None


def sniff_dji_txt(head: bytes, path: Path) -> bool:
    """Whether a file is a DJI flight record: ``.txt`` name and a plausible prefix."""
    if path.suffix.lower() != ".txt":
        return False
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return _prefix(head, size) is not None


def _crc64(seed: int, data: bytes) -> int:
    """CRC-64 (Jones polynomial, reflected, no final inversion) of ``data`` from ``seed``."""
    crc = seed
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x95AC9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc


def _xor_decode(block: bytes, record_type: int) -> bytes:
    """Undo DJI's per-record XOR encoding (versions 7 and later) of ``block``."""
    if not block:
        return b""
    first = block[0]
    seed = ((0x123456789ABCDEF0 * first) & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    key = np.frombuffer(_crc64((first + record_type) & 0xFF, seed).to_bytes(8, "little"), "u1")
    body = np.frombuffer(block[1:], dtype="u1")
    return (body ^ np.resize(key, len(body))).tobytes()


def _details_bytes(data: bytes, version: int, detail_offset: int) -> bytes | None:
    """Return the details block, zero-padded, or None where the file does not hold it."""
    if version >= 13:
        if len(data) < _PREFIX + 3 or data[_PREFIX] != 0:
            return None
        (length,) = struct.unpack_from("<H", data, _PREFIX + 1)
        block = _xor_decode(data[_PREFIX + 3 : _PREFIX + 3 + length], 0)
        if len(block) < 3:
            return None
        (info_length,) = struct.unpack_from("<H", block, 1)
        details = block[3 : 3 + info_length]
    else:
        start = _PREFIX if version == 12 else detail_offset
        details = data[start : start + _DETAILS_SIZE]
    if len(details) < 115:  # not even the start time and home point
        return None
    return details.ljust(_DETAILS_SIZE, b"\0")


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()


def _parse_details(det: bytes, version: int) -> dict[str, Any]:
    """Decode the details block (offsets as laid out by DJI's apps)."""
    start_ms, lon, lat = struct.unpack_from("<qdd", det, 91)
    distance, time_ms, max_height, max_h, max_v, photos = struct.unpack_from("<fifffi", det, 115)
    (video_s,) = struct.unpack_from("<q", det, 139)
    if version <= 5:  # older, shorter layout of the identity fields
        (takeoff_alt,) = struct.unpack_from("<f", det, 352)
        product, name = det[277], _text(det[278:302])
        serials = [_text(det[at : at + 10]) for at in (267, 318, 328, 338)]
        app = det[349:352]
    else:
        (takeoff_alt,) = struct.unpack_from("<f", det, 267)
        product, name = det[271], _text(det[280:312])
        serials = [_text(det[at : at + 16]) for at in (312, 328, 344, 360)]
        app = det[377:380]
    start = None
    if _MIN_MS <= start_ms <= _MAX_MS:
        start = pd.Timestamp(start_ms, unit="ms", tz="UTC")
    home_ok = math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180
    home_ok = home_ok and (lat, lon) != (0.0, 0.0)

    def finite(value: float) -> float | None:
        return round(float(value), 3) if math.isfinite(value) else None

    return {
        "aircraft": name or None,
        "product": _PRODUCTS.get(product, f"product type {product}" if product else None),
        "serial": serials[0] or None,
        "camera_serial": serials[1] or None,
        "rc_serial": serials[2] or None,
        "battery_serial": serials[3] or None,
        "start_time_utc": start,
        "home_lat": float(lat) if home_ok else None,
        "home_lon": float(lon) if home_ok else None,
        "city": _text(det[40:60]) or None,
        "total_time_s": time_ms / 1000.0,
        "total_distance_m": finite(distance),
        "max_height_m": finite(max_height),
        "max_horizontal_speed_m_s": finite(max_h),
        "max_vertical_speed_m_s": finite(max_v),
        "photo_count": int(photos),
        "video_time_s": int(video_s),
        "takeoff_altitude_m": finite(takeoff_alt),
        "app_version": ".".join(str(b) for b in app),
    }


def _header(data: bytes) -> tuple[dict[str, Any], int]:
    found = _prefix(data[: _PREFIX + 1], len(data))
    if found is None:
        raise InputError("not a DJI flight record (no DJIFlightRecord prefix)")
    version, detail_offset = found
    header: dict[str, Any] = {"version": version, "encrypted": version >= 13}
    details = _details_bytes(data, version, detail_offset)
    header["details_read"] = details is not None
    if details is not None:
        header.update(_parse_details(details, version))
    return header, detail_offset


def read_dji_txt_header(path: Path) -> dict[str, Any]:
    """Read the prefix and details of a DJI flight record (any version, offline).

    Returns
    -------
    dict
        ``version``, ``encrypted`` (records need DJI's online keys),
        ``details_read`` (False where the file ends before its details); and,
        where read: ``aircraft`` (the name set in the app), ``product``,
        ``serial``, ``camera_serial``, ``rc_serial``, ``battery_serial``,
        ``start_time_utc`` (pandas Timestamp), ``home_lat``, ``home_lon``
        (degrees, None where not recorded), ``city``, ``total_time_s``,
        ``total_distance_m``, ``max_height_m``, ``max_horizontal_speed_m_s``,
        ``max_vertical_speed_m_s``, ``photo_count``, ``video_time_s``,
        ``takeoff_altitude_m``, ``app_version``.

    Raises
    ------
    InputError
        The file is not a DJI flight record.
    """
    return _header(_read(Path(path)))[0]


def _read(path: Path) -> bytes:
    """Read a flight record whole, refusing one over the size bound first."""
    try:
        check_file_bytes(path, what="DJI flight record")
    except LimitError as exc:
        raise InputError(str(exc)) from exc
    return path.read_bytes()


def _describe(header: dict[str, Any]) -> str:
    parts = []
    product, name = header.get("product"), header.get("aircraft")
    if product or name:
        what = str(product or name)
        if product and name and product.lower() not in name.lower():
            what = f"{product} named {name!r}"
        if header.get("serial"):
            what += f" (serial {header['serial']})"
        parts.append(f"aircraft {what}")
    if header.get("start_time_utc") is not None:
        parts.append(f"start {header['start_time_utc'].strftime('%Y-%m-%dT%H:%M:%SZ')}")
    if header.get("home_lat") is not None:
        parts.append(f"home {header['home_lat']:.5f}, {header['home_lon']:.5f}")
    return "; ".join(parts) if parts else "header not readable"


def _next_ff(a: np.ndarray) -> np.ndarray:
    """For each index, the index of the first 0xFF at or after it (len(a) where none)."""
    n = len(a)
    where = np.where(a == 0xFF, np.arange(n, dtype=np.int32), np.int32(n))
    return np.minimum.accumulate(where[::-1])[::-1]


def _record_starts(a: np.ndarray) -> np.ndarray:
    """Start offsets of the records in ``a`` (``type, u8 length, payload, 0xFF``).

    Every offset gets the offset of the record after it (a record that does not end
    in 0xFF is skipped up to the next 0xFF, where DJI's readers resume too); the
    chain from offset 0 is then followed by pointer doubling, without a loop over
    records.
    """
    n = len(a)
    if n < 3 or n >= 2**31 - 300:
        return np.zeros(0, dtype=np.int32)
    index = np.arange(n, dtype=np.int32)  # int32: half the memory on large logs
    length = np.append(a[1:], 0).astype(np.int32)
    end = index + 2 + length
    closed = np.zeros(n, dtype=bool)
    inside = end < n
    closed[inside] = a[end[inside]] == 0xFF
    after_ff = np.append(_next_ff(a), n)[np.minimum(index + 1, n)] + 1
    nxt = np.where(closed, end + 1, np.minimum(after_ff, n))
    jump = np.append(nxt, n)
    on = np.zeros(n + 1, dtype=bool)
    on[0] = True
    for _ in range(max(1, int(n).bit_length())):  # covers every chain of up to n links
        on[jump[on]] = True
        jump = jump[jump]
    starts = np.flatnonzero(on[:n])
    return starts[closed[starts]]


def _field(a: np.ndarray, at: np.ndarray, dtype: str) -> np.ndarray:
    """Values of ``dtype`` read at byte offsets ``at`` of ``a``."""
    width = np.dtype(dtype).itemsize
    return a[at[:, None] + np.arange(width)].copy().view(dtype).ravel()


def _decode_records(data: bytes, start: int, stop: int) -> pd.DataFrame:
    a = np.frombuffer(data[start:stop], dtype=np.uint8)
    starts = _record_starts(a)
    kind, length = a[starts], a[np.minimum(starts + 1, len(a) - 1)]
    osd = starts[(kind == _OSD) & (length >= 30)] + 2
    custom = starts[(kind == _CUSTOM) & (length >= 18)] + 2
    gimbal = starts[(kind == _GIMBAL) & (length >= 6)] + 2
    # a fix takes the custom/gimbal record last seen before the next OSD record
    upto = np.append(osd[1:], len(a))
    ms = _field(a, custom + 10, "<i8")
    ci = np.searchsorted(custom, upto) - 1
    stamp = np.where(ci >= 0, ms[np.maximum(ci, 0)] if len(ms) else 0, 0)
    ok = (stamp >= _MIN_MS) & (stamp <= _MAX_MS)
    ns = np.where(ok, stamp, 0) * 1_000_000
    times = pd.Series(pd.to_datetime(ns, unit="ns", utc=True)).where(ok).astype(TIME_DTYPE)
    frame = pd.DataFrame({LON: np.degrees(_field(a, osd, "<f8"))})
    frame[LAT] = np.degrees(_field(a, osd + 8, "<f8"))
    frame[TIME_UTC] = times
    tenths = np.column_stack([_field(a, osd + 16 + 2 * k, "<i2") for k in range(7)]) / 10.0
    frame[ALT_AGL_M] = tenths[:, 0]
    frame[ALT_REF] = ALT_REF_TAKEOFF
    frame[ALT_MSL_M] = np.nan
    frame[SPEED_M_S] = np.hypot(tenths[:, 1], tenths[:, 2])
    frame[YAW_DEG] = tenths[:, 6]
    gi = np.searchsorted(gimbal, upto) - 1
    have = gi >= 0
    for name, at in ((GIMBAL_PITCH_DEG, 0), (GIMBAL_YAW_DEG, 4)):
        values = _field(a, gimbal + at, "<i2") / 10.0
        frame[name] = np.where(have, values[np.maximum(gi, 0)] if len(values) else 0, np.nan)
    return frame


def read_dji_txt(
    path: Path, *, time_zone: str | None = None, alt_ref: str | None = None
) -> RawTrack:
    """Read the fixes of a DJI flight record of log version 1-6.

    Parameters
    ----------
    path
        The ``DJIFlightRecord_*.txt`` file.
    time_zone, alt_ref
        Not used: the records carry UTC times, and heights above the takeoff
        point (``alt_ref="takeoff"``; ``alt_msl_m`` is left empty since the home
        altitude DJI records is not reliably above sea level).

    Raises
    ------
    InputError
        Not a DJI flight record, or a version whose records are encoded (7-12)
        or encrypted (13 and later): the one-line message gives the version, the
        aircraft, start time and home point where the details could be read, and
        which export to use instead.
    """
    del time_zone, alt_ref  # the records say what they hold
    data = _read(Path(path))
    header, detail_offset = _header(data)
    version = header["version"]
    if version > _LAST_PLAIN:
        why = "encrypted with keys only DJI's online service gives" if version >= 13 else (
            "encoded; not decoded by geoexpose yet"
        )  # fmt: skip
        raise InputError(
            f"DJI flight record version {version}: records {why} ({_describe(header)}); "
            f"{_EXPORT_HINT}"
        )
    start = _OLD_PREFIX if version < _LAST_PLAIN else _PREFIX
    frame = _decode_records(data, start, min(detail_offset, len(data)))
    if frame.empty:
        raise InputError(
            f"DJI flight record version {version}: no position records ({_describe(header)})"
        )
    notes = [f"DJI flight record version {version}; {_describe(header)}"]
    if not header["details_read"]:
        notes.append("file ends before its details block (truncated?)")
    meta = {}
    if header.get("product") or header.get("aircraft"):
        meta["aircraft"] = str(header.get("product") or header.get("aircraft"))
    if header.get("serial"):
        meta["serial"] = str(header["serial"])
    return RawTrack(frame, "dji_txt", {}, "utc", notes, meta=meta)
