"""Per-site and per flight x site exposure from sites, flight fixes and captures.

Definitions (units in the column names, times UTC):

- The zone of a site is its geometry buffered by ``standoff_m``.
- ``dwell_s`` adds, over the segments between consecutive fixes of one flight, the
  interval times the share of the segment inside the zone (so a segment that enters
  half-way counts half). A segment longer in time than the flight's recording-gap
  threshold, ``max(max_gap_s, gap_factor * median interval of the flight)``, counts
  for nothing: nobody knows where the drone was.
- ``min_distance_m`` is the closest horizontal distance from a fix inside the zone to
  the site geometry (0 inside the site); ``min_agl_m`` the lowest ``alt_agl_m`` of
  those fixes. Where a flight only passed through the zone between two fixes, both
  are taken from the two fixes around the passage.
- ``first_seen_utc`` and ``last_seen_utc`` are the first and last fix inside the zone
  (or, for a passage between fixes, the moments it entered and left).
- ``n_flights`` counts the flights with a fix or a passage inside the zone.
- A capture images a site only where its ground sample distance (geometric mean of a
  pixel's two ground dimensions) is at most ``max_gsd_cm``: ``imaged_area_m2`` and
  ``imaged_fraction`` count that part, ``detail_area_m2`` the part at most
  ``detail_gsd_cm``; ``best_niirs`` is the best NIIRS estimate (GIQE 5) of any capture
  showing the site (:mod:`geoexpose.exposure._capture_resolution`).

Distances are measured in the local Transverse Mercator band of each site (see
:mod:`geoexpose.projection`): within 0.15 % of the geodesic distance anywhere.
"""

from __future__ import annotations

import logging
import math
import os

import geopandas as gpd
import pandas as pd

from geoexpose._frames import reader_files, without_attrs
from geoexpose.errors import UsageError
from geoexpose.exposure._capture_metrics import capture_metrics
from geoexpose.exposure._capture_resolution import DETAIL_GSD_CM, MAX_GSD_CM
from geoexpose.exposure._pairs import fix_pairs, with_capture_pairs
from geoexpose.exposure._site_table import site_table
from geoexpose.exposure._validate import validate_captures, validate_fixes
from geoexpose.exposure.prepared import PreparedSites, prepare_sites
from geoexpose.exposure.result import ExposureResult
from geoexpose.imagery import empty_captures
from geoexpose.schema import PAIR_COLUMNS
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, fix_arrays

__all__ = ["expose"]

logger = logging.getLogger(__name__)


def expose(
    sites: gpd.GeoDataFrame | PreparedSites,
    fixes: pd.DataFrame | None = None,
    captures: gpd.GeoDataFrame | None = None,
    *,
    max_gap_s: float = MAX_GAP_S,
    gap_factor: float = GAP_FACTOR,
    threads: int | None = None,
    max_gsd_cm: float = MAX_GSD_CM,
    detail_gsd_cm: float = DETAIL_GSD_CM,
) -> ExposureResult:
    """Compute the exposure of each site to drone flights.

    Parameters
    ----------
    sites
        Sites in the schema of :func:`geoexpose.read_sites` (``site_id``, ``family``,
        ``kind``, ``standoff_m``, geometry in any CRS). A missing ``standoff_m`` takes
        the catalog default of the site's family and kind. Or sites made ready once
        with :func:`geoexpose.prepare_sites`, for many calls over the same sites.
    fixes
        Fixes in the schema of :func:`geoexpose.read_tracks`: ``flight_id``,
        timezone-aware ``time_utc``, ``alt_agl_m``, Point geometry in any CRS.
        Or, the fast form for millions of fixes, a plain DataFrame (not a
        GeoDataFrame) with the same columns and ``lon``/``lat`` in degrees
        (EPSG:4326) instead of geometry: it needs no shapely Point per fix, which
        saves about 220 bytes per fix (1 GB for 5,000,000 fixes) and the time to
        make and read them. The answer is the same; ``.fixes`` is that DataFrame.
    captures
        Captures in the schema of :func:`geoexpose.read_captures` (geometry the ground
        footprint). Those without a ``flight_id`` are matched to a flight by time and
        position (see :mod:`geoexpose.exposure._capture_flights`).
    max_gap_s, gap_factor
        An interval between two fixes of a flight longer than
        ``max(max_gap_s, gap_factor * median interval)`` is a recording gap and adds
        no dwell.
    threads
        Threads to work with (default: the number of CPUs, at most 4); shapely,
        pyproj and numpy release the GIL. The answer does not depend on it.
    max_gsd_cm
        A capture images a site only where its GSD is at most this (cm, > 0; default
        100: coarser, nothing of a site can be made out that public satellite images
        do not show). ``inf``: wherever its footprint reaches.
    detail_gsd_cm
        The GSD (cm) of ``detail_area_m2``; default 1, fine enough to read the labels
        on panels.

    Returns
    -------
    ExposureResult
        ``.sites`` (every site with its metrics), ``.pairs`` (flight x site),
        ``.flights`` and ``.footprints``.

    Notes
    -----
    Distances in metres, horizontal, within 0.15 % of the geodesic; times UTC. The
    score's formula is in :mod:`geoexpose.exposure.score`. Nothing in the inputs is
    modified.
    """
    for name, value in (("max_gsd_cm", max_gsd_cm), ("detail_gsd_cm", detail_gsd_cm)):
        if not value > 0:  # also NaN
            raise UsageError(f"expose: {name} must be a number of centimetres > 0, got {value!r}")
    prepared = prepare_sites(sites)
    inputs = {"tracks": reader_files(fixes), "sites": list(prepared.layers)}
    threads = threads or min(4, os.cpu_count() or 1)
    if captures is not None:
        inputs["captures"] = reader_files(captures)
    # what readers record in attrs is kept in ``inputs``: pandas would deep-copy it at
    # every step, which costs more than the work on a folder of many photos
    captures = validate_captures(without_attrs(captures))
    fixes = validate_fixes(without_attrs(fixes))

    a = fix_arrays(fixes, max_gap_s=max_gap_s, gap_factor=gap_factor)
    pairs = fix_pairs(prepared, a, threads=threads)
    bounds = {"max_gsd_cm": float(max_gsd_cm), "detail_gsd_cm": float(detail_gsd_cm)}
    if captures is not None:
        imagery = capture_metrics(prepared, captures, a, **bounds)
        pairs = with_capture_pairs(pairs, imagery.pairs)
        out = site_table(prepared, pairs, imagery.footprints)
    else:
        out = site_table(prepared, pairs, None)
        imagery = capture_metrics(prepared, empty_captures(), a, **bounds)
    # an infinite bound (no bound) is recorded as None: summary.json stays strict JSON
    recorded = {k: (v if math.isfinite(v) else None) for k, v in bounds.items()}
    params = {"max_gap_s": max_gap_s, "gap_factor": gap_factor, "threads": threads, **recorded}
    logger.info(
        "exposure: %d sites, %d fixes, %d flight x site pairs", len(out), len(fixes), len(pairs)
    )
    return ExposureResult(
        out,
        pairs[PAIR_COLUMNS],
        imagery.footprints,
        fixes,
        params,
        inputs,
        imagery.captures,
        imagery.capture_sites,
        imagery.detail_footprints,
    )
