"""Synthetic national site layer: water, rail, power and military sites over the CONUS.

Sites cluster around a few hundred "towns" whose sizes follow a heavy-tailed law; a
share of every family (most of the military one) lies in open country. Each kind has
one shape (point, line, rectangle or irregular "blob" polygon), a size range and a
share drawn as a Multi* geometry. Everything is built with whole-array numpy and
shapely calls; the only loops run over the handful of shape groups.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.schema import (
    CRS_LONLAT,
    FAMILY,
    KIND,
    NAME,
    OPERATOR,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
)

__all__ = ["CONUS_OUTLINE", "KINDS", "Kind", "SiteLayer", "make_sites", "metres_to_lonlat"]

logger = logging.getLogger(__name__)

M_PER_DEG_LAT = 110_574.0
M_PER_DEG_LON_EQUATOR = 111_320.0
SKELETON_POINTS = 8  # vertices of a line site; anchors a flight's waypoints
SITE_SOURCE = "synthetic:benchmarks"

# A coarse outline of the conterminous United States (lon, lat), clockwise from Cape Flattery.
CONUS_OUTLINE = (
    (-124.7, 48.4), (-123.0, 49.0), (-95.2, 49.0), (-89.5, 48.0), (-84.5, 46.5),
    (-82.5, 45.3), (-82.4, 43.0), (-79.0, 43.3), (-76.0, 44.2), (-75.0, 45.0),
    (-71.5, 45.0), (-69.0, 47.4), (-67.0, 45.0), (-70.0, 43.7), (-70.5, 41.8),
    (-74.0, 40.5), (-75.5, 38.5), (-76.0, 36.9), (-75.5, 35.2), (-78.5, 33.8),
    (-81.0, 31.7), (-80.0, 26.8), (-80.5, 25.2), (-81.8, 26.1), (-82.8, 28.0),
    (-84.3, 30.0), (-88.0, 30.4), (-89.6, 29.2), (-94.0, 29.6), (-97.2, 26.0),
    (-99.5, 27.5), (-101.4, 29.8), (-104.5, 29.6), (-106.5, 31.8), (-108.2, 31.3),
    (-111.0, 31.3), (-114.8, 32.5), (-117.1, 32.5), (-118.5, 34.0), (-120.6, 34.6),
    (-122.4, 37.2), (-124.2, 40.4), (-124.0, 46.2),
)  # fmt: skip


@dataclass(frozen=True)
class Kind:
    """One kind of site: its family, shape, share of the layer, standoff and size.

    ``size_m`` is the length of a line, the long side of a rectangle, the diameter
    of a blob, or the spread of a MultiPoint's members, in metres.
    """

    family: str
    kind: str
    shape: str  # "point", "line", "rect" or "blob"
    weight: float
    standoff_m: float
    size_m: tuple[float, float] = (0.0, 0.0)
    multi: float = 0.0  # share drawn as MultiPoint / MultiLineString / MultiPolygon
    rural: float = 0.25  # share placed in open country, away from towns


KINDS = (
    Kind("power", "tower", "point", 20.0, 15.0, (20.0, 80.0), multi=0.05),
    Kind("power", "transmission_line", "line", 12.0, 25.0, (2_000.0, 15_000.0), 0.10, 0.3),
    Kind("power", "substation", "rect", 12.0, 50.0, (50.0, 300.0), multi=0.03),
    Kind("power", "plant", "blob", 1.5, 100.0, (300.0, 2_000.0), rural=0.3),
    Kind("power", "control_centre", "point", 0.5, 100.0),
    Kind("water", "water_works", "rect", 4.0, 75.0, (80.0, 400.0)),
    Kind("water", "wastewater_plant", "rect", 4.0, 50.0, (150.0, 600.0)),
    Kind("water", "reservoir", "blob", 4.0, 25.0, (300.0, 3_000.0), multi=0.05, rural=0.4),
    Kind("water", "dam", "line", 2.0, 100.0, (100.0, 1_000.0), rural=0.4),
    Kind("water", "water_tower", "point", 8.0, 25.0),
    Kind("water", "pumping_station", "point", 7.0, 25.0),
    Kind("rail", "line", "line", 10.0, 15.0, (2_000.0, 10_000.0), multi=0.10, rural=0.3),
    Kind("rail", "yard", "rect", 3.0, 25.0, (300.0, 2_500.0)),
    Kind("rail", "station", "point", 5.0, 25.0),
    Kind("rail", "bridge", "line", 3.0, 50.0, (50.0, 600.0)),
    Kind("military", "base", "blob", 0.6, 250.0, (1_000.0, 8_000.0), multi=0.2, rural=0.6),
    Kind("military", "range", "blob", 0.2, 250.0, (3_000.0, 20_000.0), rural=0.9),
    Kind("military", "airfield", "rect", 0.3, 250.0, (1_500.0, 4_000.0), rural=0.6),
    Kind("military", "depot", "rect", 0.3, 500.0, (300.0, 2_000.0), rural=0.7),
    Kind("military", "ammunition_depot", "rect", 0.2, 500.0, (200.0, 1_500.0), 0.2, 0.8),
)

_OPERATORS = {
    "power": ("Prairie Grid Co", "Coastal Power Authority", "Mountain Electric Coop"),
    "water": ("City Water Department", "County Utility District", "Regional Water Board"),
    "rail": ("Continental Freight Rail", "Metro Transit Rail", "Valley Short Line"),
    "military": ("Department of Defense", "National Guard", "Defense Logistics"),
}


@dataclass(frozen=True)
class SiteLayer:
    """The site GeoDataFrame plus what the flight generator needs to fly near it.

    ``skeleton`` is (n_sites, SKELETON_POINTS, 2) longitude/latitude: the vertices of
    a line site, the centre repeated for any other. ``towns`` is (n_towns, 2) and
    ``town_weight`` sums to 1.
    """

    frame: gpd.GeoDataFrame
    skeleton: np.ndarray
    towns: np.ndarray
    town_weight: np.ndarray


def metres_to_lonlat(
    lon0: np.ndarray, lat0: np.ndarray, dx: np.ndarray, dy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offset longitudes and latitudes by east and north metres (local flat earth)."""
    lon0 = np.asarray(lon0, dtype="float64")
    lat0 = np.asarray(lat0, dtype="float64")
    lon = lon0 + dx / (M_PER_DEG_LON_EQUATOR * np.cos(np.radians(lat0)))
    lat = lat0 + dy / M_PER_DEG_LAT
    return lon, lat


