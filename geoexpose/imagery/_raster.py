"""Reading DEMs: the raster, its CRS and vertical datum, windows and bilinear heights.

rasterio is imported only when a raster is opened; without it, :func:`require_rasterio`
raises a one-line UsageError naming the ``raster`` extra.
"""

from __future__ import annotations

import functools
import math
import os
from typing import Any

import numpy as np
from pyproj import CRS, Transformer

from geoexpose.errors import InputError, UsageError
from geoexpose.imagery import _geoid

__all__ = ["Dem", "bilinear", "open_dem", "require_rasterio", "tiles"]

_MAX_CELLS = 4096 * 4096  # cells of one window read (decimated beyond)
_EXTRA = "raster"


def require_rasterio() -> Any:
    """Import rasterio, or raise a UsageError that names the extra to install."""
    try:
        import rasterio
    except ImportError:
        raise UsageError(
            f"reading a DEM or orthomosaic needs rasterio: pip install 'geoexpose[{_EXTRA}]'"
        ) from None
    return rasterio


class Dem:
    """An open DEM or DSM: band 1 of a raster GDAL reads, with a CRS.

    Parameters
    ----------
    path
        The raster file.
    vertical
        What its heights are measured from, where the file does not say or says wrong:
        ``ellipsoid``, ``egm96``, ``egm2008`` or ``unknown``. Default: from the CRS
        (see :func:`geoexpose.imagery._geoid.vertical_datum`).

    Notes
    -----
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike[str], *, vertical: str | None = None) -> None:
        rasterio = require_rasterio()
        self.path = str(path)
        try:
            self.dataset = rasterio.open(self.path)
        except rasterio.errors.RasterioIOError as exc:
            reason = " ".join(str(exc).split())
            raise InputError(f"{self.path}: not a raster GDAL can read ({reason})") from None
        if self.dataset.crs is None:
            self.dataset.close()
            raise InputError(f"{self.path}: the DEM has no CRS")
        crs = CRS.from_user_input(self.dataset.crs.to_wkt())
        self.vertical = vertical if vertical is not None else _geoid.vertical_datum(crs)
        if self.vertical not in _geoid.VERTICAL_DATUMS and not self.vertical.startswith("other:"):
            raise UsageError(f"vertical must be one of {_geoid.VERTICAL_DATUMS}: {vertical!r}")
        horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
        self.crs = horizontal.to_2d()
        self._to_dem = Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    def __enter__(self) -> Dem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Dem({self.path!r}, vertical={self.vertical!r})"

    def close(self) -> None:
        """Close the raster."""
        self.dataset.close()

    def to_pixels(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column and row (fractional, of the full raster) of points given in lon/lat."""
        x, y = self._to_dem.transform(np.asarray(lon, "float64"), np.asarray(lat, "float64"))
        a, b, c, d, e, f = tuple(~self.dataset.transform)[:6]
        x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
        return a * x + b * y + c, d * x + e * y + f

    @functools.cached_property
    def median_m(self) -> float:
        """Median height of the DEM (from a decimated read); NaN where it holds no data."""
        ds = self.dataset
        f = max(1, math.ceil(max(ds.width, ds.height) / 256))
        shape = (max(1, ds.height // f), max(1, ds.width // f))
        z = ds.read(1, out_shape=shape, masked=True).astype("float64").filled(np.nan)
        return float(np.nanmedian(z)) if np.isfinite(z).any() else math.nan

    def window(
        self, col0: float, row0: float, col1: float, row1: float
    ) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        """Heights (NaN without data) of the cells covering a pixel box, and its geometry.

        Returns the array and ``(col_off, row_off, step_col, step_row)``: full-raster
        pixel coordinates of the array's corner and its cell size in full-raster pixels
        (above 1 where the window was decimated to at most 16.8 million cells).
        """
        from rasterio.enums import Resampling
        from rasterio.windows import Window

        ds = self.dataset
        c0, r0 = max(0, math.floor(col0)), max(0, math.floor(row0))
        c1, r1 = min(ds.width, math.ceil(col1)), min(ds.height, math.ceil(row1))
        if c1 <= c0 or r1 <= r0:
            return None
        w, h = c1 - c0, r1 - r0
        f = max(1.0, math.sqrt(w * h / _MAX_CELLS))
        shape = (max(1, round(h / f)), max(1, round(w / f)))
        z = ds.read(
            1,
            window=Window(c0, r0, w, h),
            out_shape=shape,
            masked=True,
            resampling=Resampling.nearest if f == 1 else Resampling.average,
        )
        z = z.astype("float32").filled(np.nan)
        return z, (float(c0), float(r0), w / shape[1], h / shape[0])


def open_dem(path: str | os.PathLike[str] | Dem, *, vertical: str | None = None) -> Dem:
    """Open a DEM (a path), or return it (already a :class:`Dem`)."""
    return path if isinstance(path, Dem) else Dem(path, vertical=vertical)


def bilinear(
    z: np.ndarray, x: np.ndarray, y: np.ndarray, *, holes: bool | None = None
) -> np.ndarray:
    """Heights at array coordinates (x along columns, cell centres at i + 0.5), NaN-aware.

    Weights of cells without data go to the others; NaN outside the array and where all
    four cells lack data. ``holes`` says whether ``z`` has NaN, where known.
    """
    h, w = z.shape
    u, v = x - 0.5, y - 0.5
    inside = (u >= -0.5) & (u <= w - 0.5) & (v >= -0.5) & (v <= h - 0.5)
    u = np.clip(np.where(inside, u, 0.0), 0.0, w - 1.0)
    v = np.clip(np.where(inside, v, 0.0), 0.0, h - 1.0)
    i0 = np.minimum(u.astype("int64"), max(w - 2, 0))
    j0 = np.minimum(v.astype("int64"), max(h - 2, 0))
    fu, fv = u - i0, v - j0
    di, dj = (1 if w > 1 else 0), (w if h > 1 else 0)
    flat = z.ravel()
    k = j0 * w + i0
    z00, z01, z10, z11 = flat[k], flat[k + di], flat[k + dj], flat[k + dj + di]
    if not (np.isnan(flat).any() if holes is None else holes):
        top = z00 + fu * (z01 - z00)
        out = top + fv * (z10 + fu * (z11 - z10) - top)
        return np.where(inside, out, np.nan)
    total = np.zeros(u.shape)
    weight = np.zeros(u.shape)
    for val, ww in (
        (z00, (1 - fu) * (1 - fv)),
        (z01, fu * (1 - fv)),
        (z10, (1 - fu) * fv),
        (z11, fu * fv),
    ):
        ok = np.isfinite(val)
        total += np.where(ok, val * ww, 0.0)
        weight += np.where(ok, ww, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = total / weight
    return np.where(inside & (weight > 1e-12), out, np.nan)


def tiles(col: np.ndarray, row: np.ndarray, size: float) -> list[np.ndarray]:
    """Group the indices of points by square tiles of ``size`` pixels."""
    ok = np.isfinite(col) & np.isfinite(row)
    keys = np.stack([np.floor(col / size), np.floor(row / size)], axis=1)
    idx = np.flatnonzero(ok)
    if not idx.size:
        return []
    _, inverse = np.unique(keys[idx], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(idx[order], bounds)
