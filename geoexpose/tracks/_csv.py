"""Read flight tracks from CSV files: AirData exports and any CSV with lat/lon/time.

A line longer than :data:`geoexpose._limits.MAX_LINE_BYTES` (1 MiB) refuses the file
before it is parsed (the line is named, never shown). The text is decoded as UTF-8
(UTF-16 with a byte-order mark), else as cp1252 or latin-1 (a note says so: such
bytes sit in free-text columns of Windows tools' exports, and positions and times
are ASCII); data with NUL bytes or many control characters is refused as binary.
The delimiter is the most frequent of ``,``, ``;``, tab and ``|`` in the header
(or Excel's ``sep=`` first line); with a delimiter other than ``,`` a decimal comma
is accepted. Leading blanks of names
and values are dropped. A last line cut short (a file truncated while written) is
dropped and counted as ``truncated_row``; rows with more fields than the header
are dropped and counted as ``bad_row``. Columns are found by
:mod:`geoexpose.tracks._columns`; DJI-family exports (PhantomHelp, dji-log-parser,
TXTlogToCSVtool, Litchi) are told apart by :mod:`geoexpose.tracks._dji_csv`; a
Litchi mission is read as a planned route (``route="planned"``, no times;
:func:`read_litchi_mission` reads it as points with its own columns). Where no row
can be cut short or be dropped for its fields (no quotes, no row longer than the
header), an AirData or generic CSV is parsed for the columns its mapping reads only.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._limits import LimitError, check_line_bytes
from geoexpose.errors import InputError
from geoexpose.schema import CRS_LONLAT
from geoexpose.tracks._csv_blocks import read_csv_blocks
from geoexpose.tracks._csv_columns import CsvColumns, csv_columns
from geoexpose.tracks._csv_text import (
    BadLines,
    cut_truncated,
    decode,
    named,
    split_header,
    unreadable,
)
from geoexpose.tracks._dji_csv import (
    LITCHI_MISSION,
    LITCHI_MISSION_MESSAGE,
    aircraft_meta,
    dji_csv_kind,
    finish_frame,
    mission_frame,
    mission_route,
)
from geoexpose.tracks._row_blocks import RowBlocks, whole_note
from geoexpose.tracks._table_frame import build_frame
from geoexpose.tracks.normalize import ROUTE_PLANNED, RawTrack

__all__ = ["read_csv_track", "read_litchi_mission"]

logger = logging.getLogger(__name__)


def _read_text(path: Path) -> tuple[str, str]:
    """Read a CSV file's text and say its encoding, its line lengths checked first."""
    return _read(path)[:2]


def _read(path: Path) -> tuple[str, str, bytes, np.ndarray]:
    """Read a CSV file: its text, encoding, bytes and line ends (line lengths checked first)."""
    data = path.read_bytes()
    try:
        ends = check_line_bytes(data)
    except LimitError as exc:
        raise InputError(str(exc)) from exc
    return (*decode(data), data, ends)


def _parse(body: str | bytes, sep: str) -> tuple[pd.DataFrame, BadLines]:
    """Parse the CSV body; return the table and the rows skipped for their fields."""
    if isinstance(body, str):  # bytes, as pandas makes of text, without its chunked conversion
        body = body.encode("utf-8", "surrogatepass")
    bad = BadLines()
    with bad.taken():
        try:
            table = pd.read_csv(
                io.BytesIO(body),
                sep=sep,
                skipinitialspace=True,
                on_bad_lines="warn",
                low_memory=False,
            )
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InputError(unreadable(exc)) from exc
    return named(table), bad


