"""Tests of geoexpose.imagery.dem on small DEMs made here, against geometry worked out by hand."""

from __future__ import annotations

import ast
import math
import os
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import CRS, Geod, Transformer

from geoexpose.errors import InputError, UsageError
from geoexpose.imagery import _geoid, _raster, _ray_march, dem, orthomosaic
from geoexpose.imagery.camera import Camera
from geoexpose.imagery.dem import Dem, footprints_on_dem
from geoexpose.imagery.elevation import (
    camera_elevation,
    dji_altitude_reference,
    ground_elevation,
)
from geoexpose.imagery.footprints import footprints

GEOD = Geod(ellps="WGS84")
LON, LAT = 15.0, 50.0  # on the central meridian of UTM 33: grid north = true north
UTM = "EPSG:32633"
X0, Y0 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(LON, LAT)
K0 = 0.9996  # UTM scale on the central meridian
WIDE = Camera(4000, 3000, 2000.0, 2000.0, 1500.0)
NARROW = Camera(4000, 3000, 4000.0, 2000.0, 1500.0)  # VFOV 41.1 degrees
N_RADIUS = 6378137.0 / math.sqrt(1 - 0.00669437999014 * math.sin(math.radians(LAT)) ** 2)


def write_dem(
    path: Path,
    z: np.ndarray,
    *,
    res: float = 2.0,
    crs: str = UTM,
    centre: tuple[float, float] = (X0, Y0),
    nodata: float | None = -9999.0,
) -> Path:
    """A float32 GeoTIFF whose array ``z`` is centred on ``centre`` (north up)."""
    h, w = z.shape
    transform = Affine(res, 0.0, centre[0] - w * res / 2, 0.0, -res, centre[1] + h * res / 2)
    data = np.where(np.isnan(z), nodata if nodata is not None else np.nan, z)
    with rasterio.open(
        path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32",
        crs=crs, transform=transform, nodata=nodata,
    ) as ds:  # fmt: skip
        ds.write(data.astype("float32")[None])
    return path


def to_metres(geom: shapely.Geometry, lon: float = LON, lat: float = LAT) -> shapely.Geometry:
    crs = CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +ellps=WGS84 +units=m")
    tr = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    return shapely.transform(geom, lambda xy: np.c_[tr.transform(xy[:, 0], xy[:, 1])])


def iou(a: shapely.Geometry, b: shapely.Geometry) -> float:
    a, b = to_metres(a), to_metres(b)
    return float(shapely.area(a & b) / shapely.area(a | b))


def one(path, elev, yaw, pitch, cam=WIDE, **kw):
    polys, gsd, flags = footprints_on_dem([LON], [LAT], [elev], [yaw], [pitch], [0.0], cam,
                                          path, **kw)  # fmt: skip
    assert shapely.is_valid(polys[0]) and not polys[0].is_empty
    return polys[0], float(gsd[0]), str(flags[0])


@pytest.fixture(scope="module")
def flat(tmp_path_factory) -> Path:
    """Level ground at 50 m, 2.4 km square."""
    return write_dem(tmp_path_factory.mktemp("dem") / "flat.tif", np.full((1200, 1200), 50.0))


@pytest.mark.parametrize(("yaw", "pitch"), [(0.0, -90.0), (30.0, -60.0), (-120.0, -45.0)])
def test_level_dem_is_flat_ground_bent_by_the_earth(flat: Path, yaw: float, pitch: float) -> None:
    """On a level DEM each vertex lies where the flat method puts it, pushed out along its
    azimuth by the earth's curvature: depth d below the camera with d + (r/H d)^2/2N = H."""
    h = 100.0
    ours, gsd, flags = one(flat, 150.0, yaw, pitch, max_range_m=5000)
    plane, plane_gsd, plane_flags = footprints([LON], [LAT], [h], [yaw], [pitch], [0.0], WIDE,
                                               max_range_m=5000)  # fmt: skip
    assert flags == plane_flags == ""
    assert gsd == pytest.approx(float(plane_gsd[0]), rel=1e-4)
    a = shapely.get_coordinates(ours)[:-1]
    b = shapely.get_coordinates(plane[0])[:-1]
    assert a.shape == b.shape
    az_a, _, r_a = GEOD.inv(np.full(len(a), LON), np.full(len(a), LAT), a[:, 0], a[:, 1])
    az_b, _, r_b = GEOD.inv(np.full(len(b), LON), np.full(len(b), LAT), b[:, 0], b[:, 1])
    rho = r_b / h
    c = rho**2 / (2 * N_RADIUS)
    depth = (-1 + np.sqrt(1 + 4 * c * h)) / (2 * c)
    assert np.allclose(r_a, rho * depth, atol=0.005)
    assert np.allclose(np.cos(np.radians(az_a - az_b)), 1.0, atol=1e-9)


