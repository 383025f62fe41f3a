"""OpenStreetMap sites in the site schema: read (:func:`read_osm`) or written to a GeoPackage.

Both read the file with :func:`geoexpose.sites.osm.osm_table` and give the rows to
:func:`geoexpose.sites.read.read_sites`, which sets the standoffs; the sites keep their
OpenStreetMap element type and id, and the licence and attribution of the data.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd

from geoexpose._atomic import atomic_path
from geoexpose.errors import OutputExistsError
from geoexpose.schema import OSM_ID, OSM_TYPE, SITE_ID
from geoexpose.sites._osm_tags import load_osm_tags
from geoexpose.sites.osm import osm_table
from geoexpose.sites.read import read_sites

__all__ = ["OSM_COLUMNS", "SITES_LAYER", "extract_sites", "read_osm"]

logger = logging.getLogger(__name__)

OSM_COLUMNS = [OSM_TYPE, OSM_ID]
"""Columns of OSM sites after the site columns: the element type and id."""
SITES_LAYER = "sites"
"""Layer name of the GeoPackage that :func:`extract_sites` writes."""


def read_osm(
    path: str | os.PathLike[str],
    *,
    families: Iterable[str] | None = None,
    bbox: Sequence[float] | None = None,
    standoff: Mapping[str, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read the sites of an OpenStreetMap file into the site schema.

    The columns of :func:`geoexpose.read_sites` (with ``standoff_m`` from the
    catalog, or ``standoff`` by family or kind), then ``osm_type`` and ``osm_id``.
    See :func:`~geoexpose.sites.osm.osm_table` for the other parameters.
    """
    table = osm_table(path, families=families, bbox=bbox)
    sites = read_sites(table, standoff=standoff)
    by_id = table.set_index(SITE_ID)
    sites[OSM_TYPE] = sites[SITE_ID].map(by_id[OSM_TYPE]).astype("str")
    sites[OSM_ID] = sites[SITE_ID].map(by_id[OSM_ID]).astype("int64")
    sites.attrs["geoexpose"]["layers"][0]["path"] = os.fspath(path)
    tags = load_osm_tags()
    sites.attrs["license"] = tags.license
    sites.attrs["attribution"] = tags.attribution
    return sites


def extract_sites(
    path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    families: Iterable[str] | None = None,
    bbox: Sequence[float] | None = None,
    standoff: Mapping[str, float] | None = None,
    overwrite: bool = False,
) -> gpd.GeoDataFrame:
    """Write the sites of an OpenStreetMap file to a GeoPackage (layer ``sites``).

    The layer carries the OpenStreetMap licence and attribution (ODbL 1.0) in its
    description and its GeoPackage metadata (``attribution``, ``license``, ``source``).
    The file is written under a temporary name and renamed when complete.

    Parameters
    ----------
    path, families, bbox, standoff
        As for :func:`read_osm`.
    out
        The GeoPackage to write.
    overwrite
        Replace an existing ``out``; without it an existing file is an error.

    Returns
    -------
    geopandas.GeoDataFrame
        The sites written.
    """
    import pyogrio

    target = Path(out)
    if target.exists() and not overwrite:
        raise OutputExistsError(f"{target}: exists; pass --overwrite to replace it")
    sites = read_osm(path, families=families, bbox=bbox, standoff=standoff)
    tags = load_osm_tags()
    metadata = {
        "attribution": tags.attribution,
        "license": tags.license,
        "source": Path(path).name,
        "generator": "geoexpose layers extract",
    }
    description = f"Sites from OpenStreetMap data. {tags.attribution}"
    with atomic_path(target) as tmp:
        pyogrio.write_dataframe(
            sites,
            tmp,
            layer=SITES_LAYER,
            driver="GPKG",
            layer_metadata=metadata,
            layer_options={"DESCRIPTION": description},
        )
    logger.info("%s: %d sites written", target, len(sites))
    return sites
