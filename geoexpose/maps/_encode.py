"""Geometry and tables of a map as compact JSON, for the page's data blocks.

A map page keeps its data in ``<script type="application/json">`` blocks that the
runtime (``_map_runtime.js``) reads when a layer is drawn: the browser parses no
data it does not show, and the finer levels of detail of a track are parsed only
when the map is zoomed in far enough.

Geometry is encoded as integer micro-degrees (about 0.1 m), each coordinate the
difference from the one before it, with counts that give the structure:

- ``fp``: parts per feature; ``pt``: type of each part (0 point, 1 line, 2 polygon);
- ``pr``: paths per part (1 for points and lines, the rings for polygons);
- ``rc``: coordinates per path; ``d``: ``dx, dy`` of every coordinate, in order.

Lines and polygons are simplified in metres in the metric band that
:mod:`geoexpose.projection` chooses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from geoexpose import projection
from geoexpose.maps._html_inline import page_part

__all__ = [
    "MICRO",
    "DataBlock",
    "encode_geometries",
    "encode_points_xy",
    "json_text",
    "simplify_levels",
    "simplify_m",
    "to_lonlat",
    "to_metric",
]

MICRO = 1_000_000
_MULTI = (4, 5, 6, 7)  # MultiPoint, MultiLineString, MultiPolygon, GeometryCollection
_POINTS = (-1, 0, 4)  # missing, Point, MultiPoint


def to_metric(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project EPSG:4326 geometries each to its metric band; return them and the bands."""
    out = np.array(geoms, dtype=object)
    bands = projection.band_of_geometries(out) if len(out) else np.zeros(0, dtype="int64")
    for band in np.unique(bands):
        sel = bands == band
        out[sel] = projection.geometries_to_band(out[sel], int(band))
    return out, bands


def to_lonlat(metric: np.ndarray, bands: np.ndarray) -> np.ndarray:
    """Bring geometries from their metric ``bands`` back to EPSG:4326."""
    out = np.array(metric, dtype=object)
    for band in np.unique(bands):
        sel = bands == band
        out[sel] = projection.from_band(out[sel], int(band))
    return out


def simplify_levels(
    geoms: np.ndarray, tolerances_m: Sequence[float], *, preserve_topology: bool
) -> list[np.ndarray]:
    """Simplify EPSG:4326 geometries at each tolerance in metres, finest first.

    Each level is simplified from the one before it, so the drawing of level ``k``
    lies within the sum of the tolerances up to ``k`` of the input.
    """
    geoms = np.asarray(geoms, dtype=object)
    # Points and MultiPoints are kept as they are (nothing to simplify, nothing to project).
    lines = ~np.isin(shapely.get_type_id(geoms), _POINTS)
    if not lines.any():
        return [geoms.copy() for _ in tolerances_m]
    metric, bands = to_metric(geoms[lines])
    out = []
    for tol in tolerances_m:
        metric = shapely.simplify(metric, float(tol), preserve_topology=preserve_topology)
        level = geoms.copy()
        level[lines] = to_lonlat(metric, bands)
        out.append(level)
    return out


def simplify_m(geoms: np.ndarray, tolerance_m: float, *, preserve_topology: bool) -> np.ndarray:
    """Simplify EPSG:4326 geometries with a tolerance in metres."""
    return simplify_levels(geoms, [tolerance_m], preserve_topology=preserve_topology)[0]


def _flat_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Single-part geometries of each feature (multi-parts and collections opened)."""
    parts, owner = np.asarray(geoms, dtype=object), np.arange(len(geoms))
    while True:
        multi = np.isin(shapely.get_type_id(parts), _MULTI)
        if not multi.any():
            break
        inner, idx = shapely.get_parts(parts[multi], return_index=True)
        parts = np.concatenate([parts[~multi], inner])
        owner = np.concatenate([owner[~multi], owner[multi][idx]])
        order = np.argsort(owner, kind="stable")
        parts, owner = parts[order], owner[order]
    keep = ~(shapely.is_missing(parts) | shapely.is_empty(parts))
    return parts[keep], owner[keep]


def _encode_points(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Encode Points and MultiPoints (as :func:`encode_geometries`) without opening them.

    Each coordinate is a part of one path of one vertex, so a MultiPoint of
    thousands of fixes costs no shapely object per point.
    """
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    return encode_points_xy(coords, owner, len(geoms))


