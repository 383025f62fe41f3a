"""Rebuild a JPEG from an allow-list of its segments, its image data copied byte for byte.

A JPEG is a run of marker segments, its entropy-coded image data after each start of
scan (SOS), and an end of image (EOI). :func:`scrub_jpeg` walks all of it, the segments
between the scans of a progressive JPEG too, and keeps only:

- the segments that code the image: DQT, DHT, DAC, SOF0-15 (not JPG), DRI, DNL, SOS,
  and the image data after each SOS, all byte for byte, so the pixels are the same;
- a JFIF header (APP0), rewritten without its thumbnail;
- an Adobe header (APP14), rewritten to its 12 bytes (its colour transform tells
  decoders how to read the components);
- of the EXIF block (APP1), the orientation only, in a new block
  (:func:`geoexpose.audit._jpeg_exif.orientation_exif`).

Everything else is left out and counted: the EXIF block with its GPS IFD, its
thumbnail (which carries metadata of its own) and text tags such as UserComment and
ImageDescription; XMP and extended XMP (drone position, heights, gimbal angles);
Photoshop / IPTC (APP13, where City, Sub-location and a second XMP packet live); ICC
profiles, Multi-Picture Format data and every other APPn; comments (COM); the bytes
after the EOI (preview images). A marker that is none of these (reserved, JPG, JPGn)
is refused: nothing is written then.
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from dataclasses import dataclass

from geoexpose.audit._jpeg_exif import EXIF_HEADER, exif_summary, orientation_exif

__all__ = ["Scrubbed", "scrub_jpeg", "segment_name"]

_SOS, _EOI, _APP0, _APP1, _APP14, _COM = 0xDA, 0xD9, 0xE0, 0xE1, 0xEE, 0xFE
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RST0-7 carry no length
# SOF0-15 but JPG (0xC8), with DHT (0xC4) and DAC (0xCC); DNL, DQT, DRI
_CODING = {*range(0xC0, 0xD0), 0xDB, 0xDC, 0xDD} - {0xC8}
# a marker inside image data: 0xFF followed by neither 0x00 (a stuffed 0xFF), RSTn nor 0xFF
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_XMP = b"http://ns.adobe.com/xap/1.0/\x00"
_KNOWN = {
    b"Exif": "Exif",
    b"http://ns.adobe.com/xap/1.0/": "XMP",
    b"http://ns.adobe.com/xmp/extension/": "extended XMP",
    b"Photoshop 3.0": "Photoshop/IPTC",
    b"ICC_PROFILE": "ICC profile",
    b"MPF": "MPF",
    b"JFIF": "JFIF",
    b"JFXX": "JFIF extension",
    b"Adobe": "Adobe",
}
_TRAILER = "bytes after the image"
_PLAIN_ID = re.compile(rb"[A-Za-z0-9 _.-]{1,16}")


@dataclass(frozen=True)
class Scrubbed:
    """A rebuilt JPEG and what was left out of it.

    Attributes
    ----------
    data
        The new file's bytes.
    gps_tags
        Entries of the original's EXIF GPS IFD.
    xmp_segments
        APP1 XMP and extended XMP segments left out.
    trailer_bytes
        Bytes after the image's end left out (preview images).
    exif_tags
        EXIF entries left out (all IFDs; the orientation, if kept, is not counted).
    removed
        ``(what, count)`` of each kind of thing left out, such as ``("APP1 XMP", 2)``,
        ``("COM", 1)`` or ``("EXIF thumbnail", 1)``, in the order first met.
    orientation
        The EXIF orientation kept, or None.
    """

    data: bytes
    gps_tags: int
    xmp_segments: int
    trailer_bytes: int
    exif_tags: int = 0
    removed: tuple[tuple[str, int], ...] = ()
    orientation: int | None = None

    @property
    def segments(self) -> int:
        """Marker segments left out (APPn, COM, the EXIF block among them)."""
        return sum(n for what, n in self.removed if what.startswith(("APP", "COM")))

    def describe(self) -> str:
        """Say what was left out, on one line: ``APP1 Exif x1; EXIF GPS IFD x1; COM x2``."""
        return "; ".join(
            f"{n} {what}" if what == _TRAILER else f"{what} x{n}" for what, n in self.removed
        )


def segment_name(marker: int, payload: bytes) -> str:
    r"""Return a short name of a segment, such as ``APP13 Photoshop/IPTC`` or ``COM``.

    >>> segment_name(0xED, b"Photoshop 3.0\x00...")
    'APP13 Photoshop/IPTC'
    >>> segment_name(0xE9, b"\x1b]8;;evil\x00")
    'APP9'
    """
    if marker == _COM:
        return "COM"
    name = f"APP{marker - _APP0}" if _APP0 <= marker <= 0xEF else f"0xFF{marker:02X}"
    ident = payload.split(b"\x00", 1)[0]
    if ident in _KNOWN:
        return f"{name} {_KNOWN[ident]}"
    return f"{name} {ident.decode()}" if _PLAIN_ID.fullmatch(ident) else name


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _scan_end(data: bytes, pos: int) -> int:
    """Index of the first marker after the image data that starts at ``pos``."""
    found = _MARKER_IN_SCAN.search(data, pos)
    if found is None:
        raise ValueError("damaged JPEG: the image data has no end (EOI) marker")
    return found.start()


def scrub_jpeg(data: bytes) -> Scrubbed:
    """Rebuild a JPEG file's bytes from its allowed segments.

    Raises
    ------
    ValueError
        Not a JPEG (a TIFF or DNG is named so), its structure is damaged, or it holds a
        segment that is not known to be safe: then nothing should be shared.
    """
    if data.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        raise ValueError("a TIFF or DNG: only JPEG photos are scrubbed")
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG (no start-of-image marker)")
    parts: list[bytes] = [data[:2]]
    removed: Counter[str] = Counter()
    gps = exif_tags = 0
    orientation: int | None = None
    seen_exif = seen_scan = False
    jfif_at = 0  # where the JFIF header went; the new EXIF block follows it
    pos = 2
    while True:
        if pos + 2 > len(data) or data[pos] != 0xFF:
            raise ValueError(f"damaged JPEG: no marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # a fill byte, dropped
            pos += 1
            continue
        if marker == _EOI:
            if not seen_scan:
                raise ValueError("damaged JPEG: no image data")
            parts.append(data[pos : pos + 2])
            pos += 2
            break
        if marker in _STANDALONE:
            parts.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > len(data):
            raise ValueError(f"damaged JPEG: segment at byte {pos} is cut off")
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        end = pos + 2 + length
        if length < 2 or end > len(data):
            raise ValueError(f"damaged JPEG: segment at byte {pos} runs past the end")
        payload = data[pos + 4 : end]
        if marker == _SOS:
            seen_scan = True
            scan_end = _scan_end(data, end)
            parts.append(data[pos:scan_end])
            pos = scan_end
            continue
        if marker in _CODING:
            parts.append(data[pos:end])
        elif marker == _APP0 and payload.startswith(b"JFIF\x00") and len(payload) >= 14:
            if not jfif_at and not seen_scan:
                parts.append(_segment(marker, payload[:12] + b"\x00\x00"))
                jfif_at = len(parts) - 1
            if len(payload) > 14 or payload[12] or payload[13]:
                removed["JFIF thumbnail"] += 1
        elif marker == _APP14 and payload.startswith(b"Adobe") and len(payload) >= 12:
            parts.append(_segment(marker, payload[:12]))
        elif marker == _APP1 and payload.startswith(EXIF_HEADER) and not seen_exif:
            seen_exif = True
            removed["APP1 Exif"] += 1
            try:
                summary = exif_summary(payload)
            except ValueError:
                removed["unreadable EXIF"] += 1
            else:
                gps, exif_tags, orientation = summary.gps_tags, summary.tags, summary.orientation
                removed["EXIF GPS IFD"] += 1 if summary.gps_tags else 0
                removed["EXIF thumbnail"] += 1 if summary.thumbnail else 0
        elif _APP0 <= marker <= 0xEF or marker == _COM:
            removed[segment_name(marker, payload)] += 1
        else:
            raise ValueError(f"segment 0xFF{marker:02X} at byte {pos} is not known to be safe")
        pos = end
    if orientation is not None:
        parts.insert(jfif_at + 1, _segment(_APP1, orientation_exif(orientation)))
        exif_tags -= 1
    trailer = len(data) - pos
    if trailer:
        removed[_TRAILER] += trailer
    xmp = removed["APP1 XMP"] + removed["APP1 extended XMP"]
    kept = tuple((what, n) for what, n in removed.items() if n)
    return Scrubbed(b"".join(parts), gps, xmp, trailer, exif_tags, kept, orientation)
