"""Make the RawTrack rows of a layer's Point features, read whole or in batches alike.

Shared by :mod:`geoexpose.tracks._vector` (a layer read whole) and
:mod:`geoexpose.tracks._vector_blocks` (a huge layer read in batches): the fixes'
columns are found among the property names (:func:`point_mapping`, as for a CSV
but without position columns needed), each row's position is its point in
longitude/latitude (:func:`to_lonlat`), and where no property holds a height, the
Z coordinate is the one altitude (:func:`put_altitudes`, as GPX ``<ele>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, ALT_REF_TAKEOFF, CRS_LONLAT
from geoexpose.tracks._columns import ALT_REF_MSL, ColumnMap, generic_mapping
from geoexpose.tracks._table_frame import TableFrames

__all__ = [
    "NO_CRS",
    "POINT",
    "geometry_kinds",
    "point_frame",
    "point_mapping",
    "put_altitudes",
    "to_lonlat",
    "z_heights",
]

#: Shapely's type id of a Point.
POINT = 0
NO_CRS = "the layer has no CRS; geoexpose needs one to place the fixes"


def put_altitudes(frame: pd.DataFrame, z: np.ndarray, alt_ref: str | None) -> None:
    """Put a file's one altitude (GPX ele, a Z coordinate) where ``alt_ref`` says, in place.

    Examples
    --------
    >>> frame = pd.DataFrame({"lat": [50.0]})
    >>> put_altitudes(frame, np.array([120.0]), None)
    >>> frame[["alt_agl_m", "alt_ref", "alt_msl_m"]].to_dict("records")
    [{'alt_agl_m': nan, 'alt_ref': 'takeoff', 'alt_msl_m': 120.0}]
    """
    if alt_ref in (None, ALT_REF_MSL):
        frame[ALT_AGL_M] = np.nan
        frame[ALT_REF] = ALT_REF_TAKEOFF
        frame[ALT_MSL_M] = z
    else:
        frame[ALT_AGL_M] = z
        frame[ALT_REF] = alt_ref
        frame[ALT_MSL_M] = np.nan


def geometry_kinds(geoms: np.ndarray) -> set[int]:
    """Return the shapely type ids of the geometries present (missing ones left out).

    Examples
    --------
    >>> sorted(geometry_kinds(np.array([shapely.Point(0, 0), None])))
    [0]
    """
    present = geoms[~shapely.is_missing(geoms)]
    return set(np.unique(shapely.get_type_id(present)).tolist())


def to_lonlat(geoms: np.ndarray, crs: Any) -> np.ndarray:
    """Return geometries in ``crs`` transformed to longitude/latitude (as GeoPandas does)."""
    return gpd.GeoSeries(geoms, crs=crs).to_crs(CRS_LONLAT).to_numpy()


def point_mapping(
    names: list[str], columns: Mapping[str, str] | None, alt_ref: str | None
) -> ColumnMap:
    """Find the columns of Point features' fixes among their property names.

    Raises
    ------
    InputError
        No time property, or a column named in ``columns`` absent.
    """
    return generic_mapping(names, columns=columns or {}, alt_ref=alt_ref, need_position=False)


def point_frame(
    frames: TableFrames,
    props: pd.DataFrame,
    geoms: np.ndarray | tuple[np.ndarray, np.ndarray],
    z: np.ndarray | None,
    alt_ref: str | None,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Build the frame of some Point features (see :meth:`TableFrames.frame`).

    ``geoms`` are their points in longitude/latitude, or their ``(lon, lat)``;
    ``z`` their Z coordinates where those are the altitude (no property holds
    one and some point of the layer has Z), else None. Returns the frame and the
    elapsed times that may refine it.
    """
    lon, lat = (
        (shapely.get_x(geoms), shapely.get_y(geoms)) if isinstance(geoms, np.ndarray) else geoms
    )
    frame, elapsed = frames.frame(
        props, lat=pd.Series(lat, index=props.index), lon=pd.Series(lon, index=props.index)
    )
    if z is not None:
        put_altitudes(frame, z, alt_ref)
    return frame, elapsed


def z_heights(m: ColumnMap, any_z: bool) -> bool:
    """Whether the Z coordinates are the altitudes: no property holds one, some point has Z."""
    return m.agl is None and m.msl is None and any_z
