"""Orthomosaics: a georeferenced GeoTIFF becomes one capture.

- Footprint: the raster's valid data (GDAL's mask: nodata value, alpha band or internal
  mask), traced on a copy decimated to at most ``max_mask_px`` pixels a side, smoothed by
  half a decimated pixel, densified and taken to EPSG:4326. A 3-band or wider raster
  whose mask says every pixel is valid has its pixels black in every band taken as no
  data (``nodata_guessed``): orthomosaic writers often pad with black.
- GSD: the longest ground distance spanned by one pixel step (the largest singular value
  of the pixel-to-ground Jacobian, as for photos), measured geodesically at the centre of
  the valid area: right whatever the CRS, geographic included.
- Time: TIFF ``DateTime`` or EXIF ``DateTimeOriginal`` (GDAL ``TIFFTAG_DATETIME``,
  ``EXIF_DateTimeOriginal``), read in ``time_zone`` when given, else taken as UTC
  (``time_zone_assumed_utc``); NaT where absent.
- The capture has no camera: ``cam_lon``, ``cam_lat``, height and angles are NaN.

:func:`sniff_geotiff` tells, from the first TIFF directory alone (no GDAL), a georeferenced
TIFF from a plain photo TIFF or DNG, and an orthomosaic from an elevation model.

Reading needs rasterio (``pip install 'geoexpose[raster]'``); sniffing does not.
"""

from __future__ import annotations

import logging
import math
import os
import re
import struct
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Geod, Transformer

from geoexpose.errors import InputError
from geoexpose.imagery._raster import require_rasterio
from geoexpose.schema import (
    ALT_AGL_M,
    CAM_LAT,
    CAM_LON,
    CAPTURE_COLUMNS,
    CAPTURE_ID,
    CAPTURE_KIND,
    CRS_LONLAT,
    FLAGS,
    FLIGHT_ID,
    GSD_CM,
    PATH,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks import parse_times

__all__ = ["ELEVATION", "ORTHOMOSAIC", "is_orthomosaic", "read_orthomosaic", "sniff_geotiff"]

logger = logging.getLogger(__name__)

ORTHOMOSAIC = "orthomosaic"
ELEVATION = "elevation"
_GEOD = Geod(ellps="WGS84")
_GEOKEYS, _TIEPOINT, _TRANSFORM = 34735, 33922, 34264
_SAMPLES, _SAMPLE_FORMAT = 277, 339
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8}
_EXIF_TIME = re.compile(r"^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}:\d{2}:\d{2})")


