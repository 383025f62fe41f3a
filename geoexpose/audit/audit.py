"""Audit flights and captures against a work order's authorized areas and a policy.

:func:`audit` answers two questions: did the flights stay in the authorized areas
(:func:`geoexpose.read_authorized`), and what else did they expose? Its findings, one
row per finding, follow the rules of the policy (:func:`geoexpose.read_policy`):

==========================  ========  ===================================================
rule                        severity  finding
==========================  ========  ===================================================
``no_entry``                high      a span of fixes inside the zone of a site whose
                                      family has ``no_entry``, outside the authorized areas
``never_image``             high      the captures of a flight that show a site whose
                                      family has ``never_image``, that site not authorized
``min_agl``                 medium    a span of fixes inside a site's zone lower than its
                                      family's ``min_agl_m`` (authorized or not)
``max_gsd``                 medium    the captures of a flight that show a site not
                                      authorized at a GSD finer than ``max_gsd_cm``
``outside_authorized``      low       a span of fixes outside every authorized area
==========================  ========  ===================================================

Definitions:

- A fix is inside an authorized area when it lies in the polygon (or in the zone of an
  authorized site) and the area holds for the fix's time, flight and aircraft
  (``drone_id``). A site is authorized for a capture when an area that holds for the
  capture's time and flight covers the whole site.
- A span is a run of consecutive fixes of one flight, with no recording gap, that meet
  the rule. Its ``start_utc`` and ``end_utc`` lie half-way between its first fix and
  the fix before, and its last fix and the fix after (at a recording gap or the end of
  the log, the fix itself), so ``duration_s`` is within one fix interval of the time
  the rule was broken. ``first_fix`` and ``last_fix`` count the fixes of the flight from
  0 in time order (empty for capture findings). A passage between two fixes that
  meets no fix is no span.
- Capture findings group the captures of one flight and site: ``start_utc`` and
  ``end_utc`` are the first and last capture, ``capture_ids`` the captures in time
  order, ``best_gsd_cm`` the finest GSD where the site lies in the frame.

Zone and area tests are made in the site's metric band (:mod:`geoexpose.projection`)
by the same code as :func:`geoexpose.expose`.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.audit.authorized import AUTHORIZED_COLUMNS, area_polygons, buffered, read_authorized
from geoexpose.audit.policy import Policy, read_policy
from geoexpose.errors import InputError, InputWarning
from geoexpose.exposure import ExposureResult, SiteDistance, ZoneHits, expose, zone_hits
from geoexpose.projection import band_of_geometries, geometries_to_band, lonlat_to_band
from geoexpose.schema import (
    AIRCRAFT,
    ALT_AGL_M,
    BEST_GSD_CM,
    CAPTURE_ID,
    CAPTURE_IDS,
    CRS_LONLAT,
    DRONE_ID,
    DURATION_S,
    DWELL_S,
    END_UTC,
    EVIDENCE,
    FAMILY,
    FINDING_COLUMNS,
    FINDING_ID,
    FIRST_FIX,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    GSD_CM,
    KIND,
    LAST_FIX,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    N_FLIGHTS,
    NAME,
    RULE,
    SEVERITY,
    SITE_ID,
    STANDOFF_M,
    START_UTC,
    TIME_DTYPE,
    TIME_UTC,
    VALID_FROM_UTC,
    VALID_TO_UTC,
)
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, FixArrays, fix_arrays

__all__ = ["RULES", "SEVERITIES", "AuditResult", "audit"]

logger = logging.getLogger(__name__)

#: The rules and their severities.
RULES: Mapping[str, str] = {
    "no_entry": "high",
    "never_image": "high",
    "min_agl": "medium",
    "max_gsd": "medium",
    "outside_authorized": "low",
}
SEVERITIES = ("high", "medium", "low")
_NS = 1_000_000_000
_T_MIN, _T_MAX = np.iinfo("int64").min, np.iinfo("int64").max


@dataclass(frozen=True)
class AuditResult:
    """What :func:`audit` found.

    Attributes
    ----------
    findings : GeoDataFrame
        One row per finding, columns :data:`geoexpose.schema.FINDING_COLUMNS`, high
        severity first then by time; geometry the fixes of the span (a line, or a point
        for one fix) or the part of the site area that the captures show, EPSG:4326.
    exposure : ExposureResult
        The exposure of the sites to the flights and captures audited.
    authorized : GeoDataFrame
        The authorized areas (:func:`geoexpose.read_authorized`).
    policy : Policy
        The policy applied.
    by_flight : DataFrame
        One row per flight: its time span, time outside the authorized areas, captures,
        and findings by severity.
    by_site : DataFrame
        One row per site with a finding or exposed: whether it is authorized, time in
        its zone, time there outside the authorized areas, captures, findings.
    """

    findings: gpd.GeoDataFrame
    exposure: ExposureResult
    authorized: gpd.GeoDataFrame
    policy: Policy
    by_flight: pd.DataFrame
    by_site: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        """Return what the audit used and found, for ``summary.json``."""
        counts = self.findings.groupby([RULE, SEVERITY]).size()
        areas = pd.DataFrame(self.authorized.drop(columns="geometry"))
        return {
            "policy": self.policy.to_dict(),
            "authorized_areas": _records(areas),
            "findings": {
                "total": len(self.findings),
                "by_severity": {s: int((self.findings[SEVERITY] == s).sum()) for s in SEVERITIES},
                "by_rule": {str(rule): int(n) for (rule, _), n in counts.items()},
            },
        }

    def write(
        self,
        folder: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        basemap: str | os.PathLike[str] = "none",
        extra_summary: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a scan's output folder with the findings and ``report.html``.

        The findings go to ``findings.csv``, the ``findings`` layer of
        ``exposure.gpkg`` and a layer of ``map.html``.

        Raises :class:`~geoexpose.errors.OutputExistsError` before writing anything if
        an output exists and ``overwrite`` is false.
        """
        from geoexpose.audit._outputs import write_audit

        return write_audit(
            self, Path(folder), overwrite=overwrite, basemap=basemap, extra_summary=extra_summary
        )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    for col in out:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            out[col] = [None if v is None else v.isoformat() for v in out[col]]
    return out.to_dict("records")


