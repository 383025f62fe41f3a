"""Sites: site layers read into one schema, and the layer catalog behind their defaults.

:func:`read_sites` reads any site layer (vector files, GeoParquet, CSV with lon/lat,
spreadsheets of the US registries, OpenStreetMap extracts) into the columns of the
site schema; :func:`read_registry` and :func:`read_osm` are its front doors for a
registry table and an OpenStreetMap extract, and :func:`extract_sites` writes the
sites of an extract to a GeoPackage. The catalog (``layers/catalog.toml``) gives the
families, kinds, aliases and default standoffs.
"""

from geoexpose.sites._osm_tags import load_osm_tags
from geoexpose.sites.catalog import (
    KIND_UNSPECIFIED,
    MAX_STANDOFF_M,
    FamilyDef,
    KindDef,
    default_standoff,
    family_color,
    load_catalog,
    normalize_label,
    read_catalog,
    resolve_family,
    resolve_kind,
)
from geoexpose.sites.osm import osm_table, parse_bbox
from geoexpose.sites.osm_sites import extract_sites, read_osm
from geoexpose.sites.read import read_registry, read_sites
from geoexpose.sites.registries import RegistryEntry, load_registries

__all__ = [
    "KIND_UNSPECIFIED",
    "MAX_STANDOFF_M",
    "FamilyDef",
    "KindDef",
    "RegistryEntry",
    "default_standoff",
    "extract_sites",
    "family_color",
    "load_catalog",
    "load_osm_tags",
    "load_registries",
    "normalize_label",
    "osm_table",
    "parse_bbox",
    "read_catalog",
    "read_osm",
    "read_registry",
    "read_sites",
    "resolve_family",
    "resolve_kind",
]