def _first_ifd(path: Path) -> dict[int, int | None]:
    """Tags of the first TIFF directory: their first value where it is a short or long."""
    with path.open("rb") as f:
        head = f.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            return {}
        end = "<" if head[:2] == b"II" else ">"
        (magic,) = struct.unpack(end + "H", head[2:4])
        if magic == 42:
            (offset,) = struct.unpack(end + "I", head[4:8])
            count_fmt, entry_fmt, entry_size, inline = "H", "HHI", 12, 4
        elif magic == 43 and len(head) == 16:
            (offset,) = struct.unpack(end + "Q", head[8:16])
            count_fmt, entry_fmt, entry_size, inline = "Q", "HHQ", 20, 8
        else:
            return {}
        f.seek(offset)
        raw = f.read(struct.calcsize(end + count_fmt))
        if len(raw) < struct.calcsize(end + count_fmt):
            return {}
        (n,) = struct.unpack(end + count_fmt, raw)
        table = f.read(n * entry_size)
        tags: dict[int, int | None] = {}
        for i in range(len(table) // entry_size):
            entry = table[i * entry_size : (i + 1) * entry_size]
            tag, kind, count = struct.unpack(end + entry_fmt, entry[: entry_size - inline])
            value = None
            if kind in (3, 4, 16) and count >= 1:
                size = _TYPE_SIZE[kind]
                data = entry[entry_size - inline :]
                if size * count > inline:
                    (where,) = struct.unpack(end + ("I" if inline == 4 else "Q"), data)
                    f.seek(where)
                    data = f.read(size)
                code = {2: "H", 4: "I", 8: "Q"}[size]
                value = struct.unpack(end + code, data[:size])[0]
            tags[tag] = value
        return tags


def sniff_geotiff(path: str | os.PathLike[str]) -> str | None:
    """``orthomosaic``, ``elevation`` or None, from the first TIFF directory of a file.

    A georeferenced TIFF has GeoTIFF keys (a CRS) and a tie point or transformation. One
    band of signed integers or floats is an elevation model; anything else (RGB, RGBA,
    one band of unsigned integers: grey or thermal) an orthomosaic. Photos, DNGs and
    TIFFs without a CRS give None, and so do files that are not TIFFs.
    """
    try:
        tags = _first_ifd(Path(path))
    except (OSError, struct.error):
        return None
    if _GEOKEYS not in tags or not (_TIEPOINT in tags or _TRANSFORM in tags):
        return None
    samples = tags.get(_SAMPLES) or 1
    sample_format = tags.get(_SAMPLE_FORMAT) or 1
    return ELEVATION if samples == 1 and sample_format in (2, 3) else ORTHOMOSAIC


def is_orthomosaic(path: str | os.PathLike[str]) -> bool:
    """Whether a file is a georeferenced TIFF that is not an elevation model."""
    return sniff_geotiff(path) == ORTHOMOSAIC


def _time(tags: dict[str, str], time_zone: str | None) -> tuple[pd.Timestamp, str]:
    """Acquisition time in UTC from GDAL's TIFF/EXIF items, and a flag word."""
    for key in ("EXIF_DateTimeOriginal", "TIFFTAG_DATETIME"):
        match = _EXIF_TIME.match(tags.get(key, ""))
        if match:
            y, m, d, hms = match.groups()
            text = f"{y}-{m}-{d}T{hms}"
            offset = tags.get("EXIF_OffsetTimeOriginal", "").strip()
            if key.startswith("EXIF") and re.fullmatch(r"[+-]\d{2}:\d{2}", offset):
                text += offset
            times, basis = parse_times(pd.Series([text]), column=key, time_zone=time_zone)
            return times.iloc[0], "time_zone_assumed_utc" if basis == "assumed_utc" else ""
    return pd.NaT, ""


def _scaled(transform: Any, sx: float, sy: float) -> Any:
    """Return the affine transform of pixels ``sx`` by ``sy`` times larger."""
    from affine import Affine

    a, b, c, d, e, f = tuple(transform)[:6]
    return Affine(a * sx, b * sy, c, d * sx, e * sy, f)


def _apply(transform: Any, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b, c, d, e, f = tuple(transform)[:6]
    return a * col + b * row + c, d * col + e * row + f


def _valid_mask(ds: Any, max_mask_px: int) -> tuple[np.ndarray, Any, bool]:
    """Decimated valid-data mask, its transform, and whether no data was guessed."""
    from rasterio.enums import MaskFlags

    f = max(1.0, max(ds.width, ds.height) / max_mask_px)
    shape = (max(1, round(ds.height / f)), max(1, round(ds.width / f)))
    mask = ds.dataset_mask(out_shape=shape) > 0
    guessed = False
    all_valid = all(MaskFlags.all_valid in flags for flags in ds.mask_flag_enums)
    if all_valid and ds.count >= 3:
        bands = ds.read([1, 2, 3], out_shape=(3, *shape))
        black = (bands == 0).all(axis=0)
        if black.any() and not black.all():
            mask &= ~black
            guessed = True
    return mask, _scaled(ds.transform, ds.width / shape[1], ds.height / shape[0]), guessed


def _gsd_m(ds: Any, crs: CRS, col: float, row: float) -> float:
    """Longest ground distance of a one-pixel step at pixel (col, row), metres."""
    to_ll = Transformer.from_crs(crs, CRS_LONLAT, always_xy=True)
    cols = np.array([col, col + 0.5, col - 0.5, col, col])
    rows = np.array([row, row, row, row + 0.5, row - 0.5])
    lon, lat = to_ll.transform(*_apply(ds.transform, cols, rows))
    lon, lat = np.asarray(lon), np.asarray(lat)
    az, _, dist = _GEOD.inv(np.full(4, lon[0]), np.full(4, lat[0]), lon[1:], lat[1:])
    east, north = dist * np.sin(np.radians(az)), dist * np.cos(np.radians(az))
    jac = np.array(
        [[east[0] - east[1], east[2] - east[3]], [north[0] - north[1], north[2] - north[3]]]
    )
    return float(np.linalg.svd(jac, compute_uv=False)[0])


def read_orthomosaic(
    path: str | os.PathLike[str],
    *,
    time_zone: str | None = None,
    max_mask_px: int = 2048,
) -> gpd.GeoDataFrame:
    """Read a georeferenced raster (an orthomosaic) as one capture.

    Parameters
    ----------
    path
        A raster GDAL reads, with a CRS: usually a GeoTIFF.
    time_zone
        IANA zone of a time written without offset; default UTC (flagged).
    max_mask_px
        Longest side of the copy of the valid-data mask that is traced.

    Returns
    -------
    geopandas.GeoDataFrame
        One row, columns :data:`geoexpose.schema.CAPTURE_COLUMNS`, EPSG:4326;
        ``capture_id`` is the file name, ``kind`` ``orthomosaic``.

    Raises
    ------
    InputError
        The file is not a raster, has no CRS, or no valid pixel.
    UsageError
        rasterio is not installed.
    """
    rasterio = require_rasterio()
    path = Path(path)
    try:
        ds = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        reason = " ".join(str(exc).split())
        raise InputError(f"{path}: not a raster GDAL can read ({reason})") from None
    with ds:
        if ds.crs is None:
            raise InputError(f"{path}: the raster has no CRS")
        crs = CRS.from_user_input(ds.crs.to_wkt())
        crs = (crs.sub_crs_list[0] if crs.is_compound else crs).to_2d()
        mask, transform, guessed = _valid_mask(ds, max_mask_px)
        if not mask.any():
            raise InputError(f"{path}: no valid pixel (every pixel is no data)")
        from rasterio.features import shapes

        parts = [
            shapely.geometry.shape(geom)
            for geom, value in shapes(mask.astype("uint8"), mask=mask, transform=transform)
            if value
        ]
        area = shapely.union_all(parts)
        pixel = math.hypot(transform.a, transform.d)
        area = shapely.simplify(area, 0.5 * pixel, preserve_topology=True)
        inside = area.representative_point() if area.area > 0 else area.centroid
        inv = ~transform
        col, row = _apply(inv, inside.x, inside.y)
        scale = ds.width / mask.shape[1], ds.height / mask.shape[0]
        gsd = _gsd_m(ds, crs, float(col) * scale[0], float(row) * scale[1])
        time, time_flag = _time(ds.tags(), time_zone)
    minx, miny, maxx, maxy = area.bounds
    area = shapely.segmentize(area, max(maxx - minx, maxy - miny) / 64)
    to_ll = Transformer.from_crs(crs, CRS_LONLAT, always_xy=True)
    footprint = shapely.make_valid(
        shapely.transform(area, lambda xy: np.c_[to_ll.transform(xy[:, 0], xy[:, 1])])
    )
    flags = ";".join(w for w in ("nodata_guessed" if guessed else "", time_flag) if w)
    row_data: dict[str, Any] = {
        CAPTURE_ID: path.name,
        PATH: str(path),
        CAPTURE_KIND: ORTHOMOSAIC,
        TIME_UTC: pd.Series([time], dtype=TIME_DTYPE),
        FLIGHT_ID: pd.Series([None], dtype=object),
        CAM_LON: np.nan,
        CAM_LAT: np.nan,
        ALT_AGL_M: np.nan,
        YAW_DEG: np.nan,
        PITCH_DEG: np.nan,
        ROLL_DEG: np.nan,
        GSD_CM: 100.0 * gsd,
        FLAGS: flags,
    }
    frame = pd.DataFrame(row_data, index=pd.RangeIndex(1))
    out = gpd.GeoDataFrame(frame, geometry=[footprint], crs=CRS_LONLAT)
    return out[CAPTURE_COLUMNS]
