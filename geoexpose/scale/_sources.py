"""Where the fixes of a streamed exposure come from, cut into batches of whole flights.

A batch is a small, picklable description (files to read, or a frame) whose
``load()`` gives its fixes; it is loaded where it is worked on (a thread of this
process or a Dask worker), so only the batches being worked on are in memory.
A batch of track files also gives a summary of each flight it read
(:func:`geoexpose.scale._copies.flight_spans`), by which copies of a flight in
files of different batches are found; :func:`reread_batches` reads such files
again together.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._files import file_labels
from geoexpose._frames import reader_files
from geoexpose.errors import InputError, UsageError
from geoexpose.scale._copies import flight_spans
from geoexpose.scale._parquet import is_geoparquet
from geoexpose.scale._parquet_fixes import FixFile, fix_files, read_fixes
from geoexpose.scale._pieces import Loaded, PiecedFile
from geoexpose.schema import ALT_AGL_M, CAPTURE_ID, FLIGHT_ID, SOURCE, TIME_UTC
from geoexpose.tracks import (
    GAP_FACTOR,
    MAX_GAP_S,
    PIECE_FIXES,
    drop_duplicate_flights,
    read_tracks,
    read_trigger_poses,
    sniff_format,
    track_files,
    track_format,
)

__all__ = [
    "BYTES_PER_FIX",
    "Loaded",
    "Pieces",
    "TrackFiles",
    "file_order",
    "plan_batches",
    "reread_batches",
]

#: Rough size of a fix in a track file, to cut track files into batches before reading.
BYTES_PER_FIX = 80
_READ = [FLIGHT_ID, TIME_UTC, ALT_AGL_M]


@dataclass(frozen=True)
class TrackFiles:
    """Track files and folders to stream, read as :func:`geoexpose.read_tracks` reads them.

    Parameters
    ----------
    paths
        Files and folders (walked for track files).
    time_zone, split_gap_s, strict, format
        As for :func:`geoexpose.read_tracks`; flight ids come out the same as one
        call of it over all the files.
    triggers
        Also read the photo triggers of the logs (:func:`geoexpose.read_trigger_poses`).
    duplicates
        As for :func:`geoexpose.read_tracks`: ``"drop"`` counts a flight that several
        of these files hold once, whichever batches the files fall in; ``"keep"``
        reads every file's fixes as they are.
    """

    paths: tuple[str, ...]
    time_zone: str | None = None
    split_gap_s: float = 60.0
    strict: bool = False
    format: str = "auto"
    triggers: bool = False
    duplicates: str = "drop"

    def __post_init__(self) -> None:
        if self.duplicates not in ("drop", "keep"):
            raise UsageError(f"duplicates={self.duplicates!r}: expected 'drop' or 'keep'")

    def files(self) -> list[Path]:
        """List the track files in the order :func:`geoexpose.read_tracks` reads them."""
        return track_files(list(self.paths))


@dataclass(frozen=True)
class _TrackBatch:
    source: TrackFiles
    files: tuple[str, ...]
    labels: tuple[str, ...]  # of these files among all the source's files
    group: int = 0  # which TrackFiles of the input
    number: int = 0  # which batch of the plan

    def load(self) -> Loaded:
        s = self.source
        fixes = read_tracks(
            list(self.files),
            format=s.format,
            time_zone=s.time_zone,
            split_gap_s=s.split_gap_s,
            strict=s.strict,
            duplicates="keep",
        )
        entries = fixes.attrs["geoexpose"]["files"]
        mine = file_labels([Path(f) for f in self.files])
        renamed = [
            (path, old, new)
            for path, old, new in zip(self.files, mine, self.labels, strict=True)
            if old != new  # another batch holds a file of the same name: use the full label
        ]
        for path, old, new in renamed:
            _relabel(fixes, entries, path, old, new)
        spans, kept = None, {}
        if s.duplicates == "drop":  # as read_tracks does, with the flights' summary first
            spans = flight_spans(fixes).assign(group=self.group, batch=self.number)
            fixes = drop_duplicate_flights(fixes)
            entries = fixes.attrs["geoexpose"]["files"]
            counts = fixes[SOURCE].value_counts(sort=False).items()  # a categorical: 0s too
            kept = {str(k): int(v) for k, v in counts if v}
        triggers = None
        if s.triggers:
            triggers = read_trigger_poses(
                list(self.files), fixes=fixes, time_zone=s.time_zone, split_gap_s=s.split_gap_s
            )
            for path, old, new in renamed:
                _relabel_triggers(triggers, path, old, new)
        fixes.attrs = {}  # the entries go with the batch (pandas copies attrs often)
        return Loaded(fixes, entries, triggers, spans, kept)


def _relabel(fixes, entries, path: str, old: str, new: str) -> None:
    """Give the flights of one file the label of the whole input."""
    rows = fixes[SOURCE].astype(str) == str(path)
    ids = fixes.loc[rows, FLIGHT_ID].astype(str)
    fixes.loc[rows, FLIGHT_ID] = new + ids.str[len(old) :]
    for entry in entries:
        if entry["path"] == str(path):
            entry["flights"] = [new + f[len(old) :] for f in entry["flights"]]


def _relabel_triggers(triggers, path: str, old: str, new: str) -> None:
    """Give the photo triggers of one file the label of the whole input (flights have it)."""
    if len(triggers):
        rows = (triggers["path"].astype(str) == str(path)) & triggers[CAPTURE_ID].notna()
        triggers.loc[rows, CAPTURE_ID] = (
            new + triggers.loc[rows, CAPTURE_ID].astype(str).str[len(old) :]
        )


@dataclass(frozen=True)
class _ParquetBatch:
    files: tuple[FixFile, ...]

    def load(self) -> Loaded:
        return Loaded(read_fixes(self.files, columns=_READ))


@dataclass(frozen=True)
class _FrameBatch:
    frame: pd.DataFrame

    def load(self) -> Loaded:
        return Loaded(self.frame)


def _group(sizes: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Consecutive ranges of items whose sizes add up to about ``limit`` (at least one)."""
    ranges, begin, total = [], 0, 0
    for i, size in enumerate(sizes.tolist()):  # a loop over files or flights
        if total and total + size > limit:
            ranges.append((begin, i))
            begin, total = i, 0
        total += size
    if len(sizes):
        ranges.append((begin, len(sizes)))
    return ranges


