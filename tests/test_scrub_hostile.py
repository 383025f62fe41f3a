"""Scrub against hostile photos, built here segment by segment with struct.

Each photo hides places where a plain GPS removal misses them: an EXIF thumbnail with a
GPS block of its own, drone XMP inside a Photoshop APP13 block (the only XMP, so that
geoexpose reads the position from it), IPTC City and Sub-location, EXIF UserComment and
ImageDescription, a JFIF thumbnail, a comment, an ICC profile, segments between the
scans of a progressive JPEG and a preview after the image. A clean copy holds none of
their bytes (each carries the word SECRET), decodes to the same pixels, and the list
says what was left out, counted by hand here.
"""

from __future__ import annotations

import importlib
import io
import struct
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from test_captures import DJI, RDF, H, W
from test_scrub import HEIGHT, SPOTS, YAW, exiftool, lonlat, sites

import geoexpose as gx
from geoexpose.audit import _jpeg_scrub
from geoexpose.audit._jpeg_scrub import Scrubbed, scrub_jpeg
from geoexpose.audit._jpeg_verify import copy_problems

SECRET = b"SECRET"
scrub_module = importlib.import_module("geoexpose.audit.scrub")
# intrinsics and time for a TIFF, whose EXIF sub-IFD Pillow does not write
CAMERA = 'drone-dji:CalibratedFocalLength="400" drone-dji:UTCAtExposure="2026:06:12 10:00:00.000" '


