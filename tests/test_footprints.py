"""Tests of geoexpose.imagery.footprints and .gsd against analytic footprints from pyproj.Geod."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS, Geod, Transformer

from geoexpose.errors import InputError
from geoexpose.imagery.camera import Camera
from geoexpose.imagery.footprints import footprints
from geoexpose.imagery.gsd import gsd_at_ground
from geoexpose.imagery.pose import normalize_pose

GEOD = Geod(ellps="WGS84")
LON, LAT = 12.31, 51.37
WIDE = Camera(4000, 3000, 2000.0, 2000.0, 1500.0)  # HFOV 90, VFOV 73.7 degrees
NARROW = Camera(4000, 3000, 4000.0, 2000.0, 1500.0)  # HFOV 53.1, VFOV 41.1 degrees
OFFSET = Camera(4000, 3000, 2000.0, 2600.0, 1100.0)  # principal point off the centre


def local_polygon(east_north: list[tuple[float, float]]) -> shapely.Polygon:
    """Polygon in EPSG:4326 of offsets (east, north) in metres from the camera, via Geod."""
    e = np.array([p[0] for p in east_north])
    n = np.array([p[1] for p in east_north])
    lon, lat, _ = GEOD.fwd(
        np.full(e.size, LON), np.full(e.size, LAT), np.degrees(np.arctan2(e, n)), np.hypot(e, n)
    )
    return shapely.Polygon(np.c_[lon, lat])


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={LAT} +lon_0={LON} +ellps=WGS84 +units=m")
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    a_m = shapely.transform(a, lambda xy: np.c_[tr.transform(xy[:, 0], xy[:, 1])])
    b_m = shapely.transform(b, lambda xy: np.c_[tr.transform(xy[:, 0], xy[:, 1])])
    return shapely.area(shapely.intersection(a_m, b_m)) / shapely.area(shapely.union(a_m, b_m))


def area_m2(poly: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(poly)[0])


def one(
    h: float, yaw: float, pitch: float, roll: float, cam: Camera, **kw: object
) -> tuple[shapely.Geometry, float, str]:
    polys, gsd, flags = footprints([LON], [LAT], [h], [yaw], [pitch], [roll], cam, **kw)
    assert shapely.is_valid(polys[0]) and not polys[0].is_empty
    return polys[0], float(gsd[0]), str(flags[0])


def nadir_expected(cam: Camera, h: float, yaw: float, flip: bool = False) -> shapely.Polygon:
    """Image corners on the ground at nadir: image top along yaw, image right to its right."""
    fwd = np.array([math.sin(math.radians(yaw)), math.cos(math.radians(yaw))])
    right = np.array([fwd[1], -fwd[0]])
    pts = []
    for u, v in ((0, 0), (cam.width_px, 0), (cam.width_px, cam.height_px), (0, cam.height_px)):
        x = (u - cam.cx_px) / cam.focal_px
        y = (v - cam.cy_px) / cam.focal_px
        if flip:
            x, y = -x, -y
        pts.append(tuple(h * x * right - h * y * fwd))
    return local_polygon(pts)


@pytest.mark.parametrize("yaw", [0.0, 90.0, 180.0, 270.0, 37.5, -123.0])
def test_nadir_rectangle_every_yaw(yaw: float) -> None:
    poly, gsd, flags = one(95.0, yaw, -90.0, 0.0, OFFSET)
    assert iou(poly, nadir_expected(OFFSET, 95.0, yaw)) >= 0.99
    assert flags == ""
    assert gsd == pytest.approx(95.0 / 2000.0 * 100, rel=0.01)


def test_nadir_size_h20t_thermal() -> None:
    cam = Camera(640, 512, 1125.0, 320.0, 256.0)
    poly, gsd, _ = one(95.0, 6.0, -90.0, 0.0, cam)
    assert area_m2(poly) == pytest.approx((95 * 640 / 1125) * (95 * 512 / 1125), rel=0.01)
    assert gsd == pytest.approx(95 / 1125 * 100, rel=0.01)


def trapezoid(h: float, pitch: float, yaw: float, cam: Camera) -> tuple[shapely.Polygon, float]:
    """Analytic oblique footprint (roll 0) and the GSD at the middle of its near edge."""
    dep = math.radians(-pitch)
    beta = math.atan(cam.height_px / 2 / cam.focal_px)
    half_x = cam.width_px / 2 / cam.focal_px
    near, far = h / math.tan(dep + beta), h / math.tan(dep - beta)
    hw_near = half_x * (h / math.sin(dep + beta)) * math.cos(beta)
    hw_far = half_x * (h / math.sin(dep - beta)) * math.cos(beta)
    fwd = np.array([math.sin(math.radians(yaw)), math.cos(math.radians(yaw))])
    right = np.array([fwd[1], -fwd[0]])
    pts = [
        near * fwd - hw_near * right,
        near * fwd + hw_near * right,
        far * fwd + hw_far * right,
        far * fwd - hw_far * right,
    ]
    along = h * math.cos(beta) ** 2 / (cam.focal_px * math.sin(dep + beta) ** 2)
    across = h * math.cos(beta) / (cam.focal_px * math.sin(dep + beta))
    return local_polygon([tuple(p) for p in pts]), 100 * max(along, across)


@pytest.mark.parametrize("pitch", [-60.0, -45.0, -30.0])
@pytest.mark.parametrize("yaw", [10.0, 100.0, -170.0, -80.0])
def test_oblique_trapezoid(pitch: float, yaw: float) -> None:
    poly, gsd, flags = one(100.0, yaw, pitch, 0.0, NARROW)
    expected, expected_gsd = trapezoid(100.0, pitch, yaw, NARROW)
    assert iou(poly, expected) >= 0.99
    assert flags == ""
    assert gsd == pytest.approx(expected_gsd, rel=0.01)


def test_pitch_zero_is_a_capped_sector() -> None:
    h, cap = 100.0, 1000.0
    poly, _, flags = one(h, 45.0, 0.0, 0.0, NARROW, max_range_m=cap)
    assert set(flags.split(";")) == {"horizon_clipped", "range_capped"}
    beta = math.atan(1500 / 4000)
    alpha = math.atan(2000 / 4000)  # at pitch 0 the side edges keep a constant azimuth
    near = h / math.tan(beta)
    yaw = math.radians(45.0)
    pts = [(near * math.tan(a), near) for a in (-alpha, alpha)]
    pts += [(cap * math.sin(a), cap * math.cos(a)) for a in np.linspace(alpha, -alpha, 200)]
    rot = [
        (e * math.cos(yaw) + n * math.sin(yaw), -e * math.sin(yaw) + n * math.cos(yaw))
        for e, n in pts
    ]
    assert iou(poly, local_polygon(rot)) >= 0.99


@pytest.mark.parametrize("pitch", [20.0, 0.0])
def test_looking_up_never_empty(pitch: float) -> None:
    poly, gsd, flags = one(100.0, 200.0, pitch, 0.0, NARROW, max_range_m=800.0)
    assert "range_capped" in flags and "horizon_clipped" in flags
    assert area_m2(poly) > 1000.0
    assert math.isfinite(gsd) and gsd > 0
    lon, lat, _ = GEOD.fwd(LON, LAT, 200.0, 600.0)
    ahead = shapely.Point(lon, lat)
    lon, lat, _ = GEOD.fwd(LON, LAT, 20.0, 600.0)
    behind = shapely.Point(lon, lat)
    assert poly.contains(ahead) and not poly.contains(behind)
    lons, lats = shapely.get_coordinates(poly).T
    _, _, dist = GEOD.inv(np.full(lons.size, LON), np.full(lons.size, LAT), lons, lats)
    assert dist.max() <= 800.0 * 1.001


@pytest.mark.parametrize("roll", [180.0, -180.0])
def test_h30t_roll_180_at_nadir(roll: float) -> None:
    poly, _, _ = one(80.0, 30.0, -90.0, roll, OFFSET)
    assert iou(poly, nadir_expected(OFFSET, 80.0, 210.0)) >= 0.99
    yaw, pitch, r = normalize_pose([30.0], [-90.0], [roll])
    assert (float(yaw[0]), float(pitch[0]), float(r[0])) == (-150.0, -90.0, 0.0)


def test_centred_camera_roll_180_equals_plain_nadir() -> None:
    plain, _, _ = one(80.0, 30.0, -90.0, 0.0, WIDE)
    h30t, _, _ = one(80.0, 30.0, -90.0, 180.0, WIDE)
    assert iou(plain, h30t) >= 0.99


def test_cam_reverse_turns_the_image() -> None:
    poly, _, _ = one(80.0, 30.0, -90.0, 0.0, OFFSET, cam_reverse=[True])
    assert iou(poly, nadir_expected(OFFSET, 80.0, 30.0, flip=True)) >= 0.99
    assert iou(poly, nadir_expected(OFFSET, 80.0, 30.0)) < 0.9


def test_barrel_distortion_widens_the_corners() -> None:
    k1 = -0.1
    cam = Camera(2000, 1000, 1000.0, 1000.0, 500.0, k1=k1)
    poly, _, _ = one(50.0, 0.0, -90.0, 0.0, cam)
    roots = np.roots([k1, 0.0, 1.0, -math.hypot(1.0, 0.5)])
    r = min(z.real for z in roots if abs(z.imag) < 1e-12 and z.real > 0)
    lons, lats = shapely.get_coordinates(poly).T
    _, _, dist = GEOD.inv(np.full(lons.size, LON), np.full(lons.size, LAT), lons, lats)
    assert dist.max() == pytest.approx(50.0 * r, rel=1e-3)


def test_gsd_at_ground_on_the_axis() -> None:
    h = 120.0
    assert gsd_at_ground(NARROW, h, 0.0, -90.0, 0.0, 0.0, 0.0)[0] == pytest.approx(3.0)
    dep = math.radians(40.0)
    dist = h / math.tan(dep)
    got = gsd_at_ground(NARROW, h, 90.0, -40.0, 0.0, dist, 0.0)[0]
    slant = h / math.sin(dep)
    assert got == pytest.approx(100 * slant / (4000.0 * math.sin(dep)), rel=0.01)
    assert np.isnan(gsd_at_ground(NARROW, h, 90.0, -40.0, 0.0, -dist * 50, 0.0)[0])


def test_unknown_yaw_gives_a_disc_flagged() -> None:
    poly, _, flags = one(100.0, float("nan"), -90.0, 0.0, WIDE)
    assert flags == "yaw_unknown"
    for yaw in (0.0, 33.0, 90.0):
        assert shapely.covers(shapely.buffer(poly, 1e-6), nadir_expected(WIDE, 100.0, yaw))


def test_many_cameras_and_bad_input() -> None:
    polys, gsd, _ = footprints(
        [LON, LON], [LAT, LAT], [50.0, 100.0], [0.0, 0.0], [-90.0, -90.0], [0, 0], [WIDE, NARROW]
    )
    assert gsd == pytest.approx([2.5, 2.5])
    assert area_m2(polys[1]) == pytest.approx(area_m2(polys[0]), rel=0.01)
    with pytest.raises(InputError, match=r"height_m.*capture 1"):
        footprints([LON, LON], [LAT, LAT], [50.0, 0.0], [0, 0], [-90, -90], [0, 0], WIDE)
    with pytest.raises(InputError, match="3 cameras"):
        footprints([LON, LON], [LAT, LAT], [50.0, 5.0], [0, 0], [-90, -90], [0, 0], [WIDE] * 3)


@settings(max_examples=60, deadline=None)
@given(
    yaw=st.floats(-180, 180),
    pitch=st.floats(-90, 40),
    roll=st.sampled_from([0.0, 5.0, -20.0, 180.0, -180.0]),
    h=st.floats(1.0, 800.0),
    lat=st.floats(-80, 80),
)
def test_any_pose_gives_a_valid_polygon(
    yaw: float, pitch: float, roll: float, h: float, lat: float
) -> None:
    polys, gsd, _ = footprints([LON], [lat], [h], [yaw], [pitch], [roll], WIDE)
    assert shapely.is_valid(polys[0]) and not polys[0].is_empty
    assert area_m2(polys[0]) > 0
    assert np.isfinite(gsd[0]) and gsd[0] > 0


@settings(max_examples=30, deadline=None)
@given(h1=st.floats(1.0, 700.0), h2=st.floats(1.0, 700.0), yaw=st.floats(-180, 180))
def test_nadir_area_grows_with_height(h1: float, h2: float, yaw: float) -> None:
    lo, hi = sorted((h1, h2))
    polys, _, _ = footprints([LON, LON], [LAT, LAT], [lo, hi], [yaw, yaw], [-90, -90], [0, 0], WIDE)
    a_lo, a_hi = area_m2(polys[0]), area_m2(polys[1])
    assert a_lo == pytest.approx(lo * lo * 2 * 1.5, rel=0.01)
    if hi > lo * 1.01:
        assert a_hi > a_lo
