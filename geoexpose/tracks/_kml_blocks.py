"""Read the timed tracks of one huge KML or KMZ file in blocks of rows, in bounded memory.

The reader of one huge file (:mod:`geoexpose.tracks.pieces`) gives
:func:`read_kml_blocks` a :class:`~geoexpose.tracks._row_blocks.RowBlocks`. Two passes
then give what the whole reading (:mod:`geoexpose.tracks._kml`) makes, block by block:

1. the document is parsed with its tracks streamed
   (:mod:`geoexpose.tracks._kml_stream`): the ``<when>`` texts and the
   ``<gx:coord>`` numbers go to a :class:`~geoexpose.tracks._spill.Spill` in blocks of
   about ``blocks.rows``, each block of times seen by a
   :class:`~geoexpose.tracks._values.TimeBlocks` (what only the whole column decides);
   per track, only its counts and ``altitudeMode`` stay;
2. the blocks are read back in file order, the times parsed, and the rows of the
   tracks kept (those with times, numbered as segments from 0) go to ``blocks.add``
   as frames of about ``blocks.rows`` rows, their index going on from block to block.

What memory holds is a chunk of the document and a block or two. The notes, the
tracks left out and the time basis are those of the whole reading. A document whose
tracks have no times (an untimed route, read whole anyway), one with DJI WPML
waypoints, and one whose tracks the stream cannot give in the whole reading's order
(:class:`~geoexpose.tracks._kml_stream.NotInOrder`) are read whole instead.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geoexpose.schema import TIME_DTYPE
from geoexpose.tracks._kml_parse import Found, coord_numbers, read_document
from geoexpose.tracks._kml_rows import (
    HeightFacts,
    height_notes,
    left_out_note,
    track_rows,
    when_error,
)
from geoexpose.tracks._kml_stream import NotInOrder, TrackStream
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._values import TimeBlocks
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_kml_blocks"]


class _Spilled(TrackStream):
    """Pass 1: the tracks' texts to a spill in blocks, the times seen (see module notes)."""

    def __init__(self, spill: Spill, rows: int, times: TimeBlocks) -> None:
        super().__init__()
        self.spill, self.rows, self.times = spill, rows, times
        self.tracks: list[tuple[int, int, str]] = []  # <when> and <coord> counts, mode
        self.blocks = {"when": 0, "coord": 0}
        self.error: Exception | None = None  # of the times seen: raised after the parse

    def track(self, number: int, whens: int, coords: int, mode: str) -> None:
        del number  # the tracks come in order
        self.tracks.append((whens, coords, mode))

    def drained(self) -> None:
        if len(self.whens) >= self.rows:
            self._put_whens()
        if len(self.coords) >= self.rows:
            self._put_coords()

    def flush(self) -> None:
        """Spill what is left."""
        if self.whens:
            self._put_whens()
        if self.coords:
            self._put_coords()

    def _put_whens(self) -> None:
        values = pd.Series(self.whens, dtype=object)
        self.whens.clear()
        if self.error is None:
            try:
                self.times.see(values)
            except (ValueError, TypeError) as exc:
                self.error = exc
        self._put("when", values.to_numpy())

    def _put_coords(self) -> None:
        xyz = coord_numbers(self.coords)
        self.coords.clear()
        self._put("coord", xyz)

    def _put(self, kind: str, values: np.ndarray) -> None:
        self.spill.put(kind, self.blocks[kind], values)
        self.blocks[kind] += 1


class _Taken:
    """Values of one kind of spilled blocks, taken in order a few at a time."""

    def __init__(self, spill: Spill, kind: str) -> None:
        self.spill, self.kind = spill, kind
        self.number = 0  # the next block
        self.block: np.ndarray = np.empty(0)
        self.at = 0

    def take(self, count: int) -> list[np.ndarray]:
        """Return the next ``count`` values, in parts (a block read as they reach it)."""
        parts = []
        while count:
            if self.at == len(self.block):
                self.block = self.spill.get(self.kind, self.number)
                self.spill.drop(self.kind, self.number)
                self.number += 1
                self.at = 0
            part = self.block[self.at : self.at + count]
            self.at += len(part)
            count -= len(part)
            parts.append(part)
        return parts