def seg(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def walk(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, payload) of the segments before the first scan, walked by length."""
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append((data[pos + 1], data[pos + 4 : pos + 2 + length]))
        pos += 2 + length
    return out


def rationals(value: float) -> bytes:
    deg = abs(value)
    parts = (int(deg), 1, int(deg * 60 % 60), 1, round(deg * 3600 % 60 * 10_000), 10_000)
    return struct.pack("<6I", *parts)


def tiff(ifds: dict[str, list[tuple[int, int, bytes | str]]], blobs: dict[str, bytes]) -> bytes:
    """A little-endian TIFF block: IFDs in order (the first is IFD0, "ifd1" is chained
    after it), each entry (tag, type, value bytes or the name of an IFD/blob it points
    to); values over 4 bytes go after the IFDs."""
    size = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1}
    at, pos = {}, 8
    for name, entries in ifds.items():
        at[name], pos = pos, pos + 2 + 12 * len(entries) + 4
    data = b""
    values: dict[tuple[str, int], int] = {}
    for name, entries in ifds.items():
        for i, (_, _kind, value) in enumerate(entries):
            if isinstance(value, bytes) and len(value) > 4:
                values[name, i] = pos + len(data)
                data += value + b"\x00" * (len(value) % 2)
    for name, blob in blobs.items():
        at[name] = pos + len(data)
        data += blob
    out = b"II*\x00" + struct.pack("<I", 8)
    for name, entries in ifds.items():
        out += struct.pack("<H", len(entries))
        for i, (tag, kind, value) in enumerate(entries):
            if isinstance(value, str):  # a pointer, or the length of a blob
                field = struct.pack("<I", at[value])
                count = 1
            else:
                count = len(value) // size[kind]
                field = struct.pack("<I", values[name, i]) if (name, i) in values else value
            out += struct.pack("<HHI", tag, kind, count) + field.ljust(4, b"\x00")
        out += struct.pack("<I", at["ifd1"] if name == "ifd0" and "ifd1" in ifds else 0)
    return out + data


def thumbnail(lat: float, lon: float) -> bytes:
    """A small JPEG thumbnail with its own EXIF GPS block and description."""
    exif = Image.Exif()
    exif[0x010E] = "SECRET thumbnail"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(int(lat)), IFDRational(0), IFDRational(0))
    gps[3], gps[4] = "W", (IFDRational(int(-lon)), IFDRational(0), IFDRational(0))
    buffer = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 10, 10)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


#: EXIF entries written by exif_block: IFD0 5, Exif 7, GPS 4, IFD1 2
EXIF_ENTRIES, GPS_ENTRIES = 18, 4


def exif_block(lat: float, lon: float) -> bytes:
    ifds = {
        "ifd0": [
            (0x010E, 2, b"SECRET Sub-station B, Brenmoor\x00"),  # ImageDescription
            (0x010F, 2, b"DJI\x00"),
            (0x0112, 3, struct.pack("<H", 6)),  # Orientation: turn 90 degrees
            (0x8769, 4, "exif"),
            (0x8825, 4, "gps"),
        ],
        "exif": [
            (0x9003, 2, b"2026:06:12 10:00:00\x00"),
            (0x9011, 2, b"+00:00\x00"),
            (0x9286, 7, b"ASCII\x00\x00\x00SECRET 45.0N 30.0W"),  # UserComment
            (0x920A, 5, struct.pack("<II", 4000, 1000)),  # focal 4 mm
            (0xA20E, 5, struct.pack("<II", 1000, 10)),  # 100 px per mm
            (0xA20F, 5, struct.pack("<II", 1000, 10)),
            (0xA210, 3, struct.pack("<H", 4)),
        ],
        "gps": [(1, 2, b"N\x00"), (2, 5, rationals(lat)), (3, 2, b"W\x00"), (4, 5, rationals(lon))],
        "ifd1": [(0x0201, 4, "thumb"), (0x0202, 4, struct.pack("<I", len(thumbnail(lat, lon))))],
    }
    return b"Exif\x00\x00" + tiff(ifds, {"thumb": thumbnail(lat, lon)})


def dji_xmp(lon: float, lat: float, extra: str = "") -> bytes:
    attrs = extra + (
        f'drone-dji:GpsLatitude="{lat:+.8f}" drone-dji:GpsLongitude="{lon:+.8f}" '
        f'drone-dji:RelativeAltitude="{HEIGHT:+.2f}" drone-dji:GimbalYawDegree="{YAW:+.2f}" '
        'drone-dji:GimbalPitchDegree="-90.00" drone-dji:GimbalRollDegree="+0.00"'
    )
    return (
        f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="{RDF}">'
        f'<rdf:Description xmlns:drone-dji="{DJI}" {attrs}/></rdf:RDF></x:xmpmeta>'
    ).encode()


def photoshop(resources: dict[int, bytes]) -> bytes:
    out = b"Photoshop 3.0\x00"
    for number, data in resources.items():
        out += b"8BIM" + struct.pack(">H", number) + b"\x00\x00" + struct.pack(">I", len(data))
        out += data + b"\x00" * (len(data) % 2)
    return out


def iptc(**fields: bytes) -> bytes:
    numbers = {"city": 90, "sublocation": 92}
    return b"".join(
        b"\x1c\x02" + bytes([numbers[k]]) + struct.pack(">H", len(v)) + v for k, v in fields.items()
    )


def base_jpeg(*, progressive: bool = False) -> bytes:
    """SOI, JFIF, DQT, SOF, DHT, SOS ...: a noisy image, so its scan data is long."""
    image = Image.effect_noise((W, H), 60).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85, progressive=progressive)
    return buffer.getvalue()


def hostile(lon: float, lat: float) -> bytes:
    data = base_jpeg()
    segments = walk(data)
    assert segments[0][0] == 0xE0 and segments[0][1].startswith(b"JFIF\x00")
    rest = data[2 + 4 + len(segments[0][1]) :]  # from the DQT on
    jfif = segments[0][1][:12] + b"\x01\x01" + b"\xffSEC"[:3]  # a 1 x 1 thumbnail
    ps = photoshop(
        {0x0404: iptc(city=b"SECRET City", sublocation=b"SECRET yard"), 0x0424: dji_xmp(lon, lat)}
    )
    head = seg(0xE0, jfif) + seg(0xE1, exif_block(lat, lon)) + seg(0xED, ps)
    head += seg(0xFE, b"SECRET comment") + seg(0xE2, b"ICC_PROFILE\x00\x01\x01SECRET desc")
    preview = thumbnail(lat, lon)
    return data[:2] + head + rest + preview


def scan_part(data: bytes, end: int) -> bytes:
    """From the first SOS, found by walking the segments, to ``end``."""
    pos = 2 + sum(4 + len(payload) for _, payload in walk(data))
    return data[pos:end]


@pytest.fixture
def hostile_photos(tmp_path: Path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    x, y = SPOTS["a.jpg"]  # its footprint shows the site
    lon, lat = lonlat(x, y)
    (folder / "a.jpg").write_bytes(hostile(lon, lat))
    return folder


def test_hostile_photo_is_read_from_its_app13_xmp(hostile_photos: Path) -> None:
    data = (hostile_photos / "a.jpg").read_bytes()
    assert b"http://ns.adobe.com/xap/1.0/" not in data  # no standard XMP segment
    captures = gx.read_captures(hostile_photos)
    lon, lat = lonlat(*SPOTS["a.jpg"])
    assert captures["cam_lon"].tolist() == pytest.approx([lon], abs=1e-8)
    assert captures["cam_lat"].tolist() == pytest.approx([lat], abs=1e-8)


def test_scrub_leaves_no_place_in_a_hostile_photo(hostile_photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    table = gx.scrub(hostile_photos, sites(), out).set_index("capture_id")
    row = table.loc["a.jpg"]
    assert row["status"] == "scrubbed", row["reason"]
    original, copy = (hostile_photos / "a.jpg").read_bytes(), (out / "a.jpg").read_bytes()
    assert original.count(SECRET) == 8  # as hostile() wrote them
    for word in (SECRET, b"drone-dji", b"xmpmeta", b"8BIM", b"Photoshop", b"ICC_PROFILE"):
        assert word not in copy, word
    # what is left: SOI, JFIF without thumbnail, EXIF of one Orientation entry, the image
    markers = [m for m, _ in walk(copy)]
    assert markers[:2] == [0xE0, 0xE1]
    assert not [m for m in markers[2:] if m >= 0xE0]
    assert walk(copy)[0][1][12:] == b"\x00\x00"
    preview = len(thumbnail(*reversed(lonlat(*SPOTS["a.jpg"]))))
    assert scan_part(copy, len(copy)) == scan_part(original, len(original) - preview)
    assert copy.endswith(b"\xff\xd9") and copy.count(b"\xff\xd8") == 1  # no preview
    with Image.open(hostile_photos / "a.jpg") as a, Image.open(out / "a.jpg") as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
        exif = b.getexif()
        assert dict(exif) == {0x0112: 6} and not exif.get_ifd(0x8825)
        assert not {"xmp", "photoshop", "comment", "icc_profile"} & set(b.info)
        assert [name for name, _ in b.applist] == ["APP0", "APP1"]
    # the list, counted by hand from what hostile() wrote
    assert row["gps_tags_removed"] == GPS_ENTRIES
    assert row["exif_tags_removed"] == EXIF_ENTRIES - 1  # the orientation stays
    assert row["xmp_segments_removed"] == 0  # the XMP was in APP13, counted there
    assert row["segments_removed"] == 4  # APP1 Exif, APP13, COM, APP2
    assert row["trailer_bytes_removed"] == preview
    removed = row["removed"].split("; ")
    for item in ("APP1 Exif x1", "APP13 Photoshop/IPTC x1", "COM x1", "APP2 ICC profile x1",
                 "EXIF GPS IFD x1", "EXIF thumbnail x1", "JFIF thumbnail x1"):  # fmt: skip
        assert item in removed
    listed = pd.read_csv(out / "scrubbed.csv").set_index("capture_id")
    assert listed.loc["a.jpg", "removed"] == row["removed"]


def test_exiftool_finds_nothing_but_the_orientation(hostile_photos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    gx.scrub(hostile_photos, sites(), out)
    (before,) = exiftool([hostile_photos / "a.jpg"])
    assert any(k.startswith("IPTC:") for k in before) and "ExifIFD:UserComment" in before
    (tags,) = exiftool([out / "a.jpg"])
    groups = {k.split(":", 1)[0] for k in tags if ":" in k}
    assert groups <= {"ExifTool", "System", "File", "JFIF", "Composite", "IFD0"}, groups
    assert [k for k in tags if k.startswith("IFD0:")] == ["IFD0:Orientation"]


def test_segments_between_progressive_scans_are_left_out() -> None:
    data = base_jpeg(progressive=True)
    first = data.index(b"\xff\xda")
    second = data.index(b"\xff\xda", first + 2)
    assert second > first  # a progressive JPEG has several scans
    hidden = seg(0xFE, b"SECRET between scans") + seg(0xED, photoshop({0x0424: dji_xmp(1, 2)}))
    hostile_data = data[:second] + hidden + data[second:]
    done = scrub_jpeg(hostile_data)
    assert SECRET not in done.data and b"8BIM" not in done.data
    assert done.data == data  # exactly the original without what was put in
    assert dict(done.removed) == {"COM": 1, "APP13 Photoshop/IPTC": 1}


def test_unknown_marker_and_tiff_are_refused() -> None:
    data = base_jpeg()
    with pytest.raises(ValueError, match="0xFFF7 at byte 2 is not known to be safe"):
        scrub_jpeg(data[:2] + seg(0xF7, b"\x00" * 8) + data[2:])
    with pytest.raises(ValueError, match="a TIFF or DNG"):
        scrub_jpeg(b"II*\x00" + struct.pack("<I", 8) + b"\x00" * 32)


def test_a_copy_that_cannot_be_shown_clean_is_deleted(
    hostile_photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a scrubber that forgets the comment: the copy read back must be caught
    def leaky(data: bytes) -> Scrubbed:
        done = _jpeg_scrub.scrub_jpeg(data)
        leak = done.data[:2] + seg(0xFE, b"SECRET left in") + done.data[2:]
        return Scrubbed(leak, 0, 0, 0)

    monkeypatch.setattr(scrub_module, "scrub_jpeg", leaky)
    out = tmp_path / "out"
    with pytest.warns(gx.InputWarning, match="a.jpg: the written copy held a COM segment"):
        table = gx.scrub(hostile_photos, sites(), out).set_index("capture_id")
    assert table.loc["a.jpg", "status"] == "skipped"
    assert "COM segment: deleted" in table.loc["a.jpg", "reason"]
    assert pd.isna(table.loc["a.jpg", "output"])
    assert not (out / "a.jpg").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(gx.InputError, match="COM segment"):
            gx.scrub(hostile_photos, sites(), tmp_path / "strict", strict=True)
    assert not (tmp_path / "strict" / "a.jpg").exists()


def test_a_tiff_photo_that_shows_a_site_is_not_copied(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    lon, lat = lonlat(*SPOTS["a.jpg"])
    exif = Image.Exif()
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2026:06:12 10:00:00"
    sub[0x920A] = IFDRational(4000, 1000)
    sub[0xA20E] = sub[0xA20F] = IFDRational(1000, 10)
    sub[0xA210] = 4
    Image.new("RGB", (W, H)).save(
        folder / "a.tif", exif=exif, tiffinfo={700: dji_xmp(lon, lat, CAMERA)}
    )
    with pytest.warns(gx.InputWarning, match="a.tif: a TIFF or DNG: only JPEG photos"):
        table = gx.scrub(folder, sites(), tmp_path / "out")
    assert table["status"].tolist() == ["skipped"]
    assert list((tmp_path / "out").iterdir()) == [tmp_path / "out" / "scrubbed.csv"]


def test_control_characters_in_names_are_escaped_in_reasons(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    lon, lat = lonlat(*SPOTS["a.jpg"])
    name = "a\x1b]8;;x\x07.jpg"
    data = hostile(lon, lat)
    (folder / name).write_bytes(data[: data.index(b"\xff\xda") + 40])  # no end of image
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gx.read_captures(folder)
    messages = [str(w.message) for w in caught]
    assert any("a\\x1b]8;;x\\x07.jpg" in m for m in messages), messages
    assert not any("\x1b" in m or "\x07" in m for m in messages)


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("RGB", {}),
        ("L", {}),
        ("CMYK", {}),  # with an Adobe APP14 header, which decoders need
        ("RGB", {"progressive": True, "optimize": True}),
        ("RGB", {"restart_marker_blocks": 3}),
        ("RGB", {"subsampling": 0, "qtables": "web_high"}),
    ],
)
def test_every_kind_of_jpeg_decodes_to_the_same_pixels(mode: str, options: dict) -> None:
    image = Image.effect_noise((W // 2, H // 2), 60).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80, **options)
    data = buffer.getvalue()
    done = scrub_jpeg(data + b"SECRET trailer")
    assert done.trailer_bytes == len(b"SECRET trailer")
    assert copy_problems(done.data, data) == []
    with Image.open(io.BytesIO(data)) as a, Image.open(io.BytesIO(done.data)) as b:
        assert a.mode == b.mode == mode
        assert np.array_equal(np.asarray(a), np.asarray(b))