def _with_standoffs(sites: gpd.GeoDataFrame, policy: Policy) -> gpd.GeoDataFrame:
    """Apply the policy's standoffs (kinds win over families) to the sites."""
    from geoexpose.sites import default_standoff, normalize_label, resolve_family

    if SITE_ID not in sites or FAMILY not in sites:
        return sites  # expose says what is missing
    sites = sites.copy()
    kinds = sites[KIND] if KIND in sites else pd.Series(None, index=sites.index, dtype=object)
    if STANDOFF_M not in sites:
        sites[STANDOFF_M] = [
            default_standoff(f, k) for f, k in zip(sites[FAMILY], kinds, strict=True)
        ]
    if not policy.standoff_m:
        return sites
    families = sites[FAMILY].astype(str).map(normalize_label)
    kind_labels = kinds.astype(object).map(lambda k: None if pd.isna(k) else normalize_label(k))
    standoff = pd.to_numeric(sites[STANDOFF_M], errors="coerce")
    by_family = {resolve_family(k): v for k, v in policy.standoff_m.items()}
    standoff = families.map(by_family).where(families.isin(list(by_family)), standoff)
    standoff = kind_labels.map(policy.standoff_m).where(
        kind_labels.isin(list(policy.standoff_m)), standoff
    )
    sites[STANDOFF_M] = standoff.astype("float64")
    return sites


