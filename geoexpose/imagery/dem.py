"""Terrain: photo footprints marched into a DEM or DSM, with their GSD and flags.

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
- Boundary density (``densify=None``, what :func:`geoexpose.read_captures` uses): terrain
  bends the outline between two vertices, so each capture gets as many points per image
  edge as keep neighbouring vertices about :data:`DEM_SPACING_CELLS` DEM cells apart on
  the ground (estimated over level ground at the camera's height above the DEM under it),
  from 16 up to :data:`DEM_DENSIFY_MAX`, in steps of doubling. On the real P4 RTK frames
  of ``shared/realdata`` (0.8 m DSM cells, 75-90 m above it, pitch -60, a barrel lens)
  16 points per edge leave up to 37-45 m between vertices near the far corners and,
  with ODM's own pose, lose 0.005-0.029 of IoU against an orthorectifier's coverage;
  128 leave 7-8 m and score 0.994-0.998. Each vertex is one ray marched.

GSD is that of :func:`geoexpose.imagery.gsd.gsd_at_ground` at the footprint point
nearest the camera (by slant range: under it when nadir is in the frame), on the
horizontal plane through that point: ground distances as a map measures them, which is
how sites are drawn. Frames that see no ground inside the range, and yaw-free discs, take
the flat value at the camera's height above the DEM under it.

The camera's height in the DEM's datum comes from :mod:`geoexpose.imagery.elevation`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import shapely

from geoexpose._flags import add_flag
from geoexpose.imagery._raster import Dem, open_dem
from geoexpose.imagery._ray_march import march_all
from geoexpose.imagery.camera import Camera, camera_codes
from geoexpose.imagery.elevation import MIN_CLEARANCE_M, ground_elevation
from geoexpose.imagery.footprints import check_inputs, check_options, rings
from geoexpose.imagery.gsd import gsd_at_ground
from geoexpose.imagery.pose import enu_offsets, normalize_pose, rotation_matrices

__all__ = ["DEM_DENSIFY_MAX", "DEM_SPACING_CELLS", "Dem", "footprints_on_dem", "open_dem"]

#: Most points per image edge of a footprint on a DEM with ``densify=None``.
DEM_DENSIFY_MAX = 128
#: Ground spacing of footprint vertices aimed at with ``densify=None``, in DEM cells.
DEM_SPACING_CELLS = 2.0
_DENSIFY_MIN = 16


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
    densify: int | None = 16,
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
    yaw_deg, pitch_deg, roll_deg, cameras, cam_reverse, min_depression_deg
        As for :func:`geoexpose.imagery.footprints.footprints`.
    densify
        Points per image edge; ``None``: per capture, enough to keep neighbouring
        vertices about :data:`DEM_SPACING_CELLS` DEM cells apart on the ground (16 to
        :data:`DEM_DENSIFY_MAX`; see the module notes).
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
    check_options(_DENSIFY_MIN if densify is None else densify, max_range_m, min_depression_deg)
    n = lon.size
    rev = None if cam_reverse is None else np.broadcast_to(np.asarray(cam_reverse, bool), (n,))

    def unit_rings(sel: slice | np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        """Return the flat rings on a plane 1 m below cameras ``sel`` (the rays), uncut."""
        some = cameras if isinstance(sel, slice) else [cams[c] for c in codes[sel]]
        return rings(
            lon[sel], lat[sel], np.ones(n)[sel], yaw[sel], pitch[sel], roll[sel], some,
            cam_reverse=None if rev is None else rev[sel], densify=k, max_range_m=1e9,
            min_depression_deg=max(min_depression_deg, 1e-3), local=True,
        )  # fmt: skip

    codes, cams = camera_codes(cameras, n)
    unit, ring_of, gsd_unit, bits = unit_rings(
        slice(None), _DENSIFY_MIN if densify is None else densify
    )
    yaw_known = np.isfinite(yaw)
    handle = open_dem(dem)
    try:
        ground0 = ground_elevation(handle, lon, lat)
        fallback = np.where(np.isfinite(ground0), ground0, handle.median_m)
        fallback = np.where(np.isfinite(fallback), fallback, elev - 100.0)
        clamped = elev < fallback + MIN_CLEARANCE_M
        elev = np.where(clamped, fallback + MIN_CLEARANCE_M, elev)
        if densify is None and n:
            level = _levels(unit, ring_of, n, elev - fallback, _cell_m(handle, lon, lat))
            for k in np.unique(level[level > _DENSIFY_MIN]):
                sel = np.flatnonzero(level == k)
                more = unit_rings(sel, int(k))
                keep = ~np.isin(ring_of, sel)
                unit = np.concatenate([unit[keep], more[0]])
                ring_of = np.concatenate([ring_of[keep], sel[more[1]]])
                order = np.argsort(ring_of, kind="stable")
                unit, ring_of = unit[order], ring_of[order]
                gsd_unit[sel], bits[sel] = more[2], more[3]
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


def _cell_m(handle: Dem, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Side of a DEM cell at each camera, metres (the square root of its ground area)."""
    east = np.array([0.0, 100.0, 0.0])
    north = np.array([0.0, 0.0, 100.0])
    plon, plat = enu_offsets(lon[:, None], lat[:, None], east[None, :], north[None, :])
    col, row = (a.reshape(-1, 3) for a in handle.to_pixels(plon.ravel(), plat.ravel()))
    det = (col[:, 1] - col[:, 0]) * (row[:, 2] - row[:, 0])
    det -= (col[:, 2] - col[:, 0]) * (row[:, 1] - row[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 / np.sqrt(np.abs(det))


def _levels(
    unit: np.ndarray, ring_of: np.ndarray, n: int, height: np.ndarray, cell_m: np.ndarray
) -> np.ndarray:
    """Return the points per image edge of each capture, 16 doubled up to DEM_DENSIFY_MAX.

    Doubled until neighbouring vertices of the capture's flat ring at ``height`` (metres
    above the DEM under the camera) lie within DEM_SPACING_CELLS cells of ``cell_m``.
    """
    step = np.hypot(*(unit - np.roll(unit, -1, axis=0)).T)
    last = np.r_[ring_of[1:] != ring_of[:-1], True]  # the step back to the ring's start
    first = np.searchsorted(ring_of, ring_of, side="left")
    step[last] = np.hypot(*(unit[last] - unit[first[last]]).T)
    widest = np.zeros(n)
    np.maximum.at(widest, ring_of, step)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = widest * np.maximum(height, MIN_CLEARANCE_M) / (DEM_SPACING_CELLS * cell_m)
    ratio = np.where(np.isfinite(ratio), ratio, 1.0)
    doublings = np.ceil(np.log2(np.clip(ratio, 1.0, DEM_DENSIFY_MAX / _DENSIFY_MIN)))
    return (_DENSIFY_MIN * 2 ** doublings.astype("int64")).astype("int64")


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
