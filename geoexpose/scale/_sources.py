"""Where the fixes of a streamed exposure come from, cut into batches of whole flights.

A batch is a small, picklable description (files to read, or a frame) whose
``load()`` gives its fixes; it is loaded where it is worked on (a thread of this
process or a Dask worker), so only the batches being worked on are in memory.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._files import expand_paths, file_labels
from geoexpose._frames import reader_files
from geoexpose.errors import InputError
from geoexpose.scale._parquet import is_geoparquet
from geoexpose.scale._parquet_fixes import FixFile, fix_files, read_fixes
from geoexpose.schema import ALT_AGL_M, CAPTURE_ID, FLIGHT_ID, SOURCE, TIME_UTC
from geoexpose.tracks import TRACK_SUFFIXES, read_tracks, read_trigger_poses

__all__ = [
    "BYTES_PER_FIX",
    "Loaded",
    "TrackFiles",
    "plan_batches",
]

#: Rough size of a fix in a track file, to cut track files into batches before reading.
BYTES_PER_FIX = 80
_READ = [FLIGHT_ID, TIME_UTC, ALT_AGL_M]


@dataclass
class Loaded:
    """The fixes of a batch, the file entries of the reader, and photo triggers."""

    fixes: pd.DataFrame
    files: list[dict[str, Any]] = field(default_factory=list)
    triggers: pd.DataFrame | None = None


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
    """

    paths: tuple[str, ...]
    time_zone: str | None = None
    split_gap_s: float = 60.0
    strict: bool = False
    format: str = "auto"
    triggers: bool = False

    def files(self) -> list[Path]:
        """List the track files in the order :func:`geoexpose.read_tracks` reads them."""
        return expand_paths(list(self.paths), TRACK_SUFFIXES)


@dataclass(frozen=True)
class _TrackBatch:
    source: TrackFiles
    files: tuple[str, ...]
    labels: tuple[str, ...]  # of these files among all the source's files

    def load(self) -> Loaded:
        s = self.source
        fixes = read_tracks(
            list(self.files),
            format=s.format,
            time_zone=s.time_zone,
            split_gap_s=s.split_gap_s,
            strict=s.strict,
        )
        entries = fixes.attrs["geoexpose"]["files"]
        triggers = None
        if s.triggers:
            triggers = read_trigger_poses(
                list(self.files), fixes=fixes, time_zone=s.time_zone, split_gap_s=s.split_gap_s
            )
        mine = file_labels([Path(f) for f in self.files])
        for path, old, new in zip(self.files, mine, self.labels, strict=True):
            if old != new:  # another batch holds a file of the same name: use the full label
                _relabel(fixes, triggers, entries, path, old, new)
        fixes.attrs = {}  # the entries go with the batch (pandas copies attrs often)
        return Loaded(fixes, entries, triggers)


def _relabel(fixes, triggers, entries, path: str, old: str, new: str) -> None:
    """Give the flights (and photo triggers) of one file the label of the whole input."""
    rows = fixes[SOURCE].astype(str) == str(path)
    ids = fixes.loc[rows, FLIGHT_ID].astype(str)
    fixes.loc[rows, FLIGHT_ID] = new + ids.str[len(old) :]
    for entry in entries:
        if entry["path"] == str(path):
            entry["flights"] = [new + f[len(old) :] for f in entry["flights"]]
    if triggers is not None and len(triggers):
        rows = triggers["path"].astype(str) == str(path)
        for col in (CAPTURE_ID, FLIGHT_ID):
            known = rows & triggers[col].notna()
            triggers.loc[known, col] = new + triggers.loc[known, col].astype(str).str[len(old) :]


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


def plan_batches(source: Any, batch_fixes: int) -> tuple[Iterator[Any], dict[str, Any]]:
    """Cut a source of fixes into batches of whole flights of about ``batch_fixes`` fixes.

    ``source`` is a DataFrame or GeoDataFrame of fixes; :class:`TrackFiles`; a path or
    a list of paths (GeoParquet files and folders, else track files and folders); or
    an iterable of DataFrames (each one batch). Returns the batches (made lazily) and
    what is known of the input up front (``"files"``: reader entries of a frame).
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
        for track_files in tracks:
            batches += list(_track_batches(track_files, batch_fixes))
        return iter(batches), {}
    if isinstance(source, Iterable):
        return (_FrameBatch(frame) for frame in source), {}
    raise InputError(
        f"fixes: expected a DataFrame, paths, TrackFiles or frames, got {type(source).__name__}"
    )


def _track_batches(source: TrackFiles, batch_fixes: int) -> Iterator[_TrackBatch]:
    files = source.files()
    labels = file_labels(files)
    sizes = np.array([max(p.stat().st_size, 1) if p.is_file() else 1 for p in files])
    for a, b in _group(sizes // BYTES_PER_FIX, batch_fixes):
        yield _TrackBatch(source, tuple(str(p) for p in files[a:b]), tuple(labels[a:b]))
