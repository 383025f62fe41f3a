"""Turn the Remote ID messages of a packet capture into drone tracks.

Remote ID (ASTM F3411 / Open Drone ID) messages are found in the capture
(``.pcap`` or ``.pcapng``) by :mod:`geoexpose.tracks._pcap` and decoded by
:mod:`geoexpose.tracks._odid`.

Every Location/Vector message is one fix of a third-party drone:

- ``lat``/``lon`` as broadcast (1e-7 degree);
- ``alt_agl_m`` = the broadcast *height*, with ``alt_ref`` ``"takeoff"`` or
  ``"ground"`` as its height-type bit says (the message states its reference, so
  the ``alt_ref`` option is not needed);
- ``alt_msl_m`` is left empty: the broadcast *geodetic altitude* is height above
  the WGS-84 ellipsoid, which differs from mean sea level by the geoid
  undulation (-106 to +85 m); it and the pressure altitude are in
  :func:`read_remote_id_messages`;
- ``time_utc``: the message's own time (tenths of a second past the full UTC
  hour) placed in the hour of the packet's capture time, when the two agree
  within :data:`CLOCK_TOLERANCE_S`; else the capture time (the receiver's clock).
  a message repeated (same bytes) within :data:`REPEAT_WINDOW_S` of its first
  reception is read once, at that first reception;
- ``speed_m_s`` = horizontal ground speed;
- ``segment`` numbers the drones: one per UAS ID of the Basic ID messages (a
  serial number first), or per transmitter address where no Basic ID was heard.
  The RawTrack notes list which drone each segment is, and ``drone_id`` holds it
  on every fix (so a drone's fixes make its own flights);
- ``operator_lon``/``operator_lat``: the remote pilot's position from the same
  drone's System message nearest in capture time, within
  :data:`OPERATOR_WINDOW_S` (empty where none, or where it is 0/0: unknown);
- ``operator_id``: the drone's Operator ID message (the first non-empty one heard),
  empty where none was heard.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    DRONE_ID,
    LAT,
    LON,
    OPERATOR_LAT,
    OPERATOR_LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.schema import OPERATOR_ID as OPERATOR_ID_COLUMN
from geoexpose.tracks._odid import (
    BASIC_ID,
    LOCATION,
    MESSAGE_SIZE,
    OPERATOR_ID,
    SYSTEM,
    decode_basic_ids,
    decode_locations,
    decode_operator_ids,
    decode_systems,
    message_types,
)
from geoexpose.tracks._pcap import NAT, Capture, scan_capture
from geoexpose.tracks.normalize import SEGMENT, RawTrack

__all__ = [
    "CLOCK_TOLERANCE_S",
    "OPERATOR_WINDOW_S",
    "REPEAT_WINDOW_S",
    "read_remote_id",
    "read_remote_id_messages",
    "read_remote_id_operators",
]

logger = logging.getLogger(__name__)

#: Largest difference (s) between a message's own time and its capture time for
#: the message's time to be used.
CLOCK_TOLERANCE_S = 30.0

#: Equal Location messages of a drone heard within this many seconds are one fix.
REPEAT_WINDOW_S = 2.0

#: Largest capture-time distance (s) between a fix and the System message that
#: gives its operator position.
OPERATOR_WINDOW_S = 60.0

SENDER = "sender"
PACKET_TIME_UTC = "packet_time_utc"
_HOUR_NS = 3_600 * 10**9


def _drone_ids(senders: np.ndarray, types: np.ndarray, messages: np.ndarray) -> np.ndarray:
    """Drone of each message: the sender's UAS ID (serial first), else its address."""
    codes, unique = pd.factorize(pd.Series(senders, dtype=object), use_na_sentinel=False)
    names = np.array(
        ["unknown transmitter" if u is None else u for u in unique.tolist()], dtype=object
    )
    basic = decode_basic_ids(messages[types == BASIC_ID])
    sender = codes[types == BASIC_ID]
    rank = np.where(basic["id_type"].to_numpy() > 0, basic["id_type"].to_numpy(), 99)
    usable = np.flatnonzero(basic["uas_id"].to_numpy() != "")
    order = usable[np.lexsort((rank[usable], sender[usable]))[::-1]]  # best last, per sender
    names[sender[order]] = basic["uas_id"].to_numpy()[order]  # the last write wins
    return names[codes]


def _decoded(path: Path) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, Capture]:
    """All messages of a capture: (per-message frame, message array, types, scan)."""
    scan = scan_capture(path)
    if not scan.messages:
        kinds = ", ".join(str(k) for k in sorted(scan.link_types)) or "none"
        raise InputError(
            f"no Remote ID (Open Drone ID) messages in the capture "
            f"({scan.packets} packets, link types {kinds})"
        )
    messages = np.frombuffer(b"".join(scan.messages), dtype=np.uint8).reshape(-1, MESSAGE_SIZE)
    types = message_types(messages)
    senders = np.array(scan.senders, dtype=object)
    frame = pd.DataFrame(
        {
            PACKET_TIME_UTC: pd.to_datetime(np.array(scan.times_ns, dtype=np.int64), utc=True),
            SENDER: senders,
            DRONE_ID: _drone_ids(senders, types, messages),
        }
    )
    return frame, messages, types, scan


