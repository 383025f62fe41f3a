"""What the cameras saw of each site: capture x site pairs, GSD there, imaged areas.

Definitions (SPEC, per-site columns):

- The site area is the polygon itself for polygonal sites, and the geometry buffered by
  ``standoff_m`` for points and lines.
- A capture shows a site when its ground footprint and the site area share area.
- ``gsd_cm`` of a capture x site pair is the GSD at the point of the site area inside the
  footprint that lies nearest the camera (over flat ground, the pinhole intrinsics of the
  capture); a capture without intrinsics (an orthomosaic) gives its own ``gsd_cm``.
- A capture images a site only where its GSD is at most ``max_gsd_cm``
  (:mod:`geoexpose.exposure._capture_resolution`): the imaged part of a site is the
  union of the site area inside its captures' imaging footprints, the detail part the
  same inside their detail footprints. A pair's ``niirs`` is estimated where the site
  lies finest in the frame.
- A camera position inside a site's zone counts like a fix there: its distance to the
  site and its height enter ``min_distance_m`` and ``min_agl_m``.

Areas and distances are measured in the site's Transverse Mercator band
(:mod:`geoexpose.projection`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geoexpose.exposure._capture_resolution import (
    DETAIL_GSD_CM,
    MAX_GSD_CM,
    capture_columns,
    finer_than,
    pair_niirs,
)
from geoexpose.exposure._site_distance import SiteDistance
from geoexpose.exposure.prepared import PreparedSites
from geoexpose.imagery import Camera, gsd_at_ground
from geoexpose.projection import (
    band_of_geometries,
    from_band,
    geometries_to_band,
    lonlat_to_band,
)
from geoexpose.schema import (
    ALT_AGL_M,
    CAM_LAT,
    CAM_LON,
    CX_PX,
    CY_PX,
    FOCAL_PX,
    GSD_CM,
    IMAGE_HEIGHT_PX,
    IMAGE_WIDTH_PX,
    PITCH_DEG,
    ROLL_DEG,
    YAW_DEG,
)

__all__ = ["CaptureHits", "capture_hits", "site_areas_in_band"]

_GEOD = Geod(ellps="WGS84")
_POLYGONAL = (3, 6)


@dataclass(frozen=True)
class CaptureHits:
    """Capture x site results, by integer positions into the captures and sites.

    Attributes
    ----------
    capture, site, gsd_cm, shared_m2 : arrays
        One per capture x site pair whose footprint shows the site: the GSD there and
        the area of the site area inside the footprint.
    niirs, imaged_pair_m2, detail_pair_m2 : arrays
        Per pair: the NIIRS estimate, and the area of the site area inside the imaging
        and the detail footprints.
    cam_capture, cam_site, cam_distance_m : arrays
        One per camera position inside a site's zone, with its distance to the site.
    site_area_m2 : float array
        Area of each site's site area.
    imaged : GeoSeries-like array of (site, geometry)
        ``imaged_site`` and ``imaged_geom`` (EPSG:4326): the imaged part of each site
        shown by a capture (empty where no capture was fine enough), with ``imaged_m2``
        its area; ``detail_geom`` and ``detail_m2`` the detail part.
    """

    capture: np.ndarray
    site: np.ndarray
    gsd_cm: np.ndarray
    shared_m2: np.ndarray
    cam_capture: np.ndarray
    cam_site: np.ndarray
    cam_distance_m: np.ndarray
    site_area_m2: np.ndarray
    imaged_site: np.ndarray
    imaged_geom: np.ndarray
    imaged_m2: np.ndarray
    niirs: np.ndarray
    imaged_pair_m2: np.ndarray
    detail_pair_m2: np.ndarray
    detail_geom: np.ndarray
    detail_m2: np.ndarray


def site_areas_in_band(geoms: np.ndarray, standoff_m: np.ndarray, band: int) -> np.ndarray:
    """Site areas in a band's metres: the polygon itself, or the geometry buffered by standoff."""
    geom_m = geometries_to_band(geoms, band)
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL)
    return np.where(polygonal, geom_m, shapely.buffer(geom_m, standoff_m, quad_segs=16))


