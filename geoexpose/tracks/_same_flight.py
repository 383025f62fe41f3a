"""Pair the flights of different files that are one flight: alike in time, aircraft and place.

Two flights are the same flight when they come from different files and

* their time spans overlap by at least ``min_overlap`` of the shorter one;
* their aircraft ids (``drone_id``) do not differ where both files name one;
* the median horizontal distance between them at common times is at most
  ``max_distance_m``: up to :data:`SAMPLES` fixes of the sparser one, spread over
  the overlap, are compared (geodesic, WGS 84) with the denser one's position
  linearly interpolated at the same times.

Candidates come from a sweep over the flights sorted by start time (only flights
that overlap in time are paired), filtered by file, overlap, aircraft and
bounding box before any position is read; the comparisons of all candidate pairs
are one vectorized pass. Of each pair the richer copy is named the one to keep
(:data:`RICHNESS`, then more fixes, then the first by path and flight id).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose._geodesy import geodesic_m
from geoexpose.schema import (
    ALT_AGL_M,
    DRONE_ID,
    FLIGHT_ID,
    GIMBAL_PITCH_DEG,
    IS_PHOTO,
    LAT,
    LON,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks.fix_arrays import _flight_codes

__all__ = ["RICHNESS", "SAMPLES", "Flights", "search_copies"]

#: Most fixes compared per pair of flights.
SAMPLES = 64
_M_PER_DEG = 111_320.0
#: Richness, most telling first: (column, words for the reason), known when not missing.
RICHNESS = (
    (ALT_AGL_M, "heights above takeoff or ground"),
    (GIMBAL_PITCH_DEG, "gimbal angles"),
    (IS_PHOTO, "photo triggers"),
    (DRONE_ID, "the aircraft id"),
)


@dataclass(frozen=True)
class Flights:
    """Fixes ordered by flight then time: where each is in the frame, flight ranges, times."""

    order: np.ndarray | None  # None: the frame is in this order already
    starts: np.ndarray
    ends: np.ndarray
    t_ns: np.ndarray

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """Return the frame rows of ordered positions."""
        return positions if self.order is None else self.order[positions]


def _ordered(fixes: pd.DataFrame) -> tuple[Flights, np.ndarray]:
    """Order the fixes by flight and time (no copy when they are so); also the flight ids."""
    codes, names, first = _flight_codes(fixes[FLIGHT_ID])
    t_ns = fixes[TIME_UTC].astype(TIME_DTYPE).array.asi8
    order = None
    if len(first) != len(names) or not np.isin(np.flatnonzero(np.diff(t_ns) < 0) + 1, first).all():
        order = np.lexsort((t_ns, codes))
        codes, t_ns = codes[order], t_ns[order]
        first = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    ends = np.append(first[1:], len(t_ns))
    return Flights(order, first, ends, t_ns), np.asarray(names, dtype=object)[codes[first]]


def _known(fixes: pd.DataFrame, name: str, fl: Flights) -> np.ndarray:
    """Return where a column is known (all false where the frame lacks it), in fix order."""
    if name not in fixes:
        return np.zeros(len(fixes), dtype=bool)
    known = fixes[name].notna().to_numpy(dtype=bool)
    return known if fl.order is None else known[fl.order]


def _aircraft_ids(fixes: pd.DataFrame, fl: Flights) -> np.ndarray:
    """Return each flight's first aircraft id, upper case without spaces around (None: unknown)."""
    out = pd.Series(None, index=range(len(fl.starts)), dtype="string")
    if DRONE_ID in fixes:
        where = np.flatnonzero(_known(fixes, DRONE_ID, fl))
        first = np.searchsorted(where, fl.starts)
        has = first < len(where)
        has[has] = where[first[has]] < fl.ends[has]
        out[has] = fixes[DRONE_ID].iloc[fl.rows(where[first[has]])].astype("string").to_numpy()
    return out.str.strip().str.upper().to_numpy(dtype=object, na_value=None)


