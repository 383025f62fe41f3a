"""Ground sample distance of photos at points on the flat ground under the camera.

The ground sample distance (GSD) at a ground point is the longest ground distance spanned
by one pixel step in any direction of the image there (the largest singular value of the
pixel-to-ground Jacobian, lens distortion included): ``height / focal_px`` at nadir, and
``range * cos(a)**2 / (focal_px * sin(depression))`` along the tilt at off-axis angle ``a``.
Angles and frames are those of :mod:`geoexpose.imagery.footprints`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geoexpose.imagery.camera import Camera, camera_codes
from geoexpose.imagery.pose import rotation_matrices

__all__ = ["gsd_at_ground", "pixel_gsd"]


def pixel_gsd(
    cams: list[Camera], codes: np.ndarray, pix: np.ndarray, rot: np.ndarray, height: np.ndarray
) -> np.ndarray:
    """GSD in metres at pixels ``pix`` (n, 2): largest singular value of d(ground)/d(pixel)."""
    steps = np.array([[0.5, 0.0], [-0.5, 0.0], [0.0, 0.5], [0.0, -0.5]])
    ground = np.full((pix.shape[0], 4, 2), np.nan)
    for k, cam in enumerate(cams):
        sel = codes == k
        if not sel.any():
            continue
        u = pix[sel, None, 0] + steps[None, :, 0]
        v = pix[sel, None, 1] + steps[None, :, 1]
        x, y = cam.undistort(u, v)
        r = rot[sel]
        d = x[..., None] * r[:, None, :, 0] + y[..., None] * r[:, None, :, 1] + r[:, None, :, 2]
        with np.errstate(all="ignore"):
            t = np.where(d[..., 2] > 0, height[sel, None] / d[..., 2], np.nan)
        ground[sel] = t[..., None] * d[..., :2]
    a, c = (ground[:, 0] - ground[:, 1]).T
    b, d_ = (ground[:, 2] - ground[:, 3]).T
    frob = a * a + b * b + c * c + d_ * d_
    det = a * d_ - b * c
    return np.sqrt(0.5 * (frob + np.sqrt(np.maximum(frob * frob - 4 * det * det, 0.0))))


def gsd_at_ground(
    cameras: Camera | Sequence[Camera],
    height_m: np.ndarray,
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    roll_deg: np.ndarray,
    east_m: np.ndarray,
    north_m: np.ndarray,
    *,
    cam_reverse: np.ndarray | None = None,
) -> np.ndarray:
    """GSD in centimetres at ground points given in each camera's local frame.

    Parameters
    ----------
    cameras
        One camera for all points, or one per point.
    height_m, yaw_deg, pitch_deg, roll_deg
        Pose of the camera of each point (height above the ground plane).
    east_m, north_m
        The ground point, in metres east and north of the point under the camera. For a
        site, take the point of the site inside the footprint nearest the camera (the
        lead's ``best_gsd_cm``); ``pyproj.Geod.inv`` from the camera gives azimuth ``az``
        and distance ``s``, and ``east = s sin(az)``, ``north = s cos(az)``.
    cam_reverse
        True where the camera is mounted upside down.

    Returns
    -------
    numpy.ndarray
        GSD in cm; NaN for points behind the camera. Points outside the image get the
        value the lens would have there.

    Examples
    --------
    >>> cam = Camera(4000, 3000, 2000.0, 2000.0, 1500.0)
    >>> float(gsd_at_ground(cam, 100.0, 0.0, -90.0, 0.0, 0.0, 0.0)[0])
    5.0
    """
    east = np.atleast_1d(np.asarray(east_m, dtype="float64"))
    north = np.atleast_1d(np.asarray(north_m, dtype="float64"))
    n = max(east.size, north.size)
    east, north, height, yaw, pitch, roll = (
        np.broadcast_to(np.asarray(a, dtype="float64"), (n,))
        for a in (east, north, height_m, yaw_deg, pitch_deg, roll_deg)
    )
    rev = None if cam_reverse is None else np.broadcast_to(np.asarray(cam_reverse, bool), (n,))
    rot = rotation_matrices(yaw, pitch, roll, rev)
    codes, cams = camera_codes(cameras, n)
    ray = np.stack([north, east, height], axis=-1)
    q = np.einsum("nji,nj->ni", rot, ray)
    pix = np.full((n, 2), np.nan)
    for k, cam in enumerate(cams):
        sel = (codes == k) & (q[:, 2] > 1e-9 * np.linalg.norm(q, axis=1))
        u, v = cam.distort(q[sel, 0] / q[sel, 2], q[sel, 1] / q[sel, 2])
        pix[sel] = np.stack([u, v], axis=-1)
    return 100.0 * pixel_gsd(cams, codes, pix, rot, height)