def _nearest_gsd(
    captures: gpd.GeoDataFrame, cap: np.ndarray, point_lon: np.ndarray, point_lat: np.ndarray
) -> np.ndarray:
    """GSD (cm) of each capture ``cap`` at a ground point, or its own GSD without intrinsics."""
    out = captures[GSD_CM].to_numpy("float64")[cap].copy()
    cols = [IMAGE_WIDTH_PX, IMAGE_HEIGHT_PX, FOCAL_PX, CX_PX, CY_PX]
    if not all(c in captures for c in cols) or len(cap) == 0:
        return out
    intr = captures[cols].to_numpy("float64")[cap]
    yaw = captures[YAW_DEG].to_numpy("float64")[cap]
    ok = np.isfinite(intr).all(axis=1) & (intr[:, 2] > 0) & np.isfinite(yaw)
    if not ok.any():
        return out
    sel = np.flatnonzero(ok)
    c = cap[sel]
    lon0 = captures[CAM_LON].to_numpy("float64")[c]
    lat0 = captures[CAM_LAT].to_numpy("float64")[c]
    az, _, dist = _GEOD.inv(lon0, lat0, point_lon[sel], point_lat[sel])
    az = np.radians(az)
    codes, uniques = pd.factorize(pd.MultiIndex.from_arrays(intr[sel].T))
    cams = [Camera(w, h, f, cx, cy) for w, h, f, cx, cy in uniques]
    gsd = gsd_at_ground(
        [cams[k] for k in codes],
        np.maximum(captures[ALT_AGL_M].to_numpy("float64")[c], 1.0),
        yaw[sel],
        captures[PITCH_DEG].to_numpy("float64")[c],
        captures[ROLL_DEG].to_numpy("float64")[c],
        dist * np.sin(az),
        dist * np.cos(az),
    )
    out[sel] = np.where(np.isfinite(gsd), gsd, out[sel])
    return out


