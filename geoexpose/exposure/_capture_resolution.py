"""How fine the captures saw each site: imaging and detail footprints, NIIRS per pair.

Definitions (see :mod:`geoexpose.imagery.resolution` and :mod:`geoexpose.imagery.niirs`):

- A capture images a site only where its GSD (the geometric mean of a pixel's two
  ground dimensions) is at most ``max_gsd_cm``: the imaging footprint is the part of
  the ground footprint that fine; the detail footprint the part at most
  ``detail_gsd_cm``.
- ``niirs`` of a capture x site pair is the GIQE 5 estimate at the point of the site
  area inside the footprint where the GSD is finest (over flat ground, the least depth
  along the optical axis, found among the vertices of that part). A capture without
  intrinsics or yaw takes the pair's ``gsd_cm`` seen straight down.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod

from geoexpose.imagery import imaging_footprints, niirs_from_gsd, optical_axes
from geoexpose.projection import from_band
from geoexpose.schema import (
    ALT_AGL_M,
    CAM_LAT,
    CAM_LON,
    FOCAL_PX,
    GSD_CM,
    PITCH_DEG,
    YAW_DEG,
)

__all__ = ["DETAIL_GSD_CM", "MAX_GSD_CM", "capture_columns", "finer_than", "pair_niirs"]

#: Default bound on the GSD (cm) at which a capture counts as imaging a site.
MAX_GSD_CM = 100.0
#: Default GSD (cm) of the detail area: five pixels across a 5 cm letter, the least a
#: reader needs to make out the printed labels on panels, valves and containers.
DETAIL_GSD_CM = 1.0
_GEOD = Geod(ellps="WGS84")


def capture_columns(captures: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Return the pose columns needed here, float64 (NaN where a column is missing)."""
    n = len(captures)
    out = {}
    for col in (CAM_LON, CAM_LAT, ALT_AGL_M, YAW_DEG, PITCH_DEG, FOCAL_PX, GSD_CM):
        if col in captures:
            out[col] = np.asarray(captures[col].to_numpy("float64", na_value=np.nan))
        else:
            out[col] = np.full(n, np.nan)
    out[ALT_AGL_M] = np.maximum(np.nan_to_num(out[ALT_AGL_M], nan=1.0), 1.0)
    return out


def finer_than(
    footprints: np.ndarray, cols: dict[str, np.ndarray], caps: np.ndarray, gsd_cm: float
) -> np.ndarray:
    """Return the part of the footprints of ``caps`` finer than ``gsd_cm`` (EPSG:4326)."""
    return imaging_footprints(
        footprints[caps],
        cols[CAM_LON][caps],
        cols[CAM_LAT][caps],
        cols[ALT_AGL_M][caps],
        cols[YAW_DEG][caps],
        cols[PITCH_DEG][caps],
        cols[FOCAL_PX][caps],
        cols[GSD_CM][caps],
        max_gsd_cm=gsd_cm,
    )


def pair_niirs(
    cols: dict[str, np.ndarray],
    cap: np.ndarray,
    shared_m: np.ndarray,
    band: int,
    pair_gsd_cm: np.ndarray,
) -> np.ndarray:
    """NIIRS of each pair: capture ``cap`` over ``shared_m`` (the site inside its footprint).

    ``shared_m`` is in the band's metres; ``pair_gsd_cm`` stands in where the capture
    has no intrinsics or no yaw.
    """
    out = niirs_from_gsd(pair_gsd_cm) if len(cap) else np.empty(0)
    f = cols[FOCAL_PX][cap]
    known = np.isfinite(f) & (f > 0) & np.isfinite(cols[YAW_DEG][cap])
    known &= np.isfinite(cols[PITCH_DEG][cap])
    if not known.any():
        return out
    sel = np.flatnonzero(known)
    c = cap[sel]
    xy, owner = shapely.get_coordinates(from_band(shared_m[sel], band), return_index=True)
    if not len(owner):
        return out
    oc = c[owner]
    az, _, dist = _GEOD.inv(cols[CAM_LON][oc], cols[CAM_LAT][oc], xy[:, 0], xy[:, 1])
    az = np.radians(az)
    axis = optical_axes(cols[YAW_DEG][oc], cols[PITCH_DEG][oc])
    h = cols[ALT_AGL_M][oc]
    z = dist * np.cos(az) * axis[:, 0] + dist * np.sin(az) * axis[:, 1] + h * axis[:, 2]
    z = np.where(z > 0, z, np.inf)
    order = np.lexsort((z, owner))
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    best = np.full(len(sel), np.nan)
    sin_e = np.ones(len(sel))
    at = owner[first]
    zf = z[first]
    ok = np.isfinite(zf)
    gsd = 100.0 * zf**1.5 / (f[sel][at] * np.sqrt(h[first]))
    best[at[ok]] = gsd[ok]
    sin_e[at[ok]] = (h[first] / np.hypot(dist[first], h[first]))[ok]
    found = np.isfinite(best)
    out[sel[found]] = niirs_from_gsd(best[found], sin_e[found])
    return out