def _frame_batches(fixes: pd.DataFrame, batch_fixes: int) -> Iterator[_FrameBatch]:
    codes, _ = pd.factorize(fixes[FLIGHT_ID], sort=True)
    if (codes < 0).any():
        raise InputError(f"fixes: {FLIGHT_ID} is missing in row {int(np.argmax(codes < 0))}")
    sizes = np.bincount(codes)
    batch_of_flight = np.zeros(len(sizes), dtype="int64")
    for k, (a, b) in enumerate(_group(sizes, batch_fixes)):
        batch_of_flight[a:b] = k
    batch = batch_of_flight[codes]
    order = np.argsort(batch, kind="stable")
    bounds = np.searchsorted(batch[order], np.arange(batch.max(initial=-1) + 2))
    for a, b in itertools.pairwise(bounds):
        part = fixes.iloc[np.sort(order[a:b])]
        part.attrs = {}  # the reader's entries are taken once (pandas copies attrs often)
        yield _FrameBatch(part)


@dataclass(frozen=True)
class Pieces:
    """How track files larger than a batch are read in pieces (see :mod:`._pieces`).

    ``piece_fixes``: fixes per piece, and the size (estimated from the file's bytes)
    above which a file is read in pieces (None: :data:`geoexpose.tracks.PIECE_FIXES`).
    The rest is what the pieces need: the recording-gap rule, seconds of neighbouring
    fixes, a progress bar.
    """

    piece_fixes: int | None = None
    max_gap_s: float = MAX_GAP_S
    gap_factor: float = GAP_FACTOR
    context_s: float = 0.0
    progress: bool = False


def plan_batches(
    source: Any, batch_fixes: int, pieces: Pieces | None = None
) -> tuple[Iterator[Any], dict[str, Any]]:
    """Cut a source of fixes into batches of whole flights of about ``batch_fixes`` fixes.

    ``source`` is a DataFrame or GeoDataFrame of fixes; :class:`TrackFiles`; a path or
    a list of paths (GeoParquet files and folders, else track files and folders); or
    an iterable of DataFrames (each one batch). Returns the batches (made lazily) and
    what is known of the input up front (``"files"``: reader entries of a frame;
    ``"tracks"``: each :class:`TrackFiles` with its files and their labels). A track
    file larger than a piece (``pieces``) is read once and given as batches of pieces
    of it, flights cut where a piece is full.
    """
    if isinstance(source, pd.DataFrame):
        files = reader_files(source)
        return _frame_batches(source, batch_fixes), {"files": files}
    if isinstance(source, str | os.PathLike | TrackFiles):
        source = [source]
    paths = (str, os.PathLike, TrackFiles)
    if isinstance(source, list | tuple) and all(isinstance(p, paths) for p in source):
        parquet = [p for p in source if not isinstance(p, TrackFiles) and is_geoparquet(p)]
        tracks = [p for p in source if isinstance(p, TrackFiles)]
        others = [str(p) for p in source if not isinstance(p, TrackFiles) and p not in parquet]
        if others:
            tracks.append(TrackFiles(tuple(others)))
        batches: list[Any] = []
        if parquet:
            found = fix_files(parquet)
            rows = np.array([f.rows for f in found], dtype="int64")
            batches += [_ParquetBatch(tuple(found[a:b])) for a, b in _group(rows, batch_fixes)]
        listed = [_listed(t) for t in tracks]
        pieces = pieces or Pieces()
        size = PIECE_FIXES if pieces.piece_fixes is None else pieces.piece_fixes
        pieces = replace(pieces, piece_fixes=max(size, 2))
        for group, (track_files, names, labels) in enumerate(listed):
            batches += _track_batches(
                track_files, names, labels, batch_fixes, group, len(batches), pieces
            )
        expanded = (b.batches() if isinstance(b, PiecedFile) else (b,) for b in batches)
        return itertools.chain.from_iterable(expanded), {"tracks": listed}
    if isinstance(source, Iterable):
        return (_FrameBatch(frame) for frame in source), {}
    raise InputError(
        f"fixes: expected a DataFrame, paths, TrackFiles or frames, got {type(source).__name__}"
    )


