"""The demo town of Brenmoor: where it is, its plan in metres, its sites and its terrain.

The town is placed at 52.0 N, 35.0 W, in the open North Atlantic where no town exists.
Its plan is drawn in metres east and north of the town centre in geoexpose's metric
band (:mod:`geoexpose.projection`) and moved to EPSG:4326 for writing.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.projection import band_of_lon, from_band, lonlat_to_band
from geoexpose.schema import CRS_LONLAT, FAMILY, GEOMETRY, KIND, NAME, OPERATOR, SITE_ID

__all__ = ["SUBSTATION", "ground_m", "rail_north", "to_lonlat_geoms", "town_sites"]

_TOWN_LON, _TOWN_LAT = -35.0, 52.0  # open North Atlantic: no real town there

# The town's plan, in metres east and north of its centre.
_RAIL = np.array(
    [(-2200.0, 660.0), (-1200.0, 560.0), (-500.0, 470.0), (100.0, 430.0), (1400.0, 600.0)]
)
SUBSTATION = (0.0, 0.0)
_DEPOT = (760.0, -150.0, 1160.0, 150.0)  # 400 x 300 m, 720 m east of the substation


def rail_north(east: float) -> float:
    """Return how far north of the town centre the rail line runs at ``east`` (m)."""
    return float(np.interp(east, _RAIL[:, 0], _RAIL[:, 1]))


def town_sites() -> gpd.GeoDataFrame:
    """Build the town's sites in town metres; return them in EPSG:4326."""
    yard_axis = shapely.LineString([(e, rail_north(e)) for e in (-1150.0, -550.0)])
    rows = [
        (
            "water",
            "water_works",
            "Brenmoor Water Works",
            "Brenmoor Water Board",
            shapely.Polygon([(-950, -500), (-750, -515), (-735, -365), (-890, -350), (-965, -420)]),
        ),
        (
            "water",
            "water_tower",
            "Brenmoor Hill Water Tower",
            "Brenmoor Water Board",
            shapely.Point(-560, -230),
        ),
        (
            "rail",
            "yard",
            "Brenmoor Rail Yard",
            "Brenmoor Rail",
            shapely.buffer(yard_axis, 40.0, cap_style="flat"),
        ),
        ("rail", "line", "Brenmoor Branch Line", "Brenmoor Rail", shapely.LineString(_RAIL)),
        (
            "power",
            "substation",
            "Brenmoor Substation",
            "Brenmoor Grid",
            shapely.box(-40, -30, 40, 30),
        ),
        (
            "power",
            "transmission_line",
            "Brenmoor West 110 kV Line",
            "Brenmoor Grid",
            shapely.LineString([(-40, 5), (-600, 160), (-1400, 250), (-2400, 280)]),
        ),
        (
            "military",
            "depot",
            "Brenmoor Depot",
            "Defence Estates (synthetic)",
            shapely.box(*_DEPOT),
        ),
    ]
    table = pd.DataFrame(rows, columns=[FAMILY, KIND, NAME, OPERATOR, GEOMETRY])
    table.insert(0, SITE_ID, "brenmoor-" + table[KIND].str.replace("_", "-"))
    table[GEOMETRY] = to_lonlat_geoms(table[GEOMETRY].to_numpy())
    return gpd.GeoDataFrame(table, geometry=GEOMETRY, crs=CRS_LONLAT)


def _town_band() -> tuple[int, float, float]:
    band = int(band_of_lon(_TOWN_LON))
    x0, y0 = lonlat_to_band(np.array([_TOWN_LON]), np.array([_TOWN_LAT]), band)
    return band, float(x0[0]), float(y0[0])


def to_lonlat_geoms(geoms: np.ndarray) -> np.ndarray:
    """Move geometries in town metres to longitude and latitude (EPSG:4326)."""
    band, x0, y0 = _town_band()
    return from_band(shapely.transform(geoms, lambda xy: xy + np.array([x0, y0])), band)


def ground_m(east: np.ndarray, north: np.ndarray) -> np.ndarray:
    """Return the synthetic terrain height (m above sea level): a slope with low hills."""
    return 14.0 + 0.004 * east - 0.003 * north + 1.5 * np.sin(east / 210) * np.cos(north / 170)
