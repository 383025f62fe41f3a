"""Ground footprints of photos over flat ground, vectorized.

Conventions
-----------
- World frame NED (north, east, down), true north. The gimbal angles are DJI's absolute
  Euler angles in the order Z-Y-X: yaw about down (clockwise from north), then pitch
  (-90 nadir, 0 horizon, positive up), then roll. The camera frame is OpenCV's (x right,
  y down, z along the optical axis); at pitch -90 the top of the image points along yaw.
- The ground is the horizontal plane ``height_m`` below the camera. Offsets on it are
  metres east and north of the point under the camera (a local azimuthal frame), turned
  into longitude and latitude on the WGS 84 ellipsoid (tangent plane through ECEF; within
  a millimetre of the geodesic from the camera for the ranges used here).
- Rays less than ``min_depression_deg`` below the horizon, or whose ground point lies
  farther than ``max_range_m``, are cut: the footprint is the part of the image on the
  ground inside the disc of radius ``min(height / tan(min_depression), max_range_m)``,
  its outer edge an arc of that disc. A frame that sees no ground inside that disc gives
  the sector of the disc spanned by the frame's azimuths, flagged; never an empty polygon.

The ground sample distance (GSD) given with each footprint is that of
:mod:`geoexpose.imagery.gsd` at the footprint point nearest the camera.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import shapely

from geoexpose.errors import InputError
from geoexpose.imagery.camera import Camera, camera_codes
from geoexpose.imagery.gsd import pixel_gsd
from geoexpose.imagery.pose import enu_offsets, normalize_pose, rotation_matrices, wrap_radians

__all__ = ["footprints"]

logger = logging.getLogger(__name__)

_CHUNK = 8192


def _as_array(name: str, values: object, n: int) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(values, dtype="float64"), (n,))
    return arr


def _check(name: str, arr: np.ndarray, *, positive: bool = False) -> None:
    bad = ~np.isfinite(arr) | ((arr <= 0) if positive else False)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        need = "a positive number" if positive else "a finite number"
        raise InputError(f"footprints: {name} must be {need}; capture {i} has {arr[i]!r}")


def _boundary(cam: Camera, densify: int) -> np.ndarray:
    """Pixel coordinates around the image border, clockwise from the top-left, (4*d, 2)."""
    t = np.arange(densify) / densify
    w, h = cam.width_px, cam.height_px
    u = np.concatenate([t * w, np.full(densify, w), w - t * w, np.zeros(densify)])
    v = np.concatenate([np.zeros(densify), t * h, np.full(densify, h), h - t * h])
    return np.stack([u, v], axis=-1)


def _crossings(d0: np.ndarray, d1: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Parameter t in [0, 1] where the ray d0 + t (d1 - d0) has depression sine ``s``."""
    b = d1 - d0
    qa = b[:, 2] ** 2 - s * s * np.einsum("ij,ij->i", b, b)
    qb = 2 * (d0[:, 2] * b[:, 2] - s * s * np.einsum("ij,ij->i", d0, b))
    qc = d0[:, 2] ** 2 - s * s * np.einsum("ij,ij->i", d0, d0)
    disc = np.sqrt(np.maximum(qb * qb - 4 * qa * qc, 0.0))
    with np.errstate(all="ignore"):
        lin = -qc / qb
        roots = np.stack([(-qb + disc) / (2 * qa), (-qb - disc) / (2 * qa), lin], axis=-1)
        roots = np.where(np.abs(qa)[:, None] < 1e-15, lin[:, None], roots)
        ok = (roots >= -1e-9) & (roots <= 1 + 1e-9) & (d0[:, 2, None] + roots * b[:, 2, None] > 0)
    best = np.where(ok, roots, np.nan)
    return np.clip(np.nan_to_num(np.nanmin(np.where(ok, best, np.inf), axis=1), posinf=0.5), 0, 1)