def _inside_conus(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform (lon, lat) points inside the CONUS outline, by rejection."""
    outline = shapely.Polygon(CONUS_OUTLINE)
    xmin, ymin, xmax, ymax = outline.bounds
    kept: list[np.ndarray] = []
    have = 0
    while have < n:  # about 70 % of the bounding box is inside: two or three rounds
        lon = rng.uniform(xmin, xmax, 2 * (n - have) + 16)
        lat = rng.uniform(ymin, ymax, lon.size)
        inside = shapely.contains_xy(outline, lon, lat)
        kept.append(np.column_stack([lon[inside], lat[inside]]))
        have += int(inside.sum())
    return np.concatenate(kept)[:n]


def _rotate(x: np.ndarray, y: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.cos(angle), np.sin(angle)
    return x * c - y * s, x * s + y * c


def _ring_coords(
    rng: np.random.Generator, shape: str, centre: np.ndarray, size: np.ndarray
) -> np.ndarray:
    """Closed rings (m, vertices, 2) in lon/lat: rotated rectangles or star-shaped blobs."""
    m = size.size
    if shape == "rect":
        half_long = size / 2.0
        half_short = half_long * rng.uniform(0.3, 1.0, m)
        x = np.array([-1.0, 1.0, 1.0, -1.0, -1.0])[None, :] * half_long[:, None]
        y = np.array([-1.0, -1.0, 1.0, 1.0, -1.0])[None, :] * half_short[:, None]
    else:
        n_vertices = 12
        step = 2.0 * np.pi / n_vertices
        angle = step * (np.arange(n_vertices)[None, :] + rng.uniform(-0.3, 0.3, (m, n_vertices)))
        radius = (size / 2.0)[:, None] * rng.uniform(0.6, 1.0, (m, n_vertices))
        x, y = radius * np.cos(angle), radius * np.sin(angle)
        x, y = np.concatenate([x, x[:, :1]], axis=1), np.concatenate([y, y[:, :1]], axis=1)
    x, y = _rotate(x, y, rng.uniform(0.0, np.pi, m)[:, None])
    lon, lat = metres_to_lonlat(centre[:, :1], centre[:, 1:], x, y)
    return np.stack([lon, lat], axis=-1)


def _line_coords(
    rng: np.random.Generator, start: np.ndarray, length: np.ndarray, heading: np.ndarray
) -> np.ndarray:
    """Gently curving lines (m, SKELETON_POINTS, 2) in lon/lat from ``start``."""
    m = length.size
    turns = rng.normal(0.0, 0.2, (m, SKELETON_POINTS - 1))
    turns[:, 0] = 0.0
    theta = heading[:, None] + np.cumsum(turns, axis=1)
    seg = (length / (SKELETON_POINTS - 1))[:, None]
    dx = np.concatenate([np.zeros((m, 1)), np.cumsum(seg * np.cos(theta), axis=1)], axis=1)
    dy = np.concatenate([np.zeros((m, 1)), np.cumsum(seg * np.sin(theta), axis=1)], axis=1)
    lon, lat = metres_to_lonlat(start[:, :1], start[:, 1:], dx, dy)
    return np.stack([lon, lat], axis=-1)


def _parts_layout(
    rng: np.random.Generator, centre: np.ndarray, size: np.ndarray, *, max_parts: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centres, sizes and owners of the parts of Multi* sites, laid out so none overlap.

    Parts are at most 0.8 of the site's size and sit 1.6 sizes apart on a line.
    """
    n_parts = rng.integers(2, max_parts + 1, size.size)
    owner = np.repeat(np.arange(size.size), n_parts)
    rank = np.arange(owner.size) - np.repeat(np.cumsum(n_parts) - n_parts, n_parts)
    direction = rng.uniform(0.0, 2.0 * np.pi, size.size)[owner]
    dist = rank * 1.6 * size[owner]
    lon, lat = metres_to_lonlat(
        centre[owner, 0], centre[owner, 1], dist * np.cos(direction), dist * np.sin(direction)
    )
    part_size = size[owner] * rng.uniform(0.4, 0.8, owner.size)
    return np.column_stack([lon, lat]), part_size, owner


def _build_group(
    rng: np.random.Generator,
    shape: str,
    centre: np.ndarray,
    size: np.ndarray,
    multi: np.ndarray,
    skeleton: np.ndarray,
) -> np.ndarray:
    """Geometries of one shape group; fills ``skeleton`` (this group's rows) in place."""
    m = size.size
    out = np.empty(m, dtype=object)
    skeleton[:] = centre[:, None, :]
    single, several = np.flatnonzero(~multi), np.flatnonzero(multi)
    if shape == "point":
        out[single] = shapely.points(centre[single])
        pos, _, owner = _parts_layout(rng, centre[several], size[several] / 4.0, max_parts=4)
        if several.size:
            out[several] = shapely.multipoints(shapely.points(pos), indices=owner)
        return out
    if shape == "line":
        heading = rng.uniform(0.0, 2.0 * np.pi, m)
        back_x, back_y = _rotate(-size / 2.0, np.zeros(m), heading)
        start = np.column_stack(metres_to_lonlat(centre[:, 0], centre[:, 1], back_x, back_y))
        coords = _line_coords(rng, start, size, heading)
        skeleton[:] = coords
        out[single] = shapely.linestrings(coords[single])
        if several.size:
            k = several.size
            branch = _line_coords(
                rng,
                coords[several, 3],
                size[several] * rng.uniform(0.3, 0.8, k),
                heading[several] + rng.choice([-1.0, 1.0], k) * rng.uniform(0.5, 1.2, k),
            )
            parts = shapely.linestrings(np.concatenate([coords[several], branch]))
            owner = np.concatenate([np.arange(k), np.arange(k)])
            order = np.argsort(owner, kind="stable")
            out[several] = shapely.multilinestrings(parts[order], indices=owner[order])
        return out
    out[single] = shapely.polygons(_ring_coords(rng, shape, centre[single], size[single]))
    if several.size:
        pos, part_size, owner = _parts_layout(rng, centre[several], size[several], max_parts=3)
        parts = shapely.polygons(_ring_coords(rng, shape, pos, part_size))
        out[several] = shapely.multipolygons(parts, indices=owner)
    return out


def _place(
    rng: np.random.Generator, kind_index: np.ndarray, n_towns: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Site centres (n, 2): near a town (Rayleigh spread by town size) or in open country."""
    n = kind_index.size
    towns = _inside_conus(rng, n_towns)
    town_weight = rng.pareto(1.2, n_towns) + 1.0
    town_weight /= town_weight.sum()
    spread_m = np.clip(6_000.0 * np.sqrt(town_weight * n_towns), 4_000.0, 40_000.0)
    town = rng.choice(n_towns, size=n, p=town_weight)
    dist = spread_m[town] * np.sqrt(-2.0 * np.log1p(-rng.random(n)))
    bearing = rng.uniform(0.0, 2.0 * np.pi, n)
    lon, lat = metres_to_lonlat(
        towns[town, 0], towns[town, 1], dist * np.cos(bearing), dist * np.sin(bearing)
    )
    centre = np.column_stack([lon, lat])
    rural_share = np.array([k.rural for k in KINDS])[kind_index]
    rural = rng.random(n) < rural_share
    centre[rural] = _inside_conus(rng, int(rural.sum()))
    return centre, towns, town_weight


def _text_columns(rng: np.random.Generator, kind_index: np.ndarray) -> dict[str, pd.Series]:
    n = kind_index.size
    number = pd.Series(np.arange(n)).astype("str").str.zfill(6)
    kinds = np.array([k.kind for k in KINDS], dtype=object)
    families = np.array([k.family for k in KINDS], dtype=object)
    titles = np.array([k.kind.replace("_", " ").title() for k in KINDS], dtype=object)
    family = families[kind_index]
    operator = np.empty(n, dtype=object)
    pick = rng.integers(0, 3, n)
    for fam, names in _OPERATORS.items():  # four families
        rows = family == fam
        operator[rows] = np.array(names, dtype=object)[pick[rows]]
    operator[rng.random(n) < 0.1] = None
    return {
        SITE_ID: "US-" + number,
        FAMILY: pd.Series(family),
        KIND: pd.Series(kinds[kind_index]),
        NAME: pd.Series(titles[kind_index]) + " " + number,
        OPERATOR: pd.Series(operator, dtype="str"),
    }


def make_sites(rng: np.random.Generator, n_sites: int) -> SiteLayer:
    """Build ``n_sites`` synthetic sites of every family, kind and geometry type.

    Parameters
    ----------
    rng
        The random generator; the same state gives the same layer.
    n_sites
        Number of sites (at least 1).

    Returns
    -------
    SiteLayer
        The GeoDataFrame (columns of ``schema.SITE_COLUMNS``, EPSG:4326) and the
        anchors the flight generator uses.
    """
    weights = np.array([k.weight for k in KINDS])
    kind_index = rng.choice(len(KINDS), size=n_sites, p=weights / weights.sum())
    n_towns = int(np.clip(n_sites // 1_000, 5, 400))
    centre, towns, town_weight = _place(rng, kind_index, n_towns)
    size_lo = np.array([k.size_m[0] for k in KINDS])[kind_index]
    size_hi = np.array([k.size_m[1] for k in KINDS])[kind_index]
    size = np.exp(rng.uniform(np.log(np.maximum(size_lo, 1.0)), np.log(np.maximum(size_hi, 1.0))))
    multi = rng.random(n_sites) < np.array([k.multi for k in KINDS])[kind_index]
    shapes = np.array([k.shape for k in KINDS])[kind_index]
    geometry = np.empty(n_sites, dtype=object)
    skeleton = np.empty((n_sites, SKELETON_POINTS, 2))
    for shape in ("point", "line", "rect", "blob"):  # four shape groups
        rows = np.flatnonzero(shapes == shape)
        group_skeleton = skeleton[rows]
        geometry[rows] = _build_group(
            rng, shape, centre[rows], size[rows], multi[rows], group_skeleton
        )
        skeleton[rows] = group_skeleton
    columns = _text_columns(rng, kind_index)
    columns[STANDOFF_M] = pd.Series(np.array([k.standoff_m for k in KINDS])[kind_index])
    columns[SOURCE] = pd.Series(np.full(n_sites, SITE_SOURCE, dtype=object), dtype="str")
    frame = gpd.GeoDataFrame(columns, geometry=geometry, crs=CRS_LONLAT)[SITE_COLUMNS]
    logger.info("made %d sites around %d towns", n_sites, n_towns)
    return SiteLayer(frame=frame, skeleton=skeleton, towns=towns, town_weight=town_weight)
