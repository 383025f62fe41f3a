"""Parse the values of a log's columns: times to UTC (with zones or epochs) and flags.

:func:`parse_times` reads date-time text (with or without a zone or offset) or
epoch numbers (seconds, milliseconds, microseconds or nanoseconds since 1970) as
UTC times and says on what basis (:data:`TIME_BASIS_UTC`, a zone name, or
:data:`TIME_BASIS_ASSUMED_UTC`); :func:`check_time_zone` checks a ``time_zone``
option; :func:`parse_bools` reads a flag column.
"""

from __future__ import annotations

import re
import warnings
import zoneinfo

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from geoexpose.schema import TIME_DTYPE
from geoexpose.tracks._epoch import FAR_FUTURE, FAR_PAST, EpochFacts, epoch_times
from geoexpose.tracks._fixed_times import fixed_layout_times

__all__ = [
    "TIME_BASIS_ASSUMED_UTC",
    "TIME_BASIS_UTC",
    "TimeBlocks",
    "check_time_zone",
    "parse_bools",
    "parse_times",
]

TIME_BASIS_UTC = "utc"
TIME_BASIS_ASSUMED_UTC = "assumed_utc"

# A time of day followed by a zone: "...12:00:00Z", "...12:00+02:00", "... 12:00 UTC".
_ZONED = re.compile(r"\d:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[zZ]|UTC|GMT|[+-]\d\d(?::?\d\d)?)$")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_TRUE = ("1", "1.0", "true", "yes", "y", "t", "recording", "on")


def _as_ns(times: pd.Series) -> pd.Series:
    """Give parsed times nanosecond resolution, times beyond the far bounds clamped to them."""
    tz = getattr(times.dtype, "tz", None)
    past, future = FAR_PAST.tz_localize(tz), FAR_FUTURE.tz_localize(tz)
    if bool(((times < past) | (times > future)).any()):
        times = times.mask(times < past, past).mask(times > future, future)
    return times.dt.as_unit("ns")


def _parse_naive(text: pd.Series, *, format: str) -> pd.Series:
    """Parse with one format to naive nanosecond times; stray zoned values as UTC."""
    cache = format != "ISO8601"  # ISO 8601 text parses faster than it is looked up
    try:
        out = pd.to_datetime(text, format=format, errors="coerce", cache=cache)
    except (TypeError, ValueError):  # naive and zoned text mixed
        out = pd.to_datetime(text, format=format, errors="coerce", utc=True, cache=cache)
    if getattr(out.dtype, "tz", None) is not None:
        out = out.dt.tz_convert("UTC").dt.tz_localize(None)
    return _as_ns(out)


def _zoned(text: pd.Series) -> pd.Series:
    """Parse date-time text that ends in a zone or offset, to UTC."""
    text = text.str.replace(r"\s*(?:UTC|GMT)$", "Z", regex=True)
    out = _as_ns(pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True))
    todo = out.isna()
    if todo.any():
        more = pd.to_datetime(text[todo], format="mixed", errors="coerce", utc=True)
        out[todo] = _as_ns(more)
    return out


