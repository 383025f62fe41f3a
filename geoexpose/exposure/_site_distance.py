"""Distances from many points to site geometries, in metres, without making points.

Creating a shapely Point costs more than measuring its distance, so the distance
from ``(x, y)`` to a site is worked out in numpy: the least distance to the site's
segments (a point or a MultiPoint's members are segments of length 0), and 0 where
the point lies in a polygon, which shapely tests from the coordinates alone
(:func:`shapely.intersects_xy` on prepared geometry). Geometry collections go
through :func:`shapely.distance`.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["SiteDistance"]

_POINT, _COLLECTION = 0, 7
_POLYGONAL = (3, 6)
_BATCH = 32_768  # point x segment pairs measured at once: their temporaries stay in cache


class SiteDistance:
    """Measure distances from points to an array of geometries in one metric CRS.

    Parameters
    ----------
    geoms
        Site geometries, projected (metres).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> measure = SiteDistance(np.array([shapely.box(0, 0, 10, 10), shapely.Point(50, 0)]))
    >>> measure(np.array([5.0, 13.0, 50.0]), np.array([5.0, 14.0, 3.0]), np.array([0, 0, 1]))
    array([0., 5., 3.])
    """

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        types = shapely.get_type_id(geoms)
        self.point = types == _POINT
        points = np.where(self.point, geoms, None)  # type: ignore[call-overload]
        self.px = shapely.get_x(points)  # NaN where the site is no Point
        self.py = shapely.get_y(points)
        self.polygonal = np.isin(types, _POLYGONAL)
        self.collection = types == _COLLECTION
        if self.polygonal.any():
            shapely.prepare(geoms[self.polygonal])
        plain = np.where(self.collection, None, geoms)  # type: ignore[call-overload]
        parts, owner = shapely.get_parts(plain, return_index=True)
        part_type = shapely.get_type_id(parts)
        poly = part_type == 3
        rings, ring_owner = shapely.get_rings(parts[poly], return_index=True)
        lines = np.concatenate([parts[~poly], rings])
        line_owner = np.concatenate([owner[~poly], owner[poly][ring_owner]])
        xy, index = shapely.get_coordinates(lines, return_index=True)
        # a segment from each vertex to the next of the same line; lone points stay
        same = np.r_[index[1:] == index[:-1], False]
        lone = np.r_[True, ~same[:-1]] & ~same
        start = np.flatnonzero(same | lone)
        end = np.where(same[start], start + 1, start)
        site = line_owner[index[start]]
        order = np.argsort(site, kind="stable")
        self.x0, self.y0 = xy[start[order], 0], xy[start[order], 1]
        self.dx = xy[end[order], 0] - self.x0
        self.dy = xy[end[order], 1] - self.y0
        length2 = self.dx**2 + self.dy**2
        with np.errstate(divide="ignore"):
            self.inv_length2 = np.where(length2 > 0, 1.0 / length2, 0.0)
        self.count = np.bincount(site, minlength=len(geoms))
        self.first = np.cumsum(self.count) - self.count

    def __call__(self, x: np.ndarray, y: np.ndarray, site: np.ndarray) -> np.ndarray:
        """Distance from each point ``(x[i], y[i])`` to ``geoms[site[i]]``."""
        d = np.empty(len(x), dtype="float64")
        other = self.collection[site]
        if other.any():
            d[other] = shapely.distance(self.geoms[site[other]], shapely.points(x[other], y[other]))
        point = self.point[site]
        k = site[point]
        d[point] = np.hypot(x[point] - self.px[k], y[point] - self.py[k])
        plain = np.flatnonzero(~other & ~point)
        counts = self.count[site[plain]]
        # batches of pairs whose segments add up to about _BATCH
        edges = np.searchsorted(np.cumsum(counts), np.arange(_BATCH, counts.sum(), _BATCH))
        for part in np.split(np.arange(len(plain)), edges):
            if len(part):
                k = plain[part]
                d[k] = self._segments(x[k], y[k], site[k], counts[part])
        inside = np.flatnonzero(self.polygonal[site] & (d > 0))
        if len(inside):
            hit = shapely.intersects_xy(self.geoms[site[inside]], x[inside], y[inside])
            d[inside[hit]] = 0.0
        return d

    def _segments(self, x, y, site, counts) -> np.ndarray:
        offsets = np.cumsum(counts) - counts
        pair = np.repeat(np.arange(len(x)), counts)
        seg = np.repeat(self.first[site] - offsets, counts) + np.arange(counts.sum())
        dx, dy = self.dx[seg], self.dy[seg]
        px = x[pair] - self.x0[seg]
        py = y[pair] - self.y0[seg]
        # where the perpendicular from the point meets the segment, clipped to its ends
        t = np.clip((px * dx + py * dy) * self.inv_length2[seg], 0.0, 1.0)
        px -= t * dx
        py -= t * dy
        return np.sqrt(np.minimum.reduceat(px * px + py * py, offsets))
