"""The shipped catalog's tables beyond its families: ``[osm]`` and ``[registries]``.

:mod:`geoexpose.sites.catalog` reads the families and kinds; the OpenStreetMap rules
(:mod:`geoexpose.sites._osm_tags`) and the registry entries (:mod:`geoexpose.sites.registries`)
read their own tables of the same file through :func:`catalog_table`. The whole file is
validated once, by :func:`geoexpose.sites.catalog.load_catalog`, before any table is used.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from typing import Any

from geoexpose.sites.catalog import CATALOG_FILE, layers_dir, load_catalog

__all__ = ["catalog_table"]


def catalog_table(name: str) -> Mapping[str, Any]:
    """Return the top-level table ``name`` of the shipped catalog (empty if absent).

    >>> catalog_table("osm")["license"]
    'ODbL-1.0'
    """
    return _tables().get(name, {})


@functools.cache
def _tables() -> Mapping[str, Any]:
    load_catalog()  # validates the file, or raises InputError naming it and its keys
    with (layers_dir() / CATALOG_FILE).open("rb") as stream:
        return tomllib.load(stream)
