"""The exact merge of batch results into one exposure.

Batches hold whole flights, so their flight x site pairs never overlap, except where
captures of a flight were measured apart from its fixes: pairs with the same flight
and site then merge exactly by sum (``n_fixes``, ``dwell_s``, ``n_captures``), minimum
(``min_distance_m``, ``min_agl_m``, ``best_gsd_cm``, ``first_seen_utc``) and maximum
(``last_seen_utc``), as :func:`geoexpose.expose` merges the pairs of fixes and of
captures. The per-site metrics then follow from the pairs exactly as in
:func:`geoexpose.expose`. The imaged part of a site shown in several batches is the
union of the batches' imaged parts, measured in the site's band, and so is its detail
part (``detail_area_m2``); ``best_niirs`` is the greatest of the batches'.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.exposure import PreparedSites, site_areas_in_band
from geoexpose.projection import band_of_geometries, from_band, geometries_to_band
from geoexpose.schema import (
    BEST_GSD_CM,
    BEST_NIIRS,
    CAPTURE_ID,
    CRS_LONLAT,
    DETAIL_AREA_M2,
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    IMAGED_AREA_M2,
    IMAGED_FRACTION,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    PAIR_COLUMNS,
    SITE_ID,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["combine_details", "combine_footprints", "combine_pairs", "sort_captures"]

_HOW = {
    N_FIXES: "sum",
    DWELL_S: "sum",
    MIN_DISTANCE_M: "min",
    MIN_AGL_M: "min",
    FIRST_SEEN_UTC: "min",
    LAST_SEEN_UTC: "max",
    N_CAPTURES: "sum",
    BEST_GSD_CM: "min",
}


def combine_pairs(
    parts: Sequence[pd.DataFrame], sites: PreparedSites, *, by_site_id: bool
) -> pd.DataFrame:
    """Merge flight x site pairs of batches; sorted as :func:`geoexpose.expose` sorts them.

    ``by_site_id``: by flight then ``site_id`` (the order when captures are given),
    else by flight then the sites' order.
    """
    frames = [p[PAIR_COLUMNS] for p in parts if len(p)]
    if not frames:
        return parts[0][PAIR_COLUMNS].iloc[:0].reset_index(drop=True) if parts else _no_pairs()
    pairs = pd.concat(frames, ignore_index=True)
    key = [FLIGHT_ID, SITE_ID]
    twice = pairs.duplicated(key, keep=False).to_numpy()
    if twice.any():
        merged = pairs[twice].groupby(key, dropna=False, sort=False).agg(_HOW).reset_index()
        pairs = pd.concat([pairs[~twice], merged[PAIR_COLUMNS]], ignore_index=True)
    if by_site_id:
        pairs = pairs.sort_values(key, ignore_index=True, na_position="last")
    else:
        position = pd.Series(np.arange(len(sites)), index=sites.site_id)
        order = np.lexsort(
            (position.reindex(pairs[SITE_ID]).to_numpy(), pairs[FLIGHT_ID].to_numpy(dtype=object))
        )
        pairs = pairs.iloc[order].reset_index(drop=True)
    for col in (N_FIXES, N_CAPTURES):
        pairs[col] = pairs[col].astype("int64")
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        pairs[col] = pairs[col].astype(TIME_DTYPE)
    return pairs


def _no_pairs() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype="float64") for c in PAIR_COLUMNS})
    for col in (FLIGHT_ID, SITE_ID):
        out[col] = out[col].astype("str")
    for col in (N_FIXES, N_CAPTURES):
        out[col] = out[col].astype("int64")
    for col in (FIRST_SEEN_UTC, LAST_SEEN_UTC):
        out[col] = out[col].astype(TIME_DTYPE)
    return out


def combine_footprints(
    parts: Sequence[gpd.GeoDataFrame],
    sites: PreparedSites,
    details: Sequence[gpd.GeoDataFrame] | None = None,
) -> gpd.GeoDataFrame:
    """Merge the imaged parts of sites from several batches of captures.

    A site imaged in one batch keeps that batch's row. A site imaged in several gets the
    union of its imaged parts (in the site's band), its area and share of the site
    area, the sum of ``n_captures``, the finest ``best_gsd_cm``, the greatest
    ``best_niirs`` and, from the batches' ``details`` (their ``detail_footprints``),
    the area of the union of its detail parts. Without ``details`` that area is the
    greatest of the batches', which can fall short of the union's.
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return parts[0].iloc[:0].reset_index(drop=True)
    fp = pd.concat(frames, ignore_index=True)
    twice = fp.duplicated(SITE_ID, keep=False).to_numpy()
    if twice.any():
        merged = _union_rows(fp[twice], sites)
        if details is not None and DETAIL_AREA_M2 in merged:
            area = combine_details(details, sites).set_index(SITE_ID)[DETAIL_AREA_M2]
            merged[DETAIL_AREA_M2] = area.reindex(merged[SITE_ID]).fillna(0.0).to_numpy()
        fp = pd.concat([fp[~twice], merged], ignore_index=True)
    fp = gpd.GeoDataFrame(fp, geometry=fp.geometry.name, crs=CRS_LONLAT)
    return fp.sort_values(SITE_ID, ignore_index=True)


def combine_details(parts: Sequence[gpd.GeoDataFrame], sites: PreparedSites) -> gpd.GeoDataFrame:
    """Merge the detail parts of sites (``detail_footprints``) from several batches.

    A site in several batches gets the union of its parts, in its band, and its area.
    """
    frames = [p for p in parts if len(p)]
    if not frames:
        return parts[0].iloc[:0].reset_index(drop=True) if parts else _no_details()
    fp = pd.concat(frames, ignore_index=True)
    twice = fp.duplicated(SITE_ID, keep=False).to_numpy()
    if twice.any():
        rows = fp[twice].sort_values(SITE_ID, kind="stable", ignore_index=True)
        ids, union, area, _ = _band_unions(rows, sites)
        merged = gpd.GeoDataFrame(
            {SITE_ID: ids, DETAIL_AREA_M2: area},
            geometry=gpd.GeoSeries(union, crs=CRS_LONLAT),
            crs=CRS_LONLAT,
        )
        fp = pd.concat([fp[~twice], merged], ignore_index=True)
    fp = gpd.GeoDataFrame(fp, geometry=fp.geometry.name, crs=CRS_LONLAT)
    return fp.sort_values(SITE_ID, ignore_index=True)


def _no_details() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {SITE_ID: pd.Series(dtype="str"), DETAIL_AREA_M2: pd.Series(dtype="float64")},
        geometry=gpd.GeoSeries([], crs=CRS_LONLAT),
        crs=CRS_LONLAT,
    )


