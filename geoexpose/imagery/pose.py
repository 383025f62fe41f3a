"""Camera pose and local ground frames: rotations, and metres east/north to lon/lat.

Conventions: world frame NED (north, east, down), true north; DJI gimbal angles as
Z-Y-X Euler angles (yaw clockwise from north, then pitch (-90 nadir, 0 horizon), then
roll); camera frame as OpenCV's (x right, y down, z along the optical axis).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "enu_offsets",
    "enu_to_lonlat",
    "normalize_pose",
    "rotation_matrices",
    "wrap_radians",
]

_A = 6378137.0
_F = 1 / 298.257223563
_B = _A * (1 - _F)
_E2 = _F * (2 - _F)
_EP2 = _E2 / (1 - _E2)
_BODY = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # camera -> gimbal


def wrap_radians(angle: np.ndarray) -> np.ndarray:
    """Wrap angles in radians into [-pi, pi)."""
    return (angle + np.pi) % (2 * np.pi) - np.pi


def normalize_pose(
    yaw_deg: np.ndarray, pitch_deg: np.ndarray, roll_deg: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rewrite the H30T form (pitch near -90 with roll near +-180) as roll near 0.

    ``(yaw, pitch, roll)`` and ``(yaw + 180, -180 - pitch, roll - 180)`` are the same
    rotation; where pitch < -80 and |roll| > 90 the second form is returned. Yaw comes
    back in [-180, 180).

    >>> [float(a[0]) for a in normalize_pose([10.0], [-90.0], [180.0])]
    [-170.0, -90.0, 0.0]
    """
    yaw = np.asarray(yaw_deg, dtype="float64")
    pitch = np.asarray(pitch_deg, dtype="float64")
    roll = np.asarray(roll_deg, dtype="float64")
    flip = (pitch < -80.0) & (np.abs(roll) > 90.0)
    yaw = np.where(flip, yaw + 180.0, yaw)
    pitch = np.where(flip, -180.0 - pitch, pitch)
    roll = np.where(flip, roll - np.copysign(180.0, roll), roll)
    return (yaw + 180.0) % 360.0 - 180.0, pitch, roll


def rotation_matrices(
    yaw_deg: np.ndarray,
    pitch_deg: np.ndarray,
    roll_deg: np.ndarray,
    cam_reverse: np.ndarray | None = None,
) -> np.ndarray:
    """Rotations from the camera frame (OpenCV) to NED, shape (n, 3, 3).

    ``R = Rz(yaw) Ry(pitch) Rx(roll) M`` with ``M`` taking the optical axis to the gimbal's
    forward axis, image right to its right and image down to its down. A reversed camera
    (mounted upside down) is turned 180 degrees about its optical axis.
    """
    y, p, r = (
        np.radians(np.atleast_1d(np.asarray(a, dtype="float64")))
        for a in (yaw_deg, pitch_deg, roll_deg)
    )
    cy, sy, cp, sp, cr, sr = np.cos(y), np.sin(y), np.cos(p), np.sin(p), np.cos(r), np.sin(r)
    rot = np.empty((y.size, 3, 3))
    rot[:, 0, 0] = cy * cp
    rot[:, 0, 1] = cy * sp * sr - sy * cr
    rot[:, 0, 2] = cy * sp * cr + sy * sr
    rot[:, 1, 0] = sy * cp
    rot[:, 1, 1] = sy * sp * sr + cy * cr
    rot[:, 1, 2] = sy * sp * cr - cy * sr
    rot[:, 2, 0] = -sp
    rot[:, 2, 1] = cp * sr
    rot[:, 2, 2] = cp * cr
    rot = rot @ _BODY
    if cam_reverse is not None:
        sign = np.where(np.asarray(cam_reverse, dtype=bool), -1.0, 1.0)
        rot[:, :, :2] *= sign[:, None, None]
    return rot


def enu_to_lonlat(
    lon0: np.ndarray, lat0: np.ndarray, east_m: np.ndarray, north_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude of ground offsets east and north of (lon0, lat0).

    The offsets lie in the tangent plane at the origin (height 0 on WGS 84), dropped onto
    the ellipsoid; distances and azimuths from the origin are kept to within a millimetre
    up to 10 km.

    >>> lon, lat = enu_to_lonlat(0.0, 0.0, 0.0, 110574.4)
    >>> round(float(lat[0]), 3)
    1.0
    """
    lon0, lat0, east_m, north_m = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, dtype="float64")) for a in (lon0, lat0, east_m, north_m))
    )
    return enu_offsets(lon0, lat0, east_m, north_m)


def enu_offsets(
    lon0: np.ndarray, lat0: np.ndarray, east: np.ndarray, north: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Do :func:`enu_to_lonlat`; origins broadcast against the offsets (trig per origin)."""
    lam, phi = np.radians(lon0), np.radians(lat0)
    sl, cl, sp, cp = np.sin(lam), np.cos(lam), np.sin(phi), np.cos(phi)
    nr = _A / np.sqrt(1 - _E2 * sp * sp)
    x0, y0, z0 = nr * cp * cl, nr * cp * sl, nr * (1 - _E2) * sp
    spcl, spsl, cpcl, cpsl, half_inv = sp * cl, sp * sl, cp * cl, cp * sl, 1 / (2 * nr)
    up = -(east * east + north * north) * half_inv
    x = x0 - sl * east - spcl * north + cpcl * up
    y = y0 + cl * east - spsl * north + cpsl * up
    z = z0 + cp * north + sp * up
    p = np.hypot(x, y)
    t = (z * _A) / (p * _B)
    cos_t = 1 / np.sqrt(1 + t * t)
    sin_t = t * cos_t
    lat = np.arctan2(z + _EP2 * _B * sin_t**3, p - _E2 * _A * cos_t**3)
    return np.degrees(np.arctan2(y, x)), np.degrees(lat)
