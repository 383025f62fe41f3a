"""Heights above take-off derived, flight by flight, from heights above sea level.

Some drone apps' files give one altitude only, above mean sea level (AirData's GPX
``<ele>``: the elevation model's height of the take-off point plus the aircraft's
height above it). Where a flight starts on the ground, its first fix is the
take-off point, and ``alt_msl_m`` minus the first fix's is the height above
take-off (``alt_ref="takeoff"``) that the exposure's ``min_agl_m`` needs.

A flight is taken to start on the ground when, over its first :data:`START_S`
seconds, it stays within :data:`START_MOVE_M` of its first fix horizontally and
:data:`START_CLIMB_M` vertically, and never goes more than :data:`BELOW_START_M`
below it: a log that starts while hovering aloft (then lands lower down) or
already moving is left without heights, and noted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose._geodesy import geodesic_m
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks.normalize import FLIGHT_NO

__all__ = ["BELOW_START_M", "START_CLIMB_M", "START_MOVE_M", "START_S", "takeoff_heights"]

#: Seconds from a flight's first fix over which it must stay put to start on the ground.
START_S = 3.0
#: Horizontal metres from the first fix within which it stays (GNSS jitter on the ground).
START_MOVE_M = 3.0
#: Vertical metres from the first fix within which it stays over :data:`START_S`.
START_CLIMB_M = 1.0
#: Metres below the first fix that no fix of the flight goes (a landing spot lower
#: than this is more likely a log started aloft).
BELOW_START_M = 5.0


def _per_flight(values: np.ndarray, starts: np.ndarray, how: np.ufunc) -> np.ndarray:
    """Reduce ``values`` per flight (flights are runs beginning at ``starts``)."""
    return how.reduceat(values, starts)


def takeoff_heights(
    fixes: pd.DataFrame, what: str, notes: list[str], *, in_place: bool = False
) -> pd.DataFrame:
    """Fill ``alt_agl_m`` above take-off from ``alt_msl_m`` for flights starting on the ground.

    Parameters
    ----------
    fixes
        Cleaned fixes of one file (as :func:`geoexpose.tracks.normalize.clean_fixes`
        gives them: grouped by flight, in time order within one), not modified
        unless ``in_place``.
    what
        What ``alt_msl_m`` was read from, for the notes (e.g. ``"GPX <ele>"``).
    notes
        The file's notes, to which how the heights were derived is added.
    in_place
        Fill the heights in ``fixes`` itself (no copy of a large frame).

    Returns
    -------
    pandas.DataFrame
        The fixes, with ``alt_agl_m`` = ``alt_msl_m`` minus the flight's first
        ``alt_msl_m`` and ``alt_ref`` ``"takeoff"`` on the rows of the flights that
        start on the ground and had no ``alt_agl_m``.
    """
    if not len(fixes):
        return fixes
    flight = fixes[FLIGHT_NO].to_numpy()
    change = np.r_[True, flight[1:] != flight[:-1]]
    starts = np.flatnonzero(change)
    code = np.cumsum(change) - 1
    del change
    msl = fixes[ALT_MSL_M].to_numpy(dtype="float64")
    ns = fixes[TIME_UTC].array.asi8 if fixes[TIME_UTC].dtype == TIME_DTYPE else None
    if ns is None:
        ns = fixes[TIME_UTC].to_numpy(dtype="datetime64[ns]").view("int64")
    early = np.flatnonzero((ns - ns[starts][code]) <= START_S * 1e9)  # few rows a flight
    first = starts[code[early]]
    lon = fixes[LON].to_numpy(dtype="float64")
    lat = fixes[LAT].to_numpy(dtype="float64")
    moved = geodesic_m(lon[first], lat[first], lon[early], lat[early])
    climbed = np.abs(msl[early] - msl[first])  # NaN where unknown
    n_flights = len(starts)
    n_early = np.bincount(code[early], minlength=n_flights)
    most_moved = np.zeros(n_flights)
    np.maximum.at(most_moved, code[early], moved)
    most_climbed = np.full(n_flights, np.nan)
    np.fmax.at(most_climbed, code[early], climbed)
    still = (most_moved <= START_MOVE_M) & (most_climbed <= START_CLIMB_M)
    height = msl - msl[starts][code]
    lowest = np.fmin.reduceat(height, starts)  # NaN only where no height is known
    lowest = np.where(np.isnan(lowest), np.inf, lowest)
    has_agl = _per_flight(fixes[ALT_AGL_M].notna().to_numpy(), starts, np.logical_or)
    ground = ~has_agl & np.isfinite(msl[starts]) & (n_early >= 2) & still
    ground &= lowest >= -BELOW_START_M
    if ground.any():
        rows = ground[code]
        out = fixes if in_place else fixes.copy()
        np.copyto(height, out[ALT_AGL_M].to_numpy(dtype="float64"), where=~rows)
        out[ALT_AGL_M] = height  # the flights on the ground get theirs, the rest keep theirs
        del height
        refs = out[ALT_REF]
        if isinstance(refs.dtype, pd.CategoricalDtype):
            if ALT_REF_TAKEOFF not in refs.cat.categories:
                refs = refs.cat.add_categories([ALT_REF_TAKEOFF])
            out[ALT_REF] = refs.mask(rows, ALT_REF_TAKEOFF)
        else:
            out.loc[rows, ALT_REF] = ALT_REF_TAKEOFF
        n_ground = int(ground.sum())
        at = ", ".join(f"{v:.1f}" for v in msl[starts[ground]][:5])
        at += ", ..." if n_ground > 5 else ""
        notes.append(
            f"alt_agl_m: height above take-off derived from {what} (metres above sea "
            f"level) minus the flight's first fix ({at} m), for {n_ground} of "
            f"{len(starts)} flights, each starting still on the ground"
        )
    else:
        out = fixes
    left = int((~ground & ~has_agl).sum())
    if left:
        notes.append(
            f"{what} is metres above sea level (alt_msl_m); {left} "
            f"{'flight does' if left == 1 else 'flights do'} not start "
            f"still on the ground (within {START_MOVE_M:g} m and {START_CLIMB_M:g} m over "
            f"{START_S:g} s, none lower than {BELOW_START_M:g} m below): no height above "
            "take-off for them"
        )
    return out