def encode_points_xy(
    xy: np.ndarray, owner: np.ndarray | None = None, n: int | None = None
) -> dict[str, np.ndarray]:
    """Encode points given as lon/lat rows, as :func:`encode_geometries` encodes them.

    ``owner`` (ascending) gives the feature of each point, of ``n`` features (a
    MultiPoint each); without it every point is a feature of its own. No shapely
    geometry is made.

    >>> encode_points_xy(np.array([[1.0, 2.0], [1.5, 2.0]]))["d"].tolist()
    [1000000, 2000000, 500000, 0]
    """
    xy = np.asarray(xy, dtype="float64").reshape(-1, 2)
    if owner is None:
        owner, n = np.arange(len(xy)), len(xy)
    q = np.round(xy * MICRO).astype("int64")
    d = np.empty(2 * len(q), dtype="int64")
    d[0::2] = np.diff(q[:, 0], prepend=0)
    d[1::2] = np.diff(q[:, 1], prepend=0)
    ones = np.ones(len(q), dtype="int64")
    return {
        "fp": np.bincount(owner, minlength=int(n or 0)),
        "pt": np.zeros(len(q), dtype="int64"),
        "pr": ones,
        "rc": ones.copy(),
        "d": d,
    }


def encode_geometries(geoms: np.ndarray) -> dict[str, np.ndarray]:
    """Encode EPSG:4326 geometries (see the module's docstring); None draws nothing."""
    geoms = np.asarray(geoms, dtype=object)
    if np.isin(shapely.get_type_id(geoms), (-1, 0, 4)).all():
        return _encode_points(geoms)
    parts, owner = _flat_parts(geoms)
    type_id = shapely.get_type_id(parts)
    poly = type_id == 3
    part_type = np.where(poly, 2, np.where(type_id == 0, 0, 1))
    rings, ring_part = shapely.get_rings(parts[poly], return_index=True)
    poly_index = np.flatnonzero(poly)
    paths = np.concatenate([parts[~poly], rings])
    path_part = np.concatenate([np.flatnonzero(~poly), poly_index[ring_part]])
    order = np.argsort(path_part, kind="stable")
    paths, path_part = paths[order], path_part[order]
    coords, coord_path = shapely.get_coordinates(paths, return_index=True)
    q = np.round(coords * MICRO).astype("int64")
    d = np.empty(2 * len(q), dtype="int64")
    d[0::2] = np.diff(q[:, 0], prepend=0)
    d[1::2] = np.diff(q[:, 1], prepend=0)
    return {
        "fp": np.bincount(owner, minlength=len(geoms)),
        "pt": part_type,
        "pr": np.bincount(path_part, minlength=len(parts)),
        "rc": np.bincount(coord_path, minlength=len(paths)),
        "d": d,
    }


def _default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def json_text(value: Any) -> str:
    """JSON text that is safe inside a ``<script>`` element (no ``<``)."""
    return json.dumps(value, default=_default, separators=(",", ":"), allow_nan=False).replace(
        "<", "\\u003c"
    )


class DataBlock:
    """A named JSON block of a page; ``element()`` is its branca element."""

    def __init__(self, block_id: str, value: Any) -> None:
        self.block_id = block_id
        self.text = json_text(value)

    def element(self) -> Any:
        """Make the branca element that writes the block into the page's body."""
        return page_part(
            "GeoexposeData",
            html=f'<script type="application/json" id="{self.block_id}">{self.text}</script>',
        )
