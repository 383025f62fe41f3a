"""Workloads and an exact comparison for the streamed and Dask engines' tests."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geoexpose as gx
from benchmarks._flights import make_fixes
from benchmarks._sites import make_sites
from geoexpose.imagery.captures import TRIGGER_CAMERA, captures_from_poses

TABLES = ("sites", "pairs", "footprints", "captures", "capture_sites")
RTOL = 1e-9
GEOMETRY_TOL_DEG = 1e-7  # about 1 cm


def demo_inputs(folder: Path):
    """The demo's sites, fixes (GeoDataFrame) and photos (captures)."""
    inputs = gx.make_demo_inputs(folder)
    sites = gx.read_sites(inputs.sites)
    fixes = gx.read_tracks(list(inputs.tracks))
    captures = gx.read_captures(list(inputs.photos))
    return inputs, sites, fixes, captures


def generated(seed: int = 11, n_sites: int = 2_000, flights: int = 16, per_flight: int = 1_500):
    """A seeded national workload: sites, fixes (lon/lat form) and photos along the flights.

    Every 40th fix of each flight takes a photo straight down (no flight id, so they are
    matched by time); a few photos carry their flight id, and three were taken a day
    after every flight (no flight matches them).
    """
    rng = np.random.default_rng(seed)
    layer = make_sites(rng, n_sites)
    fixes = make_fixes(rng, layer, n_flights=flights, fixes_per_flight=per_flight)
    xy = shapely.get_coordinates(fixes.geometry.array)
    plain = pd.DataFrame(fixes.drop(columns="geometry"))
    plain["lon"], plain["lat"] = xy[:, 0], xy[:, 1]
    shot = plain.iloc[::40].reset_index(drop=True)
    n = len(shot)
    late = shot["time_utc"].max() + pd.Timedelta(days=1)
    times = shot["time_utc"].copy()
    times.iloc[-3:] = late + pd.to_timedelta(np.arange(3), unit="s")
    flight = pd.Series([None] * n, dtype=object)
    flight.iloc[:5] = shot["flight_id"].iloc[:5].astype(str).to_numpy()
    poses = pd.DataFrame(
        {
            "capture_id": [f"gen/IMG_{i:05d}.JPG" for i in range(n)],
            "path": [f"gen/IMG_{i:05d}.JPG" for i in range(n)],
            "kind": "photo",
            "time_utc": times.astype("datetime64[ns, UTC]").to_numpy(),
            "flight_id": flight,
            "cam_lon": shot["lon"].to_numpy(),
            "cam_lat": shot["lat"].to_numpy(),
            "alt_agl_m": np.maximum(shot["alt_agl_m"].to_numpy(), 5.0),
            "yaw_deg": rng.uniform(0, 360, n),
            "pitch_deg": rng.uniform(-90, -50, n),
            "roll_deg": 0.0,
            "flags": "",
            "alt_ref": "takeoff",
        }
    )
    poses["time_utc"] = pd.to_datetime(poses["time_utc"], utc=True)
    captures = captures_from_poses(poses, TRIGGER_CAMERA)
    return layer.frame, plain, captures


def _same_numbers(a: pd.Series, b: pd.Series, where: str) -> None:
    x = a.to_numpy("float64", na_value=np.nan)
    y = b.to_numpy("float64", na_value=np.nan)
    ok = np.isclose(x, y, rtol=RTOL, atol=1e-12, equal_nan=True)
    assert ok.all(), f"{where}: {x[~ok][:3]} != {y[~ok][:3]}"


def assert_same_result(expected, got) -> None:
    """The same rows in the same order; numbers within 1e-9 relative; same geometries."""
    for name in TABLES:
        a = pd.DataFrame(getattr(expected, name)).reset_index(drop=True)
        b = pd.DataFrame(getattr(got, name)).reset_index(drop=True)
        assert list(a.columns) == list(b.columns), name
        assert len(a) == len(b), f"{name}: {len(a)} rows != {len(b)}"
        for col in a.columns:
            where = f"{name}.{col}"
            if isinstance(a[col].dtype, gpd.array.GeometryDtype):
                # unions of the same pieces in another order: within a centimetre
                ga, gb = a[col].to_numpy(), b[col].to_numpy()
                gap = shapely.hausdorff_distance(ga, gb)
                # a site shown only coarser than max_gsd_cm: an empty imaged part in both
                gap = np.where(shapely.is_empty(ga) & shapely.is_empty(gb), 0.0, gap)
                assert (gap <= GEOMETRY_TOL_DEG).all(), f"{where}: {gap.max()} degrees"
            elif pd.api.types.is_float_dtype(a[col]) or pd.api.types.is_integer_dtype(a[col]):
                _same_numbers(a[col], b[col], where)
            elif isinstance(a[col].dtype, pd.DatetimeTZDtype):
                assert a[col].equals(b[col]), where
            else:
                x = a[col].astype(object).where(a[col].notna(), None).tolist()
                y = b[col].astype(object).where(b[col].notna(), None).tolist()
                assert x == y, where
