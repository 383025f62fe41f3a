"""Tests of geoexpose.imagery.orthomosaic on small GeoTIFFs made here, and the real ODM DSM."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from PIL import Image
from pyproj import Geod, Proj, Transformer
from rasterio.enums import ColorInterp
from rasterio.features import rasterize

from geoexpose.errors import InputError
from geoexpose.imagery.orthomosaic import (
    is_orthomosaic,
    read_orthomosaic,
    sniff_geotiff,
)
from geoexpose.schema import CAPTURE_COLUMNS

GEOD = Geod(ellps="WGS84")
UTM = "EPSG:32633"
LON, LAT = 20.0, 50.0  # 5 degrees east of the zone's meridian: grid scale 1.0012
A, E2 = 6378137.0, 0.00669437999014


def ground_area(poly: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(poly)[0])


def rotated_rect(cx: float, cy: float, w: float, h: float, deg: float) -> shapely.Polygon:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    pts = [(dx * c - dy * s + cx, dx * s + dy * c + cy) for dx, dy in
           [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]]  # fmt: skip
    return shapely.Polygon(pts)


def write(path: Path, bands: np.ndarray, transform: Affine, crs: str | None, **kw) -> Path:
    count, h, w = bands.shape
    profile = dict(driver="GTiff", width=w, height=h, count=count, dtype=bands.dtype.name,
                   transform=transform, **kw)  # fmt: skip
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(bands)
        if count == 4:
            ds.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue,
                              ColorInterp.alpha]  # fmt: skip
    return path


@pytest.fixture(scope="module")
def utm_ortho(tmp_path_factory) -> tuple[Path, np.ndarray, float]:
    """RGB, 5 cm pixels, nodata 0 outside a 12 x 6 m rectangle turned 30 degrees."""
    x0, y0 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(LON, LAT)
    res, w, h = 0.05, 400, 300
    transform = Affine(res, 0, x0 - w * res / 2, 0, -res, y0 + h * res / 2)
    shape = rotated_rect(x0, y0, 12.0, 6.0, 30.0)
    inside = rasterize([shape], out_shape=(h, w), transform=transform, fill=0, default_value=1)
    rgb = np.stack([inside * 120, inside * 90 + 1, inside * 60 + 2]).astype("uint8") * inside
    path = write(tmp_path_factory.mktemp("ortho") / "utm.tif", rgb, transform, UTM, nodata=0,
                 photometric="RGB")  # fmt: skip
    return path, inside.astype(bool), res


def test_utm_area_and_gsd(utm_ortho) -> None:
    path, inside, res = utm_ortho
    row = read_orthomosaic(path)
    assert list(row.columns) == CAPTURE_COLUMNS and len(row) == 1
    assert row.crs.to_epsg() == 4326
    r = row.iloc[0]
    assert r["kind"] == "orthomosaic" and r["capture_id"] == "utm.tif" and r["flags"] == ""
    assert pd.isna(r["time_utc"]) and math.isnan(r["cam_lon"])
    f = Proj(UTM).get_factors(LON, LAT)
    assert f.meridional_scale > 1.001  # far enough from the meridian for the scale to tell
    assert r["gsd_cm"] == pytest.approx(100 * res / f.meridional_scale, rel=1e-4)
    expected = inside.sum() * res * res / f.areal_scale
    assert ground_area(r.geometry) == pytest.approx(expected, rel=0.01)
    assert ground_area(r.geometry) == pytest.approx(72.0 / f.areal_scale, rel=0.015)
    assert shapely.is_valid(r.geometry) and isinstance(r.geometry, shapely.Polygon)


def test_decimated_mask_keeps_the_area(utm_ortho) -> None:
    path = utm_ortho[0]
    fine = read_orthomosaic(path).geometry.iloc[0]
    coarse = read_orthomosaic(path, max_mask_px=80).geometry.iloc[0]  # 5 x decimated
    assert ground_area(coarse) == pytest.approx(ground_area(fine), rel=0.05)
    assert shapely.area(fine & coarse) / shapely.area(fine | coarse) > 0.9


def test_geographic_pixels_are_measured_on_the_ground(tmp_path: Path) -> None:
    """1e-6 degree pixels at 60 N: 5.6 cm east-west, 11.2 cm north-south."""
    lon0, lat0, deg = 24.0, 60.0, 1e-6
    w, h = 300, 200
    grey = np.zeros((1, h, w), "uint8")
    grey[0, 20:180, 30:270] = 200  # 240 x 160 pixels with data
    transform = Affine(deg, 0, lon0, 0, -deg, lat0)
    path = write(tmp_path / "geo.tif", grey, transform, "EPSG:4326", nodata=0)
    r = read_orthomosaic(path).iloc[0]
    phi = math.radians(lat0 - 100 * deg)
    w2 = 1 - E2 * math.sin(phi) ** 2
    meridian = A * (1 - E2) / w2**1.5  # radii of curvature
    normal = A / math.sqrt(w2)
    dy, dx = meridian * math.radians(deg), normal * math.cos(phi) * math.radians(deg)
    assert r["gsd_cm"] == pytest.approx(100 * dy, rel=1e-3)
    assert dx < 0.6 * dy
    assert ground_area(r.geometry) == pytest.approx(240 * 160 * dx * dy, rel=1e-3)


def test_alpha_band_and_time_tag(tmp_path: Path) -> None:
    x0, y0 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(LON, LAT)
    rgba = np.full((4, 100, 100), 255, "uint8")
    rgba[3, :, :40] = 0  # the western 40 % transparent
    transform = Affine(0.1, 0, x0, 0, -0.1, y0)
    path = write(tmp_path / "rgba.tif", rgba, transform, UTM, photometric="RGB", alpha="YES")
    with rasterio.open(path, "r+") as ds:
        ds.update_tags(TIFFTAG_DATETIME="2024:05:01 10:20:30")
    r = read_orthomosaic(path).iloc[0]
    f = Proj(UTM).get_factors(LON, LAT).areal_scale
    assert ground_area(r.geometry) == pytest.approx(60 * 100 * 0.01 / f, rel=1e-3)
    assert r["time_utc"] == pd.Timestamp("2024-05-01T10:20:30Z")
    assert r["flags"] == "time_zone_assumed_utc"
    berlin = read_orthomosaic(path, time_zone="Europe/Berlin").iloc[0]
    assert berlin["time_utc"] == pd.Timestamp("2024-05-01T08:20:30Z")
    assert berlin["flags"] == ""


def test_black_padding_without_nodata_is_guessed(tmp_path: Path) -> None:
    x0, y0 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(LON, LAT)
    rgb = np.zeros((3, 100, 100), "uint8")
    rgb[:, 10:60, 20:90] = 128
    path = write(tmp_path / "black.tif", rgb, Affine(0.1, 0, x0, 0, -0.1, y0), UTM,
                 photometric="RGB")  # fmt: skip
    r = read_orthomosaic(path).iloc[0]
    f = Proj(UTM).get_factors(LON, LAT).areal_scale
    assert r["flags"] == "nodata_guessed"
    assert ground_area(r.geometry) == pytest.approx(50 * 70 * 0.01 / f, rel=1e-3)


def test_sniffing(tmp_path: Path, utm_ortho) -> None:
    transform = Affine(1.0, 0, 500000, 0, -1.0, 5500000)
    dem = write(tmp_path / "dem.tif", np.zeros((1, 8, 8), "float32"), transform, UTM)
    srtm = write(tmp_path / "srtm.tif", np.zeros((1, 8, 8), "int16"), transform, UTM)
    grey = write(tmp_path / "grey.tif", np.zeros((1, 8, 8), "uint16"), transform, UTM)
    big = write(tmp_path / "big.tif", np.zeros((3, 8, 8), "uint8"), transform, UTM,
                BIGTIFF="YES", photometric="RGB")  # fmt: skip
    Image.new("RGB", (8, 8)).save(tmp_path / "photo.tif")
    Image.new("RGB", (8, 8)).save(tmp_path / "photo.jpg")
    (tmp_path / "short.tif").write_bytes(b"II*\x00")
    assert big.read_bytes()[2] == 43  # BigTIFF
    assert sniff_geotiff(utm_ortho[0]) == "orthomosaic" and is_orthomosaic(utm_ortho[0])
    assert sniff_geotiff(dem) == sniff_geotiff(srtm) == "elevation"
    assert not is_orthomosaic(dem)
    assert sniff_geotiff(grey) == sniff_geotiff(big) == "orthomosaic"
    for name in ("photo.tif", "photo.jpg", "short.tif", "missing.tif"):
        assert sniff_geotiff(tmp_path / name) is None, name


def test_errors(tmp_path: Path) -> None:
    x0, y0 = 500000.0, 5500000.0
    nocrs = write(tmp_path / "nocrs.tif", np.ones((1, 4, 4), "uint8"),
                  Affine(1, 0, x0, 0, -1, y0), None)  # fmt: skip
    with pytest.raises(InputError, match=r"nocrs\.tif: the raster has no CRS"):
        read_orthomosaic(nocrs)
    empty = write(tmp_path / "empty.tif", np.zeros((1, 4, 4), "uint8"),
                  Affine(1, 0, x0, 0, -1, y0), UTM, nodata=0)  # fmt: skip
    with pytest.raises(InputError, match="no valid pixel"):
        read_orthomosaic(empty)
    (tmp_path / "text.tif").write_text("not a raster")
    with pytest.raises(InputError, match=r"text\.tif"):
        read_orthomosaic(tmp_path / "text.tif")


def test_the_real_odm_dsm(realdata: Path) -> None:
    """The P4 RTK scene's DSM (UTM 51N, 0.8 m cells, no data as NaN south-east)."""
    root = realdata / "dji_images/orthority_odm_p4rtk"
    path = root / "odm_dem/dsm.tif"
    assert sniff_geotiff(path) == "elevation"
    assert all(sniff_geotiff(p) is None for p in (root / "images").glob("*.tif"))
    r = read_orthomosaic(path).iloc[0]
    with rasterio.open(path) as ds:
        cells = int(np.isfinite(ds.read(1)).sum())
        b = ds.bounds
    lon, lat = Transformer.from_crs("EPSG:32651", "EPSG:4326", always_xy=True).transform(
        (b.left + b.right) / 2, (b.bottom + b.top) / 2
    )
    f = Proj("EPSG:32651").get_factors(lon, lat)
    assert r["gsd_cm"] == pytest.approx(80.0 / f.meridional_scale, rel=1e-4)
    assert ground_area(r.geometry) == pytest.approx(cells * 0.64 / f.areal_scale, rel=0.005)
