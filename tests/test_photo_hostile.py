"""Photo readers against hostile files built here: a quadratic XMP search, a decompression
bomb, a broken XMP packet beside a valid EXIF position, DTDs and entities."""

from __future__ import annotations

import io
import re
import struct
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from test_captures import DJI, LAT, LON, RDF, write_photo

import geoexpose as gx
from geoexpose.imagery import _xmp
from geoexpose.imagery._xmp import MAX_XMP_BYTES, XmpError, find_xmp_packet, parse_gdal_metadata
from geoexpose.imagery.photo_tags import read_photo_tags

# EXIF GPS written below: 45 deg 30' N, 7 deg 15' W
EXIF_LAT, EXIF_LON = 45.5, -7.25


def exif_gps_jpeg(size: tuple[int, int] = (64, 48), xmp: bytes | None = None) -> bytes:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(45), IFDRational(30), IFDRational(0))
    gps[3], gps[4] = "W", (IFDRational(7), IFDRational(15), IFDRational(0))
    buffer = io.BytesIO()
    kwargs = {"exif": exif} | ({"xmp": xmp} if xmp is not None else {})
    Image.new("RGB", size, (90, 120, 60)).save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def with_comments(data: bytes, blob: bytes) -> bytes:
    """``blob`` in COM segments after the SOI (no standard XMP segment)."""
    parts = [blob[i : i + 65000] for i in range(0, len(blob), 65000)]
    segments = b"".join(b"\xff\xfe" + struct.pack(">H", len(p) + 2) + p for p in parts)
    return data[:2] + segments + data[2:]


def declare_size(data: bytes, width: int, height: int) -> bytes:
    """The JPEG with its SOF0 saying ``width`` x ``height`` pixels."""
    pos = 2
    while data[pos + 1] != 0xC0:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return data[: pos + 5] + struct.pack(">HH", height, width) + data[pos + 9 :]


def _xmp_packet(attrs: str) -> bytes:
    return (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
        f'<rdf:Description xmlns:drone-dji="{DJI}" {attrs}/></rdf:RDF></x:xmpmeta>'
    ).encode()


class CountingPattern:
    """A compiled pattern that records the searches made with it."""

    def __init__(self, pattern: re.Pattern[bytes], calls: list[str]) -> None:
        self.pattern, self.calls = pattern, calls

    def search(self, data: bytes, pos: int = 0) -> re.Match[bytes] | None:
        self.calls.append(self.pattern.pattern.decode())
        return self.pattern.search(data, pos)


