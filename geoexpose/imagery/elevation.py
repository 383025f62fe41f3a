"""Heights on a DEM or DSM: the ground's under given points, and each camera's in its datum.

Reading a DEM needs rasterio (``pip install 'geoexpose[raster]'``); the module itself
imports without it.

Camera height (:func:`camera_elevation`)
----------------------------------------
The height of the camera in the DEM's vertical datum, chosen in this order:

1. take-off elevation + ``RelativeAltitude`` (DJI's height above the take-off point),
   the take-off elevation given, or read from the DEM at the take-off position;
2. ``AbsoluteAltitude`` where its datum is known (``dji_altitude_reference``: ellipsoidal
   on DJI RTK fixes), shifted into the DEM's datum with the PROJ geoid grids
   (``elevation_from_absolute``). Most DEM files do not say what their heights are
   measured from: public DEMs are above a geoid (SRTM: EGM96, Copernicus: EGM2008), DSMs
   made from RTK photos (ODM, WebODM) keep the ellipsoidal heights. Such a DEM is taken to
   be in the altitude's datum or the other one of ellipsoid and EGM96, whichever brings
   the take-off heights the altitudes imply (``AbsoluteAltitude - RelativeAltitude``)
   closer to the DEM under the cameras, medians over the captures of the call
   (``vertical_datum_guessed``; without a geoid grid: the altitude's datum,
   ``vertical_datum_assumed``); ``Dem(path, vertical=...)`` says it outright. Without
   the grid a shift needs, this step is skipped (``geoid_grid_missing``); so is an
   altitude that puts the camera below the DEM (``absolute_altitude_implausible``);
3. the DEM under the camera + ``RelativeAltitude``: the take-off point taken level with
   the ground under the camera (``takeoff_unknown``).
"""

from __future__ import annotations

import logging
import os

import numpy as np

from geoexpose._flags import add_flag
from geoexpose.errors import UsageError
from geoexpose.imagery import _geoid
from geoexpose.imagery._raster import Dem, bilinear, open_dem, tiles

__all__ = ["MIN_CLEARANCE_M", "camera_elevation", "dji_altitude_reference", "ground_elevation"]

logger = logging.getLogger(__name__)

#: The least height of a camera above the ground under it, metres.
MIN_CLEARANCE_M = 1.0
_TILE_PX = 1024  # points read together for ground_elevation


