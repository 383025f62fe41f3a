"""Shared fixtures and builders for the geoexpose tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _realdata_root() -> Path | None:
    value = os.environ.get("GEOEXPOSE_REALDATA")
    if not value:
        return None
    return Path(value)


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real public files named by GEOEXPOSE_REALDATA.

    Tests that use it skip where the variable is unset, and fail under CI=true:
    there the real files must be read.
    """
    root = _realdata_root()
    if root is None or not root.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("GEOEXPOSE_REALDATA must name the real-data folder under CI=true")
        pytest.skip("GEOEXPOSE_REALDATA is not set")
    return root


T0 = "2026-06-12T10:00:00Z"


def make_track(lon, lat, *, dt_s=0.1, flight="f1", alt_agl_m=50.0, t0=T0, times_s=None):
    """Fixes (EPSG:4326) of one flight from coordinate arrays, one fix every ``dt_s``."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    if times_s is None:
        times_s = np.arange(len(lon)) * dt_s
    time = pd.Timestamp(t0) + pd.to_timedelta(np.asarray(times_s, dtype=float), unit="s")
    return gpd.GeoDataFrame(
        {
            "flight_id": flight,
            "time_utc": pd.Series(time).astype("datetime64[ns, UTC]"),
            "alt_agl_m": np.broadcast_to(np.asarray(alt_agl_m, dtype=float), lon.shape).copy(),
            "alt_ref": "takeoff",
            "alt_msl_m": np.nan,
            "source": "test",
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )


def make_sites(geoms, *, standoff_m=100.0, family="power", kind="substation"):
    """Sites (EPSG:4326) ``s0``, ``s1``, ... from shapely geometries."""
    import geopandas as gpd
    import numpy as np

    n = len(geoms)
    return gpd.GeoDataFrame(
        {
            "site_id": [f"s{i}" for i in range(n)],
            "family": family,
            "kind": kind,
            "name": [f"site {i}" for i in range(n)],
            "standoff_m": np.broadcast_to(np.asarray(standoff_m, dtype=float), (n,)).copy(),
        },
        geometry=list(geoms),
        crs="EPSG:4326",
    )


def mutations(data: bytes, seed: int, count: int, *, line_drops: bool = False):
    """Seeded damaged copies of a file's bytes: truncations and a few flipped bytes.

    With ``line_drops``, a third of the copies instead lose one to three whole lines.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    for _ in range(count):
        if line_drops and rng.random() < 1 / 3:
            lines = data.splitlines(keepends=True)
            gone = set(rng.integers(0, len(lines), size=int(rng.integers(1, 4))).tolist())
            yield b"".join(line for i, line in enumerate(lines) if i not in gone)
        elif rng.random() < 0.5:
            yield data[: int(rng.integers(0, len(data)))]
        else:
            blob = bytearray(data)
            for at in rng.integers(0, len(blob), size=int(rng.integers(1, 6))):
                blob[at] = int(rng.integers(0, 256))
            yield bytes(blob)
