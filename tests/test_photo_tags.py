"""Tests of geoexpose.imagery.photo_tags: EXIF and DJI XMP of photos, checked against exiftool."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational, ImageFileDirectory_v2

from geoexpose.errors import InputError
from geoexpose.imagery.photo_tags import (
    PHOTO_TAG_FIELDS,
    PROBLEM,
    photo_tags_table,
    read_photo_tags,
)
from geoexpose.schema import PATH

DJI = "http://www.dji.com/drone-dji/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
DEWARP = (
    "2018-09-07;3657.02,3650.62,-4.03,23.1,-0.267098,0.111977,0.000924881,0.0000882056,-0.0331614"
)


def _packet(body: str, ns: str = f'xmlns:drone-dji="{DJI}"') -> bytes:
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF}">{body.format(ns=ns)}</rdf:RDF></x:xmpmeta>'
    ).encode()


def _attributes(**tags: str) -> bytes:
    attrs = " ".join(f'drone-dji:{k}="{v}"' for k, v in tags.items())
    return _packet(f'<rdf:Description rdf:about="DJI Meta Data" {{ns}} {attrs}/>')


def _exif(*, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "DJI"
    exif[0x0110] = "FC3411"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:05:06 07:08:09"
    sub[0x9291] = "25"
    sub[0x9011] = "+02:00"
    sub[0x920A] = IFDRational(88, 10)
    sub[0xA405] = 24
    sub[0xA20E] = IFDRational(5472 * 254, 132)  # pixels per inch of a 13.2 mm sensor
    sub[0xA20F] = IFDRational(3648 * 254, 88)
    sub[0xA210] = 2
    if gps:
        g = exif.get_ifd(0x8825)
        g[1], g[3] = "S", "W"
        g[2] = (IFDRational(33), IFDRational(51), IFDRational(54321, 1000))
        g[4] = (IFDRational(151), IFDRational(12), IFDRational(3, 1))
        g[5] = b"\x01"
        g[6] = IFDRational(1234, 10)
    return exif


def _jpeg(
    path: Path, *, exif: Image.Exif | None = None, xmp: bytes | None = None, noisy: bool = False
) -> Path:
    kwargs: dict = {}
    if exif is not None:
        kwargs["exif"] = exif
    if xmp is not None:
        kwargs["xmp"] = xmp
    if noisy:  # big scan data, so that a cut lands well after the headers
        image = Image.effect_noise((256, 192), 80).convert("RGB")
    else:
        image = Image.new("RGB", (64, 48), (90, 120, 60))
    image.save(path, "JPEG", **kwargs)
    return path


def test_exif_only(tmp_path: Path) -> None:
    tags = read_photo_tags(_jpeg(tmp_path / "a.jpg", exif=_exif()))
    assert (tags.make, tags.model, tags.width_px, tags.height_px) == ("DJI", "FC3411", 64, 48)
    assert tags.lat == pytest.approx(-(33 + 51 / 60 + 54.321 / 3600), abs=1e-12)
    assert tags.lon == pytest.approx(-(151 + 12 / 60 + 3 / 3600), abs=1e-12)
    assert tags.abs_alt_m == pytest.approx(-123.4)  # GPSAltitudeRef 1: below sea level
    assert tags.time_original == datetime(2024, 5, 6, 7, 8, 9, 250000)
    assert tags.time_offset == "+02:00"
    assert (tags.focal_mm, tags.focal35_mm) == (pytest.approx(8.8), 24.0)
    assert tags.focal_plane_unit == "inch"
    assert tags.focal_plane_x_res == pytest.approx(5472 / 13.2)
    assert tags.focal_plane_y_res == pytest.approx(3648 / 8.8)
    assert tags.rel_alt_m is None and tags.gimbal_yaw_deg is None


def test_xmp_attribute_form_wins_over_exif(tmp_path: Path) -> None:
    xmp = _attributes(
        GpsLatitude="-33.8650001",
        GpsLongitude="-151.2008333",
        AbsoluteAltitude="+52.125",
        RelativeAltitude="+100.50",
        GimbalYawDegree="-175.80",
        GimbalPitchDegree="-60.00",
        GimbalRollDegree="+0.10",
        FlightYawDegree="+92.80",
        FlightPitchDegree="-2.50",
        FlightRollDegree="+13.80",
        CalibratedFocalLength="3666.666504",
        CalibratedOpticalCenterX="2736.0",
        CalibratedOpticalCenterY="1824.0",
        DewarpData=" " + DEWARP,
        DewarpFlag="0",
        CamReverse="1",
        LRFTargetDistance="93.914",
        LRFTargetLat="-33.8650583",
        LRFTargetLon="-151.2008706",
        ImageSource="WideCamera",
        ProductName="M3E",
        RtkFlag="50",
    )
    tags = read_photo_tags(_jpeg(tmp_path / "b.jpg", exif=_exif(), xmp=xmp))
    assert (tags.lat, tags.lon, tags.abs_alt_m) == (-33.8650001, -151.2008333, 52.125)
    assert (tags.rel_alt_m, tags.gimbal_yaw_deg, tags.gimbal_pitch_deg) == (100.5, -175.8, -60.0)
    assert (tags.gimbal_roll_deg, tags.flight_yaw_deg) == (0.1, 92.8)
    assert (tags.flight_pitch_deg, tags.flight_roll_deg) == (-2.5, 13.8)
    assert tags.calibrated_focal_px == 3666.666504
    assert (tags.calibrated_cx, tags.calibrated_cy) == (2736.0, 1824.0)
    assert tags.dewarp_data == DEWARP and tags.dewarp_date == "2018-09-07"
    coefficients = [float(v) for v in DEWARP.split(";")[1].split(",")]
    got = [getattr(tags, f"dewarp_{k}") for k in ("fx", "fy", "cx", "cy", "k1", "k2", "p1")]
    assert [*got, tags.dewarp_p2, tags.dewarp_k3] == coefficients
    assert (tags.dewarp_flag, tags.cam_reverse, tags.rtk_flag) == (0, 1, 50)
    assert (tags.lrf_target_distance_m, tags.lrf_target_lat) == (93.914, -33.8650583)
    assert tags.lrf_target_lon == -151.2008706
    assert (tags.image_source, tags.product_name) == ("WideCamera", "M3E")
    assert tags.focal_mm == pytest.approx(8.8)  # EXIF still read alongside


def test_xmp_element_form_matched_by_uri(tmp_path: Path) -> None:
    body = (
        '<rdf:Description rdf:about="" xmlns:dji="' + DJI + '" xmlns:drone-dji="urn:decoy">'
        "<drone-dji:GimbalYawDegree>+99.00</drone-dji:GimbalYawDegree>"
        "<dji:GimbalYawDegree>+12.30</dji:GimbalYawDegree>"
        "<dji:GimbalPitchDegree> -45.5 </dji:GimbalPitchDegree>"
        "<dji:RelativeAltitude><rdf:Seq><rdf:li>+61.25</rdf:li></rdf:Seq></dji:RelativeAltitude>"
        "<dji:GpsLatitude>48.1234567</dji:GpsLatitude>"
        "<dji:GpsLongitude>-2.5</dji:GpsLongitude>"
        "</rdf:Description>"
    )
    tags = read_photo_tags(_jpeg(tmp_path / "c.jpg", xmp=_packet(body)))
    assert (tags.gimbal_yaw_deg, tags.gimbal_pitch_deg, tags.rel_alt_m) == (12.3, -45.5, 61.25)
    assert (tags.lat, tags.lon) == (48.1234567, -2.5)
    assert tags.make is None and tags.focal_mm is None


def test_longtitude_signed_strings_and_junk_after_packet(tmp_path: Path) -> None:
    xmp = _attributes(
        GpsLatitude="+24.68027804",
        GpsLongtitude="-120.95170160",
        GimbalYawDegree="+92.90",
        FlightPitchDegree="-0.00",
    )
    xmp += b"\x00\x00 <junk> not xml </x:xmpmeta <<" + b" " * 64
    tags = read_photo_tags(_jpeg(tmp_path / "d.jpg", xmp=xmp))
    assert (tags.lat, tags.lon, tags.gimbal_yaw_deg) == (24.68027804, -120.9517016, 92.9)
    assert tags.flight_pitch_deg == 0.0


def test_no_metadata(tmp_path: Path) -> None:
    tags = read_photo_tags(_jpeg(tmp_path / "plain.jpg"))
    assert (tags.width_px, tags.height_px) == (64, 48)
    others = [getattr(tags, f) for f in PHOTO_TAG_FIELDS if f not in ("width_px", "height_px")]
    assert others == [None] * len(others)


def test_truncated_and_non_image(tmp_path: Path) -> None:
    xmp = _attributes(GimbalYawDegree="+5")
    whole = _jpeg(tmp_path / "whole.jpg", exif=_exif(), xmp=xmp, noisy=True)
    data = whole.read_bytes()
    cut_header = tmp_path / "cut_header.jpg"
    cut_header.write_bytes(data[:40])  # inside the EXIF segment
    cut_pixels = tmp_path / "cut_pixels.jpg"
    cut_pixels.write_bytes(data[: len(data) // 2])  # metadata whole, pixels cut
    text = tmp_path / "notes.jpg"
    text.write_text("not an image\n")
    for bad in (cut_header, text):
        with pytest.raises(InputError, match=str(bad.name)):
            read_photo_tags(bad)
    assert read_photo_tags(cut_pixels).gimbal_yaw_deg == 5.0
    table = photo_tags_table([whole, cut_header, text, tmp_path / "missing.jpg"])
    assert table[PROBLEM].isna().tolist() == [True, False, False, False]
    assert table[PROBLEM].iloc[1:].str.contains("jpg").all()
    assert "\n" not in "".join(table[PROBLEM].iloc[1:])
    assert table["lat"].isna().tolist() == [False, True, True, True]
    assert table["gimbal_yaw_deg"].iloc[0] == 5.0


@pytest.mark.parametrize(
    ("tags", "field"),
    [
        ({"GimbalYawDegree": "abc"}, "GimbalYawDegree"),
        ({"GpsLatitude": "+95.0"}, "GpsLatitude"),
        ({"GpsLongtitude": "200"}, "GpsLongtitude"),
        ({"RelativeAltitude": "nan"}, "RelativeAltitude"),
        ({"DewarpData": "2018-09-07;1,2,3"}, "DewarpData"),
        ({"CamReverse": "0.5"}, "CamReverse"),
    ],
)
def test_bad_values_name_file_and_field(tmp_path: Path, tags: dict, field: str) -> None:
    path = _jpeg(tmp_path / "bad.jpg", xmp=_attributes(**tags))
    with pytest.raises(InputError, match=f"bad.jpg: field {field}"):
        read_photo_tags(path)
    row = photo_tags_table([path]).iloc[0]
    assert field in row[PROBLEM] and math.isnan(row["gimbal_pitch_deg"])


def test_malformed_xml_and_dtd_refused(tmp_path: Path) -> None:
    # a packet that is not XML is not read; the EXIF is, and a note says why
    bad = _packet('<rdf:Description {ns} drone-dji:GpsLatitude="1" a="1" a="2"/>')
    tags = read_photo_tags(_jpeg(tmp_path / "broken.jpg", exif=_exif(), xmp=bad))
    assert tags.xmp_note.startswith("XMP unreadable") and "duplicate attribute" in tags.xmp_note
    assert tags.lat == pytest.approx(-(33 + 51 / 60 + 54.321 / 3600))  # EXIF, not the XMP's 1
    # a DTD before the packet is cut away with it; its entities stay undefined and are
    # left out, never expanded
    dtd = b'<!DOCTYPE x [<!ENTITY e "x">]>' + _attributes(
        GimbalYawDegree="&e;", GimbalRollDegree="+2"
    )
    tags = read_photo_tags(_jpeg(tmp_path / "dtd.jpg", xmp=dtd))
    assert tags.xmp_note.startswith("XMP repaired") and "undefined entity" in tags.xmp_note
    assert (tags.gimbal_yaw_deg, tags.gimbal_roll_deg) == (None, 2.0)
    gdal = '<!DOCTYPE g [<!ENTITY e "DJI">]><GDALMetadata><Item name="EXIF_Make">&e;</Item>'
    path = _tiff(tmp_path / "dtd.tif", {42112: (gdal + "</GDALMetadata>", 2)})
    with pytest.raises(InputError, match=r"dtd\.tif: field GDAL_METADATA: .*DTD"):
        read_photo_tags(path)


def _tiff(path: Path, entries: dict[int, tuple[object, int]]) -> Path:
    ifd = ImageFileDirectory_v2()
    for tag, (value, kind) in entries.items():
        ifd[tag] = value
        ifd.tagtype[tag] = kind
    Image.new("RGB", (30, 20)).save(path, "TIFF", tiffinfo=ifd)
    return path


def test_dng_like_tiff_with_tiff_ep_tags_and_xmp(tmp_path: Path) -> None:
    xmp = _attributes(GimbalYawDegree="-45.5", RelativeAltitude="+80.0")
    path = _tiff(
        tmp_path / "frame.dng",
        {
            271: ("DJI", 2),
            272: ("L1D-20c", 2),
            50706: (b"\x01\x04\x00\x00", 1),  # DNGVersion
            0x920A: (IFDRational(103, 10), 5),  # TIFF/EP FocalLength in IFD0
            0x920E: (IFDRational(5472 * 100, 132), 5),  # FocalPlaneXResolution per cm
            0x920F: (IFDRational(3648 * 100, 88), 5),
            0x9210: (3, 3),
            700: (xmp, 1),
        },
    )
    tags = read_photo_tags(path)
    assert (tags.make, tags.model, tags.width_px, tags.height_px) == ("DJI", "L1D-20c", 30, 20)
    assert (tags.gimbal_yaw_deg, tags.rel_alt_m) == (-45.5, 80.0)
    assert tags.focal_mm == pytest.approx(10.3) and tags.focal_plane_unit == "cm"
    assert tags.focal_plane_x_res == pytest.approx(5472 / 13.2)
    assert tags.focal_plane_y_res == pytest.approx(3648 / 8.8)


def test_tiff_with_gdal_exif_items(tmp_path: Path) -> None:
    items = {
        "EXIF_Make": "DJI",
        "EXIF_Model": "FC6310R",
        "EXIF_DateTimeOriginal": "2019:04:11 11:01:21",
        "EXIF_FocalLength": "(8.8)",
        "EXIF_FocalLengthIn35mmFilm": "24",
        "EXIF_GPSLatitude": "(24) (40) (49.0009)",
        "EXIF_GPSLatitudeRef": "N",
        "EXIF_GPSLongitude": "(120) (57) (6.1257)",
        "EXIF_GPSLongitudeRef": "W",
        "EXIF_GPSAltitude": "(186.57)",
        "EXIF_GPSAltitudeRef": "0x00",
        "EXIF_PixelXDimension": "5472",
    }
    xml = "<GDALMetadata>" + "".join(f'<Item name="{k}">{v}</Item>' for k, v in items.items())
    path = _tiff(tmp_path / "gdal.tif", {42112: (xml + "</GDALMetadata>", 2)})
    tags = read_photo_tags(path)
    assert (tags.make, tags.model, tags.focal_mm, tags.focal35_mm) == ("DJI", "FC6310R", 8.8, 24)
    assert tags.lat == pytest.approx(24 + 40 / 60 + 49.0009 / 3600, abs=1e-12)
    assert tags.lon == pytest.approx(-(120 + 57 / 60 + 6.1257 / 3600), abs=1e-12)
    assert (tags.abs_alt_m, tags.exif_width_px) == (186.57, 5472)
    assert tags.time_original == datetime(2019, 4, 11, 11, 1, 21)


def test_table_columns_and_dtypes(tmp_path: Path) -> None:
    good = _jpeg(tmp_path / "g.jpg", exif=_exif(), xmp=_attributes(GimbalYawDegree="+7.5"))
    table = photo_tags_table([good, tmp_path / "nope.jpg"])
    assert list(table.columns) == [PATH, *PHOTO_TAG_FIELDS, PROBLEM]
    assert table[PATH].tolist() == [str(good), str(tmp_path / "nope.jpg")]
    assert table["gimbal_yaw_deg"].dtype == np.float64
    assert table["width_px"].tolist()[0] == 64 and math.isnan(table["width_px"].iloc[1])
    assert pd.api.types.is_datetime64_dtype(table["time_original"])
    assert table["time_original"].iloc[0] == pd.Timestamp("2024-05-06 07:08:09.25")
    assert pd.isna(table["time_original"].iloc[1]) and table["make"].iloc[0] == "DJI"


# --- real DJI files, compared with exiftool ------------------------------------------

# our field -> exiftool keys (``-G`` group:name), first present wins
EXIFTOOL_KEYS = {
    "lat": ("XMP:GPSLatitude", "Composite:GPSLatitude"),
    "lon": ("XMP:GPSLongitude", "XMP:GPSLongtitude", "Composite:GPSLongitude"),
    "abs_alt_m": ("XMP:AbsoluteAltitude", "Composite:GPSAltitude"),
    "rel_alt_m": ("XMP:RelativeAltitude",),
    "gimbal_yaw_deg": ("XMP:GimbalYawDegree",),
    "gimbal_pitch_deg": ("XMP:GimbalPitchDegree",),
    "gimbal_roll_deg": ("XMP:GimbalRollDegree",),
    "flight_yaw_deg": ("XMP:FlightYawDegree",),
    "flight_pitch_deg": ("XMP:FlightPitchDegree",),
    "flight_roll_deg": ("XMP:FlightRollDegree",),
    "focal_mm": ("EXIF:FocalLength",),
    "focal35_mm": ("EXIF:FocalLengthIn35mmFormat",),
    "calibrated_focal_px": ("XMP:CalibratedFocalLength",),
    "calibrated_cx": ("XMP:CalibratedOpticalCenterX",),
    "calibrated_cy": ("XMP:CalibratedOpticalCenterY",),
    "lrf_target_distance_m": ("XMP:LRFTargetDistance",),
    "lrf_target_lat": ("XMP:LRFTargetLat",),
    "lrf_target_lon": ("XMP:LRFTargetLon",),
}
# exiftool reads no EXIF inside GDAL metadata; we do, so these may be ours alone there
GDAL_EXIF_FIELDS = {"focal_mm", "focal35_mm"}


def _exiftool(paths: list[Path]) -> dict[str, dict]:
    if shutil.which("exiftool") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("exiftool is missing (apt-get install libimage-exiftool-perl)")
        pytest.skip("exiftool is not installed")
    run = subprocess.run(
        ["exiftool", "-j", "-n", "-G", "-a", *map(str, paths)],
        capture_output=True,
        check=False,
        text=True,
    )
    return {entry["SourceFile"]: entry for entry in json.loads(run.stdout)}


def test_real_files_agree_with_exiftool(realdata: Path) -> None:
    files = sorted(p for p in (realdata / "dji_images").rglob("*") if p.is_file())
    truth = _exiftool(files)
    table = photo_tags_table(files).set_index(PATH)
    compared = 0
    for path in files:
        row, ref = table.loc[str(path)], truth[str(path)]
        if ref["File:FileType"] not in ("JPEG", "TIFF"):
            assert isinstance(row[PROBLEM], str) and path.name in row[PROBLEM]
            continue
        assert pd.isna(row[PROBLEM]), row[PROBLEM]
        for field, keys in EXIFTOOL_KEYS.items():
            key = next((k for k in keys if k in ref), None)
            if key is None:
                gdal = "EXIF:GDALMetadata" in ref and field in GDAL_EXIF_FIELDS
                assert gdal or np.isnan(row[field]), (path.name, field)
                continue
            assert row[field] == pytest.approx(float(ref[key]), abs=1e-6), (path.name, field)
            compared += 1
        assert row["make"] == ref.get("EXIF:Make", ref.get("XMP:Make")), path.name
        assert row["model"] == ref.get("EXIF:Model", ref.get("XMP:Model")), path.name
    assert compared >= 14 * 12  # 14 DJI frames, each with a full pose


def test_real_file_details(realdata: Path) -> None:
    images = realdata / "dji_images"
    xt2 = read_photo_tags(images / "thermal_parser_samples" / "DJI_XT2.jpg")
    assert (xt2.model, xt2.focal_mm, xt2.focal35_mm, xt2.gimbal_pitch_deg) == ("FLIR", 19, None, 0)
    assert xt2.time_original == datetime(2018, 7, 27, 14, 51, 54, 481000)
    p4 = read_photo_tags(images / "orthority_odm_p4rtk" / "images" / "100_0005_0018.tif")
    # values stated in the folder's SOURCE.txt
    assert (p4.model, p4.focal_mm, p4.focal35_mm) == ("FC6310R", 8.8, 24)
    assert (p4.width_px, p4.height_px, p4.exif_width_px) == (1368, 912, 5472)
    # the XMP decimals (GpsLongtitude) win over the rounded GDAL EXIF rationals
    assert (p4.lat, p4.lon) == (24.68027804, 120.9517016)
    assert (p4.dewarp_flag, p4.rtk_flag, p4.dewarp_date, p4.dewarp_k1) == (
        0,
        50,
        "2018-09-07",
        -0.267098,
    )
    h20t = read_photo_tags(images / "kattenborn_h20t_thermal" / "DJI_20220602143614_0217_T.JPG")
    assert (h20t.image_source, h20t.focal35_mm, h20t.gimbal_yaw_deg) == ("InfraredCamera", 58, 24)
