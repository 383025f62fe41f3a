"""Tests of geoexpose.imagery.camera: intrinsics from tags, Brown distortion, the DJI table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from geoexpose.errors import InputError
from geoexpose.imagery.camera import Camera, camera_from_tags, camera_table

P4RTK_DEWARP = {
    "fx": 3657.02,
    "fy": 3650.62,
    "cx": -4.03,
    "cy": 23.1,
    "k1": -0.267098,
    "k2": 0.111977,
    "p1": 0.000924881,
    "p2": 0.0000882056,
    "k3": -0.0331614,
}


def test_dewarp_fields_named_as_read_photo_tags_names_them() -> None:
    tags = {"width_px": 5472, "height_px": 3648, "dewarp_flag": 0}
    tags |= {f"dewarp_{k}": v for k, v in P4RTK_DEWARP.items()}
    cam = camera_from_tags(tags)
    assert cam.source == "calibrated" and cam.has_distortion
    assert cam.k1 == pytest.approx(P4RTK_DEWARP["k1"])
    assert cam.focal_px == pytest.approx(0.5 * (3657.02 + 3650.62))
    assert cam.cx_px == pytest.approx(2736 - 4.03)


def test_calibrated_focal_length_comes_first() -> None:
    tags = {
        "model": "FC6310R",
        "width_px": 5472,
        "height_px": 3648,
        "focal_mm": 8.8,
        "focal35_mm": 24,
        "calibrated_focal_px": "3666.666504",
        "calibrated_cx": 2736.0,
        "calibrated_cy": 1824.0,
        "dewarp_flag": 1,
        **P4RTK_DEWARP,
    }
    cam = camera_from_tags(tags)
    assert cam.source == "calibrated"
    assert cam.focal_px == pytest.approx(3666.666504)
    assert (cam.cx_px, cam.cy_px) == (2736.0, 1824.0)
    assert not cam.has_distortion  # DewarpFlag 1: the image is already undistorted
    assert cam.pixel_mm == pytest.approx(8.8 / 3666.666504)


def test_dewarp_data_applies_when_flag_is_zero() -> None:
    tags = {"width_px": 5472, "height_px": 3648, "dewarp_flag": "0", **P4RTK_DEWARP}
    tags["calibrated_focal_px"] = 3666.67
    cam = camera_from_tags(tags)
    assert cam.source == "calibrated"
    assert cam.has_distortion
    assert cam.k1 == -0.267098 and cam.k3 == -0.0331614 and cam.p2 == 0.0000882056
    assert cam.focal_px == pytest.approx((3657.02 + 3650.62) / 2)
    assert cam.cx_px == pytest.approx(2736 - 4.03)
    assert cam.cy_px == pytest.approx(1824 + 23.1)


def test_focal_plane_resolution_second() -> None:
    tags = {
        "width_px": 4000,
        "height_px": 3000,
        "focal_mm": "+4.5",
        "focal_plane_x_res": 625.0,
        "focal35_mm": 30,
    }
    cam = camera_from_tags(tags)
    assert cam.source == "focal_plane"
    assert cam.focal_px == pytest.approx(4.5 * 625.0)
    assert cam.pixel_mm == pytest.approx(0.0016)
    assert (cam.cx_px, cam.cy_px) == (2000.0, 1500.0)


def test_focal_35mm_uses_the_diagonal_crop_factor() -> None:
    # H20T thermal: 640 x 512, 12 um pitch, 13.5 mm, written as 58 mm equivalent.
    cam = camera_from_tags({"model": "ZH20T", "width_px": 640, "height_px": 512, "focal35_mm": 58})
    assert cam.source == "focal_35mm"
    expected = 58 * math.hypot(640, 512) / math.hypot(36, 24)
    assert cam.focal_px == pytest.approx(expected, rel=1e-4)
    # The true focal is 13.5 mm / 0.012 mm = 1125 px: the diagonal rule is within 3 %,
    # the width rule (36 mm) would be 1031 px, 8 % off.
    assert cam.focal_px == pytest.approx(1125, rel=0.03)


def test_photo_focal_with_table_pitch_beats_rounded_35mm() -> None:
    # DJI rounds the 35 mm value: the H20T thermal writes 58 mm, the exact equivalent of
    # 13.5 mm on its 7.68 x 6.144 mm sensor is 13.5 * 43.2666 / hypot(7.68, 6.144).
    exact35 = 13.5 * math.hypot(36, 24) / math.hypot(7.68, 6.144)
    assert exact35 == pytest.approx(59.4, abs=0.05)
    tags = {"model": "ZH20T", "width_px": 640, "height_px": 512, "focal_mm": 13.5}
    cam = camera_from_tags({**tags, "focal35_mm": 58})
    assert cam.source == "table"
    assert cam.focal_px == pytest.approx(13.5 / 0.012)
    # a model not in the table keeps the 35 mm value
    other = camera_from_tags({**tags, "model": "Unknown", "focal35_mm": 58})
    assert other.source == "focal_35mm"


def test_table_by_model_with_resized_image() -> None:
    cam = camera_from_tags({"model": "FC6310", "width_px": 5472, "height_px": 3648})
    assert cam.source == "table"
    assert cam.focal_px == pytest.approx(8.8 * 5472 / 13.2)
    small = camera_from_tags({"model": "fc6310", "width_px": 1368, "height_px": 912})
    assert small.focal_px == pytest.approx(8.8 * 1368 / 13.2)


def test_table_h20t_sensors_told_apart_by_size() -> None:
    thermal = camera_from_tags({"model": "ZH20T", "width_px": 640, "height_px": 512})
    assert thermal.focal_px == pytest.approx(13.5 / 0.012)
    wide = camera_from_tags({"model": "ZH20T", "width_px": 4056, "height_px": 3040})
    assert wide.focal_px == pytest.approx(4.5 * 4056 / 6.17)
    zoom = camera_from_tags(
        {"model": "ZH20T", "width_px": 5184, "height_px": 3888, "focal_mm": 31.7}
    )
    assert zoom.focal_px == pytest.approx(31.7 * 5184 / 7.6)


def test_xt2_needs_its_exif_focal_length() -> None:
    cam = camera_from_tags(
        {"make": "DJI", "model": "FLIR", "width_px": 640, "height_px": 512, "focal_mm": 19.0}
    )
    assert cam.source == "table"
    assert cam.focal_px == pytest.approx(19.0 / 0.017)
    with pytest.raises(InputError, match=r"DJI_XT2\.jpg.*no focal_mm"):
        camera_from_tags({"model": "FLIR", "width_px": 640, "height_px": 512}, path="DJI_XT2.jpg")


def test_nothing_usable_names_file_and_fields() -> None:
    tags = {"path": "a/b.jpg", "model": "Nope", "width_px": 100, "height_px": 80, "focal35_mm": 0}
    with pytest.raises(InputError, match=r"a/b\.jpg.*focal35_mm.*'Nope'"):
        camera_from_tags(tags)
    with pytest.raises(InputError, match="width_px"):
        camera_from_tags({"path": "x.jpg", "focal35_mm": 24})


def test_camera_refuses_zero_focal() -> None:
    with pytest.raises(ValueError, match="focal_px"):
        Camera(100, 100, 0.0, 50.0, 50.0)
    with pytest.raises(ValueError, match="source"):
        Camera(100, 100, 10.0, 50.0, 50.0, source="guess")


def test_distort_matches_brown_by_hand() -> None:
    cam = Camera(1000, 800, 1000.0, 500.0, 400.0, k1=-0.2, k2=0.05, p1=0.001, p2=-0.002)
    x, y = 0.3, -0.2
    r2 = x * x + y * y
    radial = 1 - 0.2 * r2 + 0.05 * r2 * r2
    xd = x * radial + 2 * 0.001 * x * y + (-0.002) * (r2 + 2 * x * x)
    yd = y * radial + 0.001 * (r2 + 2 * y * y) + 2 * (-0.002) * x * y
    u, v = cam.distort(x, y)
    assert float(u) == pytest.approx(500 + 1000 * xd)
    assert float(v) == pytest.approx(400 + 1000 * yd)


def test_undistort_inverts_distort_p4rtk() -> None:
    cam = camera_from_tags({"width_px": 5472, "height_px": 3648, "dewarp_flag": 0, **P4RTK_DEWARP})
    u = np.array([0.0, 5472.0, 2736.0, 0.0, 5472.0, 1000.0])
    v = np.array([0.0, 3648.0, 1824.0, 3648.0, 0.0, 2500.0])
    x, y = cam.undistort(u, v)
    u2, v2 = cam.distort(x, y)
    np.testing.assert_allclose(u2, u, atol=1e-6)
    np.testing.assert_allclose(v2, v, atol=1e-6)
    # Barrel distortion: the corner rays are wider than the pinhole ones.
    assert abs(x[0]) > abs((0 - cam.cx_px) / cam.focal_px)


def test_undistort_radial_only_against_polynomial_root() -> None:
    k1 = -0.1
    cam = Camera(2000, 1000, 1000.0, 1000.0, 500.0, k1=k1)
    rd = math.hypot(1.0, 0.5)  # the corner, in distorted normalized units
    roots = np.roots([k1, 0.0, 1.0, -rd])
    r = min(z.real for z in roots if abs(z.imag) < 1e-12 and z.real > 0)
    x, y = cam.undistort(2000.0, 1000.0)
    assert math.hypot(float(x), float(y)) == pytest.approx(r, rel=1e-9)


def test_table_entries_agree_with_stated_fov() -> None:
    rows = camera_table()
    models = {r["model"] for r in rows}
    assert {
        "FC6310",
        "FC6310R",
        "FC6310S",
        "FC330",
        "FC220",
        "FC3170",
        "FC3411",
        "FC7303",
        "L1D-20c",
        "M3E",
        "ZH20T",
        "FLIR",
    } <= models
    for row in rows:
        assert row["sensor_width_mm"] / row["width_px"] == pytest.approx(
            row["sensor_height_mm"] / row["height_px"], rel=0.04
        ), row
        if "focal_mm" in row:
            diag = math.hypot(row["sensor_width_mm"], row["sensor_height_mm"])
            dfov = math.degrees(2 * math.atan(diag / (2 * row["focal_mm"])))
            assert abs(dfov - row["dfov_deg"]) < 3.0, row


def test_calibration_of_a_resized_copy_is_scaled() -> None:
    # The P4 RTK TIFFs are 1368 x 912 copies of 5472 x 3648 frames with full-size tags.
    tags = {
        "width_px": 1368,
        "height_px": 912,
        "calibrated_focal_px": 3666.666504,
        "calibrated_cx": 2736.0,
        "calibrated_cy": 1824.0,
        "dewarp_flag": 0,
        **P4RTK_DEWARP,
    }
    cam = camera_from_tags(tags)
    assert cam.focal_px == pytest.approx((3657.02 + 3650.62) / 2 / 4)
    assert cam.cx_px == pytest.approx((2736 - 4.03) / 4)
    assert cam.cy_px == pytest.approx((1824 + 23.1) / 4)
    assert cam.k1 == -0.267098
    plain = camera_from_tags({**tags, "dewarp_flag": 1})
    assert plain.focal_px == pytest.approx(3666.666504 / 4)
    assert (plain.cx_px, plain.cy_px) == (684.0, 456.0)
