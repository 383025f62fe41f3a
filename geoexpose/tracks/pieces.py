"""Read one large track file as pieces of a bounded number of fixes, for the streamed engine.

:func:`read_track_pieces` reads a file once with its format's reader, cleans the
fixes and numbers the flights on the whole file (so every decision that needs a whole
track -- rows ahead in time, the flight splits, heights above take-off, the
recording-gap limit of each flight -- is the one :func:`geoexpose.read_tracks`
takes), then gives the fixes as pieces of about ``piece_fixes`` fixes: each piece is
what :func:`geoexpose.read_tracks` gives (``duplicates="keep"``) for those fixes. What
stays in memory for the whole file is the reader's plain columns (about 60 bytes a
fix for GPX); the table of points, and all that the exposure builds from it, is made
for one piece at a time.

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
from tqdm import tqdm

from geoexpose.schema import FLIGHT_ID, LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks._fix_table import FixTable
from geoexpose.tracks._reading import check_options, clean_read, read_files
from geoexpose.tracks.fix_arrays import GAP_FACTOR, MAX_GAP_S, gap_limits
from geoexpose.tracks.formats import ReadOptions
from geoexpose.tracks.normalize import FLIGHT_NO, MAX_SPEED_M_S

__all__ = ["PIECE_FIXES", "TrackPiece", "read_track_pieces"]

logger = logging.getLogger(__name__)

#: Default fixes per piece: the table of points and the exposure's arrays of this many
#: fixes take a few hundred megabytes.
PIECE_FIXES = 250_000


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
        Show a bar of the fixes given out on a terminal.

    Yields
    ------
    TrackPiece
        At least one piece (without rows where the file has no fix: a route, or a file
        that cannot be read, whose entry says why).
    """
    check_options(format, columns, time_zone, alt_ref, split_gap_s)
    piece_fixes = max(int(piece_fixes), 2)
    options = ReadOptions(format, columns, time_zone, alt_ref)
    found = read_files([path], options, strict=strict, progress=False, what="tracks")
    file, own_label, entry, raw = next(iter(found))
    label = label or own_label
    kept = clean_read(
        file, entry, raw, split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s, in_place=True
    )
    meta = dict(raw.meta) if raw is not None else {}
    del raw, found  # the reader's frame goes before the pieces are made
    if kept is None or not len(kept):
        empty = kept.iloc[:0] if kept is not None else pd.DataFrame()
        if kept is not None:
            entry["flights"] = []
        yield TrackPiece(empty, label, str(file), meta, 0, True, entry)
        return
    flight_no = kept[FLIGHT_NO].to_numpy("int64")
    numbers = pd.unique(flight_no)
    entry["flights"] = [f"{label}#{n}" for n in numbers.tolist()]
    t_ns = kept[TIME_UTC].astype(TIME_DTYPE).array.asi8
    limits = gap_limits(flight_no - 1, t_ns, max_gap_s=max_gap_s, gap_factor=gap_factor)
    n = len(kept)
    n_pieces = math.ceil(n / piece_fixes)
    logger.info("%s: %d fixes in %d pieces", file, n, n_pieces)
    bar = tqdm(total=n, desc=file.name, unit="fix", disable=None if progress else True)
    with bar:
        for k in range(n_pieces):
            a, b = k * piece_fixes, min(n, (k + 1) * piece_fixes)
            continued: tuple[str, ...] = ()
            if a and flight_no[a - 1] == flight_no[a]:
                a -= 1  # the last fix of the piece before: the segment between them
                continued = (f"{label}#{flight_no[a]}",)
            mine = np.unique(flight_no[a:b])
            yield TrackPiece(
                rows=kept.iloc[a:b].copy(),
                label=label,
                path=str(file),
                meta=meta,
                number=k,
                last=k == n_pieces - 1,
                entry=entry if k == 0 else None,
                continued=continued,
                gap_limits={f"{label}#{m}": float(limits[m - 1]) for m in mine.tolist()},
                context=_context(kept, t_ns, flight_no, a, b, context_s, label),
            )
            bar.update(b - a - len(continued))


def _context(
    kept: pd.DataFrame,
    t_ns: np.ndarray,
    flight_no: np.ndarray,
    a: int,
    b: int,
    context_s: float,
    label: str,
) -> pd.DataFrame | None:
    """Return the fixes of the same flights within ``context_s`` before ``a`` and after ``b``.

    Rows are grouped by flight (``flight_no`` rises) and in time order within one.
    """
    if context_s <= 0:
        return None
    reach = int(context_s * 1e9)
    start = int(np.searchsorted(flight_no, flight_no[a], side="left"))  # of a's flight
    end = int(np.searchsorted(flight_no, flight_no[b - 1], side="right"))  # of b - 1's
    lo = start + int(np.searchsorted(t_ns[start:a], t_ns[a] - reach, side="left"))
    hi = b + int(np.searchsorted(t_ns[b:end], t_ns[b - 1] + reach, side="right"))
    rows = np.r_[lo:a, b:hi]
    return pd.DataFrame(
        {
            FLIGHT_ID: [f"{label}#{m}" for m in flight_no[rows].tolist()],
            TIME_UTC: pd.to_datetime(t_ns[rows], utc=True).astype(TIME_DTYPE),
            LON: kept[LON].to_numpy("float64")[rows],
            LAT: kept[LAT].to_numpy("float64")[rows],
        }
    )
