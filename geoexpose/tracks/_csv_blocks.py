"""Read one large AirData or generic CSV track in blocks of rows, as it is read whole.

:func:`read_csv_blocks` serves the reader of one huge file
(:mod:`geoexpose.tracks.pieces`): the rows go to a
:class:`~geoexpose.tracks._row_blocks.RowBlocks` a block at a time, and what memory
holds is a block, however long the file. The frames are those
:func:`geoexpose.tracks._csv.read_csv_track` makes of the whole file:

1. the file's bytes are read once in chunks, to check what the whole reading checks
   and to find where the header is and the rows end
   (:mod:`geoexpose.tracks._csv_layout`);
2. the file is parsed in blocks (pandas, a block's rows at a time: the columns read
   only where the whole reading does so, else every column, with the rows of more
   fields than the header skipped and counted), the columns read kept in a
   temporary folder, while what the whole column decides is gathered
   (:class:`~geoexpose.tracks._table_frame.TableFrames`). Pandas types each block's
   columns by the block alone: a column of whole numbers in one block and decimals
   in another is taken as decimals in all (as the whole column is); a column that is
   numbers in one block and text in another is parsed again, as text in every block
   (as the whole column is);
3. each block's frame is built with those decisions and given out (after a last
   pass that sets the times from an elapsed-time column, where the whole file's
   times are to the second).

A DJI-family export (its columns are fixed up on the whole table) and a file
:func:`~geoexpose.tracks._csv_layout.csv_layout` leaves to the whole reading (UTF-16,
a header alone, ...) are read whole; :func:`read_csv_blocks` says why.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from geoexpose._progress import Bar
from geoexpose.errors import InputError
from geoexpose.tracks._columns import ColumnMap, airdata_mapping, generic_mapping
from geoexpose.tracks._csv_layout import CsvLayout, csv_layout
from geoexpose.tracks._csv_text import NOT_AIRDATA, BadLines, named
from geoexpose.tracks._dji_csv import dji_csv_kind
from geoexpose.tracks._gpx_points import PROGRESS_BYTES
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._table_frame import TableFrames
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_csv_blocks"]

_BUFFER = 16 << 20


class _Window(io.RawIOBase):
    """The bytes ``start:end`` of a file, read as a file (a bar of them where given)."""

    def __init__(self, path: Path, start: int, end: int, bar: Bar | None) -> None:
        super().__init__()
        self._handle = path.open("rb")
        self._handle.seek(start)
        self._left = end - start
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        n = self._handle.readinto(view) or 0
        self._left -= n
        if self._bar is not None:
            self._bar.update(n)
        return n

    def close(self) -> None:
        self._handle.close()
        super().close()


def _mapping(names: list[str], format: str, options: dict[str, Any]) -> tuple[ColumnMap, str] | str:
    """Find the columns of an AirData or generic CSV from its names, as the whole reading.

    Returns the mapping and the format's name, or why the file is read whole (a
    DJI-family export).

    Raises
    ------
    InputError
        The whole reading's error: not AirData where asked for, a generic header
        without the columns needed.
    """
    if dji_csv_kind(names) is not None:
        return "a DJI-family export"
    mapping = None if format == "csv" else airdata_mapping(names)
    if mapping is not None:
        return mapping, "airdata_csv"
    if format == "airdata_csv":
        raise InputError(NOT_AIRDATA)
    return generic_mapping(names, **options), "csv"


def _tables(
    path: Path, layout: CsvLayout, rows: int, bar: Bar | None, bad: BadLines, **kwargs: Any
) -> Iterator[pd.DataFrame]:
    """Parse the file's rows, ``rows`` at a time; count the rows skipped in ``bad``.

    Where the layout has names, the columns at ``usecols`` only (the tables' columns
    then numbered by position); else every column, named by pandas.
    """
    if layout.names is not None:
        kwargs |= {"header": 0, "names": range(len(layout.names))}
    else:
        kwargs |= {"on_bad_lines": "warn"}
    with _Window(path, layout.start, layout.end, bar) as window:
        reader = pd.read_csv(
            io.BufferedReader(window, _BUFFER),
            sep=layout.sep,
            skipinitialspace=True,  # as the whole reading where a field starts blank
            chunksize=rows,
            encoding=layout.encoding,
            **kwargs,
        )
        with reader:
            tables = iter(reader)
            while True:
                with bad.taken():
                    table = next(tables, None)
                if table is None:
                    return
                yield table


def _kind(values: pd.Series) -> str | None:
    """Return how pandas typed a block's column (None: no value in the block)."""
    if values.dtype.kind == "f" and not values.notna().any():
        return None
    return values.dtype.kind


class _Pass:
    """The blocks of the columns read, parsed and kept, and what their whole decides."""

    def __init__(self, frames: TableFrames, spill: Spill) -> None:
        self.frames = frames
        self.spill = spill
        self.kinds: dict[str, set[str]] = {}
        self.blocks = 0
        self._pending: list[int] = []  # blocks before the time column's first value

    def add(self, table: pd.DataFrame) -> None:
        for name in table.columns:
            kind = _kind(table[name])
            if kind is not None:
                self.kinds.setdefault(name, set()).add(kind)
        self.spill.put("table", self.blocks, table)
        if self.frames.decide(table):
            for number in self._pending:
                self.frames.see(self.spill.get("table", number))
            self._pending.clear()
            self.frames.see(table)
        else:
            self._pending.append(self.blocks)
        self.blocks += 1

    def finish(self) -> None:
        self.frames.decide(None, last=True)
        for number in self._pending:
            self.frames.see(self.spill.get("table", number))

    def mixed(self) -> tuple[list[str], list[str]]:
        """Columns typed apart by block: to read as text, to read as decimals."""
        text = [n for n, k in self.kinds.items() if len(k) > 1 and not k <= {"i", "f"}]
        decimal = [n for n, k in self.kinds.items() if k == {"i", "f"}]
        return text, decimal