def _listed(source: TrackFiles) -> tuple[TrackFiles, tuple[str, ...], tuple[str, ...]]:
    files = source.files()
    return source, tuple(str(p) for p in files), tuple(file_labels(files))


def _sizes(files: Iterable[str]) -> np.ndarray:
    """Return the fixes files hold, roughly, from their sizes (for cutting into batches)."""
    sizes = [max(os.stat(f).st_size, 1) if os.path.isfile(f) else 1 for f in files]
    return np.array(sizes, dtype="int64") // BYTES_PER_FIX


def _in_pieces(source: TrackFiles, path: str) -> bool:
    """Whether a track file may be read in pieces: not an autopilot log with camera records."""
    try:
        name = sniff_format(path) if source.format == "auto" else source.format
        return track_format(name).camera_events is None
    except (InputError, UsageError, OSError):
        return False  # read whole, where the reader says what is wrong


def _track_batches(
    source: TrackFiles,
    files: tuple[str, ...],
    labels: tuple[str, ...],
    batch_fixes: int,
    group: int,
    first: int,
    pieces: Pieces,
) -> list[_TrackBatch | PiecedFile]:
    """Batches of whole files, each file larger than a piece a :class:`PiecedFile` alone."""
    sizes = _sizes(files)
    limit = int(pieces.piece_fixes or PIECE_FIXES)
    big = [i for i in np.flatnonzero(sizes > limit).tolist() if _in_pieces(source, files[i])]
    out: list[_TrackBatch | PiecedFile] = []
    begin = 0
    for end in [*big, len(files)]:  # the runs of files between the large ones
        for a, b in _group(sizes[begin:end], batch_fixes):
            rows = slice(begin + a, begin + b)
            out.append(_TrackBatch(source, files[rows], labels[rows], group, first + len(out)))
        if end < len(files):
            number = first + len(out)
            piece = (limit, pieces.max_gap_s, pieces.gap_factor, pieces.context_s, pieces.progress)
            out.append(PiecedFile(files[end], labels[end], source, group, number, *piece))
        begin = end + 1
    return out


def file_order(known: dict[str, Any]) -> dict[str, int]:
    """Return the place of each track file (by path) in the order of one reading."""
    paths = [p for _, files, _ in known.get("tracks", []) for p in files]
    return {p: i for i, p in reversed(list(enumerate(paths)))}  # the first place of a path


def reread_batches(
    components: list[tuple[int, list[str]]], known: dict[str, Any], batch_fixes: int
) -> list[_TrackBatch]:
    """Cut files to read again into batches, each component of files whole in one batch.

    ``components`` are (``group``, paths) pairs: paths of the :class:`TrackFiles`
    number ``group`` of ``known["tracks"]`` (see :func:`plan_batches`). Batches hold
    about ``batch_fixes`` fixes; a component larger than that is one batch.
    """
    groups = {group for group, _ in components}
    index = {g: {p: i for i, p in enumerate(known["tracks"][g][1])} for g in groups}
    by_group: dict[int, list[list[int]]] = {}
    for group, paths in components:  # one step per component of copies
        by_group.setdefault(group, []).append(sorted(index[group][p] for p in paths))
    out: list[_TrackBatch] = []
    for group, comps in sorted(by_group.items()):
        source, files, labels = known["tracks"][group]
        comps.sort()
        sizes = np.array([_sizes(files[i] for i in c).sum() for c in comps], dtype="int64")
        for a, b in _group(sizes, batch_fixes):
            rows = sorted(i for c in comps[a:b] for i in c)
            batch_files = tuple(files[i] for i in rows)
            batch_labels = tuple(labels[i] for i in rows)
            out.append(_TrackBatch(source, batch_files, batch_labels, group, -1))
    return out
