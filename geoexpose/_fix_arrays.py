"""Fixes as plain arrays, ordered by flight and time, with the segments that count."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.schema import ALT_AGL_M, FLIGHT_ID, TIME_UTC

__all__ = ["GAP_FACTOR", "MAX_GAP_S", "FixArrays", "fix_arrays", "reduce_ranges", "segment_ok"]

#: Default recording-gap rule: longer than max(MAX_GAP_S, GAP_FACTOR x median interval).
MAX_GAP_S = 5.0
GAP_FACTOR = 3.0


@dataclass(frozen=True)
class FixArrays:
    """Fixes ordered by flight and time.

    Attributes
    ----------
    order : slice or int array
        Where each ordered fix is in the frame (a slice when already in order).
    codes : int array
        Flight of each fix, an index into ``names``; ordered fixes have rising codes.
    names : array
        Flight ids, sorted.
    t_ns : int array
        Time, nanoseconds since 1970 UTC.
    xy : (n, 2) float array
        Longitude and latitude.
    alt : float array
        ``alt_agl_m`` (NaN where missing).
    seg_ok : bool array
        ``seg_ok[i]``: fixes ``i`` and ``i + 1`` are joined by a segment that counts.
    dt : float array
        Seconds from fix ``i`` to fix ``i + 1``.
    """

    order: slice | np.ndarray
    codes: np.ndarray
    names: np.ndarray
    t_ns: np.ndarray
    xy: np.ndarray
    alt: np.ndarray
    seg_ok: np.ndarray
    dt: np.ndarray


def segment_ok(
    codes: np.ndarray, t_s: np.ndarray, max_gap_s: float, gap_factor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Which segments (i, i + 1) count: same flight, time moving on, no recording gap.

    ``codes`` are flight numbers from 0 (negative: no flight), ``t_s`` seconds. A
    recording gap is an interval longer than ``max(max_gap_s, gap_factor * the
    flight's median interval)``. Returns the mask and the intervals in seconds.
    """
    n = len(codes)
    dt = np.zeros(n)
    if n < 2:
        return np.zeros(n, dtype=bool), dt
    dt[:-1] = t_s[1:] - t_s[:-1]
    same = np.zeros(n, dtype=bool)
    same[:-1] = codes[1:] == codes[:-1]
    moving = same & (dt > 0)
    median = pd.Series(np.where(moving, dt, np.nan)).groupby(codes).median()
    median = median.reindex(np.arange(max(int(codes.max()) + 1, 1))).to_numpy()
    limit = np.maximum(max_gap_s, gap_factor * np.nan_to_num(median, nan=0.0))
    return moving & (dt <= limit[np.maximum(codes, 0)]), dt


def fix_arrays(fixes: gpd.GeoDataFrame, *, max_gap_s: float, gap_factor: float) -> FixArrays:
    """Arrays of EPSG:4326 fixes (validated), ordered by flight then time."""
    codes, names = pd.factorize(fixes[FLIGHT_ID], sort=True)
    t_ns = fixes[TIME_UTC].dt.tz_convert("UTC").astype("datetime64[ns, UTC]").array.asi8
    step_code, step_t = np.diff(codes), np.diff(t_ns)
    ordered = bool(np.all((step_code > 0) | ((step_code == 0) & (step_t >= 0))))
    del step_code, step_t
    # already ordered (as gx.read_tracks returns them): no copies
    order: slice | np.ndarray = slice(None) if ordered else np.lexsort((t_ns, codes))
    codes, t_ns = codes[order], t_ns[order]
    xy = shapely.get_coordinates(fixes.geometry.array)[order]
    alt = (
        pd.to_numeric(fixes[ALT_AGL_M], errors="coerce").to_numpy("float64", na_value=np.nan)
        if ALT_AGL_M in fixes
        else np.full(len(fixes), np.nan)
    )[order]
    t_s = (t_ns - (t_ns[0] if len(t_ns) else 0)) / 1e9
    ok, dt = segment_ok(codes, t_s, max_gap_s, gap_factor)
    return FixArrays(order, codes, np.asarray(names), t_ns, xy, alt, ok, dt)


def reduce_ranges(ufunc: np.ufunc, values: np.ndarray, first: np.ndarray, last: np.ndarray):
    """``ufunc.reduce(values[first[i]:last[i] + 1])`` for every i, in one call.

    Ranges must not be empty; they may overlap and come in any order.

    >>> values = np.array([5.0, 3.0, 4.0, 1.0])
    >>> reduce_ranges(np.minimum, values, np.array([0, 1]), np.array([2, 3]))
    array([3., 1.])
    """
    bounds = np.column_stack([first, last + 1]).ravel()
    return ufunc.reduceat(np.append(values, values[:1]), bounds)[::2]
