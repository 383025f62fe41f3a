"""Per-site and per flight x site exposure from sites and flight fixes.

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

Distances are measured in the local Transverse Mercator band of each site (see
:mod:`geoexpose.projection`): within 0.15 % of the geodesic distance anywhere.
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError
from geoexpose.exposure._capture_metrics import (
    CAPTURE_SITE_COLUMNS,
    capture_metrics,
    first_last,
    validate_captures,
)
from geoexpose.exposure._zone_join import zone_hits
from geoexpose.exposure.score import exposure_score
from geoexpose.imagery import empty_captures
from geoexpose.schema import (
    ALT_AGL_M,
    BEST_GSD_CM,
    CRS_LONLAT,
    DWELL_S,
    EXPOSURE_COLUMNS,
    EXPOSURE_SCORE,
    FAMILY,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    KIND,
    LAST_SEEN_UTC,
    LAT,
    LON,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    N_FLIGHTS,
    PAIR_COLUMNS,
    SITE_ID,
    STANDOFF_M,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import (
    GAP_FACTOR,
    MAX_GAP_S,
    fix_arrays,
    flight_lines,
    lonlat_problems,
    reduce_ranges,
)

__all__ = ["GAP_FACTOR", "MAX_GAP_S", "ExposureResult", "expose"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExposureResult:
    """What :func:`expose` found.

    Attributes
    ----------
    sites : GeoDataFrame
        Every input site with its exposure columns, EPSG:4326.
    pairs : DataFrame
        One row per flight x site pair with a fix or a passage in the site's zone.
    flights : GeoDataFrame
        One line per flight (a MultiLineString broken at recording gaps); made from
        ``fixes`` the first time it is asked for.
    footprints : GeoDataFrame
        The imaged part of each site that a capture shows (``site_id``,
        ``n_captures``, ``best_gsd_cm``, ``imaged_area_m2``, ``imaged_fraction``).
    fixes : GeoDataFrame, DataFrame or None
        The fixes the result was computed from, for maps (a DataFrame with ``lon``
        and ``lat`` where they were given so).
    params : dict
        The parameters used.
    inputs : dict
        What the readers recorded of the inputs: ``"tracks"``, one entry per track
        file (from ``fixes.attrs``), ``"sites"`` (from ``sites.attrs``) and
        ``"captures"`` (from ``captures.attrs``).
    captures : GeoDataFrame
        The captures (footprints), with the flights they were matched to.
    capture_sites : DataFrame
        One row per capture x site pair whose footprint shows the site: ``capture_id``,
        ``site_id``, ``flight_id``, ``time_utc``, ``gsd_cm`` (where the site lies in the
        frame) and ``imaged_area_m2`` (of the site area inside the footprint).
    """

    sites: gpd.GeoDataFrame
    pairs: pd.DataFrame
    footprints: gpd.GeoDataFrame
    fixes: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    captures: gpd.GeoDataFrame = field(default_factory=empty_captures)
    capture_sites: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=CAPTURE_SITE_COLUMNS)
    )

    @functools.cached_property
    def flights(self) -> gpd.GeoDataFrame:
        """One line per flight, made from ``fixes`` when first asked for."""
        fixes = self.fixes if self.fixes is not None else _validate_fixes(None)
        gaps = {k: self.params[k] for k in ("max_gap_s", "gap_factor") if k in self.params}
        a = fix_arrays(fixes, **{"max_gap_s": MAX_GAP_S, "gap_factor": GAP_FACTOR, **gaps})
        return flight_lines(fixes.iloc[a.order], seg_ok=a.seg_ok, xy=a.xy, codes=a.codes)

    @property
    def exposed(self) -> gpd.GeoDataFrame:
        """The exposed sites, highest ``exposure_score`` first."""
        s = self.sites
        hit = (s[N_FLIGHTS] > 0) | (s[N_CAPTURES] > 0)
        return s[hit].sort_values(EXPOSURE_SCORE, ascending=False, kind="stable")

    def write(self, folder: str | Path, *, overwrite: bool = False, **kwargs: Any) -> Path:
        """Write the output folder; see :func:`geoexpose.outputs.write_outputs`."""
        from geoexpose.outputs import write_outputs

        return write_outputs(self, folder, overwrite=overwrite, **kwargs)


def _without_attrs(frame: Any) -> Any:
    """Return a shallow copy of a frame without its ``attrs`` (the input is untouched)."""
    if not isinstance(frame, pd.DataFrame) or not frame.attrs:
        return frame
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def _to_lonlat(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(f"{what}: the frame has no CRS; set one with .set_crs(...)")
    return frame if frame.crs.equals(CRS_LONLAT) else frame.to_crs(CRS_LONLAT)


def _validate_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    sites = _to_lonlat(sites, "sites")
    problems = [f"missing column {c!r}" for c in (SITE_ID, FAMILY) if c not in sites]
    if SITE_ID in sites and sites[SITE_ID].duplicated().any():
        dup = sites.loc[sites[SITE_ID].duplicated(), SITE_ID].iloc[0]
        problems.append(f"site_id {dup!r} is not unique")
    bad_geom = sites.geometry.isna() | sites.geometry.is_empty
    if bad_geom.any():
        problems.append(f"{int(bad_geom.sum())} empty geometries (first row {bad_geom.idxmax()})")
    if STANDOFF_M in sites:
        standoff = pd.to_numeric(sites[STANDOFF_M], errors="coerce")
        bad = standoff.isna() | (standoff < 0)
        if bad.any():
            problems.append(f"standoff_m is missing or negative in row {bad.idxmax()}")
    if problems:
        raise InputError(
            "sites: " + "; ".join(problems) + " (read layers with gx.read_sites to fill them)"
        )
    if STANDOFF_M not in sites:
        from geoexpose.sites import default_standoff

        kinds = sites[KIND] if KIND in sites else pd.Series(None, index=sites.index)
        sites = sites.assign(
            **{
                STANDOFF_M: [
                    default_standoff(f, k) for f, k in zip(sites[FAMILY], kinds, strict=True)
                ]
            }
        )
    return sites


def _validate_fixes(fixes: pd.DataFrame | None) -> pd.DataFrame:
    if fixes is None:  # no fixes: an empty frame of the schema
        fixes = gpd.GeoDataFrame(
            {
                FLIGHT_ID: pd.Series(dtype=str),
                TIME_UTC: pd.Series(dtype=TIME_DTYPE),
                ALT_AGL_M: pd.Series(dtype="float64"),
            },
            geometry=gpd.GeoSeries([], crs=CRS_LONLAT),
        )
    lonlat = not isinstance(fixes, gpd.GeoDataFrame) and isinstance(fixes, pd.DataFrame)
    if lonlat and not {LON, LAT} <= set(fixes.columns):
        raise InputError(
            f"fixes: expected a GeoDataFrame, or a DataFrame with {LON!r} and {LAT!r} "
            f"columns (EPSG:4326), got a DataFrame without them"
        )
    if not lonlat:
        fixes = _to_lonlat(fixes, "fixes")
    problems = [f"missing column {c!r}" for c in (FLIGHT_ID, TIME_UTC) if c not in fixes]
    if TIME_UTC in fixes:
        dtype = fixes[TIME_UTC].dtype
        if getattr(dtype, "tz", None) is None:
            problems.append(
                f"time_utc must be timezone-aware UTC, got {dtype}; "
                "use .dt.tz_localize('UTC') or read tracks with gx.read_tracks"
            )
    if lonlat:  # the fast form: numbers, no shapely Points
        problems += lonlat_problems(fixes)
    else:  # one coordinate per geometry: Points (a lone-point MultiPoint would do as well)
        ncoords = shapely.get_num_coordinates(fixes.geometry.array)
        if len(fixes) and not (ncoords == 1).all():
            row = int(np.argmax(ncoords != 1))
            problems.append(f"geometry must be Points (row {row} is not)")
    if problems:
        raise InputError("fixes: " + "; ".join(problems))
    return fixes


def expose(
    sites: gpd.GeoDataFrame,
    fixes: pd.DataFrame | None = None,
    captures: gpd.GeoDataFrame | None = None,
    *,
    max_gap_s: float = MAX_GAP_S,
    gap_factor: float = GAP_FACTOR,
    threads: int | None = None,
) -> ExposureResult:
    """Compute the exposure of each site to drone flights.

    Parameters
    ----------
    sites
        Sites in the schema of :func:`geoexpose.read_sites` (``site_id``, ``family``,
        ``kind``, ``standoff_m``, geometry in any CRS). A missing ``standoff_m`` takes
        the catalog default of the site's family and kind.
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

    Returns
    -------
    ExposureResult
        ``.sites`` (every site with its metrics), ``.pairs`` (flight x site),
        ``.flights`` and ``.footprints``.

    Notes
    -----
    Distances in metres, horizontal, within 0.15 % of the geodesic; times UTC. The
    score's formula is in :mod:`geoexpose.exposure.score`. Nothing in the inputs is modified.
    """
    inputs = {
        "tracks": list(
            (fixes.attrs if fixes is not None else {}).get("geoexpose", {}).get("files", [])
        ),
        "sites": list(sites.attrs.get("geoexpose", {}).get("layers", [])),
    }
    threads = threads or min(4, os.cpu_count() or 1)
    if captures is not None:
        inputs["captures"] = list(captures.attrs.get("geoexpose", {}).get("files", []))
    # what readers record in attrs is kept in ``inputs``: pandas would deep-copy it at
    # every step, which costs more than the work on a folder of many photos
    sites, fixes, captures = (_without_attrs(f) for f in (sites, fixes, captures))
    sites = _validate_sites(sites)
    captures = validate_captures(captures)
    fixes = _validate_fixes(fixes)

    a = fix_arrays(fixes, max_gap_s=max_gap_s, gap_factor=gap_factor)
    standoff = pd.to_numeric(sites[STANDOFF_M]).to_numpy("float64")
    hits = zone_hits(
        sites.geometry.to_numpy(),
        standoff,
        a.xy[:, 0],
        a.xy[:, 1],
        a.codes,
        a.seg_ok,
        threads=threads,
    )

    pairs = _pairs(hits, a.codes, a.t_ns, a.dt, a.alt, len(sites))
    pairs.insert(0, SITE_ID, sites[SITE_ID].to_numpy()[pairs.pop("site")])
    pairs.insert(0, FLIGHT_ID, a.names[pairs.pop("flight")].astype(object))
    imagery = None
    if captures is not None:
        imagery = capture_metrics(sites, standoff, captures, a)
        pairs = _with_capture_pairs(pairs, imagery.pairs)
    site_metrics = _per_site(pairs, sites, imagery)
    site_metrics.index = sites.index
    metrics = site_metrics[EXPOSURE_COLUMNS]
    out = pd.concat(
        [sites.drop(columns=[c for c in EXPOSURE_COLUMNS if c in sites]), metrics], axis=1
    )
    out[EXPOSURE_SCORE] = exposure_score(out)
    if imagery is None:
        imagery = capture_metrics(sites, standoff, empty_captures(), a)
    params = {"max_gap_s": max_gap_s, "gap_factor": gap_factor, "threads": threads}
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
    )


def _pairs(hits, codes, t_ns, dt, alt, n_sites: int) -> pd.DataFrame:
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


def _with_capture_pairs(pairs: pd.DataFrame, from_captures: pd.DataFrame) -> pd.DataFrame:
    """Merge the flight x site rows of fixes and of captures."""
    cap = first_last(from_captures)
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


def _per_site(pairs: pd.DataFrame, sites: gpd.GeoDataFrame, imagery) -> pd.DataFrame:
    """Aggregate the flight x site pairs per site, aligned with the sites' rows.

    A site's captures of no known flight count as one flight.
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
    # captures of no known flight: one flight more
    unmatched = pairs[FLIGHT_ID].isna().groupby(pairs[SITE_ID]).any()
    agg[N_FLIGHTS] += unmatched.reindex(agg.index, fill_value=False).astype("int64")
    out = agg.reindex(sites[SITE_ID].to_numpy())
    out[N_FLIGHTS] = out[N_FLIGHTS].fillna(0).astype("int64")
    out[DWELL_S] = out[DWELL_S].fillna(0.0)
    imaged = imagery.footprints.set_index(SITE_ID) if imagery is not None else pd.DataFrame()
    for col in (N_CAPTURES, BEST_GSD_CM, IMAGED_AREA_M2, IMAGED_FRACTION):
        out[col] = imaged[col].reindex(out.index) if col in imaged else np.nan
    out[N_CAPTURES] = out[N_CAPTURES].fillna(0).astype("int64")
    for col in (IMAGED_AREA_M2, IMAGED_FRACTION):
        out[col] = out[col].fillna(0.0)
    for col in EXPOSURE_COLUMNS:
        if col not in out:
            out[col] = np.nan
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        out[col] = pd.to_datetime(out[col], utc=True).astype(TIME_DTYPE)
    return out.reset_index(drop=True)
