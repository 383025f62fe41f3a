"""Flight x site pairs: the zone hits of fixes aggregated, merged with those of captures.

A pair is one flight and one site whose zone the flight entered: ``n_fixes`` inside,
``dwell_s``, the closest distance and lowest height there, and the first and last
moment (see :mod:`geoexpose.exposure.compute` for the definitions). Where a flight only
passed through a zone between two fixes, the distance and height come from the two
fixes around the passage and the times from where it entered and left.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.exposure._capture_metrics import first_last
from geoexpose.exposure._zone_join import ZoneHits, zone_hits
from geoexpose.exposure.prepared import PreparedSites
from geoexpose.schema import (
    BEST_GSD_CM,
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    PAIR_COLUMNS,
    SITE_ID,
)
from geoexpose.tracks import FixArrays, reduce_ranges

__all__ = ["fix_pairs", "with_capture_pairs"]


def fix_pairs(sites: PreparedSites, a: FixArrays, *, threads: int = 1) -> pd.DataFrame:
    """Flight x site pairs of fixes: the ``pairs`` table of an exposure without captures.

    Parameters
    ----------
    sites
        The prepared sites.
    a
        The fixes as arrays ordered by flight and time (:func:`geoexpose.tracks.fix_arrays`).
    threads
        Longitude bands to work on at once.

    Returns
    -------
    DataFrame
        Columns :data:`geoexpose.schema.PAIR_COLUMNS`, by flight then the sites' order.
    """
    hits = zone_hits(
        sites.geometry,
        sites.standoff_m,
        a.xy[:, 0],
        a.xy[:, 1],
        a.codes,
        a.seg_ok,
        threads=threads,
        bounds=sites.bounds,
    )
    pairs = _pairs(hits, a.codes, a.t_ns, a.dt, a.alt, len(sites))
    pairs.insert(0, SITE_ID, sites.site_id[pairs.pop("site")])
    pairs.insert(0, FLIGHT_ID, a.names[pairs.pop("flight")].astype(object))
    return pairs


def _pairs(hits: ZoneHits, codes, t_ns, dt, alt, n_sites: int) -> pd.DataFrame:
    """Aggregate zone hits into one row per flight x site."""
    ins = hits.inside
    fix, site = hits.fix[ins], hits.fix_site[ins]
    by_fix = pd.DataFrame(
        {
            "key": codes[fix].astype("int64") * n_sites + site,
            N_FIXES: 1,
            MIN_DISTANCE_M: hits.distance_m[ins],
            MIN_AGL_M: alt[fix],
            "first_ns": t_ns[fix],
            "last_ns": t_ns[fix],
        }
    )
    seg = hits.seg
    seg_key = codes[seg].astype("int64") * n_sites + hits.seg_site
    by_seg = pd.DataFrame(
        {
            "key": seg_key,
            DWELL_S: hits.seg_fraction * dt[seg],
            "enter_ns": t_ns[seg] + (hits.seg_enter * dt[seg] * 1e9).astype("int64"),
            "exit_ns": t_ns[seg] + (hits.seg_exit * dt[seg] * 1e9).astype("int64"),
        }
    )
    if len(hits.run_site):
        by_fix, by_seg = _with_runs(hits, by_fix, by_seg, codes, t_ns, alt, n_sites)
    fa = by_fix.groupby("key").agg(
        {
            N_FIXES: "sum",
            MIN_DISTANCE_M: "min",
            MIN_AGL_M: "min",
            "first_ns": "min",
            "last_ns": "max",
        }
    )
    sa = by_seg.groupby("key").agg({DWELL_S: "sum", "enter_ns": "min", "exit_ns": "max"})
    agg = fa.join(sa, how="outer")

    # Passages between two fixes outside the zone: take distance and height from the
    # fixes around the passage, and the times it entered and left.
    only_seg = agg[N_FIXES].isna()
    if only_seg.any():
        around = _around_passages(hits, codes, alt, n_sites)
        agg.loc[only_seg, MIN_DISTANCE_M] = around[MIN_DISTANCE_M].reindex(agg.index[only_seg])
        agg.loc[only_seg, MIN_AGL_M] = around[MIN_AGL_M].reindex(agg.index[only_seg])
        agg.loc[only_seg, "first_ns"] = agg.loc[only_seg, "enter_ns"]
        agg.loc[only_seg, "last_ns"] = agg.loc[only_seg, "exit_ns"]
    agg[N_FIXES] = agg[N_FIXES].fillna(0).astype("int64")
    agg[DWELL_S] = agg[DWELL_S].fillna(0.0)
    agg[FIRST_SEEN_UTC] = pd.to_datetime(agg["first_ns"].astype("int64"), unit="ns", utc=True)
    agg[LAST_SEEN_UTC] = pd.to_datetime(agg["last_ns"].astype("int64"), unit="ns", utc=True)
    keys = agg.index.to_numpy()
    agg = agg.reset_index(drop=True)
    agg["flight"], agg["site"] = keys // n_sites, keys % n_sites
    agg[N_CAPTURES], agg[BEST_GSD_CM] = 0, np.nan
    return agg[["flight", "site", *PAIR_COLUMNS[2:]]]


def _with_runs(hits, by_fix, by_seg, codes, t_ns, alt, n_sites: int):
    """Add the runs of fixes wholly inside a zone to the per-fix and per-segment rows."""
    first, last, end = hits.run_first, hits.run_last, hits.run_end
    key = codes[first].astype("int64") * n_sites + hits.run_site
    lowest = reduce_ranges(np.fmin, alt, first, last)
    runs = pd.DataFrame(
        {
            "key": key,
            N_FIXES: last - first + 1,
            MIN_DISTANCE_M: hits.run_distance_m,
            MIN_AGL_M: lowest,
            "first_ns": t_ns[first],
            "last_ns": t_ns[last],
        }
    )
    spans = pd.DataFrame(
        {
            "key": key,
            DWELL_S: (t_ns[end] - t_ns[first]) / 1e9,
            "enter_ns": t_ns[first],
            "exit_ns": t_ns[end],
        }
    )
    return pd.concat([by_fix, runs], ignore_index=True), pd.concat(
        [by_seg, spans], ignore_index=True
    )


def _around_passages(hits, codes, alt, n_sites: int) -> pd.DataFrame:
    """Distance and height of the fixes that bound each passage, per flight x site."""
    frame = pd.DataFrame(
        {
            "key": codes[hits.seg].astype("int64") * n_sites + hits.seg_site,
            MIN_DISTANCE_M: hits.seg_near_m,
            MIN_AGL_M: np.fmin(alt[hits.seg], alt[hits.seg + 1]),
        }
    )
    return frame.groupby("key").min()


def with_capture_pairs(pairs: pd.DataFrame, from_captures: pd.DataFrame) -> pd.DataFrame:
    """Merge the flight x site rows of fixes and of captures."""
    cap = first_last(from_captures)
    if len(cap) and cap[FLIGHT_ID].isna().all():
        # captures of no known flight only: their ids came out of the groupby as floats
        cap[FLIGHT_ID] = cap[FLIGHT_ID].astype(pairs[FLIGHT_ID].dtype)
    fixes_only = pairs.drop(columns=[N_CAPTURES, BEST_GSD_CM])
    both = fixes_only.merge(cap, on=[FLIGHT_ID, SITE_ID], how="outer", suffixes=("", "_cap"))
    both[N_FIXES] = both[N_FIXES].fillna(0).astype("int64")
    both[DWELL_S] = both[DWELL_S].fillna(0.0)
    both[N_CAPTURES] = both[N_CAPTURES].fillna(0).astype("int64")
    for col in (MIN_DISTANCE_M, MIN_AGL_M, FIRST_SEEN_UTC):
        both[col] = both[[col, f"{col}_cap"]].min(axis=1)
    both[LAST_SEEN_UTC] = both[[LAST_SEEN_UTC, f"{LAST_SEEN_UTC}_cap"]].max(axis=1)
    both = both.drop(columns=[c for c in both if c.endswith("_cap")])
    return both.sort_values([FLIGHT_ID, SITE_ID], ignore_index=True, na_position="last")