class TimeBlocks:
    """Parse a column of times given in blocks, in file order, as :func:`parse_times` whole.

    What only the whole column decides (whether its text is numbers, the unit of epoch
    numbers, whether they are all whole) is gathered by :meth:`see` on every block
    first; :meth:`parse` then reads the blocks in file order, carrying what the first
    blocks decide for the later ones (the layout guessed from the first value not in
    ISO 8601); :meth:`finish` says the time basis, or raises where no value read.
    :func:`parse_times` is the three on one block.

    Parameters
    ----------
    column, time_zone, naive_is_utc, seconds_per_unit
        As for :func:`parse_times`.

    Examples
    --------
    >>> blocks = TimeBlocks(column="t")
    >>> parts = [pd.Series([1.7e12, None]), pd.Series([1700000000500.0])]
    >>> for part in parts:
    ...     blocks.see(part)
    >>> [str(t) for part in parts for t in blocks.parse(part)], blocks.finish()
    (['2023-11-14 22:13:20+00:00', 'NaT', '2023-11-14 22:13:20.500000+00:00'], 'utc')
    """

    def __init__(
        self,
        *,
        column: str,
        time_zone: str | None = None,
        naive_is_utc: bool = False,
        seconds_per_unit: float | None = None,
    ) -> None:
        self.column = column
        self.time_zone = time_zone
        self.naive_is_utc = naive_is_utc
        self._epoch = EpochFacts(seconds_per_unit)
        self._numbers = True  # every block so far is numbers (or empty)
        self._first: object = None  # the first value present, in file order
        self._text_numbers = True  # every text value so far is a number
        self._unit: tuple[float, bool] | None = None  # decided at the first parse
        self._guess: tuple[str | None] | None = None  # layout of the first non-ISO value
        self._naive_seen = False
        self._text_seen: str | None = None  # the first text value present
        self._read = False  # a time read

    def see(self, values: pd.Series) -> None:
        """Gather what the whole column decides from one block (every block, first)."""
        present = values.dropna()
        if not len(present):
            return  # nothing to learn (a block before the first value, maybe)
        if self._first is None:
            self._first = present.iloc[0]
        if _is_number_dtype(values.dtype):
            self._epoch.see(values.astype("float64"))
            return
        self._numbers = False
        if self._text_numbers and _number_like(self._first):
            text = present.astype("str").str.strip()
            self._text_numbers = bool(text[text != ""].str.fullmatch(_NUMBER).all())
            if self._text_numbers:
                self._epoch.see(_as_numbers(values))
        else:
            self._text_numbers = False

    def _is_numbers(self) -> bool:
        """Whether the column is read as epoch numbers."""
        if self._numbers:
            return True
        return self._text_numbers and _number_like(self._first)

    def parse(self, values: pd.Series) -> pd.Series:
        """Read the times of the next block (``datetime64[ns, UTC]``, NaT where unread)."""
        if self._is_numbers():
            if self._unit is None:
                unit = self._epoch.unit(self.column)
                self._unit = (unit, self._epoch.whole[unit])
            numbers = values if _is_number_dtype(values.dtype) else _as_numbers(values)
            times = epoch_times(numbers.astype("float64"), *self._unit)
            self._read = True
            return times.astype(TIME_DTYPE)
        text = values.astype("str").str.strip()
        text = text.where(values.notna() & (text != ""))
        fixed = fixed_layout_times(text)  # all "YYYY-MM-DD HH:MM:SS": read as numbers
        zoned = np.zeros(len(text), dtype=bool) if fixed is not None else _zoned_mask(text)
        naive = text.notna().to_numpy() & ~zoned
        times = pd.Series(pd.NaT, index=values.index, dtype=TIME_DTYPE)
        if zoned.any():
            times[zoned] = _zoned(text[zoned]).astype(TIME_DTYPE)
        if naive.any():
            self._naive_seen = True
            every = bool(naive.all())  # the common case: no mask to take or fill
            local = fixed if fixed is not None else self._naive(text if every else text[naive])
            if self.time_zone is not None:
                local = local.dt.tz_localize(self.time_zone, ambiguous="NaT", nonexistent="NaT")
            else:
                local = local.dt.tz_localize("UTC")
            local = local.dt.tz_convert("UTC").astype(TIME_DTYPE)
            if every:
                times = local
            else:
                times[naive] = local
        if self._text_seen is None and text.notna().any():
            self._text_seen = str(text.dropna().iloc[0])
        self._read = self._read or bool(times.notna().any())
        return times.astype(TIME_DTYPE)

    def _naive(self, text: pd.Series) -> pd.Series:
        """Parse zone-less date-time text; fast with one guessed format, then per value.

        The format is guessed once, from the first value of the column that is not
        ISO 8601.
        """
        out = _parse_naive(text, format="ISO8601")
        todo = out.isna() & text.notna()
        if todo.any():
            if self._guess is None:
                with warnings.catch_warnings():  # a day first: it is what is guessed
                    warnings.simplefilter("ignore", UserWarning)
                    self._guess = (guess_datetime_format(str(text[todo].iloc[0])),)
            if (guess := self._guess[0]) is not None:
                out[todo] = _parse_naive(text[todo], format=guess)
                todo = out.isna() & text.notna()
        if todo.any():
            out[todo] = _parse_naive(text[todo], format="mixed")
        return out

    def finish(self) -> str:
        """Say the time basis of the column; raise ValueError where no text value read."""
        if self._text_seen is not None and not self._read:
            raise ValueError(
                f"column {self.column!r}: no value reads as a date-time (first {self._text_seen!r})"
            )
        if not self._naive_seen:
            return TIME_BASIS_UTC
        if self.time_zone is not None:
            return self.time_zone
        return TIME_BASIS_UTC if self.naive_is_utc else TIME_BASIS_ASSUMED_UTC


