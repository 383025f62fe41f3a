"""Where on the ground a frame is finer than a ground sample distance: its imaging footprint.

The GSD used here is the geometric mean of the two ground dimensions of a pixel, the
square root of the ground area one pixel covers (the ``GSD_GM`` of the General Image
Quality Equation, :mod:`geoexpose.imagery.niirs`). For a pinhole camera of focal length
``f`` pixels at height ``h`` over flat ground, a pixel at off-axis angle ``a`` spans the
solid angle ``cos(a)**3 / f**2``; seen along a ray of length ``rho`` that meets the
ground at incidence ``i`` (``cos i = h / rho``) it covers ``rho**3 cos(a)**3 / (f**2 h)``
square metres. With ``z = rho cos(a)``, the depth of the ground point along the optical
axis, that is::

    GSD_GM = z ** 1.5 / (f * sqrt(h))

so the GSD is finer than ``g`` exactly where ``z <= Z = (g f) ** (2/3) * h ** (1/3)``.
The depth is linear on the ground (``z = north a_n + east a_e + h a_d`` for the axis
``a`` in north, east, down), so over flat ground the part of a frame finer than ``g`` is
its footprint cut by one straight line: the half-plane ``z <= Z``. Looking straight down
(``z = h`` everywhere) it is the whole footprint when ``h <= g f`` and nothing otherwise.

Lens distortion is left out (a few per cent of the GSD at the corners of the cameras
drones carry); over a DEM the ground is taken flat at ``alt_agl_m`` below the camera.
A frame of unknown yaw gets the disc around the point under the camera out to where the
half-plane's edge lies along its axis; a capture without intrinsics (an orthomosaic)
is finer than ``g`` all over or not at all, by its own ``gsd_cm``.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoexpose.imagery.pose import enu_offsets

__all__ = ["depth_limit_m", "gm_gsd_cm", "imaging_footprints", "optical_axes"]

_LINE_POINTS = 33  # vertices along the cutting line (keeps it straight on the ellipsoid)
_DISC_POINTS = 64
_M_PER_DEG = 111_320.0


def optical_axes(yaw_deg: np.ndarray, pitch_deg: np.ndarray) -> np.ndarray:
    """Return unit optical axes (north, east, down), (n, 3); roll turns the image, not the axis.

    Examples
    --------
    >>> optical_axes([0.0], [-90.0]).round(6).tolist()
    [[0.0, 0.0, 1.0]]
    """
    y = np.radians(np.atleast_1d(np.asarray(yaw_deg, dtype="float64")))
    p = np.radians(np.atleast_1d(np.asarray(pitch_deg, dtype="float64")))
    return np.stack([np.cos(y) * np.cos(p), np.sin(y) * np.cos(p), -np.sin(p)], axis=-1)


def depth_limit_m(focal_px: np.ndarray, height_m: np.ndarray, gsd_cm: float) -> np.ndarray:
    """Greatest depth along the optical axis where the GSD (geometric mean) is ``gsd_cm``.

    Examples
    --------
    >>> round(float(depth_limit_m(1000.0, 50.0, 5.0)[0]), 9)  # nadir: h = g f, so Z = h
    50.0
    """
    f = np.atleast_1d(np.asarray(focal_px, dtype="float64"))
    h = np.asarray(height_m, dtype="float64")
    return np.asarray((gsd_cm / 100.0 * f) ** (2.0 / 3.0) * h ** (1.0 / 3.0))


def gm_gsd_cm(
    east_m: np.ndarray,
    north_m: np.ndarray,
    height_m: np.ndarray,
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    focal_px: np.ndarray,
) -> np.ndarray:
    """GSD (geometric mean, cm) at ground points east and north of the point under the camera.

    NaN where the point lies behind the camera.

    Examples
    --------
    >>> float(gm_gsd_cm(0.0, 0.0, 100.0, 0.0, -90.0, 2000.0)[0])
    5.0
    """
    axis = optical_axes(yaw_deg, pitch_deg)
    h = np.asarray(height_m, dtype="float64")
    z = np.asarray(north_m) * axis[:, 0] + np.asarray(east_m) * axis[:, 1] + h * axis[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        gsd = z**1.5 / (np.asarray(focal_px, dtype="float64") * np.sqrt(h))
    return np.where(z > 0, 100.0 * gsd, np.nan)


def _reach_m(footprints: np.ndarray, lon0: np.ndarray, lat0: np.ndarray) -> np.ndarray:
    """Farthest vertex of each footprint from its camera, metres (a little over, never under)."""
    coords, owner = shapely.get_coordinates(footprints, return_index=True)
    scale = np.cos(np.radians(lat0[owner]))
    dx = (coords[:, 0] - lon0[owner]) * scale * _M_PER_DEG
    dy = (coords[:, 1] - lat0[owner]) * _M_PER_DEG
    reach = np.zeros(len(footprints))
    np.maximum.at(reach, owner, np.hypot(dx, dy))
    return 1.1 * reach + 10.0


def _half_planes(
    lon0: np.ndarray, lat0: np.ndarray, axis: np.ndarray, d0: np.ndarray, reach: np.ndarray
) -> np.ndarray:
    """Polygons (lon/lat) of ``u <= d0`` within ``reach``; ``u`` along each axis' azimuth."""
    s = np.hypot(axis[:, 0], axis[:, 1])
    un, ue = axis[:, 0] / s, axis[:, 1] / s
    t = np.linspace(-1.0, 1.0, _LINE_POINTS)[None, :] * reach[:, None]
    u = np.concatenate(
        [np.repeat(d0[:, None], _LINE_POINTS, axis=1), -reach[:, None], -reach[:, None]], axis=1
    )
    v = np.concatenate([t, reach[:, None], -reach[:, None]], axis=1)
    north = u * un[:, None] - v * ue[:, None]
    east = u * ue[:, None] + v * un[:, None]
    lon, lat = enu_offsets(lon0[:, None], lat0[:, None], east, north)
    return shapely.polygons(np.stack([lon, lat], axis=-1))