def _chunk(
    lon: np.ndarray,
    lat: np.ndarray,
    qn: np.ndarray,
    pix: np.ndarray,
    codes: np.ndarray,
    cams: list[Camera],
    rot: np.ndarray,
    height: np.ndarray,
    yaw_known: np.ndarray,
    max_range: float,
    min_dep: float,
    local: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ring vertices (lon, lat), their ring index, GSD in m and flag bits.

    With ``local``, the vertices are metres (east, north) from the point under the camera.
    """
    n, k = qn.shape[:2]
    d = qn[..., 0, None] * rot[:, None, :, 0] + qn[..., 1, None] * rot[:, None, :, 1]
    d += rot[:, None, :, 2]
    sin_dep = d[..., 2] / np.sqrt(np.einsum("nki,nki->nk", d, d))
    dep_range = np.arctan2(height, max_range)
    dep_cut = np.maximum(min_dep, dep_range)
    s_cut = np.sin(dep_cut)
    r_cut = height / np.tan(dep_cut)
    horizon = (sin_dep < np.sin(min_dep)).any(axis=1)
    capped = ((sin_dep < np.sin(dep_range)[:, None]) | (sin_dep <= 0)).any(axis=1)
    inside = sin_dep >= s_cut[:, None]
    some = inside.any(axis=1)

    # Rows with ground in view: start every ring at a vertex inside the disc.
    rows = np.flatnonzero(some)
    m = rows.size
    ins, dd, px = inside[rows], d[rows], pix[rows]
    mi = np.flatnonzero(~ins.all(axis=1))  # rows (of ``rows``) cut by the disc
    if mi.size:
        order = (np.arange(k)[None, :] + np.argmax(ins[mi], axis=1)[:, None]) % k
        r_ = np.arange(mi.size)[:, None]
        ins[mi], dd[mi], px[mi] = ins[mi][r_, order], dd[mi][r_, order], px[mi][r_, order]
    with np.errstate(all="ignore"):
        tt = height[rows, None] / dd[..., 2]
    g_in = np.stack([tt * dd[..., 1], tt * dd[..., 0]], axis=-1)  # east, north
    nxt = np.roll(np.arange(k), -1)
    cross = ins != ins[:, nxt]
    ci, cj = np.nonzero(cross)
    t_c = _crossings(dd[ci, cj], dd[ci, nxt[cj]], s_cut[rows][ci])
    d_c = dd[ci, cj] + t_c[:, None] * (dd[ci, nxt[cj]] - dd[ci, cj])
    az_cross = np.zeros((m, k))
    az_cross[ci, cj] = np.arctan2(d_c[:, 1], d_c[:, 0])
    g_cross = np.zeros((m, k, 2))
    rc = r_cut[rows][ci]
    g_cross[ci, cj] = np.stack([rc * np.sin(az_cross[ci, cj]), rc * np.cos(az_cross[ci, cj])], -1)
    p_cross = np.full((m, k, 2), np.nan)
    p_cross[ci, cj] = px[ci, cj] + t_c[:, None] * (px[ci, nxt[cj]] - px[ci, cj])

    # Runs of vertices outside the disc become arcs of its edge, from exit to entry.
    out = ~ins[mi]
    a_v = np.arctan2(dd[mi, :, 1], dd[mi, :, 0])
    az_m = az_cross[mi]
    start = out & ~np.roll(out, 1, axis=1)
    end = out & cross[mi]
    prev_az = np.where(start, np.roll(az_m, 1, axis=1), np.roll(a_v, 1, axis=1))
    inc = wrap_radians(a_v - prev_az) + np.where(end, wrap_radians(az_m - a_v), 0.0)
    oi, oj = np.nonzero(out)
    run = np.cumsum(start[oi, oj]) - 1
    if run.size:
        total = np.bincount(run, weights=inc[oi, oj])
        length = np.bincount(run)
        flat = oi * k + oj
        first = flat[start[oi, oj]]
        pos = flat - first[run] + 1
        exit_az = az_m.ravel()[first - 1]
        arc = exit_az[run] + total[run] * pos / (length[run] + 1)
        ra = r_cut[rows][mi][oi]
        g_in[mi[oi], oj] = np.stack([ra * np.sin(arc), ra * np.cos(arc)], axis=-1)
    out = ~ins
    verts = np.stack([g_in, g_cross], axis=2).reshape(m, 2 * k, 2)
    valid = np.stack([np.ones_like(cross), cross], axis=2).reshape(m, 2 * k)
    vpix = np.stack([np.where(out[..., None], np.nan, px), p_cross], axis=2).reshape(m, 2 * k, 2)

    # GSD at the footprint point nearest the camera: under it when nadir is in view.
    dist = np.where(valid & ~np.isnan(vpix[..., 0]), np.hypot(verts[..., 0], verts[..., 1]), np.inf)
    near_pix = vpix[np.arange(m), np.argmin(dist, axis=1)]
    nadir_cam = rot[rows, 2, :]  # camera coordinates of the down direction
    for c, cam in enumerate(cams):
        sel = (codes[rows] == c) & (nadir_cam[:, 2] > 1e-3)
        if sel.any():
            z = nadir_cam[sel, 2]
            u, v = cam.distort(nadir_cam[sel, 0] / z, nadir_cam[sel, 1] / z)
            seen = (u >= 0) & (u <= cam.width_px) & (v >= 0) & (v <= cam.height_px)
            idx = np.flatnonzero(sel)[seen]
            near_pix[idx] = np.stack([u[seen], v[seen]], axis=-1)
    gsd = np.empty(n)
    gsd[rows] = pixel_gsd(cams, codes[rows], near_pix, rot[rows], height[rows])

    # Rows without ground in view: a sector of the disc (or all of it); yaw unknown: a disc.
    reach = np.zeros(n)
    reach[rows] = np.where(valid, np.hypot(verts[..., 0], verts[..., 1]), 0.0).max(axis=1)
    valid &= yaw_known[rows, None]
    rest = np.flatnonzero(~some | ~yaw_known)
    az = np.arctan2(d[rest, :, 1], d[rest, :, 0])
    steps = np.diff(np.concatenate([az, az[:, :1]], axis=1), axis=1)
    unwrapped = az[:, :1] + np.concatenate(
        [np.zeros((rest.size, 1)), np.cumsum(wrap_radians(steps), axis=1)[:, :-1]], axis=1
    )
    full = (np.abs(wrap_radians(steps).sum(axis=1)) > np.pi) | ~yaw_known[rest]
    step = 2 * np.pi / (k + 1)
    lo = np.where(full, step, unwrapped.min(axis=1))
    hi = np.where(full, k * step, unwrapped.max(axis=1))
    arc = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, k)[None, :]
    # Yaw unknown: the polygon around the disc that holds the footprint at any yaw.
    circum = reach[rest] / np.cos(np.pi / (k + 1))
    radius = np.where(~yaw_known[rest] & some[rest], circum, r_cut[rest])
    ring = np.stack([radius[:, None] * np.sin(arc), radius[:, None] * np.cos(arc)], axis=-1)
    first = np.stack([np.zeros(rest.size), np.where(full, radius, 0.0)], axis=-1)
    sect = np.concatenate([first[:, None, :], ring], axis=1)
    blind = rest[~some[rest]]
    rho = np.hypot(r_cut[blind], height[blind])
    focal = np.array([c.focal_px for c in cams])[codes[blind]]
    gsd[blind] = rho / (focal * np.sin(dep_cut[blind]))

    ring_of = np.concatenate([np.repeat(rows, valid.sum(axis=1)), np.repeat(rest, k + 1)])
    flags = horizon.astype("int8") + 2 * capped.astype("int8")
    if local:
        return np.concatenate([verts[valid], sect.reshape(-1, 2)]), ring_of, gsd, flags
    lonlat = np.empty((m, k, 2, 2))
    lonlat[:, :, 0, 0], lonlat[:, :, 0, 1] = enu_offsets(
        lon[rows, None], lat[rows, None], g_in[..., 0], g_in[..., 1]
    )
    lonlat[ci, cj, 1, 0], lonlat[ci, cj, 1, 1] = enu_offsets(
        lon[rows][ci], lat[rows][ci], g_cross[ci, cj, 0], g_cross[ci, cj, 1]
    )
    flat_ll = lonlat.reshape(m, 2 * k, 2)
    lon_s, lat_s = enu_offsets(lon[rest, None], lat[rest, None], sect[..., 0], sect[..., 1])
    coords = np.concatenate([flat_ll[valid], np.stack([lon_s, lat_s], -1).reshape(-1, 2)])
    return coords, ring_of, gsd, flags


_FLAG_WORDS = np.array(
    [
        "",
        "horizon_clipped",
        "range_capped",
        "horizon_clipped;range_capped",
        "yaw_unknown",
        "horizon_clipped;yaw_unknown",
        "range_capped;yaw_unknown",
        "horizon_clipped;range_capped;yaw_unknown",
    ],
    dtype=object,
)  # index: horizon_clipped + 2 * range_capped + 4 * yaw_unknown


def footprints(
    cam_lon: np.ndarray,
    cam_lat: np.ndarray,
    height_m: np.ndarray,
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    roll_deg: np.ndarray,
    cameras: Camera | Sequence[Camera],
    *,
    cam_reverse: np.ndarray | None = None,
    densify: int = 16,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground footprints of photos over flat ground, their GSD and flags.

    Parameters
    ----------
    cam_lon, cam_lat
        Camera position, degrees on WGS 84, one per capture.
    height_m
        Height of the camera above the ground plane, metres (> 0).
    yaw_deg, pitch_deg, roll_deg
        Gimbal angles (see the module notes). A NaN yaw gives the disc that holds the
        footprint at any yaw, flagged ``yaw_unknown``.
    cameras
        One :class:`~geoexpose.imagery.camera.Camera` for all captures, or one per capture.
    cam_reverse
        True where the camera is mounted upside down (DJI ``CamReverse``).
    densify
        Points per image edge projected to the ground.
    max_range_m
        Farthest ground distance from the point under the camera kept in a footprint.
    min_depression_deg
        Rays less steep than this below the horizon are cut.

    Returns
    -------
    polygons : numpy.ndarray of shapely.Polygon
        One valid, non-empty polygon per capture, EPSG:4326.
    gsd_cm : numpy.ndarray
        GSD at the footprint point nearest the camera, cm. For a frame that sees no ground
        inside the range, the GSD at the edge of the range along the steepest ray there.
    flags : numpy.ndarray of str
        ``;``-joined words: ``horizon_clipped``, ``range_capped``, ``yaw_unknown``.

    Examples
    --------
    >>> cam = Camera(4000, 3000, 2000.0, 2000.0, 1500.0)
    >>> poly, gsd, flags = footprints([10.0], [50.0], [100.0], [0.0], [-90.0], [0.0], cam)
    >>> round(float(gsd[0]), 3), flags[0]
    (5.0, '')
    """
    lon, lat, height, yaw, pitch, roll = check_inputs(
        cam_lon, cam_lat, height_m, yaw_deg, pitch_deg, roll_deg
    )
    check_options(densify, max_range_m, min_depression_deg)
    coords, ring_of, gsd, bits = rings(
        lon,
        lat,
        height,
        yaw,
        pitch,
        roll,
        cameras,
        cam_reverse=cam_reverse,
        densify=densify,
        max_range_m=max_range_m,
        min_depression_deg=min_depression_deg,
    )
    polygons = shapely.polygons(shapely.linearrings(coords, indices=ring_of))
    return polygons, 100.0 * gsd, _FLAG_WORDS[bits]


def check_inputs(
    cam_lon: object,
    cam_lat: object,
    height_m: object,
    yaw_deg: object,
    pitch_deg: object,
    roll_deg: object,
    *,
    height_name: str = "height_m",
    positive: bool = True,
) -> tuple[np.ndarray, ...]:
    """Capture arrays as float64 of one length; InputError naming the first bad capture."""
    lon = np.atleast_1d(np.asarray(cam_lon, dtype="float64"))
    n = lon.size
    lat = _as_array("cam_lat", cam_lat, n)
    height = _as_array(height_name, height_m, n)
    yaw, pitch, roll = (_as_array("pose", a, n) for a in (yaw_deg, pitch_deg, roll_deg))
    for name, arr in (("cam_lon", lon), ("cam_lat", lat), ("pitch_deg", pitch), ("roll_deg", roll)):
        _check(name, arr)
    _check(height_name, height, positive=positive)
    if (np.abs(lat) > 90).any() or (np.abs(lon) > 360).any():
        i = int(np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 360))[0])
        raise InputError(f"footprints: capture {i} has coordinates out of range")
    return lon, lat, height, yaw, pitch, roll


