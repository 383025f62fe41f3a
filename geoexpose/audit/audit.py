"""Audit flights and captures against a work order's authorized areas and a policy.

:func:`audit` answers two questions: did the flights stay in the authorized areas
(:func:`geoexpose.read_authorized`), and what else did they expose? Its findings, one
row per finding, follow the rules of the policy (:func:`geoexpose.read_policy`); the
rules and their severities are listed in :mod:`geoexpose.audit.rules`.

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
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose.audit._capture_findings import capture_findings
from geoexpose.audit._context import Context, fix_drones
from geoexpose.audit._findings import findings_table
from geoexpose.audit._fix_findings import fix_findings
from geoexpose.audit._tables import by_flight, by_site
from geoexpose.audit.authorized import AUTHORIZED_COLUMNS, read_authorized
from geoexpose.audit.policy import Policy, read_policy
from geoexpose.audit.result import AuditResult
from geoexpose.errors import InputError, InputWarning
from geoexpose.exposure import expose
from geoexpose.schema import CRS_LONLAT, FAMILY, KIND, SITE_ID, STANDOFF_M
from geoexpose.sites import default_standoff, load_catalog, normalize_label, resolve_family
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, fix_arrays

__all__ = ["audit"]

logger = logging.getLogger(__name__)


def _with_standoffs(sites: gpd.GeoDataFrame, policy: Policy) -> gpd.GeoDataFrame:
    """Apply the policy's standoffs (kinds win over families) to the sites."""
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
        sites,
        fixes,
        captures,
        max_gap_s=max_gap_s,
        gap_factor=gap_factor,
        threads=threads,
        max_gsd_cm=policy.imaging_max_gsd_cm,
        detail_gsd_cm=policy.imaging_detail_gsd_cm,
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
    drone = fix_drones(fixes_used, a)  # the aircraft: where a fix names none, its flight's
    ctx = Context(sites, areas, policy, a, drone, int(result.params.get("threads", 1)))
    frames, outside_s = fix_findings(ctx)
    frames += capture_findings(ctx, result)
    findings = findings_table(frames, ctx)
    logger.info("audit: %d findings", len(findings))
    return AuditResult(
        findings,
        result,
        areas,
        policy,
        by_flight(findings, ctx, result),
        by_site(findings, ctx, result, outside_s),
    )
