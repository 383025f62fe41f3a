"""Where, when and for whom an authorized area holds: its window, aircraft, flights, sites.

A site is authorized by an area that covers the whole site (or that names it by its
``site_id``); the area holds at a time, for a flight and an aircraft, when the time
lies in its window and it allows that flight and aircraft (None: any).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.audit.authorized import area_polygons
from geoexpose.schema import AIRCRAFT, FLIGHT_ID, SITE_ID, TIME_DTYPE, VALID_FROM_UTC, VALID_TO_UTC

__all__ = ["holds", "ids", "site_authorized"]

_T_MIN, _T_MAX = np.iinfo("int64").min, np.iinfo("int64").max


def ids(values: pd.Series) -> np.ndarray:
    """Text ids as an object array, None where missing."""
    return np.asarray([None if pd.isna(v) else str(v) for v in values.astype(object)], dtype=object)


def holds(
    areas: gpd.GeoDataFrame,
    area: np.ndarray,
    t_ns: np.ndarray,
    flight: np.ndarray,
    drone: np.ndarray,
) -> np.ndarray:
    """Whether each area holds at time ``t_ns`` for the flight and aircraft given.

    Parameters
    ----------
    areas
        The authorized areas, indexed from 0.
    area
        Index of the area, one per question.
    t_ns
        The time, nanoseconds since 1970 UTC.
    flight, drone
        The flight id and aircraft (None: unknown).
    """
    lo = areas[VALID_FROM_UTC].astype(TIME_DTYPE).array.asi8.copy()
    hi = areas[VALID_TO_UTC].astype(TIME_DTYPE).array.asi8.copy()
    lo[areas[VALID_FROM_UTC].isna().to_numpy()] = _T_MIN
    hi[areas[VALID_TO_UTC].isna().to_numpy()] = _T_MAX
    ok = (t_ns >= lo[area]) & (t_ns <= hi[area])
    for allowed, given in ((ids(areas[AIRCRAFT]), drone), (ids(areas[FLIGHT_ID]), flight)):
        want = allowed[area]
        anyone = np.array([w is None for w in want], dtype=bool)
        ok &= anyone | (want == given)
    return ok


def site_authorized(areas: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> pd.DataFrame:
    """Pairs (``site_id``, ``area``) where the area covers the whole site or names it."""
    if len(areas) == 0:
        return pd.DataFrame({SITE_ID: pd.Series(dtype=object), "area": pd.Series(dtype="int64")})
    tree = shapely.STRtree(area_polygons(areas))
    site, area = tree.query(sites.geometry.to_numpy(), predicate="covered_by")
    site_ids = sites[SITE_ID].astype(str).to_numpy(dtype=object)
    named = areas[SITE_ID].notna().to_numpy()
    by_id = pd.Index(site_ids).get_indexer(areas[SITE_ID].astype(str).to_numpy()[named])
    by_id_area = np.flatnonzero(named)[by_id >= 0]
    return pd.DataFrame(
        {
            SITE_ID: np.concatenate([site_ids[site], site_ids[by_id[by_id >= 0]]]),
            "area": np.concatenate([area, by_id_area]).astype("int64"),
        }
    ).drop_duplicates()