def test_nadir_gsd_is_the_height_over_the_focal(flat: Path) -> None:
    _, gsd, _ = one(flat, 250.0, 10.0, -90.0)
    assert gsd == pytest.approx(100 * 200.0 / 2000.0, rel=1e-6)


def test_sloping_ground_under_a_nadir_camera(tmp_path: Path) -> None:
    """Ground rising eastwards 1 in 4: each image corner meets it at the depth where the
    ray and the plane z = 50 + 0.25 x cross; a pinhole's edges stay straight there."""
    res, n = 2.0, 600
    x = (np.arange(n) + 0.5 - n / 2) * res  # cell centres east of the camera, grid metres
    z = np.tile(50.0 + 0.25 * x, (n, 1))
    path = write_dem(tmp_path / "slope.tif", z, res=res)
    elev = 200.0
    ours, _, flags = one(path, elev, 0.0, -90.0, densify=1)
    assert flags == ""
    corners = []
    for u, v in [(0, 0), (4000, 0), (4000, 3000), (0, 3000)]:
        east, north = (u - 2000) / 2000, -(v - 1500) / 2000  # image top points north
        d = (elev - 50.0) / (1 + 0.25 * K0 * east)  # grid x = K0 * east on the meridian
        corners.append((east * d, north * d))
    e, nn = np.array(corners).T
    lon, lat, _ = GEOD.fwd(np.full(4, LON), np.full(4, LAT), np.degrees(np.arctan2(e, nn)),
                           np.hypot(e, nn))  # fmt: skip
    assert iou(ours, shapely.Polygon(np.c_[lon, lat])) > 0.9999


def test_a_wall_stops_the_far_edge(tmp_path: Path) -> None:
    """A 60 m wall 150 m north of the camera: rays that would reach flat ground beyond it
    end on its face."""
    res, n = 1.0, 800
    north = (n / 2 - np.arange(n) - 0.5) * res  # cell centres, north of the camera
    z = np.where(north[:, None] >= 150.0, 60.0, 0.0) * np.ones((1, n))
    path = write_dem(tmp_path / "wall.tif", z, res=res)
    ours, _, _ = one(path, 100.0, 0.0, -45.0, cam=NARROW)
    plane, _, _ = footprints([LON], [LAT], [100.0], [0.0], [-45.0], [0.0], NARROW)
    far = to_metres(ours).bounds[3]
    assert 149.0 < far < 151.5
    assert to_metres(plane[0]).bounds[3] > 210.0
    near = to_metres(ours).bounds[1]
    assert near == pytest.approx(to_metres(plane[0]).bounds[1], abs=0.05)