def _check_policy_names(policy: Policy, sites: gpd.GeoDataFrame) -> None:
    """Warn of policy families and standoff keys that match no site and no catalog entry."""
    from geoexpose.sites import load_catalog

    catalog = load_catalog()
    known = set(catalog) | {k for f in catalog.values() for k in f.kinds}
    present = set(sites[FAMILY].astype(str))
    if KIND in sites:
        present |= set(sites[KIND].dropna().astype(str))
    for name in [*policy.families, *policy.standoff_m]:
        if name not in known and name not in present:
            warnings.warn(
                InputWarning(
                    f"{policy.source}: {name!r} is no family or kind of the catalog "
                    "and matches no site; is it misspelt?"
                ),
                stacklevel=3,
            )


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


def _ids(values: pd.Series) -> np.ndarray:
    """Text ids as an object array, None where missing."""
    return np.asarray([None if pd.isna(v) else str(v) for v in values.astype(object)], dtype=object)


def _holds(
    areas: gpd.GeoDataFrame, area: np.ndarray, t_ns: np.ndarray, flight: np.ndarray, drone
) -> np.ndarray:
    """Whether each area holds at time ``t_ns`` for the flight and aircraft given."""
    lo = areas[VALID_FROM_UTC].astype(TIME_DTYPE).array.asi8.copy()
    hi = areas[VALID_TO_UTC].astype(TIME_DTYPE).array.asi8.copy()
    lo[areas[VALID_FROM_UTC].isna().to_numpy()] = _T_MIN
    hi[areas[VALID_TO_UTC].isna().to_numpy()] = _T_MAX
    ok = (t_ns >= lo[area]) & (t_ns <= hi[area])
    for allowed, given in ((_ids(areas[AIRCRAFT]), drone), (_ids(areas[FLIGHT_ID]), flight)):
        want = allowed[area]
        anyone = np.array([w is None for w in want], dtype=bool)
        ok &= anyone | (want == given)
    return ok


def _spans(pos: np.ndarray, key: np.ndarray, a: FixArrays, dist: np.ndarray) -> pd.DataFrame:
    """Cut runs of consecutive fixes (no recording gap) with the same key into spans."""
    order = np.lexsort((pos, key))
    pos, key, dist = pos[order], key[order], dist[order]
    if len(pos) > 1:  # a pair given twice counts once
        once = np.r_[True, (pos[1:] != pos[:-1]) | (key[1:] != key[:-1])]
        pos, key, dist = pos[once], key[once], dist[once]
    new = np.ones(len(pos), dtype=bool)
    if len(pos) > 1:
        new[1:] = (key[1:] != key[:-1]) | (pos[1:] != pos[:-1] + 1) | ~a.seg_ok[pos[:-1]]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(pos))[: len(starts)] - 1
    first, last = pos[starts], pos[ends]
    prev = np.maximum(first - 1, 0)
    before = np.where((first > 0) & a.seg_ok[prev], a.dt[prev], 0.0) / 2
    after = np.where(a.seg_ok[last], a.dt[last], 0.0) / 2
    n = ends - starts + 1
    span = np.cumsum(new) - 1
    geoms = np.empty(len(starts), dtype=object)
    multi = n >= 2
    along = multi[span]
    if along.any():
        line_of = np.cumsum(multi) - 1
        geoms[multi] = shapely.linestrings(a.xy[pos[along]], indices=line_of[span[along]])
    geoms[~multi] = shapely.points(a.xy[first[~multi]])
    flight_first = np.searchsorted(a.codes, a.codes[first], side="left")
    empty = np.empty(0)
    return pd.DataFrame(
        {
            "code": a.codes[first],
            "key": key[starts],
            FIRST_FIX: first - flight_first,
            LAST_FIX: last - flight_first,
            N_FIXES: n,
            "start_ns": a.t_ns[first] - np.round(before * _NS).astype("int64"),
            "end_ns": a.t_ns[last] + np.round(after * _NS).astype("int64"),
            MIN_DISTANCE_M: np.fmin.reduceat(dist, starts) if len(pos) else empty,
            MIN_AGL_M: np.fmin.reduceat(a.alt[pos], starts) if len(pos) else empty,
            "geometry": geoms,
            "first_pos": first,
        }
    )


