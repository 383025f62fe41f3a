"""Find GPS jumps: lone fixes that both neighbours reach only faster than a speed limit.

A fix needs only its neighbours, so a long track is looked at :data:`CHUNK` fixes at
a time and the working arrays stay small however long the track.
"""

from __future__ import annotations

import numpy as np

from geoexpose._geodesy import geodesic_m

__all__ = ["CHUNK", "lone_spikes", "spikes_of"]

#: Fixes looked at together.
CHUNK = 1 << 18


def lone_spikes(
    rows: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    ns: np.ndarray,
    track: np.ndarray,
    limit: float,
) -> np.ndarray:
    """Find the ``rows`` beyond ``limit`` m/s from both neighbours, which are within it.

    ``rows`` are positions in the other arrays, in track order; ``track`` says which
    track each position belongs to (a fix and its neighbours must share one).
    """
    n = len(rows)
    spike = np.zeros(n, dtype=bool)
    if n < 3 or not np.isfinite(limit):
        return spike
    for a in range(1, n - 1, CHUNK):  # a loop over chunks of rows, not rows
        b = min(n - 1, a + CHUNK)
        window = rows[a - 1 : b + 1]
        spike[a:b] = spikes_of(lon[window], lat[window], ns[window], track[window], limit)
    return spike


def spikes_of(
    lon: np.ndarray, lat: np.ndarray, ns: np.ndarray, track: np.ndarray, limit: float
) -> np.ndarray:
    """Whether each fix but the first and last is a lone spike (see :func:`lone_spikes`)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        step = geodesic_m(lon[:-1], lat[:-1], lon[1:], lat[1:]) / (np.diff(ns) / 1e9)
        skip = geodesic_m(lon[:-2], lat[:-2], lon[2:], lat[2:]) / ((ns[2:] - ns[:-2]) / 1e9)
    same = (track[:-2] == track[1:-1]) & (track[1:-1] == track[2:])
    return same & (step[:-1] > limit) & (step[1:] > limit) & (skip <= limit)
