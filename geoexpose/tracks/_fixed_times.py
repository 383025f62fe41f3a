"""Read a column of date-times all written ``YYYY-MM-DD HH:MM:SS`` by arithmetic on their bytes.

Flight logs write thousands of such times a file (AirData's ``datetime(utc)``, ten
a second). :func:`fixed_layout_times` reads them as numbers, field by field, each
field checked (digits, separators, month, day of that month, hour, minute,
second), and gives None for a column that is not entirely in that layout (a space
or ``T`` between date and time, no zone, no fraction, years 1700 to 2199), so that
the general parser (:func:`geoexpose.tracks._values.parse_times`) reads it instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["fixed_layout_times"]

_WIDTH = 19  # len("2024-01-10 20:17:57")
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_NS_PER_S = 1_000_000_000
_NS_PER_DAY = 86_400 * _NS_PER_S


def _bytes(text: pd.Series) -> np.ndarray | None:
    """Return the values' bytes as an (n, 19) array, or None unless all are 19 bytes."""
    if not len(text):
        return None
    try:
        arr = pa.array(text)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.type not in (pa.string(), pa.large_string()) or arr.null_count:
        return None
    lengths = pc.min_max(pc.binary_length(arr))
    if lengths["min"].as_py() != _WIDTH or lengths["max"].as_py() != _WIDTH:
        return None
    width = np.int64 if arr.type == pa.large_string() else np.int32
    offsets = np.frombuffer(arr.buffers()[1], dtype=width)[arr.offset : arr.offset + len(arr) + 1]
    data = np.frombuffer(arr.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    return data.reshape(len(arr), _WIDTH)


def _number(digits: np.ndarray) -> np.ndarray:
    """Return the number the columns of decimal digits write, one per row."""
    out = digits[:, 0].astype(np.int64)
    for k in range(1, digits.shape[1]):
        out = out * 10 + digits[:, k]
    return out


def fixed_layout_times(text: pd.Series) -> pd.Series | None:
    """Read text times all in the layout ``YYYY-MM-DD HH:MM:SS`` (or with ``T``).

    Parameters
    ----------
    text
        Date-time text, stripped, without missing values.

    Returns
    -------
    pandas.Series or None
        Naive ``datetime64[ns]`` times (same index and name), or None where any
        value is not a valid date-time in that layout.

    Examples
    --------
    >>> fixed_layout_times(pd.Series(["2024-02-29 23:59:59", "2024-03-01T00:00:00"])).tolist()
    [Timestamp('2024-02-29 23:59:59'), Timestamp('2024-03-01 00:00:00')]
    >>> fixed_layout_times(pd.Series(["2023-02-29 00:00:00"])) is None  # no such day
    True
    """
    data = _bytes(text)
    if data is None:
        return None
    seps = (
        (data[:, 4] == ord("-"))
        & (data[:, 7] == ord("-"))
        & ((data[:, 10] == ord(" ")) | (data[:, 10] == ord("T")))
        & (data[:, 13] == ord(":"))
        & (data[:, 16] == ord(":"))
    )
    digits = data[:, _DIGITS] - np.uint8(ord("0"))  # wraps below "0": then above 9
    if not seps.all() or (digits > 9).any():
        return None
    year, month, day = _number(digits[:, 0:4]), _number(digits[:, 4:6]), _number(digits[:, 6:8])
    hour, minute = _number(digits[:, 8:10]), _number(digits[:, 10:12])
    second = _number(digits[:, 12:14])
    fields_ok = (
        (year >= 1700)
        & (year < 2200)
        & (month >= 1)
        & (month <= 12)
        & (day >= 1)
        & (hour < 24)
        & (minute < 60)
        & (second < 60)
    )
    if not fields_ok.all():
        return None
    months = (year - 1970) * 12 + month - 1
    first_day = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    next_first = (months + 1).astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    if (day > next_first - first_day).any():
        return None
    ns = (first_day + day - 1) * _NS_PER_DAY + (hour * 3600 + minute * 60 + second) * _NS_PER_S
    return pd.Series(ns.view("datetime64[ns]"), index=text.index, name=text.name)
