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
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks._columns import ALT_REF_MSL
from geoexpose.tracks._kml_parse import ZIP_ERRORS, Found, read_document
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._values import parse_times
from geoexpose.tracks._wpml import wpml_frame
from geoexpose.tracks.normalize import ROUTE_UNTIMED, SEGMENT, RawTrack

__all__ = ["read_kml", "sniff_kml"]

logger = logging.getLogger(__name__)

NO_TIMES = "KML LineString has no times: positions only"
_KML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?kml[\s>/]")


def _heights(
    z: np.ndarray, modes: np.ndarray, alt_ref: str | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """alt_agl_m, alt_ref, alt_msl_m from one altitude per row and its altitudeMode."""
    if alt_ref is not None:
        msl = np.full(len(z), alt_ref == ALT_REF_MSL)
        ground = np.full(len(z), alt_ref == ALT_REF_GROUND)
        notes.append(f"altitudes read as {alt_ref!r} (alt_ref=)")
    else:
        msl = modes == "absolute"
        ground = modes == "relativeToGround"
        if msl.any():
            notes.append(
                "KML altitudeMode absolute: altitudes are metres above sea level "
                "(alt_msl_m); no height above takeoff or ground (alt_ref 'takeoff' "
                "is a placeholder)"
            )
        unused = ~(msl | ground) & np.isfinite(z) & (z != 0)
        if unused.any():
            names = ", ".join(sorted(set(modes[unused])))
            notes.append(f"altitudes ignored (altitudeMode {names}; pass alt_ref= to use them)")
    agl_rows = ~msl & (ground | (alt_ref is not None))
    agl = np.where(agl_rows, z, np.nan)
    ref = np.where(ground, ALT_REF_GROUND, ALT_REF_TAKEOFF).astype(object)
    return agl, ref, np.where(msl, z, np.nan)


def _track_frame(found: Found, *, time_zone: str | None, alt_ref: str | None) -> RawTrack:
    timed = [w is not None for w in found.whens]
    keep = [i for i, c in enumerate(found.coords) if len(c) and (timed[i] or not any(timed))]
    if not keep:
        raise InputError("no track in the KML: need a Placemark with a gx:Track or LineString")
    notes: list[str] = []
    left_out = len(found.coords) - len(keep)
    if any(timed) and left_out:
        notes.append(f"{left_out} track(s) without times or points left out")
    counts = np.array([len(found.coords[i]) for i in keep])
    xyz = np.concatenate([found.coords[i] for i in keep])
    frame = pd.DataFrame({LAT: xyz[:, 1], LON: xyz[:, 0]})
    basis, route = "utc", None
    if any(timed):
        stamps = pd.Series([s for i in keep for s in found.whens[i] or ()], dtype=object)
        try:
            times, basis = parse_times(stamps, column="when", time_zone=time_zone)
        except (ValueError, TypeError) as exc:  # TypeError: normalize on odd zone text
            raise InputError(f"KML <when>: {' '.join(str(exc).split())}") from exc
        frame[TIME_UTC] = times.to_numpy()
    else:
        frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
        notes.append(NO_TIMES)
        route = ROUTE_UNTIMED
    frame[TIME_UTC] = frame[TIME_UTC].astype(TIME_DTYPE)
    modes = np.repeat(np.array([found.modes[i] for i in keep], dtype=object), counts)
    frame[ALT_AGL_M], frame[ALT_REF], frame[ALT_MSL_M] = _heights(xyz[:, 2], modes, alt_ref, notes)
    frame[SEGMENT] = np.repeat(np.arange(len(keep)), counts)
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
        Where the rows go in blocks (the reader of one huge file); not used yet.

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
    del blocks  # read whole for now
    found, container = read_document(path)
    if found.waypoints:
        return wpml_frame(found)
    raw = _track_frame(found, time_zone=time_zone, alt_ref=alt_ref)
    raw.format = container
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
