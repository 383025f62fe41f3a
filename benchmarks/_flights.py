"""Synthetic multirotor flights at 10 Hz, many of them inspecting a site.

A flight is a chain of legs flown from a home point: a climb, then transits between
waypoints (5-15 m/s, turning at each waypoint), orbits (radius 15-120 m) and hovers.
Three flight types choose the waypoints:

- inspection (60 %): home and waypoints around a random site, along it for lines;
- survey (20 %): a lawnmower pattern near a random site;
- recreational (20 %): waypoints around a home in a town.

The legs are built by a loop over leg number (a few dozen), vectorised over flights;
the fixes are then sampled for all flights at once. A few flights have one 30-s
recording gap: the clock jumps and the drone reappears where it has flown to.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely

from benchmarks._sites import M_PER_DEG_LAT, M_PER_DEG_LON_EQUATOR, SiteLayer, metres_to_lonlat
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    FIX_COLUMNS,
    FLIGHT_ID,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)

__all__ = ["FIX_INTERVAL_NS", "GAP_S", "gap_flights", "make_fixes"]

logger = logging.getLogger(__name__)

FIX_INTERVAL_NS = 100_000_000  # 10 Hz
GAP_S = 30.0
GAP_SHARE = 0.04
MAX_CLIMB_M_S = 4.0
N_WAYPOINTS = 64
EPOCH = np.datetime64("2024-01-01T00:00:00", "ns")
YEAR_NS = 365 * 86_400 * 10**9

INSPECTION, SURVEY, RECREATIONAL = 0, 1, 2
TRANSIT, ORBIT, HOVER = 0, 1, 2
# Probability of each leg type (transit, orbit, hover) by flight type.
_LEG_MIX = np.array([[0.55, 0.25, 0.20], [0.95, 0.0, 0.05], [0.60, 0.15, 0.25]])


def gap_flights(n_flights: int) -> int:
    """How many flights carry a 30-s recording gap (at least one when there are two)."""
    return 0 if n_flights < 2 else max(1, round(GAP_SHARE * n_flights))


def _to_local(lon: np.ndarray, lat: np.ndarray, home: np.ndarray) -> np.ndarray:
    """East/north metres of (lon, lat) from each flight's home; ``home`` is (F, 2)."""
    cos_lat = np.cos(np.radians(home[:, 1]))[:, None]
    dx = (lon - home[:, :1]) * M_PER_DEG_LON_EQUATOR * cos_lat
    dy = (lat - home[:, 1:]) * M_PER_DEG_LAT
    return np.stack([dx, dy], axis=-1)