@dataclass(frozen=True)
class _Context:
    sites: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    policy: Policy
    a: FixArrays
    drone: np.ndarray  # drone id of each ordered fix (None: unknown)
    threads: int


def _fix_findings(ctx: _Context) -> tuple[list[pd.DataFrame], pd.Series]:
    """Spans of the fix rules, and the seconds in each site's zone outside the areas."""
    a, sites, policy = ctx.a, ctx.sites, ctx.policy
    n = len(a.codes)
    flight = _flight_names(a)
    auth = np.zeros(n, dtype=bool)
    if n and len(ctx.areas):
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
        holds = _holds(ctx.areas, area, a.t_ns[fix], flight[fix], ctx.drone[fix])
        auth[fix[holds]] = True

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
        spans = _spans(fix[out], site[out], a, dist[out])
        seconds = (spans["end_ns"] - spans["start_ns"]) / _NS
        outside_s = outside_s.add(
            seconds.groupby(sites[SITE_ID].to_numpy()[spans["key"]]).sum(), fill_value=0.0
        )
        parts.append(spans[no_entry[spans["key"]]].assign(**{RULE: "no_entry"}))
        with np.errstate(invalid="ignore"):
            low = a.alt[fix] < min_agl[site]
        parts.append(_spans(fix[low], site[low], a, dist[low]).assign(**{RULE: "min_agl"}))
    if n and policy.flight_time:
        out = np.flatnonzero(~auth & (a.codes >= 0))
        spans = _spans(out, np.full(len(out), -1), a, np.full(len(out), np.nan))
        parts.append(spans.assign(**{RULE: "outside_authorized"}))
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


def _site_authorized(ctx: _Context) -> pd.DataFrame:
    """Pairs (site, area) where the area covers the whole site."""
    areas, sites = ctx.areas, ctx.sites
    if len(areas) == 0:
        return pd.DataFrame({SITE_ID: pd.Series(dtype=object), "area": pd.Series(dtype="int64")})
    tree = shapely.STRtree(area_polygons(areas))
    site, area = tree.query(sites.geometry.to_numpy(), predicate="covered_by")
    ids = sites[SITE_ID].astype(str).to_numpy(dtype=object)
    named = areas[SITE_ID].notna().to_numpy()
    by_id = pd.Index(ids).get_indexer(areas[SITE_ID].astype(str).to_numpy()[named])
    by_id_area = np.flatnonzero(named)[by_id >= 0]
    return pd.DataFrame(
        {
            SITE_ID: np.concatenate([ids[site], ids[by_id[by_id >= 0]]]),
            "area": np.concatenate([area, by_id_area]).astype("int64"),
        }
    ).drop_duplicates()


