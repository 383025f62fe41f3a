"""The findings table: fix and capture findings in one frame, ranked, numbered, in words."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.audit._context import Context
from geoexpose.audit.policy import Policy
from geoexpose.audit.rules import RULES, SEVERITY_RANK
from geoexpose.schema import (
    BEST_GSD_CM,
    CAPTURE_IDS,
    CRS_LONLAT,
    DRONE_ID,
    DURATION_S,
    END_UTC,
    EVIDENCE,
    FAMILY,
    FINDING_COLUMNS,
    FINDING_ID,
    FIRST_FIX,
    FLIGHT_ID,
    KIND,
    LAST_FIX,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    NAME,
    RULE,
    SEVERITY,
    SITE_ID,
    STANDOFF_M,
    START_UTC,
    TIME_DTYPE,
)

__all__ = ["findings_table"]


def _evidence(f: pd.DataFrame, sites: gpd.GeoDataFrame, policy: Policy) -> list[str]:
    """Say in words what each finding rests on."""
    info = sites.set_index(SITE_ID)
    used = info.loc[f[SITE_ID].dropna().unique()]
    names = used[NAME] if NAME in used else pd.Series(None, index=used.index, dtype=object)
    kinds = used[KIND] if KIND in used else pd.Series(None, index=used.index, dtype=object)
    labels = {
        site: f"{name if pd.notna(name) else site} ({family}/{kind})"
        for site, name, family, kind in zip(used.index, names, used[FAMILY], kinds, strict=True)
    }
    standoff = used[STANDOFF_M].to_dict()
    limits = {site: policy.rules(family).min_agl_m for site, family in used[FAMILY].items()}
    out = []
    for row in f.itertuples(index=False):
        rule = getattr(row, RULE)
        site = getattr(row, SITE_ID)
        label = labels.get(site, "")
        n_fix = int(getattr(row, N_FIXES))
        span = f"fixes {getattr(row, FIRST_FIX)}-{getattr(row, LAST_FIX)}"
        agl = getattr(row, MIN_AGL_M)
        dist = getattr(row, MIN_DISTANCE_M)
        gsd = getattr(row, BEST_GSD_CM)
        n_cap = int(getattr(row, N_CAPTURES))
        if rule == "no_entry":
            text = (
                f"{n_fix} fixes ({span}) inside the {standoff[site]:g} m zone of "
                f"{label}, outside the authorized areas; closest {dist:.0f} m"
            )
        elif rule == "min_agl":
            text = (
                f"{n_fix} fixes ({span}) in the zone of {label} lower than {limits[site]:g} m "
                f"above ground; closest {dist:.0f} m"
            )
        elif rule == "outside_authorized":
            text = f"{n_fix} fixes ({span}) outside every authorized area"
        elif rule == "never_image":
            text = (
                f"{n_cap} capture(s) show {label}, which must not be imaged; "
                f"finest GSD {gsd:.1f} cm"
            )
        else:
            text = (
                f"{n_cap} capture(s) show {label}, not authorized, finer than "
                f"{policy.max_gsd_cm:g} cm; finest GSD {gsd:.1f} cm"
            )
        if np.isfinite(agl):
            text += f"; lowest {agl:.0f} m above ground"
        out.append(text)
    return out


def findings_table(frames: list[pd.DataFrame], ctx: Context) -> gpd.GeoDataFrame:
    """Join the findings of every rule into one table of :data:`FINDING_COLUMNS`.

    Parameters
    ----------
    frames
        Fix and capture findings (:func:`~geoexpose.audit._fix_findings.fix_findings`,
        :func:`~geoexpose.audit._capture_findings.capture_findings`).
    ctx
        The audit's sites and policy, for the site names and the evidence.

    Returns
    -------
    GeoDataFrame
        One row per finding, the most severe first, then by time, flight, rule and
        site; numbered ``F001``, ``F002``, ... in that order; EPSG:4326.
    """
    columns = [c for c in FINDING_COLUMNS if c != "geometry"]
    if frames:
        table = pd.concat([f.reset_index(drop=True) for f in frames], ignore_index=True)
    else:
        table = pd.DataFrame({c: [] for c in [RULE, "geometry"]})
    missing = [c for c in columns if c not in table]
    table = table.assign(**dict.fromkeys(missing, np.nan))  # e.g. no fix rule found anything
    for col in (N_FIXES, N_CAPTURES):
        table[col] = pd.to_numeric(table[col], errors="coerce").fillna(0).astype("int64")
    for col in (FIRST_FIX, LAST_FIX):  # empty for capture findings
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("Int64")
    for col in (MIN_DISTANCE_M, MIN_AGL_M, BEST_GSD_CM):
        table[col] = pd.to_numeric(table[col], errors="coerce").astype("float64")
    for col in (START_UTC, END_UTC):
        table[col] = pd.to_datetime(table[col], utc=True).astype(TIME_DTYPE)
    capture_ids = table[CAPTURE_IDS].astype(object)
    table[CAPTURE_IDS] = capture_ids.where(capture_ids.notna(), "")
    table[SEVERITY] = table[RULE].map(RULES)
    table[DURATION_S] = (table[END_UTC] - table[START_UTC]).dt.total_seconds()
    info = ctx.sites.set_index(SITE_ID)
    site = table[SITE_ID].astype(object)
    table[NAME] = site.map(info[NAME]) if NAME in info else None
    table[FAMILY] = site.map(info[FAMILY])
    for col in (FLIGHT_ID, DRONE_ID, SITE_ID, NAME, FAMILY):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    rank = table[SEVERITY].map(SEVERITY_RANK)
    table = table.assign(_rank=rank).sort_values(
        ["_rank", START_UTC, FLIGHT_ID, RULE, SITE_ID], kind="stable", ignore_index=True
    )
    table[EVIDENCE] = _evidence(table, ctx.sites, ctx.policy)
    table[FINDING_ID] = pd.Series([f"F{i + 1:03d}" for i in range(len(table))], dtype=object)
    for col in (FINDING_ID, SEVERITY, RULE, CAPTURE_IDS, EVIDENCE):
        table[col] = table[col].astype(object)
    geometry = gpd.GeoSeries(table["geometry"].to_numpy(dtype=object), crs=CRS_LONLAT)
    return gpd.GeoDataFrame(table[columns], geometry=geometry, crs=CRS_LONLAT)
