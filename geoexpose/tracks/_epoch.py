"""Epoch numbers to UTC times, their unit decided by the whole column, given in blocks.

A column of numbers since 1970 is in seconds, milliseconds, microseconds or
nanoseconds by the magnitude of its median (:class:`EpochFacts` knows the median
well enough from counts between the magnitudes that decide, so the column may come
in blocks); a median below :data:`MIN_EPOCH_S` is an elapsed time, not a date.
:func:`epoch_times` reads numbers in the unit decided, times beyond
:data:`FAR_PAST` and :data:`FAR_FUTURE` clamped to them (far outside any flight).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FAR_FUTURE", "FAR_PAST", "MIN_EPOCH_S", "EpochFacts", "epoch_times"]

#: Epoch numbers below this many seconds (1973) are elapsed times, not dates.
MIN_EPOCH_S = 1e8
#: Times beyond these are clamped to them (far outside any flight).
FAR_PAST = pd.Timestamp("1700-01-01")
FAR_FUTURE = pd.Timestamp("2200-01-01")
_FAR_PAST_S = FAR_PAST.timestamp()
_FAR_FUTURE_S = FAR_FUTURE.timestamp()


class EpochFacts:
    """What the whole of a column of epoch numbers decides, gathered block by block.

    The unit of the epoch follows from the median of the magnitudes (see
    :func:`geoexpose.tracks._values.parse_times`); the median is known well enough
    from counts, least and greatest values in the intervals between the magnitudes
    that decide (as :func:`numpy.median` takes it: the middle value, or the mean of
    the two middle ones). Whether every value is a whole number (then read exactly,
    in integers) is kept for each unit the median may pick.
    """

    def __init__(self, seconds_per_unit: float | None) -> None:
        self.given = seconds_per_unit
        self.units = (1.0, 1e-3, 1e-6, 1e-9) if seconds_per_unit is None else (seconds_per_unit,)
        # the magnitudes where a decision of :meth:`unit` changes: its products with
        # each unit it may take against 1e8 s (too small for a date) and 1e11
        edges = {_threshold(unit, bound) for unit in self.units for bound in (MIN_EPOCH_S, 1e11)}
        self.edges = np.asarray(sorted(edges))
        k = len(edges) + 2  # exactly zero, below the first edge, ..., beyond the last
        self.count = np.zeros(k, dtype=np.int64)
        self.least = np.full(k, np.inf)
        self.most = np.full(k, -np.inf)
        self.whole = dict.fromkeys(self.units, True)

    def see(self, values: pd.Series) -> None:
        """Count a block of numbers (float; NaN where missing)."""
        magnitude = np.abs(values.to_numpy(dtype="float64"))
        magnitude = magnitude[np.isfinite(magnitude)]
        where = np.where(magnitude == 0, 0, np.searchsorted(self.edges, magnitude, "right") + 1)
        self.count += np.bincount(where, minlength=len(self.count))
        np.minimum.at(self.least, where, magnitude)
        np.maximum.at(self.most, where, magnitude)
        for unit in self.units:
            if self.whole[unit] and unit < 1.0:
                kept = _clamped(values, unit)
                self.whole[unit] = bool(np.array_equal(kept, np.round(kept), equal_nan=True))

    def median(self) -> float:
        """Return the median, or a value that :meth:`unit` takes as it would take the median."""
        n = int(self.count.sum())
        if not n:
            return 0.0
        reach = np.cumsum(self.count)
        lower = int(np.searchsorted(reach, (n - 1) // 2, "right"))  # of order stat (n-1)//2
        upper = int(np.searchsorted(reach, n // 2, "right"))  # of order stat n//2
        if lower == upper:
            return 0.0 if lower == 0 else float(self.least[lower])
        return float(np.mean([self.most[lower], self.least[upper]]))

    def unit(self, column: str) -> float:
        """Return the seconds per unit of the column (ValueError where they are too small)."""
        median = self.median()
        seconds_per_unit = self.given
        if seconds_per_unit is None:
            # Seconds, milliseconds, microseconds or nanoseconds since 1970, by magnitude.
            seconds_per_unit = 1.0
            for scale in (1e-3, 1e-6, 1e-9):
                if median * seconds_per_unit >= 1e11:
                    seconds_per_unit = scale
        if 0 < median * seconds_per_unit < MIN_EPOCH_S:
            raise ValueError(
                f"column {column!r} holds numbers too small for dates since 1970 "
                "(elapsed time?); name a date-time column with columns={'time': ...}"
            )
        return seconds_per_unit


def _threshold(scale: float, bound: float) -> float:
    """Return the least float ``x`` with ``x * scale >= bound`` (as float products go)."""
    x = bound / scale
    while x * scale >= bound:
        x = float(np.nextafter(x, 0.0))
    while x * scale < bound:
        x = float(np.nextafter(x, np.inf))
    return x


def _clamped(values: pd.Series, seconds_per_unit: float) -> pd.Series:
    """Epoch numbers with infinities and times beyond the far bounds clamped to them."""
    values = values.mask(np.isinf(values), np.sign(values) * 1e30)
    seconds = values * seconds_per_unit
    far = (seconds < _FAR_PAST_S) | (seconds > _FAR_FUTURE_S)
    if far.any():  # beyond int64 nanoseconds maybe: clamped (see module notes)
        values = values.mask(far, seconds.clip(_FAR_PAST_S, _FAR_FUTURE_S) / seconds_per_unit)
    return values


def epoch_times(values: pd.Series, seconds_per_unit: float, whole: bool) -> pd.Series:
    """Epoch numbers (float) in a unit to UTC times; ``whole``: all are whole numbers."""
    values = _clamped(values, seconds_per_unit)
    # whole seconds and the rest apart, so that float rounding of a 13-digit number of
    # milliseconds does not leave stray nanoseconds: the rest is kept to the microsecond
    if seconds_per_unit < 1.0 and whole:
        # whole numbers of ms, us or ns: integer arithmetic, exact
        ns = values.astype("Int64") * round(seconds_per_unit * 1e9)
    else:
        seconds = values * seconds_per_unit
        whole_s = np.floor(seconds)
        rest_us = np.round((seconds - whole_s) * 1e6)
        ns = whole_s.astype("Int64") * 1_000_000_000 + rest_us.astype("Int64") * 1_000
    return pd.to_datetime(ns, unit="ns", utc=True)
