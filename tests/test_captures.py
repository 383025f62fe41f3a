"""Tests of geoexpose.read_captures on photos the tests write with exact poses, and real files.

Expected footprints are built here independently of geoexpose: each image edge is a
straight line, so its ground trace is the straight line through the ground points of its
ends (a projective map), clipped to the rays that reach the ground inside the range disc.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_track
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from pyproj import CRS, Geod, Transformer

import geoexpose as gx
from geoexpose.errors import InputError, InputWarning
from geoexpose.imagery.read import read_captures

GEOD = Geod(ellps="WGS84")
DJI = "http://www.dji.com/drone-dji/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
LON, LAT = -3.71, 40.42
W, H = 400, 300
FOCAL_MM, PX_PER_MM = 4.0, 100.0  # focal 400 px: HFOV 53.1, VFOV 41.1 degrees
F_PX = FOCAL_MM * PX_PER_MM


def write_photo(
    path: Path,
    *,
    lon: float = LON,
    lat: float = LAT,
    height: float = 100.0,
    yaw: float | None = 0.0,
    pitch: float | None = -90.0,
    roll: float | None = 0.0,
    flight_yaw: float | None = None,
    time: str = "2026:06:12 10:00:00",
    offset: str | None = "+00:00",
    extra_xmp: str = "",
) -> Path:
    """A small JPEG with EXIF intrinsics and time, and DJI XMP position and pose."""
    exif = Image.Exif()
    exif[0x010F] = "DJI"
    exif[0x0110] = "TestCam"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = time
    if offset is not None:
        sub[0x9011] = offset
    sub[0x920A] = IFDRational(int(FOCAL_MM * 1000), 1000)
    sub[0xA20E] = IFDRational(int(PX_PER_MM * 10), 10)
    sub[0xA20F] = IFDRational(int(PX_PER_MM * 10), 10)
    sub[0xA210] = 4  # millimetres
    tags = {
        "GpsLatitude": f"{lat:+.8f}",
        "GpsLongitude": f"{lon:+.8f}",
        "RelativeAltitude": f"{height:+.3f}",
        "AbsoluteAltitude": f"{height + 600:+.3f}",
    }
    for key, value in (
        ("GimbalYawDegree", yaw),
        ("GimbalPitchDegree", pitch),
        ("GimbalRollDegree", roll),
        ("FlightYawDegree", flight_yaw),
    ):
        if value is not None:
            tags[key] = f"{value:+.2f}"
    attrs = " ".join(f'drone-dji:{k}="{v}"' for k, v in tags.items()) + " " + extra_xmp
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<rdf:RDF xmlns:rdf="{RDF}"><rdf:Description rdf:about="" '
        f'xmlns:drone-dji="{DJI}" {attrs}/></rdf:RDF></x:xmpmeta>'
    ).encode()
    Image.new("RGB", (W, H), (90, 120, 60)).save(path, "JPEG", exif=exif, xmp=xmp)
    return path


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Camera (x right, y down, z forward) to NED: Z-Y-X Euler angles, built here."""
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    rz = np.array([[math.cos(y), -math.sin(y), 0], [math.sin(y), math.cos(y), 0], [0, 0, 1]])
    ry = np.array([[math.cos(p), 0, math.sin(p)], [0, 1, 0], [-math.sin(p), 0, math.cos(p)]])
    rx = np.array([[1, 0, 0], [0, math.cos(r), -math.sin(r)], [0, math.sin(r), math.cos(r)]])
    cam_to_body = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])
    return rz @ ry @ rx @ cam_to_body


