"""The text of a CSV track: its encoding, its header and delimiter, a last line cut short.

Shared by the reading of a whole file (:mod:`geoexpose.tracks._csv`) and of one in
blocks (:mod:`geoexpose.tracks._csv_blocks`), so that both decide alike: the text is
UTF-8 (UTF-16 with a byte-order mark), else cp1252 or latin-1; data with NUL bytes
or many control characters is binary, refused; the delimiter is the most frequent of
``,``, ``;``, tab and ``|`` in the header, or what Excel's ``sep=`` first line names;
a last line without its line end and with fewer fields than the header (or an odd
number of quotes) was cut short; rows pandas skips for having more fields than the
header are counted (:class:`BadLines`).
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd

from geoexpose.errors import InputError, first_line

__all__ = [
    "CONTROL",
    "BadLines",
    "cut_truncated",
    "decode",
    "named",
    "split_header",
    "unreadable",
]

#: Control characters that text does not hold (a sample with many is binary data).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-16 by BOM, UTF-8, else cp1252 / latin-1 text."""
    if not data.strip():
        raise InputError("empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"binary data, not a text CSV (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    check_sample(text)
    return text, encoding


def check_sample(text: str) -> None:
    """Refuse text that is not UTF-8 as binary where its start is 5% control characters."""
    sample = text[:8192]
    controls = len(CONTROL.findall(sample))
    if controls > 0.05 * len(sample):
        raise InputError(f"binary data, not a text CSV ({controls} control characters)")


def split_header(text: str) -> tuple[str, str, int]:
    """Return (body starting at the header line, delimiter, lines skipped before it)."""
    body = text.lstrip("\r\n")
    skipped = text[: len(text) - len(body)].count("\n")
    first = body.split("\n", 1)[0].strip()
    sep = None
    if first.lower().startswith("sep=") and len(first) >= 5:  # Excel's delimiter line
        sep = first[4]
        rest = body.split("\n", 1)[1] if "\n" in body else ""
        body = rest.lstrip("\r\n")
        skipped += 1 + rest[: len(rest) - len(body)].count("\n")
        first = body.split("\n", 1)[0]
    if sep is None:
        counts = {c: first.count(c) for c in ",;\t|"}
        sep = max(counts, key=counts.__getitem__) if max(counts.values()) else ","
    return body, sep, skipped


def cut_truncated(body: str, sep: str) -> tuple[str, int]:
    """Cut a last line that is shorter than the header (file cut while written).

    ``body`` starts at the header line; only its first and last lines are looked at.
    Returns the body and 1 where the last line was cut, else 0.
    """
    if not body or body.endswith(("\n", "\r")):
        return body, 0
    cut = body.rfind("\n")
    if cut < 0:
        return body, 0  # the header alone
    n_fields = len(next(csv.reader([body.split("\n", 1)[0]], delimiter=sep)))
    last = body[cut + 1 :]
    fields = next(csv.reader([last], delimiter=sep), [])
    if len(fields) < n_fields or last.count('"') % 2:
        return body[: cut + 1], 1
    return body, 0


class BadLines:
    """The rows pandas skips for more fields than the header: how many, the first line."""

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None  # line of the body (the header is line 1)

    @contextmanager
    def taken(self) -> Iterator[None]:
        """Count the rows pandas skips in this block of code; warn its other warnings."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            yield
        for item in caught:
            if issubclass(item.category, pd.errors.ParserWarning):
                lines = [int(n) for n in re.findall(r"Skipping line (\d+)", str(item.message))]
                if lines and self.first is None:
                    self.first = lines[0]
                self.count += len(lines)
            else:
                warnings.warn_explicit(item.message, item.category, item.filename, item.lineno)

    def note(self, skipped: int) -> str:
        """Say the rows skipped; ``skipped``: lines of the file before the header."""
        return (
            f"line {skipped + (self.first or 0)}: more fields than the header; "
            f"{self.count} such row(s) dropped"
        )


def named(table: pd.DataFrame) -> pd.DataFrame:
    """Strip a parsed table's column names; of names then repeated, keep the first."""
    table.columns = [str(name).strip() for name in table.columns]
    return table.loc[:, ~table.columns.duplicated()]


def unreadable(exc: Exception) -> str:
    """Say that pandas could not parse a CSV, with the first line of its error."""
    return f"not a readable CSV ({first_line(exc)})"
