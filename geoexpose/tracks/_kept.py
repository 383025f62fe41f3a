"""Take a file's kept rows out of its reader's frame one column at a time, letting it go.

:func:`geoexpose.tracks.normalize.clean_fixes` copies the kept rows of a frame that
stays as it was; for one large file that holds the reader's frame, the kept copy and
the cleaning's working arrays at once. :func:`take_kept` works on what
:func:`geoexpose.tracks.normalize.clean_rows` decided instead: each column of the
kept frame is taken while the reader's column goes (so at most one column more than
the frame is held), a column with no value at all is not held while the rows are
decided, and the one text column, ``alt_ref``, becomes a categorical (one byte a fix,
where a text per fix takes ten or more).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF
from geoexpose.tracks.normalize import FLIGHT_NO, SEGMENT

__all__ = ["drop_empty_heights", "take_kept"]


def drop_empty_heights(frame: pd.DataFrame) -> list[str]:
    """Drop the height columns that hold no value at all, in place; return their names.

    Examples
    --------
    >>> frame = pd.DataFrame({"alt_agl_m": [np.nan, np.nan], "alt_msl_m": [3.0, np.nan]})
    >>> drop_empty_heights(frame), list(frame.columns)
    (['alt_agl_m'], ['alt_msl_m'])
    """
    empty = [c for c in (ALT_AGL_M, ALT_MSL_M) if c in frame and not frame[c].notna().any()]
    for name in empty:
        del frame[name]
    return empty


def take_kept(
    frame: pd.DataFrame, rows: np.ndarray, flight_no: np.ndarray, empty: list[str]
) -> pd.DataFrame:
    """Return the kept ``rows`` of ``frame`` (emptied as they are taken), numbered.

    Parameters
    ----------
    frame
        A reader's frame; its columns are removed one by one (it is empty after).
    rows, flight_no
        What :func:`geoexpose.tracks.normalize.clean_rows` gives.
    empty
        Height columns dropped before (:func:`drop_empty_heights`), given back empty.

    Returns
    -------
    pandas.DataFrame
        What :func:`geoexpose.tracks.normalize.clean_fixes` gives, without ``segment``
        and with ``alt_ref`` a categorical of the same values.

    Examples
    --------
    >>> frame = pd.DataFrame({"lat": [1.0, 2.0, 3.0], "alt_ref": ["ground", None, "ground"],
    ...                       "segment": [0, 0, 0]})
    >>> kept = take_kept(frame, np.array([0, 2]), np.array([1, 1]), ["alt_agl_m"])
    >>> kept["lat"].tolist(), kept["alt_ref"].tolist(), kept["alt_agl_m"].isna().all()
    ([1.0, 3.0], ['ground', 'ground'], np.True_)
    >>> list(frame.columns), str(kept["alt_ref"].dtype)
    ([], 'category')
    """
    columns = {}
    for name in list(frame.columns):
        column = frame[name]
        del frame[name]
        if name == SEGMENT:
            continue
        taken = column.iloc[rows]
        del column
        if name == ALT_REF:
            taken = taken.astype("category")
        elif name in (ALT_AGL_M, ALT_MSL_M) and taken.dtype != np.float64:
            taken = taken.astype("float64")
        columns[name] = taken.reset_index(drop=True)
    for name in empty:
        columns[name] = pd.Series(np.full(len(rows), np.nan))
    columns[FLIGHT_NO] = pd.Series(flight_no)
    return pd.DataFrame(columns, copy=False)
