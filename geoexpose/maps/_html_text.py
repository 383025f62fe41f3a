"""The text of a map page: table values as display text, the panels and the legend.

Numbers are written by the unit in their column's name, times as UTC, missing values
as a dash; every value that goes into HTML is escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["DASH", "display_text", "escape", "legend_html", "panel_html", "text_array"]

DASH = "\u2013"
_DECIMALS = {"_m2": 0, "_cm": 2, "_fraction": 3, "_m": 1, "_s": 1, "score": 0}
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(values: pd.Series) -> pd.Series:
    """Escape text for HTML; missing values become a dash.

    >>> escape(pd.Series(['a<b & "c"', None])).tolist() == ["a&lt;b &amp; &quot;c&quot;", DASH]
    True
    """
    text = _plain_text(values)
    return pd.Series([t.translate(_ESCAPES) for t in text], index=values.index, dtype=object)


def _plain_text(values: pd.Series) -> list[str]:
    """``str`` of each value, a dash where missing (cheaper than pandas for short columns)."""
    cells = values.to_numpy(dtype=object)
    missing = pd.isna(cells).tolist()
    return [DASH if m else str(v) for v, m in zip(cells.tolist(), missing, strict=True)]


def display_text(values: pd.Series, column: str) -> pd.Series:
    """Plain display text of a column: numbers by the unit in its name, times as UTC.

    Missing values become a dash. The text is not escaped: the map runtime puts it
    into the page as text, never as HTML (and :func:`panel_html` escapes it).

    >>> display_text(pd.Series([1.234, None]), "best_gsd_cm").tolist() == ["1.23", DASH]
    True
    """
    return pd.Series(text_array(values, column), index=values.index, dtype=object)


def text_array(values: pd.Series, column: str) -> np.ndarray:
    """Return :func:`display_text` as an object array, without building a Series.

    >>> text_array(pd.Series([3.4, None]), "area_m2").tolist() == ["3", DASH]
    True
    """
    if column.endswith("_utc") or pd.api.types.is_datetime64_any_dtype(values):
        return _time_text(values).to_numpy(dtype=object)
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.array([*_plain_text(values), ""], dtype=object)[:-1]
    decimals = next((d for end, d in _DECIMALS.items() if column.endswith(end)), None)
    if decimals is None:
        decimals = 0 if pd.api.types.is_integer_dtype(values) else 1
    number = values.to_numpy(dtype="float64", na_value=np.nan)
    if len(number) == 1:  # a panel's row: no need for numpy's unique
        value = float(number[0])
        return np.array([f"{value:.{decimals}f}" if np.isfinite(value) else DASH], dtype=object)
    # Each distinct value is formatted once: a site table repeats 0 and NaN a lot.
    distinct, which = np.unique(number, return_inverse=True)
    text = np.array(
        [f"{v:.{decimals}f}" if math.isfinite(v) else DASH for v in distinct.tolist()] + [DASH],
        dtype=object,
    )  # (the dash keeps an array of objects when empty)
    return text[which.reshape(-1)]


def _utc_seconds(values: pd.Series) -> np.ndarray:
    """Each time as a UTC ``datetime64[s]`` (floored), NaT where missing or not a time.

    Columns that hold datetimes already are converted by numpy (naive ones read as
    UTC), without parsing.
    """
    dtype = values.dtype
    if isinstance(dtype, pd.DatetimeTZDtype):
        naive = values.array.tz_convert("UTC").tz_localize(None)  # type: ignore[attr-defined]
        return np.asarray(naive).astype("datetime64[s]")
    if isinstance(dtype, np.dtype) and dtype.kind == "M":
        return values.to_numpy().astype("datetime64[s]")
    times = pd.to_datetime(values, utc=True, errors="coerce")
    return times.dt.tz_localize(None).to_numpy("datetime64[ns]").astype("datetime64[s]")


def _time_text(values: pd.Series) -> pd.Series:
    """``YYYY-MM-DD HH:MM:SS UTC`` of each time (seconds floored, as ``strftime``), or a dash.

    Each distinct second is formatted once, by numpy: fixes at 10 Hz share them.

    >>> _time_text(pd.Series(["2026-06-12T10:02:03.9+02:00", None])).tolist()[0]
    '2026-06-12 08:02:03 UTC'
    """
    seconds = _utc_seconds(values)
    distinct, which = np.unique(seconds, return_inverse=True)
    iso = np.datetime_as_string(distinct, unit="s")
    text = np.array([t.replace("T", " ") + " UTC" for t in iso.tolist()] + [DASH], dtype=object)
    text = text[:-1]  # the dash keeps the array one of str objects when empty
    text[np.isnat(distinct)] = DASH
    return pd.Series(text[which.reshape(-1)], index=values.index, dtype=object)


def panel_html(
    title: str,
    sections: list[tuple[str, pd.DataFrame, bool]],
    *,
    hover: Mapping[str, list[str | None]] | None = None,
) -> str:
    """Write a fixed panel: a title, then per section a heading and a table of display text.

    A section ``(heading, frame, wide)`` is shown as a table with a header row when
    ``wide``, else as column / value pairs of its first row. ``hover``: for a
    column of a wide table, the text shown on hovering each cell (its ``title``),
    e.g. the full id of a shortened label.
    """
    parts = [f"<div class='gx-panel'><h1>{html.escape(title)}</h1>"]
    for heading, frame, wide in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        cells = [
            [str(t).translate(_ESCAPES) for t in text_array(frame[c], c).tolist()]
            for c in frame.columns
        ]
        if not wide:
            parts.append("<table>")
            parts += [
                f"<tr><th>{html.escape(c)}</th><td>{v[0]}</td></tr>"
                for c, v in zip(frame.columns, cells, strict=True)
            ]
        else:
            head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
            parts.append(f"<table class='gx-wide'><tr>{head}</tr>")
            for c, col in enumerate(frame.columns):
                full = (hover or {}).get(str(col))
                if full is not None:
                    cells[c] = [
                        v if t is None else f'<span title="{str(t).translate(_ESCAPES)}">{v}</span>'
                        for v, t in zip(cells[c], full, strict=True)
                    ]
            rows = zip(*cells, strict=True) if cells else [()] * len(frame)
            parts += ["<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in rows]
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


def legend_html(sections: list[tuple[str, list[tuple[str, str]]]], note: str | None) -> str:
    """Write the legend box: per section a title, then (swatch CSS, label) rows.

    ``note``, when given, is shown in a box at the top of the map.
    """
    parts = ["<details class='gx-legend' open><summary>Legend</summary>"]
    for title, rows in sections:
        parts.append(f"<b>{html.escape(title)}</b>")
        parts += [
            f'<div><i style="{html.escape(css)}"></i>{html.escape(label)}</div>'
            for css, label in rows
        ]
    parts.append("</details>")
    if note:
        parts.append(f"<div class='gx-note'>{html.escape(note)}</div>")
    return "".join(parts)
