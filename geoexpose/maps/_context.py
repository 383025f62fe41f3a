"""Which sites the overview of a large scan draws: every exposed one, the others near flights.

An overview of 300,000 sites is a page of some 80 MB that a browser opens slowly,
if at all. Above ``OVERVIEW_SITES`` sites, the overview draws every exposed site
and, of the others, only those within ``CONTEXT_M`` of a flight track or a capture
footprint: the sites a reader needs to see what the flights passed. The legend
says how many were left out and why (:func:`context_note`). A scan of fewer sites
draws them all, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely

from geoexpose.maps._encode import simplify_m, to_lonlat, to_metric
from geoexpose.maps._tracks import short_lines

__all__ = ["CONTEXT_M", "OVERVIEW_SITES", "context_note", "near_mask", "sites_to_draw"]

#: Sites an overview draws whole; above it, unexposed sites only near flights.
OVERVIEW_SITES = 20_000
#: How near (metres) to a flight track or capture footprint an unexposed site is drawn.
CONTEXT_M = 1_000.0
_SIMPLIFY_M = 64.0  # the tracks are simplified this much first; the buffer grows by as much
_PIECE_VERTICES = 16  # vertices of each piece of line buffered


def near_mask(
    sites: np.ndarray, near: Sequence[np.ndarray | None], distance_m: float = CONTEXT_M
) -> np.ndarray:
    """Which ``sites`` lie within about ``distance_m`` of any geometry of ``near``.

    The geometries of ``near`` (EPSG:4326, tracks, footprints) are simplified by
    64 m, cut into short lines (16 vertices), buffered by ``distance_m`` plus those
    64 m in the metric band of each (:mod:`geoexpose.projection`) and brought back
    to EPSG:4326; an STRtree of the sites answers which of them intersect a buffer.
    Sites up to ``distance_m`` + 128 m away may count as near; none within
    ``distance_m`` is missed.

    >>> sites = np.array([shapely.Point(8.0, 50.0), shapely.Point(8.02, 50.0)])
    >>> line = np.array([shapely.LineString([(8.0, 50.005), (8.001, 50.005)])])
    >>> near_mask(sites, [line], 1000.0).tolist()  # 556 m and about 1,400 m away
    [True, False]
    """
    sites = np.asarray(sites, dtype=object)
    found = np.zeros(len(sites), dtype=bool)
    geoms = [np.asarray(g, dtype=object) for g in near if g is not None and len(g)]
    if not geoms or len(sites) == 0:
        return found
    geoms_all = np.concatenate(geoms)
    geoms_all = geoms_all[~(shapely.is_missing(geoms_all) | shapely.is_empty(geoms_all))]
    if len(geoms_all) == 0:
        return found
    metric, bands = to_metric(simplify_m(geoms_all, _SIMPLIFY_M, preserve_topology=False))
    # Lines are buffered in short pieces: a buffer of a whole track (orbits, surveys)
    # unions every part with every other, which takes minutes at fleet size.
    line = np.isin(shapely.get_type_id(metric), (1, 5))
    short, of = short_lines(metric[line], _PIECE_VERTICES)
    shapes = np.concatenate([short, metric[~line]])
    shape_bands = np.concatenate([bands[line][of], bands[~line]])
    grown = shapely.buffer(shapes, float(distance_m) + _SIMPLIFY_M, quad_segs=4)
    zones = to_lonlat(grown, shape_bands)
    tree = shapely.STRtree(sites)
    hits = tree.query(zones, predicate="intersects")
    found[hits[1]] = True
    return found


def sites_to_draw(
    sites: Any,
    exposed: np.ndarray,
    near: Sequence[np.ndarray | None],
    *,
    max_sites: int | None = OVERVIEW_SITES,
    distance_m: float = CONTEXT_M,
) -> np.ndarray:
    """Which sites an overview draws: all up to ``max_sites``, else the exposed and the near.

    Parameters
    ----------
    sites
        The sites (a GeoDataFrame, EPSG:4326).
    exposed
        Which sites are exposed (always drawn).
    near
        Arrays of geometries (EPSG:4326) that unexposed sites must be near to be
        drawn: the flight tracks, the capture footprints (None: none).
    max_sites
        Draw every site when there are at most this many (None: always).
    distance_m
        How near, in metres (see :func:`near_mask`).

    Returns
    -------
    ndarray of bool
        One per site.
    """
    n = len(sites)
    if max_sites is None or n <= max_sites:
        return np.ones(n, dtype=bool)
    exposed = np.asarray(exposed, dtype=bool)
    keep = exposed.copy()
    rest = np.flatnonzero(~exposed)
    if len(rest):
        keep[rest] = near_mask(sites.geometry.to_numpy()[rest], near, distance_m)
    return keep


def context_note(n_sites: int, n_drawn: int, max_sites: int, distance_m: float) -> str:
    """Say in the legend which sites the overview left out, and why.

    >>> note = context_note(300_000, 9_000, 20_000, 1000.0)
    >>> note.split(": ")[0], "over 1 km" in note
    ('291,000 of 300,000 sites not drawn', True)
    """
    far = f"{distance_m / 1000:g} km" if distance_m >= 1000 else f"{distance_m:g} m"
    return (
        f"{n_sites - n_drawn:,} of {n_sites:,} sites not drawn: unexposed and over {far} "
        f"from every flight and footprint (more than {max_sites:,} sites)"
    )