def _homes_and_waypoints(
    rng: np.random.Generator, layer: SiteLayer, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Home (F, 2) lon/lat and waypoints (F, N_WAYPOINTS, 2) in metres from home."""
    n = kind.size
    target = rng.integers(0, layer.skeleton.shape[0], n)
    skeleton = layer.skeleton[target]  # (F, 8, 2)
    start_vertex = rng.integers(0, skeleton.shape[1], n)
    anchor = skeleton[np.arange(n), start_vertex]
    town = rng.choice(layer.towns.shape[0], size=n, p=layer.town_weight)
    town_dist = 3_000.0 * np.sqrt(-2.0 * np.log1p(-rng.random(n)))
    anchor = np.where((kind == RECREATIONAL)[:, None], layer.towns[town], anchor)
    offset = np.where(kind == RECREATIONAL, town_dist, rng.uniform(20.0, 250.0, n))
    bearing = rng.uniform(0.0, 2.0 * np.pi, n)
    home = np.column_stack(
        metres_to_lonlat(
            anchor[:, 0], anchor[:, 1], offset * np.cos(bearing), offset * np.sin(bearing)
        )
    )
    k = np.arange(N_WAYPOINTS)
    # Inspection: walk the site's skeleton back and forth, off it by up to 30-250 m.
    period = 2 * (skeleton.shape[1] - 1)
    pingpong = np.abs((k + start_vertex[:, None]) % period - (skeleton.shape[1] - 1))
    pingpong = (skeleton.shape[1] - 1) - pingpong
    along = np.take_along_axis(skeleton, pingpong[:, :, None], axis=1)
    local = _to_local(along[..., 0], along[..., 1], home)
    reach = rng.uniform(30.0, 250.0, n)[:, None]
    r = reach * np.sqrt(rng.random((n, N_WAYPOINTS)))
    phi = rng.uniform(0.0, 2.0 * np.pi, (n, N_WAYPOINTS))
    inspection = local + np.stack([r * np.cos(phi), r * np.sin(phi)], axis=-1)
    # Survey: a lawnmower of rows `spacing` apart and `width` long, rotated.
    width = rng.uniform(150.0, 600.0, n)[:, None]
    spacing = rng.uniform(25.0, 70.0, n)[:, None]
    side = np.where(np.isin(k % 4, (1, 2)), 0.5, -0.5)[None, :]
    sx, sy = side * width, ((k + 1) // 2)[None, :] * spacing
    angle = rng.uniform(0.0, np.pi, n)[:, None]
    c, s = np.cos(angle), np.sin(angle)
    survey = np.stack([sx * c - sy * s, sx * s + sy * c], axis=-1)
    # Recreational: anywhere within 1.5 km of home.
    r = 1_500.0 * np.sqrt(rng.random((n, N_WAYPOINTS)))
    phi = rng.uniform(0.0, 2.0 * np.pi, (n, N_WAYPOINTS))
    recreational = np.stack([r * np.cos(phi), r * np.sin(phi)], axis=-1)
    waypoints = np.where(
        (kind == INSPECTION)[:, None, None],
        inspection,
        np.where((kind == SURVEY)[:, None, None], survey, recreational),
    )
    return home, waypoints


_LEG_KEYS = ("t0", "dur", "type", "p", "e", "c", "r", "a0", "sweep", "z0", "z1")


def _append(legs: dict[str, list[np.ndarray]], values: tuple[np.ndarray, ...]) -> None:
    """Append one leg's arrays (in ``_LEG_KEYS`` order) to the per-key lists."""
    for key, value in zip(_LEG_KEYS, values, strict=True):
        legs[key].append(np.array(value, copy=True))


def _legs(
    rng: np.random.Generator, kind: np.ndarray, waypoints: np.ndarray, duration_s: float
) -> dict[str, np.ndarray]:
    """Legs (F, K) until every flight lasts ``duration_s``: start time, duration, shape."""
    n = kind.size
    rows = np.arange(n)
    pos = np.zeros((n, 2))
    alt = np.zeros(n)
    clock = np.zeros(n)
    visited = np.zeros(n, dtype="int64")
    legs: dict[str, list[np.ndarray]] = {key: [] for key in _LEG_KEYS}
    # Leg 0: climb on the spot from the take-off point.
    zeros = np.zeros(n)
    z_climb = rng.uniform(25.0, 80.0, n)
    climb = z_climb / MAX_CLIMB_M_S + rng.uniform(0.0, 5.0, n)
    _append(
        legs, (clock, climb, np.full(n, HOVER), pos, pos, pos, zeros, zeros, zeros, alt, z_climb)
    )
    clock, alt = clock + climb, z_climb
    for _ in range(100_000):  # a few dozen legs; the bound only guards against a bug
        if clock.min() >= duration_s:
            break
        typ = (rng.random(n)[:, None] > np.cumsum(_LEG_MIX[kind], axis=1)).sum(axis=1)
        speed = np.where(kind == SURVEY, rng.uniform(5.0, 10.0, n), rng.uniform(5.0, 15.0, n))
        target = waypoints[rows, visited % N_WAYPOINTS]
        dist = np.hypot(*(target - pos).T)
        radius = rng.uniform(15.0, 120.0, n)
        a0 = rng.uniform(0.0, 2.0 * np.pi, n)
        centre = pos - radius[:, None] * np.column_stack([np.cos(a0), np.sin(a0)])
        sweep = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 2.5, n) * 2.0 * np.pi
        orbit_end = centre + radius[:, None] * np.column_stack(
            [np.cos(a0 + sweep), np.sin(a0 + sweep)]
        )
        new_alt = np.where(rng.random(n) < 0.5, rng.uniform(20.0, 120.0, n), alt)
        z1 = np.where(typ == TRANSIT, new_alt, alt)
        climb_s = np.abs(z1 - alt) / MAX_CLIMB_M_S
        dur = np.select(
            [typ == TRANSIT, typ == ORBIT],
            [np.maximum(np.maximum(dist / speed, climb_s), 0.5), np.abs(sweep) * radius / speed],
            rng.uniform(3.0, 45.0, n),
        )
        end = np.where((typ == TRANSIT)[:, None], target, pos)
        end = np.where((typ == ORBIT)[:, None], orbit_end, end)
        _append(legs, (clock, dur, typ, pos, end, centre, radius, a0, sweep, alt, z1))
        clock, pos, alt, visited = clock + dur, end, z1, visited + (typ == TRANSIT)
    else:  # pragma: no cover
        raise RuntimeError("flight legs did not reach the requested duration")
    return {key: np.stack(value, axis=1) for key, value in legs.items()}


