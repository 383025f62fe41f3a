"""Read the Remote ID messages of a packet capture (pcap or pcapng), packet by packet.

A capture (``.pcap`` or ``.pcapng``, e.g. from Wireshark, tcpdump or the nRF
Sniffer) of Wi-Fi beacons, Wi-Fi NAN frames or Bluetooth LE advertisements is
searched for Remote ID messages (see :mod:`geoexpose.tracks._odid` for the transports).
Link types read: 802.11 (105), 802.11 with radiotap (127), Bluetooth LE link
layer (251), with pseudo-header (256) and the nRF Sniffer's (272).
:func:`scan_capture` gives every message found with its capture time and sender,
in capture order, as a :class:`Capture`; :mod:`geoexpose.tracks._remoteid` turns
them into tracks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np

from geoexpose.errors import InputError
from geoexpose.tracks._odid import ble_messages, wifi_messages

__all__ = ["NAT", "Capture", "scan_capture", "sniff_remote_id"]

logger = logging.getLogger(__name__)

_Order = Literal["little", "big"]
_PCAP_MAGIC: dict[bytes, tuple[_Order, int]] = {  # -> byte order, ns per fraction unit
    b"\xd4\xc3\xb2\xa1": ("little", 1000),
    b"\xa1\xb2\xc3\xd4": ("big", 1000),
    b"\x4d\x3c\xb2\xa1": ("little", 1),
    b"\xa1\xb2\x3c\x4d": ("big", 1),
}
_PCAPNG = b"\x0a\x0d\x0d\x0a"
_PCAPNG_ORDER: dict[bytes, _Order] = {b"\x4d\x3c\x2b\x1a": "little", b"\x1a\x2b\x3c\x4d": "big"}
_MAX_BLOCK = 1 << 24  # larger lengths are corruption, not packets
_MAX_TIME_NS = 4_102_444_800 * 10**9  # 2100-01-01
#: The capture time (int64 ns) of a packet whose time stamp is damaged: NaT.
NAT = np.iinfo(np.int64).min


def _radiotap(data: bytes) -> tuple[str | None, list[bytes]]:
    """Messages of the 802.11 frame behind a radiotap header (none if its FCS failed)."""
    if len(data) < 8:
        return None, []
    size = int.from_bytes(data[2:4], "little")
    present = int.from_bytes(data[4:8], "little")
    pos = 8
    while int.from_bytes(data[pos - 4 : pos], "little") & 0x80000000 and pos + 4 <= size:
        pos += 4  # extended presence bitmaps
    if present & 0x01:  # TSFT: 8 bytes, 8-aligned
        pos = (pos + 7) // 8 * 8 + 8
    flags = data[pos] if present & 0x02 and pos < size else 0
    if flags & 0x40:  # bad FCS
        return None, []
    frame = data[size:-4] if flags & 0x10 else data[size:]  # FCS at the end
    return wifi_messages(frame)


_LINK_TYPES: dict[int, Callable[[bytes], tuple[str | None, list[bytes]]]] = {
    105: wifi_messages,
    127: _radiotap,
    251: lambda data: ble_messages(data, phdr=0),
    256: lambda data: ble_messages(data, phdr=10),
    272: lambda data: ble_messages(data, phdr=None),
}


def sniff_remote_id(head: bytes, path: Path) -> bool:
    """Whether a file is a pcap or pcapng capture, from its first bytes."""
    del path  # the magic numbers suffice
    if head[:4] in _PCAP_MAGIC:
        return True
    return head[:4] == _PCAPNG and head[8:12] in _PCAPNG_ORDER


@dataclass
class Capture:
    """Remote ID messages found in a capture, one entry per message."""

    times_ns: list[int] = field(default_factory=list)
    senders: list[str | None] = field(default_factory=list)
    messages: list[bytes] = field(default_factory=list)
    link_types: set[int] = field(default_factory=set)
    packets: int = 0
    truncated: bool = False

    def add(self, link_type: int, time_ns: int, data: bytes) -> None:
        """Take the Remote ID messages of one packet captured at ``time_ns``."""
        self.packets += 1
        self.link_types.add(link_type)
        extract = _LINK_TYPES.get(link_type)
        if extract is None:
            return
        sender, found = extract(data)
        if not 0 < time_ns < _MAX_TIME_NS:  # a damaged time stamp
            time_ns = NAT
        self.times_ns.extend([time_ns] * len(found))
        self.senders.extend([sender] * len(found))
        self.messages.extend(found)


def _read(handle: BinaryIO, size: int) -> bytes | None:
    data = handle.read(size)
    return data if len(data) == size else None


def _scan_pcap(handle: BinaryIO, scan: Capture) -> None:
    header = _read(handle, 24)
    if header is None:
        raise InputError("pcap file shorter than its 24-byte header")
    byteorder, frac_ns = _PCAP_MAGIC[header[:4]]
    link_type = int.from_bytes(header[20:24], byteorder) & 0xFFFF
    while record := handle.read(16):
        size = int.from_bytes(record[8:12], byteorder)
        data = _read(handle, size) if len(record) == 16 and size <= _MAX_BLOCK else None
        if data is None:
            scan.truncated = True
            return
        seconds = int.from_bytes(record[0:4], byteorder)
        fraction = int.from_bytes(record[4:8], byteorder)
        scan.add(link_type, seconds * 10**9 + fraction * frac_ns, data)


def _tick_ns(options: bytes, byteorder: _Order) -> tuple[Callable[[int], int], int]:
    """Tick-to-nanosecond conversion and offset (ns) from an interface's options."""
    resolution, offset, pos = 6, 0, 0
    while pos + 4 <= len(options):
        code = int.from_bytes(options[pos : pos + 2], byteorder)
        size = int.from_bytes(options[pos + 2 : pos + 4], byteorder)
        value = options[pos + 4 : pos + 4 + size]
        if code == 0:
            break
        if code == 9 and size == 1:
            resolution = value[0]
        elif code == 14 and size == 8:
            offset = int.from_bytes(value, byteorder, signed=True) * 10**9
        pos += 4 + (size + 3) // 4 * 4
    if resolution & 0x80:
        shift = resolution & 0x7F
        return (lambda ticks: (ticks * 10**9) >> shift), offset
    if resolution <= 9:
        factor = 10 ** (9 - resolution)
        return (lambda ticks: ticks * factor), offset
    divisor = 10 ** (resolution - 9)
    return (lambda ticks: ticks // divisor), offset


def _scan_pcapng(handle: BinaryIO, scan: Capture) -> None:
    byteorder: _Order = "little"
    interfaces: list[tuple[int, Callable[[int], int], int]] = []
    while head := handle.read(8):
        if len(head) == 8 and head[:4] == _PCAPNG:  # section header: byte order first
            magic = handle.read(4)
            if magic not in _PCAPNG_ORDER:
                scan.truncated = True
                return
            byteorder = _PCAPNG_ORDER[magic]
            head += magic
            interfaces = []
        kind = int.from_bytes(head[0:4], byteorder)
        size = int.from_bytes(head[4:8], byteorder) if len(head) >= 8 else 0
        body = None
        if 12 <= size <= _MAX_BLOCK and size % 4 == 0:
            body = _read(handle, size - len(head))
        if body is None:
            scan.truncated = True
            return
        body = body[:-4]  # drop the trailing copy of the length
        if kind == 1 and len(body) >= 8:
            ticks, offset = _tick_ns(body[8:], byteorder)
            interfaces.append((int.from_bytes(body[0:2], byteorder), ticks, offset))
        elif kind in (2, 6) and len(body) >= 20:
            wide = kind == 6  # enhanced packet block; 2 = obsolete packet block
            number = int.from_bytes(body[0:4] if wide else body[0:2], byteorder)
            stamp = (int.from_bytes(body[4:8], byteorder) << 32) + int.from_bytes(
                body[8:12], byteorder
            )
            captured = int.from_bytes(body[12:16], byteorder)
            if number < len(interfaces):
                link_type, ticks, offset = interfaces[number]
                scan.add(link_type, ticks(stamp) + offset, body[20 : 20 + captured])


def scan_capture(path: Path) -> Capture:
    """Find the Remote ID messages of a capture file.

    Raises
    ------
    InputError
        Not a pcap or pcapng capture, or the file cannot be read.
    """
    scan = Capture()
    try:
        with path.open("rb") as handle:
            head = handle.read(12)
            if not sniff_remote_id(head, path):
                raise InputError("not a pcap or pcapng capture (unknown magic number)")
            handle.seek(0)
            if head[:4] == _PCAPNG:
                _scan_pcapng(handle, scan)
            else:
                _scan_pcap(handle, scan)
    except OSError as exc:
        raise InputError(f"cannot read the capture ({exc.strerror or exc})") from exc
    return scan
