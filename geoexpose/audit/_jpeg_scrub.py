"""Remove the GPS position and XMP of a JPEG without touching its image data.

A JPEG is a run of marker segments up to the first scan (SOS), then the entropy-coded
image data up to the end of image (EOI). :func:`scrub_jpeg` copies the segments one by
one and the image data byte for byte, except:

- XMP segments (APP1 ``http://ns.adobe.com/xap/1.0/`` and extended XMP,
  ``http://ns.adobe.com/xmp/extension/``) are left out: drone XMP such as DJI's
  ``drone-dji`` holds the position, heights and gimbal angles;
- in the EXIF segment (APP1 ``Exif``) the GPS IFD is overwritten with zeros, with the
  values it points to, and its pointer (tag 0x8825) is taken out of IFD0. Nothing
  else in the EXIF block moves, so every other offset in it stays valid;
- bytes after the image's EOI (such as the preview images of a Multi-Picture Format
  file, which carry metadata of their own) are left out, with the MPF segment
  (APP2 ``MPF``) that points to them.

Nothing is decoded or encoded: the pixels are the same.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

__all__ = ["Scrubbed", "scrub_jpeg"]

_EXIF = b"Exif\x00\x00"
_XMP = (b"http://ns.adobe.com/xap/1.0/\x00", b"http://ns.adobe.com/xmp/extension/\x00")
_MPF = b"MPF\x00"
_GPS_POINTER = 0x8825
# bytes per value of each TIFF field type
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
_SOS, _EOI, _APP1, _APP2 = 0xDA, 0xD9, 0xE1, 0xE2
# a marker inside image data: 0xFF followed by neither 0x00 (a stuffed 0xFF), RSTn nor 0xFF
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


@dataclass(frozen=True)
class Scrubbed:
    """A scrubbed JPEG and what was taken out of it.

    Attributes
    ----------
    data
        The new file's bytes.
    gps_tags
        GPS tags removed (the entries of the GPS IFD).
    xmp_segments
        XMP segments removed.
    trailer_bytes
        Bytes removed after the image's end (preview images).
    """

    data: bytes
    gps_tags: int
    xmp_segments: int
    trailer_bytes: int


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _image_end(data: bytes, pos: int) -> int:
    """Return the index just past the EOI of the image whose first SOS is at ``pos``."""
    while True:
        marker = data[pos + 1]
        if marker == _EOI:
            return pos + 2
        if marker not in _STANDALONE:
            if pos + 4 > len(data):
                raise ValueError(f"damaged JPEG: segment at byte {pos} is cut off")
            pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        else:
            pos += 2
        found = _MARKER_IN_SCAN.search(data, pos)
        if found is None:
            raise ValueError("damaged JPEG: the image data has no end (EOI) marker")
        pos = found.start()


def _drop_gps(payload: bytes) -> tuple[bytes, int]:
    """Blank the GPS IFD of an EXIF segment's payload; return it and the tags removed."""
    tiff = bytearray(payload[len(_EXIF) :])
    size = len(tiff)
    order = {b"II": "<", b"MM": ">"}.get(bytes(tiff[:2]))
    if order is None or size < 8 or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        raise ValueError("damaged EXIF: no TIFF header")
    ifd0 = struct.unpack(order + "I", tiff[4:8])[0]
    if ifd0 + 2 > size:
        raise ValueError("damaged EXIF: IFD0 lies outside the block")
    count = struct.unpack(order + "H", tiff[ifd0 : ifd0 + 2])[0]
    table_end = ifd0 + 2 + 12 * count + 4
    if table_end > size:
        raise ValueError("damaged EXIF: IFD0 runs past the block")
    keep = bytearray()
    removed = 0
    for i in range(count):
        entry = tiff[ifd0 + 2 + 12 * i : ifd0 + 14 + 12 * i]
        if struct.unpack(order + "H", entry[:2])[0] != _GPS_POINTER:
            keep += entry
            continue
        removed += _blank_ifd(tiff, struct.unpack(order + "I", entry[8:12])[0], order, ifd0)
    if len(keep) == 12 * count:
        return payload, 0
    next_ifd = tiff[table_end - 4 : table_end]
    new = struct.pack(order + "H", len(keep) // 12) + keep + next_ifd
    tiff[ifd0:table_end] = new + bytes(table_end - ifd0 - len(new))
    return _EXIF + bytes(tiff), removed


def _blank_ifd(tiff: bytearray, at: int, order: str, ifd0: int) -> int:
    """Overwrite the IFD at ``at`` and the values it points to with zeros."""
    size = len(tiff)
    if at < 8 or at + 2 > size:
        return 0
    n = struct.unpack(order + "H", tiff[at : at + 2])[0]
    protected = range(0, ifd0 + 2 + 12 * struct.unpack(order + "H", tiff[ifd0 : ifd0 + 2])[0] + 4)
    for j in range(n):
        entry = at + 2 + 12 * j
        if entry + 12 > size:
            break
        kind, number = struct.unpack(order + "HI", tiff[entry + 2 : entry + 8])
        length = _TYPE_SIZE.get(kind, 1) * number
        if length > 4:
            start = struct.unpack(order + "I", tiff[entry + 8 : entry + 12])[0]
            end = min(start + length, size)
            if start >= 8 and start not in protected and start < end:
                tiff[start:end] = bytes(end - start)
    end = min(at + 2 + 12 * n + 4, size)
    tiff[at:end] = bytes(end - at)
    return n


def scrub_jpeg(data: bytes) -> Scrubbed:
    """Remove the GPS IFD, the XMP and any trailing images of a JPEG file's bytes.

    Raises
    ------
    ValueError
        Not a JPEG, or its structure is damaged (then nothing should be shared).
    """
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG (no start-of-image marker)")
    parts: list[bytes] = [data[:2]]
    gps = xmp = 0
    mpf_at: list[int] = []
    pos = 2
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise ValueError(f"damaged JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            parts.append(data[pos : pos + 2])
            pos += 2
            continue
        if marker == _EOI or pos + 4 > len(data):
            raise ValueError("damaged JPEG: no image data")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        if length < 2 or pos + 2 + length > len(data):
            raise ValueError(f"damaged JPEG: segment at byte {pos} runs past the end")
        if marker == _SOS:
            end = _image_end(data, pos)
            parts.append(data[pos:end])
            trailer = len(data) - end
            break
        payload = data[pos + 4 : pos + 2 + length]
        if marker == _APP1 and payload.startswith(_EXIF):
            payload, n = _drop_gps(payload)
            gps += n
            parts.append(_segment(marker, payload))
        elif marker == _APP1 and payload.startswith(_XMP):
            xmp += 1
        else:
            if marker == _APP2 and payload.startswith(_MPF):
                mpf_at.append(len(parts))
            parts.append(data[pos : pos + 2 + length])
        pos += 2 + length
    if trailer:
        for k in reversed(mpf_at):
            del parts[k]
    return Scrubbed(b"".join(parts), gps, xmp, trailer)
