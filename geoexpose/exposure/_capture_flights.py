"""Match captures to flights by time and position.

A capture belongs to a flight when the flight has a fix within ``MATCH_TOLERANCE_S`` of the
capture's time (photos carry whole seconds) and that fix lies within ``MATCH_DISTANCE_M``
of the camera. Among several flights the closest fix wins.

DJI cameras write their local clock without a zone. Where the capture times had to be
taken as UTC, the whole-quarter-hour shift from -14 h to +14 h under which most of them
match a flight is found, and applied where it matches more captures than no shift does.
"""

from __future__ import annotations

import numpy as np

from geoexpose._geodesy import geodesic_m

__all__ = ["CLOCK_SHIFTS_NS", "MATCH_DISTANCE_M", "MATCH_TOLERANCE_S", "match_flights"]

MATCH_TOLERANCE_S = 2.0
MATCH_DISTANCE_M = 100.0
#: Clock shifts tried for camera times taken as UTC: whole quarter hours, -14 h to +14 h.
CLOCK_SHIFTS_NS = np.arange(-14 * 4, 14 * 4 + 1) * 900 * 10**9
_SAMPLE = 256


def _bisect(t_ns: np.ndarray, lo: np.ndarray, hi: np.ndarray, t: np.ndarray) -> np.ndarray:
    """First index in ``t_ns[lo:hi]`` (each slice sorted) whose time is >= ``t``."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        open_ = lo < hi
        if not open_.any():
            return lo
        mid = (lo + hi) // 2
        below = open_ & (t_ns[np.minimum(mid, len(t_ns) - 1)] < t)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(open_ & ~below, mid, hi)


def _match(
    t_cap: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    codes: np.ndarray,
    t_ns: np.ndarray,
    xy: np.ndarray,
) -> np.ndarray:
    """Flight code of each capture (-1: none); fixes ordered by flight then time."""
    n = len(t_cap)
    out = np.full(n, -1, dtype="int64")
    if n == 0 or len(codes) == 0:
        return out
    tol = int(MATCH_TOLERANCE_S * 1e9)
    n_flights = int(codes.max()) + 1
    start = np.searchsorted(codes, np.arange(n_flights), side="left")
    end = np.searchsorted(codes, np.arange(n_flights), side="right")
    first_t, last_t = t_ns[start], t_ns[end - 1]
    # capture x flight pairs whose time spans meet (flights sorted by start time)
    # (only flights that started at most the longest flight's duration before)
    by_start = np.argsort(first_t, kind="stable")
    sorted_first = first_t[by_start]
    longest = int((last_t - first_t).max())
    lo = np.searchsorted(sorted_first, t_cap - tol - longest, side="left")
    hi = np.searchsorted(sorted_first, t_cap + tol, side="right")
    count = hi - lo
    cap = np.repeat(np.arange(n), count)
    offsets = np.arange(len(cap)) - np.repeat(np.cumsum(count) - count, count)
    flight = by_start[np.repeat(lo, count) + offsets]
    live = last_t[flight] >= t_cap[cap] - tol
    cap, flight = cap[live], flight[live]
    if not len(cap):
        return out
    j = _bisect(t_ns, start[flight], end[flight], t_cap[cap])
    before = np.maximum(j - 1, start[flight])
    after = np.minimum(j, end[flight] - 1)
    dt_before = np.abs(t_ns[before] - t_cap[cap])
    dt_after = np.abs(t_ns[after] - t_cap[cap])
    nearest = np.where(dt_before <= dt_after, before, after)
    dt = np.minimum(dt_before, dt_after)
    d = geodesic_m(lon[cap], lat[cap], xy[nearest, 0], xy[nearest, 1])
    ok = (dt <= tol) & (d <= MATCH_DISTANCE_M)
    cap, flight, d = cap[ok], flight[ok], d[ok]
    if not len(cap):
        return out
    order = np.lexsort((d, cap))
    cap, flight = cap[order], flight[order]
    first = np.r_[True, cap[1:] != cap[:-1]]
    out[cap[first]] = flight[first]
    return out


def match_flights(
    t_cap: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    assumed_utc: np.ndarray,
    codes: np.ndarray,
    t_ns: np.ndarray,
    xy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Flight code of each capture, and the clock shift found for it.

    Parameters
    ----------
    t_cap
        Capture times, ns since 1970 UTC (``numpy.iinfo(int64).min`` where unknown).
    lon, lat
        Camera positions, degrees.
    assumed_utc
        True where the capture's time was read without a zone and taken as UTC.
    codes, t_ns, xy
        Fixes ordered by flight then time: flight code, time (ns), lon/lat.

    Returns
    -------
    flight : int array
        Flight code of each capture, -1 where none matches.
    shift_ns : int array
        The shift added to the capture's time to match (0 where none was needed).
    """
    n = len(t_cap)
    known = (t_cap != np.iinfo("int64").min) & np.isfinite(lon) & np.isfinite(lat)
    flight = np.full(n, -1, dtype="int64")
    shift = np.zeros(n, dtype="int64")
    idx = np.flatnonzero(known)
    flight[idx] = _match(t_cap[idx], lon[idx], lat[idx], codes, t_ns, xy)
    loose = np.flatnonzero(known & assumed_utc)
    if len(loose) == 0 or len(codes) == 0:
        return flight, shift
    sample = loose[np.linspace(0, len(loose) - 1, min(len(loose), _SAMPLE)).astype(int)]
    counts = [
        int((_match(t_cap[sample] + s, lon[sample], lat[sample], codes, t_ns, xy) >= 0).sum())
        for s in CLOCK_SHIFTS_NS
    ]
    best = int(np.argmax(counts))
    zero = int(np.flatnonzero(CLOCK_SHIFTS_NS == 0)[0])
    if counts[best] > counts[zero]:
        s = int(CLOCK_SHIFTS_NS[best])
        found = _match(t_cap[loose] + s, lon[loose], lat[loose], codes, t_ns, xy)
        better = found >= 0
        flight[loose[better]] = found[better]
        shift[loose[better]] = s
    return flight, shift