def _band_unions(
    rows: gpd.GeoDataFrame, sites: PreparedSites
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Union the geometries of each site of ``rows`` (sorted by site), in the site's band.

    Returns the sites' ids, the unions (EPSG:4326), their areas and the site areas.
    """
    ids = rows[SITE_ID].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], len(ids)]
    where = pd.Series(np.arange(len(sites)), index=sites.site_id)
    site_rows = where.reindex(ids[starts]).to_numpy()
    geoms = sites.geometry[site_rows]
    standoff = sites.standoff_m[site_rows]
    bands = band_of_geometries(geoms)
    pieces = rows.geometry.to_numpy()
    union = np.empty(len(starts), dtype=object)
    area = np.zeros(len(starts))
    site_area = np.zeros(len(starts))
    for band in np.unique(bands):  # a loop over longitude bands
        sel = np.flatnonzero(bands == band)
        site_area[sel] = shapely.area(site_areas_in_band(geoms[sel], standoff[sel], int(band)))
        merged = np.array(
            [
                shapely.union_all(geometries_to_band(pieces[starts[i] : ends[i]], int(band)))
                for i in sel  # one union per site shown in several batches
            ],
            dtype=object,
        )
        area[sel] = shapely.area(merged)
        union[sel] = from_band(merged, int(band))
    return ids[starts], union, area, site_area


def _union_rows(rows: gpd.GeoDataFrame, sites: PreparedSites) -> gpd.GeoDataFrame:
    """One row per site of ``rows`` (sites shown in several batches), merged."""
    rows = rows.sort_values(SITE_ID, kind="stable", ignore_index=True)
    ids, union, area, site_area = _band_unions(rows, sites)
    grouped = rows.groupby(SITE_ID, sort=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.clip(area / np.where(site_area > 0, site_area, np.nan), 0, 1)
    merged = {
        SITE_ID: ids,
        N_CAPTURES: grouped[N_CAPTURES].sum().to_numpy("int64"),
        BEST_GSD_CM: grouped[BEST_GSD_CM].min().to_numpy("float64"),
        IMAGED_AREA_M2: area,
        IMAGED_FRACTION: fraction,
    }
    if BEST_NIIRS in rows:
        merged[BEST_NIIRS] = grouped[BEST_NIIRS].max().to_numpy("float64")
    if DETAIL_AREA_M2 in rows:
        merged[DETAIL_AREA_M2] = grouped[DETAIL_AREA_M2].max().to_numpy("float64")
    out = gpd.GeoDataFrame(merged, geometry=gpd.GeoSeries(union, crs=CRS_LONLAT), crs=CRS_LONLAT)
    return out[[c for c in rows.columns if c in out]]


def sort_captures(
    captures: Sequence[gpd.GeoDataFrame], capture_sites: Sequence[pd.DataFrame], ids: pd.Index
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Put captures back in input order (``ids``), capture x site rows in expose's order."""
    caps = pd.concat(captures, ignore_index=True)
    order = pd.Index(caps[CAPTURE_ID]).get_indexer(ids)
    caps = caps.iloc[order[order >= 0]].reset_index(drop=True)
    rows = pd.concat(capture_sites, ignore_index=True)
    rows = rows.sort_values([SITE_ID, TIME_UTC, CAPTURE_ID], ignore_index=True, kind="stable")
    return gpd.GeoDataFrame(caps, geometry=caps.geometry.name, crs=CRS_LONLAT), rows
