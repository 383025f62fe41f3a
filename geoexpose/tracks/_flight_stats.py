"""Gather, block by block, what a flight's gap limit and height above take-off are decided on.

:class:`FlightStats` is given the kept rows of a file in blocks (flights numbered, in
order) and keeps, per flight, the counts of its moving intervals and of those near
the recording-gap threshold (as :func:`geoexpose.tracks.fix_arrays.gap_limits`
counts them), and the few fixes that decide its height above take-off (the first
fix, two early ones, the early ones that move and climb most, the lowest, one with a
height above ground already). :meth:`FlightStats.limits` then finds each flight's
exact median interval where it is needed, in two more passes over the kept blocks (a
histogram of the intervals, then the values of the median's bucket), and
:meth:`FlightStats.ground` decides the take-off heights with
:func:`geoexpose.tracks._takeoff.takeoff_heights` on the fixes kept, which decide as
all the flight's fixes would.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from geoexpose._geodesy import geodesic_m
from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, LAT, LON, TIME_UTC
from geoexpose.tracks._takeoff import START_S, takeoff_heights
from geoexpose.tracks.normalize import FLIGHT_NO, nanoseconds

__all__ = ["FlightStats"]

_NONE = -1
_SUB = 1024  # buckets an octave of intervals
_KEYS = 70 * _SUB  # bucket keys of one flight (exponents of int64 nanoseconds)


def _bucket(dt_ns: np.ndarray) -> np.ndarray:
    """Return a bucket key that never falls as the interval rises (octave, then 1/1024 of it)."""
    mantissa, exponent = np.frexp(dt_ns.astype("float64"))
    return exponent.astype(np.int64) * _SUB + ((mantissa - 0.5) * 2 * _SUB).astype(np.int64)


def _added(counts: pd.Series, keys: np.ndarray) -> pd.Series:
    """Add the occurrences of ``keys`` to ``counts`` (a count per key)."""
    if not len(keys):
        return counts
    values, n = np.unique(keys, return_counts=True)
    return counts.add(pd.Series(n, index=values), fill_value=0).astype("int64")


class FlightStats:
    """Figures of the flights of one file, from its kept rows in blocks (see module notes)."""

    def __init__(self, *, takeoff: bool, max_gap_s: float, gap_factor: float) -> None:
        self.takeoff = takeoff
        self.max_gap_s, self.gap_factor = max_gap_s, gap_factor
        # the shortcut of gap_limits: a flight with fewer than half its intervals this
        # long has the limit max_gap_s (a margin keeps gap_factor * median < max_gap_s)
        self.shortcut = gap_factor > 0 and max_gap_s > 0
        self.dt_reach = max_gap_s / gap_factor * (1.0 - 1e-9) if self.shortcut else np.inf
        self.n_kept = 0
        self.n_moving = np.zeros(0, dtype=np.int64)
        self.n_long = np.zeros(0, dtype=np.int64)
        self._last = (_NONE, 0)  # flight and time of the last kept row
        self._first: tuple[int, float, float, int, float] = (_NONE, 0.0, 0.0, 0, np.nan)
        self._picked: list[pd.DataFrame] = []

    def _intervals(self, ns: np.ndarray, flight_no: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the interval (ns) from the fix before, and whether it moves on, by row."""
        before = np.r_[self._last[1], ns[:-1]]
        same = np.r_[self._last[0], flight_no[:-1]] == flight_no
        dt_ns = ns - before
        return dt_ns, same & (dt_ns > 0)

    def add(self, kept: pd.DataFrame, ns: np.ndarray, flight_no: np.ndarray) -> None:
        """Take the next block of kept rows (``ns`` their times, ``flight_no`` their flights)."""
        n = len(kept)
        if not n:
            return
        dt_ns, moving = self._intervals(ns, flight_no)
        code = flight_no - 1
        self.n_moving = _grow(self.n_moving, code[moving])
        self.n_long = _grow(self.n_long, code[moving & (dt_ns / 1e9 >= self.dt_reach)])
        if self.takeoff:
            self._pick(kept, ns, flight_no)
        self._last = (int(flight_no[-1]), int(ns[-1]))
        self.n_kept += n

    def _pick(self, kept: pd.DataFrame, ns: np.ndarray, f: np.ndarray) -> None:
        """Keep the rows of the block that decide a flight's height above take-off."""
        n = len(f)
        lon = kept[LON].to_numpy("float64")
        lat = kept[LAT].to_numpy("float64")
        msl = kept[ALT_MSL_M].to_numpy("float64")
        change = np.r_[True, f[1:] != f[:-1]]
        change[0] = f[0] != self._first[0]
        at = np.maximum.accumulate(np.where(change, np.arange(n), -1))
        mine = at >= 0
        at = np.maximum(at, 0)

        def first(values: np.ndarray, carried: float) -> np.ndarray:
            return np.where(mine, values[at], carried)

        lon0, lat0 = first(lon, self._first[1]), first(lat, self._first[2])
        ns0 = np.where(mine, ns[at], self._first[3])
        msl0 = first(msl, self._first[4])
        early = np.flatnonzero((ns - ns0) <= START_S * 1e9)
        moved = geodesic_m(lon0[early], lat0[early], lon[early], lat[early])
        climbed = np.abs(msl[early] - msl0[early])
        by = pd.Series(np.arange(len(early))).groupby(f[early])
        height = msl - msl0
        rows = [np.flatnonzero(change), early[by.cumcount().to_numpy() < 2]]
        if len(early):
            rows.append(early[pd.Series(moved).groupby(f[early]).idxmax().to_numpy()])
            high = np.where(np.isnan(climbed), -np.inf, climbed)
            rows.append(early[pd.Series(high).groupby(f[early]).idxmax().to_numpy()])
        low = np.where(np.isnan(height), np.inf, height)
        rows.append(pd.Series(low).groupby(f).idxmin().to_numpy())
        known = np.flatnonzero(kept[ALT_AGL_M].notna().to_numpy())
        rows.append(known[np.unique(f[known], return_index=True)[1]])
        picked = np.unique(np.concatenate(rows).astype(np.int64))
        columns = [LON, LAT, TIME_UTC, ALT_AGL_M, ALT_REF, ALT_MSL_M, FLIGHT_NO]
        part = kept.iloc[picked][columns].reset_index(drop=True)
        part["_at"] = self.n_kept + picked
        self._picked.append(part)
        if mine[-1]:
            self._first = (int(f[-1]), lon0[-1], lat0[-1], int(ns0[-1]), msl0[-1])

    def ground(self, what: str, notes: list[str]) -> dict[int, float]:
        """Decide the flights that start on the ground: their first height above sea level.

        ``notes`` gets what :func:`~geoexpose.tracks._takeoff.takeoff_heights` notes.
        """
        if not self._picked:
            return {}
        picked = pd.concat(self._picked, ignore_index=True)
        picked = picked.drop_duplicates("_at").sort_values("_at", kind="stable")
        picked = picked.drop(columns="_at").reset_index(drop=True)
        starts = np.flatnonzero(np.r_[True, np.diff(picked[FLIGHT_NO].to_numpy()) != 0])
        before = picked[ALT_AGL_M].to_numpy("float64")[starts]
        out = takeoff_heights(picked, what, notes)
        after = out[ALT_AGL_M].to_numpy("float64")[starts]
        ground = np.isnan(before) & (after == 0)
        flights = picked[FLIGHT_NO].to_numpy()[starts][ground]
        msl0 = picked[ALT_MSL_M].to_numpy("float64")[starts][ground]
        return dict(zip(flights.tolist(), msl0.tolist(), strict=True))

    def limits(self, blocks: Callable[[], object]) -> np.ndarray:
        """Return the recording-gap limit (seconds) of each flight code (flight number - 1).

        ``blocks``: called to give the kept blocks again, in order (for the medians).
        """
        n_flights = self._last[0] if self._last[0] > 0 else 0
        limit = np.full(n_flights, max(float(self.max_gap_s), 0.0))
        n_moving = np.r_[self.n_moving, np.zeros(n_flights - len(self.n_moving), dtype=np.int64)]
        n_long = np.r_[self.n_long, np.zeros(n_flights - len(self.n_long), dtype=np.int64)]
        need = n_moving > 0
        if self.shortcut:
            need &= 2 * n_long >= n_moving
        if not need.any():
            return limit
        median = self._medians(blocks, need, n_moving)
        codes = np.flatnonzero(need)
        limit[codes] = np.maximum(self.max_gap_s, self.gap_factor * median[codes])
        return limit

    def _moving_dt(self, blocks: Callable[[], object], need: np.ndarray):
        """Give (flight code, interval ns) of the moving intervals of flights ``need``, by block."""
        self._last = (_NONE, 0)
        for kept in blocks():  # type: ignore[attr-defined]
            if not len(kept):
                continue
            flight_no = kept[FLIGHT_NO].to_numpy("int64")
            ns = nanoseconds(kept[TIME_UTC])
            dt_ns, moving = self._intervals(ns, flight_no)
            moving &= need[flight_no - 1]
            self._last = (int(flight_no[-1]), int(ns[-1]))
            yield flight_no[moving] - 1, dt_ns[moving]

    def _medians(
        self, blocks: Callable[[], object], need: np.ndarray, n_moving: np.ndarray
    ) -> np.ndarray:
        """Return the exact median interval (s) of the flights ``need``, as pandas finds it."""
        counts = pd.Series(dtype="int64")
        for code, dt_ns in self._moving_dt(blocks, need):  # pass 1: a histogram
            counts = _added(counts, code * _KEYS + _bucket(dt_ns))
        counts = counts.sort_index()
        keys = counts.index.to_numpy()
        flight, before = keys // _KEYS, np.cumsum(counts.to_numpy()) - counts.to_numpy()
        first = np.searchsorted(flight, flight, side="left")  # of the flight's buckets
        before = before - before[first]  # intervals of the flight in lower buckets
        wanted: dict[int, tuple[int, int]] = {}  # bucket key: flight, for each rank sought
        ranks = {}
        for code in np.flatnonzero(need).tolist():  # a loop over flights
            n = int(n_moving[code])
            mine = np.flatnonzero(flight == code)
            for rank in {(n - 1) // 2, n // 2}:
                k = mine[np.searchsorted(before[mine], rank, side="right") - 1]
                wanted[int(keys[k])] = (code, int(before[k]))
                ranks[(code, rank)] = int(keys[k])
        values: dict[int, pd.Series] = {k: pd.Series(dtype="int64") for k in wanted}
        targets = np.fromiter(wanted, dtype=np.int64)
        for code, dt_ns in self._moving_dt(blocks, need):  # pass 2: the values of those buckets
            key = code * _KEYS + _bucket(dt_ns)
            inside = np.isin(key, targets)
            for k in np.unique(key[inside]).tolist():  # a loop over the buckets sought
                values[k] = _added(values[k], dt_ns[inside][key[inside] == k])
        median = np.full(len(need), np.nan)
        for code in np.flatnonzero(need).tolist():  # a loop over flights
            n = int(n_moving[code])
            found = []
            for rank in ((n - 1) // 2, n // 2):
                k = ranks[(code, rank)]
                got = values[k].sort_index()
                at = np.searchsorted(np.cumsum(got.to_numpy()), rank - wanted[k][1], side="right")
                found.append(int(got.index[at]) / 1e9)
            median[code] = found[0] if n % 2 else (found[1] + found[0]) / 2
        return median


def _grow(counts: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Add the counts of ``codes`` to ``counts``, which grows as needed."""
    if not len(codes):
        return counts
    more = np.bincount(codes)
    if len(more) > len(counts):
        counts = np.r_[counts, np.zeros(len(more) - len(counts), dtype=np.int64)]
    counts[: len(more)] += more
    return counts