def _lonlat(fixes: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Return longitude and latitude of some rows, an (n, 2) array (see ``fix_lonlat``)."""
    if isinstance(fixes, gpd.GeoDataFrame):
        return shapely.get_coordinates(fixes.geometry.array[rows])
    return np.column_stack(
        [fixes[LON].to_numpy("float64")[rows], fixes[LAT].to_numpy("float64")[rows]]
    )


def _candidates(t0: np.ndarray, t1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (i, j) of flights whose time spans meet: a sweep over sorted starts."""
    by_start = np.argsort(t0, kind="stable")
    end = np.searchsorted(t0[by_start], t1[by_start], side="right")
    counts = np.maximum(end - np.arange(len(t0)) - 1, 0)
    first = np.repeat(np.arange(len(t0)), counts)
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return by_start[first], by_start[first + 1 + step]


def _near(lon, lat, starts: np.ndarray, a, b, max_distance_m: float) -> np.ndarray:
    """Return which pairs of flights have bounding boxes within ``max_distance_m``.

    A median distance within it needs half the compared fixes within it, so the
    boxes must be within it of each other: a cheap test before any distance.
    """
    lo_lon, hi_lon = np.minimum.reduceat(lon, starts), np.maximum.reduceat(lon, starts)
    lo_lat, hi_lat = np.minimum.reduceat(lat, starts), np.maximum.reduceat(lat, starts)
    margin_lat = max_distance_m / _M_PER_DEG * 1.01
    cos = np.cos(np.radians(np.minimum(np.maximum(np.abs(lo_lat), np.abs(hi_lat)), 89.9)))
    margin_lon = margin_lat / np.minimum(cos[a], cos[b])
    return (
        (lo_lon[a] - margin_lon <= hi_lon[b])
        & (lo_lon[b] - margin_lon <= hi_lon[a])
        & (lo_lat[a] - margin_lat <= hi_lat[b])
        & (lo_lat[b] - margin_lat <= hi_lat[a])
    )


def _apart(lon, lat, t_ns, starts, ends, a, b) -> tuple[np.ndarray, np.ndarray]:
    """Return the median distance (m) of each pair of flights at common times, and fixes compared.

    Up to :data:`SAMPLES` fixes of the sparser flight, spread over the overlap,
    are compared with the denser one's position interpolated at their times: one
    ``numpy.interp`` over a key increasing through all fixes (flight number x
    stride + seconds since the flight's start).
    """
    t0, t1 = t_ns[starts], t_ns[ends - 1]
    flight = np.repeat(np.arange(len(starts)), ends - starts)
    stride = float((t1 - t0).max()) / 1e9 + 1.0
    key = flight * stride + (t_ns - t0[flight]) / 1e9
    rate = (ends - starts) / np.maximum((t1 - t0) / 1e9, 1e-9)
    swap = rate[a] > rate[b]
    probe, track = np.where(swap, b, a), np.where(swap, a, b)
    w0, w1 = np.maximum(t0[a], t0[b]), np.minimum(t1[a], t1[b])
    lo = np.searchsorted(key, probe * stride + (w0 - t0[probe]) / 1e9, side="left")
    hi = np.searchsorted(key, probe * stride + (w1 - t0[probe]) / 1e9, side="right")
    size = np.minimum(hi - lo, SAMPLES)
    pair = np.repeat(np.arange(len(a)), size)
    step = np.arange(size.sum()) - np.repeat(np.cumsum(size) - size, size)
    at = lo[pair] + ((step + 0.5) * (hi - lo)[pair] / size[pair]).astype(np.int64)
    query = track[pair] * stride + (t_ns[at] - t0[track[pair]]) / 1e9
    d = geodesic_m(lon[at], lat[at], np.interp(query, key, lon), np.interp(query, key, lat))
    median = np.full(len(a), np.inf)
    some = size > 0
    if some.any():
        ranked = d[np.lexsort((d, pair))]
        n = size[some]
        offset = np.cumsum(n) - n
        median[some] = 0.5 * (ranked[offset + (n - 1) // 2] + ranked[offset + n // 2])
    return median, size


def _richer(has: np.ndarray, n_fixes, names, source, a, b) -> tuple[np.ndarray, ...]:
    """Return the richer and the poorer flight of each pair, and what the richer has more."""
    rank = np.empty(len(names), dtype=np.int64)
    keys = [~has[:, k] for k in reversed(range(has.shape[1]))]
    by_name = pd.factorize(names.astype(str), sort=True)[0]
    by_path = pd.factorize(source.astype(str), sort=True)[0]
    rank[np.lexsort((by_name, by_path, -n_fixes, *keys))] = np.arange(len(names))
    a_first = rank[a] < rank[b]
    kept, lost = np.where(a_first, a, b), np.where(a_first, b, a)
    more = (has[kept] & ~has[lost]).tolist()
    extra = (n_fixes[kept] > n_fixes[lost]).tolist()
    words = [  # one item per copy found
        ", ".join(w for (_, w), yes in zip(RICHNESS, row, strict=True) if yes)
        or ("more fixes" if longer else "")
        for row, longer in zip(more, extra, strict=True)
    ]
    return kept, lost, np.array(words, dtype=object)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Return the positions ``starts[i]`` to ``ends[i] - 1`` of every i, one after another."""
    n = ends - starts
    return np.repeat(starts - (np.cumsum(n) - n), n) + np.arange(n.sum())


def search_copies(
    fixes: pd.DataFrame, max_distance_m: float, min_overlap: float
) -> tuple[pd.DataFrame | None, Flights | None]:
    """Return the copies found and the fixes' flights (None where there are none).

    One row per pair, the columns of ``find_duplicate_flights`` and the flight
    numbers (into the flights' ranges) ``_lost`` and ``_kept``.
    """
    if not 0 < min_overlap <= 1:
        raise ValueError(f"min_overlap={min_overlap!r}: expected a share in (0, 1]")
    if len(fixes) < 2:
        return None, None
    fl, names = _ordered(fixes)
    starts, ends, t_ns = fl.starts, fl.ends, fl.t_ns
    source = fixes[SOURCE].iloc[fl.rows(starts)].to_numpy(dtype=object)
    if len(pd.unique(source)) < 2:
        return None, fl
    t0, t1 = t_ns[starts], t_ns[ends - 1]
    a, b = _candidates(t0, t1)
    overlap_ns = np.minimum(t1[a], t1[b]) - np.maximum(t0[a], t0[b])
    shorter = np.minimum(t1[a] - t0[a], t1[b] - t0[b])
    keep = (source[a] != source[b]) & (overlap_ns > 0) & (overlap_ns >= min_overlap * shorter)
    drone = _aircraft_ids(fixes, fl)
    known = ~pd.isna(drone)
    keep &= ~(known[a] & known[b]) | (drone[a] == drone[b])
    a, b = a[keep], b[keep]
    if not len(a):
        return None, fl

    # Positions of the flights still in question only, as flights of their own.
    mine = np.unique(np.r_[a, b])
    at = _ranges(starts[mine], ends[mine])
    lon, lat = _lonlat(fixes, fl.rows(at)).T
    size = ends[mine] - starts[mine]
    sub_starts = np.cumsum(size) - size
    sa, sb = np.searchsorted(mine, a), np.searchsorted(mine, b)
    near = _near(lon, lat, sub_starts, sa, sb, max_distance_m)
    a, b, sa, sb = a[near], b[near], sa[near], sb[near]
    median, compared = _apart(lon, lat, t_ns[at], sub_starts, sub_starts + size, sa, sb)
    same = (compared >= 3) & (median <= max_distance_m)
    a, b, median, compared = a[same], b[same], median[same], compared[same]
    if not len(a):
        return None, fl
    overlap_s = (np.minimum(t1[a], t1[b]) - np.maximum(t0[a], t0[b])) / 1e9
    has = np.column_stack(
        [np.logical_or.reduceat(_known(fixes, name, fl), starts) for name, _ in RICHNESS]
    )
    kept, lost, words = _richer(has, ends - starts, names, source, a, b)
    out = pd.DataFrame(
        {
            FLIGHT_ID: names[lost],
            SOURCE: source[lost],
            "kept_flight_id": names[kept],
            "kept_source": source[kept],
            "overlap_s": overlap_s,
            "median_m": median,
            "compared": compared,
            "kept_has": words,
            "kept_first_utc": pd.to_datetime(t0[kept], utc=True),
            "kept_last_utc": pd.to_datetime(t1[kept], utc=True),
            "_lost": lost,
            "_kept": kept,
        }
    )
    return out.sort_values([SOURCE, FLIGHT_ID, "kept_flight_id"], ignore_index=True), fl
