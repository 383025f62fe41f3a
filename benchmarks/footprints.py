"""Time ground footprints of many photos over flat ground against a plain per-photo loop.

Run from the repository root::

    python -m benchmarks.footprints                 # 100,000 photos
    python -m benchmarks.footprints --photos 20000  # quicker

The photos are seeded and synthetic: a 5472 x 3648 px camera (DJI FC6310, 3648 px focal),
heights 30 to 120 m, every yaw, pitch from -90 to +20 degrees (a fifth of them looking
near or above the horizon, so clipped and range-capped), small rolls, spread over a
20 km square. :func:`geoexpose.imagery.footprints` makes densified polygons (16 points
per edge) and the GSD of each. The baseline is what a script does without it: for each
photo, the four image corners as rays from its rotation matrix, cut at the ground, then
``pyproj.Geod.fwd`` to longitude and latitude and a shapely Polygon, one photo at a time
(no horizon clipping: it just drops photos whose corners miss the ground). It runs on a
subset and its rate is compared per photo. The command prints both rates, their ratio
and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import shapely
from pyproj import Geod

from geoexpose.imagery import Camera, footprints

CAMERA = Camera(5472, 3648, 3648.0, 2736.0, 1824.0)
GEOD = Geod(ellps="WGS84")


def workload(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Poses of ``n`` synthetic photos, seeded."""
    rng = np.random.default_rng(seed)
    pitch = np.where(rng.random(n) < 0.8, rng.uniform(-90, -20, n), rng.uniform(-20, 20, n))
    return {
        "lon": -98.0 + rng.uniform(0, 0.25, n),
        "lat": 39.0 + rng.uniform(0, 0.18, n),
        "height": rng.uniform(30, 120, n),
        "yaw": rng.uniform(-180, 180, n),
        "pitch": pitch,
        "roll": rng.normal(0, 2, n),
    }


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = np.radians([yaw, pitch, roll])
    rz = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
    ry = np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]])
    rx = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
    return rz @ ry @ rx @ np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def baseline(w: dict[str, np.ndarray]) -> list[shapely.Polygon | None]:
    """Four corners per photo, one photo at a time: the plain way."""
    cam = CAMERA
    corners = np.array(
        [[0, 0], [cam.width_px, 0], [cam.width_px, cam.height_px], [0, cam.height_px]], float
    )
    rays = np.c_[(corners - [cam.cx_px, cam.cy_px]) / cam.focal_px, np.ones(4)]
    out: list[shapely.Polygon | None] = []
    for i in range(len(w["lon"])):
        world = rays @ _rotation(w["yaw"][i], w["pitch"][i], w["roll"][i]).T
        if (world[:, 2] <= 0).any():
            out.append(None)
            continue
        t = w["height"][i] / world[:, 2]
        north, east = world[:, 0] * t, world[:, 1] * t
        lon, lat, _ = GEOD.fwd(
            [w["lon"][i]] * 4,
            [w["lat"][i]] * 4,
            np.degrees(np.arctan2(east, north)),
            np.hypot(east, north),
        )
        out.append(shapely.Polygon(np.c_[lon, lat]))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--baseline-photos", type=int, default=5_000)
    args = parser.parse_args(argv)
    w = workload(args.photos)
    t0 = time.perf_counter()
    polys, _gsd, flags = footprints(
        w["lon"], w["lat"], w["height"], w["yaw"], w["pitch"], w["roll"], CAMERA
    )
    t_gx = time.perf_counter() - t0
    assert shapely.is_valid(polys).all() and not shapely.is_empty(polys).any()
    sub = {k: v[: args.baseline_photos] for k, v in w.items()}
    t0 = time.perf_counter()
    plain = baseline(sub)
    t_plain = time.perf_counter() - t0
    rate_gx = args.photos / t_gx
    rate_plain = len(plain) / t_plain
    clipped = np.char.find(flags.astype(str), "horizon_clipped") >= 0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"photos                     {args.photos:>10,}")
    print(f"horizon clipped            {int(clipped.sum()):>10,}")
    print(f"geoexpose footprints       {t_gx:>10.2f} s  {rate_gx:>10,.0f} photos/s")
    print(
        f"per-photo loop (4 corners) {t_plain:>10.2f} s  {rate_plain:>10,.0f} photos/s"
        f"  ({len(plain):,} photos, {sum(p is None for p in plain):,} dropped)"
    )
    print(f"ratio                      {rate_gx / rate_plain:>10.1f} x")
    print(f"peak memory (process)      {peak_mb:>10,.0f} MB")


if __name__ == "__main__":
    main()
