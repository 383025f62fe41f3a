"""The track formats geoexpose reads, in one table, and a file told and read by it.

Each format is one row of :data:`TRACK_FORMATS` (a :class:`TrackFormat`): its
``format=`` name, the file name endings a folder walk looks for, a test of a
file's first bytes (and path), the reader (a ``geoexpose.tracks._*`` module) and,
for autopilot logs, the reader of its camera records. A new format is one row
here and one reader module. :data:`FORMATS` and :data:`TRACK_SUFFIXES` come from
the table.

:func:`sniff_format` tells a file's format from its content, trying the formats
by ``rank``: the first whose test takes the file wins. A file of blanks only,
XML that is neither GPX nor KML, or a zip archive that is not a KMZ is refused
(:class:`~geoexpose.errors.InputError`); what no format takes goes to the CSV
reader, which tells whether it is text at all. :func:`read_track_file` reads one
file, :func:`read_camera_events` the camera records of an autopilot log.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from geoexpose.errors import InputError, UsageError
from geoexpose.tracks._ardupilot import (
    dataflash_camera_events,
    read_dataflash,
    read_tlog,
    sniff_dataflash,
    sniff_tlog,
    tlog_camera_events,
)
from geoexpose.tracks._csv import read_csv_track
from geoexpose.tracks._dji_txt import read_dji_txt, sniff_dji_txt
from geoexpose.tracks._gpx import read_gpx
from geoexpose.tracks._kml import read_kml, sniff_kml
from geoexpose.tracks._pcap import sniff_remote_id
from geoexpose.tracks._remoteid import read_remote_id
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._srt import read_srt, sniff_srt
from geoexpose.tracks._ulog import read_ulog, sniff_ulog, ulog_camera_events
from geoexpose.tracks._vector import read_vector, sniff_geojson, sniff_vector
from geoexpose.tracks.normalize import RawTrack

__all__ = [
    "FORMATS",
    "TRACK_FORMATS",
    "TRACK_SUFFIXES",
    "ReadOptions",
    "TrackFormat",
    "format_of",
    "read_camera_events",
    "read_track_file",
    "sniff_format",
    "track_format",
]

#: How many bytes of a file its format is told from.
_SNIFF_BYTES = 4096


@dataclass(frozen=True)
class ReadOptions:
    """What a reader is asked besides the file: the options of ``read_tracks``.

    Attributes
    ----------
    format
        The ``format=`` asked for: ``"auto"`` where the file's format was sniffed,
        else the name of the format (the CSV reader tells AirData and DJI exports
        apart only when sniffed).
    columns, time_zone, alt_ref
        As for :func:`geoexpose.tracks.read_tracks`.
    blocks
        Where a reader that can gives its rows, in blocks as it reads them (the
        reader of one huge file, :mod:`geoexpose.tracks.pieces`); None: in its frame.
    """

    format: str = "auto"
    columns: Mapping[str, str] | None = None
    time_zone: str | None = None
    alt_ref: str | None = None
    blocks: RowBlocks | None = None


#: A format's reader: the file and the options, to what the file holds.
TrackReader = Callable[[Path, ReadOptions], RawTrack]
#: A format's test: whether a file's first bytes (and its path) are of the format.
Sniffer = Callable[[bytes, Path], bool]


@dataclass(frozen=True)
class TrackFormat:
    """A track format: how a folder walk finds it, how it is told and how it is read.

    Attributes
    ----------
    name
        The value of ``format=`` that names it.
    suffixes
        Lower-case file name endings a folder walk takes for this format; none for
        formats read only from files given by name (vector layers).
    sniff
        Whether a file's first bytes (and its path) are of this format; it may raise
        :class:`~geoexpose.errors.InputError` to refuse a file no format reads.
        None: the format is read only when named.
    read
        The reader.
    rank
        Where sniffing tries this format: lowest first, the first that takes a
        file wins (so a test may rely on the ones before it).
    camera_events
        The reader of the log's camera records (columns of
        :data:`geoexpose.tracks._logs.CAMERA_COLUMNS`), for autopilot logs; None
        for formats without them.
    by_content
        A folder walk takes a file with one of ``suffixes`` only where ``sniff``
        takes it too: the ending alone does not claim it (``.txt`` is a DJI flight
        record's, but also a README's). Files given by name are read whatever.
    """

    name: str
    suffixes: tuple[str, ...]
    sniff: Sniffer | None
    read: TrackReader
    rank: int = 0
    camera_events: Callable[[Path], pd.DataFrame] | None = None
    by_content: bool = False


class _TimedReader(Protocol):
    def __call__(
        self, path: Path, *, time_zone: str | None = ..., alt_ref: str | None = ...
    ) -> RawTrack: ...


def _plain(reader: _TimedReader) -> TrackReader:
    """Return a reader for a format whose reader takes only ``time_zone`` and ``alt_ref``."""

    def read(path: Path, options: ReadOptions) -> RawTrack:
        return reader(path, time_zone=options.time_zone, alt_ref=options.alt_ref)

    return read


def _read_gpx(path: Path, options: ReadOptions) -> RawTrack:
    return read_gpx(
        path, time_zone=options.time_zone, alt_ref=options.alt_ref, blocks=options.blocks
    )


def _read_kml(path: Path, options: ReadOptions) -> RawTrack:
    return read_kml(
        path, time_zone=options.time_zone, alt_ref=options.alt_ref, blocks=options.blocks
    )


def _read_csv(path: Path, options: ReadOptions) -> RawTrack:
    try:
        return read_csv_track(
            path,
            format=options.format,
            columns=options.columns,
            time_zone=options.time_zone,
            alt_ref=options.alt_ref,
            blocks=options.blocks,
        )
    except InputError as exc:
        if options.format != "auto" or path.suffix.lower() != ".txt":
            raise
        # a .txt that no other format took: say first what it was expected to be
        raise InputError(f"not a DJI flight record, nor a table of fixes ({exc})") from exc


def _read_layer(name: str) -> TrackReader:
    """Return a reader of vector layers (GDAL) for the format ``name``."""

    def read(path: Path, options: ReadOptions) -> RawTrack:
        return read_vector(
            path,
            format=name,
            columns=options.columns,
            time_zone=options.time_zone,
            alt_ref=options.alt_ref,
            blocks=options.blocks,
        )

    return read


def _sniff_xml(head: bytes, path: Path) -> bool:
    """GPX: XML with a ``<gpx`` element; other XML (KML was tried before) is refused."""
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return False
    lower = head.lower()
    if b"<gpx" in lower:
        return True
    if b"<kml" in lower:
        raise InputError("malformed KML (no <kml> root element)")
    raise InputError("XML that is neither GPX nor KML")


def _sniff_rest(head: bytes, path: Path) -> bool:
    """CSV: what no other format took (text or not, the CSV reader tells), but a zip."""
    if head.startswith(b"PK\x03\x04"):
        raise InputError("zip archive without a .kml or .wpml file; not a track format")
    return True


#: Every track format, as ``format=`` lists them; ``rank`` orders the sniffing.
TRACK_FORMATS: tuple[TrackFormat, ...] = (
    TrackFormat("airdata_csv", (".csv",), None, _read_csv),
    TrackFormat("csv", (".csv",), _sniff_rest, _read_csv, rank=110),
    TrackFormat("gpx", (".gpx",), _sniff_xml, _read_gpx, rank=60),
    TrackFormat("geojson", (".geojson", ".json"), sniff_geojson, _read_layer("geojson"), rank=70),
    TrackFormat("vector", (), sniff_vector, _read_layer("vector"), rank=80),
    TrackFormat("kml", (".kml", ".kmz"), sniff_kml, _read_kml, rank=50),
    TrackFormat(
        "remote_id", (".pcap", ".pcapng"), sniff_remote_id, _plain(read_remote_id), rank=90
    ),
    TrackFormat("dji_srt", (".srt",), sniff_srt, _plain(read_srt), rank=100),
    TrackFormat(
        "dji_txt", (".txt",), sniff_dji_txt, _plain(read_dji_txt), rank=40, by_content=True
    ),
    TrackFormat(
        "ardupilot_bin",
        (".bin",),
        sniff_dataflash,
        _plain(read_dataflash),
        rank=10,
        camera_events=dataflash_camera_events,
    ),
    TrackFormat(
        "mavlink_tlog",
        (".tlog",),
        sniff_tlog,
        _plain(read_tlog),
        rank=20,
        camera_events=tlog_camera_events,
    ),
    TrackFormat(
        "px4_ulog",
        (".ulg",),
        sniff_ulog,
        _plain(read_ulog),
        rank=30,
        camera_events=ulog_camera_events,
    ),
)

#: Values of ``format=``.
FORMATS = ("auto", *(f.name for f in TRACK_FORMATS))
#: File name endings looked for in folders (a ``.txt`` is then taken only where it is a
#: DJI flight record: see :attr:`TrackFormat.by_content` and
#: :func:`geoexpose.tracks.track_files`).
TRACK_SUFFIXES = tuple(dict.fromkeys(s for f in TRACK_FORMATS for s in f.suffixes))

_SNIFFED = sorted((f for f in TRACK_FORMATS if f.sniff is not None), key=lambda f: f.rank)


def track_format(name: str) -> TrackFormat:
    """Return the format named ``name``.

    Raises
    ------
    UsageError
        No format has that name.

    Examples
    --------
    >>> track_format("gpx").suffixes
    ('.gpx',)
    """
    for found in TRACK_FORMATS:
        if found.name == name:
            return found
    raise UsageError(f"format={name!r}: expected one of {', '.join(FORMATS)}")


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(_SNIFF_BYTES)


def sniff_format(path: str | os.PathLike[str]) -> str:
    """Tell the format of a file from its first bytes (and its name where needed).

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        The name of its format (one of :data:`FORMATS`; ``"csv"`` for what no
        other format takes, which the CSV reader reads or refuses).

    Raises
    ------
    InputError
        The file is empty (blanks only), XML that is neither GPX nor KML, or a zip
        archive without a ``.kml`` or ``.wpml`` file.
    OSError
        The file cannot be read.
    """
    path = Path(path)
    head = _head(path)
    if not head.strip():  # no format's first bytes are blanks only
        raise InputError("empty file")
    # the last format (the CSV reader's) takes whatever it does not refuse
    return next(f.name for f in _SNIFFED if f.sniff is not None and f.sniff(head, path))


def read_track_file(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
) -> RawTrack:
    """Read one track file as its format's reader finds it, before any cleaning.

    Parameters
    ----------
    path
        The file.
    format, columns, time_zone, alt_ref
        As for :func:`geoexpose.tracks.read_tracks`.

    Returns
    -------
    RawTrack
        One row per record of the file, with what the reader noted.

    Raises
    ------
    InputError
        The file does not exist or cannot be read as a track (message without the path).
    UsageError
        ``format`` names no format.
    """
    path = Path(path)
    name = format_of(path, format)
    return track_format(name).read(path, ReadOptions(format, columns, time_zone, alt_ref))


def format_of(path: Path, format: str) -> str:
    """Return the format ``path`` is read as: ``format``, or its content's where ``"auto"``.

    Raises
    ------
    InputError
        The file does not exist, or its content is refused (see :func:`sniff_format`).
    """
    if not path.exists():
        raise InputError("no such file or folder")
    return sniff_format(path) if format == "auto" else format


def read_camera_events(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Camera trigger records of an ArduPilot, MAVLink or PX4 log.

    Parameters
    ----------
    path
        A DataFlash ``.bin`` (``CAM`` and ``TRIG`` messages), a ``.tlog``
        (``CAMERA_FEEDBACK``) or a PX4 ``.ulg`` (``camera_capture``): a file of a
        format with ``camera_events``, told from its content.

    Returns
    -------
    pandas.DataFrame
        One row per record in file order, columns
        :data:`geoexpose.tracks._logs.CAMERA_COLUMNS`: ``time_utc``, ``lat``,
        ``lon`` (degrees), ``alt_msl_m``, ``alt_agl_m`` (above home), ``roll_deg``,
        ``pitch_deg``, ``yaw_deg`` (vehicle or camera attitude as the log gives it),
        ``message`` (the record's message name); NaN/NaT where the log lacks a
        value. No rows when the log has no camera records.

    Raises
    ------
    InputError
        Not one of these logs, or it cannot be decoded.
    """
    path = Path(path)
    try:
        head = _head(path)
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror})") from exc
    for found in _SNIFFED:
        if found.camera_events is not None and found.sniff is not None and found.sniff(head, path):
            return found.camera_events(path)
    raise InputError("not an ArduPilot .bin, MAVLink .tlog or PX4 .ulg log")