def _sample(legs: dict[str, np.ndarray], t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position (F, N, 2) metres from home and height (F, N) at times ``t_s`` (F, N)."""
    n, k = legs["t0"].shape
    stride = legs["t0"].max() + t_s.max() + 1.0
    base = (np.arange(n) * stride)[:, None]
    flat = np.searchsorted((legs["t0"] + base).ravel(), (t_s + base).ravel(), side="right") - 1
    flat = flat.reshape(t_s.shape)

    def take(key: str) -> np.ndarray:
        value = legs[key]
        return value.reshape(n * k, *value.shape[2:])[flat]

    frac = np.clip((t_s - take("t0")) / take("dur"), 0.0, 1.0)
    start, end = take("p"), take("e")
    xy = start + (end - start) * frac[..., None]
    angle = take("a0") + take("sweep") * frac
    orbit_xy = take("c") + take("r")[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1)
    xy = np.where((take("type") == ORBIT)[..., None], orbit_xy, xy)
    z = take("z0") + (take("z1") - take("z0")) * frac
    return xy, z


def _gnss_noise(rng: np.random.Generator, t_s: np.ndarray) -> np.ndarray:
    """Position error (F, N, 2) in metres: a slow wander of about 0.5 m plus 5 cm jitter.

    White noise alone at 10 Hz would turn a hover into a 4 m/s random walk.
    """
    n = t_s.shape[0]
    period = rng.uniform(20.0, 90.0, (n, 1, 2))
    phase = rng.uniform(0.0, 2.0 * np.pi, (n, 1, 2))
    wander = 0.5 * np.sin(2.0 * np.pi * t_s[..., None] / period + phase)
    return wander + rng.normal(0.0, 0.05, (*t_s.shape, 2))


def _text(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """A text column ``values[codes]``, built by pyarrow without a Python object per row."""
    return pa.array(values.astype("str")).take(pa.array(codes)).to_pandas()


def make_fixes(
    rng: np.random.Generator, layer: SiteLayer, *, n_flights: int, fixes_per_flight: int
) -> gpd.GeoDataFrame:
    """Build ``n_flights`` flights of ``fixes_per_flight`` fixes each at 10 Hz.

    Parameters
    ----------
    rng
        The random generator; the same state gives the same fixes.
    layer
        The sites the inspection and survey flights start near.
    n_flights, fixes_per_flight
        Sizes; each flight lasts ``fixes_per_flight / 10`` seconds plus any gap.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns of ``schema.FIX_COLUMNS`` (EPSG:4326), sorted by flight and time.
    """
    kind = rng.choice(3, size=n_flights, p=[0.6, 0.2, 0.2])
    home, waypoints = _homes_and_waypoints(rng, layer, kind)
    step = np.arange(fixes_per_flight, dtype="int64") * FIX_INTERVAL_NS
    t_ns = np.broadcast_to(step, (n_flights, fixes_per_flight)).copy()
    n_gaps = gap_flights(n_flights)
    with_gap = rng.choice(n_flights, size=n_gaps, replace=False)
    gap_at = rng.integers(fixes_per_flight // 4, 3 * fixes_per_flight // 4 + 1, n_gaps)
    t_ns[with_gap] += np.where(step[None, :] >= step[gap_at][:, None], int(GAP_S * 1e9), 0)
    t_s = t_ns / 1e9
    legs = _legs(rng, kind, waypoints, float(t_s.max()) + 1.0)
    xy, z = _sample(legs, t_s)
    xy += _gnss_noise(rng, t_s)
    agl = np.maximum(z + rng.normal(0.0, 0.15, z.shape), 0.0)
    lon, lat = metres_to_lonlat(home[:, :1], home[:, 1:], xy[..., 0], xy[..., 1])
    ground_msl = rng.uniform(0.0, 2_000.0, n_flights)[:, None]
    start_ns = rng.integers(0, YEAR_NS // FIX_INTERVAL_NS, n_flights) * FIX_INTERVAL_NS
    times = EPOCH + (start_ns[:, None] + t_ns).astype("timedelta64[ns]")
    ids = np.char.add("F", np.char.zfill(np.arange(n_flights).astype("str"), 5))
    owner = np.repeat(np.arange(n_flights, dtype="int32"), fixes_per_flight)
    frame = gpd.GeoDataFrame(
        {
            FLIGHT_ID: _text(ids, owner),
            TIME_UTC: pd.Series(times.ravel()).dt.tz_localize("UTC").astype(TIME_DTYPE),
            ALT_AGL_M: agl.ravel(),
            ALT_REF: _text(np.array([ALT_REF_TAKEOFF]), np.zeros(owner.size, dtype="int32")),
            ALT_MSL_M: (ground_msl + agl).ravel(),
            SOURCE: _text(np.char.add(np.char.add("synthetic/", ids), ".csv"), owner),
        },
        geometry=shapely.points(lon.ravel(), lat.ravel()),
        crs=CRS_LONLAT,
    )[FIX_COLUMNS]
    logger.info("made %d flights x %d fixes (%d with a gap)", n_flights, fixes_per_flight, n_gaps)
    return frame
