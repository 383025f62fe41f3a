"""Sites made ready once for many exposures: checked, in EPSG:4326, with their zones' boxes.

:func:`geoexpose.expose` prepares its sites at every call. A caller that exposes the
same sites to many batches of fixes (:func:`geoexpose.expose_stream`, its Dask
engine, or a script looping over days of flights) prepares them once with
:func:`prepare_sites` and passes the :class:`PreparedSites` instead: the checks, the
catalog's standoffs, the geometry array, the lon/lat bounds and the boxes of the
zones are then made once, not per batch. A :class:`PreparedSites` pickles, so it
travels to Dask workers once.

>>> import geopandas as gpd, shapely
>>> sites = gpd.GeoDataFrame(
...     {"site_id": ["W1"], "family": ["water"], "standoff_m": [100.0]},
...     geometry=[shapely.Point(8.0, 50.0)], crs="EPSG:4326")
>>> prepared = prepare_sites(sites)
>>> len(prepared), prepared.standoff_m.tolist()
(1, [100.0])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose._frames import without_attrs
from geoexpose.exposure._validate import validate_sites
from geoexpose.projection import M_PER_DEG
from geoexpose.schema import SITE_ID, STANDOFF_M

__all__ = ["PreparedSites", "prepare_sites", "zone_boxes"]


def zone_boxes(bounds: np.ndarray, standoff_m: np.ndarray) -> np.ndarray:
    """Lon/lat boxes (polygons) that hold each site's zone, generous by a few per cent.

    ``bounds`` are the sites' ``shapely.bounds`` in EPSG:4326, one row per site.
    """
    x0, y0, x1, y1 = bounds.T
    lat = np.clip(np.maximum(np.abs(y0), np.abs(y1)), 0.0, 89.0)
    dlat = 1.05 * standoff_m / M_PER_DEG + 1e-6
    dlon = np.minimum(dlat / np.cos(np.radians(np.minimum(lat + dlat, 89.9))), 360.0)
    return shapely.box(x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)


@dataclass(frozen=True, eq=False)
class PreparedSites:
    """Sites checked and made ready for :func:`geoexpose.expose`; see :func:`prepare_sites`.

    Attributes
    ----------
    sites : GeoDataFrame
        The sites in EPSG:4326 with ``standoff_m`` filled, without ``attrs``.
    geometry : array of shapely geometries
        Their geometries, EPSG:4326.
    standoff_m : float array
        The width of each site's zone, metres.
    site_id : array
        Their ids.
    bounds : (n, 4) float array
        ``(west, south, east, north)`` of each geometry, degrees.
    layers : list of dict
        What the readers recorded of the site layers (``sites.attrs``), for summaries.
    """

    sites: gpd.GeoDataFrame
    geometry: np.ndarray
    standoff_m: np.ndarray
    site_id: np.ndarray
    bounds: np.ndarray
    layers: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.site_id)

    @functools.cached_property
    def zone_boxes(self) -> np.ndarray:
        """Lon/lat box polygons that hold each zone (made when first asked for)."""
        return zone_boxes(self.bounds, self.standoff_m)


def prepare_sites(sites: gpd.GeoDataFrame | PreparedSites) -> PreparedSites:
    """Check sites once and make them ready for many exposures.

    Parameters
    ----------
    sites
        Sites in the schema of :func:`geoexpose.read_sites` (``site_id``, ``family``,
        ``kind``, ``standoff_m``, geometry in any CRS). A missing ``standoff_m`` takes
        the catalog default of the site's family and kind. Prepared sites are
        returned as they are.

    Returns
    -------
    PreparedSites
        The sites in EPSG:4326 with what every exposure of them needs.

    Raises
    ------
    InputError
        Naming every fault of the sites at once (missing columns, ids used twice,
        empty geometries, missing or negative standoffs, no CRS).
    """
    if isinstance(sites, PreparedSites):
        return sites
    layers = list(getattr(sites, "attrs", {}).get("geoexpose", {}).get("layers", []))
    checked = validate_sites(without_attrs(sites))
    geometry = checked.geometry.to_numpy()
    return PreparedSites(
        sites=checked,
        geometry=geometry,
        standoff_m=pd.to_numeric(checked[STANDOFF_M]).to_numpy("float64"),
        site_id=checked[SITE_ID].to_numpy(),
        bounds=shapely.bounds(geometry),
        layers=layers,
    )
