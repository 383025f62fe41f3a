"""Bounds on what a reader takes from an untrusted file: line length and decompressed size.

Every reader of text that comes in lines (CSV tracks and site tables) checks the file
with :func:`check_line_lengths` (or its bytes with :func:`check_line_bytes`) before
parsing it: a line longer than :data:`MAX_LINE_BYTES` is refused with its line
number, never shown. Every member of a
zip (KMZ) and every gzip or bzip2 stream is read through :func:`bounded`, which counts
the bytes that come out and stops at :data:`MAX_DECOMPRESSED_BYTES`, or where they
outgrow the compressed file by more than :data:`MAX_RATIO` (a bomb: a few megabytes
that unpack to gigabytes); nothing is unpacked to disk. A binary record read whole
(a DJI flight record) is first checked with :func:`check_file_bytes` against
:data:`MAX_RECORD_BYTES`. :func:`excerpt` shortens and cleans a piece of a file for a
message.
"""

from __future__ import annotations

import bz2
import gzip
import io
import re
from pathlib import Path
from typing import IO

import numpy as np

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "MAX_LINE_BYTES",
    "MAX_RATIO",
    "MAX_RECORD_BYTES",
    "RATIO_FROM_BYTES",
    "LimitError",
    "LineLengths",
    "bounded",
    "check_declared",
    "check_file_bytes",
    "check_line_bytes",
    "check_line_lengths",
    "decompressed_size",
    "excerpt",
]

#: Longest line (bytes, its end included) of a CSV-like file: a header or a row of a
#: flight log or a site table is a few kilobytes; a line of a mebibyte is no such thing.
MAX_LINE_BYTES = 1 << 20
#: Largest binary flight record read whole (1 GiB): a DJI flight record of an hour is
#: 10-30 MB, and decoding one takes a few times its size in memory.
MAX_RECORD_BYTES = 1 << 30
#: Most bytes taken out of one zip member or one gzip/bzip2 stream: 512 MiB.
MAX_DECOMPRESSED_BYTES = 512 << 20
#: Largest ratio of bytes out to compressed bytes in, checked once more than
#: :data:`RATIO_FROM_BYTES` came out: text compresses 5 to 20 times, XML of repeated
#: coordinates up to about 50; a bomb of repeated bytes about 1000.
MAX_RATIO = 200
#: The ratio is checked only beyond this many bytes out (64 MiB): a small file may
#: compress as well as it likes.
RATIO_FROM_BYTES = 64 << 20

_CHUNK = 4 << 20
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class LimitError(ValueError):
    """A file goes beyond a bound of this module; the message says which, without the path."""


def excerpt(text: object, length: int = 40) -> str:
    r"""Return a short, printable piece of ``text`` for a message.

    Control characters (terminal escapes among them) become ``?``; text longer than
    ``length`` characters is cut with ``...``.

    >>> excerpt("\x1b]0;owned\x07" + "x" * 100, 12)
    '?]0;owned?xx...'
    """
    text = str(text)
    cut = text[:length]
    return _UNPRINTABLE.sub("?", cut) + ("..." if len(text) > length else "")


class LineLengths:
    r"""The lines of a file given in chunks, checked against a longest length as they come.

    :meth:`add` raises :class:`LimitError` at the first line over ``limit`` bytes (its
    line end included; default :data:`MAX_LINE_BYTES`), naming the line (from 1);
    :attr:`longest` is the longest line so far, :meth:`finish` the number of lines.

    >>> lengths = LineLengths(limit=4)
    >>> lengths.add(b"ab\ncd")
    >>> lengths.add(b"\nxyz")
    >>> lengths.finish(), lengths.longest
    (3, 3)
    """

    def __init__(self, *, limit: int | None = None) -> None:
        self.limit = MAX_LINE_BYTES if limit is None else limit
        self.lines = 0  # line ends so far
        self.length = 0  # bytes of the current line so far
        self.longest = 0

    def add(self, chunk: bytes) -> None:
        """Take the next chunk of the file."""
        ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
        if len(ends):
            spans = np.diff(ends, prepend=-1)
            spans[0] += self.length
            self.longest = max(self.longest, int(spans.max()))
            too_long = np.flatnonzero(spans > self.limit)
            if len(too_long):
                _too_long(self.lines + int(too_long[0]) + 1, self.limit)
            self.lines += len(ends)
            self.length = len(chunk) - 1 - int(ends[-1])
        else:
            self.length += len(chunk)
        self.longest = max(self.longest, self.length)
        if self.length > self.limit:
            _too_long(self.lines + 1, self.limit)

    def finish(self) -> int:
        """Return the number of lines of the file (a last one without its end counted)."""
        return self.lines + (1 if self.length else 0)


def check_line_lengths(path: str | Path, *, limit: int | None = None) -> int:
    """Read a file in chunks and raise :class:`LimitError` at the first line over ``limit``.

    Parameters
    ----------
    path
        The file (read, never loaded whole: memory stays at a few chunks).
    limit
        The longest line allowed, bytes, its line end included (default
        :data:`MAX_LINE_BYTES`).

    Returns
    -------
    int
        The number of lines of the file.

    Raises
    ------
    LimitError
        Naming the line (from 1) that is too long; the line itself is never shown.
    """
    lengths = LineLengths(limit=limit)
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            lengths.add(chunk)
    return lengths.finish()