def test_rays_off_the_dem_or_over_holes_keep_the_last_height(tmp_path: Path) -> None:
    """Where the DEM has no data the ground is level with the last value the ray passed,
    not with the ground under the camera (a 20 m mound, out of view): a level DEM cut
    short, or holed, gives the footprint of the whole one, flagged."""

    def mounded(size: int) -> np.ndarray:
        z = np.full((size, size), 50.0)
        z[size // 2 - 10 : size // 2 + 10, size // 2 - 10 : size // 2 + 10] = 70.0
        return z

    whole = write_dem(tmp_path / "whole.tif", mounded(1200))
    full, gsd_full, f_full = one(whole, 150.0, 20.0, -30.0, cam=NARROW)
    small = write_dem(tmp_path / "small.tif", mounded(120))  # 240 m square
    cut, _, f_cut = one(small, 150.0, 20.0, -30.0, cam=NARROW)
    assert "dem_miss" not in f_full and "dem_miss" in f_cut
    assert iou(cut, full) > 0.9999
    z = mounded(1200)
    z[600 - 175 : 600 - 100, 550:700] = np.nan  # 100 to 150 m north: the near edge's cells
    holed = write_dem(tmp_path / "holed.tif", z)
    poly, gsd, f_hole = one(holed, 150.0, 20.0, -30.0, cam=NARROW)
    assert "dem_miss" in f_hole
    assert iou(poly, full) > 0.9999
    assert gsd == pytest.approx(gsd_full, rel=1e-6)


def test_a_camera_off_the_dem_stands_over_its_median(tmp_path: Path) -> None:
    z = np.full((50, 50), 40.0)
    z[:10] = 80.0  # a fifth of it higher: the median stays 40
    far = write_dem(tmp_path / "far.tif", z, centre=(X0 + 5000, Y0))
    ours, gsd, flags = one(far, 140.0, 0.0, -70.0)
    plane, plane_gsd, _ = footprints([LON], [LAT], [100.0], [0.0], [-70.0], [0.0], WIDE)
    assert flags == "dem_miss"
    assert iou(ours, plane[0]) > 0.9999
    assert gsd == pytest.approx(float(plane_gsd[0]), rel=1e-4)


def test_a_camera_below_the_ground_is_lifted(flat: Path) -> None:
    _, gsd, flags = one(flat, 20.0, 0.0, -90.0)
    assert "height_clamped" in flags
    assert gsd == pytest.approx(100 * 1.0 / 2000.0, rel=1e-3)  # 1 m above the ground


def test_flags_as_over_flat_ground(flat: Path) -> None:
    _, _, flags = one(flat, 150.0, 45.0, 0.0)
    assert flags == "horizon_clipped;range_capped"
    disc, _, flags = one(flat, 150.0, float("nan"), -60.0)
    assert flags == "yaw_unknown"
    centroid = to_metres(disc).centroid
    assert abs(centroid.x) < 1 and abs(centroid.y) < 1


def test_a_geographic_dem_at_60_north(tmp_path: Path) -> None:
    lon, lat = 24.0, 60.0
    z = np.full((1600, 1600), 10.0)
    path = write_dem(tmp_path / "geo.tif", z, res=2e-5, crs="EPSG:4326", centre=(lon, lat))
    polys, gsd, flags = footprints_on_dem([lon], [lat], [110.0], [40.0], [-60.0], [0.0], WIDE,
                                          path)  # fmt: skip
    plane, plane_gsd, _ = footprints([lon], [lat], [100.0], [40.0], [-60.0], [0.0], WIDE)
    a, b = to_metres(polys[0], lon, lat), to_metres(plane[0], lon, lat)
    assert shapely.area(a & b) / shapely.area(a | b) > 0.9995
    assert flags[0] == "" and gsd[0] == pytest.approx(plane_gsd[0], rel=1e-4)


def test_many_captures_one_call_equals_one_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """Cameras kilometres apart (several windows), small batches and decimated windows."""
    rng = np.random.default_rng(3)
    x = (np.arange(500) + 0.5 - 250) * 20.0
    z = 100 + 30 * np.sin(x / 700)[None, :] * np.cos(x / 900)[:, None]
    path = write_dem(tmp_path / "hills.tif", z, res=20.0)
    n = 6
    east, north = rng.uniform(-3500, 3500, n), rng.uniform(-3500, 3500, n)
    lon, lat, _ = GEOD.fwd(np.full(n, LON), np.full(n, LAT), np.degrees(np.arctan2(east, north)),
                           np.hypot(east, north))  # fmt: skip
    elev = ground_elevation(path, lon, lat) + rng.uniform(30, 150, n)
    yaw, pitch = rng.uniform(-180, 180, n), rng.uniform(-90, -20, n)
    together = footprints_on_dem(lon, lat, elev, yaw, pitch, np.zeros(n), WIDE, path)
    monkeypatch.setattr(_ray_march, "_BATCH", 500)
    monkeypatch.setattr(_raster, "_MAX_CELLS", 200 * 200)
    for i in range(n):
        alone = footprints_on_dem(lon[i], lat[i], elev[i], yaw[i], pitch[i], 0.0, WIDE, path)
        assert alone[2][0] == together[2][i]
        a, b = to_metres(alone[0][0], lon[i], lat[i]), to_metres(together[0][i], lon[i], lat[i])
        assert shapely.area(a & b) / shapely.area(a | b) > 0.99  # decimated 2.5 x
        assert alone[1][0] == pytest.approx(together[1][i], rel=0.05)


def test_ground_elevation_is_bilinear_and_nodata_aware(tmp_path: Path) -> None:
    res, n = 10.0, 40
    xc = (np.arange(n) + 0.5 - n / 2) * res
    z = 5.0 + 0.3 * xc[None, :] - 0.2 * xc[::-1, None]  # linear in grid x and y
    z[20, 20] = np.nan
    path = write_dem(tmp_path / "ramp.tif", z, res=res)
    to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    gx = np.array([-123.4, -40.0, 77.7, 5.0, 5.0, 1000.0])
    gy = np.array([56.0, 30.0, -150.2, -5.0, -10.0, 0.0])  # cell [20, 20] is centred (5, -5)
    lon, lat = to_ll.transform(X0 + gx, Y0 + gy)
    got = ground_elevation(path, lon, lat)
    expected = 5.0 + 0.3 * gx - 0.2 * gy
    assert np.allclose(got[:3], expected[:3], atol=1e-6)
    assert np.isnan(got[3])  # on the centre of the cell without data
    assert got[4] == pytest.approx(5.0 + 0.3 * 5 + 0.2 * 15, abs=1e-6)  # halfway: the neighbour
    assert np.isnan(got[5])  # off the DEM


def _gtx_geoid(path: Path, lon: float, lat: float) -> float:
    """EGM96 geoid height from the .gtx grid file itself: header, then bilinear."""
    data = path.read_bytes()
    lat0, lon0, dlat, dlon = struct.unpack(">4d", data[:32])
    rows, cols = struct.unpack(">2i", data[32:40])
    grid = np.frombuffer(data[40:], dtype=">f4").reshape(rows, cols)
    fy, fx = (lat - lat0) / dlat, ((lon - lon0) % 360) / dlon
    i, j = int(fy), int(fx)
    ty, tx = fy - i, fx - j
    g = grid.astype(float)
    return float(
        g[i, j] * (1 - ty) * (1 - tx) + g[i, j + 1] * (1 - ty) * tx
        + g[i + 1, j] * ty * (1 - tx) + g[i + 1, j + 1] * ty * tx
    )  # fmt: skip


@pytest.fixture
def egm96_grid() -> Path:
    path = _geoid.find_geoid_grid("egm96")
    if path is None or path.suffix != ".gtx":
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("the EGM96 grid egm96_15.gtx must be installed (apt package proj-data)")
        pytest.skip("egm96_15.gtx is not installed (apt-get install proj-data)")
    return path


def test_geoid_height_from_the_proj_grid(egm96_grid: Path) -> None:
    points = [(0.0, 0.0), (15.0, 50.0), (120.95, 24.68), (-75.3, 40.2), (78.0, 8.0)]
    got = _geoid.geoid_height([p[0] for p in points], [p[1] for p in points])
    for (lon, lat), value in zip(points, got, strict=True):
        assert value == pytest.approx(_gtx_geoid(egm96_grid, lon, lat), abs=0.02)
    assert got[0] == pytest.approx(17.16, abs=0.05)  # the well-known value at 0 N 0 E


def test_camera_elevation_order(tmp_path: Path, egm96_grid: Path, monkeypatch) -> None:
    z = np.full((200, 200), 100.0)
    z[:, 150:] = np.nan
    path = write_dem(tmp_path / "egm.tif", z, crs="EPSG:32633+5773")
    with Dem(path) as d:
        assert d.vertical == "egm96"
        to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
        lon, lat = to_ll.transform(X0 + np.array([0, 10, 20, 30, 190, 0]), np.full(6, Y0))
        rel = np.array([80.0, 80.0, 80.0, 80.0, 80.0, np.nan])
        ab = np.array([np.nan, 300.0, 120.0, 300.0, 300.0, np.nan])
        ref = dji_altitude_reference([0, 50, 50, 0, 50, 0])
        t_lon = np.array([lon[0], np.nan, np.nan, np.nan, np.nan, np.nan])
        elev, flags = camera_elevation(d, lon, lat, rel, takeoff_lon=t_lon, takeoff_lat=lat,
                                       abs_alt_m=ab, abs_alt_ref=ref)  # fmt: skip
        n = _gtx_geoid(egm96_grid, float(lon[1]), float(lat[1]))
        assert elev[0] == pytest.approx(180.0) and flags[0] == ""
        assert elev[1] == pytest.approx(300.0 - n, abs=0.02)
        assert flags[1] == "elevation_from_absolute"
        # 120 m ellipsoidal is below the ground (100 m + N): not believed
        assert elev[2] == pytest.approx(180.0)
        assert flags[2] == "absolute_altitude_implausible;takeoff_unknown"
        assert elev[3] == pytest.approx(180.0) and flags[3] == "takeoff_unknown"  # no RTK
        assert elev[4] == pytest.approx(300.0 - n, abs=0.05)  # no DEM under it: still RTK
        assert np.isnan(elev[5]) and flags[5] == "elevation_unknown"
        monkeypatch.setattr(_geoid, "find_geoid_grid", lambda model: None)
        elev, flags = camera_elevation(d, lon[1], lat[1], 80.0, abs_alt_m=300.0,
                                       abs_alt_ref="ellipsoid")  # fmt: skip
        assert elev[0] == pytest.approx(180.0)
        assert flags[0] == "geoid_grid_missing;takeoff_unknown"


@pytest.mark.parametrize("dem_datum", ["egm96", "ellipsoid"])
def test_a_dem_that_does_not_say_its_datum(tmp_path: Path, egm96_grid: Path, dem_datum) -> None:
    """Take-off 100 m above EGM96 here; RTK altitudes are ellipsoidal (100 + N + 80 m).
    The DEM's heights, whichever datum they are in, give the camera 80 m above it."""
    to_ll = Transformer.from_crs(UTM, "EPSG:4326", always_xy=True)
    lon, lat = to_ll.transform(X0 + np.array([0.0, 30, 60]), np.full(3, Y0 + 20))
    n = np.array(
        [_gtx_geoid(egm96_grid, float(a), float(b)) for a, b in zip(lon, lat, strict=True)]
    )
    ground = 100.0 + (n.mean() if dem_datum == "ellipsoid" else 0.0)
    path = write_dem(tmp_path / "plain.tif", np.full((100, 100), ground))
    elev, flags = camera_elevation(path, lon, lat, np.full(3, 80.0), abs_alt_m=180.0 + n,
                                   abs_alt_ref="ellipsoid")  # fmt: skip
    assert np.allclose(elev, ground + 80.0, atol=0.05)
    assert set(flags) == {"vertical_datum_guessed;elevation_from_absolute"}


def test_vertical_datums(tmp_path: Path) -> None:
    cases = {
        "EPSG:32633": "unknown",
        "EPSG:4979": "ellipsoid",
        "EPSG:4326+3855": "egm2008",
        "EPSG:32633+5773": "egm96",
        "EPSG:25832+7837": "other:DHHN2016 height",
    }
    for crs, expected in cases.items():
        path = write_dem(tmp_path / "v.tif", np.zeros((4, 4)), crs=crs, res=1.0)
        with Dem(path) as d:
            assert d.vertical == expected, crs
        assert _geoid.vertical_datum(CRS.from_user_input(crs)) == expected


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.tif"):
        Dem(tmp_path / "missing.tif")
    no_crs = tmp_path / "nocrs.tif"
    grid = Affine(1, 0, 10, 0, -1, 10)
    with rasterio.open(no_crs, "w", driver="GTiff", width=4, height=4, count=1, transform=grid,
                       dtype="float32") as ds:  # fmt: skip
        ds.write(np.zeros((1, 4, 4), "float32"))
    with pytest.raises(InputError, match="no CRS"):
        Dem(no_crs)


def test_importing_needs_no_rasterio() -> None:
    """rasterio (and its affine) are imported inside the functions that read rasters."""
    for module in (dem, orthomosaic, _raster, _ray_march, _geoid):
        tree = ast.parse(Path(module.__file__).read_text())
        top = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
        names = [a.name for n in top if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in top if isinstance(n, ast.ImportFrom)]
        assert names and not [m for m in names if m.split(".")[0] in ("rasterio", "affine")]


def test_a_missing_rasterio_names_the_extra(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "rasterio", None)
    for call in (lambda: Dem(tmp_path / "x.tif"), lambda: orthomosaic.read_orthomosaic("x.tif")):
        with pytest.raises(UsageError, match=r"pip install 'geoexpose\[raster\]'"):
            call()


def test_a_folded_outline_keeps_all_it_encloses() -> None:
    """A 10 x 10 square whose outline loops back over a 2 x 2 cell: area 100, not 96."""
    ring = [(0, 0), (10, 0), (10, 10), (6, 10), (6, 4), (4, 4), (4, 6), (8, 6), (8, 10),
            (0, 10), (0, 0)]  # fmt: skip
    poly = shapely.Polygon(ring)
    assert not poly.is_valid
    out = dem._enclosed(poly)
    assert out.is_valid and out.area == pytest.approx(100.0)


def test_rough_terrain_gives_valid_footprints(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    z = (50 + 25 * rng.standard_normal((50, 50))).repeat(8, 0).repeat(8, 1)  # 8 m blocks
    path = write_dem(tmp_path / "rough.tif", z, res=1.0)
    n = 40
    polys, gsd, _ = footprints_on_dem(
        np.full(n, LON), np.full(n, LAT), np.full(n, 160.0), rng.uniform(-180, 180, n),
        rng.uniform(-60, -5, n), np.zeros(n), WIDE, path, max_range_m=380,
    )  # fmt: skip
    assert shapely.is_valid(polys).all() and (shapely.area(polys) > 0).all()
    assert np.isfinite(gsd).all() and (gsd > 0).all()
