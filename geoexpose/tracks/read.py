"""Read flight tracks: one row per fix, cleaned, in flights, with a report per file.

:func:`read_tracks` finds the track files, tells each file's format from its
content and reads it (the table of :mod:`geoexpose.tracks.formats`), cleans the
fixes and numbers the flights (:mod:`geoexpose.tracks.normalize`), and reports per
file what it read, kept, dropped and skipped.

Some files hold positions but no time at all: planned routes (DJI WPML mission
KMZ, Litchi mission CSV) and tracks drawn without times (AirData KML, a GPX
without ``<time>``). A fix needs a time (exposure integrates time over sites), so
such files give no fixes: :func:`read_tracks` reports each of them with status
``"route"``, counts its positions as dropped ``untimed``, summarises them under
``route`` in its file entry and warns once; :func:`geoexpose.tracks.read_routes`
reads them, one row per position, with ``route_kind`` ``"planned"`` or
``"untimed"``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoexpose._files import file_labels
from geoexpose._fork import fork_map
from geoexpose._progress import progress_bar
from geoexpose.errors import UsageError
from geoexpose.tracks._fix_table import FilePiece, FixTable, file_piece
from geoexpose.tracks._reading import check_options, clean_read, read_file, warn
from geoexpose.tracks.duplicates import drop_duplicate_flights
from geoexpose.tracks.files import track_files
from geoexpose.tracks.formats import ReadOptions
from geoexpose.tracks.normalize import MAX_SPEED_M_S

__all__ = ["LARGE_TRACK_BYTES", "TrackReading", "read_tracks"]

logger = logging.getLogger(__name__)

#: A track file this large is read whole with a warning that a streamed scan reads it
#: in pieces: its fixes take a few hundred bytes each in memory (a GPX point about 150
#: bytes of text), so several times the file's size.
LARGE_TRACK_BYTES = 512 * 1024**2


def _warn_large(files: list[Path]) -> None:
    """Warn of each file over :data:`LARGE_TRACK_BYTES` (before it is read)."""
    for path in files:
        try:
            size = path.stat().st_size
        except OSError:
            continue  # said when it is read
        if size > LARGE_TRACK_BYTES:
            warn(
                path,
                f"{size / 1024**3:.1f} GiB: every fix of it is held in memory (several times "
                "the file's size); a streamed scan (engine='local') reads it in pieces of "
                "bounded memory",
            )


def read_tracks(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    split_gap_s: float = 60.0,
    max_speed_m_s: float = MAX_SPEED_M_S,
    strict: bool = False,
    progress: bool = False,
    duplicates: str = "drop",
    workers: int = 1,
) -> gpd.GeoDataFrame:
    """Read flight tracks into one row per fix.

    Parameters
    ----------
    paths
        A file or folder, or an iterable of them. Folders are walked for files
        ending in one of :data:`TRACK_SUFFIXES` (hidden files and folders left
        out), a ``.txt`` only where it is a DJI flight record; other files found
        there are ignored (:func:`geoexpose.tracks.track_files` lists the files
        read).
    format
        ``"auto"`` (from each file's content), or one of :data:`FORMATS` for
        every file: ``"airdata_csv"``, ``"csv"`` (generic, by column aliases),
        ``"gpx"``, ``"geojson"``, ``"vector"`` (any layer GDAL reads), ``"kml"``
        (KML/KMZ, DJI WPML), ``"remote_id"`` (pcap/pcapng), ``"dji_srt"``,
        ``"dji_txt"``, ``"ardupilot_bin"``, ``"mavlink_tlog"``, ``"px4_ulog"``.
    columns
        Names of the columns (or GeoJSON properties) to use, overriding the alias
        tables: keys ``"lat"``, ``"lon"``, ``"time"``, ``"alt"``, ``"alt_msl"``,
        ``"date"``. Not used for AirData files (unless ``format="csv"``).
    time_zone
        IANA zone name (``"Europe/Copenhagen"``) of times written without zone or
        offset. Without it such times are taken as UTC and an :class:`InputWarning`
        says so; times with ``Z`` or an offset are always converted to UTC.
    alt_ref
        What the file's generic altitude (a CSV ``alt`` column, GPX ``<ele>``, a
        Z coordinate) measures: ``"takeoff"``, ``"ground"`` or ``"msl"`` (then
        stored in ``alt_msl_m``, with ``alt_agl_m`` empty). Default: from the
        column name for CSV (``alt``/``altitude``/``height`` are above takeoff),
        ``"msl"`` for GPX ``<ele>`` and Z coordinates. A drone app's GPX (its
        ``creator``: AirData, DJI, Litchi, ...) read without ``alt_ref`` also gets
        ``alt_agl_m`` above take-off, ``<ele>`` minus the first fix's, for each
        flight that starts still on the ground (the file entry's notes say so).
    split_gap_s
        Start a new flight where two fixes of a track are more than this many
        seconds apart (``math.inf``: never).
    max_speed_m_s
        A lone fix that both its neighbours reach only faster than this is a GPS
        jump, dropped and counted (``math.inf``: no gate).
    strict
        Raise :class:`InputError` for a file that cannot be read, instead of
        warning and skipping it.
    progress
        Show a progress bar over the files on standard error, when it is a terminal.
    duplicates
        ``"drop"``: a flight that several files hold counts once, the richer copy
        kept (see the notes); ``"keep"``: every file's fixes as read.
    workers
        Files read and cleaned at once, each in a forked process (Linux, and only
        from a process with one thread; elsewhere one after another). The result,
        warnings and errors are those of ``workers=1``, in the same order.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per kept fix, columns :data:`geoexpose.schema.FIX_COLUMNS`
        (``flight_id`` like ``"<file name>#1"``, ``time_utc``, ``alt_agl_m``,
        ``alt_ref``, ``alt_msl_m``, ``source``, ``geometry``), then ``speed_m_s``,
        ``yaw_deg``, ``gimbal_pitch_deg``, ``gimbal_yaw_deg``, ``is_photo``,
        ``is_video``, ``drone_id`` (Remote ID: the broadcast UAS id, serial
        first; flight logs: the aircraft serial where the log names it),
        ``operator_lon``, ``operator_lat`` (Remote ID: the remote pilot's
        position) -- empty where the source lacks them; sorted by flight then
        time. ``attrs["geoexpose"]["files"]`` has one entry per file: ``path``,
        ``format``, ``status`` (``"read"``; ``"route"`` for a file of positions
        without times, see the module notes; ``"skipped"``), ``reason`` (why
        skipped, why no fix was kept, or what the route is), ``rows_read``,
        ``rows_kept``, ``dropped`` (by reason), ``flights``, ``time_basis``,
        ``aircraft`` (the model the log names, else None), ``notes``, and for
        routes ``route`` (``kind``, ``routes``, ``positions``,
        ``bounds_lonlat``, altitude ranges).

    Raises
    ------
    UsageError
        An option has a value that cannot be used.
    InputError
        With ``strict=True``, a file cannot be read.

    Notes
    -----
    Points are EPSG:4326 longitude/latitude; altitudes in metres; times UTC. Rows
    without a fix, at 0/0, out of range, dated before 2000 or in the future, ahead
    of the rest of their track, repeating or going back in time are dropped and
    counted; one such row never costs the rest of its file. Heights that are not
    finite or beyond 50 km are emptied (the position kept) and noted (see
    :mod:`geoexpose.tracks.normalize`); ``rows_read`` equals ``rows_kept`` plus the
    dropped counts. A file that is read but keeps no fix
    is warned about with the reasons. AirData's ``alt_agl_m`` is AirData's
    height above the ground (from its elevation model) where present, else the
    height above takeoff, row by row, with ``alt_ref`` saying which.

    Each drone of a Remote ID capture is a track of its own, so its fixes make
    flights of their own (``flight_id`` per drone and file).

    The same flight in several files counts once: the poorer copies' fixes are
    dropped (:func:`geoexpose.tracks.drop_duplicate_flights`), counted as
    ``duplicate`` in their file entries, and listed in
    ``attrs["geoexpose"]["duplicates"]``.
    """
    reading = TrackReading(
        paths, format=format, columns=columns, time_zone=time_zone, alt_ref=alt_ref,
        split_gap_s=split_gap_s, max_speed_m_s=max_speed_m_s, strict=strict,
        progress=progress, duplicates=duplicates, workers=workers,
    )  # fmt: skip
    with reading:
        return reading.result()


class TrackReading:
    """Track files being read, as :func:`read_tracks` reads them, taken by :meth:`result`.

    The reading starts at once: with several ``workers`` forked readers work while the
    caller does something else (a scan reads its site layers meanwhile). Use it in a
    ``with`` block, which stops readers whose results were not taken. The parameters
    are those of :func:`read_tracks`.

    Examples
    --------
    >>> from geoexpose.demo import make_demo_inputs
    >>> import tempfile
    >>> demo = make_demo_inputs(tempfile.mkdtemp())
    >>> with TrackReading(demo.tracks, workers=2) as reading:
    ...     fixes = reading.result()  # the caller may do other work before this
    >>> fixes["flight_id"].nunique()
    3
    """

    def __init__(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        format: str = "auto",
        columns: Mapping[str, str] | None = None,
        time_zone: str | None = None,
        alt_ref: str | None = None,
        split_gap_s: float = 60.0,
        max_speed_m_s: float = MAX_SPEED_M_S,
        strict: bool = False,
        progress: bool = False,
        duplicates: str = "drop",
        workers: int = 1,
    ) -> None:
        check_options(format, columns, time_zone, alt_ref, split_gap_s)
        if duplicates not in ("drop", "keep"):
            raise UsageError(f"duplicates={duplicates!r}: expected 'drop' or 'keep'")
        self._options = ReadOptions(format, columns, time_zone, alt_ref)
        self._split_gap_s, self._max_speed_m_s = split_gap_s, max_speed_m_s
        self._strict, self._progress, self._duplicates = strict, progress, duplicates
        self._files = track_files(paths)
        self._labels = file_labels(self._files)
        _warn_large(self._files)
        self._done = fork_map(
            self._read_one, range(len(self._files)), workers=workers, keep_freed=True
        )

    def _read_one(self, k: int) -> tuple[dict[str, Any], FilePiece | None]:
        """Read and clean file ``k``, made ready for the fix table (in a child, if forked)."""
        path = self._files[k]
        entry, raw = read_file(path, self._options, strict=self._strict)
        kept = clean_read(
            path, entry, raw, split_gap_s=self._split_gap_s, max_speed_m_s=self._max_speed_m_s
        )
        if kept is None or raw is None:
            return entry, None
        return entry, file_piece(kept, self._labels[k], path, raw.meta)

    def result(self) -> gpd.GeoDataFrame:
        """Take the files' fixes as they come: the table :func:`read_tracks` returns."""
        files, entries, table = self._files, [], FixTable()
        found = progress_bar(
            self._done, progress=self._progress, total=len(files), desc="tracks", unit="file"
        )
        for path, (entry, piece) in zip(files, found, strict=True):
            entries.append(entry)
            if piece is not None:
                entry["flights"] = table.add_piece(piece)
            del piece  # this file's arrays go before the next file is taken
            if entry["status"] == "read":
                logger.info(
                    "%s: %d of %d rows kept, %d flights",
                    path,
                    entry["rows_kept"],
                    entry["rows_read"],
                    len(entry["flights"]),
                )
        fixes = table.frame()
        del table
        fixes.attrs["geoexpose"] = {"files": entries}
        if self._duplicates == "keep":
            return fixes
        return drop_duplicate_flights(fixes)  # the same flight in two files counts once

    def close(self) -> None:
        """Stop the readers still at work (their results are not taken)."""
        self._done.close()

    def __enter__(self) -> TrackReading:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
