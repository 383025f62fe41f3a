"""Read flight tracks from KML and KMZ files (a DJI WPML mission KMZ as its waypoints).

KML (2.2 and 2.3, with or without Google's ``gx`` extension), plain or zipped as
KMZ (``doc.kml`` inside, else the first ``.kml``), elements matched by namespace
(:mod:`geoexpose.tracks._kml_parse`):

- ``gx:Track`` (KML 2.3 ``Track``): each ``<when>`` with its ``<gx:coord>`` is a
  fix; every track, also each track of a ``gx:MultiTrack``, is a ``segment``.
- ``LineString``: ``<coordinates>`` gives positions but no times, so its rows
  have ``time_utc`` NaT and the :class:`RawTrack` is an untimed route
  (``route="untimed"``, noted "KML LineString has no times: positions only"):
  :func:`geoexpose.tracks.read_routes` reads it, :func:`geoexpose.read_tracks`
  reports it without fixes. Where a file also has timed tracks, its untimed
  lines are left out (noted). Each line is a ``segment``.
- Points (AirData's "Home" placemark) and polygons are skipped.

Altitudes follow each geometry's ``altitudeMode``: ``absolute`` is metres above
sea level (``alt_msl_m``; ``alt_agl_m`` empty and ``alt_ref="takeoff"`` as a
placeholder, noted), ``relativeToGround`` is ``alt_agl_m`` with
``alt_ref="ground"``; ``clampToGround`` (the KML default) and the sea-floor modes
say the altitude is not used, so it is dropped (noted). ``alt_ref`` overrides the
mode for every altitude of the file, as for GPX ``<ele>``. Times without zone are
read in ``time_zone`` (else taken as UTC, ``time_basis="assumed_utc"``).

Given ``blocks`` (a :class:`~geoexpose.tracks._row_blocks.RowBlocks`: the reader of one
huge file, through its :class:`~geoexpose.tracks.formats.ReadOptions`), the rows of the
timed tracks go to it in blocks, the file parsed in bounded memory
(:mod:`geoexpose.tracks._kml_blocks`), and the frame returned has no rows; the rows,
notes, errors and time basis are those of the whole reading. A file without times is
read whole (an untimed route).

A DJI WPML mission (KMZ holding ``wpmz/waylines.wpml``) is a *planned route*, not a
flown track: :func:`read_kml` returns its waypoints (format ``"dji_wpml"``,
``route="planned"``, see :mod:`geoexpose.tracks._wpml`).
"""

from __future__ import annotations

import logging
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.tracks._kml_blocks import read_kml_blocks
from geoexpose.tracks._kml_parse import ZIP_ERRORS, Found, read_document
from geoexpose.tracks._kml_rows import height_notes, left_out_note, track_rows, when_error
from geoexpose.tracks._row_blocks import RowBlocks, whole_note
from geoexpose.tracks._values import parse_times
from geoexpose.tracks._wpml import wpml_frame
from geoexpose.tracks.normalize import ROUTE_UNTIMED, RawTrack

__all__ = ["read_kml", "sniff_kml"]

logger = logging.getLogger(__name__)

NO_TIMES = "KML LineString has no times: positions only"
_KML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?kml[\s>/]")


def _track_frame(found: Found, *, time_zone: str | None, alt_ref: str | None) -> RawTrack:
    timed = [w is not None for w in found.whens]
    keep = [i for i, c in enumerate(found.coords) if len(c) and (timed[i] or not any(timed))]
    if not keep:
        raise InputError("no track in the KML: need a Placemark with a gx:Track or LineString")
    notes: list[str] = []
    left_out = len(found.coords) - len(keep)
    if any(timed) and left_out:
        notes.append(left_out_note(left_out))
    counts = np.array([len(found.coords[i]) for i in keep])
    xyz = np.concatenate([found.coords[i] for i in keep])
    basis, route, times = "utc", None, None
    if any(timed):
        stamps = pd.Series([s for i in keep for s in found.whens[i] or ()], dtype=object)
        try:
            times, basis = parse_times(stamps, column="when", time_zone=time_zone)
        except (ValueError, TypeError) as exc:  # TypeError: normalize on odd zone text
            raise when_error(exc) from exc
    else:
        notes.append(NO_TIMES)
        route = ROUTE_UNTIMED
    modes = np.repeat(np.array([found.modes[i] for i in keep], dtype=object), counts)
    segments = np.repeat(np.arange(len(keep)), counts)
    frame, facts = track_rows(xyz, times, modes, segments, alt_ref)
    notes += height_notes(alt_ref, facts)
    return RawTrack(frame, "kml", time_basis=basis, notes=notes, route=route)


def read_kml(
    path: Path,
    *,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read the tracks of a KML or KMZ file, or the waypoints of a DJI WPML KMZ.

    Parameters
    ----------
    path
        A ``.kml`` file, or a ``.kmz`` zip holding one (or DJI's ``wpmz/`` files).
    time_zone
        IANA zone name of ``<when>`` times written without zone or offset.
    alt_ref
        ``"takeoff"``, ``"ground"`` or ``"msl"``: what every altitude of the file
        measures, overriding ``altitudeMode`` (not used for WPML).
    blocks
        Where the rows of timed tracks go, in blocks as they are read (the reader
        of one huge file, :mod:`geoexpose.tracks._kml_blocks`); the frame returned
        then has no rows. A file without times, or a WPML mission, is read whole.

    Returns
    -------
    RawTrack
        Format ``"kml"``, ``"kmz"`` or ``"dji_wpml"`` (see module notes).

    Raises
    ------
    InputError
        Not KML, malformed XML or zip, a track whose ``<when>`` and ``<coord>``
        counts differ, or no track.
    """
    found, whole_because = None, None
    if blocks is not None:
        raw, found, container = read_kml_blocks(
            path, time_zone=time_zone, alt_ref=alt_ref, blocks=blocks
        )
        if raw is not None:
            return raw
        if not container:  # the parse stopped: the stream cannot keep the tracks' order
            whole_because = whole_note(path, "track elements in an order a stream cannot keep")
    if found is None:
        found, container = read_document(path)
    if found.waypoints:
        return wpml_frame(found)
    raw = _track_frame(found, time_zone=time_zone, alt_ref=alt_ref)
    raw.format = container
    if whole_because is not None:
        raw.notes.append(whole_because)
    return raw


def sniff_kml(head: bytes, path: Path) -> bool:
    """Whether a file is KML (``<kml`` root) or a KMZ zip holding a .kml or .wpml file."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (*ZIP_ERRORS, OSError, ValueError):
            return path.suffix.lower() == ".kmz"
        return any(name.lower().endswith((".kml", ".wpml")) for name in names)
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(codec, errors="ignore").encode("utf-8")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and _KML_ROOT.search(head) is not None
