"""Chunks of consecutive fixes: the unit in which fixes meet site zones.

Fixes ordered by flight and time are cut into chunks of up to ``CHUNK`` joined fixes
(a chunk never spans a recording gap or two flights), each with its lon/lat box. Coarse
tests on those boxes (:func:`near_chunks`, :func:`sites_near`, :func:`may_meet`) set
aside the chunks and sites far from each other before anything finer is done.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["CHUNK", "M_PER_DEG_MIN", "Chunks", "may_meet", "near_chunks", "sites_near"]

CHUNK = 32
M_PER_DEG_MIN = 110_000.0  # a degree of latitude is at least 110.57 km


@dataclass(frozen=True)
class Chunks:
    """Chunks of up to CHUNK joined fixes, with their lon/lat boxes.

    Chunk ``c`` covers positions ``start[c]`` to ``end[c]``; ``end`` is the next
    chunk's start where the track goes on, so every segment lies in the chunk that
    holds its first fix. A chunk never spans a recording gap or two flights.
    Longitudes are unwrapped from each chunk's first fix, so a chunk across the
    antimeridian has a box from, say, 179.9 to 180.1.
    """

    start: np.ndarray
    end: np.ndarray
    joined_end: np.ndarray
    lon_lo: np.ndarray
    lon_hi: np.ndarray
    lat_lo: np.ndarray
    lat_hi: np.ndarray

    @classmethod
    def of(cls, lon: np.ndarray, lat: np.ndarray, segment_ok: np.ndarray) -> Chunks:
        """Cut fixes, ordered by flight and time, into chunks."""
        m = len(lon)
        joined = np.zeros(m, dtype=bool)
        joined[:-1] = segment_ok[:-1]
        # runs of joined fixes, cut every CHUNK fixes
        run_start = np.flatnonzero(np.r_[True, ~joined[:-1]]) if m else np.zeros(0, dtype=int)
        k = -(-np.diff(np.append(run_start, m)) // CHUNK)  # chunks per run
        start = np.repeat(run_start, k) + CHUNK * (
            np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        )
        nxt = np.append(start[1:], m)
        joined_end = joined[nxt - 1]
        end = np.where(joined_end, nxt, nxt - 1)

        def span(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            lo = np.minimum(np.minimum.reduceat(values, start), values[end])
            hi = np.maximum(np.maximum.reduceat(values, start), values[end])
            return lo, hi

        lon_lo, lon_hi = span(lon) if m else (np.zeros(0), np.zeros(0))
        lat_lo, lat_hi = span(lat) if m else (np.zeros(0), np.zeros(0))
        # a chunk across the antimeridian: longitudes unwrapped from its first fix
        wrap = np.flatnonzero(lon_hi - lon_lo > 180.0)
        if len(wrap):
            first, n = start[wrap], end[wrap] - start[wrap] + 1
            offsets = np.cumsum(n) - n
            pos = np.repeat(first - offsets, n) + np.arange(n.sum())
            rel = np.mod(lon[pos] - np.repeat(lon[first], n) + 180.0, 360.0) - 180.0
            lon_lo[wrap] = lon[first] + np.minimum.reduceat(rel, offsets)
            lon_hi[wrap] = lon[first] + np.maximum.reduceat(rel, offsets)
        return cls(start, end, joined_end, lon_lo, lon_hi, lat_lo, lat_hi)


def near_chunks(
    site_geoms: np.ndarray,
    standoff_m: np.ndarray,
    chunks: Chunks,
    *,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """Chunks whose lon/lat box meets the band's sites' box grown by the largest standoff.

    ``bounds`` may give ``shapely.bounds(site_geoms)`` when already at hand.
    """
    b = shapely.bounds(site_geoms) if bounds is None else bounds
    margin_lat = float(standoff_m.max()) / M_PER_DEG_MIN + 1e-6
    lat_lo = np.nanmin(b[:, 1]) - margin_lat
    lat_hi = np.nanmax(b[:, 3]) + margin_lat
    near = (chunks.lat_hi >= lat_lo) & (chunks.lat_lo <= lat_hi)
    max_abs_lat = max(abs(lat_lo), abs(lat_hi))
    if max_abs_lat >= 89.0 or np.any(b[:, 2] - b[:, 0] > 180.0):
        return near
    margin_lon = margin_lat / np.cos(np.radians(max_abs_lat))
    lo = np.nanmin(b[:, 0]) - margin_lon
    width = np.nanmax(b[:, 2]) + margin_lon - lo
    if width >= 360.0:
        return near
    # the chunk's west edge relative to the box's, wrapped to [-180, 180)
    a = np.mod(chunks.lon_lo - lo + 180.0, 360.0) - 180.0
    return near & (a + (chunks.lon_hi - chunks.lon_lo) >= 0.0) & (a <= width)


def sites_near(
    site_geoms: np.ndarray,
    standoff_m: np.ndarray,
    chunks: Chunks,
    *,
    bounds: np.ndarray | None = None,
) -> np.ndarray:
    """Which sites a chunk may come within the standoff of: a coarse test in lon/lat.

    A site's box grows by its standoff as in the bands (a degree of latitude is at
    least M_PER_DEG_MIN metres, one of longitude at least that times the cosine of
    the box's farthest latitude), and :func:`may_meet` compares it with the chunks'
    boxes. A site that a chunk meets is always kept, and so are sites near a pole
    or reaching across the antimeridian. ``bounds`` may give ``shapely.bounds(site_geoms)``
    when already at hand.
    """
    b = shapely.bounds(site_geoms) if bounds is None else bounds
    margin = np.asarray(standoff_m, dtype="float64") / M_PER_DEG_MIN + 1e-6
    lat_lo, lat_hi = b[:, 1] - margin, b[:, 3] + margin
    far = np.maximum(np.abs(lat_lo), np.abs(lat_hi))
    margin_lon = margin / np.cos(np.radians(np.minimum(far, 89.0)))
    lon_lo, lon_hi = b[:, 0] - margin_lon, b[:, 2] + margin_lon
    # a chunk across the antimeridian is also looked at from the other side
    east, west = chunks.lon_hi > 180.0, chunks.lon_lo < -180.0
    shift = np.concatenate([np.zeros(len(chunks.start)), np.full(east.sum(), -360.0)])
    shift = np.concatenate([shift, np.full(west.sum(), 360.0)])
    pick = np.concatenate(
        [np.arange(len(chunks.start)), np.flatnonzero(east), np.flatnonzero(west)]
    )
    boxes = (
        chunks.lon_lo[pick] + shift,
        chunks.lat_lo[pick],
        chunks.lon_hi[pick] + shift,
        chunks.lat_hi[pick],
    )
    near = may_meet((lon_lo, lat_lo, lon_hi, lat_hi), boxes)
    return near | (far >= 89.0) | (lon_lo < -180.0) | (lon_hi > 180.0)


def may_meet(boxes, others, *, cells: int = 1 << 18) -> np.ndarray:
    """Which of ``boxes`` may meet one of the ``others``: a coarse test on a grid.

    Both are ``(x0, y0, x1, y1)`` tuples of arrays. The others are laid on a grid of
    about ``cells`` cells over their extent; a box is kept where a cell it covers is
    covered by one of the others. A box that meets another is always kept, so the
    test only spares finer tests (a tree query) most of the boxes far from all others.

    >>> x0 = np.array([0.0, 5.0, 9.5])
    >>> lo, hi = np.array([0.5, 9.8]), np.array([1.0, 10.0])
    >>> may_meet((x0, x0, x0 + 1, x0 + 1), (lo, lo, hi, hi))
    array([ True, False,  True])
    """
    bx0, by0, bx1, by1 = (np.asarray(a, dtype="float64") for a in boxes)
    ox0, oy0, ox1, oy1 = (np.asarray(a, dtype="float64") for a in others)
    finite = np.isfinite(ox0) & np.isfinite(oy0) & np.isfinite(ox1) & np.isfinite(oy1)
    if not finite.any():
        return np.zeros(len(bx0), dtype=bool)
    ox0, oy0, ox1, oy1 = ox0[finite], oy0[finite], ox1[finite], oy1[finite]
    x_lo, y_lo, x_hi, y_hi = ox0.min(), oy0.min(), ox1.max(), oy1.max()
    width, height = x_hi - x_lo, y_hi - y_lo
    size = max(np.sqrt(width * height / cells), width / 4096, height / 4096, 1e-9)
    nx, ny = int(width // size) + 1, int(height // size) + 1

    def cell(v: np.ndarray, lo: float, n: int) -> np.ndarray:
        return np.clip(np.floor((v - lo) / size), 0, n - 1).astype("int64")

    # how many of the others cover each cell: +-1 at the corners of each box, then
    # running sums over both axes
    i0, i1 = cell(ox0, x_lo, nx), cell(ox1, x_lo, nx) + 1
    j0, j1 = cell(oy0, y_lo, ny), cell(oy1, y_lo, ny) + 1
    corners = np.concatenate([j0 * (nx + 1) + i0, j0 * (nx + 1) + i1, j1 * (nx + 1) + i0])
    corners = np.concatenate([corners, j1 * (nx + 1) + i1])
    signs = np.repeat([1.0, -1.0, -1.0, 1.0], len(i0))
    cover = np.bincount(corners, weights=signs, minlength=(ny + 1) * (nx + 1))
    covered = _running_sums(cover.reshape(ny + 1, nx + 1).astype("int32")) > 0
    # covered cells in any rectangle of cells, from a table of running sums
    table = np.zeros((ny + 1, nx + 1), dtype="int32")
    table[1:, 1:] = _running_sums(covered[:ny, :nx].astype("int32"))
    outside = (bx1 < x_lo) | (bx0 > x_hi) | (by1 < y_lo) | (by0 > y_hi) | np.isnan(bx0 + bx1)
    i0, i1 = cell(bx0, x_lo, nx), cell(bx1, x_lo, nx) + 1
    j0, j1 = cell(by0, y_lo, ny), cell(by1, y_lo, ny) + 1
    flat, j0, j1 = table.ravel(), j0 * (nx + 1), j1 * (nx + 1)
    n = flat[j1 + i1] - flat[j0 + i1] - flat[j1 + i0] + flat[j0 + i0]
    return (n > 0) & ~outside


def _running_sums(a: np.ndarray) -> np.ndarray:
    """Return the sums of ``a[:i + 1, :j + 1]`` (cumsum down columns is slow: transposed)."""
    a = np.cumsum(a, axis=1, dtype="int32")
    return np.cumsum(np.ascontiguousarray(a.T), axis=1, dtype="int32").T