class _Rows:
    """Pass 2: the rows of the tracks kept, made and given in blocks (see module notes)."""

    def __init__(self, blocks: RowBlocks, times: TimeBlocks, alt_ref: str | None) -> None:
        self.blocks, self.times, self.alt_ref = blocks, times, alt_ref
        self.start = 0  # the index of the next row
        self.facts: HeightFacts = (False, set())
        self.parts: list[tuple[list[np.ndarray], list[np.ndarray], int, str, int]] = []
        self.held = 0  # rows in parts

    def add(self, whens: list[np.ndarray], xyz: list[np.ndarray], segment: int, mode: str) -> None:
        """Add some rows of one track; give a block once ``blocks.rows`` are held."""
        count = sum(len(part) for part in whens)
        self.parts.append((whens, xyz, segment, mode, count))
        self.held += count
        if self.held >= self.blocks.rows:
            self.give()

    def give(self) -> None:
        """Give the rows held as one block."""
        if not self.parts:
            return
        whens = np.concatenate([p for part in self.parts for p in part[0]])
        xyz = np.concatenate([p for part in self.parts for p in part[1]])
        counts = [part[4] for part in self.parts]
        modes = np.repeat(np.array([part[3] for part in self.parts], dtype=object), counts)
        segments = np.repeat(np.array([part[2] for part in self.parts], dtype=np.int64), counts)
        self.parts, self.held = [], 0
        try:
            times = self.times.parse(pd.Series(whens, dtype=object))
        except (ValueError, TypeError) as exc:  # TypeError: normalize on odd zone text
            raise when_error(exc) from exc
        frame, (msl, unused) = track_rows(xyz, times, modes, segments, self.alt_ref, self.start)
        self.facts = (self.facts[0] or msl, self.facts[1] | unused)
        self.start += len(frame)
        self.blocks.add(frame)


def _give_rows(spill: Spill, tracks: list[tuple[int, int, str]], rows: _Rows, size: int) -> None:
    """Read the spilled blocks back in file order; give the rows of the tracks with times.

    ``size``: rows a block (each block but the last has as many).
    """
    whens, coords = _Taken(spill, "when"), _Taken(spill, "coord")
    segment = 0
    for n_whens, n_coords, mode in tracks:
        if not n_whens:  # no times: left out (its positions skipped)
            coords.take(n_coords)
            continue
        left = n_whens
        while left:  # a loop over the blocks the track reaches
            count = min(left, size - rows.held)
            rows.add(whens.take(count), coords.take(count), segment, mode)
            left -= count
        segment += 1
    rows.give()


def read_kml_blocks(
    path: Path, *, time_zone: str | None, alt_ref: str | None, blocks: RowBlocks
) -> tuple[RawTrack | None, Found | None, str]:
    """Give the rows of a KML's timed tracks to ``blocks`` (see module notes).

    Returns
    -------
    raw : RawTrack or None
        The file's track (its frame without rows: they went to ``blocks``), or None
        where the file is to be read whole.
    found : Found or None
        Where the file is to be read whole: what the parse found, where that is what
        the whole reading finds (no track streamed), else None (parse again).
    container : str
        ``"kml"`` or ``"kmz"``; empty where the parse stopped, the document's tracks
        in an order the stream cannot keep (then read whole).

    Raises
    ------
    InputError
        As the whole reading raises (malformed XML or zip, ``<when>`` and ``<coord>``
        counts that differ, ``<when>`` values that do not read).
    """
    times = TimeBlocks(column="when", time_zone=time_zone)
    with Spill() as spill:  # removed at the end, on error too
        stream = _Spilled(spill, max(int(blocks.rows), 1), times)
        try:
            found, container = read_document(path, stream, progress=blocks.progress)
        except NotInOrder:
            return None, None, ""
        stream.flush()
        kept = sum(1 for whens, _, _ in stream.tracks if whens)
        if found.waypoints or not kept:  # a mission, or no time: read whole
            return None, (None if stream.tracks else found), container
        if stream.error is not None:
            raise when_error(stream.error) from stream.error
        rows = _Rows(blocks, times, alt_ref)
        _give_rows(spill, stream.tracks, rows, stream.rows)
    try:
        basis = times.finish()
    except (ValueError, TypeError) as exc:
        raise when_error(exc) from exc
    notes = []
    left_out = len(stream.tracks) + len(found.coords) - kept
    if left_out:
        notes.append(left_out_note(left_out))
    notes += height_notes(alt_ref, rows.facts)
    empty, _ = track_rows(
        np.empty((0, 3)), pd.Series([], dtype=TIME_DTYPE), np.empty(0, dtype=object),
        np.empty(0, dtype=np.int64), alt_ref,
    )  # fmt: skip
    return RawTrack(empty, container, time_basis=basis, notes=notes), None, container
