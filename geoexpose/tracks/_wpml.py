"""Read DJI WPML waypoint missions: planned waypoints with their heights and speeds.

DJI WPML (DJI Pilot 2 / FlightHub 2 missions; KMZ holding ``wpmz/waylines.wpml``
and ``wpmz/template.kml``, namespace ``http://www.dji.com/wpmz/<version>``) is a
*planned route*, not a flown track: :func:`wpml_frame` gives its waypoints as a
:class:`RawTrack` (format ``"dji_wpml"``, ``route="planned"``; what
:func:`geoexpose.tracks._kml.read_kml` returns for such a file) with NaT times,
ordered by ``wpml:index``, one ``segment`` per wayline, with the planned speed;
:func:`read_wpml_route` returns them as points with height and speed.
Heights (``waylines.wpml``: ``wpml:executeHeight`` per ``wpml:executeHeightMode``;
``template.kml`` only: ``wpml:height`` or the folder's ``wpml:globalHeight`` per
``wpml:heightMode``) go to ``alt_agl_m`` with ``alt_ref="takeoff"``
(``relativeToStartPoint``) or ``"ground"`` (``aboveGroundLevel``,
``realTimeFollowSurface``), to ``alt_msl_m`` for ``EGM96``; ``WGS84`` ellipsoid
heights are left out of both (they differ from sea level by the geoid height,
tens of metres), noted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    LAT,
    LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks._kml_parse import WPML_NS, Found, read_document, split_tag
from geoexpose.tracks._waypoints import HEIGHT_M, HEIGHT_REF, WAYPOINT_INDEX
from geoexpose.tracks.normalize import ROUTE_PLANNED, SEGMENT, RawTrack

__all__ = ["WAYLINE_ID", "read_wpml_route", "wpml_frame"]

logger = logging.getLogger(__name__)

#: Column of :func:`read_wpml_route`: the wayline a waypoint belongs to.
WAYLINE_ID = "wayline_id"

PLANNED = "DJI WPML mission: planned waypoints, not a flown track; no times"
# WPML height modes (lower case) -> height_ref.
_HEIGHT_REFS = {
    "relativetostartpoint": ALT_REF_TAKEOFF,
    "abovegroundlevel": ALT_REF_GROUND,
    "realtimefollowsurface": ALT_REF_GROUND,
    "egm96": "egm96",
    "wgs84": "ellipsoid",
}


def _folder_value(folder: ET.Element | None, local: str) -> str | None:
    """Text of the first WPML element ``local`` anywhere under a wayline folder."""
    if folder is None:
        return None
    for elem in folder.iter():
        uri, name = split_tag(elem.tag)
        if name == local and WPML_NS.match(uri):
            return (elem.text or "").strip()
    return None


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _route_table(found: Found) -> pd.DataFrame:
    """One row per waypoint, ordered by wayline then ``wpml:index``."""
    table = pd.DataFrame(found.waypoints)
    table[WAYPOINT_INDEX] = pd.to_numeric(table["index"], errors="coerce")
    use_global = (_column(table, "useGlobalHeight") == 1).to_numpy()
    height = _column(table, "executeHeight").fillna(_column(table, "height").mask(use_global))
    table[HEIGHT_M] = height
    table[SPEED_M_S] = _column(table, "waypointSpeed")
    table[WAYLINE_ID] = np.nan
    table[HEIGHT_REF] = "unknown"
    for number, key in enumerate(pd.unique(table["folder"])):  # one pass per wayline
        folder = found.folders.get(key)
        rows = (table["folder"] == key).to_numpy()
        mode = _folder_value(folder, "executeHeightMode") or _folder_value(folder, "heightMode")
        table.loc[rows, HEIGHT_REF] = _HEIGHT_REFS.get((mode or "").lower(), "unknown")
        wayline = _float(_folder_value(folder, "waylineId") or _folder_value(folder, "templateId"))
        usable = np.isfinite(wayline) and wayline.is_integer() and abs(wayline) < 2**31
        table.loc[rows, WAYLINE_ID] = wayline if usable else number
        fill = rows & table[HEIGHT_M].isna().to_numpy() & use_global
        table.loc[fill, HEIGHT_M] = _float(_folder_value(folder, "globalHeight"))
        fill = rows & table[SPEED_M_S].isna().to_numpy()
        table.loc[fill, SPEED_M_S] = _float(_folder_value(folder, "autoFlightSpeed"))
    table[WAYLINE_ID] = table[WAYLINE_ID].astype("int64")
    return table.sort_values([WAYLINE_ID, WAYPOINT_INDEX], kind="stable", ignore_index=True)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table:
        return pd.Series(np.nan, index=table.index, dtype="float64")
    return pd.to_numeric(table[name], errors="coerce").astype("float64")


def wpml_frame(found: Found) -> RawTrack:
    """Return the waypoints a KML document found as a planned route (see module notes)."""
    route = _route_table(found)
    frame = pd.DataFrame({LAT: route["lat"].astype("float64"), LON: route["lon"].astype("float64")})
    frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    ref = route[HEIGHT_REF].to_numpy(dtype=object)
    height = route[HEIGHT_M].to_numpy(dtype="float64")
    agl = np.isin(ref, [ALT_REF_TAKEOFF, ALT_REF_GROUND])
    frame[ALT_AGL_M] = np.where(agl, height, np.nan)
    frame[ALT_REF] = np.where(ref == ALT_REF_GROUND, ALT_REF_GROUND, ALT_REF_TAKEOFF).astype(object)
    frame[ALT_MSL_M] = np.where(ref == "egm96", height, np.nan)
    frame[SEGMENT] = pd.factorize(route[WAYLINE_ID])[0]
    frame[SPEED_M_S] = route[SPEED_M_S].to_numpy(dtype="float64")
    notes = [PLANNED]
    described = {
        ALT_REF_TAKEOFF: "heights above the take-off point (relativeToStartPoint) in alt_agl_m",
        ALT_REF_GROUND: "heights above ground (terrain following) in alt_agl_m",
        "egm96": "heights above sea level (EGM96) in alt_msl_m",
        "ellipsoid": "heights above the WGS84 ellipsoid, not sea level: left out",
        "unknown": "height mode not stated: heights left out",
    }
    notes += [f"WPML {described[r]}" for r in pd.unique(route[HEIGHT_REF])]
    return RawTrack(frame, "dji_wpml", notes=notes, route=ROUTE_PLANNED)


def read_wpml_route(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the waypoints of a DJI WPML mission (KMZ, ``waylines.wpml`` or ``template.kml``).

    Parameters
    ----------
    path
        The mission file.

    Returns
    -------
    geopandas.GeoDataFrame
        One Point (EPSG:4326) per waypoint, ordered by wayline and index, with
        ``wayline_id``, ``waypoint_index``, ``height_m``, ``height_ref``
        (``"takeoff"``, ``"ground"``, ``"egm96"``, ``"ellipsoid"`` or
        ``"unknown"``) and ``speed_m_s`` (the waypoint's, else the wayline's
        ``autoFlightSpeed``; NaN where neither is given).

    Raises
    ------
    InputError
        The file cannot be read or holds no WPML waypoint; the message names it.
    """
    try:
        found, _ = read_document(Path(path))
        if not found.waypoints:
            raise InputError("no DJI WPML waypoint (Placemark with wpml:index)")
        route = _route_table(found)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    columns = [WAYLINE_ID, WAYPOINT_INDEX, HEIGHT_M, HEIGHT_REF, SPEED_M_S]
    points = gpd.points_from_xy(route["lon"], route["lat"], crs=CRS_LONLAT)
    return gpd.GeoDataFrame(route[columns], geometry=points, crs=CRS_LONLAT)
