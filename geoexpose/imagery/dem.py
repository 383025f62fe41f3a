"""Terrain: photo footprints marched into a DEM or DSM, ground elevations, camera heights.

Reading a DEM needs rasterio (``pip install 'geoexpose[raster]'``); the module itself
imports without it.

Footprints (:func:`footprints_on_dem`)
--------------------------------------
The image border is projected exactly as over flat ground (:mod:`geoexpose.imagery.footprints`:
same rotation, lens model, densification, horizon cut at ``min_depression_deg`` with its
arc), and every vertex of that ring, taken as a ray from the camera, is marched into the
DEM instead of being cut by a plane:

- Rays run in the local frame of the camera: metres east and north of the point under
  it, height in the DEM's vertical datum, the ground falling away by ``s**2 / 2N`` at a
  horizontal distance ``s`` (earth curvature, ``N`` the prime vertical radius). Points
  go to the DEM's CRS through a quadratic fitted, per camera, to nine exact PROJ
  transforms across the reach of the footprint (within millimetres of PROJ at 1 km),
  never by adding metres to grid coordinates; the vertices go to longitude and latitude
  through the same tangent plane as over flat ground.
- Each ray is sampled between the heights of the highest and lowest ground in the window
  read, one sample per DEM cell crossed (at most 4096 per ray), the DEM taken bilinear
  between cell centres; the first sample at or below the ground is refined by 16
  bisections (to millimetres). Ground occluded inside the outline is counted as seen.
- Where a ray crosses cells without data (holes, or beyond the DEM's edge), the ground
  is taken level with the last DEM value it passed over (before any: the ground under
  the camera, or the DEM's median); the footprint is flagged ``dem_miss``.
- A ray that meets no ground within ``max_range_m`` horizontally ends there
  (``range_capped``).
- A camera less than 1 m above the DEM under it is put at 1 m (``height_clamped``).
- Yaw unknown: the disc of the flat method (the footprint at any yaw), each vertex
  marched into the DEM.

GSD is that of :func:`geoexpose.imagery.gsd.gsd_at_ground` at the footprint point
nearest the camera (by slant range: under it when nadir is in the frame), on the
horizontal plane through that point: ground distances as a map measures them, which is
how sites are drawn. Frames that see no ground inside the range, and yaw-free discs, take
the flat value at the camera's height above the DEM under it.

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
from collections.abc import Sequence

import numpy as np
import shapely

from geoexpose._flags import add_flag
from geoexpose.errors import UsageError
from geoexpose.imagery import _geoid
from geoexpose.imagery._raster import Dem, bilinear, open_dem, tiles
from geoexpose.imagery._ray_march import march_all
from geoexpose.imagery.camera import Camera, camera_codes
from geoexpose.imagery.footprints import check_inputs, check_options, rings
from geoexpose.imagery.gsd import gsd_at_ground
from geoexpose.imagery.pose import enu_offsets, normalize_pose, rotation_matrices

__all__ = [
    "Dem",
    "camera_elevation",
    "dji_altitude_reference",
    "footprints_on_dem",
    "ground_elevation",
    "open_dem",
]

logger = logging.getLogger(__name__)

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


def _join(words: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    out = np.full(n, "", dtype=object)
    for word, where in words:
        out = add_flag(out, where, word)
    return out


def footprints_on_dem(
    cam_lon: np.ndarray,
    cam_lat: np.ndarray,
    cam_elev_m: np.ndarray,
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    roll_deg: np.ndarray,
    cameras: Camera | Sequence[Camera],
    dem: str | os.PathLike[str] | Dem,
    *,
    cam_reverse: np.ndarray | None = None,
    densify: int = 16,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground footprints of photos on a DEM or DSM, their GSD and flags.

    Parameters
    ----------
    cam_lon, cam_lat
        Camera position, degrees on WGS 84, one per capture.
    cam_elev_m
        Height of the camera in the DEM's vertical datum (see :func:`camera_elevation`).
    yaw_deg, pitch_deg, roll_deg, cameras, cam_reverse, densify, min_depression_deg
        As for :func:`geoexpose.imagery.footprints.footprints`.
    dem
        A DEM file or an open :class:`Dem`.
    max_range_m
        Farthest horizontal distance from the camera a ray is followed.

    Returns
    -------
    polygons : numpy.ndarray of shapely geometry
        One valid, non-empty polygon per capture, EPSG:4326: the ground the outline of
        the frame encloses (where terrain folds the outline over itself, all it encloses;
        rarely a MultiPolygon).
    gsd_cm : numpy.ndarray
        GSD at the footprint point nearest the camera, cm (see the module notes).
    flags : numpy.ndarray of str
        ``;``-joined: ``horizon_clipped``, ``range_capped``, ``yaw_unknown`` as over flat
        ground, and ``dem_miss``, ``height_clamped``.
    """
    lon, lat, elev, yaw, pitch, roll = check_inputs(
        cam_lon, cam_lat, cam_elev_m, yaw_deg, pitch_deg, roll_deg,
        height_name="cam_elev_m", positive=False,
    )  # fmt: skip
    elev = elev.copy()
    check_options(densify, max_range_m, min_depression_deg)
    n = lon.size
    rev = None if cam_reverse is None else np.broadcast_to(np.asarray(cam_reverse, bool), (n,))
    # The flat rings on a plane 1 m below each camera give the rays; no range cut there.
    unit, ring_of, gsd_unit, bits = rings(
        lon,
        lat,
        np.ones(n),
        yaw,
        pitch,
        roll,
        cameras,
        cam_reverse=rev,
        densify=densify,
        max_range_m=1e9,
        min_depression_deg=max(min_depression_deg, 1e-3),
        local=True,
    )
    yaw_known = np.isfinite(yaw)
    handle = open_dem(dem)
    try:
        ground0 = ground_elevation(handle, lon, lat)
        fallback = np.where(np.isfinite(ground0), ground0, handle.median_m)
        fallback = np.where(np.isfinite(fallback), fallback, elev - 100.0)
        clamped = elev < fallback + MIN_CLEARANCE_M
        elev = np.where(clamped, fallback + MIN_CLEARANCE_M, elev)
        ue, un = unit[:, 0], unit[:, 1]
        rho = np.hypot(ue, un)
        depth, found, missed = march_all(
            handle, lon, lat, elev, fallback, ring_of, ue, un, rho, float(max_range_m)
        )
    finally:
        if handle is not dem:
            handle.close()
    east, north = ue * depth, un * depth
    capped = ~found
    vlon, vlat = enu_offsets(lon[ring_of], lat[ring_of], east, north)
    polygons = shapely.polygons(shapely.linearrings(np.stack([vlon, vlat], -1), indices=ring_of))
    bad = np.flatnonzero(~shapely.is_valid(polygons))
    polygons[bad] = [_enclosed(polygons[i]) for i in bad]  # terrain folds the outline
    height0 = elev - fallback
    gsd = _gsd(
        cameras, n, ring_of, ue, un, depth, height0, gsd_unit, yaw, pitch, roll, rev, yaw_known
    )
    flags = _join(
        [
            ("horizon_clipped", (bits & 1).astype(bool)),
            ("range_capped", np.bincount(ring_of, capped, minlength=n) > 0),
            ("yaw_unknown", ~yaw_known),
            ("dem_miss", (np.bincount(ring_of, missed, minlength=n) > 0) | np.isnan(ground0)),
            ("height_clamped", clamped),
        ],
        n,
    )
    return polygons, gsd, flags


