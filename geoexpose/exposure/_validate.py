"""Check the sites, fixes and captures given to an exposure, and say how to fix them."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    CAPTURE_COLUMNS,
    CAPTURE_ID,
    CRS_LONLAT,
    FAMILY,
    FLIGHT_ID,
    KIND,
    LAT,
    LON,
    SITE_ID,
    STANDOFF_M,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.sites import MAX_STANDOFF_M, default_standoff
from geoexpose.tracks import lonlat_problems

__all__ = ["validate_captures", "validate_fixes", "validate_sites"]


def _to_lonlat(frame: gpd.GeoDataFrame, what: str) -> gpd.GeoDataFrame:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    if frame.crs is None:
        raise InputError(f"{what}: the frame has no CRS; set one with .set_crs(...)")
    return frame if frame.crs.equals(CRS_LONLAT) else frame.to_crs(CRS_LONLAT)


def validate_sites(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the sites in EPSG:4326 with ``standoff_m``; raise one InputError for all faults.

    A missing ``standoff_m`` column takes the catalog default of each site's family and kind.
    """
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
        bad = ~np.isfinite(standoff) | (standoff < 0) | (standoff > MAX_STANDOFF_M)
        if bad.any():
            problems.append(
                f"standoff_m is missing, negative or over {MAX_STANDOFF_M:.0f} m in row "
                f"{bad.idxmax()} ({standoff[bad].iloc[0]})"
            )
    if problems:
        raise InputError(
            "sites: " + "; ".join(problems) + " (read layers with gx.read_sites to fill them)"
        )
    if STANDOFF_M not in sites:
        kinds = sites[KIND] if KIND in sites else pd.Series(None, index=sites.index)
        sites = sites.assign(
            **{
                STANDOFF_M: [
                    default_standoff(f, k) for f, k in zip(sites[FAMILY], kinds, strict=True)
                ]
            }
        )
    return sites


def validate_fixes(fixes: pd.DataFrame | None) -> pd.DataFrame:
    """Return the fixes in EPSG:4326 (or in the lon/lat form); raise one InputError for all faults.

    None gives an empty frame of the fixes' schema.
    """
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


def validate_captures(captures: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Return the captures in EPSG:4326 with the columns needed, or raise InputError."""
    if captures is None:
        return None
    if not isinstance(captures, gpd.GeoDataFrame) or captures.crs is None:
        raise InputError("captures: expected a GeoDataFrame with a CRS (from gx.read_captures)")
    missing = [c for c in CAPTURE_COLUMNS if c not in captures]
    if missing:
        raise InputError(f"captures: missing columns {', '.join(missing)}")
    if captures[CAPTURE_ID].duplicated().any():
        dup = captures.loc[captures[CAPTURE_ID].duplicated(), CAPTURE_ID].iloc[0]
        raise InputError(f"captures: capture_id {dup!r} is not unique")
    if getattr(captures[TIME_UTC].dtype, "tz", None) is None:
        raise InputError("captures: time_utc must be timezone-aware UTC")
    return captures if captures.crs.equals(CRS_LONLAT) else captures.to_crs(CRS_LONLAT)