def check_options(densify: int, max_range_m: float, min_depression_deg: float) -> None:
    """Raise InputError unless densify >= 1, max_range_m > 0, 0 <= min_depression < 90."""
    if densify < 1 or not max_range_m > 0 or not 0 <= min_depression_deg < 90:
        raise InputError("footprints: densify >= 1, max_range_m > 0, 0 <= min_depression < 90")


def rings(
    lon: np.ndarray,
    lat: np.ndarray,
    height: np.ndarray,
    yaw: np.ndarray,
    pitch: np.ndarray,
    roll: np.ndarray,
    cameras: Camera | Sequence[Camera],
    *,
    cam_reverse: np.ndarray | None,
    densify: int,
    max_range_m: float,
    min_depression_deg: float,
    local: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Footprint rings over flat ground, for checked inputs (see :func:`footprints`).

    Returns the ring vertices (n_vertices, 2), each vertex's capture (sorted), the GSD
    in metres and the flag bits (an index into the flag words). Vertices are lon/lat,
    or with ``local`` metres (east, north) from the point under each camera.
    """
    n = lon.size
    yaw_known = np.isfinite(yaw)
    yaw, pitch, roll = normalize_pose(np.where(yaw_known, yaw, 0.0), pitch, roll)
    rev = None if cam_reverse is None else np.broadcast_to(np.asarray(cam_reverse, bool), (n,))
    rot = rotation_matrices(yaw, pitch, roll, rev)
    codes, cams = camera_codes(cameras, n)
    pix_u = np.stack([_boundary(c, densify) for c in cams])
    q_u = np.stack(
        [np.stack(c.undistort(p[:, 0], p[:, 1]), -1) for c, p in zip(cams, pix_u, strict=True)]
    )
    gsd, bits = np.empty(n), np.empty(n, dtype="int8")

    def work(lo: int) -> tuple[np.ndarray, np.ndarray]:
        sl = slice(lo, min(n, lo + _CHUNK))
        c = codes[sl]
        coords, ring_of, gsd[sl], bits[sl] = _chunk(
            lon[sl],
            lat[sl],
            q_u[c],
            pix_u[c],
            c,
            cams,
            rot[sl],
            height[sl],
            yaw_known[sl],
            float(max_range_m),
            np.radians(min_depression_deg),
            local,
        )
        return coords, ring_of + lo

    # numpy releases the GIL in the array arithmetic of each chunk: threads pay
    starts = range(0, n, _CHUNK)
    threads = min(len(starts), os.cpu_count() or 1, 4)
    if threads > 1:
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(work, starts))
    else:
        done = [work(lo) for lo in starts]
    parts, indices = [d[0] for d in done], [d[1] for d in done]
    coords = np.concatenate(parts)
    ring_of = np.concatenate(indices)
    order = np.argsort(ring_of, kind="stable")
    return coords[order], ring_of[order], gsd, bits + 4 * (~yaw_known).astype("int8")
