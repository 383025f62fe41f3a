"""ODM's camera poses and lens (OpenSfM ``reconstruction.json``), read the way ODM writes them.

ODM writes each shot's ``translation`` as an offset in the grid coordinates of the
dataset's projected CRS (UTM) from ``reference_lla`` projected into it, and its
``rotation`` (axis-angle) as the turn from the grid's axes (east, north, up) into the
camera's (OpenCV: x right, y down, z forward). Only ``gps_position`` is topocentric.
Everything here is pyproj and numpy; nothing of geoexpose.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS, Geod, Transformer

ENU_TO_NED = np.array([[0.0, 1, 0], [1, 0, 0], [0, 0, -1]])
GIMBAL_TO_CAM = np.array([[0.0, 1, 0], [0, 0, 1], [1, 0, 0]])  # forward, right, down


def axis_angle(v: list[float]) -> np.ndarray:
    """The rotation matrix of an axis-angle vector (Rodrigues)."""
    v = np.asarray(v, dtype=float)
    theta = float(np.linalg.norm(v))
    k = v / theta
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(theta) * kx + (1 - math.cos(theta)) * kx @ kx


@dataclass
class OdmShot:
    """One shot: camera centre in grid coordinates and height, and its pose."""

    centre: np.ndarray  # easting, northing (grid metres), height (m, ODM's datum)
    cam_to_grid: np.ndarray  # camera axes -> grid (east, north, up)
    lon: float
    lat: float
    yaw: float  # DJI convention: clockwise from true north
    pitch: float
    roll: float


class Odm:
    """The shots and lens of a reconstruction, in the grid of ``crs``."""

    def __init__(self, path: Path, crs: CRS) -> None:
        rec = json.loads(Path(path).read_text())[0]
        self.lens = next(iter(rec["cameras"].values()))
        self.to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        ref = rec["reference_lla"]
        to_grid = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        e0, n0 = to_grid.transform(ref["longitude"], ref["latitude"])
        origin = np.array([e0, n0, ref["altitude"]])
        self.shots: dict[str, OdmShot] = {}
        for name, shot in rec["shots"].items():
            rot = axis_angle(shot["rotation"])
            centre = origin - rot.T @ np.array(shot["translation"])
            self.shots[name] = self._shot(centre, rot.T)

    def _shot(self, centre: np.ndarray, cam_to_grid: np.ndarray) -> OdmShot:
        lon, lat = self.to_lonlat.transform(centre[0], centre[1])
        lon_n, lat_n = self.to_lonlat.transform(centre[0], centre[1] + 100.0)
        # the true azimuth of grid north (the meridian convergence, -0.856 deg here):
        # a direction of grid azimuth a has true azimuth a + gamma
        gamma = math.radians(Geod(ellps="WGS84").inv(lon, lat, lon_n, lat_n)[0])
        c, s = math.cos(gamma), math.sin(gamma)
        grid_to_enu = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
        r = ENU_TO_NED @ grid_to_enu @ cam_to_grid @ GIMBAL_TO_CAM
        return OdmShot(
            centre,
            cam_to_grid,
            float(lon),
            float(lat),
            math.degrees(math.atan2(r[1, 0], r[0, 0])),
            -math.degrees(math.asin(r[2, 0])),
            math.degrees(math.atan2(r[2, 1], r[2, 2])),
        )

    def pose(self, name: str) -> tuple[float, float, float, float, float, float]:
        """lon, lat, height and DJI-style yaw (true north), pitch, roll of a shot."""
        s = self.shots[name]
        return s.lon, s.lat, float(s.centre[2]), s.yaw, s.pitch, s.roll

    def lens_params(self) -> dict[str, float]:
        """Width, height, focal and principal point in pixels, and the Brown coefficients."""
        cam = self.lens
        w, h = cam["width"], cam["height"]
        size = max(w, h)
        return {
            "width_px": w, "height_px": h, "focal_px": cam["focal_x"] * size,
            "cx_px": w / 2 + cam["c_x"] * size, "cy_px": h / 2 + cam["c_y"] * size,
            **{k: cam[k] for k in ("k1", "k2", "k3", "p1", "p2")},
        }  # fmt: skip
