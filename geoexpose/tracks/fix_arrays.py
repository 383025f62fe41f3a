"""Fixes as plain arrays, ordered by flight and time, with the segments that count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import shapely

from geoexpose.schema import ALT_AGL_M, FLIGHT_ID, LAT, LON, TIME_UTC

__all__ = [
    "GAP_FACTOR",
    "MAX_GAP_S",
    "FixArrays",
    "fix_arrays",
    "fix_lonlat",
    "gap_limits",
    "lonlat_problems",
    "reduce_ranges",
    "segment_ok",
]

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

    >>> ok, dt = segment_ok(np.array([0, 0, 0, 0, 1]), np.array([0, 1, 2, 9, 9.5]), 5.0, 3.0)
    >>> ok.tolist(), dt.tolist()
    ([True, True, False, False, False], [1.0, 1.0, 7.0, 0.5, 0.0])
    """
    dt = np.zeros(len(codes))
    if len(codes) >= 2:
        dt[:-1] = t_s[1:] - t_s[:-1]
    return _gap_rule(codes, dt, max_gap_s, gap_factor), dt


def gap_limits(
    codes: np.ndarray, t_ns: np.ndarray, *, max_gap_s: float, gap_factor: float
) -> np.ndarray:
    """Return the longest interval (seconds) that is no recording gap, per flight code.

    ``codes`` (flight numbers from 0) and ``t_ns`` (nanoseconds) are fixes ordered by
    flight then time. The limit is ``max(max_gap_s, gap_factor * median)`` of the
    flight's intervals that move on in time, as :func:`segment_ok` uses it; a reader
    of a file in pieces works it out on the whole file and gives it to
    :func:`fix_arrays` for each piece.

    >>> gap_limits(np.array([0, 0, 0, 1, 1]), np.array([0, 1, 2, 0, 4]) * 10**9,
    ...            max_gap_s=2.0, gap_factor=3.0).tolist()
    [3.0, 12.0]
    """
    n = len(codes)
    if not n:
        return np.zeros(0)
    dt = np.zeros(n)
    if n >= 2:
        dt[:-1] = np.diff(t_ns) / 1e9
    moving, change = _moving(codes, dt)
    first = np.r_[0, np.flatnonzero(change) + 1]
    return _gap_limits(codes, first, dt, moving, max_gap_s, gap_factor)


