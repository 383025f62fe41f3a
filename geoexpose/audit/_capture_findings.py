"""The capture findings of an audit: ``never_image`` and ``max_gsd``, by flight and site."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geoexpose.audit._context import Context, drone_of
from geoexpose.audit._holds import holds, ids, site_authorized
from geoexpose.audit.authorized import buffered
from geoexpose.exposure import ExposureResult
from geoexpose.schema import (
    ALT_AGL_M,
    BEST_GSD_CM,
    CAPTURE_ID,
    CAPTURE_IDS,
    DRONE_ID,
    END_UTC,
    FAMILY,
    FLIGHT_ID,
    GSD_CM,
    IMAGED_AREA_M2,
    MIN_AGL_M,
    N_CAPTURES,
    N_FIXES,
    RULE,
    SITE_ID,
    STANDOFF_M,
    START_UTC,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["capture_findings"]


def _authorized(ctx: Context, cs: pd.DataFrame, drones: pd.Series) -> np.ndarray:
    """Whether each capture x site pair is authorized; ``drones`` by flight."""
    covers = site_authorized(ctx.areas, ctx.sites)
    rows = cs.reset_index(drop=True).assign(row=np.arange(len(cs)))
    pairs = rows.merge(covers, on=SITE_ID)
    authorized = np.zeros(len(cs), dtype=bool)
    if len(pairs):
        flights = ids(pairs[FLIGHT_ID])
        aircraft = ids(pd.Series(flights, dtype=object).map(drones))
        t = pairs[TIME_UTC].astype(TIME_DTYPE).array.asi8
        ok = holds(ctx.areas, pairs["area"].to_numpy(), t, flights, aircraft)
        authorized[pairs.loc[ok, "row"].to_numpy()] = True
    return authorized


def capture_findings(ctx: Context, result: ExposureResult) -> list[pd.DataFrame]:
    """Capture findings: never_image and max_gsd, grouped by flight and site.

    Returns
    -------
    list of DataFrame
        Per rule that found something, one row per flight and site: ``n_captures``,
        ``capture_ids`` (in time order), ``start_utc`` and ``end_utc`` (the first and
        last capture), ``best_gsd_cm``, ``min_agl_m``, ``drone_id``, ``rule``,
        ``n_fixes`` (0) and ``geometry``, the part of the site's area the captures show.
    """
    cs = result.capture_sites
    if len(cs) == 0:
        return []
    sites, policy = ctx.sites, ctx.policy
    never_site = pd.Series(
        [policy.rules(f).never_image for f in sites[FAMILY].astype(str)],
        index=sites[SITE_ID].to_numpy(),
    )
    never = cs[SITE_ID].map(never_site).fillna(False).to_numpy(bool)
    drones = drone_of(ctx)
    authorized = _authorized(ctx, cs, drones)
    gsd = pd.to_numeric(cs[GSD_CM], errors="coerce").to_numpy("float64")
    fine = gsd < policy.max_gsd_cm if policy.max_gsd_cm > 0 else np.zeros(len(cs), dtype=bool)
    # a capture images a site only where it is finer than the policy's [imaging] bound
    imaged = np.ones(len(cs), dtype=bool)
    if IMAGED_AREA_M2 in cs:
        imaged = pd.to_numeric(cs[IMAGED_AREA_M2], errors="coerce").to_numpy("float64") > 0
    pick = {
        "never_image": never & ~authorized & imaged,
        "max_gsd": ~never & ~authorized & fine,
    }
    caps = result.captures.set_index(CAPTURE_ID)
    polygonal = np.isin(shapely.get_type_id(sites.geometry.to_numpy()), (3, 6))
    standoff = pd.to_numeric(sites[STANDOFF_M]).to_numpy("float64")
    area = buffered(sites.geometry.to_numpy(), np.where(polygonal, 0.0, standoff))
    site_area = pd.Series(area, index=sites[SITE_ID].to_numpy())
    frames = []
    for rule, mask in pick.items():
        sel = cs[mask].sort_values([TIME_UTC, CAPTURE_ID], kind="stable")
        if len(sel) == 0:
            continue
        grouped = sel.groupby([FLIGHT_ID, SITE_ID], dropna=False, sort=False)
        frame = grouped.agg(
            **{
                N_CAPTURES: (CAPTURE_ID, "size"),
                CAPTURE_IDS: (CAPTURE_ID, ";".join),
                START_UTC: (TIME_UTC, "min"),
                END_UTC: (TIME_UTC, "max"),
                BEST_GSD_CM: (GSD_CM, "min"),
            }
        ).reset_index()
        members = grouped[CAPTURE_ID].agg(list).to_numpy()
        shown = [shapely.union_all(caps.geometry.reindex(m).to_numpy()) for m in members]
        frame["geometry"] = shapely.intersection(
            shown, site_area.reindex(frame[SITE_ID]).to_numpy()
        )
        alt = pd.to_numeric(caps[ALT_AGL_M], errors="coerce")
        frame[MIN_AGL_M] = [float(alt.reindex(m).min()) for m in members]
        frame[DRONE_ID] = ids(frame[FLIGHT_ID].map(drones))
        frames.append(frame.assign(**{RULE: rule, N_FIXES: 0}))
    return frames
