"""Read what a JPEG's EXIF block holds, and write the one EXIF block a scrubbed copy may keep.

A scrubbed copy keeps no EXIF but its orientation (tag 0x0112 of IFD0, which viewers
use to turn the image upright): :func:`exif_summary` reads the original's block, bounds
checked, for that value and for a count of what is dropped (the GPS IFD, the thumbnail
of IFD1, every other tag), and :func:`orientation_exif` writes a new block with that one
tag.

>>> block = orientation_exif(6)
>>> summary = exif_summary(block)
>>> (summary.orientation, summary.tags, summary.gps_tags, summary.thumbnail)
(6, 1, 0, False)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = ["EXIF_HEADER", "ExifSummary", "exif_summary", "orientation_exif"]

EXIF_HEADER = b"Exif\x00\x00"
_ORIENTATION, _EXIF_IFD, _GPS_IFD, _INTEROP_IFD = 0x0112, 0x8769, 0x8825, 0xA005
_SHORT = 3
_MAX_IFDS = 16  # IFD0, IFD1, Exif, GPS, Interop: more means a loop or a crafted file


@dataclass(frozen=True)
class ExifSummary:
    """What an EXIF block holds.

    Attributes
    ----------
    orientation
        IFD0 Orientation (1 to 8), or None.
    tags
        Entries in all its IFDs (IFD0, IFD1, Exif, GPS, Interop).
    gps_tags
        Entries of the GPS IFD; 0 without one.
    thumbnail
        It has an IFD1 (a thumbnail image, which may carry metadata of its own).
    names
        Tag numbers of IFD0 as ``0x....`` strings, for the record of what was removed.
    """

    orientation: int | None
    tags: int
    gps_tags: int
    thumbnail: bool
    names: tuple[str, ...]


def _ifd(tiff: bytes, at: int, order: str) -> list[tuple[int, int, int, bytes]]:
    """Entries ``(tag, type, count, value field)`` of the IFD at ``at``; ValueError if cut."""
    if at < 8 or at + 2 > len(tiff):
        raise ValueError(f"damaged EXIF: an IFD at byte {at} lies outside the block")
    (count,) = struct.unpack(order + "H", tiff[at : at + 2])
    if at + 2 + 12 * count + 4 > len(tiff):
        raise ValueError(f"damaged EXIF: the IFD at byte {at} runs past the block")
    return [
        struct.unpack(order + "HHI4s", tiff[at + 2 + 12 * i : at + 14 + 12 * i])
        for i in range(count)
    ]


def exif_summary(payload: bytes) -> ExifSummary:
    """Summarise an APP1 EXIF payload (the ``Exif`` header and a TIFF block).

    Raises
    ------
    ValueError
        The block is not a TIFF structure or an IFD lies outside it.
    """
    tiff = payload[len(EXIF_HEADER) :]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8 or struct.unpack(order + "H", tiff[2:4])[0] != 42:
        raise ValueError("damaged EXIF: no TIFF header")
    (ifd0,) = struct.unpack(order + "I", tiff[4:8])
    entries = _ifd(tiff, ifd0, order)
    end = ifd0 + 2 + 12 * len(entries)
    (ifd1,) = struct.unpack(order + "I", tiff[end : end + 4])
    pointers = {tag: struct.unpack(order + "I", value)[0] for tag, _, _, value in entries}
    orientation = None
    for tag, kind, count, value in entries:
        if tag == _ORIENTATION and kind == _SHORT and count == 1:
            number = struct.unpack(order + "H", value[:2])[0]
            orientation = number if 1 <= number <= 8 else None
    total, gps, seen = len(entries), 0, {ifd0}
    todo = [(tag, pointers[tag]) for tag in (_EXIF_IFD, _GPS_IFD) if tag in pointers]
    todo += [(0, ifd1)] if ifd1 else []
    while todo:
        tag, at = todo.pop()
        if at in seen or len(seen) >= _MAX_IFDS:
            continue
        seen.add(at)
        sub = _ifd(tiff, at, order)
        total += len(sub)
        gps += len(sub) if tag == _GPS_IFD else 0
        todo += [(t, struct.unpack(order + "I", v)[0]) for t, _, _, v in sub if t == _INTEROP_IFD]
    names = tuple(f"0x{tag:04X}" for tag, _, _, _ in entries)
    return ExifSummary(orientation, total, gps, bool(ifd1), names)


def orientation_exif(orientation: int) -> bytes:
    """Return an APP1 EXIF payload whose only tag is IFD0 Orientation; no further IFD."""
    if not 1 <= orientation <= 8:
        raise ValueError(f"orientation {orientation} is not 1 to 8")
    entry = struct.pack("<HHIHH", _ORIENTATION, _SHORT, 1, orientation, 0)
    return EXIF_HEADER + b"II*\x00" + struct.pack("<IH", 8, 1) + entry + struct.pack("<I", 0)
