"""Per-site exposure the plain-geopandas way: the baseline geoexpose is measured against.

This is what a competent geopandas user writes without geoexpose: project both layers to
one metric CRS for the conterminous US (EPSG:5070, CONUS Albers), buffer each site by its
standoff, spatially join the fixes to the zones, and aggregate with pandas.

Conventions, which differ slightly from geoexpose's and are why the two agree only to
a tolerance (``benchmarks/README.md``):

- A fix is in a zone when the point lies within the buffered polygon (GEOS buffer,
  8 segments per quarter circle, in Albers metres, whose scale is off by up to about
  1 % across the CONUS).
- A fix in a zone contributes the whole interval to the next fix of its flight to
  ``dwell_s``, when that interval is at most ``max_gap_s``; zone entries and exits are
  not interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from geoexpose.schema import (
    ALT_AGL_M,
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    GEOMETRY,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_FIXES,
    N_FLIGHTS,
    PAIR_COLUMNS,
    SITE_COLUMNS,
    SITE_ID,
    STANDOFF_M,
    TIME_UTC,
)

__all__ = ["BASELINE_CRS", "RESULT_COLUMNS", "BaselineResult", "geopandas_exposure"]

BASELINE_CRS = "EPSG:5070"
RESULT_COLUMNS = [
    SITE_ID,
    N_FLIGHTS,
    DWELL_S,
    MIN_DISTANCE_M,
    MIN_AGL_M,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
]
_DT_S = "_dt_s"
_DIST_M = "_distance_m"


@dataclass(frozen=True)
class BaselineResult:
    """Per-site table (``sites``, a GeoDataFrame) and per flight x site table (``pairs``)."""

    sites: gpd.GeoDataFrame
    pairs: pd.DataFrame


def geopandas_exposure(
    sites: gpd.GeoDataFrame,
    fixes: gpd.GeoDataFrame,
    *,
    max_gap_s: float = 5.0,
    crs: str = BASELINE_CRS,
) -> BaselineResult:
    """Dwell, distance, height and times of fixes inside each site's standoff zone.

    Parameters
    ----------
    sites
        Sites with ``site_id``, ``standoff_m`` and geometry, in any CRS.
    fixes
        Fixes with ``flight_id``, ``time_utc``, ``alt_agl_m`` and Point geometry.
    max_gap_s
        Longest interval between two fixes of a flight that still counts as dwell.
    crs
        The metric CRS everything is measured in.

    Returns
    -------
    BaselineResult
        ``sites``: every input site (original geometry) with ``n_flights``, ``dwell_s``,
        ``min_distance_m``, ``min_agl_m``, ``first_seen_utc``, ``last_seen_utc``
        (0 flights and 0 s where no fix came near). ``pairs``: one row per flight and
        site with fixes in the zone.
    """
    sites_m = sites.reset_index(drop=True).to_crs(crs)
    fixes_m = fixes[[FLIGHT_ID, TIME_UTC, ALT_AGL_M, GEOMETRY]].to_crs(crs)
    fixes_m = fixes_m.sort_values([FLIGHT_ID, TIME_UTC], ignore_index=True)

    # Seconds to the next fix of the same flight; longer gaps and the last fix count 0.
    to_next = -fixes_m.groupby(FLIGHT_ID, sort=False)[TIME_UTC].diff(-1).dt.total_seconds()
    fixes_m[_DT_S] = to_next.where(to_next <= max_gap_s, 0.0)

    zones = gpd.GeoDataFrame(
        {SITE_ID: sites_m[SITE_ID]},
        geometry=sites_m.buffer(sites_m[STANDOFF_M].to_numpy()),
        crs=crs,
    )
    joined = gpd.sjoin(fixes_m, zones, how="inner", predicate="within")
    site_geometry = sites_m.geometry.to_numpy()[joined["index_right"].to_numpy()]
    joined[_DIST_M] = joined.geometry.distance(
        gpd.GeoSeries(site_geometry, index=joined.index, crs=crs), align=False
    )

    pairs = (
        joined.groupby([FLIGHT_ID, SITE_ID], sort=False)
        .agg(
            **{
                N_FIXES: (TIME_UTC, "size"),
                DWELL_S: (_DT_S, "sum"),
                MIN_DISTANCE_M: (_DIST_M, "min"),
                MIN_AGL_M: (ALT_AGL_M, "min"),
                FIRST_SEEN_UTC: (TIME_UTC, "min"),
                LAST_SEEN_UTC: (TIME_UTC, "max"),
            }
        )
        .reset_index()
    )
    pairs = pairs[[c for c in PAIR_COLUMNS if c in pairs.columns]]  # the fix columns
    per_site = joined.groupby(SITE_ID, sort=False).agg(
        **{
            N_FLIGHTS: (FLIGHT_ID, "nunique"),
            DWELL_S: (_DT_S, "sum"),
            MIN_DISTANCE_M: (_DIST_M, "min"),
            MIN_AGL_M: (ALT_AGL_M, "min"),
            FIRST_SEEN_UTC: (TIME_UTC, "min"),
            LAST_SEEN_UTC: (TIME_UTC, "max"),
        }
    )
    columns = [c for c in SITE_COLUMNS if c in sites.columns]
    out = sites.reset_index(drop=True)[columns].merge(
        per_site, left_on=SITE_ID, right_index=True, how="left"
    )
    out[N_FLIGHTS] = out[N_FLIGHTS].fillna(0).astype("int64")
    out[DWELL_S] = out[DWELL_S].fillna(0.0)
    return BaselineResult(sites=out, pairs=pairs)
