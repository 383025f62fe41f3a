"""How many points per image edge a footprint on a DEM gets with ``densify=None``.

The rule (geoexpose.imagery.dem): 16 per edge, doubled until neighbouring vertices lie
within two DEM cells of each other over level ground at the camera's height, at most 128.
Worked by hand for a nadir 4000 x 3000 px pinhole (focal 2000 px) 100 m above a level
DEM: the footprint is 200 m x 150 m, so 16 points per edge put vertices 12.5 m apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine
from pyproj import Geod, Transformer

from geoexpose.imagery.camera import Camera
from geoexpose.imagery.dem import footprints_on_dem

LON, LAT = 15.0, 50.0  # on the central meridian of UTM 33
UTM = "EPSG:32633"
CAM = Camera(4000, 3000, 2000.0, 2000.0, 1500.0)


def _level_dem(path: Path, cell_m: float, height: float = 50.0) -> Path:
    x0, y0 = Transformer.from_crs("EPSG:4326", UTM, always_xy=True).transform(LON, LAT)
    n = int(np.ceil(600 / cell_m))
    transform = Affine(cell_m, 0, x0 - n * cell_m / 2, 0, -cell_m, y0 + n * cell_m / 2)
    with rasterio.open(path, "w", driver="GTiff", width=n, height=n, count=1,
                       dtype="float32", crs=UTM, transform=transform) as ds:  # fmt: skip
        ds.write(np.full((1, n, n), height, dtype="float32"))
    return path


@pytest.mark.parametrize(
    ("cell_m", "per_edge"),
    [
        (30.0, 16),  # 12.5 m apart is under 60 m
        (2.0, 64),  # 12.5 / 4 = 3.1: two doublings
        (0.25, 128),  # 12.5 / 0.5 = 25: capped
    ],
)
def test_points_per_edge_follow_the_dem_cell(tmp_path: Path, cell_m: float, per_edge: int):
    dem = _level_dem(tmp_path / "level.tif", cell_m)
    polys, _, flags = footprints_on_dem([LON], [LAT], [150.0], [0.0], [-90.0], [0.0], CAM, dem,
                                        densify=None)  # fmt: skip
    assert flags[0] == ""
    ring = shapely.get_coordinates(polys[0])[:-1]
    assert len(ring) == 4 * per_edge
    # the vertices are the image border's, evenly spaced: 200 / per_edge m along the top
    geod = Geod(ellps="WGS84")
    step = geod.inv(ring[0, 0], ring[0, 1], ring[1, 0], ring[1, 1])[2]
    assert step == pytest.approx(200.0 / per_edge, rel=1e-3)
    # an explicit densify is kept as given
    fixed, _, _ = footprints_on_dem([LON], [LAT], [150.0], [0.0], [-90.0], [0.0], CAM, dem,
                                    densify=16)  # fmt: skip
    assert len(shapely.get_coordinates(fixed[0])) == 4 * 16 + 1
