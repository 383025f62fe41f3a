"""The fix findings of an audit: spans of ``no_entry``, ``min_agl`` and ``outside_authorized``.

Zone and area tests are :func:`geoexpose.exposure.zone_hits`, the join of
:func:`geoexpose.expose`; when a fix counts as authorized is said in
:mod:`geoexpose.audit.audit`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.audit._context import Context, flight_names
from geoexpose.audit._holds import holds
from geoexpose.audit._spans import NS, spans
from geoexpose.exposure import SiteDistance, ZoneHits, zone_hits
from geoexpose.projection import band_of_geometries, geometries_to_band, lonlat_to_band
from geoexpose.schema import (
    DRONE_ID,
    END_UTC,
    FAMILY,
    FLIGHT_ID,
    N_CAPTURES,
    N_FLIGHTS,
    RULE,
    SITE_ID,
    STANDOFF_M,
    START_UTC,
    TIME_DTYPE,
)

__all__ = ["fix_findings"]


def _inside_pairs(hits: ZoneHits) -> tuple[np.ndarray, np.ndarray]:
    """Fix and zone index of every fix inside a zone: measured ones and whole runs.

    Each pair comes once: a run is a whole chunk, whose fixes are not measured again.
    """
    ins = hits.inside
    counts = hits.run_last - hits.run_first + 1
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    run_fix = np.repeat(hits.run_first, counts) + np.arange(counts.sum()) - offsets
    fix = np.concatenate([hits.fix[ins], run_fix]).astype("int64")
    zone = np.concatenate([hits.fix_site[ins], np.repeat(hits.run_site, counts)]).astype("int64")
    return fix, zone


def _distances(geoms: np.ndarray, xy: np.ndarray, site: np.ndarray) -> np.ndarray:
    """Distance (m) from each point to its site, measured in the site's band."""
    out = np.full(len(site), np.nan)
    if len(site) == 0:
        return out
    bands = band_of_geometries(geoms)
    for band in np.unique(bands[site]):
        used = np.flatnonzero(bands == band)
        sel = np.flatnonzero(bands[site] == band)
        x, y = lonlat_to_band(xy[sel, 0], xy[sel, 1], int(band))
        measure = SiteDistance(geometries_to_band(geoms[used], int(band)))
        out[sel] = measure(x, y, np.searchsorted(used, site[sel]))
    return out


def _authorized_fixes(ctx: Context, flight: np.ndarray) -> np.ndarray:
    """Whether each ordered fix is inside an authorized area that holds for it."""
    a = ctx.a
    auth = np.zeros(len(a.codes), dtype=bool)
    if len(a.codes) and len(ctx.areas):
        hits = zone_hits(
            ctx.areas.geometry.to_numpy(),
            ctx.areas[STANDOFF_M].to_numpy("float64"),
            a.xy[:, 0],
            a.xy[:, 1],
            a.codes,
            a.seg_ok,
            threads=ctx.threads,
        )
        fix, area = _inside_pairs(hits)
        ok = holds(ctx.areas, area, a.t_ns[fix], flight[fix], ctx.drone[fix])
        auth[fix[ok]] = True
    return auth


def fix_findings(ctx: Context) -> tuple[list[pd.DataFrame], pd.Series]:
    """Spans of the fix rules, and the seconds in each site's zone outside the areas.

    Returns
    -------
    frames : list of DataFrame
        The spans of each rule (see :func:`~geoexpose.audit._spans.spans`) with
        ``rule``, ``flight_id``, ``drone_id``, ``site_id``, ``start_utc``, ``end_utc``
        and ``n_captures`` (0); rules that found nothing are left out.
    outside_s : Series
        Seconds in each site's zone outside the authorized areas, by ``site_id``.
    """
    a, sites, policy = ctx.a, ctx.sites, ctx.policy
    n = len(a.codes)
    flight = flight_names(a)
    auth = _authorized_fixes(ctx, flight)

    rules = [policy.rules(f) for f in sites[FAMILY].astype(str)]
    no_entry = np.array([r.no_entry for r in rules], dtype=bool)
    min_agl = np.array([r.min_agl_m for r in rules], dtype="float64")
    exposed = pd.to_numeric(sites[N_FLIGHTS], errors="coerce").fillna(0).to_numpy() > 0
    zone_sites = np.flatnonzero(no_entry | (min_agl > 0) | exposed)
    geoms = sites.geometry.to_numpy()
    parts: list[pd.DataFrame] = []
    outside_s = pd.Series(0.0, index=sites[SITE_ID].to_numpy())
    if n and len(zone_sites):
        hits = zone_hits(
            geoms[zone_sites],
            pd.to_numeric(sites[STANDOFF_M]).to_numpy("float64")[zone_sites],
            a.xy[:, 0],
            a.xy[:, 1],
            a.codes,
            a.seg_ok,
            threads=ctx.threads,
        )
        fix, z = _inside_pairs(hits)
        site = zone_sites[z]
        dist = _distances(geoms, a.xy[fix], site)
        out = ~auth[fix]
        found = spans(fix[out], site[out], a, dist[out])
        seconds = (found["end_ns"] - found["start_ns"]) / NS
        outside_s = outside_s.add(
            seconds.groupby(sites[SITE_ID].to_numpy()[found["key"]]).sum(), fill_value=0.0
        )
        parts.append(found[no_entry[found["key"]]].assign(**{RULE: "no_entry"}))
        with np.errstate(invalid="ignore"):
            low = a.alt[fix] < min_agl[site]
        parts.append(spans(fix[low], site[low], a, dist[low]).assign(**{RULE: "min_agl"}))
    if n and policy.flight_time:
        out = np.flatnonzero(~auth & (a.codes >= 0))
        found = spans(out, np.full(len(out), -1), a, np.full(len(out), np.nan))
        parts.append(found.assign(**{RULE: "outside_authorized"}))
    frames = []
    for part in parts:
        if len(part) == 0:
            continue
        part = part.copy()
        part[FLIGHT_ID] = flight[part["first_pos"]]
        part[DRONE_ID] = ctx.drone[part["first_pos"]]
        part[SITE_ID] = np.where(
            part["key"] >= 0, sites[SITE_ID].to_numpy(dtype=object)[part["key"]], None
        )
        part[START_UTC] = pd.to_datetime(part["start_ns"], utc=True).astype(TIME_DTYPE)
        part[END_UTC] = pd.to_datetime(part["end_ns"], utc=True).astype(TIME_DTYPE)
        part[N_CAPTURES] = 0
        frames.append(part)
    return frames, outside_s
