"""Running maxima and minima of times within each track, and the rows dated ahead of theirs.

The rows of a file are grouped by track (``group``, runs of equal numbers). A file has
few tracks, so each running maximum or minimum is a loop over the tracks writing
into one array (no working copies); past :data:`MANY_RUNS` tracks pandas' grouped
operations do it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["MANY_RUNS", "ahead_of_track", "running_max", "running_min_after"]

#: Tracks of a file beyond which pandas' grouped operations are used.
MANY_RUNS = 10_000
_LAST = np.iinfo(np.int64).max


def _run_bounds(group: np.ndarray) -> np.ndarray | None:
    """Where each run of equal ``group`` starts and ends (None: too many runs to loop over)."""
    if not len(group):
        return np.zeros((0, 2), dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    if len(starts) > MANY_RUNS:
        return None
    return np.column_stack([starts, np.r_[starts[1:], len(group)]]).astype(np.int64)


def _running(values: np.ndarray, group: np.ndarray, how: np.ufunc, *, backwards: bool = False):
    """Return the running maximum or minimum (``how``) within each run of equal ``group``.

    ``backwards``: from the end of each run (a suffix maximum or minimum). A loop over
    the runs (tracks, few) writes into one array, with no working copies.
    """
    bounds = _run_bounds(group)
    if bounds is None:  # many tracks: pandas' grouped running maximum or minimum
        step = slice(None, None, -1) if backwards else slice(None)
        grouped = pd.Series(values[step]).groupby(group[step])
        done = grouped.cummax() if how is np.maximum else grouped.cummin()
        return done.to_numpy(dtype=values.dtype)[step]
    out = np.empty_like(values)
    for a, b in bounds.tolist():  # a loop over tracks, not fixes
        if backwards:
            how.accumulate(values[a:b][::-1], out=out[a:b][::-1])
        else:
            how.accumulate(values[a:b], out=out[a:b])
    return out


def running_max(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Return the running maximum of ``values`` within each run of equal ``group``."""
    return _running(values, group, np.maximum)


def running_min_after(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Minimum of the later values of the same run of ``group`` (int64 max for the last)."""
    out = np.empty(len(values), dtype=np.int64)
    if len(values):
        out[:-1] = _running(values, group, np.minimum, backwards=True)[1:]
        out[np.r_[np.flatnonzero(group[1:] != group[:-1]), len(values) - 1]] = _LAST
    return out


_running_min_after = running_min_after  # the name it had


def ahead_of_track(ns: np.ndarray, segment: np.ndarray) -> np.ndarray:
    """Rows (in track order) to drop as ``time_ahead`` (see :mod:`geoexpose.tracks.normalize`)."""
    n = len(ns)
    if n < 3:
        return np.zeros(n, dtype=bool)
    ahead = ns > running_min_after(ns, segment)
    if not ahead.any():
        return ahead
    before = np.roll(running_max(ns, segment), 1)
    first = np.ones(n, dtype=bool)
    first[1:] = segment[1:] != segment[:-1]
    behind = ~first & (ns < before)
    n_ahead = np.bincount(segment, weights=ahead, minlength=segment.max() + 1)
    n_behind = np.bincount(segment, weights=behind, minlength=segment.max() + 1)
    return ahead & (n_ahead < n_behind)[segment]