def test_xmp_search_is_linear_on_a_megabyte_of_opening_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = b"<x:xmpmeta " * (MAX_XMP_BYTES // len(b"<x:xmpmeta "))
    path = tmp_path / "stall.jpg"
    path.write_bytes(with_comments(exif_gps_jpeg(), blob))
    assert path.stat().st_size > 1_000_000
    # the work: a fixed number of searches, each with a pattern that matches a bounded
    # run of bytes (no * or + and no open-ended {n,}), so each byte is looked at a
    # bounded number of times
    patterns = [_xmp._OPEN, _xmp._CLOSE, _xmp._RDF_OPEN, _xmp._RDF_CLOSE]
    for pattern in patterns:
        assert not re.search(rb"(?<!\\)[*+]|\{\d*,\}", pattern.pattern), pattern.pattern
    calls: list[str] = []
    for name in ("_OPEN", "_CLOSE", "_RDF_OPEN", "_RDF_CLOSE"):
        monkeypatch.setattr(_xmp, name, CountingPattern(getattr(_xmp, name), calls))
    start = time.perf_counter()
    tags = read_photo_tags(path)
    elapsed = time.perf_counter() - start
    assert (tags.lat, tags.lon) == (pytest.approx(EXIF_LAT), pytest.approx(EXIF_LON))
    assert tags.xmp_note is None  # no packet: nothing to note
    # Pillow reports no XMP, so one search of the file's head: an opening tag is found,
    # no closing tag after it, no RDF block
    assert len(calls) == 3, calls
    assert elapsed < 5.0  # was over 300 s


def test_a_packet_over_the_limit_is_not_read() -> None:
    packet = b"<x:xmpmeta>" + b" " * MAX_XMP_BYTES + b"</x:xmpmeta>"
    with pytest.raises(XmpError, match=f"over the {MAX_XMP_BYTES} read"):
        find_xmp_packet(packet)
    assert find_xmp_packet(packet[: 64 * 1024] + b"</x:xmpmeta>") is not None


def test_a_decompression_bomb_is_skipped_and_the_others_kept(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "good.jpg")
    good = (folder / "good.jpg").read_bytes()
    (folder / "bomb.jpg").write_bytes(declare_size(good, 65000, 65000))
    with pytest.warns(gx.InputWarning) as caught:
        captures = gx.read_captures(folder)
    assert captures["capture_id"].tolist() == ["good.jpg"]
    (message,) = [str(w.message) for w in caught if "bomb.jpg" in str(w.message)]
    assert "declared size is too large" in message and "\n" not in message
    files = {Path(f["path"]).name: f for f in captures.attrs["geoexpose"]["files"]}
    assert files["bomb.jpg"]["status"] == "skipped"
    with pytest.raises(gx.InputError, match=r"bomb\.jpg: refused, its declared size"):
        gx.read_captures(folder, strict=True)


def test_a_large_but_allowed_size_reads_its_tags_without_a_warning(tmp_path: Path) -> None:
    # 12000 x 10000 = 120 M pixels: over Pillow's warning limit, under its error limit
    assert Image.MAX_IMAGE_PIXELS < 12000 * 10000 < 2 * Image.MAX_IMAGE_PIXELS
    path = tmp_path / "large.jpg"
    path.write_bytes(declare_size(exif_gps_jpeg(), 12000, 10000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tags = read_photo_tags(path)
    assert (tags.width_px, tags.height_px) == (12000, 10000)
    assert tags.lat == pytest.approx(EXIF_LAT)


def test_an_undefined_entity_in_the_xmp_does_not_hide_the_photo(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    write_photo(folder / "a.jpg", extra_xmp='drone-dji:ProductName="Mavic &x; Pro"')
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # read without a warning
        captures = gx.read_captures(folder)
    assert captures["capture_id"].tolist() == ["a.jpg"]
    assert captures["cam_lon"].iloc[0] == pytest.approx(LON)
    assert captures["cam_lat"].iloc[0] == pytest.approx(LAT)
    assert "xmp_repaired" in captures["flags"].iloc[0].split(";")
    (entry,) = captures.attrs["geoexpose"]["files"]
    assert entry["notes"] and "undefined entity" in entry["notes"][0]
    assert read_photo_tags(folder / "a.jpg").product_name == "Mavic  Pro"  # x left out
    # in the position itself: left out, and the EXIF position used
    lat_entity = _xmp_packet('drone-dji:GpsLatitude="&x;" drone-dji:GpsLongitude="+1.0"')
    path = tmp_path / "b.jpg"
    path.write_bytes(exif_gps_jpeg(xmp=lat_entity))
    tags = read_photo_tags(path)
    assert (tags.lat, tags.lon) == (pytest.approx(EXIF_LAT), 1.0)  # XMP lon still wins
    assert tags.xmp_note.startswith("XMP repaired")


def test_an_unreadable_xmp_leaves_the_exif_position(tmp_path: Path) -> None:
    broken = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><a></b></x:xmpmeta>'
    path = tmp_path / "a.jpg"
    path.write_bytes(exif_gps_jpeg(xmp=broken))
    tags = read_photo_tags(path)
    assert (tags.lat, tags.lon) == (pytest.approx(EXIF_LAT), pytest.approx(EXIF_LON))
    assert tags.xmp_note.startswith("XMP unreadable") and "mismatched tag" in tags.xmp_note
    # a photo whose only position is in a broken packet: skipped, saying why
    write_photo(tmp_path / "b.jpg", extra_xmp='drone-dji:X="1"><a></b')
    with pytest.warns(gx.InputWarning, match=r"b.jpg: no GPS position .*\(XMP unreadable"):
        assert gx.read_captures(tmp_path / "b.jpg").empty


LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(b'<!ENTITY %c "%s">' % (98 + i, (b"&%c;" % (97 + i)) * 10) for i in range(8))
    + b"]><GDALMetadata><Item name='x'>&i;</Item></GDALMetadata>"
)
EXTERNAL = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<GDALMetadata><Item name='x'>&e;</Item></GDALMetadata>"
)


@pytest.mark.parametrize(
    "text",
    [
        LAUGHS,
        EXTERNAL,
        LAUGHS.decode().encode("utf-16"),  # no byte-level "<!DOCTYPE" to spot
        b'<?xml version="1.0"?><!DOCTYPE GDALMetadata><GDALMetadata/>',
    ],
    ids=["billion_laughs", "external_entity", "utf16", "bare_doctype"],
)
def test_dtds_and_entities_are_refused(text: bytes) -> None:
    start = time.perf_counter()
    with pytest.raises(XmpError, match="declares a DTD or entities, which are refused"):
        parse_gdal_metadata(text)
    assert time.perf_counter() - start < 1.0


def test_an_entity_bomb_in_photo_xmp_is_never_expanded(tmp_path: Path) -> None:
    packet = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + LAUGHS + b"</x:xmpmeta>"
    path = tmp_path / "a.jpg"
    path.write_bytes(exif_gps_jpeg(xmp=packet))
    tags = read_photo_tags(path)
    assert tags.xmp_note.startswith("XMP unreadable")
    assert tags.lat == pytest.approx(EXIF_LAT)
