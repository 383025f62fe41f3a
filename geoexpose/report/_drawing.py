"""Static maps in metres: geometries as matplotlib artists, a scale bar and a north arrow.

Everything is drawn in a band's Transverse Mercator (:mod:`geoexpose.projection`),
whose scale is within 0.15 % of true inside its band, so one length on the map is
one length on the ground and the scale bar holds anywhere on the page. Grid north
differs from true north by the meridian convergence (up to about 3 degrees at the
band's edge): the arrow points to true north, found by projecting a point north of
the map's centre.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geoexpose.projection import from_band, lonlat_to_band
from geoexpose.report._mpl import mpl

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import LineCollection, PathCollection
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

__all__ = [
    "NICE_STEPS",
    "draw_lines",
    "draw_points",
    "draw_polygons",
    "fit_extent",
    "north_arrow",
    "scale_bar",
    "scale_length",
]

#: Scale bar lengths are 1, 2 or 5 times a power of ten metres.
NICE_STEPS = (1.0, 2.0, 5.0)


def _polygon_path(geoms: np.ndarray) -> MplPath | None:
    """One compound path of every polygon ring of ``geoms`` (holes drawn as holes)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return None
    parts = shapely.get_parts(geoms)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons
    parts = parts[~shapely.is_empty(parts)]
    if len(parts) == 0:
        return None
    MplPath = mpl().Path
    rings = shapely.get_rings(parts)
    xy, index = shapely.get_coordinates(rings, return_index=True)
    codes = np.full(len(xy), MplPath.LINETO, dtype=np.uint8)
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    ends = np.r_[starts[1:], len(xy)] - 1
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    return MplPath(xy, codes)


def draw_polygons(ax: Axes, geoms: np.ndarray, **style: Any) -> PathPatch | None:
    """Draw the polygons among ``geoms`` (metres) as one patch; return it."""
    path = _polygon_path(geoms)
    if path is None:
        return None
    patch = mpl().PathPatch(path, **style)
    ax.add_patch(patch)
    return patch


def draw_lines(ax: Axes, geoms: np.ndarray, **style: Any) -> LineCollection | None:
    """Draw the lines among ``geoms`` (metres), and polygon outlines if asked, as one collection."""
    geoms = np.asarray(geoms, dtype=object)
    parts = shapely.get_parts(geoms) if len(geoms) else geoms
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))] if len(parts) else parts
    parts = parts[~shapely.is_empty(parts)] if len(parts) else parts
    if len(parts) == 0:
        return None
    xy, index = shapely.get_coordinates(parts, return_index=True)
    cuts = np.flatnonzero(index[1:] != index[:-1]) + 1
    lines = mpl().LineCollection(np.split(xy, cuts), **style)
    ax.add_collection(lines)
    return lines


def draw_points(ax: Axes, geoms: np.ndarray, **style: Any) -> PathCollection | None:
    """Draw the points among ``geoms`` (metres) as markers."""
    geoms = np.asarray(geoms, dtype=object)
    parts = shapely.get_parts(geoms) if len(geoms) else geoms
    parts = parts[shapely.get_type_id(parts) == 0] if len(parts) else parts
    parts = parts[~shapely.is_empty(parts)] if len(parts) else parts
    if len(parts) == 0:
        return None
    xy = shapely.get_coordinates(parts)
    return ax.scatter(xy[:, 0], xy[:, 1], **style)


def fit_extent(
    bounds: tuple[float, float, float, float],
    aspect: float,
    *,
    margin: float = 0.08,
    min_side_m: float = 200.0,
) -> tuple[float, float, float, float]:
    """Widen ``bounds`` (metres) by ``margin`` on each side to the ``aspect`` (width / height).

    >>> fit_extent((0, 0, 100, 100), 2.0, margin=0.0, min_side_m=0)
    (-50.0, 0.0, 150.0, 100.0)
    """
    x0, y0, x1, y1 = (float(b) for b in bounds)
    w = max(x1 - x0, min_side_m) * (1 + 2 * margin)
    h = max(y1 - y0, min_side_m) * (1 + 2 * margin)
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)


def scale_length(width_m: float, *, share: float = 0.25) -> float:
    """Return the longest 1, 2 or 5 x 10**k metres not over ``share`` of the map's width.

    >>> scale_length(1000.0), scale_length(7300.0), scale_length(3.0)
    (200.0, 1000.0, 0.5)
    """
    target = max(width_m * share, 1e-3)
    power = 10.0 ** np.floor(np.log10(target))
    steps = [s * power for s in NICE_STEPS if s * power <= target]
    return float(max(steps))


def _label(length_m: float) -> str:
    if length_m >= 1000:
        return f"{length_m / 1000:g} km"
    return f"{length_m:g} m"


def scale_bar(ax: Axes, extent: tuple[float, float, float, float]) -> float:
    """Draw a two-part scale bar in the lower left of the map; return its length in metres."""
    x0, y0, x1, y1 = extent
    length = scale_length(x1 - x0)
    h = (y1 - y0) * 0.012
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.05
    Rectangle = mpl().Rectangle
    ax.add_patch(
        Rectangle(
            (left - h, bottom - h),
            length + 2 * h,
            h * 4.2,
            facecolor="white",
            edgecolor="none",
            alpha=0.8,
            zorder=20,
        )
    )
    for i, colour in enumerate(("black", "white")):
        ax.add_patch(
            Rectangle(
                (left + i * length / 2, bottom),
                length / 2,
                h,
                facecolor=colour,
                edgecolor="black",
                linewidth=0.6,
                zorder=21,
            )
        )
    ax.text(
        left + length / 2,
        bottom + 1.6 * h,
        _label(length),
        ha="center",
        va="bottom",
        fontsize=7,
        zorder=22,
        parse_math=False,
        gid="scale-bar",
    )
    return length


def north_arrow(ax: Axes, extent: tuple[float, float, float, float], band: int) -> float:
    """Draw an arrow to true north in the upper right of the map; return its angle from grid north.

    The angle (degrees, clockwise positive) is the meridian convergence at the map's
    centre: the direction from the centre to a point 0.01 degrees north of it.
    """
    x0, y0, x1, y1 = extent
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    lon, lat = shapely.get_coordinates(from_band(np.array([shapely.Point(cx, cy)]), band))[0]
    nx, ny = lonlat_to_band(np.array([lon]), np.array([min(lat + 0.01, 89.99)]), band)
    dx, dy = float(nx[0] - cx), float(ny[0] - cy)
    norm = float(np.hypot(dx, dy)) or 1.0
    size = (y1 - y0) * 0.07
    ux, uy = dx / norm * size, dy / norm * size
    ax_, ay = x1 - (x1 - x0) * 0.06, y1 - (y1 - y0) * 0.06 - size
    ax.annotate(
        "",
        xy=(ax_ + ux, ay + uy),
        xytext=(ax_, ay),
        zorder=22,
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.4},
    )
    ax.text(
        ax_ + ux * 1.25,
        ay + uy * 1.25,
        "N",
        ha="center",
        va="center",
        fontsize=8,
        fontweight="bold",
        zorder=22,
        parse_math=False,
        gid="north-arrow",
    )
    return float(np.degrees(np.arctan2(dx, dy)))
