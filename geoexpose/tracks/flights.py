"""One line per flight, broken at recording gaps, with its length and time span."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose._geodesy import segment_lengths
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_REF,
    CRS_LONLAT,
    DURATION_S,
    FIRST_SEEN_UTC,
    FLIGHT_COLUMNS,
    FLIGHT_ID,
    IDENTITY_COLUMNS,
    LAST_SEEN_UTC,
    LENGTH_M,
    MAX_AGL_M,
    N_FIXES,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["flight_lines"]


def _identity(fixes: pd.DataFrame, column: str, codes: np.ndarray, starts: np.ndarray) -> Any:
    """Return the first known value of ``column`` in each flight (None where none is)."""
    if column not in fixes or not len(starts):
        return np.full(len(starts), None, dtype=object)
    values = fixes[column]
    if values.iloc[starts].notna().all():  # one value per flight, as read_tracks writes it
        return values.iloc[starts].to_numpy(dtype=object)
    first = values.groupby(codes[: len(values)], sort=False).first()
    found = first.reindex(codes[starts]).to_numpy(dtype=object)
    return np.where(pd.notna(found), found, None)


def flight_lines(
    fixes: gpd.GeoDataFrame,
    *,
    seg_ok: np.ndarray,
    xy: np.ndarray | None = None,
    codes: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Summarise fixes, ordered by flight and time, as one MultiLineString per flight.

    Parameters
    ----------
    fixes
        Fixes in EPSG:4326, ordered by ``flight_id`` then ``time_utc``.
    seg_ok
        ``seg_ok[i]`` is true where fixes ``i`` and ``i + 1`` are joined by a segment
        (same flight, no recording gap); the line breaks elsewhere.
    xy
        The fixes' longitudes and latitudes as an (n, 2) array, if already at hand.
    codes
        An integer code per fix, equal within a flight, if already at hand.

    Notes
    -----
    ``length_m`` is the geodesic length (WGS 84) of the joined segments, so it leaves
    out the recording gaps; ``duration_s`` runs from the first fix to the last.
    ``aircraft_id``, ``aircraft_model`` and ``operator_id`` are the first each flight's
    fixes give (empty where the fixes have none).
    """
    n = len(fixes)
    if codes is None:
        codes = pd.factorize(fixes[FLIGHT_ID])[0]
    if xy is None:
        xy = shapely.get_coordinates(fixes.geometry.array)
    seg_ok = np.asarray(seg_ok, dtype=bool)
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if n else np.zeros(0, int)
    last = np.append(starts[1:], n)[: len(starts)] - 1
    n_flights = len(starts)
    flight = np.repeat(np.arange(n_flights), np.diff(np.append(starts, n)))

    # Runs of joined fixes become LineStrings; a run of one fix is left out.
    run = np.zeros(n, dtype="int64")
    if n:
        run[1:] = np.cumsum(~seg_ok[:-1])
    run_size = np.bincount(run) if n else np.zeros(0, dtype="int64")
    keep = run_size[run] >= 2
    geoms = np.full(n_flights, shapely.from_wkt("MULTILINESTRING EMPTY"), dtype=object)
    if keep.any():
        _, local_run = np.unique(run[keep], return_inverse=True)
        lines = shapely.linestrings(xy[keep], indices=local_run)
        run_flight = flight[keep][np.r_[0, np.flatnonzero(np.diff(local_run)) + 1]]
        shapely.multilinestrings(lines, indices=run_flight, out=geoms)
    length: np.ndarray = np.zeros(n_flights)
    if n > 1:
        d = np.where(seg_ok[:-1], segment_lengths(xy[:, 0], xy[:, 1]), 0.0)
        length = np.bincount(flight[:-1], weights=d, minlength=n_flights)

    times = fixes[TIME_UTC].reset_index(drop=True)
    t_ns = times.astype(TIME_DTYPE).array.asi8
    alt = (
        pd.to_numeric(fixes[ALT_AGL_M], errors="coerce").to_numpy("float64", na_value=np.nan)
        if ALT_AGL_M in fixes
        else np.full(n, np.nan)
    )
    alt_ref = np.full(n_flights, None, dtype=object)
    if ALT_REF in fixes and n:
        ref_code, refs = pd.factorize(fixes[ALT_REF])
        lo, hi = np.minimum.reduceat(ref_code, starts), np.maximum.reduceat(ref_code, starts)
        alt_ref = np.where(lo == hi, np.asarray(refs, dtype=object)[lo], "mixed")
        alt_ref[lo < 0] = None
    pick = lambda col: (  # noqa: E731
        fixes[col].iloc[starts].to_numpy(dtype=object) if col in fixes else np.full(n_flights, None)
    )
    out = gpd.GeoDataFrame(
        {
            FLIGHT_ID: pick(FLIGHT_ID),
            SOURCE: pick(SOURCE),
            N_FIXES: np.diff(np.append(starts, n)),
            FIRST_SEEN_UTC: times.iloc[starts].to_numpy(),
            LAST_SEEN_UTC: times.iloc[last].to_numpy(),
            DURATION_S: (t_ns[last] - t_ns[starts]) / 1e9,
            LENGTH_M: length,
            MAX_AGL_M: np.fmax.reduceat(alt, starts) if n else np.zeros(0),
            ALT_REF: alt_ref,
            **{col: _identity(fixes, col, codes, starts) for col in IDENTITY_COLUMNS},
        },
        geometry=gpd.GeoSeries(geoms, crs=CRS_LONLAT),
    )
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        out[col] = pd.to_datetime(out[col], utc=True)
    return out[FLIGHT_COLUMNS]