def _moving(codes: np.ndarray, dt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intervals to the next fix of the same flight that move on in time; flight changes."""
    moving = np.zeros(len(codes), dtype=bool)
    change = codes[1:] != codes[:-1]
    np.greater(dt[:-1], 0.0, out=moving[:-1])
    moving[:-1] &= ~change
    return moving, change


def _gap_rule(
    codes: np.ndarray,
    dt: np.ndarray,
    max_gap_s: float,
    gap_factor: float,
    known: np.ndarray | None = None,
):
    """Return the mask of :func:`segment_ok` from the intervals ``dt`` to the next fix.

    ``known``: a limit per flight code worked out beforehand (NaN: work it out here).
    """
    n = len(codes)
    if n < 2:
        return np.zeros(n, dtype=bool)
    moving, change = _moving(codes, dt)
    limit = _gap_limits(
        codes, np.r_[0, np.flatnonzero(change) + 1], dt, moving, max_gap_s, gap_factor
    )
    if known is not None:
        limit = np.where(np.isnan(known), limit, known)
    if (limit == limit[0]).all():
        return moving & (dt <= limit[0])
    return moving & (dt <= limit[np.maximum(codes, 0)])


def _gap_limits(codes, first, dt, moving, max_gap_s: float, gap_factor: float) -> np.ndarray:
    """Return the longest interval that is no gap, per flight code.

    ``max(max_gap_s, gap_factor * median)`` of the moving intervals, where ``first``
    are the starts of the runs of equal codes. Where each flight is one run, a flight
    whose median is surely below ``max_gap_s / gap_factor`` (fewer than half its
    intervals reach it: one count per run) has the limit ``max_gap_s`` without
    working out its median.
    """
    n_codes = max(int(codes.max()) + 1, 1)
    run_code = codes[first]
    exact = np.ones(n_codes, dtype=bool)
    if gap_factor > 0 and max_gap_s > 0 and (np.diff(run_code) > 0).all():
        # a margin below the threshold keeps gap_factor * median < max_gap_s exact
        reach = max_gap_s / gap_factor * (1.0 - 1e-9)
        # few fixes stand still or come late: count those per run
        runs = len(first)
        still = np.searchsorted(first, np.flatnonzero(~moving), side="right") - 1
        n_moving = np.diff(np.append(first, len(codes))) - np.bincount(still, minlength=runs)
        late = np.searchsorted(first, np.flatnonzero(moving & (dt >= reach)), side="right") - 1
        n_long = np.bincount(late, minlength=runs)
        mine = run_code >= 0
        exact[run_code[mine]] = 2 * n_long[mine] >= n_moving[mine]
    # a flight without a moving interval has a median of 0
    limit = np.full(n_codes, max(float(max_gap_s), 0.0))
    if exact.any():
        sel = moving & exact[np.maximum(codes, 0)] & (codes >= 0)
        median = pd.Series(dt[sel]).groupby(codes[sel]).median()
        limit[median.index.to_numpy()] = np.maximum(max_gap_s, gap_factor * median.to_numpy())
    return limit


def _flight_codes(ids: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``pd.factorize(ids, sort=True)``, hashing only the first fix of each run.

    Fixes come in runs of one flight: neighbours are compared first (by pyarrow for
    Arrow-backed strings, by numpy for numbers), and only where the id changes is it
    looked up. Other dtypes go to :func:`pandas.factorize` whole. Returns the codes,
    the sorted ids and where each run of equal codes begins.
    """
    n = len(ids)
    dtype = ids.dtype
    arrow = getattr(dtype, "storage", None) == "pyarrow" or isinstance(dtype, pd.ArrowDtype)
    if n < 2 or not (arrow or dtype.kind in "iufb"):
        return _factorize(ids)
    if arrow:
        values = pa.array(ids.array)
        changed = pc.fill_null(pc.not_equal(values[1:], values[:-1]), True)
        first = np.r_[0, pc.indices_nonzero(changed).to_numpy().astype("int64") + 1]
    else:
        values = ids.to_numpy()
        first = np.r_[0, np.flatnonzero(values[1:] != values[:-1]) + 1]  # NaN: own runs
    if len(first) > n // 4:  # no runs to speak of (fixes of flights interleaved)
        return _factorize(ids)
    if arrow:
        heads = np.empty(len(first), dtype=object)
        heads[0] = values[0].as_py()
        heads[1:] = pc.filter(values[1:], changed).to_numpy(zero_copy_only=False)
    else:
        heads = values[first]
    run_codes, names = pd.factorize(heads, sort=True)
    # runs of one id may follow each other (a NaN id is a run of one fix)
    merge = np.r_[True, run_codes[1:] != run_codes[:-1]]
    codes = np.repeat(run_codes, np.diff(np.append(first, n)))
    return codes, np.asarray(names), first[merge]


def _factorize(ids: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    codes, names = pd.factorize(ids, sort=True)
    first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else codes
    return codes, np.asarray(names), first


def fix_lonlat(fixes: pd.DataFrame) -> np.ndarray:
    """Longitude and latitude of each fix, an (n, 2) array, in the frame's order.

    From the Point geometry of a GeoDataFrame, else from the ``lon`` and ``lat``
    columns of a plain DataFrame (the fast form, which holds no shapely objects).
    """
    if isinstance(fixes, gpd.GeoDataFrame):
        return shapely.get_coordinates(fixes.geometry.array)
    xy = np.empty((2, len(fixes)))  # each column contiguous
    xy[0] = fixes[LON].to_numpy("float64")
    xy[1] = fixes[LAT].to_numpy("float64")
    return xy.T


def lonlat_problems(fixes: pd.DataFrame) -> list[str]:
    """Check the ``lon``/``lat`` columns of fixes given as a plain DataFrame.

    Returns what is wrong (at most one message): a column that is not numeric, or the
    first row outside +-180 / +-90 degrees or missing.

    >>> lonlat_problems(pd.DataFrame({"lon": [10.0, 200.0], "lat": [45.0, 46.0]}))
    ['lon must be degrees within +-180 (row 1 is 200.0)']
    """
    for col, limit in ((LON, 180.0), (LAT, 90.0)):
        if not pd.api.types.is_numeric_dtype(fixes[col].dtype):
            return [f"{col} must be numeric degrees (EPSG:4326), got {fixes[col].dtype}"]
        values = fixes[col].to_numpy("float64", na_value=np.nan)
        if len(values) and values.min() >= -limit and values.max() <= limit:
            continue  # (a NaN makes min and max NaN)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(values) <= limit)
        if bad.any():
            row = fixes.index[int(np.argmax(bad))]
            return [f"{col} must be degrees within +-{limit:g} (row {row!r} is {values[bad][0]})"]
    return []


def fix_arrays(
    fixes: pd.DataFrame,
    *,
    max_gap_s: float,
    gap_factor: float,
    limits: Mapping[str, float] | None = None,
) -> FixArrays:
    """Arrays of EPSG:4326 fixes (validated), ordered by flight then time.

    ``fixes`` is a GeoDataFrame of Points or a DataFrame with ``lon``/``lat`` columns.
    ``limits``: the recording-gap limit (seconds, :func:`gap_limits`) of some flights
    by flight id, worked out on more fixes than these (a flight read in pieces); the
    other flights' limits come from these fixes.
    """
    codes, names, first = _flight_codes(fixes[FLIGHT_ID])
    t_ns = fixes[TIME_UTC].dt.tz_convert("UTC").astype("datetime64[ns, UTC]").array.asi8
    step_t = np.diff(t_ns)
    # ordered: one run per flight, in code order, and time goes back only between runs
    ordered = bool(
        (np.diff(codes[first]) > 0).all() and np.isin(np.flatnonzero(step_t < 0) + 1, first).all()
    )
    # already ordered (as gx.read_tracks returns them): no copies
    order: slice | np.ndarray = slice(None) if ordered else np.lexsort((t_ns, codes))
    codes, t_ns = codes[order], t_ns[order]
    # longitudes and latitudes each contiguous
    xy = np.asfortranarray(fix_lonlat(fixes)[order])
    alt = _numbers(fixes[ALT_AGL_M]) if ALT_AGL_M in fixes else np.full(len(fixes), np.nan)
    alt = alt[order]
    dt = np.zeros(len(t_ns))
    if len(t_ns) >= 2:
        np.divide(step_t if ordered else np.diff(t_ns), 1e9, out=dt[:-1])
    del step_t
    known = None
    if limits:
        known = np.array([limits.get(str(name), np.nan) for name in names], dtype="float64")
    ok = _gap_rule(codes, dt, max_gap_s, gap_factor, known)
    return FixArrays(order, codes, names, t_ns, xy, alt, ok, dt)


def _numbers(column: pd.Series) -> np.ndarray:
    """Return a column as float64 (NaN where missing or no number), not copied if it is."""
    if column.dtype == np.float64:
        return column.to_numpy()
    return pd.to_numeric(column, errors="coerce").to_numpy("float64", na_value=np.nan)


def reduce_ranges(ufunc: np.ufunc, values: np.ndarray, first: np.ndarray, last: np.ndarray):
    """``ufunc.reduce(values[first[i]:last[i] + 1])`` for every i, in one call.

    Ranges must not be empty; they may overlap and come in any order.

    >>> values = np.array([5.0, 3.0, 4.0, 1.0])
    >>> reduce_ranges(np.minimum, values, np.array([0, 1]), np.array([2, 3]))
    array([3., 1.])
    """
    if len(first) == 0:
        return np.empty(0, dtype=values.dtype)
    if int((last - first + 1).sum()) < len(values) // 2:  # short ranges: only their values
        return _reduce_gathered(ufunc, values, first, last)
    # each range, then the gap to the next; a range ending at the last value apart
    end = len(values) - 1
    tail = last == end
    out = ufunc.reduceat(values, np.column_stack([first, np.minimum(last + 1, end)]).ravel())
    out = out[::2]
    if tail.any():
        out[tail] = _reduce_gathered(ufunc, values, first[tail], last[tail])
    return out


def _reduce_gathered(ufunc: np.ufunc, values: np.ndarray, first: np.ndarray, last: np.ndarray):
    n = last - first + 1
    offsets = np.cumsum(n) - n
    return ufunc.reduceat(values[np.repeat(first - offsets, n) + np.arange(n.sum())], offsets)