def check_line_bytes(data: bytes, *, limit: int | None = None) -> np.ndarray:
    r"""Check the line lengths of bytes already read; return where the lines end.

    As :func:`check_line_lengths` does for a file, without reading it again.

    Parameters
    ----------
    data
        The bytes of the file.
    limit
        The longest line allowed, bytes, its line end included (default
        :data:`MAX_LINE_BYTES`).

    Returns
    -------
    numpy.ndarray
        The offsets of the ``\n`` bytes, in order (int64).

    Raises
    ------
    LimitError
        Naming the line (from 1) that is too long; the line itself is never shown.

    >>> check_line_bytes(b"ab\ncd\n").tolist()
    [2, 5]
    >>> try:
    ...     check_line_bytes(b"ab\ncdef", limit=3)
    ... except LimitError as exc:
    ...     print(str(exc)[:28])
    line 2 is longer than 0 KiB;
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    if len(ends):
        too_long = np.flatnonzero(np.diff(ends, prepend=-1) > limit)
        if len(too_long):
            _too_long(int(too_long[0]) + 1, limit)
    if len(data) - 1 - (int(ends[-1]) if len(ends) else -1) > limit:
        _too_long(len(ends) + 1, limit)
    return ends


def check_file_bytes(path: str | Path, *, what: str, limit: int | None = None) -> int:
    """Return a file's size; raise :class:`LimitError` when it is over ``limit`` bytes.

    Parameters
    ----------
    path
        The file (not read).
    what
        How the message names such a file (``"DJI flight record"``).
    limit
        The most bytes allowed (default :data:`MAX_RECORD_BYTES`).

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as handle:
    ...     _ = handle.write(b"x" * 2048)
    ...     handle.flush()
    ...     try:
    ...         check_file_bytes(handle.name, what="DJI flight record", limit=1024)
    ...     except LimitError as exc:
    ...         print(exc)
    2048 bytes, more than the 1 KiB a DJI flight record may have; refused, not read
    """
    limit = MAX_RECORD_BYTES if limit is None else limit
    size = Path(path).stat().st_size
    if size > limit:
        raise LimitError(
            f"{size} bytes, more than the {_size_words(limit)} a {what} may have; refused, not read"
        )
    return size


def _size_words(size: int) -> str:
    """Say a size in the largest binary unit that divides it (``1 GiB``, ``64 MiB``)."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if size >= 1 << shift and not size % (1 << shift):
            return f"{size >> shift} {unit}"
    return f"{size} bytes"


def _too_long(line: int, limit: int) -> None:
    raise LimitError(
        f"line {line} is longer than {limit // 1024} KiB; not a table of rows "
        "(a line that long is refused, not read)"
    )


class _Counted(io.RawIOBase):
    """A readable stream that counts the bytes read and stops past the bounds."""

    def __init__(
        self, handle: IO[bytes] | io.BufferedIOBase, packed: int, limit: int, what: str
    ) -> None:
        self._handle = handle
        self._packed = max(packed, 1)
        self._limit = limit
        self._what = what
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._handle.read(len(buffer))
        self._take(len(data))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int | None = -1) -> bytes:
        data = self._handle.read(_CHUNK if size is None or size < 0 else size)
        if size is None or size < 0:
            parts = [data]
            self._take(len(data))
            while data:
                data = self._handle.read(_CHUNK)
                self._take(len(data))
                parts.append(data)
            return b"".join(parts)
        self._take(len(data))
        return data

    def _take(self, size: int) -> None:
        self.count += size
        if self.count > self._limit:
            raise LimitError(
                f"{self._what} unpacks to more than {self._limit >> 20} MiB; refused "
                "(a compression bomb, or too large to read safely)"
            )
        if self.count > RATIO_FROM_BYTES and self.count > MAX_RATIO * self._packed:
            raise LimitError(
                f"{self._what} unpacks to more than {MAX_RATIO} times its packed size "
                f"({self._packed} bytes); refused (a compression bomb)"
            )


def bounded(
    handle: IO[bytes] | io.BufferedIOBase, *, packed: int, what: str, limit: int | None = None
) -> IO[bytes]:
    """Wrap a decompressing stream so that reading it stops at the bounds of this module.

    Parameters
    ----------
    handle
        The stream of unpacked bytes (a zip member, a gzip or bzip2 file).
    packed
        Its size packed, bytes (for the ratio check).
    what
        How messages name it (``"member doc.kml"``).
    limit
        Most bytes to take (default :data:`MAX_DECOMPRESSED_BYTES`).

    Returns
    -------
    A buffered binary stream that raises :class:`LimitError` once past a bound.
    """
    raw = _Counted(handle, packed, MAX_DECOMPRESSED_BYTES if limit is None else limit, what)
    return io.BufferedReader(raw, buffer_size=1 << 16)


def check_declared(size: int, *, what: str) -> None:
    """Raise :class:`LimitError` when the size a zip member declares is past the bound.

    A member is still read through :func:`bounded`: the size it declares may lie.
    """
    if size > MAX_DECOMPRESSED_BYTES:
        raise LimitError(
            f"{what} says it unpacks to {size} bytes, more than "
            f"{MAX_DECOMPRESSED_BYTES >> 20} MiB; refused"
        )


def decompressed_size(path: str | Path, *, limit: int | None = None) -> int:
    """Unpack a ``.gz`` or ``.bz2`` file as a stream (nothing kept) and return its size.

    Raises :class:`LimitError` past the bounds, so that a library given the file
    (libosmium) never sees a bomb; ``OSError``, ``EOFError`` for a broken stream.
    """
    path = Path(path)
    opener = gzip.open if path.suffix.lower() == ".gz" else bz2.open
    with opener(path, "rb") as raw:
        stream = bounded(raw, packed=path.stat().st_size, what="its compressed data", limit=limit)
        while stream.read(_CHUNK):
            pass
        return stream.raw.count  # type: ignore[attr-defined]