def _parse_mapped(
    body: str,
    sep: str,
    *,
    format: str,
    columns: Mapping[str, str] | None,
    alt_ref: str | None,
    raw: tuple[bytes, np.ndarray] | None = None,
) -> tuple[pd.DataFrame, CsvColumns] | None:
    """Parse only the columns an AirData or generic mapping reads, where that is the same.

    Pandas checks rows for too many fields only when it parses every column, so this
    is done only where no row has more separators than the header and no quote can
    hide one. Returns the table and how its columns are read, or None (parse it
    whole) elsewhere: a DJI-family header, a header without the mapping's columns.
    ``raw`` is the body as bytes with its line ends, where the file gave them.
    """
    if raw is None:
        data = body.encode("utf-8", "surrogatepass")
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    else:
        data, ends = raw
    lone_cr = b"\r" in data and data.count(b"\r") != data.count(b"\r\n")
    if sep not in ",;|" or b'"' in data or lone_cr:
        return None
    bytes_ = np.frombuffer(data, dtype=np.uint8)
    if not len(ends):
        return None  # the header alone
    seps = np.flatnonzero(bytes_ == ord(sep))
    upto = np.searchsorted(seps, ends)  # separators before each line end
    per_line = np.diff(upto, prepend=0)
    tail = len(seps) - int(upto[-1])  # of a last line without its line end
    if bool(np.any(per_line[1:] > per_line[0])) or tail > per_line[0]:
        return None
    # The header as _parse names it, where pandas neither numbers a repeated name
    # (``x.1``) nor makes one up for a blank one (``Unnamed: 3``).
    names = body[: body.find("\n")].rstrip("\r").split(sep)
    names = [name.strip() for name in names]
    if "" in names or len(set(names)) < len(names) or dji_csv_kind(names) is not None:
        return None
    try:
        found = csv_columns(names, format, columns, alt_ref)
    except InputError:
        return None  # parsed whole, for its message
    assert not isinstance(found, str)  # a Litchi mission is a DJI-family header
    positions = sorted(names.index(name) for name in found.mapping.names())
    try:
        table = pd.read_csv(
            io.BytesIO(data),
            sep=sep,
            header=0,
            names=range(len(names)),  # renamed below
            # the blanks it drops matter only in the columns read
            skipinitialspace=_blank_led(bytes_, ends, seps, upto, positions),
            usecols=positions,
            low_memory=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None  # parsed whole, for its message
    table.columns = [names[p] for p in positions]
    return table, found


def _blank_led(
    bytes_: np.ndarray, ends: np.ndarray, seps: np.ndarray, upto: np.ndarray, positions: list[int]
) -> bool:
    """Whether a line, or a field of the columns at ``positions``, starts with a blank.

    ``ends`` are the line ends, ``seps`` the separators (no quotes in the data),
    ``upto`` the number of separators before each line end.
    """
    starts = ends + 1  # of each line after the header
    keep = starts < len(bytes_)
    starts, before = starts[keep], upto[keep]  # separators before each line starts
    fields = np.diff(np.append(before, len(seps))) + 1  # at most, blank lines counted as 1
    cols = np.asarray([c for c in positions if c > 0], dtype=np.int64)
    at = starts  # where the fields read begin; every line's first (a blank line's too)
    if len(cols):
        has = fields[:, None] > cols[None, :]  # the line has that column
        at = np.concatenate([at, seps[(before[:, None] + cols[None, :] - 1)[has]] + 1])
    first = bytes_[at[at < len(bytes_)]]
    return bool(np.any((first == 32) | (first == 9)))


def read_csv_track(
    path: Path,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read one CSV track file (see module notes).

    Parameters
    ----------
    path
        The file.
    format
        ``"auto"`` (AirData when the header is AirData's, else generic),
        ``"airdata_csv"`` or ``"csv"`` (generic, aliases and ``columns``).
    columns, time_zone, alt_ref
        See :func:`geoexpose.tracks.read_tracks`; AirData files ignore ``columns``
        and ``alt_ref`` (their columns say what they hold) unless ``format="csv"``.
    blocks
        Where the rows go, in blocks (the reader of one huge file): the file is
        parsed in blocks (:mod:`geoexpose.tracks._csv_blocks`), the rows given there
        and the frame returned has none; a file the blocks cannot keep exact (UTF-16,
        a header alone, ...) is read whole, with a note saying why.

    Raises
    ------
    InputError
        The file cannot be read as a track (message without the path).
    """
    whole_because = None
    if blocks is not None:
        given = read_csv_blocks(
            path, blocks, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref
        )
        if isinstance(given, RawTrack):
            return given
        whole_because = whole_note(path, given)
    text, encoding, data, ends = _read(path)
    body, sep, skipped = split_header(text)
    as_read = len(body) == len(text) and data.isascii()  # the file's bytes are the body's
    body, truncated = cut_truncated(body, sep)
    raw = (data[: len(body)], ends[ends < len(body)]) if as_read else None
    mapped = _parse_mapped(body, sep, format=format, columns=columns, alt_ref=alt_ref, raw=raw)
    found: CsvColumns | None = None
    if mapped is not None:
        table, found = mapped
        bad = BadLines()
    else:
        table, bad = _parse(body, sep)
    dropped = {"truncated_row": truncated, "bad_row": bad.count}
    if mapped is None and dji_csv_kind(list(table.columns)) == LITCHI_MISSION:
        if format != "auto":
            raise InputError(LITCHI_MISSION_MESSAGE)
        frame = mission_route(table)
        notes = [f"{LITCHI_MISSION_MESSAGE}: waypoints without times"]
        return RawTrack(frame, LITCHI_MISSION, dropped, notes=notes, route=ROUTE_PLANNED)
    notes = []
    if truncated:
        line = skipped + body.count("\n") + 1
        notes.append(f"line {line}: last row cut short (file truncated?); dropped")
    if bad.count:
        notes.append(bad.note(skipped))
    if found is None:
        how = csv_columns(list(table.columns), format, columns, alt_ref)
        assert not isinstance(how, str)  # a Litchi mission went above
        found = how
    table = found.view(table)
    frame, basis = build_frame(table, found.mapping, time_zone=time_zone, comma=sep != ",")
    meta = {}
    if found.kind is not None:
        frame = finish_frame(found.kind, table, frame)
        meta = aircraft_meta(table)
    if encoding not in ("utf-8", "utf-16"):
        notes.append(f"not UTF-8; text decoded as {encoding}")
    if whole_because is not None:
        notes.append(whole_because)
    return RawTrack(frame, found.name, dropped, basis, notes, meta=meta)


def read_litchi_mission(path: Path) -> gpd.GeoDataFrame:
    """Read a Litchi mission CSV (planned waypoints) as points.

    Parameters
    ----------
    path
        The mission file (header ``latitude,longitude,altitude(m),heading(deg),
        curvesize(m),...,altitudemode,...``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per waypoint in file order, EPSG:4326 points, columns
        ``waypoint_index`` (from 0), ``height_m`` (metres, from the header's unit),
        ``height_ref`` (``"takeoff"`` for altitudemode 0, ``"ground"`` for 1),
        ``geometry``.

    Raises
    ------
    InputError
        Not a Litchi mission, or a waypoint without a readable position or height.
    """
    path = Path(path)
    try:
        text, _encoding = _read_text(path)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    body, sep, _skipped = split_header(text)
    table, _bad = _parse(body, sep)
    if dji_csv_kind(list(table.columns)) != LITCHI_MISSION:
        raise InputError(f"{path}: not a Litchi mission (no curvesize(m) column)")
    try:
        attrs, lon, lat = mission_frame(table)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    return gpd.GeoDataFrame(attrs, geometry=gpd.points_from_xy(lon, lat), crs=CRS_LONLAT)