def _message_times(packet: pd.Series, seconds: np.ndarray) -> tuple[pd.Series, np.ndarray]:
    """Message times from seconds past the hour, placed in the packet's hour (nearest)."""
    packet_ns = packet.to_numpy(dtype="datetime64[ns]").view(np.int64)
    hour = packet_ns // _HOUR_NS * _HOUR_NS
    own = hour + np.nan_to_num(seconds * 1e9).astype(np.int64)
    own -= np.where(own - packet_ns > _HOUR_NS // 2, _HOUR_NS, 0)
    own += np.where(packet_ns - own > _HOUR_NS // 2, _HOUR_NS, 0)
    agree = ~np.isnan(seconds) & (np.abs(own - packet_ns) <= CLOCK_TOLERANCE_S * 1e9)
    times = pd.to_datetime(np.where(agree, own, packet_ns), utc=True)
    return pd.Series(times, index=packet.index).astype(TIME_DTYPE), agree


def _locations(path: Path) -> tuple[pd.DataFrame, Capture]:
    frame, messages, types, scan = _decoded(path)
    return _located(frame, messages, types), scan


def _located(frame: pd.DataFrame, messages: np.ndarray, types: np.ndarray) -> pd.DataFrame:
    is_location = types == LOCATION
    located = frame[is_location].reset_index(drop=True)
    fields = decode_locations(messages[is_location])
    times, agree = _message_times(located[PACKET_TIME_UTC], fields["seconds_past_hour"].to_numpy())
    out = pd.concat([located, fields], axis=1)
    out.insert(0, TIME_UTC, times)
    out["message_time_used"] = agree
    out["raw"] = [row.tobytes().hex() for row in messages[is_location]]
    return out


def _operators_at(fixes: pd.DataFrame, systems: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the operator lon/lat of each fix: its drone's System message nearest in time."""
    lon = np.full(len(fixes), np.nan)
    lat = np.full(len(fixes), np.nan)
    op_lat, op_lon = systems["operator_lat"].to_numpy(), systems["operator_lon"].to_numpy()
    sys_ns = systems[PACKET_TIME_UTC].to_numpy(dtype="datetime64[ns]").view(np.int64)
    fix_ns = fixes[PACKET_TIME_UTC].to_numpy(dtype="datetime64[ns]").view(np.int64)
    usable = (
        (sys_ns != NAT)
        & ~((op_lat == 0) & (op_lon == 0))
        & (np.abs(op_lat) <= 90)
        & (np.abs(op_lon) <= 180)
    )
    sys_drone = systems[DRONE_ID].to_numpy(dtype=object)
    fix_drone = fixes[DRONE_ID].to_numpy(dtype=object)
    window_ns = OPERATOR_WINDOW_S * 1e9
    for drone in pd.unique(sys_drone[usable]):
        mine = np.flatnonzero(usable & (sys_drone == drone))
        mine = mine[np.argsort(sys_ns[mine], kind="stable")]
        times = sys_ns[mine]
        rows = np.flatnonzero((fix_drone == drone) & (fix_ns != NAT))
        after = np.minimum(np.searchsorted(times, fix_ns[rows]), len(times) - 1)
        before = np.maximum(after - 1, 0)
        gap_after = np.abs(times[after] - fix_ns[rows])
        gap_before = np.abs(fix_ns[rows] - times[before])
        nearest = np.where(gap_before <= gap_after, before, after)
        gap = np.minimum(gap_before, gap_after)
        near = gap <= window_ns
        lon[rows[near]] = op_lon[mine[nearest[near]]]
        lat[rows[near]] = op_lat[mine[nearest[near]]]
    return lon, lat


def read_remote_id_messages(path: Path) -> pd.DataFrame:
    """Every Location/Vector message of a capture, decoded, in capture order.

    Returns
    -------
    pandas.DataFrame
        ``time_utc`` (see module notes), ``packet_time_utc`` (capture clock),
        ``sender`` (transmitter MAC / advertiser address), ``drone_id``, the
        fields of :func:`geoexpose.tracks._odid.decode_locations`, ``message_time_used``
        (whether ``time_utc`` is the message's own time) and ``raw`` (the 25
        bytes in hexadecimal); repeats are kept.

    Raises
    ------
    InputError
        Not a capture, or no Remote ID message in it.
    """
    return _locations(path)[0]


def _repeats(found: pd.DataFrame) -> np.ndarray:
    """Flag re-broadcasts of a drone's Location message (see :data:`REPEAT_WINDOW_S`).

    A message equal to the drone's previous one, heard within the window of the
    first reception of that run of equal messages, is a repeat.
    """
    drone = pd.factorize(found[DRONE_ID])[0]
    order = np.argsort(drone, kind="stable")
    raw = found["raw"].to_numpy(dtype=object)[order]
    ns = found[PACKET_TIME_UTC].to_numpy(dtype="datetime64[ns]").view(np.int64)[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (raw[1:] != raw[:-1]) | (drone[order][1:] != drone[order][:-1])
    start = np.maximum.accumulate(np.where(new_run, np.arange(len(order)), 0))
    bucket = (ns - ns[start]) // int(REPEAT_WINDOW_S * 1e9)
    repeat = np.zeros(len(order), dtype=bool)
    repeat[1:] = ~new_run[1:] & (bucket[1:] == bucket[:-1])
    out = np.zeros(len(order), dtype=bool)
    out[order] = repeat
    return out


def read_remote_id(
    path: Path, *, time_zone: str | None = None, alt_ref: str | None = None
) -> RawTrack:
    """Read the drone positions broadcast in a Remote ID capture (see module notes).

    Parameters
    ----------
    path
        A ``.pcap`` or ``.pcapng`` file.
    time_zone, alt_ref
        Not used: capture times are UTC and every message states its height
        reference.

    Raises
    ------
    InputError
        Not a capture, or no Location message in it.
    """
    del time_zone, alt_ref
    decoded, messages, types, scan = _decoded(path)
    found = _located(decoded, messages, types)
    if found.empty:
        raise InputError("the capture has Remote ID messages but no Location message")
    repeat = _repeats(found)
    fixes = found[~repeat].reset_index(drop=True)
    segment, drones = pd.factorize(fixes[DRONE_ID])
    systems = decoded[types == SYSTEM].reset_index(drop=True)
    systems = pd.concat([systems, decode_systems(messages[types == SYSTEM])], axis=1)
    operator_lon, operator_lat = _operators_at(fixes, systems)
    frame = pd.DataFrame(
        {
            LAT: fixes["lat"],
            LON: fixes["lon"],
            TIME_UTC: fixes[TIME_UTC],
            ALT_AGL_M: fixes["height_m"],
            ALT_REF: np.where(fixes["height_type"] == 1, ALT_REF_GROUND, ALT_REF_TAKEOFF),
            ALT_MSL_M: np.nan,
            SEGMENT: segment.astype(np.int64),
            SPEED_M_S: fixes["speed_h_m_s"],
            DRONE_ID: fixes[DRONE_ID].astype(str).to_numpy(dtype=object),
            OPERATOR_LON: operator_lon,
            OPERATOR_LAT: operator_lat,
            OPERATOR_ID_COLUMN: fixes[DRONE_ID].map(_operator_ids(decoded, messages, types)),
        }
    )
    own = int(fixes["message_time_used"].sum())
    notes = [f"segment {number} = drone {drone!r}" for number, drone in enumerate(drones.tolist())]
    notes.append(
        f"{len(found)} Location messages, {int(repeat.sum())} repeats read once; "
        f"time from the message for {own} fixes, from the capture clock for {len(fixes) - own}"
    )
    notes.append("alt_msl_m left empty: Remote ID geodetic altitude is WGS-84 ellipsoid height")
    dropped = {}
    if scan.truncated:
        dropped["truncated_row"] = 1
        notes.append(f"capture cut short or damaged after {scan.packets} packets; rest not read")
    return RawTrack(frame, "remote_id", dropped=dropped, notes=notes)


def read_remote_id_operators(path: Path) -> pd.DataFrame:
    """Operator (remote pilot) positions from the System messages of a capture.

    Returns
    -------
    pandas.DataFrame
        One row per System message in capture order: ``drone_id``, ``sender``,
        ``packet_time_utc``, ``operator_id`` (from the drone's Operator ID
        messages, empty where none was heard) and the fields of
        :func:`geoexpose.tracks._odid.decode_systems` (``operator_lat``,
        ``operator_lon``, ``system_time_utc``, ...). Positions 0/0 mean unknown.

    Raises
    ------
    InputError
        Not a capture, or no Remote ID message in it.
    """
    frame, messages, types, _ = _decoded(path)
    systems = frame[types == SYSTEM].reset_index(drop=True)
    out = pd.concat([systems, decode_systems(messages[types == SYSTEM])], axis=1)
    named = out[DRONE_ID].map(_operator_ids(frame, messages, types))
    out.insert(3, "operator_id", named.fillna("").to_numpy(dtype=object))
    return out


def _operator_ids(frame: pd.DataFrame, messages: np.ndarray, types: np.ndarray) -> dict[str, str]:
    """Operator ID of each drone: the first non-empty one its Operator ID messages give."""
    operators = decode_operator_ids(messages[types == OPERATOR_ID])
    operators[DRONE_ID] = frame.loc[types == OPERATOR_ID, DRONE_ID].to_numpy()
    operators = operators[operators["operator_id"] != ""].drop_duplicates(DRONE_ID)
    return dict(zip(operators[DRONE_ID], operators["operator_id"], strict=True))
