"""Read one large AirData or generic CSV track in blocks of rows, as it is read whole.

:func:`read_csv_blocks` serves the reader of one huge file
(:mod:`geoexpose.tracks.pieces`): the rows go to a
:class:`~geoexpose.tracks._row_blocks.RowBlocks` a block at a time, and what memory
holds is a block, however long the file. The frames are those
:func:`geoexpose.tracks._csv.read_csv_track` makes of the whole file:

1. the file's bytes are read once in chunks, to check what the whole reading checks
   (line lengths, NUL bytes, the encoding, a last line cut short) and to find where
   the header is and the rows end;
2. the columns the mapping reads are parsed in blocks (pandas, a block's rows at a
   time) and kept in a temporary folder, while what the whole column decides is
   gathered (:class:`~geoexpose.tracks._table_frame.TableFrames`). Pandas types each
   block's columns by the block alone: a column of whole numbers in one block and
   decimals in another is taken as decimals in all (as the whole column is); a
   column that is numbers in one block and text in another is parsed again, as text
   in every block (as the whole column is);
3. each block's frame is built with those decisions and given out (after a last
   pass that sets the times from an elapsed-time column, where the whole file's
   times are to the second).

Only the files the whole reading parses column by column take this way: a
delimiter of ``,``, ``;`` or ``|``, no quotes, no bare carriage return, no row with
more fields than the header, a header of distinct, non-blank names that is not a
DJI-family export. Another file is read whole (:func:`read_csv_blocks` says why).
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._limits import LimitError, check_line_lengths
from geoexpose._progress import Bar
from geoexpose.errors import InputError
from geoexpose.tracks._columns import ColumnMap, airdata_mapping, generic_mapping
from geoexpose.tracks._dji_csv import dji_csv_kind
from geoexpose.tracks._gpx_points import PROGRESS_BYTES
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._table_frame import TableFrames
from geoexpose.tracks.normalize import RawTrack

__all__ = ["read_csv_blocks"]

_CHUNK = 16 << 20
_BLANKS = b" \t\n\r\x0b\x0c"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
#: Bytes that cp1252 leaves undefined (text with them is latin-1).
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass
class _Layout:
    """Where a CSV file's header is, where its rows end, and how it is written."""

    start: int  # offset of the header line
    end: int  # offset where the rows read end (a last line cut short is left out)
    sep: str
    header: bytes  # the header line, its line end left out
    encoding: str
    truncated: int  # 1 where the last line was cut short
    lines: int  # line ends of the file


def _head(path: Path) -> tuple[int, str | None, bytes] | None:
    """Find the header: its offset, the delimiter an Excel ``sep=`` line names, its bytes.

    Blank lines before it are passed over; None for a file of blanks only or one
    written in UTF-16.
    """
    with path.open("rb") as handle:
        first = handle.read(4)
        if first.startswith((b"\xff\xfe", b"\xfe\xff")):
            return None
        offset = 3 if first.startswith(b"\xef\xbb\xbf") else 0
        sep = None
        while True:
            found = _past_blank_lines(handle, offset)
            if found is None:
                return None
            offset = found
            handle.seek(offset)
            line = handle.readline().split(b"\n", 1)[0]  # within the line-length bound
            text = line.strip()
            if sep is not None or not text.lower().startswith(b"sep=") or len(text) < 5:
                return offset, sep, line.rstrip(b"\r")
            sep = text[4:5].decode("latin-1")  # one byte; an odd one is no delimiter here
            offset += len(line) + 1


def _past_blank_lines(handle: Any, offset: int) -> int | None:
    """Return the offset of the first byte that is not a line end, from ``offset``."""
    handle.seek(offset)
    while chunk := handle.read(_CHUNK):
        rest = chunk.lstrip(b"\r\n")
        if rest:
            return offset + len(chunk) - len(rest)
        offset += len(chunk)
    return None