def _capture_findings(ctx: _Context, result: ExposureResult) -> list[pd.DataFrame]:
    """Capture findings: never_image and max_gsd, grouped by flight and site."""
    cs = result.capture_sites
    if len(cs) == 0:
        return []
    sites, policy = ctx.sites, ctx.policy
    never_site = pd.Series(
        [policy.rules(f).never_image for f in sites[FAMILY].astype(str)],
        index=sites[SITE_ID].to_numpy(),
    )
    never = cs[SITE_ID].map(never_site).fillna(False).to_numpy(bool)
    drone_of = _drone_of(ctx)
    # which capture x site pairs are authorized
    covers = _site_authorized(ctx)
    rows = cs.reset_index(drop=True).assign(row=np.arange(len(cs)))
    pairs = rows.merge(covers, on=SITE_ID)
    authorized = np.zeros(len(cs), dtype=bool)
    if len(pairs):
        flights = _ids(pairs[FLIGHT_ID])
        drones = _ids(pd.Series(flights, dtype=object).map(drone_of))
        t = pairs[TIME_UTC].astype(TIME_DTYPE).array.asi8
        ok = _holds(ctx.areas, pairs["area"].to_numpy(), t, flights, drones)
        authorized[pairs.loc[ok, "row"].to_numpy()] = True
    gsd = pd.to_numeric(cs[GSD_CM], errors="coerce").to_numpy("float64")
    fine = gsd < policy.max_gsd_cm if policy.max_gsd_cm > 0 else np.zeros(len(cs), dtype=bool)
    pick = {
        "never_image": never & ~authorized,
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
        shown = [shapely.union_all(caps.geometry.reindex(ids).to_numpy()) for ids in members]
        frame["geometry"] = shapely.intersection(
            shown, site_area.reindex(frame[SITE_ID]).to_numpy()
        )
        alt = pd.to_numeric(caps[ALT_AGL_M], errors="coerce")
        frame[MIN_AGL_M] = [float(alt.reindex(ids).min()) for ids in members]
        frame[DRONE_ID] = _ids(frame[FLIGHT_ID].map(drone_of))
        frames.append(frame.assign(**{RULE: rule, N_FIXES: 0}))
    return frames


def _flight_names(a: FixArrays) -> np.ndarray:
    """Flight id of each ordered fix."""
    if len(a.codes) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(a.names, dtype=object)[np.maximum(a.codes, 0)]


def _drone_of(ctx: _Context) -> pd.Series:
    """Return the aircraft (``drone_id``) of each flight, where its fixes name one."""
    known = np.flatnonzero(pd.notna(ctx.drone) & (ctx.a.codes >= 0))
    codes, first = np.unique(ctx.a.codes[known], return_index=True)
    names = np.asarray(ctx.a.names, dtype=object)
    return pd.Series(ctx.drone[known[first]], index=names[codes], dtype=object)


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


def _assemble(frames: list[pd.DataFrame], ctx: _Context) -> gpd.GeoDataFrame:
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
    ids = table[CAPTURE_IDS].astype(object)
    table[CAPTURE_IDS] = ids.where(ids.notna(), "")
    table[SEVERITY] = table[RULE].map(RULES)
    table[DURATION_S] = (table[END_UTC] - table[START_UTC]).dt.total_seconds()
    info = ctx.sites.set_index(SITE_ID)
    site = table[SITE_ID].astype(object)
    table[NAME] = site.map(info[NAME]) if NAME in info else None
    table[FAMILY] = site.map(info[FAMILY])
    for col in (FLIGHT_ID, DRONE_ID, SITE_ID, NAME, FAMILY):
        table[col] = table[col].astype(object).where(table[col].notna(), None)
    rank = table[SEVERITY].map({s: i for i, s in enumerate(SEVERITIES)})
    table = table.assign(_rank=rank).sort_values(
        ["_rank", START_UTC, FLIGHT_ID, RULE, SITE_ID], kind="stable", ignore_index=True
    )
    table[EVIDENCE] = _evidence(table, ctx.sites, ctx.policy)
    table[FINDING_ID] = pd.Series([f"F{i + 1:03d}" for i in range(len(table))], dtype=object)
    for col in (FINDING_ID, SEVERITY, RULE, CAPTURE_IDS, EVIDENCE):
        table[col] = table[col].astype(object)
    geometry = gpd.GeoSeries(table["geometry"].to_numpy(dtype=object), crs=CRS_LONLAT)
    return gpd.GeoDataFrame(table[columns], geometry=geometry, crs=CRS_LONLAT)


def _by_flight(findings: gpd.GeoDataFrame, ctx: _Context, result: ExposureResult) -> pd.DataFrame:
    none = "(no flight)"
    flights = pd.DataFrame(result.flights.drop(columns="geometry")).set_index(FLIGHT_ID)
    cols = [c for c in (FIRST_SEEN_UTC, LAST_SEEN_UTC, DURATION_S, N_FIXES) if c in flights]
    f_flight = findings[FLIGHT_ID].fillna(none)
    c_flight = result.captures[FLIGHT_ID].fillna(none)
    ids = flights.index.union(pd.Index(f_flight.unique())).union(pd.Index(c_flight.unique()))
    out = flights[cols].reindex(ids)
    out.insert(0, DRONE_ID, _drone_of(ctx).reindex(ids).to_numpy())
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


def _by_site(
    findings: gpd.GeoDataFrame, ctx: _Context, result: ExposureResult, outside_s: pd.Series
) -> pd.DataFrame:
    s = result.sites
    covered = set(_site_authorized(ctx)[SITE_ID])
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
    rank = out["worst_severity"].map({v: i for i, v in enumerate(SEVERITIES)}).fillna(9)
    order = np.lexsort((-out[DWELL_S].fillna(0).to_numpy(), rank.to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def audit(
    sites: gpd.GeoDataFrame,
    fixes: pd.DataFrame | None = None,
    captures: gpd.GeoDataFrame | None = None,
    *,
    authorized: str | os.PathLike[str] | pd.DataFrame | Iterable[Any],
    policy: str | os.PathLike[str] | Mapping[str, Any] | Policy | None = None,
    max_gap_s: float = MAX_GAP_S,
    gap_factor: float = GAP_FACTOR,
    threads: int | None = None,
) -> AuditResult:
    """Audit flights and captures against authorized areas and a policy.

    Parameters
    ----------
    sites
        Sites in the schema of :func:`geoexpose.read_sites`. The policy's standoffs
        replace their ``standoff_m`` for the families and kinds it names.
    fixes, captures
        As for :func:`geoexpose.expose`. Fixes may carry ``drone_id`` (the aircraft).
    authorized
        The authorized areas: a frame from :func:`geoexpose.read_authorized`, or what
        it reads (files, site ids, frames); an empty list authorizes nothing.
    policy
        A policy file, mapping or :class:`~geoexpose.audit.policy.Policy`; None: defaults.
    max_gap_s, gap_factor, threads
        As for :func:`geoexpose.expose`.

    Returns
    -------
    AuditResult
        ``.findings``, ``.by_flight``, ``.by_site``, ``.exposure``; ``.write(folder)``.

    Notes
    -----
    Times UTC; distances in metres, horizontal; heights as the fixes give them
    (above ground, or above the take-off point where the log says so).
    """
    policy = read_policy(policy)
    sites = _with_standoffs(sites, policy)
    result = expose(
        sites, fixes, captures, max_gap_s=max_gap_s, gap_factor=gap_factor, threads=threads
    )
    sites = result.sites
    _check_policy_names(policy, sites)
    if isinstance(authorized, gpd.GeoDataFrame) and set(AUTHORIZED_COLUMNS) <= set(authorized):
        areas = authorized.to_crs(CRS_LONLAT)
    else:
        areas = read_authorized(authorized, sites)
    areas = areas.reset_index(drop=True)
    fixes_used = result.fixes
    if fixes_used is None:
        raise InputError("fixes: none")  # pragma: no cover - expose always keeps them
    a = fix_arrays(fixes_used, max_gap_s=max_gap_s, gap_factor=gap_factor)
    drone = np.full(len(a.codes), None, dtype=object)
    if DRONE_ID in fixes_used:  # the aircraft: where a fix names none, its flight's
        given = fixes_used[DRONE_ID].iloc[a.order].astype("string")
        known = np.flatnonzero(given.notna().to_numpy() & (a.codes >= 0))
        drone[known] = given.to_numpy(dtype=object)[known]
        codes, first = np.unique(a.codes[known], return_index=True)
        per_flight = np.full(len(a.names), None, dtype=object)
        per_flight[codes] = drone[known[first]]
        drone = np.where(pd.isna(drone) & (a.codes >= 0), per_flight[np.maximum(a.codes, 0)], drone)
    ctx = _Context(sites, areas, policy, a, drone, int(result.params.get("threads", 1)))
    frames, outside_s = _fix_findings(ctx)
    frames += _capture_findings(ctx, result)
    findings = _assemble(frames, ctx)
    logger.info("audit: %d findings", len(findings))
    return AuditResult(
        findings,
        result,
        areas,
        policy,
        _by_flight(findings, ctx, result),
        _by_site(findings, ctx, result, outside_s),
    )