def ground(rot: np.ndarray, h: float, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(east, north) where the rays of pixels (u, v) meet the ground h below; NaN above."""
    ray = rot @ np.vstack([(u - W / 2) / F_PX, (v - H / 2) / F_PX, np.ones_like(u)])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(ray[2] > 0, h / ray[2], np.nan)
    return np.column_stack([t * ray[1], t * ray[0]])


def expected_footprint(
    yaw: float, pitch: float, roll: float, h: float, max_range: float = 1000.0, min_dep=2.0
) -> shapely.Geometry:
    """The analytic footprint in metres east/north of the camera."""
    rot = rotation(yaw, pitch, roll)
    radius = min(h / math.tan(math.radians(min_dep)), max_range)
    # the image rectangle, clipped to the rays steep enough to land beyond 4 radii at most
    down = rot[2]  # down component of the ray (x, y, 1) is down . (x, y, 1)
    delta = h / (4 * radius)
    square = shapely.box(-W / 2 / F_PX, -H / 2 / F_PX, W / 2 / F_PX, H / 2 / F_PX)
    big = 1e3
    # half-plane down[0] x + down[1] y + down[2] >= delta, as a large polygon
    normal = np.array([down[0], down[1]])
    n2 = normal @ normal if normal @ normal > 1e-12 else 0.0
    base = normal * (delta - down[2]) / n2 if n2 > 0 else np.zeros(2)
    along = np.array([-normal[1], normal[0]]) / math.sqrt(n2) if n2 > 0 else np.array([1.0, 0])
    inward = normal / math.sqrt(n2) if n2 > 0 else np.zeros(2)
    half = shapely.Polygon(
        [base - big * along, base + big * along, base + big * along + big * inward,
         base - big * along + big * inward]
    )  # fmt: skip
    visible = shapely.intersection(square, half) if n2 > 0 else square
    xy = np.asarray(visible.exterior.coords)
    # densify the edges in the image: straight on the ground too, so only for the disc clip
    pts = ground(rot, h, xy[:, 0] * F_PX + W / 2, xy[:, 1] * F_PX + H / 2)
    poly = shapely.Polygon(pts).buffer(0)
    disc = shapely.Point(0, 0).buffer(radius, quad_segs=512)
    return shapely.intersection(poly, disc)


def local_metres(poly: shapely.Geometry, lon: float = LON, lat: float = LAT) -> shapely.Geometry:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(poly, lambda xy: np.c_[tr.transform(xy[:, 0], xy[:, 1])])


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    return shapely.area(shapely.intersection(a, b)) / shapely.area(shapely.union(a, b))


def expected_gsd_cm(yaw: float, pitch: float, roll: float, h: float, fp: shapely.Geometry) -> float:
    """GSD at the footprint point nearest the camera: finite differences of ``ground``."""
    rot = rotation(yaw, pitch, roll)
    target = shapely.get_point(shapely.shortest_line(shapely.Point(0, 0), fp), 1)
    # the pixel of that ground point: the ray to it, in camera coordinates
    ray = rot.T @ np.array([target.y, target.x, h])
    u = ray[0] / ray[2] * F_PX + W / 2
    v = ray[1] / ray[2] * F_PX + H / 2
    eps = 1e-3
    g0 = ground(rot, h, np.array([u]), np.array([v]))[0]
    gu = (ground(rot, h, np.array([u + eps]), np.array([v]))[0] - g0) / eps
    gv = (ground(rot, h, np.array([u]), np.array([v + eps]))[0] - g0) / eps
    return 100 * float(np.linalg.svd(np.column_stack([gu, gv]), compute_uv=False)[0])


POSES = [
    (yaw, pitch) for yaw in (30.0, 120.0, 210.0, 300.0) for pitch in (-90, -60, -35, -10, 0, 10)
]


@pytest.fixture(scope="module")
def posed(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, dict[str, tuple]]:
    folder = tmp_path_factory.mktemp("posed")
    poses = {}
    for i, (yaw, pitch) in enumerate(POSES):
        roll = 4.0 if i % 3 == 1 else 0.0
        name = f"p{i:02d}.jpg"
        write_photo(folder / name, yaw=yaw, pitch=pitch, roll=roll, height=80.0 + i)
        poses[name] = (yaw, pitch, roll, 80.0 + i)
    return read_captures(folder), poses


def test_synthetic_poses_match_the_analytic_footprint_and_gsd(posed) -> None:
    caps, poses = posed
    assert len(caps) == len(POSES)
    assert (caps["intrinsics"] == "focal_plane").all()
    assert (caps["focal_px"] == F_PX).all()
    worst_iou, worst_gsd = 1.0, 0.0
    for row in caps.itertuples():
        yaw, pitch, roll, h = poses[row.capture_id]
        assert (row.yaw_deg, row.pitch_deg, row.roll_deg, row.alt_agl_m) == pytest.approx(
            (yaw, pitch, roll, h)
        )
        expected = expected_footprint(yaw, pitch, roll, h)
        got = local_metres(row.geometry)
        worst_iou = min(worst_iou, iou(got, expected))
        gsd = expected_gsd_cm(yaw, pitch, roll, h, expected)
        worst_gsd = max(worst_gsd, abs(row.gsd_cm / gsd - 1))
        clipped = pitch >= -10  # the top edge looks at or above 2 degrees of depression
        assert ("horizon_clipped" in row.flags) == clipped, (row.capture_id, row.flags)
    print(f"worst IoU {worst_iou:.5f}, worst GSD error {worst_gsd:.2%}")
    assert worst_iou >= 0.99
    assert worst_gsd <= 0.01


def test_looking_up_gives_a_range_capped_sector_ahead(tmp_path: Path) -> None:
    path = write_photo(tmp_path / "up.jpg", yaw=75.0, pitch=25.0, height=60.0)
    caps = read_captures(path)
    row = caps.iloc[0]
    assert {"horizon_clipped", "range_capped"} <= set(row["flags"].split(";"))
    poly = local_metres(row.geometry)
    assert poly.area > 1000
    # the sector lies ahead, along the yaw, out to the range cap
    c = poly.centroid
    assert math.degrees(math.atan2(c.x, c.y)) == pytest.approx(75.0, abs=2)
    assert max(math.hypot(x, y) for x, y in poly.exterior.coords) == pytest.approx(1000, rel=0.01)


def test_h30t_form_and_flight_attitude_fallback(tmp_path: Path) -> None:
    a = write_photo(tmp_path / "a.jpg", yaw=40.0, pitch=-90.0, roll=0.0)
    b = write_photo(tmp_path / "b.jpg", yaw=-140.0, pitch=-90.0, roll=180.0)  # the H30T form
    c = write_photo(tmp_path / "c.jpg", yaw=None, pitch=-90.0, roll=0.0, flight_yaw=40.0)
    caps = read_captures([a, b, c]).set_index("capture_id")
    ref = local_metres(caps.geometry["a.jpg"])
    assert iou(local_metres(caps.geometry["b.jpg"]), ref) >= 0.999
    assert iou(local_metres(caps.geometry["c.jpg"]), ref) >= 0.999
    assert "pose_from_flight_attitude" in caps.loc["c.jpg", "flags"]
    assert "pose_from_flight_attitude" not in caps.loc["a.jpg", "flags"]


def test_broken_attitude_gives_a_yaw_free_footprint(tmp_path: Path) -> None:
    (tmp_path / "zero").mkdir()
    (tmp_path / "seq").mkdir()
    zero = write_photo(tmp_path / "zero" / "z.jpg", yaw=0.0, pitch=0.0, roll=0.0)
    seq = [
        write_photo(tmp_path / "seq" / f"s{i}.jpg", yaw=0.0, pitch=-90.0, lat=LAT + i * 1e-4)
        for i in range(3)
    ]
    caps = read_captures([zero, *seq]).set_index("capture_id")
    z = caps.loc["z.jpg"]
    assert {"attitude_broken", "pose_nadir_assumed", "yaw_unknown"} <= set(z["flags"].split(";"))
    # a disc that holds the nadir footprint at any yaw: radius = half the ground diagonal
    r = 100.0 * math.hypot(W / 2, H / 2) / F_PX
    poly = local_metres(z.geometry)
    assert poly.area == pytest.approx(math.pi * r * r, rel=0.01)
    for name in ("s0.jpg", "s1.jpg", "s2.jpg"):
        assert {"attitude_broken", "yaw_unknown"} <= set(caps.loc[name, "flags"].split(";"))
    # one photo with yaw 0 alone in its folder is believed
    single = read_captures(write_photo(tmp_path / "one.jpg", yaw=0.0, pitch=-90.0))
    assert "yaw_unknown" not in single["flags"].iloc[0]


def test_times_offsets_zones_and_clamped_height(tmp_path: Path) -> None:
    a = write_photo(tmp_path / "a.jpg", time="2026:06:12 12:00:00", offset="+02:00")
    b = write_photo(tmp_path / "b.jpg", time="2026:06:12 12:00:00", offset=None)
    low = write_photo(tmp_path / "low.jpg", height=0.2)
    with pytest.warns(InputWarning, match="taken as UTC"):
        caps = read_captures([a, b, low]).set_index("capture_id")
    assert caps.loc["a.jpg", "time_utc"] == pd.Timestamp("2026-06-12T10:00:00Z")
    assert caps.loc["b.jpg", "time_utc"] == pd.Timestamp("2026-06-12T12:00:00Z")
    assert "time_zone_assumed_utc" in caps.loc["b.jpg", "flags"]
    assert "height_clamped" in caps.loc["low.jpg", "flags"]
    zoned = read_captures(b, time_zone="Europe/Madrid")
    assert zoned.time_utc.iloc[0] == pd.Timestamp("2026-06-12T10:00:00Z")
    assert "time_zone_assumed_utc" not in zoned["flags"].iloc[0]


def test_bad_files_are_reported_and_skipped(tmp_path: Path) -> None:
    good = write_photo(tmp_path / "good.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "junk.jpg").write_bytes(b"\x00\x01binary junk" * 50)
    (tmp_path / "cut.jpg").write_bytes(good.read_bytes()[:300])
    no_gps = tmp_path / "nogps.jpg"
    Image.new("RGB", (W, H)).save(no_gps, "JPEG")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        caps = read_captures(tmp_path)
    assert caps.capture_id.tolist() == ["good.jpg"]
    messages = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    for name in ("empty.jpg", "junk.jpg", "cut.jpg", "nogps.jpg"):
        lines = [m for m in messages if name in m]
        assert len(lines) == 1 and "\n" not in lines[0], (name, messages)
    files = {Path(e["path"]).name: e for e in caps.attrs["geoexpose"]["files"]}
    assert files["good.jpg"]["status"] == "read"
    assert all(files[n]["status"] == "skipped" for n in ("empty.jpg", "junk.jpg", "cut.jpg"))
    with pytest.raises(InputError, match=r"empty\.jpg"):
        read_captures([good, tmp_path / "empty.jpg"], strict=True)


def test_exposure_of_a_site_under_a_nadir_photo(tmp_path: Path) -> None:
    """A square site half inside a nadir footprint: imaged area, fraction, GSD, flight."""
    h, yaw = 100.0, 0.0
    photo = write_photo(tmp_path / "n.jpg", height=h, yaw=yaw, time="2026:06:12 10:00:30")
    caps = read_captures(photo)
    half_w = h * (W / 2) / F_PX  # 50 m east-west, 37.5 m north-south
    # a 40 m square whose west half lies inside the footprint's east edge
    e0, e1, n0, n1 = half_w - 20, half_w + 20, -20.0, 20.0
    corners = [(e0, n0), (e1, n0), (e1, n1), (e0, n1)]
    lon, lat, _ = GEOD.fwd(
        [LON] * 4, [LAT] * 4,
        [math.degrees(math.atan2(e, n)) for e, n in corners],
        [math.hypot(e, n) for e, n in corners],
    )  # fmt: skip
    site = gpd.GeoDataFrame(
        {"site_id": ["sq"], "family": ["power"], "kind": ["substation"], "standoff_m": [40.0]},
        geometry=[shapely.Polygon(np.c_[lon, lat])],
        crs="EPSG:4326",
    )
    # a flight that passes over the camera position at the photo's time
    track_lat = LAT + np.linspace(-0.002, 0.002, 601)
    fixes = make_track(np.full(601, LON), track_lat, dt_s=0.1, flight="f9", alt_agl_m=h)
    result = gx.expose(site, fixes, captures=caps)
    row = result.sites.iloc[0]
    assert row.n_captures == 1
    assert row.imaged_area_m2 == pytest.approx(20 * 40, rel=0.01)
    assert row.imaged_fraction == pytest.approx(0.5, rel=0.01)
    # the nearest imaged point of the site is 30 m east of the nadir point
    expected = expected_gsd_cm(yaw, -90.0, 0.0, h, shapely.box(e0, n0, half_w, n1))
    assert row.best_gsd_cm == pytest.approx(expected, rel=0.01)
    assert result.captures.flight_id.tolist() == ["f9"]
    assert result.capture_sites.flight_id.tolist() == ["f9"]
    pair = result.pairs.set_index("flight_id").loc["f9"]
    assert pair.n_captures == 1 and pair.n_fixes > 0
    assert result.footprints.site_id.tolist() == ["sq"]
    assert local_metres(result.footprints.geometry.iloc[0]).area == pytest.approx(800, rel=0.01)


def test_camera_clock_in_local_time_is_matched_by_its_shift(tmp_path: Path) -> None:
    # the camera wrote local time (UTC+2) without an offset; the track is in UTC
    photo = write_photo(tmp_path / "l.jpg", time="2026:06:12 12:00:30", offset=None)
    with pytest.warns(InputWarning):
        caps = read_captures(photo)
    fixes = make_track(np.full(601, LON), LAT + np.linspace(-0.002, 0.002, 601), flight="f1")
    far = gpd.GeoDataFrame(
        {"site_id": ["x"], "family": ["water"], "standoff_m": [10.0]},
        geometry=[shapely.Point(LON + 1, LAT)],
        crs="EPSG:4326",
    )
    result = gx.expose(far, fixes, captures=caps)
    cap = result.captures.iloc[0]
    assert cap.flight_id == "f1"
    assert cap.time_utc == pd.Timestamp("2026-06-12T10:00:30Z")
    assert "clock_offset_h=-2" in cap["flags"] and "time_shifted_to_track" in cap["flags"]


@pytest.mark.realdata
def test_h20t_real_frames(realdata: Path) -> None:
    folder = realdata / "dji_images" / "kattenborn_h20t_thermal"
    caps = read_captures(folder, time_zone="Europe/Berlin")
    assert len(caps) == 8
    for row in caps.itertuples():
        poly = local_metres(row.geometry, row.cam_lon, row.cam_lat)
        rect = poly.minimum_rotated_rectangle
        xy = np.asarray(rect.exterior.coords)
        sides = sorted(np.hypot(*np.diff(xy[:3], axis=0).T))
        # 640 x 512 px of 12 um behind 13.5 mm, at 95 m: 54.0 x 43.2 m
        assert sides[1] == pytest.approx(95 * 7.68 / 13.5 * row.alt_agl_m / 95, rel=0.005)
        assert sides[0] == pytest.approx(95 * 6.144 / 13.5 * row.alt_agl_m / 95, rel=0.005)
        assert row.alt_agl_m == pytest.approx(95, abs=0.1)
    oblique = read_captures(
        realdata / "dji_images" / "thermal_parser_samples" / "DJI_H20T.jpg",
        time_zone="America/New_York",
    )
    row = oblique.iloc[0]
    assert "horizon_clipped" in row["flags"]
    poly = local_metres(row.geometry, row.cam_lon, row.cam_lat)
    c = poly.centroid
    assert math.degrees(math.atan2(c.x, c.y)) == pytest.approx(row.yaw_deg, abs=5)
    assert poly.distance(shapely.Point(0, 0)) > 0  # ahead of the aircraft, not under it


@pytest.mark.realdata
def test_xt2_without_35mm_is_flagged(realdata: Path) -> None:
    caps = read_captures(
        realdata / "dji_images" / "thermal_parser_samples" / "DJI_XT2.jpg", time_zone="Asia/Kolkata"
    )
    row = caps.iloc[0]
    assert row.intrinsics == "table"
    assert "intrinsics_from_table" in row["flags"]
    assert row.focal_px == pytest.approx(19.0 / 0.017)
    assert row.geometry.is_valid and not row.geometry.is_empty


@pytest.mark.realdata
def test_srt_frames_become_captures(realdata: Path) -> None:
    folder = realdata / "dji_srt"
    caps = read_captures(folder, every_s=0.5)
    assert set(caps["kind"]) == {"video_frame"}
    by_file = caps.groupby("path").size()
    assert len(by_file) == 3
    avata = caps[caps.path.str.contains("avata")]
    assert (avata.pitch_deg == 0).all()  # gb_pitch 0: looking at the horizon
    assert avata["flags"].str.contains("horizon_clipped").all()
    legacy = caps[caps.path.str.contains("webodm")]
    assert legacy["flags"].str.contains("pose_nadir_assumed").all()
    assert legacy.time_utc.isna().all()
    assert caps.geometry.is_valid.all() and (~caps.geometry.is_empty).all()
    every = read_captures(folder / "webodm_fixture_video.srt", every_s=0)
    assert len(every) >= len(legacy)


def test_a_folder_with_photo_orthomosaic_and_dem(tmp_path: Path) -> None:
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    write_photo(tmp_path / "p.jpg")
    # a 50 x 40 px orthomosaic at 0.2 m in UTM 30N, its right half without data (alpha 0)
    rgb = np.full((4, 40, 50), 120, dtype="uint8")
    rgb[3, :, 25:] = 0
    rgb[3, :, :25] = 255
    profile = {"driver": "GTiff", "width": 50, "height": 40, "dtype": "uint8"}
    where = Affine(0.2, 0.0, 440_000.0, 0.0, -0.2, 4_474_000.0)
    with rasterio.open(
        tmp_path / "ortho.tif", "w", count=4, crs="EPSG:32630", transform=where, **profile
    ) as dst:
        dst.write(rgb)
        ci = rasterio.enums.ColorInterp
        dst.colorinterp = [ci.red, ci.green, ci.blue, ci.alpha]
    with rasterio.open(
        tmp_path / "dem.tif", "w", count=1, crs="EPSG:32630", transform=where,
        **{**profile, "dtype": "float32"},
    ) as dst:  # fmt: skip
        dst.write(np.full((1, 40, 50), 600.0, dtype="float32"))
    with pytest.warns(InputWarning, match=r"dem\.tif: an elevation model"):
        caps = read_captures(tmp_path)
    assert sorted(caps["kind"]) == ["orthomosaic", "photo"]
    ortho = caps[caps["kind"] == "orthomosaic"].iloc[0]
    assert ortho["gsd_cm"] == pytest.approx(20.0, rel=0.01)
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32630", always_xy=True)
    area = shapely.transform(ortho.geometry, lambda xy: np.c_[utm.transform(*xy.T)]).area
    assert area == pytest.approx(25 * 40 * 0.04, rel=0.02)  # the half with data: 40 m2


def test_photos_alone_make_a_whole_output_folder(tmp_path: Path) -> None:
    photo = write_photo(tmp_path / "only.jpg", height=50.0)
    caps = read_captures(photo)
    site = gpd.GeoDataFrame(
        {"site_id": ["here"], "family": ["water"], "kind": ["water_tower"]},
        geometry=[shapely.Point(LON, LAT)],
        crs="EPSG:4326",
    )
    result = gx.expose(site, captures=caps)
    row = result.sites.iloc[0]
    assert row.n_captures == 1 and row.n_flights == 0  # a photo of no known flight: no flight
    assert row.dwell_s == 0 and row.min_distance_m == pytest.approx(0.0, abs=0.01)
    out = result.write(tmp_path / "out")
    layers = set(gpd.list_layers(out / "exposure.gpkg")["name"])
    assert {"captures", "capture_sites", "footprints", "sites", "flights"} <= layers
    assert (out / "map.html").stat().st_size > 0