def _discs(lon0: np.ndarray, lat0: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Polygons (lon/lat) of discs around the points under the cameras."""
    a = np.linspace(0.0, 2 * np.pi, _DISC_POINTS, endpoint=False)[None, :]
    east, north = radius[:, None] * np.sin(a), radius[:, None] * np.cos(a)
    lon, lat = enu_offsets(lon0[:, None], lat0[:, None], east, north)
    return shapely.polygons(np.stack([lon, lat], axis=-1))


def imaging_footprints(
    footprints: np.ndarray,
    cam_lon: np.ndarray,
    cam_lat: np.ndarray,
    height_m: np.ndarray,
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    focal_px: np.ndarray,
    gsd_cm: np.ndarray,
    *,
    max_gsd_cm: float,
) -> np.ndarray:
    """Return the part of each footprint where the GSD (geometric mean) is at most a bound.

    Parameters
    ----------
    footprints
        Ground footprints, EPSG:4326 (shapely polygons), one per capture.
    cam_lon, cam_lat
        Camera positions, degrees.
    height_m
        Height of the camera above the ground, metres (taken as at least 1 m).
    yaw_deg, pitch_deg
        The camera's pose (roll does not move the optical axis); a NaN yaw gives a disc.
    focal_px
        Focal length in pixels; NaN for captures without intrinsics (orthomosaics),
        which are kept whole where ``gsd_cm`` is at most ``max_gsd_cm``, else dropped.
    gsd_cm
        The captures' own GSD, used only where ``focal_px`` is NaN.
    max_gsd_cm
        The bound, cm (> 0); ``inf`` keeps every footprint whole.

    Returns
    -------
    numpy.ndarray of shapely geometries
        EPSG:4326; an empty polygon where no part of the frame is that fine.

    Examples
    --------
    A camera 100 m up with a focal length of 2000 px sees the ground at 5 cm straight
    down: all of its nadir frame is finer than 10 cm, none of it finer than 4 cm.

    >>> fp = shapely.box(9.999, 49.999, 10.001, 50.001)
    >>> args = ([fp], [10.0], [50.0], [100.0], [0.0], [-90.0], [2000.0], [5.0])
    >>> [bool(g.equals(fp)) for g in imaging_footprints(*args, max_gsd_cm=10.0)]
    [True]
    >>> [g.is_empty for g in imaging_footprints(*args, max_gsd_cm=4.0)]
    [True]
    """
    fp = np.asarray(footprints, dtype=object)
    n = len(fp)
    lon0, lat0, h, yaw, pitch, f, gsd = (
        np.broadcast_to(np.asarray(a, dtype="float64"), (n,)).copy()
        for a in (cam_lon, cam_lat, height_m, yaw_deg, pitch_deg, focal_px, gsd_cm)
    )
    out = np.full(n, shapely.Polygon(), dtype=object)
    if n == 0 or not max_gsd_cm > 0:
        return out
    if not np.isfinite(max_gsd_cm):
        return fp.copy()
    h = np.maximum(np.nan_to_num(h, nan=1.0), 1.0)
    known = np.isfinite(f) & (f > 0) & np.isfinite(pitch) & np.isfinite(lon0) & np.isfinite(lat0)
    whole = ~known & (gsd <= max_gsd_cm)
    axis = optical_axes(np.nan_to_num(yaw), np.nan_to_num(pitch))
    depth = depth_limit_m(np.where(known, f, 1.0), h, max_gsd_cm)
    s = np.hypot(axis[:, 0], axis[:, 1])
    level = known & (s < 1e-9)  # straight down (or up): the same depth everywhere
    whole |= level & (h * axis[:, 2] <= depth) & (axis[:, 2] > 0)
    tilted = known & ~level
    d0 = np.where(tilted, (depth - h * axis[:, 2]) / np.where(s > 0, s, 1.0), 0.0)
    reach = np.zeros(n)
    if tilted.any():
        reach[tilted] = _reach_m(fp[tilted], lon0[tilted], lat0[tilted])
    whole |= tilted & (d0 >= reach)
    cut = tilted & (d0 > -reach) & (d0 < reach)
    disc = cut & ~np.isfinite(yaw)
    plane = cut & np.isfinite(yaw)
    out[whole] = fp[whole]
    if plane.any():
        i = np.flatnonzero(plane)
        clip = _half_planes(lon0[i], lat0[i], axis[i], d0[i], reach[i])
        out[i] = shapely.intersection(fp[i], clip)
    i = np.flatnonzero(disc & (d0 > 0))
    if len(i):
        out[i] = shapely.intersection(fp[i], _discs(lon0[i], lat0[i], d0[i]))
    return out
