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
from collections.abc import Iterable
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
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._values import TimeBlocks, parse_bools
from geoexpose.tracks.normalize import SEGMENT

__all__ = ["TableFrames", "build_frame"]

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


class TableFrames:
    """Build the RawTrack frames of a table given in blocks, as :func:`build_frame` whole.

    The blocks come in file order, twice: :meth:`see` takes each block first, to
    gather what the whole time column decides (:class:`TimeBlocks`; whether a date
    column is put before times of day, by the first time present); :meth:`frame`
    then builds each block's frame. Where an elapsed-time column refines times given
    to the second, the anchor (first row with both) is known only after the last
    frame: :meth:`refine` then sets each frame's times from the elapsed time
    :meth:`frame` gave with it. :meth:`finish` says the time basis.
    """

    def __init__(self, m: ColumnMap, *, time_zone: str | None, comma: bool = False) -> None:
        col = m.time
        marker = (col.unit or "").lower()
        per_unit = None
        if col.is_duration:
            per_unit = units.unit_factor(col.unit, quantity=units.DURATION, column=col.name)
        elif col.unit is not None and marker not in units.ZONE_MARKERS:
            raise InputError(
                f"column {col.name!r}: {col.unit!r} is neither a zone (utc, local) nor a unit"
            )
        marked_utc = marker in ("utc", "gmt", "z")  # "datetime(utc)": UTC whatever time_zone says
        self.m = m
        self.comma = comma
        self.times = TimeBlocks(
            column=col.name,
            time_zone=None if marked_utc else time_zone,
            naive_is_utc=marked_utc,
            seconds_per_unit=per_unit,
        )
        self.join: bool | None = None if m.date is not None else False
        self._whole_seconds = True  # of the rows with a time and an elapsed time so far
        self._anchor: tuple[pd.Timestamp, float] | None = None  # the first such row

    def decide(self, table: pd.DataFrame | None, *, last: bool = False) -> bool:
        """Say whether the date goes before the times, from the blocks so far.

        It is decided by the first time present (a time of day takes the date); where
        it is not yet, False, unless ``last`` (then no date is put; ``table`` may be
        None then).
        """
        if self.join is None:
            present = table[self.m.time.name].dropna() if table is not None else None
            if present is not None and len(present):
                self.join = _TIME_OF_DAY.fullmatch(str(present.iloc[0])) is not None
            elif last:
                self.join = False
        return self.join is not None

    def _values(self, table: pd.DataFrame) -> pd.Series:
        values = table[self.m.time.name]
        if self.join and self.m.date is not None:
            return table[self.m.date.name].astype("str").str.strip() + " " + values.astype("str")
        return values

    def see(self, table: pd.DataFrame) -> None:
        """Gather from one block what the whole time column decides (after :meth:`decide`)."""
        self.times.see(self._values(table))

    def frame(
        self,
        table: pd.DataFrame,
        *,
        lat: pd.Series | None = None,
        lon: pd.Series | None = None,
    ) -> tuple[pd.DataFrame, np.ndarray | None]:
        """Build one block's frame; also give its elapsed times where they may refine it.

        ``lat``/``lon`` give the position where it comes from geometries, not columns.
        """
        m, comma = self.m, self.comma
        n = len(table)
        out: dict[str, Any] = {}  # columns, made into one frame at the end (fewer copies)
        out[LAT] = lat if m.lat is None else _numbers(table, m.lat, units.ANGLE, comma=comma)
        out[LON] = lon if m.lon is None else _numbers(table, m.lon, units.ANGLE, comma=comma)
        try:
            times = self.times.parse(self._values(table))
        except ValueError as exc:
            raise InputError(str(exc)) from exc
        out[TIME_UTC] = times
        elapsed = None
        if m.elapsed is not None:
            elapsed = _numbers(table, m.elapsed, units.DURATION, comma=False)
            self._see_elapsed(times, elapsed)
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
        return pd.DataFrame(columns, index=table.index), elapsed

    def _see_elapsed(self, times: pd.Series, elapsed: np.ndarray) -> None:
        """Note whether the times with an elapsed time are to the second, and the first."""
        usable = np.flatnonzero(times.notna().to_numpy() & ~np.isnan(elapsed))
        ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
        self._whole_seconds = self._whole_seconds and bool(np.all(ns[usable] % 1_000_000_000 == 0))
        if self._anchor is None and len(usable):
            self._anchor = (times.iloc[usable[0]], float(elapsed[usable[0]]))

    @property
    def refines(self) -> bool:
        """Whether the elapsed times set the times (after the last :meth:`frame`)."""
        return self._anchor is not None and self._whole_seconds

    def refine(self, frame: pd.DataFrame, elapsed: np.ndarray | None) -> None:
        """Set a frame's times from its elapsed times where :attr:`refines`, in place.

        An absolute time to the second is anchored once, then follows the elapsed clock.
        """
        if elapsed is None or self._anchor is None or not self.refines:
            return
        start, first = self._anchor
        offset = np.round((elapsed - first) * 1e9)
        stamps = pd.to_timedelta(offset, unit="ns") + start
        frame[TIME_UTC] = pd.Series(stamps, index=frame.index).astype(TIME_DTYPE).array

    def give(
        self,
        made: Iterable[tuple[pd.DataFrame, np.ndarray | None]],
        blocks: RowBlocks,
        spill: Spill,
    ) -> pd.DataFrame:
        """Give the frames :meth:`frame` made, in file order, to ``blocks``.

        Where an elapsed clock may set the times, the frames wait in ``spill`` until
        the last is made, then are :meth:`refine` d and given. Returns a frame of the
        same columns without rows.
        """
        refine = self.m.elapsed is not None
        empty, count = None, 0
        for frame, elapsed in made:
            if empty is None:
                empty = frame.iloc[:0]
            if refine:  # the times are set once the last block is made
                spill.put("frame", count, (frame, elapsed))
            else:
                blocks.add(frame)
            count += 1
        for number in range(count if refine else 0):  # a loop over blocks
            frame, elapsed = spill.get("frame", number)
            spill.drop("frame", number)
            self.refine(frame, elapsed)
            blocks.add(frame)
        assert empty is not None, "no block made"
        return empty

    def finish(self) -> str:
        """Return the time basis (see :class:`~geoexpose.tracks.normalize.RawTrack`)."""
        try:
            return self.times.finish()
        except ValueError as exc:
            raise InputError(str(exc)) from exc


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
    frames = TableFrames(m, time_zone=time_zone, comma=comma)
    frames.decide(table, last=True)
    frames.see(table)
    frame, elapsed = frames.frame(table, lat=lat, lon=lon)
    frames.refine(frame, elapsed)
    return frame, frames.finish()
