"""Captures in the exposure: flights matched, capture x site pairs, per-site imagery metrics."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.exposure._capture_flights import match_flights
from geoexpose.exposure._capture_join import capture_hits
from geoexpose.exposure._capture_resolution import DETAIL_GSD_CM, MAX_GSD_CM
from geoexpose.exposure.prepared import PreparedSites
from geoexpose.schema import (
    ALT_AGL_M,
    BEST_GSD_CM,
    BEST_NIIRS,
    CAM_LAT,
    CAM_LON,
    CAPTURE_ID,
    CRS_LONLAT,
    DETAIL_AREA_M2,
    FIRST_SEEN_UTC,
    FLAGS,
    FLIGHT_ID,
    GSD_CM,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    NIIRS,
    SITE_ID,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import FixArrays

__all__ = [
    "CAPTURE_SITE_COLUMNS",
    "DETAIL_COLUMNS",
    "FOOTPRINT_COLUMNS",
    "CaptureMetrics",
    "assign_flights",
    "capture_metrics",
    "first_last",
]

#: Columns of ``ExposureResult.capture_sites``.
CAPTURE_SITE_COLUMNS = [
    CAPTURE_ID,
    SITE_ID,
    FLIGHT_ID,
    TIME_UTC,
    GSD_CM,
    NIIRS,
    IMAGED_AREA_M2,
    DETAIL_AREA_M2,
]
#: Columns of ``ExposureResult.footprints`` (then geometry).
FOOTPRINT_COLUMNS = [
    SITE_ID,
    N_CAPTURES,
    BEST_GSD_CM,
    BEST_NIIRS,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    DETAIL_AREA_M2,
]
#: Columns of ``ExposureResult.detail_footprints`` (then geometry).
DETAIL_COLUMNS = [SITE_ID, DETAIL_AREA_M2]
_NAT = np.iinfo("int64").min


@dataclass(frozen=True)
class CaptureMetrics:
    """What the captures add to an exposure.

    Attributes
    ----------
    captures : GeoDataFrame
        The captures, with ``flight_id`` matched where it was empty (and the clock shift
        applied where one was found, flagged ``time_shifted_to_track``).
    capture_sites : DataFrame
        One row per capture x site pair whose footprint shows the site, with its
        ``niirs`` and the areas of the site it images and images in detail.
    pairs : DataFrame
        Per flight x site (``flight_id`` NaN for captures of no known flight):
        ``n_captures``, ``best_gsd_cm``, and from the camera positions inside the zone
        ``min_distance_m``, ``min_agl_m``, ``first_ns``, ``last_ns``.
    footprints : GeoDataFrame
        One row per site a capture shows: the imaged part of it (empty where no capture
        was finer than ``max_gsd_cm``), with its metrics.
    detail_footprints : GeoDataFrame
        The part of each site imaged finer than ``detail_gsd_cm``, where there is one.
    """

    captures: gpd.GeoDataFrame
    capture_sites: pd.DataFrame
    pairs: pd.DataFrame
    footprints: gpd.GeoDataFrame
    detail_footprints: gpd.GeoDataFrame


def assign_flights(captures: gpd.GeoDataFrame, a: FixArrays) -> gpd.GeoDataFrame:
    """Fill the captures' empty flight ids by time and position; apply a clock shift where found.

    ``a`` holds the fixes to match against (see :mod:`geoexpose.exposure._capture_flights`).
    """
    captures = captures.copy()
    t = captures[TIME_UTC].astype(TIME_DTYPE).array.asi8.copy()
    t[captures[TIME_UTC].isna().to_numpy()] = _NAT
    flags = captures[FLAGS].fillna("").astype(str)
    empty = (captures[FLIGHT_ID].isna() | (captures[FLIGHT_ID].astype(str) == "")).to_numpy()
    if not empty.any() or len(a.codes) == 0:
        return captures
    idx = np.flatnonzero(empty)
    flight, shift = match_flights(
        t[idx],
        captures[CAM_LON].to_numpy("float64")[idx],
        captures[CAM_LAT].to_numpy("float64")[idx],
        flags.str.contains("time_zone_assumed_utc").to_numpy()[idx],
        a.codes,
        a.t_ns,
        a.xy,
    )
    ids = captures[FLIGHT_ID].astype(object).to_numpy().copy()
    ids[idx[flight >= 0]] = a.names[flight[flight >= 0]]
    captures[FLIGHT_ID] = pd.Series(ids, index=captures.index, dtype=object)
    moved = idx[shift != 0]
    if len(moved):
        new_t = t[moved] + shift[shift != 0]
        captures.loc[captures.index[moved], TIME_UTC] = pd.to_datetime(new_t, utc=True)
        words = flags.iloc[moved].str.replace("time_zone_assumed_utc", "time_shifted_to_track")
        hours = shift[shift != 0] / 3.6e12
        captures.loc[captures.index[moved], FLAGS] = [
            f"{w};clock_offset_h={h:+g}" for w, h in zip(words, hours, strict=True)
        ]
    return captures


def capture_metrics(
    sites: PreparedSites,
    captures: gpd.GeoDataFrame,
    a: FixArrays,
    *,
    max_gsd_cm: float = MAX_GSD_CM,
    detail_gsd_cm: float = DETAIL_GSD_CM,
) -> CaptureMetrics:
    """Match captures to flights and sites; the imagery metrics per pair and per site.

    ``max_gsd_cm`` and ``detail_gsd_cm`` bound the GSD of the imaged and detail parts.
    """
    captures = assign_flights(captures, a)
    hits = capture_hits(sites, captures, max_gsd_cm=max_gsd_cm, detail_gsd_cm=detail_gsd_cm)
    site_ids = sites.site_id
    cap_ids = captures[CAPTURE_ID].to_numpy()
    flights = captures[FLIGHT_ID].astype(object).to_numpy()
    t = captures[TIME_UTC].astype(TIME_DTYPE)
    capture_sites = pd.DataFrame(
        {
            CAPTURE_ID: cap_ids[hits.capture],
            SITE_ID: site_ids[hits.site],
            FLIGHT_ID: flights[hits.capture],
            TIME_UTC: t.to_numpy()[hits.capture] if len(hits.capture) else [],
            GSD_CM: hits.gsd_cm,
            NIIRS: hits.niirs,
            IMAGED_AREA_M2: hits.imaged_pair_m2,
            DETAIL_AREA_M2: hits.detail_pair_m2,
        }
    )
    capture_sites[TIME_UTC] = pd.to_datetime(capture_sites[TIME_UTC], utc=True).astype(TIME_DTYPE)
    capture_sites = capture_sites.sort_values(
        [SITE_ID, TIME_UTC, CAPTURE_ID], ignore_index=True, kind="stable"
    )

    t_ns = t.array.asi8.astype("float64")
    t_ns[t.isna().to_numpy()] = np.nan
    alt = pd.to_numeric(captures[ALT_AGL_M], errors="coerce").to_numpy("float64")
    shown = pd.DataFrame(
        {
            FLIGHT_ID: flights[hits.capture],
            SITE_ID: site_ids[hits.site],
            N_CAPTURES: 1,
            BEST_GSD_CM: hits.gsd_cm,
            "first_ns": t_ns[hits.capture],
            "last_ns": t_ns[hits.capture],
        }
    )
    near = pd.DataFrame(
        {
            FLIGHT_ID: flights[hits.cam_capture],
            SITE_ID: site_ids[hits.cam_site],
            N_CAPTURES: 0,
            MIN_DISTANCE_M: hits.cam_distance_m,
            MIN_AGL_M: alt[hits.cam_capture],
            "first_ns": t_ns[hits.cam_capture],
            "last_ns": t_ns[hits.cam_capture],
        }
    )
    both = pd.concat([shown, near], ignore_index=True)
    for col in (BEST_GSD_CM, MIN_DISTANCE_M, MIN_AGL_M):
        both[col] = both[col].astype("float64")
    pairs = (
        both.groupby([FLIGHT_ID, SITE_ID], dropna=False, sort=True)
        .agg(
            **{
                N_CAPTURES: (N_CAPTURES, "sum"),
                BEST_GSD_CM: (BEST_GSD_CM, "min"),
                MIN_DISTANCE_M: (MIN_DISTANCE_M, "min"),
                MIN_AGL_M: (MIN_AGL_M, "min"),
                "first_ns": ("first_ns", "min"),
                "last_ns": ("last_ns", "max"),
            }
        )
        .reset_index()
    )

    area = hits.site_area_m2[hits.imaged_site]
    per_site = capture_sites.groupby(SITE_ID).agg(
        **{
            N_CAPTURES: (CAPTURE_ID, "size"),
            BEST_GSD_CM: (GSD_CM, "min"),
            BEST_NIIRS: (NIIRS, "max"),
        }
    )
    imaged_ids = site_ids[hits.imaged_site]
    footprints = gpd.GeoDataFrame(
        {
            SITE_ID: imaged_ids,
            N_CAPTURES: per_site[N_CAPTURES].reindex(imaged_ids).to_numpy("int64"),
            BEST_GSD_CM: per_site[BEST_GSD_CM].reindex(imaged_ids).to_numpy("float64"),
            BEST_NIIRS: per_site[BEST_NIIRS].reindex(imaged_ids).to_numpy("float64"),
            IMAGED_AREA_M2: hits.imaged_m2,
            IMAGED_FRACTION: np.clip(hits.imaged_m2 / np.where(area > 0, area, np.nan), 0, 1),
            DETAIL_AREA_M2: hits.detail_m2,
        },
        geometry=gpd.GeoSeries(hits.imaged_geom, crs=CRS_LONLAT),
        crs=CRS_LONLAT,
    )
    footprints = footprints.sort_values(SITE_ID, ignore_index=True)
    some = hits.detail_m2 > 0
    detail = gpd.GeoDataFrame(
        {SITE_ID: imaged_ids[some], DETAIL_AREA_M2: hits.detail_m2[some]},
        geometry=gpd.GeoSeries(hits.detail_geom[some], crs=CRS_LONLAT),
        crs=CRS_LONLAT,
    ).sort_values(SITE_ID, ignore_index=True)
    return CaptureMetrics(captures, capture_sites, pairs, footprints, detail)


def first_last(pairs: pd.DataFrame) -> pd.DataFrame:
    """``first_ns``/``last_ns`` columns as UTC times in ``first_seen_utc``/``last_seen_utc``."""
    out = pairs.drop(columns=["first_ns", "last_ns"])
    for src, dst in (("first_ns", FIRST_SEEN_UTC), ("last_ns", LAST_SEEN_UTC)):
        out[dst] = pd.to_datetime(pairs[src], unit="ns", utc=True).astype(TIME_DTYPE)
    return out
