"""Rays marched into a DEM window, vectorized over many rays (see :mod:`geoexpose.imagery.dem`)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from geoexpose.imagery._raster import Dem, bilinear, tiles
from geoexpose.imagery.pose import enu_offsets

__all__ = ["march_all"]

_MAX_STEPS = 4096  # samples per ray
_BATCH = 1 << 20  # samples marched at once
_BISECTIONS = 16
_A = 6378137.0
_E2 = 0.00669437999014  # WGS 84 first eccentricity squared


def _quadratic_maps(
    handle: Dem, lon: np.ndarray, lat: np.ndarray, reach: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per camera, coefficients of col and row (full raster) as quadratics of (east, north).

    Terms: 1, e, n, e*e, e*n, n*n, with e and n in units of ``reach`` metres.
    """
    g = np.array([-1.0, 0.0, 1.0])
    e = np.repeat(g, 3)
    nn = np.tile(g, 3)
    basis = np.stack([np.ones(9), e, nn, e * e, e * nn, nn * nn], axis=1)
    plon, plat = enu_offsets(lon[:, None], lat[:, None], e[None, :] * reach, nn[None, :] * reach)
    col, row = handle.to_pixels(plon.ravel(), plat.ravel())
    pinv = np.linalg.pinv(basis)  # (6, 9)
    return col.reshape(-1, 9) @ pinv.T, row.reshape(-1, 9) @ pinv.T


class _Rays:
    """Rays of a group of cameras over one DEM window.

    Ray ``i`` leaves its camera along ``(ue, un, 1)`` (east, north, down) per metre of
    depth; its window column and row are quadratics of the depth ``d``:
    ``col = ac + d * (bc + d * cc)``, ``row = ar + d * (br + d * cr)``.
    """

    def __init__(
        self,
        z: np.ndarray,
        geom: tuple[float, float, float, float],
        coef_c: np.ndarray,
        coef_r: np.ndarray,
        reach: float,
        ue: np.ndarray,
        un: np.ndarray,
    ) -> None:
        c0, r0, sc, sr = geom
        self.z, self.holes = z, bool(np.isnan(z).any())
        self.ac, self.bc, self.cc = _along(coef_c, c0, sc, ue / reach, un / reach)
        self.ar, self.br, self.cr = _along(coef_r, r0, sr, ue / reach, un / reach)
        # the horizontal step (metres of depth) that crosses at most one window cell
        self.cell = 1.0 / np.maximum(np.maximum(np.abs(self.bc), np.abs(self.br)), 1e-12)

    def ground(self, ray: np.ndarray, d: np.ndarray) -> np.ndarray:
        """Ground height under ray ``ray`` at depth ``d`` (NaN without data)."""
        col = self.ac[ray] + d * (self.bc[ray] + d * self.cc[ray])
        row = self.ar[ray] + d * (self.br[ray] + d * self.cr[ray])
        return bilinear(self.z, col, row, holes=self.holes)


def _batches(
    m: _Rays, d0: np.ndarray, step: np.ndarray, count: np.ndarray
) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Sample rays at depths ``d0 + k * step`` (k < count), about _BATCH samples at a time.

    Yields the rays, their first sample's position, their sample count, and per sample
    its index k along its ray, its depth and the ground there (NaN without data).
    """
    ends = np.cumsum(count)
    first = 0
    while first < d0.size:
        target = (ends[first - 1] if first else 0) + _BATCH
        last = min(max(int(np.searchsorted(ends, target, side="right")), first + 1), d0.size)
        rays = np.arange(first, last)
        cnt = count[rays]
        starts = np.concatenate([[0], np.cumsum(cnt)[:-1]])
        k = np.arange(cnt.sum()) - np.repeat(starts, cnt)
        d = np.repeat(d0[rays], cnt) + k * np.repeat(step[rays], cnt)
        col = np.repeat(m.ac[rays], cnt) + d * (
            np.repeat(m.bc[rays], cnt) + d * np.repeat(m.cc[rays], cnt)
        )
        row = np.repeat(m.ar[rays], cnt) + d * (
            np.repeat(m.br[rays], cnt) + d * np.repeat(m.cr[rays], cnt)
        )
        yield rays, starts, cnt, k, d, bilinear(m.z, col, row, holes=m.holes)
        first = last


def _last_ground(m: _Rays, rays: np.ndarray, d1: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Return the last ground height (not NaN) rays pass over down to depth d1."""
    count = np.clip(np.ceil(d1 / step).astype("int64") + 1, 1, _MAX_STEPS)
    step = np.where(count > 1, d1 / np.maximum(count - 1, 1), 0.0)
    sub = _Subset(m, rays)
    out = np.full(rays.size, np.nan)
    for idx, starts, _, _, _, zg in _batches(sub, np.zeros(rays.size), step, count):
        pos = np.maximum.reduceat(np.where(np.isfinite(zg), np.arange(zg.size), -1), starts)
        out[idx] = np.where(pos >= starts, zg[np.maximum(pos, 0)], np.nan)
    return out


