"""A demo flight plan flown at 10 Hz: the state its AirData track and photos are written from."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from geoexpose.demo._flights import Flight
from geoexpose.demo._town import ground_m, to_lonlat_geoms

__all__ = ["fly"]

_GEOD = Geod(ellps="WGS84")


def fly(flight: Flight, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fly ``flight`` at 10 Hz; return its state in SI units, one value per 100 ms."""
    wp = flight.waypoints
    step = np.hypot(np.hypot(np.diff(wp[:, 0]), np.diff(wp[:, 1])), np.diff(wp[:, 2]))
    t_key = np.concatenate([[0.0], np.cumsum(step / wp[1:, 3] + wp[1:, 4])])
    ms = np.arange(int(t_key[-1] * 10) + 1) * 100
    t = ms / 1000.0
    h = np.round(np.interp(t, t_key, wp[:, 2]), 1)  # barometric height, 0.1 m steps
    sway = 0.4 * np.minimum(h / 5.0, 1.0)  # a little wind drift once airborne
    drift = rng.uniform(0, 2 * np.pi, 2)
    e = np.interp(t, t_key, wp[:, 0]) + sway * np.sin(2 * np.pi * t / 17 + drift[0])
    n = np.interp(t, t_key, wp[:, 1]) + sway * np.sin(2 * np.pi * t / 23 + drift[1])
    lon, lat = np.round(shapely.get_coordinates(to_lonlat_geoms(shapely.points(e, n))).T, 12)

    # Motion from the positions as written: geodesic steps of 0.1 s, speeds in 0.1 m/s.
    az, _, dist = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    speed = np.round(np.concatenate([[0.0], dist / 0.1]), 1)
    course = np.concatenate([[az[0]], az])
    moving = speed >= 0.3
    last = np.maximum.accumulate(np.where(moving, np.arange(len(t)), 0))
    yaw = np.where(moving[last], course[last], course[np.argmax(moving)])
    msl = ground_m(wp[0, 0], wp[0, 1]) + h
    ground = ground_m(e, n)
    gimbal = np.full(len(t), float(flight.gimbal_pitch))
    roll = rng.normal(0.0, 0.4, len(t))
    t0, t1 = t_key[flight.survey[0]], t_key[flight.survey[1]]
    if flight.look_at is not None:  # point the camera at the target while surveying
        aim = (t >= t0) & (t <= t1)
        target = shapely.get_coordinates(to_lonlat_geoms(shapely.points([flight.look_at])))[0]
        to_lon, to_lat = np.full_like(lon, target[0]), np.full_like(lat, target[1])
        to_az, _, to_dist = _GEOD.inv(lon, lat, to_lon, to_lat)
        yaw = np.where(aim, to_az, yaw)
        gimbal = np.where(aim, -np.degrees(np.arctan2(msl - ground, to_dist)), gimbal)
        roll = np.where(aim, np.degrees(np.arctan2(speed**2, 9.81 * to_dist)), roll)
    photo = np.zeros(len(t), dtype="int64")
    photo[np.round(np.arange(t0, t1, flight.photo_every_s) * 10).astype("int64")] = 1
    _, _, from_home = _GEOD.inv(np.full_like(lon, lon[0]), np.full_like(lat, lat[0]), lon, lat)
    gap_ms = np.round((t0 + t1) * 5) * 100  # the middle of the survey, on the 100 ms grid
    return {
        "ms": ms,
        "t": t,
        "lon": lon,
        "lat": lat,
        "h": h,
        "msl": msl,
        "ground": ground,
        "speed": speed,
        "course": course,
        "yaw": np.mod(yaw, 360.0),
        "gimbal": gimbal,
        "roll": roll,
        "photo": photo,
        "from_home": from_home,
        "climb": np.round(np.concatenate([[0.0], np.diff(h) / 0.1]), 1),
        "fix": np.arange(len(t)) >= flight.no_fix_rows,
        "phase": np.select([t < t_key[1], t < t_key[1] + 5.0, t >= t_key[-2]], [0, 1, 3], 2),
        "kept": ~((ms > gap_ms) & (ms < gap_ms + flight.gap_s * 1000)),
    }