class _Scan:
    """What one pass over a CSV file's bytes, from its header on, finds (see :func:`_layout`)."""

    def __init__(self, sep: bytes) -> None:
        self.sep = sep
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.utf8 = True
        self.cp1252 = True
        self.why: str | None = None  # why the file is parsed whole
        self.header_seps = -1  # separators of the header line
        self.carry = 0  # separators of the line read so far
        self.lines = 0
        self.crs = self.crlfs = 0
        self.last = b""  # the last chunk
        self.tail = 0  # bytes after the last line end

    def finish(self) -> None:
        """Note a multi-byte character cut short at the end of the file (not UTF-8)."""
        if self.utf8:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8 = False

    def add(self, chunk: bytes) -> None:
        if b'"' in chunk:
            self.why = "quoted fields"
        if self.utf8:
            try:
                self.decoder.decode(chunk)
            except UnicodeDecodeError:
                self.utf8 = False
        self.cp1252 = self.cp1252 and _NOT_CP1252.search(chunk) is None
        self.crs += chunk.count(b"\r")
        self.crlfs += chunk.count(b"\r\n") + (self.last[-1:] == b"\r" and chunk[:1] == b"\n")
        data = np.frombuffer(chunk, dtype=np.uint8)
        ends = np.flatnonzero(data == 10)
        seps = np.flatnonzero(data == self.sep[0])
        if len(ends):
            per_line = np.diff(np.searchsorted(seps, ends), prepend=0)
            per_line[0] += self.carry
            if self.header_seps < 0:
                self.header_seps = int(per_line[0])
            if bool(np.any(per_line > self.header_seps)):
                self.why = "rows with more fields than the header"
            self.carry = len(seps) - int(np.searchsorted(seps, ends[-1]))
            self.lines += len(ends)
            self.tail = len(chunk) - 1 - int(ends[-1])
        else:
            self.carry += len(seps)
            self.tail += len(chunk)
        self.last = chunk


def _layout(path: Path) -> _Layout | str:
    """Check a CSV file's bytes as the whole reading does; say where its rows are.

    Returns the layout, or why the file is to be parsed whole.

    Raises
    ------
    InputError
        A line too long, NUL bytes or control characters (binary data), blanks only.
    """
    try:
        check_line_lengths(path)
    except LimitError as exc:
        raise InputError(str(exc)) from exc
    head = _head(path)
    if head is None:
        return "blank or UTF-16"
    start, sep, header = head
    if sep is None:
        counts = {c: header.strip().count(c.encode()) for c in ",;\t|"}
        sep = max(counts, key=counts.__getitem__) if max(counts.values()) else ","
    if sep not in ",;|":
        return "a delimiter other than , ; |"
    scan = _Scan(sep.encode())
    before = 0  # line ends before the header
    with path.open("rb") as handle:
        offset = 0
        while chunk := handle.read(_CHUNK):
            if offset < start:
                before += chunk[: start - offset].count(b"\n")
            nul = chunk.find(b"\x00")
            if nul >= 0:
                raise InputError(f"binary data, not a text CSV (NUL byte at offset {offset + nul})")
            if offset + len(chunk) > start:
                scan.add(chunk[max(0, start - offset) :])
            offset += len(chunk)
    scan.finish()
    if scan.why is not None:
        return scan.why
    if scan.crs != scan.crlfs:
        return "bare carriage returns"
    if scan.header_seps < 0:
        return "a header alone"
    end, truncated = offset, 0
    if not scan.last.endswith((b"\n", b"\r")):  # a last line without its line end
        if scan.carry > scan.header_seps:
            return "rows with more fields than the header"
        if scan.carry < scan.header_seps:  # fewer fields than the header: cut short
            end, truncated = end - scan.tail, 1
    encoding = "utf-8"
    if not scan.utf8:
        if start:  # a byte-order mark or lines before the header, and not UTF-8
            return "not UTF-8, with lines before the header"
        encoding = "cp1252" if scan.cp1252 else "latin-1"
        with path.open("rb") as handle:
            sample = handle.read(8192).decode(encoding)
        controls = len(_CONTROL.findall(sample))
        if controls > 0.05 * len(sample):
            raise InputError(f"binary data, not a text CSV ({controls} control characters)")
    return _Layout(start, end, sep, header, encoding, truncated, before + scan.lines)


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
    """Find the columns of an AirData or generic CSV from its header, as the whole reading.

    Returns the mapping and the format's name, or why the file is parsed whole. A
    generic header without the columns needed raises the whole reading's
    :class:`InputError`, unparsed.
    """
    if "" in names or len(set(names)) < len(names):
        return "blank or repeated column names"
    if dji_csv_kind(names) is not None:
        return "a DJI-family export"
    mapping = None if format == "csv" else airdata_mapping(names)
    if mapping is not None:
        return mapping, "airdata_csv"
    if format == "airdata_csv":
        return "not an AirData header"
    return generic_mapping(names, **options), "csv"


def _used(mapping: ColumnMap) -> list[str]:
    """Return the names of the columns that ``mapping`` reads."""
    cols = [mapping.lat, mapping.lon, mapping.time, mapping.date, mapping.elapsed]
    cols += [mapping.agl, mapping.agl_fallback, mapping.msl, mapping.segment]
    return list({col.name: None for col in [*cols, *mapping.extras.values()] if col is not None})


