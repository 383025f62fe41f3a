"""Spans of fixes: runs of consecutive fixes of one flight, with no gap, that meet a rule.

How a span's times and fix numbers are counted is said in :mod:`geoexpose.audit.audit`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geoexpose.schema import FIRST_FIX, LAST_FIX, MIN_AGL_M, MIN_DISTANCE_M, N_FIXES
from geoexpose.tracks import FixArrays

__all__ = ["NS", "spans"]

#: Nanoseconds in a second.
NS = 1_000_000_000


def spans(pos: np.ndarray, key: np.ndarray, a: FixArrays, dist: np.ndarray) -> pd.DataFrame:
    """Cut runs of consecutive fixes (no recording gap) with the same key into spans.

    Parameters
    ----------
    pos
        Ordered fixes that meet the rule (a fix given twice with one key counts once).
    key
        What each fix meets the rule for (a site's index; -1: none).
    a
        The fixes ordered by flight and time.
    dist
        Distance (m) of each fix to the site of its key (NaN: none).

    Returns
    -------
    DataFrame
        One row per span: ``code`` (the flight's), ``key``, ``first_fix``,
        ``last_fix``, ``n_fixes``, ``start_ns``, ``end_ns``, ``min_distance_m``,
        ``min_agl_m``, ``geometry`` (a line of the fixes, or a point for one) and
        ``first_pos`` (the first fix's place among the ordered fixes).
    """
    order = np.lexsort((pos, key))
    pos, key, dist = pos[order], key[order], dist[order]
    if len(pos) > 1:  # a pair given twice counts once
        once = np.r_[True, (pos[1:] != pos[:-1]) | (key[1:] != key[:-1])]
        pos, key, dist = pos[once], key[once], dist[once]
    new = np.ones(len(pos), dtype=bool)
    if len(pos) > 1:
        new[1:] = (key[1:] != key[:-1]) | (pos[1:] != pos[:-1] + 1) | ~a.seg_ok[pos[:-1]]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(pos))[: len(starts)] - 1
    first, last = pos[starts], pos[ends]
    prev = np.maximum(first - 1, 0)
    before = np.where((first > 0) & a.seg_ok[prev], a.dt[prev], 0.0) / 2
    after = np.where(a.seg_ok[last], a.dt[last], 0.0) / 2
    n = ends - starts + 1
    span = np.cumsum(new) - 1
    geoms = np.empty(len(starts), dtype=object)
    multi = n >= 2
    along = multi[span]
    if along.any():
        line_of = np.cumsum(multi) - 1
        geoms[multi] = shapely.linestrings(a.xy[pos[along]], indices=line_of[span[along]])
    geoms[~multi] = shapely.points(a.xy[first[~multi]])
    flight_first = np.searchsorted(a.codes, a.codes[first], side="left")
    empty = np.empty(0)
    return pd.DataFrame(
        {
            "code": a.codes[first],
            "key": key[starts],
            FIRST_FIX: first - flight_first,
            LAST_FIX: last - flight_first,
            N_FIXES: n,
            "start_ns": a.t_ns[first] - np.round(before * NS).astype("int64"),
            "end_ns": a.t_ns[last] + np.round(after * NS).astype("int64"),
            MIN_DISTANCE_M: np.fmin.reduceat(dist, starts) if len(pos) else empty,
            MIN_AGL_M: np.fmin.reduceat(a.alt[pos], starts) if len(pos) else empty,
            "geometry": geoms,
            "first_pos": first,
        }
    )
