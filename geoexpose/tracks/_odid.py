"""Open Drone ID (ASTM F3411 / ASD-STAN EN 4709-002) messages: find them, decode them.

Every Remote ID message is 25 bytes; byte 0 holds the message type (high nibble)
and the protocol version (low nibble). Several messages may travel together in a
*message pack* (type 0xF: size byte 25, count byte, then the messages).

Transports recognised (see :func:`wifi_messages` and :func:`ble_messages`):

- Wi-Fi beacon: vendor-specific element ``0xDD`` with OUI ``FA-0B-BC``, type
  ``0x0D``, then a counter byte and a message pack;
- Wi-Fi NAN: public action frame (category 4, action 9) with the Wi-Fi Alliance
  OUI ``50-6F-9A`` type ``0x13``, whose Service Descriptor Attribute carries the
  Remote ID service id ``88-69-19-9D-92-09``; its service info is a counter byte
  then a message pack;
- Bluetooth LE (legacy or extended advertising, 1M or Coded PHY): AD structure
  type ``0x16`` (service data) with UUID ``0xFFFA`` and application code ``0x0D``,
  then a counter byte and one message or a message pack.

The field decoders work on arrays of messages (``uint8``, shape ``(n, 25)``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

__all__ = [
    "BASIC_ID",
    "LOCATION",
    "MESSAGE_SIZE",
    "OPERATOR_ID",
    "SYSTEM",
    "ble_messages",
    "decode_basic_ids",
    "decode_locations",
    "decode_operator_ids",
    "decode_systems",
    "message_types",
    "unpack",
    "wifi_messages",
]

logger = logging.getLogger(__name__)

MESSAGE_SIZE = 25
BASIC_ID, LOCATION, SYSTEM, OPERATOR_ID, PACK = 0x0, 0x1, 0x4, 0x5, 0xF
_MAX_PACK = 10

_BEACON_IE = b"\xfa\x0b\xbc\x0d"  # ASD-STAN OUI + Remote ID vendor type
_NAN_OUI = b"\x50\x6f\x9a\x13"  # Wi-Fi Alliance OUI + NAN type
_NAN_SERVICE = b"\x88\x69\x19\x9d\x92\x09"  # Remote ID NAN service id
_BLE_UUID = b"\xfa\xff\x0d"  # UUID 0xFFFA (little-endian) + application code
_BLE_ADV_AA = b"\xd6\xbe\x89\x8e"  # advertising access address 0x8E89BED6

# Byte layout of the Location/Vector and System messages (little-endian, packed).
_LOCATION_DTYPE = np.dtype(
    [
        ("head", "u1"),
        ("flags", "u1"),
        ("direction", "u1"),
        ("speed_h", "u1"),
        ("speed_v", "i1"),
        ("lat", "<i4"),
        ("lon", "<i4"),
        ("alt_pressure", "<u2"),
        ("alt_geodetic", "<u2"),
        ("height", "<u2"),
        ("acc_hv", "u1"),
        ("acc_bs", "u1"),
        ("timestamp", "<u2"),
        ("acc_t", "u1"),
        ("reserved", "u1"),
    ]
)
_SYSTEM_DTYPE = np.dtype(
    [
        ("head", "u1"),
        ("flags", "u1"),
        ("lat", "<i4"),
        ("lon", "<i4"),
        ("area_count", "<u2"),
        ("area_radius", "u1"),
        ("area_ceiling", "<u2"),
        ("area_floor", "<u2"),
        ("class_eu", "u1"),
        ("alt_geodetic", "<u2"),
        ("timestamp", "<u4"),
        ("reserved", "u1"),
    ]
)
# System timestamps count seconds from 2019-01-01T00:00:00Z.
_SYSTEM_EPOCH = pd.Timestamp("2019-01-01", tz="UTC")
_INVALID_DIRECTION = 361
_INVALID_SPEED_H = 255.0
_INVALID_SPEED_V = 126  # encodes 63 m/s
_MAX_TENTHS = 36000  # one hour


def unpack(data: bytes) -> list[bytes]:
    """Split what follows the counter byte into 25-byte messages (one, or a pack).

    Returns an empty list when the bytes are too short or the pack header is
    inconsistent.
    """
    if len(data) < MESSAGE_SIZE:
        return []
    if data[0] >> 4 != PACK:
        return [bytes(data[:MESSAGE_SIZE])]
    if len(data) < 3 or data[1] != MESSAGE_SIZE or data[2] > _MAX_PACK:
        return []
    count = min(data[2], (len(data) - 3) // MESSAGE_SIZE)
    return [bytes(data[3 + i * 25 : 3 + (i + 1) * 25]) for i in range(count)]


def _mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def wifi_messages(frame: bytes) -> tuple[str | None, list[bytes]]:
    """Transmitter address and Remote ID messages of one 802.11 frame (no radiotap)."""
    if len(frame) < 24:
        return None, []
    kind = frame[0] & 0xFC  # type and subtype, protocol version bits dropped
    sender = _mac(frame[10:16])
    if kind == 0x80:  # beacon: 12 fixed bytes, then elements
        return sender, _beacon_messages(frame, 36)
    if kind == 0xD0 and frame[24:26] == b"\x04\x09" and frame[26:30] == _NAN_OUI:
        return sender, _nan_messages(frame, 30)
    return sender, []


def _beacon_messages(frame: bytes, pos: int) -> list[bytes]:
    found: list[bytes] = []
    while pos + 2 <= len(frame):
        ident, size = frame[pos], frame[pos + 1]
        body = frame[pos + 2 : pos + 2 + size]
        if ident == 0xDD and body[:4] == _BEACON_IE:
            found.extend(unpack(body[5:]))
        pos += 2 + size
    return found


def _nan_messages(frame: bytes, pos: int) -> list[bytes]:
    found: list[bytes] = []
    while pos + 3 <= len(frame):
        ident = frame[pos]
        size = int.from_bytes(frame[pos + 1 : pos + 3], "little")
        body = frame[pos + 3 : pos + 3 + size]
        if ident == 0x03 and body[:6] == _NAN_SERVICE and len(body) >= 9:
            info = _nan_service_info(body)
            if info:
                found.extend(unpack(info[1:]))
        pos += 3 + size
    return found


def _nan_service_info(body: bytes) -> bytes:
    """Service info of a NAN Service Descriptor Attribute body, or b"" when absent."""
    control, pos = body[8], 9
    if control & 0x40:  # binding bitmap
        pos += 2
    for bit in (0x04, 0x08):  # matching filter, service response filter
        if control & bit:
            if pos >= len(body):
                return b""
            pos += 1 + body[pos]
    if not control & 0x10 or pos >= len(body):
        return b""
    return body[pos + 1 : pos + 1 + body[pos]]


def ble_messages(packet: bytes, *, phdr: int | None) -> tuple[str | None, list[bytes]]:
    """Advertiser address and Remote ID messages of one Bluetooth LE link-layer packet.

    Packets whose CRC is captured and wrong (radio bit errors) give no messages.

    Parameters
    ----------
    packet
        The captured bytes.
    phdr
        Bytes before the access address, or None to look for the advertising
        access address in the first 36 bytes (capture headers of varying size,
        such as the nRF Sniffer's).
    """
    start = packet.find(_BLE_ADV_AA, 0, 36) if phdr is None else phdr
    if start < 0 or packet[start : start + 4] != _BLE_ADV_AA:
        return None, []
    pdu = _ble_pdu(packet[start + 4 :])
    if pdu is None:
        return None, []
    kind, body, crc = pdu
    if kind in (0, 2, 4, 6):  # ADV_IND, ADV_NONCONN_IND, SCAN_RSP, ADV_SCAN_IND
        address, data = body[:6], body[6:]
    elif kind == 7 and body:  # extended advertising (AUX_ADV_IND, AUX_CHAIN_IND, ...)
        size = body[0] & 0x3F
        header, data = body[1 : 1 + size], body[1 + size :]
        address = header[1:7] if header and header[0] & 0x01 else b""
    else:
        return None, []
    found = _ad_messages(data)
    if found and crc is not None and _crc24(crc[0]) != crc[1]:
        return None, []
    sender = _mac(address[::-1]) if len(address) == 6 else None
    return sender, found


def _ble_pdu(rest: bytes) -> tuple[int, bytes, tuple[bytes, int] | None] | None:
    """PDU type, payload and (PDU, captured CRC) when the CRC was captured.

    A Coded-PHY capture may put a coding-indicator byte before the PDU header.
    """
    for skip in (0, 1):
        if len(rest) < skip + 2:
            return None
        size = rest[skip + 1]
        pdu = rest[skip : skip + 2 + size]
        trailing = len(rest) - skip - 2 - size
        if trailing == 0:
            return pdu[0] & 0x0F, pdu[2:], None
        if trailing == 3:
            return pdu[0] & 0x0F, pdu[2:], (pdu, int.from_bytes(rest[-3:], "little"))
    return None


def _crc_table() -> tuple[int, ...]:
    """Byte table of the Bluetooth LE CRC-24 (polynomial 0x65B, bit-reflected)."""
    table = []
    for byte in range(256):
        value = byte
        for _ in range(8):
            value = (value >> 1) ^ 0xDA6000 if value & 1 else value >> 1
        table.append(value)
    return tuple(table)


_CRC_TABLE = _crc_table()


def _crc24(pdu: bytes) -> int:
    """CRC-24 of an advertising-channel PDU (preset 0x555555), as captured (LSB first)."""
    value = 0xAAAAAA  # the preset 0x555555, bit-reflected
    for byte in pdu:
        value = (value >> 8) ^ _CRC_TABLE[(value ^ byte) & 0xFF]
    return value


def _ad_messages(data: bytes) -> list[bytes]:
    found: list[bytes] = []
    pos = 0
    while pos < len(data) and data[pos] > 0:
        size = data[pos]
        item = data[pos + 1 : pos + 1 + size]
        if item[:1] == b"\x16" and item[1:4] == _BLE_UUID:
            found.extend(unpack(item[5:]))
        pos += 1 + size
    return found


def message_types(messages: np.ndarray) -> np.ndarray:
    """Message type (0-15) of each row of a ``(n, 25)`` uint8 array."""
    return (messages[:, 0] >> 4).astype(np.int64)


def _view(messages: np.ndarray, dtype: np.dtype) -> np.ndarray:
    return np.ascontiguousarray(messages, dtype=np.uint8).view(dtype).reshape(-1)


def _altitude(encoded: np.ndarray) -> np.ndarray:
    """Altitudes are ``value / 2 - 1000`` metres; 0 (-1000 m) means unknown."""
    return np.where(encoded == 0, np.nan, encoded.astype("float64") / 2.0 - 1000.0)


def _text(raw: np.ndarray) -> pd.Series:
    """ASCII fields (NUL-padded) to text; non-printable bytes become U+FFFD."""
    values = pd.Series(np.ascontiguousarray(raw).view(f"S{raw.shape[1]}").reshape(-1))
    return values.str.decode("ascii", errors="replace").str.strip()


def decode_locations(messages: np.ndarray) -> pd.DataFrame:
    """Decode Location/Vector messages (type 1) into physical units.

    Columns: ``status`` (0 undeclared, 1 ground, 2 airborne, 3 emergency, 4 system
    failure), ``height_type`` (0 above takeoff, 1 above ground), ``direction_deg``
    (course over ground), ``speed_h_m_s``, ``speed_v_m_s``, ``lat``, ``lon``,
    ``alt_pressure_m`` (pressure altitude, 1013.25 hPa), ``alt_geodetic_m``
    (WGS-84 ellipsoid height), ``height_m``, ``seconds_past_hour`` (UTC). Unknown
    values are NaN, except unknown positions, which stay 0/0.
    """
    rec = _view(messages, _LOCATION_DTYPE)
    flags = rec["flags"].astype(np.int64)
    direction = rec["direction"].astype(np.int64) + np.where(flags & 0x02, 180, 0)
    speed_raw = rec["speed_h"].astype("float64")
    speed_h = np.where(flags & 0x01, speed_raw * 0.75 + 63.75, speed_raw * 0.25)
    speed_v = rec["speed_v"].astype(np.int64)
    tenths = rec["timestamp"].astype(np.int64)
    return pd.DataFrame(
        {
            "status": flags >> 4,
            "height_type": (flags >> 2) & 0x01,
            "direction_deg": np.where(direction >= _INVALID_DIRECTION, np.nan, direction),
            "speed_h_m_s": np.where(speed_h >= _INVALID_SPEED_H, np.nan, speed_h),
            "speed_v_m_s": np.where(speed_v == _INVALID_SPEED_V, np.nan, speed_v * 0.5),
            "lat": rec["lat"] * 1e-7,
            "lon": rec["lon"] * 1e-7,
            "alt_pressure_m": _altitude(rec["alt_pressure"]),
            "alt_geodetic_m": _altitude(rec["alt_geodetic"]),
            "height_m": _altitude(rec["height"]),
            "seconds_past_hour": np.where(tenths > _MAX_TENTHS, np.nan, tenths / 10.0),
        }
    )


def decode_basic_ids(messages: np.ndarray) -> pd.DataFrame:
    """Decode Basic ID messages (type 0): ``id_type``, ``ua_type``, ``uas_id``.

    Serial numbers (ID type 1) and CAA registrations (2) are text; UTM UUIDs (3)
    and specific session IDs (4) are binary and given as hexadecimal.
    """
    raw = np.ascontiguousarray(messages, dtype=np.uint8)
    id_type = (raw[:, 1] >> 4).astype(np.int64)
    uas_id = _text(raw[:, 2:22]).to_numpy(dtype=object)
    binary = np.flatnonzero(np.isin(id_type, (3, 4)))
    uas_id[binary] = [raw[i, 2:22].tobytes().rstrip(b"\x00").hex() for i in binary]
    return pd.DataFrame(
        {"id_type": id_type, "ua_type": (raw[:, 1] & 0x0F).astype(np.int64), "uas_id": uas_id}
    )


def decode_systems(messages: np.ndarray) -> pd.DataFrame:
    """Decode System messages (type 4): operator position, area and time.

    Columns: ``operator_location_type`` (0 takeoff, 1 live GNSS, 2 fixed),
    ``operator_lat``, ``operator_lon``, ``operator_alt_geodetic_m`` (WGS-84
    ellipsoid), ``area_count``, ``area_radius_m``, ``area_ceiling_m``,
    ``area_floor_m``, ``system_time_utc`` (NaT when unknown).
    """
    rec = _view(messages, _SYSTEM_DTYPE)
    stamp = rec["timestamp"].astype("float64")
    times = _SYSTEM_EPOCH + pd.to_timedelta(np.where(stamp == 0, np.nan, stamp), unit="s")
    return pd.DataFrame(
        {
            "operator_location_type": (rec["flags"] & 0x03).astype(np.int64),
            "operator_lat": rec["lat"] * 1e-7,
            "operator_lon": rec["lon"] * 1e-7,
            "operator_alt_geodetic_m": _altitude(rec["alt_geodetic"]),
            "area_count": rec["area_count"].astype(np.int64),
            "area_radius_m": rec["area_radius"].astype("float64") * 10.0,
            "area_ceiling_m": _altitude(rec["area_ceiling"]),
            "area_floor_m": _altitude(rec["area_floor"]),
            "system_time_utc": times,
        }
    )


def decode_operator_ids(messages: np.ndarray) -> pd.DataFrame:
    """Decode Operator ID messages (type 5): ``operator_id_type``, ``operator_id``."""
    raw = np.ascontiguousarray(messages, dtype=np.uint8)
    return pd.DataFrame(
        {
            "operator_id_type": raw[:, 1].astype(np.int64),
            "operator_id": _text(raw[:, 2:22]).to_numpy(dtype=object),
        }
    )
