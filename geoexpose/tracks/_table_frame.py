"""Build the RawTrack frame of a table from the columns its mapping names.

Shared by the CSV reader and the GeoJSON/vector reader, after
:mod:`geoexpose.tracks._columns` has found the columns (a :class:`ColumnMap`).
Values without a unit in their column name are taken as metres, m/s, seconds
and degrees; an unknown unit on a position, time or altitude column is an
InputError naming the column (on an optional extra column, the extra is left
out). Times: see :func:`geoexpose.tracks._values.parse_times`; a column marked
``(utc)`` is UTC; an absolute time column with whole-second resolution is refined
with an elapsed-time column (``time(millisecond)``) where the table has one.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import units
from geoexpose.tracks._columns import EXTRA_QUANTITY, Column, ColumnMap
from geoexpose.tracks._values import parse_bools, parse_times
from geoexpose.tracks.normalize import SEGMENT

__all__ = ["build_frame"]

logger = logging.getLogger(__name__)

_TIME_OF_DAY = re.compile(r"\s*\d{1,2}:\d\d(?::\d\d(?:[.,]\d+)?)?\s*(?:[AaPp][Mm])?\s*")


def _numbers(table: pd.DataFrame, col: Column, quantity: str, *, comma: bool) -> np.ndarray:
    values = table[col.name]
    if not pd.api.types.is_numeric_dtype(values.dtype):
        text = values.astype("str").str.strip()
        if comma:
            text = text.str.replace(",", ".", regex=False)
        values = pd.to_numeric(text, errors="coerce")
    factor = units.unit_factor(col.unit, quantity=quantity, column=col.name)
    return values.astype("float64").to_numpy() * factor  # on the array: no Series overhead


def _times(table: pd.DataFrame, m: ColumnMap, *, time_zone: str | None) -> tuple[pd.Series, str]:
    col = m.time
    values = table[col.name]
    marker = (col.unit or "").lower()
    per_unit = None
    if col.is_duration:
        per_unit = units.unit_factor(col.unit, quantity=units.DURATION, column=col.name)
    elif col.unit is not None and marker not in units.ZONE_MARKERS:
        raise InputError(
            f"column {col.name!r}: {col.unit!r} is neither a zone (utc, local) nor a unit"
        )
    if m.date is not None and not pd.api.types.is_numeric_dtype(values.dtype):
        first = values.dropna().astype("str")
        if len(first) and _TIME_OF_DAY.fullmatch(first.iloc[0]):
            values = table[m.date.name].astype("str").str.strip() + " " + values.astype("str")
    marked_utc = marker in ("utc", "gmt", "z")  # "datetime(utc)": UTC whatever time_zone says
    try:
        times, basis = parse_times(
            values,
            column=col.name,
            time_zone=None if marked_utc else time_zone,
            naive_is_utc=marked_utc,
            seconds_per_unit=per_unit,
        )
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    if m.elapsed is not None:
        elapsed = _numbers(table, m.elapsed, units.DURATION, comma=False)
        ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
        usable = np.flatnonzero(times.notna().to_numpy() & ~np.isnan(elapsed))
        whole_seconds = bool(np.all(ns[usable] % 1_000_000_000 == 0))
        if len(usable) and whole_seconds:
            # Absolute time to the second: anchor it once, then follow the elapsed clock.
            first = usable[0]
            offset = np.round((elapsed - elapsed[first]) * 1e9)
            stamps = pd.to_timedelta(offset, unit="ns") + times.iloc[first]
            times = pd.Series(stamps, index=table.index).astype(TIME_DTYPE)
    return times, basis


def build_frame(
    table: pd.DataFrame,
    m: ColumnMap,
    *,
    time_zone: str | None,
    comma: bool = False,
    lat: pd.Series | None = None,
    lon: pd.Series | None = None,
) -> tuple[pd.DataFrame, str]:
    """Build a RawTrack frame from ``table`` with mapping ``m``.

    ``lat``/``lon`` give the position where it comes from geometries, not columns.
    Returns the frame and the time basis (see :class:`~geoexpose.tracks.normalize.RawTrack`).
    """
    n = len(table)
    out: dict[str, Any] = {}  # columns, made into one frame at the end (fewer copies)
    out[LAT] = lat if m.lat is None else _numbers(table, m.lat, units.ANGLE, comma=comma)
    out[LON] = lon if m.lon is None else _numbers(table, m.lon, units.ANGLE, comma=comma)
    out[TIME_UTC], basis = _times(table, m, time_zone=time_zone)
    agl = np.full(n, np.nan)
    ref = np.full(n, m.agl_ref, dtype=object)
    if m.agl is not None:
        agl = _numbers(table, m.agl, units.LENGTH, comma=comma)
    if m.agl_fallback is not None:
        backup = _numbers(table, m.agl_fallback, units.LENGTH, comma=comma)
        use = np.isnan(agl) & ~np.isnan(backup)
        agl = np.where(use, backup, agl)
        ref[use] = ALT_REF_TAKEOFF
    out[ALT_AGL_M] = agl
    out[ALT_REF] = ref
    out[ALT_MSL_M] = np.full(n, np.nan)
    if m.msl is not None:
        out[ALT_MSL_M] = _numbers(table, m.msl, units.LENGTH, comma=comma)
    if m.segment is not None:
        out[SEGMENT] = table[m.segment.name].astype("str").to_numpy()
    for name, col in m.extras.items():
        if name in EXTRA_QUANTITY:
            try:
                out[name] = _numbers(table, col, EXTRA_QUANTITY[name], comma=comma)
            except InputError as exc:  # an odd unit on an optional column is no reason to fail
                logger.debug("extra column %s left out: %s", name, exc)
        else:
            out[name] = parse_bools(table[col.name])
    # Arrays, not Series (no alignment); times as their DatetimeArray, never as objects.
    columns = {
        k: v if not isinstance(v, pd.Series) else v.array if k == TIME_UTC else v.to_numpy()
        for k, v in out.items()
    }
    return pd.DataFrame(columns, index=table.index), basis
