"""Scrub: copies of the photos that show a site, without GPS and XMP, pixels unchanged.

(Hostile inputs, built segment by segment, are in test_scrub_hostile.py.)

What is left in the copies is read with exiftool; which photos show the site follows
from the analytic nadir footprints of the poses written: at yaw 90 (the image's top
to the east) a rectangle ``h H / f`` wide east-west and ``h W / f`` north-south,
centred under the camera.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from pyproj import CRS, Transformer
from test_captures import F_PX, H, W, write_photo

import geoexpose as gx
from geoexpose.audit._jpeg_scrub import scrub_jpeg
from geoexpose.cli import main

O_LON, O_LAT = -30.0, 45.0  # open ocean
LOCAL = CRS.from_proj4(f"+proj=aeqd +lat_0={O_LAT} +lon_0={O_LON} +ellps=WGS84 +units=m")
TO_LONLAT = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
SITE = shapely.box(0, 0, 60, 60)
HEIGHT, YAW = 50.0, 90.0  # footprint 37.5 m east-west, 50 m north-south
# camera positions (east, north) in metres: b, d and f show the site's edge or corner
# (by 0.75 to 1 m), c misses it by 1.25 m
SPOTS = {"a.jpg": (30, 30), "b.jpg": (-18, 30), "c.jpg": (-20, 30), "d.jpg": (78, 84),
         "e.jpg": (300, 300), "f.jpg": (30, -24)}  # fmt: skip
GPS_TAGS = 7  # written into each photo's GPS IFD below


def lonlat(x, y):
    lon, lat = TO_LONLAT.transform(float(x), float(y))
    return lon, lat


def footprint(x, y):
    east, north = HEIGHT * H / F_PX / 2, HEIGHT * W / F_PX / 2
    return shapely.box(x - east, y - north, x + east, y + north)


def expected_names():
    return sorted(
        n
        for n, (x, y) in SPOTS.items()
        if shapely.area(shapely.intersection(footprint(x, y), SITE))
    )


def sites():
    geom = shapely.transform(SITE, lambda xy: np.column_stack(TO_LONLAT.transform(*xy.T)))
    return gpd.GeoDataFrame(
        {"site_id": ["s"], "family": ["water"], "kind": ["water_works"], "name": ["Works"]},
        geometry=[geom],
        crs="EPSG:4326",
    )


def _rational(value, scale=10_000):
    return IFDRational(round(abs(value) * scale), scale)


def write_gps_photo(path: Path, x: float, y: float) -> Path:
    """A photo with DJI XMP (from write_photo), an EXIF GPS IFD and an extended XMP part."""
    lon, lat = lonlat(x, y)
    plain = path.with_suffix(".plain.jpg")
    write_photo(plain, lon=lon, lat=lat, height=HEIGHT, yaw=YAW)
    with Image.open(plain) as img:
        exif, xmp = img.getexif(), img.info["xmp"]
        pixels = img.copy()
    plain.unlink()
    gps = exif.get_ifd(0x8825)
    gps[0] = b"\x02\x03\x00\x00"
    gps[1], gps[3] = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    for tag, value in ((2, lat), (4, lon)):
        deg = abs(value)
        gps[tag] = (
            _rational(int(deg), 1),
            _rational(int(deg * 60 % 60), 1),
            _rational(deg * 3600 % 60),
        )
    gps[5], gps[6] = b"\x00", _rational(HEIGHT + 600)
    buffer = io.BytesIO()
    pixels.save(buffer, "JPEG", quality=90, exif=exif, xmp=xmp)
    data = buffer.getvalue()
    # an extended XMP part (over 64 kB of XMP is written so), after the first segments
    payload = b"http://ns.adobe.com/xmp/extension/\x00" + b"0" * 32 + struct.pack(">II", 20, 0)
    payload += b"<x:xmpmeta>site position</x:xmpmeta>"
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    path.write_bytes(data[:2] + segment + data[2:])
    return path


def scan_data(data: bytes) -> bytes:
    """The bytes from the first start-of-scan marker on (segments walked by length)."""
    pos = 2
    while data[pos + 1] != 0xDA:
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return data[pos:]


def exiftool(paths: list[Path]) -> list[dict]:
    if shutil.which("exiftool") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("exiftool is missing (apt-get install libimage-exiftool-perl)")
        pytest.skip("exiftool is not installed")
    done = subprocess.run(
        ["exiftool", "-j", "-G1", "-a", *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def location_tags(tags: dict) -> list[str]:
    return [k for k in tags if "gps" in k.lower() or k.startswith("XMP")]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, (x, y) in SPOTS.items():
        write_gps_photo(folder / name, x, y)
    return folder


def test_scrubbed_copies_carry_no_gps_no_xmp_and_the_same_pixels(photos, tmp_path):
    before = {p.name: sha256(p) for p in photos.iterdir()}
    out = tmp_path / "out"
    table = gx.scrub(photos, sites(), out)
    expected = expected_names()
    assert expected == ["a.jpg", "b.jpg", "d.jpg", "f.jpg"]  # the analytic answer
    assert sorted(p.name for p in out.glob("*.jpg")) == expected
    assert sorted(table["output"]) == expected and set(table["status"]) == {"scrubbed"}
    assert (table["gps_tags_removed"] == GPS_TAGS).all()
    assert (table["xmp_segments_removed"] == 2).all()
    assert (table["sites"] == "s").all()
    # the originals are untouched, and did carry what the copies lack
    assert {p.name: sha256(p) for p in photos.iterdir()} == before
    originals = exiftool([photos / n for n in expected])
    assert all(any(k.startswith("GPS:") for k in t) for t in originals)
    assert all(any(k.startswith("XMP-drone-dji:") for k in t) for t in originals)
    for tags in exiftool([out / n for n in expected]):
        assert location_tags(tags) == [], tags["System:FileName"]
        # nothing but the file, its JFIF header and the image: no EXIF (these have no
        # orientation to keep), no XMP, IPTC, ICC or comment
        groups = {k.split(":", 1)[0] for k in tags if ":" in k}
        assert groups <= {"ExifTool", "System", "File", "JFIF", "Composite"}, groups
    for name in expected:
        original, copy = (photos / name).read_bytes(), (out / name).read_bytes()
        assert scan_data(copy) == scan_data(original)
        with Image.open(photos / name) as a, Image.open(out / name) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b))
        assert b"site position" not in copy and b"drone-dji" not in copy
    listed = pd.read_csv(out / "scrubbed.csv")
    assert listed["sha256"].tolist() == [sha256(out / n) for n in listed["output"]]


def test_outputs_are_not_replaced_without_overwrite(photos, tmp_path):
    out = tmp_path / "out"
    gx.scrub(photos, sites(), out)
    stamp = (out / "a.jpg").stat().st_mtime_ns
    with pytest.raises(gx.OutputExistsError, match="--overwrite"):
        gx.scrub(photos, sites(), out)
    assert (out / "a.jpg").stat().st_mtime_ns == stamp
    table = gx.scrub(photos, sites(), out, overwrite=True)
    assert len(table) == len(expected_names())


def test_a_copy_never_replaces_its_original(photos):
    before = sha256(photos / "a.jpg")
    with pytest.raises(gx.UsageError, match="would replace its original"):
        gx.scrub(photos, sites(), photos)
    assert sha256(photos / "a.jpg") == before
    assert not (photos / "scrubbed.csv").exists()


def test_a_damaged_photo_is_listed_not_copied(photos, tmp_path):
    data = (photos / "a.jpg").read_bytes()
    (photos / "a.jpg").write_bytes(data[: len(data) - 200])  # no end of image
    with pytest.warns(gx.InputWarning, match="a.jpg: damaged JPEG"):
        table = gx.scrub(photos, sites(), tmp_path / "out").set_index("capture_id")
    assert table.loc["a.jpg", "status"] == "skipped"
    assert "no end (EOI)" in table.loc["a.jpg", "reason"]
    assert not (tmp_path / "out" / "a.jpg").exists()
    assert (tmp_path / "out" / "b.jpg").exists()


def test_cli_scrub(photos, tmp_path):
    layer = tmp_path / "sites.geojson"
    sites().to_file(layer)
    out = tmp_path / "shared"
    done = CliRunner().invoke(
        main, ["scrub", str(photos), "--sites", str(layer), "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == str(out / "scrubbed.csv")
    assert sorted(p.name for p in out.glob("*.jpg")) == expected_names()


def test_real_dji_photos_lose_gps_and_xmp_only(realdata, tmp_path):
    files = sorted((realdata / "dji_images").rglob("*.[jJ][pP][gG]"))
    assert files
    copies = []
    for path in files:
        data = path.read_bytes()
        done = scrub_jpeg(data)
        copy = tmp_path / path.name
        copy.write_bytes(done.data)
        copies.append(copy)
        # the primary image's scan data, byte for byte; trailing previews dropped
        scan = scan_data(done.data)
        assert scan_data(data)[: len(scan)] == scan and scan.endswith(b"\xff\xd9")
        assert len(done.data) + done.trailer_bytes <= len(data)
        with Image.open(path) as a, Image.open(copy) as b:
            assert np.array_equal(np.asarray(a), np.asarray(b))
    before = exiftool(files)
    assert all(location_tags(t) for t in before)
    for tags, original in zip(exiftool(copies), before, strict=True):
        assert location_tags(tags) == []
        # of the EXIF only the orientation stays, with its value
        exif = {k: v for k, v in tags.items() if k.startswith(("IFD0:", "ExifIFD:", "IFD1:"))}
        assert exif == {k: original[k] for k in ("IFD0:Orientation",) if k in original}
        assert not [k for k in tags if k.startswith(("XMP", "IPTC", "Photoshop", "ICC", "MPF"))]