def parse_times(
    values: pd.Series,
    *,
    column: str,
    time_zone: str | None = None,
    naive_is_utc: bool = False,
    seconds_per_unit: float | None = None,
) -> tuple[pd.Series, str]:
    """Parse a column of times to UTC.

    Parameters
    ----------
    values
        Date-time text (ISO 8601 or any common layout), or numbers of seconds,
        milliseconds, microseconds or nanoseconds since 1970-01-01 UTC.
    column
        The column name, for messages.
    time_zone
        IANA zone name (e.g. ``"Europe/Berlin"``) in which to read times written
        without zone or offset.
    naive_is_utc
        Take times without zone as UTC (the column or format says so, e.g.
        ``datetime(utc)`` or GPX); ``time_zone`` still wins where given.
    seconds_per_unit
        For numbers: the unit of the epoch (``1e-3`` for milliseconds); None
        picks it from the magnitude of the values.

    Returns
    -------
    times : pandas.Series
        ``datetime64[ns, UTC]``, NaT where a value is missing or unreadable.
    time_basis : str
        ``"utc"``, the zone name used, or ``"assumed_utc"`` when times without
        zone were taken as UTC because no ``time_zone`` was given.

    Raises
    ------
    ValueError
        No value parses, or epoch numbers are too small to be dates.

    Notes
    -----
    Times with ``Z`` or an offset are converted to UTC whatever ``time_zone``
    says. Wall-clock times that do not exist or occur twice in ``time_zone``
    (daylight-saving changes) become NaT. A column given in blocks is read the same
    by :class:`TimeBlocks`.
    """
    blocks = TimeBlocks(
        column=column,
        time_zone=time_zone,
        naive_is_utc=naive_is_utc,
        seconds_per_unit=seconds_per_unit,
    )
    blocks.see(values)
    times = blocks.parse(values)
    return times, blocks.finish()


def _zoned_mask(text: pd.Series) -> np.ndarray:
    """Return where stripped date-time text ends in a zone or offset (:data:`_ZONED`).

    The pattern is searched only in the values that can match: those ending in
    ``z``, ``Z``, ``UTC``, ``GMT`` or a line end, or with a ``+`` or ``-`` among
    their last six characters (an offset ``+hh``, ``+hhmm``, ``+hh:mm``). A column
    of plain ``2024-01-10 20:17:57`` is then told naive without a search per value.
    """
    tail = text.str.slice(-6)
    maybe = (
        text.str.endswith(("z", "Z", "UTC", "GMT", "\n"), na=False).to_numpy(dtype=bool)
        | tail.str.contains("+", regex=False, na=False).to_numpy(dtype=bool)
        | tail.str.contains("-", regex=False, na=False).to_numpy(dtype=bool)
    )
    zoned = np.zeros(len(text), dtype=bool)
    if maybe.any():
        zoned[maybe] = text[maybe].str.contains(_ZONED, na=False).to_numpy(dtype=bool)
    return zoned


def _is_number_dtype(dtype: object) -> bool:
    """Whether a column's dtype holds numbers (flags are not)."""
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


def _number_like(first: object) -> bool:
    """Whether the first value of a column is a number, or text of one."""
    if first is None or isinstance(first, bool):
        return False
    return isinstance(first, int | float) or _NUMBER.match(str(first).strip()) is not None


def _as_numbers(values: pd.Series) -> pd.Series:
    """Numbers written as text (one too big for int64 makes a column text), as floats."""
    return pd.to_numeric(values.astype("str"), errors="coerce").astype("float64")


def check_time_zone(time_zone: str | None) -> None:
    """Raise ValueError unless ``time_zone`` is None or a known IANA zone name."""
    if time_zone is None:
        return
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"time_zone={time_zone!r}: not an IANA zone name (e.g. 'Europe/Copenhagen')"
        ) from exc


def parse_bools(values: pd.Series) -> pd.Series:
    """Read a flag column (1/0, true/false, Yes/blank, Recording/Stop) as booleans.

    Blank cells are False: a log that has the column marks only the rows where
    the flag is set.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    truthy = np.array([str(u).strip().lower() in _TRUE for u in uniques], dtype=bool)
    flags = np.zeros(len(values), dtype=bool)
    known = codes >= 0
    flags[known] = truthy[codes[known]]
    return pd.Series(flags, index=values.index, dtype="boolean")
