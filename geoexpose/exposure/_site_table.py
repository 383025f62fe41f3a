"""The per-site table of an exposure: every site with its metrics and score, from the pairs."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.exposure.prepared import PreparedSites
from geoexpose.exposure.score import exposure_score
from geoexpose.schema import (
    BEST_GSD_CM,
    BEST_NIIRS,
    DETAIL_AREA_M2,
    DWELL_S,
    EXPOSURE_COLUMNS,
    EXPOSURE_SCORE,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FLIGHTS,
    SITE_ID,
    TIME_DTYPE,
)

__all__ = ["site_table"]


def site_table(
    sites: PreparedSites, pairs: pd.DataFrame, footprints: gpd.GeoDataFrame | None
) -> gpd.GeoDataFrame:
    """Every site with its exposure columns and score, from the flight x site pairs.

    Parameters
    ----------
    sites
        The prepared sites.
    pairs
        Flight x site pairs (:data:`geoexpose.schema.PAIR_COLUMNS`), of fixes and captures.
    footprints
        The imaged part of each site shown by a capture, or None where no captures were
        given (the imagery columns are then empty).
    """
    frame = sites.sites
    metrics = _per_site(pairs, frame, footprints)
    metrics.index = frame.index
    out = pd.concat(
        [
            frame.drop(columns=[c for c in EXPOSURE_COLUMNS if c in frame]),
            metrics[EXPOSURE_COLUMNS],
        ],
        axis=1,
    )
    out[EXPOSURE_SCORE] = exposure_score(out)
    return gpd.GeoDataFrame(out, geometry=frame.geometry.name, crs=frame.crs)


def _per_site(
    pairs: pd.DataFrame, sites: gpd.GeoDataFrame, footprints: gpd.GeoDataFrame | None
) -> pd.DataFrame:
    """Aggregate the flight x site pairs per site, aligned with the sites' rows.

    Captures of no known flight add no flight: ``n_flights`` counts the flights flown.
    """
    agg = pairs.groupby(SITE_ID).agg(
        **{
            N_FLIGHTS: (FLIGHT_ID, "nunique"),
            DWELL_S: (DWELL_S, "sum"),
            MIN_DISTANCE_M: (MIN_DISTANCE_M, "min"),
            MIN_AGL_M: (MIN_AGL_M, "min"),
            FIRST_SEEN_UTC: (FIRST_SEEN_UTC, "min"),
            LAST_SEEN_UTC: (LAST_SEEN_UTC, "max"),
        }
    )
    out = agg.reindex(sites[SITE_ID].to_numpy())
    out[N_FLIGHTS] = out[N_FLIGHTS].fillna(0).astype("int64")
    out[DWELL_S] = out[DWELL_S].fillna(0.0)
    imaged = footprints.set_index(SITE_ID) if footprints is not None else pd.DataFrame()
    imagery = (N_CAPTURES, BEST_GSD_CM, BEST_NIIRS, IMAGED_AREA_M2, IMAGED_FRACTION, DETAIL_AREA_M2)
    for col in imagery:
        out[col] = imaged[col].reindex(out.index) if col in imaged else np.nan
    out[N_CAPTURES] = out[N_CAPTURES].fillna(0).astype("int64")
    for col in (IMAGED_AREA_M2, IMAGED_FRACTION, DETAIL_AREA_M2):
        out[col] = out[col].fillna(0.0)
    for col in EXPOSURE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        out[col] = pd.to_datetime(out[col], utc=True).astype(TIME_DTYPE)
    return out.reset_index(drop=True)
