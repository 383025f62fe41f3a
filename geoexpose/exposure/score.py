"""The exposure score: one number from 0 to 100 per site.

The score is a weighted sum of five parts, each from 0 to 1:

=========  ======  ==========================================================
part       weight  value
=========  ======  ==========================================================
dwell      0.30    ``1 - exp(-dwell_s / 300)``: 5 minutes in the zone give 0.63
proximity  0.15    ``1 - min_distance_m / standoff_m``, clipped to 0-1: 1 inside
height     0.15    ``1 - min_agl_m / 120``, clipped to 0-1: 1 at ground level,
                   0 at 120 m (the usual ceiling for open-category flight)
imaging    0.40    ``imaged_fraction * 5 / (5 + best_gsd_cm)``: full coverage at
                   5 cm per pixel gives 0.5, at 1 cm 0.83
=========  ======  ==========================================================

``imaged_fraction`` counts only the part of the site imaged finer than ``max_gsd_cm``
(:func:`geoexpose.expose`, default 100 cm), so a site seen only coarser than that gets
0 for its imaging part however much of it a frame covered.

A missing value (no fix in the zone, no capture) gives 0 for its part. Every part
grows with more dwell, more coverage and finer resolution, and with closer and
lower approaches, so none of these can lower the score. A site that drones never
entered and no capture showed scores 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.schema import (
    BEST_GSD_CM,
    DWELL_S,
    IMAGED_FRACTION,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    STANDOFF_M,
)

__all__ = ["SCORE_WEIGHTS", "exposure_score"]

SCORE_WEIGHTS = {"dwell": 0.30, "proximity": 0.15, "height": 0.15, "imaging": 0.40}
DWELL_SCALE_S = 300.0
HEIGHT_SCALE_M = 120.0
GSD_SCALE_CM = 5.0


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def exposure_score(frame: pd.DataFrame) -> np.ndarray:
    """Score each row of a frame with the exposure columns, 0 to 100.

    Parameters
    ----------
    frame
        Rows with ``dwell_s``, ``min_distance_m``, ``standoff_m``, ``min_agl_m``,
        ``imaged_fraction`` and ``best_gsd_cm``; missing columns count as missing values.

    Examples
    --------
    >>> import pandas as pd
    >>> row = pd.DataFrame({"dwell_s": [300.0], "min_distance_m": [0.0],
    ...                     "standoff_m": [50.0], "min_agl_m": [120.0]})
    >>> round(float(exposure_score(row)[0]), 2)
    33.96
    """
    dwell = 1.0 - np.exp(-np.nan_to_num(_col(frame, DWELL_S), nan=0.0) / DWELL_SCALE_S)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = _col(frame, MIN_DISTANCE_M) / _col(frame, STANDOFF_M)
    proximity = np.where(
        np.isnan(_col(frame, MIN_DISTANCE_M)),
        0.0,
        np.clip(1.0 - np.nan_to_num(ratio, nan=0.0, posinf=1.0), 0.0, 1.0),
    )
    height = np.clip(1.0 - _col(frame, MIN_AGL_M) / HEIGHT_SCALE_M, 0.0, 1.0)
    height = np.nan_to_num(height, nan=0.0)
    gsd = _col(frame, BEST_GSD_CM)
    imaging = np.nan_to_num(
        np.clip(_col(frame, IMAGED_FRACTION), 0.0, 1.0) * GSD_SCALE_CM / (GSD_SCALE_CM + gsd),
        nan=0.0,
    )
    w = SCORE_WEIGHTS
    total = (
        w["dwell"] * dwell
        + w["proximity"] * proximity
        + w["height"] * height
        + w["imaging"] * imaging
    )
    return np.round(100.0 * total, 2)
