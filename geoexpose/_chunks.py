"""Chunks of consecutive fixes: the unit in which fixes meet site zones.

Fixes ordered by flight and time are cut into chunks of up to ``CHUNK`` joined fixes
(a chunk never spans a recording gap or two flights), each with its lon/lat box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

__all__ = ["CHUNK", "M_PER_DEG_MIN", "Chunks", "near_chunks"]

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
        run_start = np.ones(m, dtype=bool)
        run_start[1:] = ~joined[:-1]
        run_first = np.maximum.accumulate(np.where(run_start, np.arange(m), 0))
        start = np.flatnonzero(run_start | ((np.arange(m) - run_first) % CHUNK == 0))
        nxt = np.append(start[1:], m)
        joined_end = joined[nxt - 1]
        end = np.where(joined_end, nxt, nxt - 1)

        def span(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            lo = np.minimum(np.minimum.reduceat(values, start), values[end])
            hi = np.maximum(np.maximum.reduceat(values, start), values[end])
            return lo, hi

        owner = np.repeat(np.arange(len(start)), np.diff(np.append(start, m)))
        rel = np.mod(lon - lon[start][owner] + 180.0, 360.0) - 180.0
        rel_end = np.mod(lon[end] - lon[start] + 180.0, 360.0) - 180.0
        rel_lo = np.minimum(np.minimum.reduceat(rel, start), rel_end)
        rel_hi = np.maximum(np.maximum.reduceat(rel, start), rel_end)
        lat_lo, lat_hi = span(lat)
        return cls(start, end, joined_end, lon[start] + rel_lo, lon[start] + rel_hi, lat_lo, lat_hi)


def near_chunks(site_geoms: np.ndarray, standoff_m: np.ndarray, chunks: Chunks) -> np.ndarray:
    """Chunks whose lon/lat box meets the band's sites' box grown by the largest standoff."""
    b = shapely.bounds(site_geoms)
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
