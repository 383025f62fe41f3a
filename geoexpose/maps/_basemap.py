"""A local GeoTIFF (such as an orthomosaic) as an image drawn under a map's layers.

Leaflet stretches an image overlay linearly between two corners in Web Mercator, so
the raster is reprojected to EPSG:3857 with rasterio and encoded as a PNG data URI:
nothing is fetched when the map is viewed. Large rasters are read decimated (from
their overviews where they have them) so that the image is at most ``max_px``
pixels on its longest side. Bands: one band is drawn in grey, three or more as RGB
(the bands rasterio calls red, green and blue, else the first three), stretched
from the 2nd to the 98th percentile unless they are 8-bit; nodata, masks and alpha
become transparent.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from geoexpose.errors import InputError
from geoexpose.imagery import require_rasterio

__all__ = ["MAX_PX", "raster_overlay"]

logger = logging.getLogger(__name__)

MAX_PX = 2048
_WEB_MERCATOR = "EPSG:3857"
_MAX_LAT = 85.05112878


def _bands(src: Any) -> list[int]:
    from rasterio.enums import ColorInterp

    interp = list(src.colorinterp)
    rgb = [ColorInterp.red, ColorInterp.green, ColorInterp.blue]
    if all(c in interp for c in rgb):
        return [interp.index(c) + 1 for c in rgb]
    return [1, 2, 3] if src.count >= 3 else [1]


def _to_bytes(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Scale each band to 0-255: 8-bit as is, else its 2nd to 98th percentile."""
    if values.dtype == np.uint8:
        return values
    out = np.zeros(values.shape, dtype=np.uint8)
    for b in range(values.shape[0]):
        band = values[b].astype("float64")
        ok = valid & np.isfinite(band)
        if not ok.any():
            continue
        lo, hi = np.percentile(band[ok], [2, 98])
        scaled = (band - lo) / (hi - lo) if hi > lo else np.zeros_like(band)
        out[b] = np.round(255 * np.clip(np.nan_to_num(scaled), 0, 1)).astype(np.uint8)
    return out


def raster_overlay(
    path: str | os.PathLike[str],
    *,
    bounds: tuple[float, float, float, float] | None = None,
    max_px: int = MAX_PX,
) -> dict[str, Any]:
    """Read a GeoTIFF as an image overlay: a PNG data URI and its corners.

    Parameters
    ----------
    path
        The raster file; any CRS rasterio knows.
    bounds
        ``(west, south, east, north)`` in degrees: read only this part.
    max_px
        The longest side of the image, in pixels.

    Returns
    -------
    dict
        ``uri`` (``data:image/png;base64,...``), ``bounds`` (``[[south, west],
        [north, east]]``), and ``name`` (the file name), or an empty dict when the
        raster does not reach into ``bounds``.

    Raises
    ------
    InputError
        When the file cannot be read as a georeferenced raster.
    """
    with warnings.catch_warnings():
        # rasterio multiplies affine transforms with "*", which affine 3 deprecates
        warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
        return _overlay(path, bounds=bounds, max_px=max_px)


def _overlay(
    path: str | os.PathLike[str],
    *,
    bounds: tuple[float, float, float, float] | None = None,
    max_px: int = MAX_PX,
) -> dict[str, Any]:
    rasterio = require_rasterio()
    from PIL import Image
    from rasterio.enums import Resampling
    from rasterio.warp import calculate_default_transform, reproject, transform_bounds
    from rasterio.windows import from_bounds

    name = Path(path).name
    try:
        src = rasterio.open(path)
    except (rasterio.errors.RasterioIOError, OSError) as exc:
        raise InputError(f"{path}: cannot read as a raster basemap ({exc})") from exc
    with src:
        if src.crs is None:
            raise InputError(f"{path}: the raster has no CRS; a basemap must be georeferenced")
        window = None
        if bounds is not None:
            w, s, e, n = transform_bounds("EPSG:4326", src.crs, *bounds, densify_pts=21)
            window = (
                from_bounds(w, s, e, n, src.transform).intersection(
                    rasterio.windows.Window(0, 0, src.width, src.height)
                )
                if _overlaps((w, s, e, n), src.bounds)
                else None
            )
            if window is None or window.width < 1 or window.height < 1:
                return {}
        width = window.width if window is not None else src.width
        height = window.height if window is not None else src.height
        scale = max(1.0, max(width, height) / max_px)
        out_w, out_h = max(1, round(width / scale)), max(1, round(height / scale))
        bands = _bands(src)
        values = src.read(
            bands,
            window=window,
            out_shape=(len(bands), out_h, out_w),
            resampling=Resampling.average,
        )
        mask = src.read_masks(
            1, window=window, out_shape=(out_h, out_w), resampling=Resampling.nearest
        )
        base = src.window_transform(window) if window is not None else src.transform
        transform = _scaled(base, width / out_w, height / out_h)
        crs = src.crs
    valid = mask > 0
    rgb = _to_bytes(values, valid)
    if rgb.shape[0] == 1:
        rgb = np.repeat(rgb, 3, axis=0)
    src_rgba = np.concatenate([rgb, np.where(valid, 255, 0).astype(np.uint8)[None]], axis=0)
    west, south, east, north = rasterio.transform.array_bounds(out_h, out_w, transform)
    dst_transform, dst_w, dst_h = calculate_default_transform(
        crs, _WEB_MERCATOR, out_w, out_h, west, south, east, north
    )
    factor = max(1.0, max(dst_w, dst_h) / max_px)
    dst_w, dst_h = max(1, round(dst_w / factor)), max(1, round(dst_h / factor))
    dst_transform = _scaled(dst_transform, factor, factor)
    dst = np.zeros((4, dst_h, dst_w), dtype=np.uint8)
    reproject(
        src_rgba,
        dst,
        src_transform=transform,
        src_crs=crs,
        dst_transform=dst_transform,
        dst_crs=_WEB_MERCATOR,
        resampling=Resampling.nearest,
        src_nodata=None,
        dst_nodata=0,
    )
    image = Image.fromarray(np.moveaxis(dst, 0, -1), "RGBA")
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    x0, y0, x1, y1 = rasterio.transform.array_bounds(dst_h, dst_w, dst_transform)
    lon, lat = rasterio.warp.transform(_WEB_MERCATOR, "EPSG:4326", [x0, x1], [y0, y1])
    lat = np.clip(lat, -_MAX_LAT, _MAX_LAT)
    logger.info("basemap %s: %d x %d px, %d bytes", name, dst_w, dst_h, buf.tell())
    return {
        "uri": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii"),
        "bounds": [[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]],
        "name": name,
        "opacity": 1.0,
    }


def _scaled(t: Any, sx: float, sy: float) -> Any:
    """Return the transform ``t`` with pixels ``sx`` by ``sy`` times larger (``t * scale``)."""
    from affine import Affine

    return Affine(t.a * sx, t.b * sy, t.c, t.d * sx, t.e * sy, t.f)


def _overlaps(a: tuple[float, float, float, float], b: Any) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
