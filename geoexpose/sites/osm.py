"""Read the sites of OpenStreetMap data (``.osm.pbf``, ``.osm``, ...) with pyosmium.

:func:`osm_table` gives the sites of a file before standoffs are set;
:mod:`geoexpose.sites.osm_sites` puts them into the site schema. The file is read once
as a stream with pyosmium (libosmium) and matched against the tag rules of the layer
catalog (``[[osm.rules]]`` in ``layers/catalog.toml``): every node, way or multipolygon
relation becomes at most one site, of the first rule it matches.

Geometry follows OpenStreetMap's area rules:

- a node is a point;
- a way is a line, or a polygon when it is closed (its first and last node are the same
  node, four node references at least), its rule says closed ways are areas, and it is
  not tagged ``area=no``;
- a multipolygon (or boundary) relation is a polygon, assembled by libosmium's area
  handling; one that cannot be assembled (members missing from the extract) is
  reported and skipped.

A way whose nodes are partly missing from the extract (clipped at its edge) keeps the
nodes present, in order; with fewer than two it is reported and skipped. Consecutive
repeated positions are removed; a closed way with fewer than three distinct positions
stays a line. Invalid polygons are repaired with :func:`shapely.make_valid`.

Each site keeps its OpenStreetMap type and id: ``site_id`` is ``osm:node/123``,
``osm:way/123`` or ``osm:relation/123``, with columns ``osm_type`` and ``osm_id``.

Memory: the node positions of the whole file are held for building ways (libosmium's
``flex_mem`` index, about 8 to 16 bytes per node); everything else is streamed, and only
the sites are kept.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    CAPACITY_MW,
    CRS_LONLAT,
    FAMILY,
    GEOMETRY,
    KIND,
    NAME,
    OPERATOR,
    OSM_ID,
    OSM_TYPE,
    SITE_ID,
    SOURCE,
    VOLTAGE_KV,
)
from geoexpose.sites._osm_tags import (
    OsmRule,
    OsmTags,
    RuleIndex,
    load_osm_tags,
    parse_capacity_mw,
    parse_voltage_kv,
)
from geoexpose.sites.catalog import resolve_family

__all__ = ["OSM_SUFFIXES", "osm_table", "parse_bbox"]

logger = logging.getLogger(__name__)

OSM_SUFFIXES = (".osm", ".pbf", ".osm.gz", ".osm.bz2", ".o5m")
"""Endings of the names of OpenStreetMap files (compared in lower case)."""

_MULTIPOLYGON_TYPES = ("multipolygon", "boundary")  # relations libosmium assembles
_POLYGON_TYPE_IDS = (3, 6)  # shapely.get_type_id of Polygon and MultiPolygon
_MAX_NAMED = 5


@dataclass
class _Collected:
    """Sites found so far, one entry per site in every list."""

    rule: list[int] = field(default_factory=list)
    osm_type: list[str] = field(default_factory=list)
    osm_id: list[int] = field(default_factory=list)
    wkb: list[Any] = field(default_factory=list)
    polygon: list[bool] = field(default_factory=list)
    values: dict[str, list[str | None]] = field(default_factory=dict)
    relations_wanted: set[int] = field(default_factory=set)
    relations_built: set[int] = field(default_factory=set)
    ways_unplaced: list[int] = field(default_factory=list)

    def add(
        self,
        number: int,
        osm_type: str,
        osm_id: int,
        wkb: Any,
        polygon: bool,
        tags: Mapping[str, str],
    ) -> None:
        self.rule.append(number)
        self.osm_type.append(osm_type)
        self.osm_id.append(osm_id)
        self.wkb.append(wkb)
        self.polygon.append(polygon)
        for key, column in self.values.items():
            column.append(tags.get(key))


def osm_table(
    path: str | os.PathLike[str],
    *,
    families: Iterable[str] | None = None,
    bbox: Sequence[float] | None = None,
    label: str | None = None,
) -> gpd.GeoDataFrame:
    """Read the sites of an OpenStreetMap file, before standoffs are set.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm``, ``.osm.gz`` or ``.osm.bz2`` file (anything
        libosmium reads). Never modified.
    families
        Read only the rules of these families (names or aliases); all by default.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)``: keep only sites that intersect it.
    label
        How messages name the file (default: the path as given).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``site_id``, ``family``, ``kind``, ``name``, ``operator``, ``source``
        (``label``), ``capacity_mw``, ``voltage_kv``, ``osm_type``, ``osm_id`` and the
        geometry, EPSG:4326; nodes, then ways, then relations, each in file order.

    Raises
    ------
    InputError
        If the file is missing or libosmium cannot read it.

    Warns
    -----
    InputWarning
        Ways without two located nodes and multipolygon relations that cannot be
        assembled are skipped and named.
    """
    label = os.fspath(path) if label is None else label
    if not Path(path).is_file():
        raise InputError(f"{label}: no such file")
    tags = load_osm_tags()
    if families is not None:
        families = [families] if isinstance(families, str) else list(families)
    rules = tags.rules_for(families)
    known = {rule.family for rule in tags.rules}
    unknown = [f for f in families or [] if resolve_family(f) not in known]
    if unknown:
        raise UsageError(
            f"no OpenStreetMap rules for the family {unknown[0]!r}; "
            f"the families are: {', '.join(sorted(known))}"
        )
    box = None if bbox is None else shapely.box(*parse_bbox(bbox))
    collected = _collect(Path(path), rules, tags, label)
    return _table(collected, rules, tags, label, box)


def parse_bbox(bbox: Sequence[float] | str) -> tuple[float, float, float, float]:
    """Check a bounding box ``min_lon, min_lat, max_lon, max_lat`` (a sequence or text).

    >>> parse_bbox("7.40,43.72,7.45,43.75")
    (7.4, 43.72, 7.45, 43.75)
    """
    try:
        parts = bbox.split(",") if isinstance(bbox, str) else list(bbox)
        values = tuple(float(value) for value in parts)
    except (TypeError, ValueError):
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)):
        raise UsageError(f"bbox {bbox!r}: expected four numbers min_lon,min_lat,max_lon,max_lat")
    west, south, east, north = values
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise UsageError(
            f"bbox {bbox!r}: expected -180 <= min_lon < max_lon <= 180 and "
            "-90 <= min_lat < max_lat <= 90"
        )
    return west, south, east, north


def _collect(path: Path, rules: Sequence[OsmRule], tags: OsmTags, label: str) -> _Collected:
    """One streaming pass (two with relations) over the file, keeping the sites."""
    import osmium
    from osmium.filter import KeyFilter

    index = RuleIndex(rules)
    keys = index.keys
    processor = osmium.FileProcessor(str(path)).with_locations()
    if any("relation" in rule.elements for rule in rules):
        processor.with_areas(KeyFilter(*keys))  # relation candidates: only those tagged
    processor.with_filter(KeyFilter(*keys))
    factory = osmium.geom.WKBFactory()
    collected = _Collected(values={key: [] for key in dict.fromkeys(tags.read_tags())})
    try:
        for obj in processor:
            _visit(obj, index, factory, collected)
    except (RuntimeError, OSError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise InputError(f"{label}: cannot read as OpenStreetMap data: {reason}") from error
    _report_skipped(collected, label)
    return collected


def _visit(obj: Any, index: RuleIndex, factory: Any, collected: _Collected) -> None:
    import osmium

    tags = obj.tags  # a TagList: .get() in C++, no dict built per object
    if obj.is_node():
        found = index.classify(tags, "node")
        if found is not None and obj.location.valid():
            collected.add(found[0], "node", obj.id, factory.create_point(obj), False, tags)
    elif obj.is_way():
        found = index.classify(tags, "way")
        if found is None:
            return
        try:
            wkb = factory.create_linestring(obj)
        except (osmium.InvalidLocationError, RuntimeError):
            wkb = _partial_line(obj)  # nodes missing from a clipped extract
        if wkb is None:
            collected.ways_unplaced.append(obj.id)
            return
        closed = obj.is_closed() and len(obj.nodes) >= 4
        polygon = closed and found[1].area and tags.get("area") != "no"
        collected.add(found[0], "way", obj.id, wkb, polygon, tags)
    elif obj.is_area():
        if obj.from_way():
            return  # closed ways are read as ways, by the area rules above
        found = index.classify(tags, "relation")
        if found is None:
            return
        try:
            wkb = factory.create_multipolygon(obj)
        except RuntimeError:
            return  # reported with the relations that could not be assembled
        collected.relations_built.add(obj.orig_id())
        collected.add(found[0], "relation", obj.orig_id(), wkb, True, tags)
    elif (
        obj.is_relation()
        and tags.get("type") in _MULTIPOLYGON_TYPES
        and index.classify(tags, "relation")
    ):
        collected.relations_wanted.add(obj.id)


def _partial_line(way: Any) -> str | None:
    """WKB (hex) of a way from its located nodes; None with fewer than two positions."""
    located = [(node.lon, node.lat) for node in way.nodes if node.location.valid()]
    coords = np.asarray(located, dtype="float64").reshape(-1, 2)
    if len(coords) > 1:
        repeated = np.all(coords[1:] == coords[:-1], axis=1)
        coords = coords[np.r_[True, ~repeated]]
    if len(coords) < 2:
        return None
    return str(shapely.to_wkb(shapely.linestrings(coords), hex=True))


def _report_skipped(collected: _Collected, label: str) -> None:
    failed = sorted(collected.relations_wanted - collected.relations_built)
    for ids, element, what in (
        (collected.ways_unplaced, "way", "way(s) with fewer than two nodes located in the file"),
        (failed, "relation", "multipolygon relation(s) that could not be assembled"),
    ):
        if ids:
            named = ", ".join(f"{element}/{i}" for i in ids[:_MAX_NAMED])
            more = f" and {len(ids) - _MAX_NAMED} more" if len(ids) > _MAX_NAMED else ""
            warnings.warn(
                f"{label}: skipped {len(ids)} {what}: {named}{more}", InputWarning, stacklevel=4
            )


def _table(
    collected: _Collected,
    rules: Sequence[OsmRule],
    tags: OsmTags,
    label: str,
    box: shapely.Polygon | None,
) -> gpd.GeoDataFrame:
    geometries = _geometries(collected)
    rule = np.asarray(collected.rule, dtype="int64")
    values = pd.DataFrame(collected.values, dtype="str", columns=list(collected.values))
    osm_type = pd.Series(collected.osm_type, dtype="str")
    osm_id = pd.Series(collected.osm_id, dtype="int64")
    table = pd.DataFrame(
        {
            SITE_ID: "osm:" + osm_type + "/" + osm_id.astype("str"),
            FAMILY: np.asarray([r.family for r in rules], dtype=object)[rule],
            KIND: np.asarray([r.kind for r in rules], dtype=object)[rule],
            NAME: _first_present(values, tags.name_tags),
            OPERATOR: _first_present(values, tags.operator_tags),
            SOURCE: label,
            CAPACITY_MW: parse_capacity_mw(_first_present(values, tags.capacity_tags)),
            VOLTAGE_KV: parse_voltage_kv(_first_present(values, tags.voltage_tags)),
            OSM_TYPE: osm_type,
            OSM_ID: osm_id,
        }
    )
    table = table.astype({FAMILY: "str", KIND: "str"})
    sites = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geometries), crs=CRS_LONLAT)
    sites = sites.rename_geometry(GEOMETRY) if sites.geometry.name != GEOMETRY else sites
    keep = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    if box is not None:
        keep &= shapely.intersects(geometries, box)
    order = {"node": 0, "way": 1, "relation": 2}
    sites = sites.loc[keep]
    sites = sites.iloc[np.argsort(sites[OSM_TYPE].map(order).to_numpy(), kind="stable")]
    logger.info("%s: %d OpenStreetMap sites", label, len(sites))
    return sites.reset_index(drop=True)


def _first_present(values: pd.DataFrame, keys: Sequence[str]) -> pd.Series:
    result = pd.Series(np.nan, index=values.index, dtype="str")
    for key in keys:
        text = values[key].str.strip()
        result = result.fillna(text.mask(text == ""))
    return result


def _geometries(collected: _Collected) -> np.ndarray:
    """Shapely geometries of the sites: points, lines, and polygons from closed ways."""
    geometries = shapely.from_wkb(np.asarray(collected.wkb, dtype=object))
    from_way = np.asarray(collected.polygon, dtype=bool) & (
        np.asarray(collected.osm_type, dtype=object) == "way"
    )
    rows = np.flatnonzero(from_way)
    if len(rows):
        coords, owner = shapely.get_coordinates(geometries[rows], return_index=True)
        counts = np.bincount(owner, minlength=len(rows))
        starts = np.cumsum(counts) - counts
        ends = starts + counts - 1
        repeated_end = np.all(coords[starts] == coords[ends], axis=1)
        ring = (counts - repeated_end) >= 3  # three distinct positions make a polygon
        take = ring[owner]
        renumber = np.cumsum(ring) - 1
        rings = shapely.linearrings(coords[take], indices=renumber[owner[take]])
        geometries[rows[ring]] = shapely.polygons(rings)
    polygonal = np.isin(shapely.get_type_id(geometries), _POLYGON_TYPE_IDS)
    invalid = np.flatnonzero(polygonal & ~shapely.is_valid(geometries))
    if len(invalid):
        logger.info("repairing %d invalid OpenStreetMap polygons", len(invalid))
        repaired = shapely.make_valid(geometries[invalid], method="structure", keep_collapsed=False)
        # a polygon without area (its nodes on one line) keeps its outline, as a line
        collapsed = shapely.is_empty(repaired)
        repaired[collapsed] = shapely.boundary(geometries[invalid[collapsed]])
        geometries[invalid] = repaired
    return geometries