def _tables(
    path: Path, layout: _Layout, names: list[str], used: list[str], rows: int, **kwargs: Any
) -> Iterator[pd.DataFrame]:
    """Parse the columns ``used`` of the file's rows, ``rows`` rows at a time."""
    positions = sorted(names.index(name) for name in used)
    with _Window(path, layout.start, layout.end, kwargs.pop("bar")) as window:
        reader = pd.read_csv(
            io.BufferedReader(window, _CHUNK),
            sep=layout.sep,
            header=0,
            names=range(len(names)),  # renamed below
            skipinitialspace=True,  # as the whole reading where a field starts blank
            usecols=positions,
            chunksize=rows,
            encoding=layout.encoding,
            **kwargs,
        )
        with reader:
            for table in reader:
                table.columns = [names[p] for p in positions]
                yield table


def _kind(values: pd.Series) -> str | None:
    """Return how pandas typed a block's column (None: no value in the block)."""
    if values.dtype.kind == "f" and not values.notna().any():
        return None
    return values.dtype.kind


class _Pass:
    """The blocks of the columns read, parsed and kept, and what their whole decides."""

    def __init__(self, mapping: ColumnMap, frames: TableFrames, spill: Spill) -> None:
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


def _seen(
    path: Path,
    layout: _Layout,
    names: list[str],
    mapping: ColumnMap,
    spill: Spill,
    rows: int,
    time_zone: str | None,
    bar: Bar | None,
) -> tuple[_Pass, list[str]] | str:
    """Parse the columns read into blocks on disk, gathering what their whole decides.

    Returns the pass and the columns of whole numbers in some blocks and decimals in
    others; or why the file is parsed whole (pandas refused it).
    """
    used, dtype = _used(mapping), None
    for _attempt in range(2):
        frames = TableFrames(mapping, time_zone=time_zone, comma=layout.sep != ",")
        done = _Pass(mapping, frames, spill)
        try:
            for table in _tables(path, layout, names, used, rows, bar=bar, dtype=dtype):
                done.add(table)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            return f"not parsed in blocks ({type(exc).__name__})"
        done.finish()
        text, decimal = done.mixed()
        if not text:
            return done, decimal
        # numbers in some blocks, text in others: text in all, as the whole column is
        dtype, bar = {names.index(name): str for name in text}, None
    raise AssertionError("a column read as text is text in every block")


def _give(
    path: Path,
    layout: _Layout,
    names: list[str],
    mapping: ColumnMap,
    blocks: RowBlocks,
    spill: Spill,
    time_zone: str | None,
    bar: Bar | None,
) -> tuple[pd.DataFrame, str] | str:
    """Give the file's frames to ``blocks``; return a frame without rows and the time basis.

    Or say why the file is to be parsed whole (nothing was given then).
    """
    seen = _seen(path, layout, names, mapping, spill, blocks.rows, time_zone, bar)
    if isinstance(seen, str):
        return seen
    done, decimal = seen
    if not done.blocks:
        return "no rows"
    frames, refine = done.frames, mapping.elapsed is not None
    empty = None
    for number in range(done.blocks):  # a loop over blocks
        table = done.spill.get("table", number)
        done.spill.drop("table", number)
        for name in decimal:
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
        the file is to be parsed whole (nothing was given to ``blocks`` then).

    Raises
    ------
    InputError
        What the whole reading raises (message without the path).
    """
    layout = _layout(path)
    if isinstance(layout, str):
        return layout
    names = [name.strip() for name in layout.header.decode(layout.encoding).split(layout.sep)]
    found = _mapping(names, format, {"columns": columns, "alt_ref": alt_ref})
    if isinstance(found, str):
        return found
    mapping, name = found
    size = layout.end - layout.start
    bar = None
    if blocks.progress and size > PROGRESS_BYTES:
        bar = Bar(total=size, desc=path.name, unit="B", unit_scale=True, disable=None)
    with Spill() as spill:
        try:
            made = _give(path, layout, names, mapping, blocks, spill, time_zone, bar)
        finally:
            if bar is not None:
                bar.close()
        if isinstance(made, str):
            return made
        first, basis = made
    notes = []
    if layout.truncated:
        notes.append(f"line {layout.lines + 1}: last row cut short (file truncated?); dropped")
    if layout.encoding != "utf-8":
        notes.append(f"not UTF-8; text decoded as {layout.encoding}")
    dropped = {"truncated_row": layout.truncated, "bad_row": 0}
    return RawTrack(first.iloc[:0], name, dropped, basis, notes)