def _unions(site: np.ndarray, parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sites in ``site`` (sorted) once each, and the union of their ``parts``."""
    starts = np.flatnonzero(np.r_[True, site[1:] != site[:-1]])
    ends = np.r_[starts[1:], len(site)]
    union = np.array(
        [
            parts[a] if b - a == 1 else shapely.union_all(parts[a:b])
            for a, b in zip(starts, ends, strict=True)
        ],
        dtype=object,
    )
    return site[starts], union


def capture_hits(
    sites: PreparedSites,
    captures: gpd.GeoDataFrame,
    *,
    max_gsd_cm: float = MAX_GSD_CM,
    detail_gsd_cm: float = DETAIL_GSD_CM,
) -> CaptureHits:
    """Match capture footprints and camera positions with site areas and zones.

    Parameters
    ----------
    sites
        The prepared sites (EPSG:4326).
    captures
        Captures in the schema of :func:`geoexpose.read_captures`, EPSG:4326.
    max_gsd_cm, detail_gsd_cm
        GSD bounds (geometric mean, cm) of the imaged and the detail parts.
    """
    site_geoms, standoff_m = sites.geometry, sites.standoff_m
    n_sites = len(site_geoms)
    fp = captures.geometry.to_numpy()
    cam_lon = captures[CAM_LON].to_numpy("float64")
    cam_lat = captures[CAM_LAT].to_numpy("float64")
    # trees of the captures (few), queried with every site's zone box
    if len(fp):
        boxes = sites.zone_boxes
        fp_site, fp_cap = shapely.STRtree(fp).query(boxes)
        cam_idx = np.flatnonzero(np.isfinite(cam_lon) & np.isfinite(cam_lat))
        cam_points = shapely.points(cam_lon[cam_idx], cam_lat[cam_idx])
        cam_site, cam_q = shapely.STRtree(cam_points).query(boxes)
        cam_cap = cam_idx[cam_q]
    else:
        fp_site = fp_cap = cam_site = cam_cap = np.empty(0, dtype="int64")
    wanted = np.zeros(n_sites, dtype=bool)
    wanted[fp_site] = True
    wanted[cam_site] = True
    bands = np.full(n_sites, -1)
    bands[wanted] = band_of_geometries(site_geoms[wanted])
    site_area_m2 = np.zeros(n_sites)
    cols = capture_columns(captures)
    shown = np.unique(fp_cap)
    img = np.empty(len(fp), dtype=object)
    img[shown] = finer_than(fp, cols, shown, max_gsd_cm)
    det = np.empty(len(fp), dtype=object)
    det[shown] = finer_than(fp, cols, shown, min(detail_gsd_cm, max_gsd_cm))
    pieces: list[tuple[np.ndarray, ...]] = []
    cams: list[tuple[np.ndarray, ...]] = []
    imaged: list[tuple[np.ndarray, ...]] = []
    for band in np.unique(bands[wanted]):
        in_band = np.flatnonzero(wanted & (bands == band))
        geom_m = geometries_to_band(site_geoms[in_band], int(band))
        area_m = site_areas_in_band(site_geoms[in_band], standoff_m[in_band], int(band))
        site_area_m2[in_band] = shapely.area(area_m)
        local = np.full(n_sites, -1)
        local[in_band] = np.arange(len(in_band))

        # camera positions inside the zone
        sel = bands[cam_site] == band
        c, s = cam_cap[sel], cam_site[sel]
        if len(c):
            x, y = lonlat_to_band(cam_lon[c], cam_lat[c], int(band))
            d = SiteDistance(geom_m)(x, y, local[s])
            inside = d <= standoff_m[s]
            cams.append((c[inside], s[inside], d[inside]))

        # footprints on the site area
        sel = bands[fp_site] == band
        c, s = fp_cap[sel], fp_site[sel]
        if not len(c):
            continue
        caps, inv = np.unique(c, return_inverse=True)
        fp_m = geometries_to_band(fp[caps], int(band))[inv]
        shared = shapely.intersection(area_m[local[s]], fp_m)
        shared_m2 = shapely.area(shared)
        keep = shared_m2 > 0
        c, s, shared, shared_m2 = c[keep], s[keep], shared[keep], shared_m2[keep]
        if not len(c):
            continue
        # the parts finer than the bounds: imaged, and (inside that) detail
        caps, inv = np.unique(c, return_inverse=True)
        fine = shared.copy()
        # a footprint finer than the bound all over comes back as the same object
        whole = np.fromiter((img[k] is fp[k] for k in caps), dtype=bool, count=len(caps))[inv]
        cut = ~whole
        fine[cut] = shapely.intersection(
            shared[cut], geometries_to_band(img[caps], int(band))[inv][cut]
        )
        fine_m2 = shapely.area(fine)
        detail = np.full(len(c), shapely.Polygon(), dtype=object)
        some = fine_m2 > 0
        detail[some] = shapely.intersection(
            fine[some], geometries_to_band(det[caps], int(band))[inv][some]
        )
        detail_m2 = shapely.area(detail)
        x, y = lonlat_to_band(cam_lon[c], cam_lat[c], int(band))
        near = shapely.shortest_line(shapely.points(np.nan_to_num(x), np.nan_to_num(y)), shared)
        end = shapely.get_point(near, 1)
        end_lonlat = from_band(end, int(band))
        gsd = _nearest_gsd(captures, c, shapely.get_x(end_lonlat), shapely.get_y(end_lonlat))
        niirs = pair_niirs(cols, c, shared, int(band), gsd)
        pieces.append((c, s, gsd, shared_m2, niirs, fine_m2, detail_m2))

        order = np.argsort(s, kind="stable")
        ids, union = _unions(s[order], fine[order])
        _, detail_union = _unions(s[order], detail[order])
        imaged.append(
            (
                ids,
                from_band(union, int(band)),
                shapely.area(union),
                from_band(detail_union, int(band)),
                shapely.area(detail_union),
            )
        )

    def cat(parts: list[tuple[np.ndarray, ...]], k: int, dtype: str) -> np.ndarray:
        return np.concatenate([p[k] for p in parts]) if parts else np.empty(0, dtype=dtype)

    return CaptureHits(
        capture=cat(pieces, 0, "int64"),
        site=cat(pieces, 1, "int64"),
        gsd_cm=cat(pieces, 2, "float64"),
        shared_m2=cat(pieces, 3, "float64"),
        cam_capture=cat(cams, 0, "int64"),
        cam_site=cat(cams, 1, "int64"),
        cam_distance_m=cat(cams, 2, "float64"),
        site_area_m2=site_area_m2,
        imaged_site=cat(imaged, 0, "int64"),
        imaged_geom=cat(imaged, 1, "object"),
        imaged_m2=cat(imaged, 2, "float64"),
        niirs=cat(pieces, 4, "float64"),
        imaged_pair_m2=cat(pieces, 5, "float64"),
        detail_pair_m2=cat(pieces, 6, "float64"),
        detail_geom=cat(imaged, 3, "object"),
        detail_m2=cat(imaged, 4, "float64"),
    )