class _Subset(_Rays):
    """Some rays of a :class:`_Rays`."""

    def __init__(self, m: _Rays, rays: np.ndarray) -> None:
        self.z, self.holes = m.z, m.holes
        self.ac, self.bc, self.cc = m.ac[rays], m.bc[rays], m.cc[rays]
        self.ar, self.br, self.cr = m.ar[rays], m.br[rays], m.cr[rays]
        self.cell = m.cell[rays]


def _along(
    coef: np.ndarray, origin: float, size: float, u: np.ndarray, v: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients in depth of a window coordinate along rays ``(u, v)`` per unit depth."""
    a = (coef[:, 0] - origin) / size
    b = (coef[:, 1] * u + coef[:, 2] * v) / size
    c = (coef[:, 3] * u * u + coef[:, 4] * u * v + coef[:, 5] * v * v) / size
    return a, b, c


def _march(
    m: _Rays,
    elev: np.ndarray,
    curv: np.ndarray,
    fill0: np.ndarray,
    d0: np.ndarray,
    d1: np.ndarray,
    step: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depth below the camera of each ray's first ground, whether found, whether on no data.

    A ray is ``(ue, un, 1) * depth`` from the camera (east, north, down); its height is
    ``elev - depth - curv * depth**2``. It is sampled from depth ``d0`` to ``d1`` every
    ``step``; cells without data take the last height the ray passed over since the
    camera (``fill0`` before any).
    """
    nr = d0.size
    fill0 = fill0.copy()
    blind = np.flatnonzero(~np.isfinite(m.ground(np.arange(nr), d0)) & (d0 > 0))
    if blind.size:  # rays that leave the data above the highest ground: what they passed
        before = _last_ground(m, blind, d0[blind], step[blind])
        fill0[blind] = np.where(np.isfinite(before), before, fill0[blind])
    count = np.clip(np.ceil((d1 - d0) / step).astype("int64") + 1, 1, _MAX_STEPS)
    step = np.where(count > 1, (d1 - d0) / np.maximum(count - 1, 1), 0.0)
    found = np.zeros(nr, dtype=bool)
    missed = np.zeros(nr, dtype=bool)
    depth = d1.copy()
    lo_all = np.zeros(nr)
    fill_all = fill0.copy()
    for rays, starts, cnt, k, d, zg in _batches(m, d0, step, count):
        r = np.repeat(rays, cnt)
        valid = np.isfinite(zg)
        last_valid = np.maximum.accumulate(np.where(valid, np.arange(r.size), -1))
        own = last_valid >= np.repeat(starts, cnt)
        zeff = np.where(valid, zg, np.where(own, zg[np.maximum(last_valid, 0)], fill0[r]))
        below = elev[r] - d - curv[r] * d * d <= zeff
        hit_k = np.minimum.reduceat(np.where(below, k, _MAX_STEPS + 1), starts)
        hit = hit_k <= _MAX_STEPS
        kk = np.where(hit, hit_k, cnt - 1)
        at = starts + kk
        found[rays] = hit
        missed[rays] = hit & ~valid[at]
        depth[rays] = np.where(hit, d[at], d1[rays])
        prev = np.maximum(at - 1, starts)
        lo_all[rays] = np.where(hit & (kk > 0), d[prev], np.maximum(d[at] - step[rays], 0.0))
        fill_all[rays] = np.where(kk > 0, zeff[prev], fill0[rays])
    sel = np.flatnonzero(found)
    lo, hi = lo_all[sel], depth[sel]
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        zg = m.ground(sel, mid)
        zg = np.where(np.isfinite(zg), zg, fill_all[sel])
        below = elev[sel] - mid - curv[sel] * mid * mid <= zg
        hi = np.where(below, mid, hi)
        lo = np.where(below, lo, mid)
    depth[sel] = hi
    return depth, found, missed


def march_all(
    handle: Dem,
    lon: np.ndarray,
    lat: np.ndarray,
    elev: np.ndarray,
    fallback: np.ndarray,
    ring_of: np.ndarray,
    ue: np.ndarray,
    un: np.ndarray,
    rho: np.ndarray,
    max_range: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """March every ray; windows read per group of nearby cameras."""
    nv = ring_of.size
    depth = np.zeros(nv)
    found = np.zeros(nv, dtype=bool)
    missed = np.zeros(nv, dtype=bool)
    coef_c, coef_r = _quadratic_maps(handle, lon, lat, max_range)
    corners = np.array([[1, 1, 1, 1, 1, 1], [1, -1, -1, 1, 1, 1], [1, 1, -1, 1, -1, 1],
                        [1, -1, 1, 1, -1, 1]], dtype=float)  # fmt: skip
    cc, rr = coef_c @ corners.T, coef_r @ corners.T  # corners of the reach square
    with np.errstate(invalid="ignore"):
        width = cc.max(1) - cc.min(1)
    span = max(float(np.nanmedian(width)) if np.isfinite(width).any() else 1.0, 1.0)
    n_lat = _A / np.sqrt(1 - _E2 * np.sin(np.radians(lat)) ** 2)
    off = ~np.isfinite(cc).all(axis=1) | ~np.isfinite(rr).all(axis=1)  # outside the CRS
    lost = np.flatnonzero(off)
    centre_c, centre_r = np.where(off, np.nan, coef_c[:, 0]), np.where(off, np.nan, coef_r[:, 0])
    for members in [*tiles(centre_c, centre_r, span), lost]:
        if not members.size:
            continue
        got = None
        if members is not lost:
            got = handle.window(
                cc[members].min() - 2, rr[members].min() - 2, cc[members].max() + 2,
                rr[members].max() + 2,
            )  # fmt: skip
        z, geom = got if got is not None else (np.full((1, 1), np.nan), (0.0, 0.0, 1.0, 1.0))
        chosen = np.zeros(lon.size, dtype=bool)
        chosen[members] = True
        verts = np.flatnonzero(chosen[ring_of])
        cam = ring_of[verts]
        m = _Rays(z, geom, coef_c[cam], coef_r[cam], max_range, ue[verts], un[verts])
        some = m.holes is False or np.isfinite(z).any()
        zmin = float(np.nanmin(z)) if some else math.inf
        zmax = float(np.nanmax(z)) if some else -math.inf
        zmin, zmax = min(zmin, fallback[cam].min()), max(zmax, fallback[cam].max())
        curv = rho[verts] ** 2 / (2 * n_lat[cam])
        margin = max_range**2 / (2 * _A)
        with np.errstate(divide="ignore"):
            d_max = np.where(rho[verts] > 0, max_range / rho[verts], np.inf)
        d0 = np.clip(elev[cam] - zmax - margin - 1.0, 0.0, None)
        d1 = np.minimum(d_max, elev[cam] - zmin + 1.0)
        d0 = np.minimum(d0, d1)
        step = np.minimum(m.cell, np.maximum(d1 - d0, 1e-9))
        dv, fv, mv = _march(m, elev[cam], curv, fallback[cam], d0, d1, step)
        depth[verts], found[verts], missed[verts] = dv, fv, mv
    return depth, found, missed