class _Read:
    """The file parsed into blocks on disk, and what the whole of its columns decides."""

    def __init__(self, layout: CsvLayout, spill: Spill, time_zone: str | None) -> None:
        self.layout = layout
        self.spill = spill
        self.time_zone = time_zone
        self.found: tuple[ColumnMap, str] | str | None = None
        self.bad = BadLines()
        self.done: _Pass | None = None
        self.decimal: list[str] = []
        self._labels: dict[str, Any] = {}  # pandas' label of each column read, by name

    def parse(self, path: Path, rows: int, bar: Bar | None, options: dict[str, Any]) -> str | None:
        """Parse the file (twice where a column is numbers and text); None, or why not."""
        names, form, usecols, dtype = self.layout.names, options.pop("format"), None, None
        if names is not None:  # the mapping from the header; the columns it reads only
            self.found = _mapping(names, form, options)
            if isinstance(self.found, str):
                return self.found
            usecols = sorted(names.index(name) for name in self.found[0].names())
        for _attempt in range(2):
            self.bad, self.done = BadLines(), None
            tables = _tables(path, self.layout, rows, bar, self.bad, usecols=usecols, dtype=dtype)
            try:
                for table in tables:
                    why = self._add(table, form, options)
                    if why is not None:
                        return why
            except InputError:
                raise  # the whole reading's error, from the header
            except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
                return f"not parsed in blocks ({type(exc).__name__})"
            if self.done is None:
                return "no rows"
            self.done.finish()
            text, self.decimal = self.done.mixed()
            if not text:
                return None
            # numbers in some blocks, text in others: text in all, as the whole column is
            dtype, bar = {self._labels[name]: str for name in text}, None
        raise AssertionError("a column read as text is text in every block")

    def _add(self, table: pd.DataFrame, form: str, options: dict[str, Any]) -> str | None:
        """Keep a block's columns read (where pandas names them, the mapping at the first)."""
        names = self.layout.names
        labels = list(table.columns)  # positions, or pandas' names
        if names is not None:
            table.columns = [names[p] for p in labels]
        else:
            table = named(table)
            if self.found is None:
                self.found = _mapping(list(table.columns), form, options)
        if isinstance(self.found, str):
            return self.found
        assert self.found is not None
        mapping = self.found[0]
        if self.done is None:
            stripped = (
                list(table.columns) if names is not None else [str(x).strip() for x in labels]
            )
            self._labels = {name: labels[stripped.index(name)] for name in mapping.names()}
            frames = TableFrames(mapping, time_zone=self.time_zone, comma=self.layout.sep != ",")
            self.done = _Pass(frames, self.spill)
        self.done.add(table[mapping.names()])
        return None


def _give(read: _Read, blocks: RowBlocks) -> tuple[pd.DataFrame, str]:
    """Give the file's frames to ``blocks``; return a frame without rows and the time basis."""
    done, spill = read.done, read.spill
    assert done is not None and isinstance(read.found, tuple)
    frames, refine = done.frames, read.found[0].elapsed is not None
    empty = None
    for number in range(done.blocks):  # a loop over blocks
        table = spill.get("table", number)
        spill.drop("table", number)
        for name in read.decimal:
            table[name] = table[name].astype("float64")
        frame, elapsed = frames.frame(table)
        if empty is None:
            empty = frame.iloc[:0]
        if refine:  # the times are set once the last block is read
            spill.put("frame", number, (frame, elapsed))
        else:
            blocks.add(frame)
    if refine:
        for number in range(done.blocks):  # a loop over blocks
            frame, elapsed = spill.get("frame", number)
            spill.drop("frame", number)
            frames.refine(frame, elapsed)
            blocks.add(frame)
    assert empty is not None
    return empty, frames.finish()


def read_csv_blocks(
    path: Path,
    blocks: RowBlocks,
    *,
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
) -> RawTrack | str:
    """Give a CSV track's rows to ``blocks`` as the whole reading reads them (see module notes).

    Returns
    -------
    RawTrack or str
        What the file holds (its frame without rows: they went to ``blocks``), or why
        the file is to be read whole (nothing was given to ``blocks`` then).

    Raises
    ------
    InputError
        What the whole reading raises (message without the path).
    """
    layout = csv_layout(path)
    if isinstance(layout, str):
        return layout
    size = layout.end - layout.start
    bar = None
    if blocks.progress and size > PROGRESS_BYTES:
        bar = Bar(total=size, desc=path.name, unit="B", unit_scale=True, disable=None)
    options = {"format": format, "columns": columns, "alt_ref": alt_ref}
    with Spill() as spill:
        read = _Read(layout, spill, time_zone)
        try:
            why = read.parse(path, blocks.rows, bar, options)
        finally:
            if bar is not None:
                bar.close()
        if why is not None:
            return why
        empty, basis = _give(read, blocks)
    assert isinstance(read.found, tuple)
    notes = []
    if layout.truncated:
        line = layout.before + layout.lines + 1
        notes.append(f"line {line}: last row cut short (file truncated?); dropped")
    if read.bad.count:
        notes.append(read.bad.note(layout.before))
    if layout.encoding != "utf-8":
        notes.append(f"not UTF-8; text decoded as {layout.encoding}")
    dropped = {"truncated_row": layout.truncated, "bad_row": read.bad.count}
    return RawTrack(empty, read.found[1], dropped, basis, notes)
