"""Read one large track file as pieces of a bounded number of fixes, for the streamed engine.

:func:`read_track_pieces` reads a file once with its format's reader, cleans the
fixes and numbers the flights on the whole file (so every decision that needs a whole
track -- rows ahead in time, the flight splits, heights above take-off, the
recording-gap limit of each flight -- is the one :func:`geoexpose.read_tracks`
takes), then gives the fixes as pieces of about ``piece_fixes`` fixes: each piece is
what :func:`geoexpose.read_tracks` gives (``duplicates="keep"``) for those fixes.

The file's rows are kept on disk, in a temporary folder removed at the end (on error
too), in blocks of about :data:`BLOCK_ROWS` (GPX, CSV, KML and Point layers give them
as they read the file, through a :class:`~geoexpose.tracks._row_blocks.RowBlocks`;
another reader's frame is cut into blocks and let go), and the cleaning decides the
same rows with passes over the blocks that carry a little state from one to the next
(:mod:`geoexpose.tracks._clean_blocks`); each piece is read back from the blocks kept
(:mod:`geoexpose.tracks._kept_blocks`). What memory holds is a block and a piece,
whatever the file's length. A file whose tracks do not follow each other (a CSV
flight id going back) is cleaned whole, in memory, and its notes say so; so is a
route.

A flight may run over several pieces. Where it does, a piece begins with the last fix
of the piece before (:attr:`TrackPiece.continued` names such flights), so the segment
between the two pieces belongs to the later one; whoever adds up the pieces counts
that fix once. :attr:`TrackPiece.gap_limits` gives each flight's recording-gap limit
worked out on the whole flight (:func:`geoexpose.tracks.fix_arrays.gap_limits`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._progress import Bar
from geoexpose.schema import FLIGHT_ID, LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks._clean_blocks import BlockCleaner
from geoexpose.tracks._fix_table import FixTable
from geoexpose.tracks._kept_blocks import KeptRows
from geoexpose.tracks._reading import (
    check_options,
    clean_read,
    no_fix_reason,
    read_files,
    warn,
)
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._values import TIME_BASIS_ASSUMED_UTC
from geoexpose.tracks.fix_arrays import GAP_FACTOR, MAX_GAP_S, gap_limits
from geoexpose.tracks.formats import ReadOptions
from geoexpose.tracks.normalize import (
    FLIGHT_NO,
    MAX_ABS_HEIGHT_M,
    MAX_SPEED_M_S,
    RawTrack,
    nanoseconds,
)

__all__ = ["PIECE_FIXES", "TrackPiece", "read_track_pieces"]

logger = logging.getLogger(__name__)

#: Default fixes per piece: the table of points and the exposure's arrays of this many
#: fixes take a few hundred megabytes.
PIECE_FIXES = 250_000
#: Rows of the reader a block holds (a reader that gives all its rows at once is cut
#: into blocks of this many).
BLOCK_ROWS = 1 << 17
_OUT_OF_ORDER = (
    "tracks not one after the other in the file (a track number going back): "
    "read and cleaned whole, in memory"
)


@dataclass
class TrackPiece:
    """Some fixes of one file, with what is needed to add the pieces up exactly.

    Attributes
    ----------
    rows
        The cleaned fixes of the piece, the reader's plain columns (``lon``, ``lat``,
        ``flight_no``, ...); :meth:`fixes` makes the table of them.
    label, path, meta
        The file's label (flight ids are ``"<label>#<n>"``), path and what it says of
        the aircraft.
    number
        The piece's place in the file, from 0.
    last
        Whether this is the file's last piece.
    entry
        The file entry (as :func:`geoexpose.read_tracks` reports it) on the first
        piece, None on the others.
    continued
        Flights whose first fix here is the last fix of the piece before.
    gap_limits
        The recording-gap limit (seconds) of each flight of the piece, by flight id.
    context
        Fixes of the piece's flights just before and after it (``flight_id``,
        ``time_utc``, ``lon``, ``lat``; ``context_s`` seconds either side), for rules
        that look at the neighbours in time.
    """

    rows: pd.DataFrame
    label: str
    path: str
    meta: dict[str, str]
    number: int
    last: bool
    entry: dict[str, Any] | None
    continued: tuple[str, ...] = ()
    gap_limits: dict[str, float] = field(default_factory=dict)
    context: pd.DataFrame | None = None

    @property
    def n_fixes(self) -> int:
        """Fixes of this piece not counted in the piece before."""
        return len(self.rows) - len(self.continued)

    def fixes(self) -> gpd.GeoDataFrame:
        """Return the piece's fixes as :func:`geoexpose.read_tracks` gives them.

        ``attrs["geoexpose"]["files"]`` holds the file entry on the first piece only.
        """
        table = FixTable()
        if len(self.rows):  # a route, a file not read: no fixes
            table.add(self.rows, self.label, Path(self.path), self.meta)
        out = table.frame()
        out.attrs["geoexpose"] = {"files": [self.entry] if self.entry is not None else []}
        return out


def read_track_pieces(
    path: str | os.PathLike[str],
    *,
    label: str | None = None,
    piece_fixes: int = PIECE_FIXES,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    split_gap_s: float = 60.0,
    max_speed_m_s: float = MAX_SPEED_M_S,
    strict: bool = False,
    max_gap_s: float = MAX_GAP_S,
    gap_factor: float = GAP_FACTOR,
    context_s: float = 0.0,
    progress: bool = False,
) -> Iterator[TrackPiece]:
    """Read one track file as pieces of about ``piece_fixes`` fixes (see module notes).

    Parameters
    ----------
    path
        The file.
    label
        The file's label in flight ids (default: its name, as :func:`geoexpose.read_tracks`
        labels a file read alone).
    piece_fixes
        Fixes per piece (at least 2). A flight running on is cut wherever a piece is full.
    format, columns, time_zone, alt_ref, split_gap_s, max_speed_m_s, strict
        As for :func:`geoexpose.read_tracks`.
    max_gap_s, gap_factor
        The recording-gap rule of the exposure (:func:`geoexpose.tracks.fix_arrays`),
        for :attr:`TrackPiece.gap_limits`.
    context_s
        Seconds of neighbouring fixes to give each piece (:attr:`TrackPiece.context`).
    progress
        Show, on a terminal, a bar of the bytes parsed of a GPX, CSV or KML over
        64 MiB, then a bar of the fixes given out.

    Yields
    ------
    TrackPiece
        At least one piece (without rows where the file has no fix: a route, or a file
        that cannot be read, whose entry says why).
    """
    check_options(format, columns, time_zone, alt_ref, split_gap_s)
    piece_fixes = max(int(piece_fixes), 2)
    rules = {
        "piece_fixes": piece_fixes, "context_s": context_s, "progress": progress,
        "split_gap_s": split_gap_s, "max_speed_m_s": max_speed_m_s,
        "max_gap_s": max_gap_s, "gap_factor": gap_factor,
    }  # fmt: skip
    with Spill() as spill:  # removed at the end, on error too
        cleaner = BlockCleaner(
            spill,
            split_gap_s=split_gap_s,
            max_speed_m_s=max_speed_m_s,
            max_gap_s=max_gap_s,
            gap_factor=gap_factor,
        )
        blocks = RowBlocks(cleaner.add, cleaner.frames, progress, BLOCK_ROWS)  # the reader's rows
        options = ReadOptions(format, columns, time_zone, alt_ref, blocks=blocks)
        found = read_files([path], options, strict=strict, progress=False, what="tracks")
        file, own_label, entry, raw = next(iter(found))
        del found  # the reading loop lets go of the reader's frame it names
        label = label or own_label
        meta = dict(raw.meta) if raw is not None else {}
        if raw is not None and raw.route is None:
            _blocks_of(raw, cleaner)
        source: KeptRows | _FrameRows | None
        if raw is None or raw.route is not None or not cleaner.in_order:
            if raw is not None and not cleaner.in_order:
                entry["notes"].append(_OUT_OF_ORDER)
                logger.info("%s: %s", file, _OUT_OF_ORDER)
                if not len(raw.frame):  # given in blocks
                    raw.frame = pd.concat(cleaner.frames(), ignore_index=True)
            source, limits = _clean_whole(file, entry, raw, rules)
        else:
            source, limits = _clean_spilled(file, entry, raw, cleaner)
        del raw  # the reader's frame goes before the pieces are made
        if source is None or not len(source):
            empty = source.plain(0, 0) if source is not None else pd.DataFrame()
            if source is not None:
                entry["flights"] = []
            yield TrackPiece(empty, label, str(file), meta, 0, True, entry)
            return
        entry["flights"] = [f"{label}#{m}" for m in range(1, len(limits) + 1)]
        yield from _give(source, limits, file, label, meta, entry, rules)


class _FrameRows:
    """The kept rows of a file cleaned whole, read as :class:`KeptRows` reads its blocks."""

    def __init__(self, kept: pd.DataFrame) -> None:
        self.kept = kept

    def __len__(self) -> int:
        return len(self.kept)

    def plain(self, a: int, b: int) -> pd.DataFrame:
        """Rows ``a:b``."""
        return self.kept.iloc[a:b]

    def rows(self, a: int, b: int) -> pd.DataFrame:
        """Rows ``a:b``, a copy of their own."""
        return self.kept.iloc[a:b].copy()


def _give(
    source: KeptRows | _FrameRows,
    limits: np.ndarray,
    file: Path,
    label: str,
    meta: dict[str, str],
    entry: dict[str, Any],
    rules: dict[str, Any],
) -> Iterator[TrackPiece]:
    """Give the kept rows as pieces (see :func:`read_track_pieces`)."""
    n, piece_fixes = len(source), rules["piece_fixes"]
    n_pieces = math.ceil(n / piece_fixes)
    logger.info("%s: %d fixes in %d pieces", file, n, n_pieces)
    # a bar of the fixes given out (on a terminal only); none at all without progress
    bar = Bar(total=n, desc=file.name, unit="fix", disable=None) if rules["progress"] else None
    try:
        for k in range(n_pieces):
            a, b = k * piece_fixes, min(n, (k + 1) * piece_fixes)
            continued: tuple[str, ...] = ()
            if a:
                pair = source.plain(a - 1, a + 1)[FLIGHT_NO].to_numpy("int64")
                if pair[0] == pair[1]:
                    a -= 1  # the last fix of the piece before: the segment between them
                    continued = (f"{label}#{pair[0]}",)
            rows = source.rows(a, b)
            mine = np.unique(rows[FLIGHT_NO].to_numpy("int64"))
            yield TrackPiece(
                rows=rows,
                label=label,
                path=str(file),
                meta=meta,
                number=k,
                last=k == n_pieces - 1,
                entry=entry if k == 0 else None,
                continued=continued,
                gap_limits={f"{label}#{m}": float(limits[m - 1]) for m in mine.tolist()},
                context=_context(source, a, b, rules["context_s"], label),
            )
            if bar is not None:
                bar.update(b - a - len(continued))
    finally:
        if bar is not None:
            bar.close()


def _blocks_of(raw: RawTrack, cleaner: BlockCleaner) -> None:
    """Give the cleaner a reader's rows in blocks, letting the reader's frame go.

    A GPX gave its rows as it read them (its frame has none).
    """
    frame = raw.frame
    if not len(frame):
        return
    for a in range(0, len(frame), BLOCK_ROWS):  # a loop over blocks
        if not cleaner.add(frame.iloc[a : a + BLOCK_ROWS]):
            return  # tracks out of file order: the file is cleaned whole
    raw.frame = frame.iloc[:0]


def _clean_spilled(
    file: Path, entry: dict[str, Any], raw: RawTrack, cleaner: BlockCleaner
) -> tuple[KeptRows, np.ndarray]:
    """Clean a file from its blocks as :func:`clean_read` cleans it whole, filling its entry.

    Returns the kept rows and the recording-gap limit of each flight (by number - 1).
    """
    for problem in raw.warnings:
        warn(file, problem, depth=1)
    if raw.time_basis == TIME_BASIS_ASSUMED_UTC:
        warn(file, "times have no time zone; taken as UTC (pass time_zone=)", depth=1)
    cleaner.finish(takeoff=raw.takeoff_from is not None)
    notes = entry["notes"]
    if cleaner.blanked:
        notes.append(
            f"{cleaner.blanked} row(s) with a height not finite or beyond "
            f"{MAX_ABS_HEIGHT_M:,.0f} m: height emptied, position kept"
        )
    ground = {}
    if raw.takeoff_from is not None:
        ground = cleaner.stats.ground(raw.takeoff_from, notes)
    kept = KeptRows(cleaner.spill, cleaner.kept_sizes, ground)
    limits = cleaner.stats.limits(kept.blocks)
    entry["dropped"].update({**raw.dropped, **cleaner.dropped})
    entry.update(
        status="read",
        rows_read=cleaner.rows_read + sum(raw.dropped.values()),
        rows_kept=len(kept),
        time_basis=raw.time_basis,
    )
    if not len(kept):
        entry["reason"] = no_fix_reason(entry)
        warn(file, entry["reason"], depth=1)
    return kept, limits


def _context(
    kept: KeptRows | _FrameRows, a: int, b: int, context_s: float, label: str
) -> pd.DataFrame | None:
    """Return the fixes of the same flights within ``context_s`` before ``a`` and after ``b``.

    The rows are grouped by flight and in time order within one: each side is read in
    a window that doubles until it reaches past the fixes sought.
    """
    if context_s <= 0:
        return None
    reach = int(context_s * 1e9)
    ends = kept.plain(a, a + 1), kept.plain(b - 1, b)
    parts = []
    for edge, side in zip(ends, ("before", "after"), strict=True):
        flight = int(edge[FLIGHT_NO].iloc[0])
        t = int(nanoseconds(edge[TIME_UTC])[0])
        width = 1024
        while True:  # a loop over windows, each twice the one before
            lo, hi = (max(0, a - width), a) if side == "before" else (b, min(len(kept), b + width))
            near = kept.plain(lo, hi)
            ns, f = nanoseconds(near[TIME_UTC]), near[FLIGHT_NO].to_numpy("int64")
            keep = (f == flight) & ((ns >= t - reach) if side == "before" else (ns <= t + reach))
            whole = (lo == 0) if side == "before" else (hi == len(kept))
            if whole or not len(keep) or not (keep[0] if side == "before" else keep[-1]):
                break
            width *= 2
        parts.append(near[keep])
    rows = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(
        {
            FLIGHT_ID: [f"{label}#{m}" for m in rows[FLIGHT_NO].tolist()],
            TIME_UTC: pd.to_datetime(nanoseconds(rows[TIME_UTC]), utc=True).astype(TIME_DTYPE),
            LON: rows[LON].to_numpy("float64"),
            LAT: rows[LAT].to_numpy("float64"),
        }
    )


def _clean_whole(
    file: Path, entry: dict[str, Any], raw: RawTrack | None, rules: dict[str, Any]
) -> tuple[_FrameRows | None, np.ndarray]:
    """Clean a file whole (a route, unread, tracks out of file order), as ``read_tracks`` does.

    Returns the kept rows (None: no track) and the recording-gap limit of each flight.
    """
    kept = clean_read(
        file,
        entry,
        raw,
        split_gap_s=rules["split_gap_s"],
        max_speed_m_s=rules["max_speed_m_s"],
        in_place=True,
    )
    if kept is None or not len(kept):
        return (None if kept is None else _FrameRows(kept)), np.zeros(0)
    flight_no = kept[FLIGHT_NO].to_numpy("int64")
    t_ns = nanoseconds(kept[TIME_UTC])
    limits = gap_limits(
        flight_no - 1, t_ns, max_gap_s=rules["max_gap_s"], gap_factor=rules["gap_factor"]
    )
    return _FrameRows(kept), limits
