"""Find where a large CSV file's header and rows are, its bytes checked as read whole.

:func:`csv_layout` reads a file in chunks (never whole) and decides what
:mod:`geoexpose.tracks._csv_text` decides on the whole text: line lengths
(:class:`geoexpose._limits.LineLengths`, in the same pass), NUL bytes, the encoding, the
delimiter, blank lines and Excel's ``sep=`` line before the header, a last line cut
short. It also tells whether the file can be parsed for the columns read only, as
the whole reading does where no row can hide or add a field (no quotes, no bare
carriage return, a delimiter of ``,``, ``;`` or ``|``, no row with more separators
than the header, a header of distinct non-blank names).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from geoexpose._limits import MAX_LINE_BYTES, LimitError, LineLengths
from geoexpose.errors import InputError
from geoexpose.tracks._csv_text import check_sample, cut_truncated

__all__ = ["CsvLayout", "csv_layout"]

_CHUNK = 16 << 20
#: Bytes that cp1252 leaves undefined (text with them is latin-1).
_NOT_CP1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")


@dataclass
class CsvLayout:
    """Where a CSV file's header is, where its rows end, and how it is written.

    Attributes
    ----------
    start, end
        Offsets of the header line and of the end of the rows read (a last line cut
        short is left out).
    sep, encoding
        The delimiter and the text encoding (``"utf-8"``, ``"cp1252"``, ``"latin-1"``).
    names
        The header's names, where the file can be parsed for the columns read only;
        None where every column is to be parsed (pandas then names them).
    truncated
        1 where the last line was cut short.
    before, lines
        Line ends before the header, and from it to ``end``.
    width
        Fields of the header line, as its separators count them.
    longest
        Bytes of the longest line of the file.
    """

    start: int
    end: int
    sep: str
    encoding: str
    names: list[str] | None
    truncated: int
    before: int
    lines: int
    width: int
    longest: int


def _head(path: Path) -> tuple[int, str | None, bytes] | None:
    """Find the header: its offset, the delimiter a ``sep=`` line names, its line.

    Blank lines before it are passed over. The line is given with its carriage
    return, if any. None for a file of blanks only or one written in UTF-16.
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
            # bounded: a longer line is refused by the scan, before the header is used
            line = handle.readline(MAX_LINE_BYTES + 1).split(b"\n", 1)[0]
            text = line.strip()
            if sep is not None or not text.lower().startswith(b"sep=") or len(text) < 5:
                return offset, sep, line
            sep = text[4:5].decode("latin-1")  # one byte: a byte above 127 is no delimiter
            offset += len(line) + 1


def _past_blank_lines(handle: IO[bytes], offset: int) -> int | None:
    """Return the offset of the first byte that is not a line end, from ``offset``."""
    handle.seek(offset)
    while chunk := handle.read(_CHUNK):
        rest = chunk.lstrip(b"\r\n")
        if rest:
            return offset + len(chunk) - len(rest)
        offset += len(chunk)
    return None


class _Scan:
    """What one pass over a CSV file's bytes, from its header on, finds."""

    def __init__(self, sep: bytes) -> None:
        self.sep = sep[0]
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.utf8 = True
        self.cp1252 = True
        self.quotes = False
        self.more_fields = False  # a row with more separators than the header
        self.header_seps = -1  # separators of the header line
        self.carry = 0  # separators of the line read so far
        self.lines = 0
        self.crs = self.crlfs = 0
        self.last = b""  # the last chunk
        self.tail = 0  # bytes after the last line end

    def add(self, chunk: bytes) -> None:
        self.quotes = self.quotes or b'"' in chunk
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
        seps = np.flatnonzero(data == self.sep)
        if len(ends):
            per_line = np.diff(np.searchsorted(seps, ends), prepend=0)
            per_line[0] += self.carry
            if self.header_seps < 0:
                self.header_seps = int(per_line[0])
            self.more_fields = self.more_fields or bool(np.any(per_line > self.header_seps))
            self.carry = len(seps) - int(np.searchsorted(seps, ends[-1]))
            self.lines += len(ends)
            self.tail = len(chunk) - 1 - int(ends[-1])
        else:
            self.carry += len(seps)
            self.tail += len(chunk)
        self.last = chunk

    def finish(self) -> None:
        """Note a multi-byte character cut short at the end of the file (not UTF-8)."""
        if self.utf8:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.utf8 = False


def _scan(path: Path, start: int, sep: str) -> tuple[_Scan, LineLengths, int, int]:
    """Scan the bytes from ``start``, and the file's lines from its first byte.

    Also gives the file's size and the line ends before ``start``. Raises
    InputError, as the whole reading does: at a line too long, else at a NUL byte
    (binary data).
    """
    scan, lengths = _Scan(sep.encode("latin-1")), LineLengths()
    before = offset = 0
    nul = -1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                lengths.add(chunk)
            except LimitError as exc:
                raise InputError(str(exc)) from exc
            if nul < 0 and (found := chunk.find(b"\x00")) >= 0:
                nul = offset + found  # said once every line is checked
            if offset < start:
                before += chunk[: start - offset].count(b"\n")
            if offset + len(chunk) > start:
                scan.add(chunk[max(0, start - offset) :])
            offset += len(chunk)
    if nul >= 0:
        raise InputError(f"binary data, not a text CSV (NUL byte at offset {nul})")
    scan.finish()
    return scan, lengths, offset, before


def _read_at(path: Path, offset: int, size: int) -> bytes:
    with path.open("rb") as handle:
        handle.seek(offset)
        return handle.read(size)


def csv_layout(path: Path) -> CsvLayout | str:
    """Check a CSV file's bytes as the whole reading does; say where its rows are.

    Returns the layout, or why the file is to be read whole (a file of blanks only,
    UTF-16, a header alone, an odd delimiter, text not UTF-8 after lines before the
    header).

    Raises
    ------
    InputError
        A line too long, NUL bytes or control characters (binary data).
    """
    head = _head(path)
    if head is None:
        return "blank or UTF-16"
    start, sep, header = head
    if sep is None:
        counts = {c: header.strip().count(c.encode()) for c in ",;\t|"}
        sep = max(counts, key=counts.__getitem__) if max(counts.values()) else ","
    if ord(sep) > 127:
        return "a delimiter that is not ASCII"
    scan, lengths, size, before = _scan(path, start, sep)
    if scan.header_seps < 0:
        return "a header alone"
    encoding = "utf-8"
    if not scan.utf8:
        if start:  # a byte-order mark or lines before the header, and not UTF-8
            return "not UTF-8, with lines before the header"
        encoding = "cp1252" if scan.cp1252 else "latin-1"
        check_sample(_read_at(path, 0, 8192).decode(encoding))
    end, truncated = size, 0
    if not scan.last.endswith((b"\n", b"\r")):  # a last line without its line end
        last = _read_at(path, size - scan.tail, scan.tail).decode(encoding)
        _, truncated = cut_truncated(header.decode(encoding) + "\n" + last, sep)
        end -= scan.tail * truncated
    names = [name.strip() for name in header.decode(encoding).rstrip("\r").split(sep)]
    by_column = not (scan.quotes or scan.more_fields or scan.crs != scan.crlfs)
    by_column = by_column and sep in ",;|" and "" not in names and len(set(names)) == len(names)
    if not truncated and scan.carry > scan.header_seps:
        by_column = False  # a last line with more fields than the header
    names_read = names if by_column else None
    width = scan.header_seps + 1
    return CsvLayout(
        start, end, sep, encoding, names_read, truncated, before, scan.lines, width, lengths.longest
    )
