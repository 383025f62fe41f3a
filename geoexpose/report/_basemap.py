"""A local GeoTIFF drawn under a briefing's map, warped into the map's metric band.

Only the part of the raster under the map is read, warped by GDAL (through
rasterio, an optional extra) into an image of at most :data:`BASEMAP_PX` pixels a
side; nothing is fetched.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from geoexpose.errors import InputError
from geoexpose.projection import band_crs

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["BASEMAP_PX", "draw_basemap"]

#: Longest side, in pixels, of the image a basemap is warped into (about 250 dpi on the page).
BASEMAP_PX = 1600


def draw_basemap(
    ax: Axes, path: str | os.PathLike[str], band: int, extent: Sequence[float]
) -> None:
    """Draw the GeoTIFF at ``path`` under the map of ``extent`` (metres in ``band``).

    Raises
    ------
    InputError
        The file cannot be read as a georeferenced raster.
    ImportError
        rasterio is not installed (the message names the extra).
    """
    try:
        import rasterio
        from rasterio.transform import Affine
        from rasterio.warp import Resampling, reproject
    except ImportError as exc:
        raise ImportError(
            "a GeoTIFF basemap needs rasterio: pip install 'geoexpose[raster]'"
        ) from exc
    x0, y0, x1, y1 = (float(v) for v in extent)
    side = BASEMAP_PX / max(x1 - x0, y1 - y0)
    width, height = max(int((x1 - x0) * side), 1), max(int((y1 - y0) * side), 1)
    try:
        with warnings.catch_warnings(), rasterio.open(path) as src:
            # rasterio's own use of affine's `*` (deprecated for `@`) warns
            warnings.filterwarnings("ignore", "Use `@` matmul", PendingDeprecationWarning)
            if src.crs is None:
                raise InputError(f"{path}: the raster has no CRS; a basemap must be georeferenced")
            count = 3 if src.count >= 3 else 1
            dst = np.zeros((count, height, width), dtype="float32")
            reproject(
                source=rasterio.band(src, list(range(1, count + 1))),
                destination=dst,
                dst_transform=Affine((x1 - x0) / width, 0.0, x0, 0.0, -(y1 - y0) / height, y1),
                dst_crs=band_crs(band).to_wkt(),
                resampling=Resampling.bilinear,
                dst_nodata=np.nan,
            )
    except rasterio.errors.RasterioError as exc:
        raise InputError(f"{path}: not read as a basemap ({exc})") from exc
    finite = np.isfinite(dst)
    if not finite.any():
        return
    lo, hi = np.nanpercentile(dst[finite], [1, 99]) if dst.dtype != np.uint8 else (0, 255)
    image = np.clip((dst - lo) / max(hi - lo, 1e-9), 0, 1)
    alpha = finite.all(axis=0).astype("float32")
    rgba = np.concatenate([np.repeat(image, 3 // count, axis=0), alpha[None]], axis=0)
    ax.imshow(
        np.nan_to_num(np.moveaxis(rgba, 0, -1)),
        extent=(x0, x1, y0, y1),
        origin="upper",
        zorder=0,
        interpolation="antialiased",
    )
