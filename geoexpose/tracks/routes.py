"""Read routes: the positions of files that have no times (planned missions, untimed tracks).

:func:`read_routes` reads the same files as :func:`geoexpose.tracks.read_tracks`
(see its module notes on routes) and keeps the ones without times, one row per
position in route order.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    CRS_LONLAT,
    GEOMETRY,
    LAT,
    LON,
    ROUTE_ID,
    ROUTE_KIND,
    SOURCE,
    SPEED_M_S,
    VERTEX,
)
from geoexpose.tracks._reading import check_options, read_files, read_route
from geoexpose.tracks.formats import ReadOptions
from geoexpose.tracks.normalize import FLIGHT_NO

__all__ = ["ROUTE_COLUMNS", "read_routes"]

#: Columns of :func:`read_routes`, in order.
ROUTE_COLUMNS = [
    ROUTE_ID, ROUTE_KIND, VERTEX, ALT_AGL_M, ALT_REF, ALT_MSL_M, SPEED_M_S, SOURCE, GEOMETRY,
]  # fmt: skip
_ROUTE_DTYPES = {
    ROUTE_ID: "str",
    ROUTE_KIND: "str",
    VERTEX: "int64",
    ALT_AGL_M: "float64",
    ALT_REF: "str",
    ALT_MSL_M: "float64",
    SPEED_M_S: "float64",
    SOURCE: "str",
}


def _route_rows(positions: pd.DataFrame, label: str, path: Path, route: str) -> pd.DataFrame:
    numbers = positions[FLIGHT_NO].astype("int64")
    part = pd.DataFrame(
        {
            ROUTE_ID: (label + "#" + numbers.astype("str")).to_numpy(dtype=object),
            ROUTE_KIND: route,
            VERTEX: positions.groupby(numbers.to_numpy()).cumcount().to_numpy(dtype="int64"),
            ALT_AGL_M: positions[ALT_AGL_M],
            ALT_REF: positions[ALT_REF].to_numpy(dtype=object),
            ALT_MSL_M: positions[ALT_MSL_M],
            SPEED_M_S: positions.get(SPEED_M_S, np.nan),
            SOURCE: str(path),
            LON: positions[LON].astype("float64"),
            LAT: positions[LAT].astype("float64"),
        }
    )
    return part.astype(_ROUTE_DTYPES)


def read_routes(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    format: str = "auto",
    columns: Mapping[str, str] | None = None,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    strict: bool = False,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Read the positions of files that have no times: planned routes and untimed tracks.

    Parameters
    ----------
    paths, format, columns, time_zone, alt_ref, strict, progress
        As for :func:`geoexpose.tracks.read_tracks`, which reads the same files;
        files with times are left to it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per position (Point, EPSG:4326), columns :data:`ROUTE_COLUMNS`:
        ``route_id`` (``"<file name>#1"``, one per wayline, line or track of the
        file), ``route_kind`` (``"planned"``: a mission's waypoints, DJI WPML or
        Litchi; ``"untimed"``: a flown track recorded without times, such as
        AirData's KML), ``vertex`` (0, 1, ... in route order), ``alt_agl_m``,
        ``alt_ref``, ``alt_msl_m`` (as for fixes), ``speed_m_s`` (the planned
        speed where a mission gives one), ``source``. Positions without a usable
        position (missing, 0/0, out of range) are dropped and counted.
        ``attrs["geoexpose"]["files"]`` has one entry per file as for
        :func:`geoexpose.tracks.read_tracks`; files with times have status
        ``"track"``.

    Raises
    ------
    UsageError
        An option has a value that cannot be used.
    InputError
        With ``strict=True``, a file cannot be read.

    Notes
    -----
    A route has no times, so it gives no dwell time, first or last seen time;
    it says where a drone flew (untimed) or was to fly (planned). WPML heights
    above the WGS-84 ellipsoid are left out (:mod:`geoexpose.tracks._wpml`).
    """
    check_options(format, columns, time_zone, alt_ref, 60.0)
    entries, parts = [], []
    options = ReadOptions(format, columns, time_zone, alt_ref)
    found = read_files(paths, options, strict=strict, progress=progress, what="routes")
    for path, label, entry, raw in found:
        entries.append(entry)
        if raw is None:
            continue
        if raw.route is None:
            entry.update(status="track", reason="has times: gx.read_tracks reads it")
            continue
        positions = read_route(raw, entry)
        part = _route_rows(positions, label, path, str(raw.route))
        entry.update(
            status="read",
            rows_kept=len(part),
            flights=[str(r) for r in pd.unique(part[ROUTE_ID])],
            reason=None,
        )
        entry["dropped"]["untimed"] = 0
        if len(part):
            parts.append(part)
    names = [c for c in ROUTE_COLUMNS if c != GEOMETRY]
    empty = {name: pd.Series(dtype=_ROUTE_DTYPES[name]) for name in names}
    empty.update({LON: pd.Series(dtype="float64"), LAT: pd.Series(dtype="float64")})
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(empty)
    geometry = gpd.points_from_xy(table[LON].to_numpy(), table[LAT].to_numpy(), crs=CRS_LONLAT)
    routes = gpd.GeoDataFrame(table[names], geometry=geometry, crs=CRS_LONLAT)
    routes.attrs["geoexpose"] = {"files": entries}
    return routes
