"""Match captures to flights when the fixes come batch by batch.

:func:`geoexpose.expose` gives a capture without ``flight_id`` the flight with a fix
within ``MATCH_TOLERANCE_S`` of its time and ``MATCH_DISTANCE_M`` of the camera
(:func:`geoexpose.exposure.assign_flights`), trying whole-quarter-hour clock shifts for times
taken as UTC. Only the fixes of a flight within the tolerance of a capture's time,
shifted or not, can take part, and only where one of them lies near the camera.
Each batch gives those fixes (:meth:`CaptureWindows.near`); matching the captures to
the fixes gathered from all batches then gives exactly the flights, and the clock
shift, of one call with all the fixes.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.exposure import (
    CLOCK_SHIFTS_NS,
    MATCH_DISTANCE_M,
    MATCH_TOLERANCE_S,
    assign_flights,
)
from geoexpose.projection import M_PER_DEG
from geoexpose.schema import CAM_LAT, CAM_LON, FLAGS, FLIGHT_ID, LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks import fix_arrays, fix_lonlat

__all__ = ["CaptureWindows", "match_captures"]

_NAT = np.iinfo("int64").min
# A flight whose fixes in a window all lie beyond this cannot match (the bound is
# twice MATCH_DISTANCE_M, so the flat-earth distance used here is safe).
_NEAR_M = 2.0 * MATCH_DISTANCE_M


def _needs_match(captures: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the times (ns), which captures need a flight, which may have a clock shift."""
    t = captures[TIME_UTC].astype(TIME_DTYPE).array.asi8.copy()
    t[captures[TIME_UTC].isna().to_numpy()] = _NAT
    ids = captures[FLIGHT_ID]
    empty = (ids.isna() | (ids.astype(str) == "")).to_numpy()
    lon = captures[CAM_LON].to_numpy("float64")
    lat = captures[CAM_LAT].to_numpy("float64")
    need = empty & (t != _NAT) & np.isfinite(lon) & np.isfinite(lat)
    flags = captures[FLAGS].fillna("").astype(str)
    loose = need & flags.str.contains("time_zone_assumed_utc").to_numpy()
    return t, need, loose


@dataclass(frozen=True)
class CaptureWindows:
    """Capture times (each shift of a loose clock one more window) and camera positions.

    Attributes
    ----------
    centre_ns : int array
        Window centres, sorted; a window spans ``MATCH_TOLERANCE_S`` either side.
    lon, lat : float arrays
        The camera position of each window.
    """

    centre_ns: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    @classmethod
    def of(cls, captures: gpd.GeoDataFrame | None) -> CaptureWindows | None:
        """Make the windows of the captures that need a flight; None when none does."""
        if captures is None or not len(captures):
            return None
        t, need, loose = _needs_match(captures)
        if not need.any():
            return None
        lon = captures[CAM_LON].to_numpy("float64")
        lat = captures[CAM_LAT].to_numpy("float64")
        shifts = CLOCK_SHIFTS_NS[CLOCK_SHIFTS_NS != 0]
        centre = np.concatenate([t[need], (t[loose][:, None] + shifts[None, :]).ravel()])
        n = len(shifts)
        wlon = np.concatenate([lon[need], np.repeat(lon[loose], n)])
        wlat = np.concatenate([lat[need], np.repeat(lat[loose], n)])
        order = np.argsort(centre, kind="stable")
        return cls(centre[order], wlon[order], wlat[order])

    def near(self, fixes: pd.DataFrame) -> pd.DataFrame:
        """Return the fixes matching may use: ``flight_id``, ``time_utc``, ``lon``, ``lat``.

        Every fix of a flight within a window, where one of the flight's fixes in that
        window lies within twice ``MATCH_DISTANCE_M`` of the camera.
        """
        t = fixes[TIME_UTC].astype(TIME_DTYPE).array.asi8
        tol = int(MATCH_TOLERANCE_S * 1e9)
        lo = np.searchsorted(self.centre_ns, t - tol, side="left")
        hi = np.searchsorted(self.centre_ns, t + tol, side="right")
        cand = np.flatnonzero(hi > lo)
        xy = fix_lonlat(fixes.iloc[cand]) if len(cand) else np.zeros((0, 2))
        k = (hi - lo)[cand]
        fix = np.repeat(np.arange(len(cand)), k)
        win = np.repeat(lo[cand], k) + np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
        dlon = (xy[fix, 0] - self.lon[win] + 180.0) % 360.0 - 180.0
        cos = np.cos(np.radians(self.lat[win]))
        d = M_PER_DEG * np.hypot(dlon * cos, xy[fix, 1] - self.lat[win])
        codes = pd.factorize(fixes[FLIGHT_ID].iloc[cand])[0].astype("int64")
        key = win.astype("int64") * (int(codes.max(initial=0)) + 1) + codes[fix]
        keep = np.unique(fix[np.isin(key, key[d <= _NEAR_M])])
        rows = cand[keep]
        out = pd.DataFrame(
            {
                FLIGHT_ID: fixes[FLIGHT_ID].iloc[rows].astype(str).to_numpy(dtype=object),
                TIME_UTC: fixes[TIME_UTC].iloc[rows].to_numpy(),
                LON: xy[keep, 0],
                LAT: xy[keep, 1],
            }
        )
        out[TIME_UTC] = pd.to_datetime(out[TIME_UTC], utc=True).astype(TIME_DTYPE)
        return out


def match_captures(
    captures: gpd.GeoDataFrame,
    near: pd.DataFrame,
    *,
    any_fixes: bool,
    max_gap_s: float,
    gap_factor: float,
) -> gpd.GeoDataFrame:
    """Match captures to flights as :func:`geoexpose.expose` matches them.

    ``near`` holds the fixes :meth:`CaptureWindows.near` gave from every batch;
    ``any_fixes`` says whether the batches held any fix at all.
    """
    if len(near):
        return assign_flights(
            captures, fix_arrays(near, max_gap_s=max_gap_s, gap_factor=gap_factor)
        )
    out = captures.copy()
    ids = captures[FLIGHT_ID]
    empty = (ids.isna() | (ids.astype(str) == "")).to_numpy()
    if empty.any() and any_fixes:  # expose matched and found nothing: ids become objects
        out[FLIGHT_ID] = pd.Series(ids.astype(object).to_numpy(), index=out.index, dtype=object)
    return out
