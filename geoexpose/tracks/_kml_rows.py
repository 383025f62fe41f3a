"""Make the rows of KML tracks (positions, times, heights by ``altitudeMode``) and their notes.

Shared by the whole reading (:mod:`geoexpose.tracks._kml`) and the reading in blocks
(:mod:`geoexpose.tracks._kml_blocks`): :func:`track_rows` makes the frame of some rows
and says the facts the height notes need (whether any altitude is ``absolute``, the
modes of the altitudes not used); :func:`height_notes` words them once for the file.
"""

from __future__ import annotations

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
from geoexpose.tracks.normalize import SEGMENT

__all__ = ["HeightFacts", "height_notes", "left_out_note", "track_rows", "when_error"]

#: What the height notes of a file say: any altitude ``absolute``, and the
#: ``altitudeMode`` names of the altitudes not used.
HeightFacts = tuple[bool, set[str]]


def _heights(
    z: np.ndarray, modes: np.ndarray, alt_ref: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, HeightFacts]:
    """alt_agl_m, alt_ref, alt_msl_m from one altitude per row and its altitudeMode."""
    unused: set[str] = set()
    if alt_ref is not None:
        msl = np.full(len(z), alt_ref == ALT_REF_MSL)
        ground = np.full(len(z), alt_ref == ALT_REF_GROUND)
    else:
        msl = modes == "absolute"
        ground = modes == "relativeToGround"
        left = ~(msl | ground) & np.isfinite(z) & (z != 0)
        if left.any():
            unused = set(modes[left].tolist())
    agl_rows = ~msl & (ground | (alt_ref is not None))
    agl = np.where(agl_rows, z, np.nan)
    ref = np.where(ground, ALT_REF_GROUND, ALT_REF_TAKEOFF).astype(object)
    facts = (alt_ref is None and bool(msl.any()), unused)
    return agl, ref, np.where(msl, z, np.nan), facts


def height_notes(alt_ref: str | None, facts: HeightFacts) -> list[str]:
    """Return the notes on a file's heights, from the facts of all its rows.

    >>> height_notes(None, (False, {"clampToGround"}))
    ['altitudes ignored (altitudeMode clampToGround; pass alt_ref= to use them)']
    """
    if alt_ref is not None:
        return [f"altitudes read as {alt_ref!r} (alt_ref=)"]
    notes = []
    any_msl, unused = facts
    if any_msl:
        notes.append(
            "KML altitudeMode absolute: altitudes are metres above sea level "
            "(alt_msl_m); no height above takeoff or ground (alt_ref 'takeoff' "
            "is a placeholder)"
        )
    if unused:
        names = ", ".join(sorted(unused))
        notes.append(f"altitudes ignored (altitudeMode {names}; pass alt_ref= to use them)")
    return notes


def track_rows(
    xyz: np.ndarray,
    times: pd.Series | None,
    modes: np.ndarray,
    segments: np.ndarray,
    alt_ref: str | None,
    start: int = 0,
) -> tuple[pd.DataFrame, HeightFacts]:
    """Return the RawTrack rows of some fixes (index from ``start``) and their height facts.

    Parameters
    ----------
    xyz
        (n, 3) lon, lat, altitude.
    times
        UTC times of the rows (None: untimed, NaT).
    modes
        The ``altitudeMode`` of each row.
    segments
        The number of each row's track among the tracks kept.
    alt_ref
        What every altitude measures, overriding ``altitudeMode`` (None: by the mode).
    start
        The index of the first row (rows of a frame given in blocks go on counting).
    """
    index = pd.RangeIndex(start, start + len(xyz))
    frame = pd.DataFrame({LAT: xyz[:, 1], LON: xyz[:, 0]}, index=index)
    if times is None:
        frame[TIME_UTC] = pd.Series(pd.NaT, index=index, dtype=TIME_DTYPE)
    else:
        frame[TIME_UTC] = pd.Series(times.array, index=index).astype(TIME_DTYPE)
    agl, ref, msl, facts = _heights(xyz[:, 2], modes, alt_ref)
    frame[ALT_AGL_M], frame[ALT_REF], frame[ALT_MSL_M] = agl, ref, msl
    frame[SEGMENT] = np.asarray(segments, dtype=np.int64)
    return frame, facts


def left_out_note(left_out: int) -> str:
    """Return the note on the tracks left out of a file with times."""
    return f"{left_out} track(s) without times or points left out"


def when_error(exc: Exception) -> InputError:
    """Return the error of ``<when>`` values that do not read (from the parse's error)."""
    return InputError(f"KML <when>: {' '.join(str(exc).split())}")
