"""The audit's inputs prepared once for its steps: sites, areas, policy, ordered fixes."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.audit.policy import Policy
from geoexpose.schema import DRONE_ID
from geoexpose.tracks import FixArrays

__all__ = ["Context", "drone_of", "fix_drones", "flight_names"]


@dataclass(frozen=True)
class Context:
    """What the steps of an audit share.

    Attributes
    ----------
    sites
        The sites as exposed (their standoffs the policy's).
    areas
        The authorized areas (:func:`~geoexpose.audit.authorized.read_authorized`),
        indexed from 0.
    policy
        The policy applied.
    a
        The fixes ordered by flight and time.
    drone
        The aircraft (``drone_id``) of each ordered fix; None where unknown.
    threads
        Threads for the zone join.
    """

    sites: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    policy: Policy
    a: FixArrays
    drone: np.ndarray
    threads: int


def fix_drones(fixes: pd.DataFrame, a: FixArrays) -> np.ndarray:
    """Return the aircraft of each ordered fix: its own, or else its flight's first one."""
    drone = np.full(len(a.codes), None, dtype=object)
    if DRONE_ID not in fixes:
        return drone
    given = fixes[DRONE_ID].iloc[a.order].astype("string")
    known = np.flatnonzero(given.notna().to_numpy() & (a.codes >= 0))
    drone[known] = given.to_numpy(dtype=object)[known]
    codes, first = np.unique(a.codes[known], return_index=True)
    per_flight = np.full(len(a.names), None, dtype=object)
    per_flight[codes] = drone[known[first]]
    return np.where(pd.isna(drone) & (a.codes >= 0), per_flight[np.maximum(a.codes, 0)], drone)


def flight_names(a: FixArrays) -> np.ndarray:
    """Flight id of each ordered fix."""
    if len(a.codes) == 0:
        return np.empty(0, dtype=object)
    return np.asarray(a.names, dtype=object)[np.maximum(a.codes, 0)]


def drone_of(ctx: Context) -> pd.Series:
    """Return the aircraft (``drone_id``) of each flight, where its fixes name one."""
    known = np.flatnonzero(pd.notna(ctx.drone) & (ctx.a.codes >= 0))
    codes, first = np.unique(ctx.a.codes[known], return_index=True)
    names = np.asarray(ctx.a.names, dtype=object)
    return pd.Series(ctx.drone[known[first]], index=names[codes], dtype=object)
