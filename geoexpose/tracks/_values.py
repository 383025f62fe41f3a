"""Parse the values of a log's columns: times to UTC (with zones or epochs) and flags.

:func:`parse_times` reads date-time text (with or without a zone or offset) or
epoch numbers (seconds, milliseconds, microseconds or nanoseconds since 1970) as
UTC times and says on what basis (:data:`TIME_BASIS_UTC`, a zone name, or
:data:`TIME_BASIS_ASSUMED_UTC`); :func:`check_time_zone` checks a ``time_zone``
option; :func:`parse_bools` reads a flag column.
"""

from __future__ import annotations

import re
import zoneinfo

import numpy as np
import pandas as pd
from pandas.tseries.api import guess_datetime_format

from geoexpose.schema import TIME_DTYPE
from geoexpose.tracks._fixed_times import fixed_layout_times

__all__ = [
    "TIME_BASIS_ASSUMED_UTC",
    "TIME_BASIS_UTC",
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
# Epoch numbers below this many seconds (1973) are elapsed times, not dates.
_MIN_EPOCH_S = 1e8
# Times beyond these are clamped to them (far outside any flight; see module notes).
_FAR_PAST = pd.Timestamp("1700-01-01")
_FAR_FUTURE = pd.Timestamp("2200-01-01")
_FAR_PAST_S = _FAR_PAST.timestamp()
_FAR_FUTURE_S = _FAR_FUTURE.timestamp()


def _as_ns(times: pd.Series) -> pd.Series:
    """Give parsed times nanosecond resolution, times beyond the far bounds clamped to them."""
    tz = getattr(times.dtype, "tz", None)
    past, future = _FAR_PAST.tz_localize(tz), _FAR_FUTURE.tz_localize(tz)
    if bool(((times < past) | (times > future)).any()):
        times = times.mask(times < past, past).mask(times > future, future)
    return times.dt.as_unit("ns")


def _naive(text: pd.Series) -> pd.Series:
    """Parse zone-less date-time text; fast with one guessed format, then per value."""
    out = _parse_naive(text, format="ISO8601")
    todo = out.isna() & text.notna()
    if todo.any():
        guess = guess_datetime_format(str(text[todo].iloc[0]))
        if guess is not None:
            out[todo] = _parse_naive(text[todo], format=guess)
            todo = out.isna() & text.notna()
    if todo.any():
        out[todo] = _parse_naive(text[todo], format="mixed")
    return out


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


def _epoch(numbers: pd.Series, *, seconds_per_unit: float | None, column: str) -> pd.Series:
    values = pd.to_numeric(numbers, errors="coerce").astype("float64")
    finite = np.isfinite(values)
    median = float(np.median(np.abs(values[finite]))) if finite.any() else 0.0
    values = values.mask(np.isinf(values), np.sign(values) * 1e30)  # clamped below
    if seconds_per_unit is None:
        # Seconds, milliseconds, microseconds or nanoseconds since 1970, by magnitude.
        seconds_per_unit = 1.0
        for scale in (1e-3, 1e-6, 1e-9):
            if median * seconds_per_unit >= 1e11:
                seconds_per_unit = scale
    if 0 < median * seconds_per_unit < _MIN_EPOCH_S:
        raise ValueError(
            f"column {column!r} holds numbers too small for dates since 1970 "
            "(elapsed time?); name a date-time column with columns={'time': ...}"
        )
    # whole seconds and the rest apart, so that float rounding of a 13-digit number of
    # milliseconds does not leave stray nanoseconds: the rest is kept to the microsecond
    seconds = values * seconds_per_unit
    far = (seconds < _FAR_PAST_S) | (seconds > _FAR_FUTURE_S)
    if far.any():  # beyond int64 nanoseconds maybe: clamped (see module notes)
        values = values.mask(far, seconds.clip(_FAR_PAST_S, _FAR_FUTURE_S) / seconds_per_unit)
    if seconds_per_unit < 1.0 and np.array_equal(values, np.round(values), equal_nan=True):
        # whole numbers of ms, us or ns: integer arithmetic, exact
        ns = values.astype("Int64") * round(seconds_per_unit * 1e9)
    else:
        seconds = values * seconds_per_unit
        whole = np.floor(seconds)
        rest_us = np.round((seconds - whole) * 1e6)
        ns = whole.astype("Int64") * 1_000_000_000 + rest_us.astype("Int64") * 1_000
    return pd.to_datetime(ns, unit="ns", utc=True)


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
    (daylight-saving changes) become NaT.
    """
    basis = TIME_BASIS_UTC
    if _numbers_as_text(values):  # one number too big for int64 makes a column text
        values = pd.to_numeric(values.astype("str"), errors="coerce").astype("float64")
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        times = _epoch(values, seconds_per_unit=seconds_per_unit, column=column)
    else:
        text = values.astype("str").str.strip()
        text = text.where(values.notna() & (text != ""))
        fixed = fixed_layout_times(text)  # all "YYYY-MM-DD HH:MM:SS": read as numbers
        zoned = np.zeros(len(text), dtype=bool) if fixed is not None else _zoned_mask(text)
        naive = text.notna().to_numpy() & ~zoned
        times = pd.Series(pd.NaT, index=values.index, dtype=TIME_DTYPE)
        if zoned.any():
            times[zoned] = _zoned(text[zoned]).astype(TIME_DTYPE)
        if naive.any():
            every = bool(naive.all())  # the common case: no mask to take or fill
            local = fixed if fixed is not None else _naive(text if every else text[naive])
            if time_zone is not None:
                local = local.dt.tz_localize(time_zone, ambiguous="NaT", nonexistent="NaT")
                basis = time_zone
            else:
                local = local.dt.tz_localize("UTC")
                basis = TIME_BASIS_UTC if naive_is_utc else TIME_BASIS_ASSUMED_UTC
            local = local.dt.tz_convert("UTC").astype(TIME_DTYPE)
            if every:
                times = local
            else:
                times[naive] = local
        if text.notna().any() and times.isna().all():
            first = text.dropna().iloc[0]
            raise ValueError(f"column {column!r}: no value reads as a date-time (first {first!r})")
    return times.astype(TIME_DTYPE), basis


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


def _numbers_as_text(values: pd.Series) -> bool:
    """Whether a text column holds numbers only (its first value a number, then all)."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return False
    present = values.dropna()
    if not len(present) or isinstance(first := present.iloc[0], bool):
        return False
    if not isinstance(first, int | float) and _NUMBER.match(str(first).strip()) is None:
        return False
    text = present.astype("str").str.strip()
    text = text[text != ""]
    return bool(text.str.fullmatch(_NUMBER).all())


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
