r"""Check a scrubbed JPEG as written: only allowed segments, and the original's image data.

:func:`copy_problems` reads a copy back with its own walk over the markers (not the
one that built it, :mod:`geoexpose.audit._jpeg_scrub`) and lists what a clean copy
cannot hold: any APPn but a JFIF header without a thumbnail, an Adobe header of 12
bytes and an EXIF block whose only tag is the orientation (so no GPS IFD, no
thumbnail); no XMP, no APP13, no comment, nothing after the end of image. It also
compares the segments that code the image, and the image data, byte for byte with
the original's (:func:`image_coding`): the pixels are the same.

>>> copy_problems(b"\xff\xd8\xff\xfe\x00\x04hi\xff\xd9", b"")
['a COM segment', 'no image data']
"""

from __future__ import annotations

import struct

__all__ = ["copy_problems", "image_coding"]

_APP0, _APP1, _APP14, _COM, _SOS, _EOI = 0xE0, 0xE1, 0xEE, 0xFE, 0xDA, 0xD9
_NO_LENGTH = {0x01, *range(0xD0, 0xD8)}
_IMAGE = {*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD} - {0xC8}
# the only EXIF block allowed: header, TIFF header, IFD0 of one Orientation entry, no IFD1
_ORIENTATION_ONLY = len(b"Exif\x00\x00") + 8 + 2 + 12 + 4


def _walk(data: bytes) -> tuple[list[tuple[int, bytes]], int, bool]:
    """Segments ``(marker, whole segment with its image data)``, where the EOI ends, ok."""
    out: list[tuple[int, bytes]] = []
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            return out, i, False
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker == _EOI:
            return out, i + 2, True
        if marker in _NO_LENGTH:
            out.append((marker, data[i : i + 2]))
            i += 2
            continue
        if i + 4 > n:
            return out, i, False
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > n or end < i + 4:
            return out, i, False
        if marker == _SOS:  # image data up to the next 0xFF that is not 0xFF00 or RSTn
            j = end
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= n:
                    return out, n, False
                follower = data[j + 1]
                if follower == 0x00 or 0xD0 <= follower <= 0xD7 or follower == 0xFF:
                    j += 1
                    continue
                break
            end = j
        out.append((marker, data[i:end]))
        i = end
    return out, i, False


def image_coding(data: bytes) -> bytes:
    """Join the segments that code the image and the image data, joined, in file order."""
    segments, _, _ = _walk(data)
    return b"".join(seg for marker, seg in segments if marker in _IMAGE or marker == _SOS)


def _exif_orientation_only(payload: bytes) -> bool:
    """Tell if an APP1 payload is an EXIF block with IFD0 Orientation alone and no IFD1."""
    if len(payload) != _ORIENTATION_ONLY or not payload.startswith(b"Exif\x00\x00"):
        return False
    tiff = payload[6:]
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None:
        return False
    magic, ifd0, count, tag, kind, number = struct.unpack(order + "HIHHHI", tiff[2:18])
    next_ifd = struct.unpack(order + "I", tiff[22:26])[0]
    return (magic, ifd0, count, tag, kind, number, next_ifd) == (42, 8, 1, 0x0112, 3, 1, 0)


def copy_problems(copy: bytes, original: bytes) -> list[str]:
    """List what keeps ``copy`` from being a clean copy of ``original``; empty if nothing.

    Parameters
    ----------
    copy
        The scrubbed file's bytes, as read back from disk.
    original
        The original's bytes; empty to skip the comparison of the image data.
    """
    if not copy.startswith(b"\xff\xd8"):
        return ["no start-of-image marker"]
    segments, end, ok = _walk(copy)
    problems: list[str] = []
    for marker, seg in segments:
        payload = seg[4:]
        if marker in _IMAGE or marker in _NO_LENGTH or marker == _SOS:
            continue
        if marker == _APP0 and payload.startswith(b"JFIF\x00") and len(payload) == 14:
            if payload[12] or payload[13]:
                problems.append("a JFIF thumbnail")
        elif marker == _APP14 and payload.startswith(b"Adobe") and len(payload) == 12:
            continue  # the colour transform, which decoders need
        elif marker == _APP1 and _exif_orientation_only(payload):
            continue
        elif marker == _APP1 and payload.startswith(b"Exif\x00\x00"):
            problems.append("an EXIF block with more than its orientation")
        elif marker == _COM:
            problems.append("a COM segment")
        elif _APP0 <= marker <= 0xEF:
            problems.append(f"an APP{marker - _APP0} segment")
        else:
            problems.append(f"a 0xFF{marker:02X} segment")
    if not ok:
        problems.append("no end-of-image marker where expected")
    elif end != len(copy):
        problems.append(f"{len(copy) - end} bytes after the end of image")
    if not any(marker == _SOS for marker, _ in segments):
        problems.append("no image data")
    elif original and image_coding(copy) != image_coding(original):
        problems.append("image data that differs from the original's")
    return list(dict.fromkeys(problems))