def _enclosed(poly: shapely.Polygon) -> shapely.Geometry:
    """Everything a self-crossing outline encloses, once or more (valid)."""
    lines = shapely.get_parts(shapely.node(shapely.get_exterior_ring(poly)))
    out = shapely.union_all(shapely.get_parts(shapely.polygonize(lines)))
    return out if not out.is_empty else shapely.make_valid(poly)


def _gsd(
    cameras: Camera | Sequence[Camera],
    n: int,
    ring_of: np.ndarray,
    ue: np.ndarray,
    un: np.ndarray,
    depth: np.ndarray,
    height0: np.ndarray,
    gsd_unit: np.ndarray,
    yaw: np.ndarray,
    pitch: np.ndarray,
    roll: np.ndarray,
    rev: np.ndarray | None,
    yaw_known: np.ndarray,
) -> np.ndarray:
    """GSD (cm) at the in-frame footprint point nearest the camera, else the flat value."""
    y, p, r = normalize_pose(np.where(yaw_known, yaw, 0.0), pitch, roll)
    rot = rotation_matrices(y, p, r, rev)
    codes, cams = camera_codes(cameras, n)
    # Which vertices (rays) fall inside their frame, and the nadir where it does.
    ray = np.stack([un, ue, np.ones_like(ue)], axis=-1)
    seen = _in_frame(cams, codes[ring_of], rot[ring_of], ray)
    nadir_seen = _in_frame(cams, codes, rot, np.tile([0.0, 0.0, 1.0], (n, 1)))
    slant = np.where(seen & yaw_known[ring_of], depth * np.hypot(np.hypot(ue, un), 1.0), np.inf)
    best = np.full(n, np.inf)
    np.minimum.at(best, ring_of, slant)
    pick = np.full(n, -1)
    is_best = slant == best[ring_of]
    pick[ring_of[is_best]] = np.flatnonzero(is_best)
    use_nadir = nadir_seen & yaw_known & (height0 < best)
    use_vertex = (pick >= 0) & ~use_nadir & np.isfinite(best)
    h = np.where(use_nadir, height0, 1.0)
    e = np.zeros(n)
    nn = np.zeros(n)
    iv = np.flatnonzero(use_vertex)
    v = pick[iv]
    h[iv], e[iv], nn[iv] = depth[v], ue[v] * depth[v], un[v] * depth[v]
    out = 100.0 * gsd_unit * height0
    exact = use_nadir | use_vertex
    if exact.any():
        sub = [cams[c] for c in codes[exact]]
        rsub = None if rev is None else rev[exact]
        out[exact] = gsd_at_ground(
            sub, h[exact], y[exact], p[exact], r[exact], e[exact], nn[exact], cam_reverse=rsub
        )
    return out


def _in_frame(
    cams: list[Camera], codes: np.ndarray, rot: np.ndarray, ray: np.ndarray
) -> np.ndarray:
    """Whether NED rays fall inside the image (1 px of slack).

    Rays farther off the axis than the image corners are out, whatever the lens
    polynomial (which folds back far outside the frame) says.
    """
    q = np.einsum("nji,nj->ni", rot, ray)
    out = np.zeros(ray.shape[0], dtype=bool)
    for k, cam in enumerate(cams):
        sel = (codes == k) & (q[:, 2] > 1e-9 * np.linalg.norm(q, axis=1))
        if sel.any():
            x, y = q[sel, 0] / q[sel, 2], q[sel, 1] / q[sel, 2]
            cx, cy = cam.undistort(
                np.array([0, cam.width_px, cam.width_px, 0]),
                np.array([0, 0, cam.height_px, cam.height_px]),
            )
            u, v = cam.distort(x, y)
            ok = (u >= -1) & (u <= cam.width_px + 1) & (v >= -1) & (v <= cam.height_px + 1)
            ok &= x * x + y * y <= 1.01 * float(np.max(cx * cx + cy * cy))
            out[np.flatnonzero(sel)] = ok
    return out
