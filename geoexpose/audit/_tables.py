"""The audit's per-flight and per-site tables, summed up from its findings and exposure."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.audit._context import Context, drone_of
from geoexpose.audit._holds import site_authorized
from geoexpose.audit.rules import SEVERITIES, SEVERITY_RANK
from geoexpose.exposure import ExposureResult
from geoexpose.schema import (
    BEST_GSD_CM,
    CAPTURE_IDS,
    DRONE_ID,
    DURATION_S,
    DWELL_S,
    FAMILY,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    KIND,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    N_CAPTURES,
    N_FIXES,
    N_FLIGHTS,
    NAME,
    RULE,
    SEVERITY,
    SITE_ID,
    STANDOFF_M,
)

__all__ = ["by_flight", "by_site"]


def by_flight(findings: gpd.GeoDataFrame, ctx: Context, result: ExposureResult) -> pd.DataFrame:
    """One row per flight: time span, time outside the areas, captures, findings by severity."""
    none = "(no flight)"
    flights = pd.DataFrame(result.flights.drop(columns="geometry")).set_index(FLIGHT_ID)
    cols = [c for c in (FIRST_SEEN_UTC, LAST_SEEN_UTC, DURATION_S, N_FIXES) if c in flights]
    f_flight = findings[FLIGHT_ID].fillna(none)
    c_flight = result.captures[FLIGHT_ID].fillna(none)
    ids = flights.index.union(pd.Index(f_flight.unique())).union(pd.Index(c_flight.unique()))
    out = flights[cols].reindex(ids)
    out.insert(0, DRONE_ID, drone_of(ctx).reindex(ids).to_numpy())
    outside = findings[RULE] == "outside_authorized"
    seconds = findings.loc[outside, DURATION_S].groupby(f_flight[outside]).sum()
    out["outside_authorized_s"] = seconds.reindex(ids).fillna(0.0)
    out[N_CAPTURES] = c_flight.value_counts().reindex(ids).fillna(0).astype("int64")
    flagged = findings[CAPTURE_IDS] != ""
    shown = (
        findings.loc[flagged, CAPTURE_IDS]
        .groupby(f_flight[flagged])
        .agg(lambda s: len(set(";".join(s).split(";"))))
    )
    out["captures_flagged"] = shown.reindex(ids).fillna(0).astype("int64")
    for sev in SEVERITIES:
        count = (findings[SEVERITY] == sev).groupby(f_flight).sum()
        out[sev] = count.reindex(ids).fillna(0).astype("int64")
    return out.rename_axis(FLIGHT_ID).reset_index()


def by_site(
    findings: gpd.GeoDataFrame, ctx: Context, result: ExposureResult, outside_s: pd.Series
) -> pd.DataFrame:
    """One row per site with a finding or exposed, the worst first, then by time in zone.

    ``outside_s`` is the time (s) in each site's zone outside the authorized areas.
    """
    s = result.sites
    covered = set(site_authorized(ctx.areas, ctx.sites)[SITE_ID])
    counts = findings[findings[SITE_ID].notna()].groupby(SITE_ID).size()
    worst = findings[findings[SITE_ID].notna()].groupby(SITE_ID)[SEVERITY].first()
    keep = (s[N_FLIGHTS] > 0) | (s[N_CAPTURES] > 0) | s[SITE_ID].isin(counts.index)
    cols = [SITE_ID, NAME, FAMILY, KIND, STANDOFF_M, N_FLIGHTS, DWELL_S, MIN_AGL_M, N_CAPTURES]
    out = pd.DataFrame(s.loc[keep, [c for c in cols if c in s]]).reset_index(drop=True)
    out.insert(4, "authorized", out[SITE_ID].isin(covered))
    out["outside_authorized_s"] = out[SITE_ID].map(outside_s).fillna(0.0).to_numpy()
    out[BEST_GSD_CM] = s.loc[keep, BEST_GSD_CM].to_numpy()
    out["findings"] = out[SITE_ID].map(counts).fillna(0).astype("int64")
    out["worst_severity"] = out[SITE_ID].map(worst)
    rank = out["worst_severity"].map(SEVERITY_RANK).fillna(9)
    order = np.lexsort((-out[DWELL_S].fillna(0).to_numpy(), rank.to_numpy()))
    return out.iloc[order].reset_index(drop=True)