def ground_elevation(
    dem: str | os.PathLike[str] | Dem, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Height of the DEM at points, bilinear between cell centres, in its vertical datum.

    Parameters
    ----------
    dem
        A DEM file or an open :class:`Dem`.
    lon, lat
        Points, degrees on WGS 84.

    Returns
    -------
    numpy.ndarray
        Metres; NaN outside the DEM and where the four cells around a point lack data
        (cells without data give their weight to the others).
    """
    lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
    lat = np.broadcast_to(np.asarray(lat, dtype="float64"), lon.shape)
    handle = open_dem(dem)
    try:
        out = np.full(lon.shape, np.nan)
        col, row = handle.to_pixels(lon, lat)
        for idx in tiles(col, row, _TILE_PX):
            got = handle.window(
                col[idx].min() - 2, row[idx].min() - 2, col[idx].max() + 2, row[idx].max() + 2
            )
            if got is None:
                continue
            z, (c0, r0, sc, sr) = got
            out[idx] = bilinear(z, (col[idx] - c0) / sc, (row[idx] - r0) / sr)
        return out
    finally:
        if handle is not dem:
            handle.close()


def dji_altitude_reference(rtk_flag: np.ndarray) -> np.ndarray:
    """Datum of DJI ``AbsoluteAltitude`` by ``RtkFlag``: ``ellipsoid`` on RTK, else ``""``.

    DJI RTK aircraft (Phantom 4 RTK, M300/M350 RTK, Mavic 3E/M4E with RTK) write
    ellipsoidal heights once the RTK receiver has a position (``RtkFlag`` 16 single,
    34 float, 50 fixed). Without RTK the value is a barometric or GNSS altitude that is
    often tens of metres off, so it is not used (``""``).

    >>> dji_altitude_reference([50, 0, np.nan]).tolist()
    ['ellipsoid', '', '']
    """
    flag = np.atleast_1d(np.asarray(rtk_flag, dtype="float64"))
    return np.where(np.nan_to_num(flag) >= 16, _geoid.ELLIPSOID, "").astype(object)


def camera_elevation(
    dem: str | os.PathLike[str] | Dem,
    cam_lon: np.ndarray,
    cam_lat: np.ndarray,
    rel_alt_m: np.ndarray,
    *,
    takeoff_lon: np.ndarray | float | None = None,
    takeoff_lat: np.ndarray | float | None = None,
    takeoff_elev_m: np.ndarray | float | None = None,
    abs_alt_m: np.ndarray | None = None,
    abs_alt_ref: np.ndarray | str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Height of cameras in the DEM's vertical datum (see the module notes for the order).

    Parameters
    ----------
    dem
        A DEM file or an open :class:`Dem`.
    cam_lon, cam_lat
        Camera positions, degrees on WGS 84.
    rel_alt_m
        Height above the take-off point (DJI ``RelativeAltitude``), m.
    takeoff_lon, takeoff_lat
        The take-off position of each capture's flight (NaN where unknown).
    takeoff_elev_m
        The take-off point's height in the DEM's datum, where known otherwise.
    abs_alt_m
        DJI ``AbsoluteAltitude``, m.
    abs_alt_ref
        Its datum per capture: ``ellipsoid``, ``egm96``, ``egm2008`` or ``""`` (unknown:
        not used); see :func:`dji_altitude_reference`.

    Returns
    -------
    elevation : numpy.ndarray
        Metres; NaN where nothing gives it (no DEM data under the camera either; the
        capture then keeps its flat footprint).
    flags : numpy.ndarray of str
        ``;``-joined: ``takeoff_off_dem``, ``elevation_from_absolute``,
        ``vertical_datum_guessed``, ``vertical_datum_assumed``, ``geoid_approximate``,
        ``geoid_grid_missing``,
        ``absolute_altitude_implausible``, ``takeoff_unknown``, ``elevation_unknown``.
    """
    lon = np.atleast_1d(np.asarray(cam_lon, dtype="float64"))
    n = lon.size
    lat = np.broadcast_to(np.asarray(cam_lat, dtype="float64"), (n,))

    def arr(values: object) -> np.ndarray:
        if values is None:
            return np.full(n, np.nan)
        return np.broadcast_to(np.asarray(values, dtype="float64"), (n,)).copy()

    rel = arr(rel_alt_m)
    handle = open_dem(dem)
    try:
        elev = arr(takeoff_elev_m) + rel
        flags = np.full(n, "", dtype=object)
        t_lon, t_lat = arr(takeoff_lon), arr(takeoff_lat)
        need = np.isnan(elev) & np.isfinite(t_lon) & np.isfinite(t_lat)
        if need.any():
            elev[need] = ground_elevation(handle, t_lon[need], t_lat[need]) + rel[need]
            flags = add_flag(flags, need & np.isnan(elev) & np.isfinite(rel), "takeoff_off_dem")
        ground = ground_elevation(handle, lon, lat)
        absolute = arr(abs_alt_m)
        ref = np.broadcast_to(np.asarray("" if abs_alt_ref is None else abs_alt_ref), (n,))
        need = np.isnan(elev) & np.isfinite(absolute) & np.isin(ref, _geoid.VERTICAL_DATUMS[:3])
        for source in np.unique(ref[need]):
            sel = need & (ref == source)
            target = handle.vertical
            if target not in _geoid.VERTICAL_DATUMS[:3]:
                target, word = _guess_datum(
                    lon[sel], lat[sel], absolute[sel] - rel[sel], ground[sel], str(source)
                )
                flags = add_flag(flags, sel, word)
            try:
                shift, note = _geoid.height_shift(lon[sel], lat[sel], str(source), target)
            except UsageError as exc:
                logger.info("%s: %s", handle.path, exc)
                flags = add_flag(flags, sel, "geoid_grid_missing")
                continue
            if note:
                flags = add_flag(flags, sel, note)
            value = np.full(n, np.nan)
            value[sel] = absolute[sel] + shift
            bad = sel & (value < ground + MIN_CLEARANCE_M)
            flags = add_flag(flags, bad, "absolute_altitude_implausible")
            elev = np.where(sel & ~bad, value, elev)
            flags = add_flag(flags, sel & ~bad, "elevation_from_absolute")
        need = np.isnan(elev)
        elev[need] = ground[need] + rel[need]
        flags = add_flag(flags, need & np.isfinite(elev), "takeoff_unknown")
        flags = add_flag(flags, np.isnan(elev), "elevation_unknown")
        return elev, flags
    finally:
        if handle is not dem:
            handle.close()


def _guess_datum(
    lon: np.ndarray, lat: np.ndarray, takeoff: np.ndarray, ground: np.ndarray, source: str
) -> tuple[str, str]:
    """Datum of a DEM that does not say: the altitude's, or the other of ellipsoid / EGM96.

    The take-off heights the altitudes imply (absolute - relative) are compared with the
    DEM under the cameras (medians): the datum that brings them closer wins
    (``vertical_datum_guessed``). Without a geoid grid, or data to compare, the DEM is
    taken to share the altitude's datum (``vertical_datum_assumed``).
    """
    ok = np.isfinite(takeoff) & np.isfinite(ground)
    if not ok.any():
        return source, "vertical_datum_assumed"
    other = _geoid.EGM96 if source == _geoid.ELLIPSOID else _geoid.ELLIPSOID
    try:
        shift, _ = _geoid.height_shift(lon[ok], lat[ok], source, other)
    except UsageError:
        return source, "vertical_datum_assumed"
    same = abs(float(np.median(takeoff[ok] - ground[ok])))
    moved = abs(float(np.median(takeoff[ok] + shift - ground[ok])))
    return (source if same <= moved else other), "vertical_datum_guessed"
