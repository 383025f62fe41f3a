"""Read one large CSV track (AirData, DJI-family, generic) in blocks of rows, as read whole.

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

A DJI-family export keeps every column of its blocks, fixed up block by block as the
whole table is (:class:`~geoexpose.tracks._csv_columns.CsvColumns`). A file
:func:`~geoexpose.tracks._csv_layout.csv_layout` leaves to the whole reading (UTF-16,
a header alone, ...) and a Litchi mission (a route) are read whole;
:func:`read_csv_blocks` says why.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._progress import Bar
from geoexpose.errors import InputError
from geoexpose.tracks._csv_columns import CsvColumns, csv_columns
from geoexpose.tracks._csv_layout import CsvLayout, csv_layout
from geoexpose.tracks._csv_text import BadLines, named
from geoexpose.tracks._dji_csv import aircraft_meta, finish_frame
from geoexpose.tracks._gpx_points import PROGRESS_BYTES
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._table_frame import TableFrames
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_csv_blocks"]

_BUFFER = 16 << 20
#: Rows of the head a DJI-family export names its aircraft from (as the whole reading).
_HEAD_ROWS = 200
#: A block holds about this many bytes of text at most (by the file's longest line) ...
_BLOCK_BYTES = 128 << 20
#: ... and where every column is parsed about ``rows * _WIDTH`` fields ...
_WIDTH = 16
#: ... but at least this many rows (or all it is asked for).
_MIN_ROWS = 16


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

    def __init__(self, found: CsvColumns, frames: TableFrames, spill: Spill) -> None:
        self.found = found
        self.frames = frames
        self.spill = spill
        self.kinds: dict[str, set[str]] = {}
        self.blocks = 0
        self.head = pd.DataFrame()  # the first rows (at least _HEAD_ROWS) of the view
        self._pending: list[int] = []  # blocks before the time column's first value

    def add(self, table: pd.DataFrame) -> None:
        """Keep a block (what :meth:`CsvColumns.kept` keeps) and see what it decides."""
        table = self.found.kept(table)
        for name in table.columns:
            kind = _kind(table[name])
            if kind is not None:
                self.kinds.setdefault(name, set()).add(kind)
        self.spill.put("table", self.blocks, table)
        view = self.found.view(table)
        if len(self.head) < _HEAD_ROWS:
            self.head = pd.concat([self.head, view.iloc[:_HEAD_ROWS]]) if len(self.head) else view
        if self.frames.decide(view):
            for number in self._pending:
                self.frames.see(self.found.view(self.spill.get("table", number)))
            self._pending.clear()
            self.frames.see(view)
        else:
            self._pending.append(self.blocks)
        self.blocks += 1

    def finish(self) -> None:
        """See the blocks before the first time (where there was none)."""
        self.frames.decide(None, last=True)
        for number in self._pending:
            self.frames.see(self.found.view(self.spill.get("table", number)))

    def mixed(self) -> tuple[list[str], list[str]]:
        """Columns typed apart by block: to read as text, to read as decimals."""
        text = [n for n, k in self.kinds.items() if len(k) > 1 and not k <= {"i", "f"}]
        decimal = [n for n, k in self.kinds.items() if k == {"i", "f"}]
        return text, decimal


class _Read:
    """The file parsed into blocks on disk, and what the whole of its columns decides."""

    def __init__(
        self,
        layout: CsvLayout,
        spill: Spill,
        time_zone: str | None,
        how: tuple[str, Mapping[str, str] | None, str | None],
    ) -> None:
        self.layout = layout
        self.spill = spill
        self.time_zone = time_zone
        self.how = how  # format, columns, alt_ref: how the columns are found
        self.found: CsvColumns | str | None = None
        self.bad = BadLines()
        self.done: _Pass | None = None
        self.decimal: list[str] = []
        self._labels: dict[str, Any] = {}  # pandas' label of each column kept, by name

    def parse(self, path: Path, rows: int, bar: Bar | None) -> str | None:
        """Parse the file (twice where a column is numbers and text); None, or why not."""
        names, usecols, dtype = self.layout.names, None, None
        if names is not None:  # how the columns are read, from the header
            self.found = csv_columns(names, *self.how)
            if isinstance(self.found, str):
                return self.found
            if self.found.kind is None:  # the columns read only
                usecols = sorted(names.index(name) for name in self.found.mapping.names())
            else:  # a DJI-family export: every column, named by pandas
                self.layout = replace(self.layout, names=None)
                self.found = None
        # a block holds at most about _BLOCK_BYTES of text, and where every column is
        # parsed about rows * _WIDTH fields: fewer rows for long lines and wide files
        rows = min(rows, max(_MIN_ROWS, _BLOCK_BYTES // max(1, self.layout.longest)))
        if self.layout.names is None:
            rows = min(rows, max(_MIN_ROWS, rows * _WIDTH // max(1, self.layout.width)))
        for _attempt in range(2):
            self.bad, self.done = BadLines(), None
            tables = _tables(path, self.layout, rows, bar, self.bad, usecols=usecols, dtype=dtype)
            try:
                for table in tables:
                    why = self._add(table)
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

    def _add(self, table: pd.DataFrame) -> str | None:
        """Keep a block (where pandas names the columns, how they are read from the first)."""
        names = self.layout.names
        labels = list(table.columns)  # positions, or pandas' names
        if names is not None:
            table.columns = [names[p] for p in labels]
            stripped = list(table.columns)
        else:
            stripped = [str(label).strip() for label in labels]  # as named() names them
            table = named(table)
            if self.found is None:
                self.found = csv_columns(list(table.columns), *self.how)
        if isinstance(self.found, str):
            return self.found
        assert self.found is not None
        if self.done is None:
            kept = self.found.kept(table).columns
            self._labels = {name: labels[stripped.index(name)] for name in kept}
            frames = TableFrames(
                self.found.mapping, time_zone=self.time_zone, comma=self.layout.sep != ","
            )
            self.done = _Pass(self.found, frames, self.spill)
        self.done.add(table)
        return None


def _made(read: _Read) -> Iterator[tuple[pd.DataFrame, np.ndarray | None]]:
    """Build each block's frame (and its elapsed times), in file order, letting it go."""
    done, spill, found = read.done, read.spill, read.found
    assert done is not None and isinstance(found, CsvColumns)
    for number in range(done.blocks):  # a loop over blocks
        table = spill.get("table", number)
        spill.drop("table", number)
        for name in read.decimal:
            table[name] = table[name].astype("float64")
        view = found.view(table)
        frame, elapsed = done.frames.frame(view)
        if found.kind is not None:
            frame = finish_frame(found.kind, view, frame)
        yield frame, elapsed


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
    with Spill() as spill:
        read = _Read(layout, spill, time_zone, (format, columns, alt_ref))
        try:
            why = read.parse(path, blocks.rows, bar)
        finally:
            if bar is not None:
                bar.close()
        if why is not None:
            return why
        assert read.done is not None
        empty = read.done.frames.give(_made(read), blocks, spill)
        basis = read.done.frames.finish()
    found = read.found
    assert isinstance(found, CsvColumns) and read.done is not None
    notes = []
    if layout.truncated:
        line = layout.before + layout.lines + 1
        notes.append(f"line {line}: last row cut short (file truncated?); dropped")
    if read.bad.count:
        notes.append(read.bad.note(layout.before))
    if layout.encoding != "utf-8":
        notes.append(f"not UTF-8; text decoded as {layout.encoding}")
    dropped = {"truncated_row": layout.truncated, "bad_row": read.bad.count}
    meta = aircraft_meta(read.done.head) if found.kind is not None else {}
    return RawTrack(empty, found.name, dropped, basis, notes, meta=meta)
