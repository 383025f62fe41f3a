"""What every geoexpose map shares: its frames, colours, canvas, view and saved page.

A map is made by :func:`new_map` (a folium Map and the :class:`Canvas` its layers
are drawn on), fed frames made ready by :func:`lonlat_frame`, centred by :func:`fit`,
closed by :func:`finish` (legend, panel and layer control) and saved as one
self-contained page by :func:`write_page`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoexpose._atomic import write_text_atomic
from geoexpose._frames import without_attrs
from geoexpose.errors import InputError, UsageError
from geoexpose.maps._basemap import raster_overlay
from geoexpose.maps._encode import DataBlock
from geoexpose.maps._html_inline import (
    decor_element,
    feature_group,
    inline_assets,
    page_part,
    runtime_element,
)
from geoexpose.maps._thumbnails import Thumbnails
from geoexpose.schema import CRS_LONLAT, FAMILIES, FAMILY, LAT, LON
from geoexpose.sites import load_catalog

if TYPE_CHECKING:
    import folium

__all__ = [
    "BASEMAPS",
    "MAX_ZOOM",
    "OSM_NOTE",
    "Canvas",
    "add_raster",
    "check_basemap",
    "family_colors",
    "finish",
    "fit",
    "frame_bounds",
    "layer_name",
    "lonlat_frame",
    "new_map",
    "ordered_families",
    "thumbnails_of",
    "write_page",
]

logger = logging.getLogger(__name__)

BASEMAPS = ("none", "osm")
MAX_ZOOM = 19
_FALLBACK_COLORS = dict(
    water="#1f78b4",
    rail="#6a3d9a",
    power="#ff7f00",
    military="#e31a1c",
    hazmat="#b15928",
    transport="#17becf",
    emergency="#e7298a",
)  # as layers/catalog.toml; used only where the catalog gives a family no colour
_OTHER_COLORS = ("#666666", "#a6761d", "#1b9e77")  # a user's own families, in turn
OSM_NOTE = (
    "Basemap: OpenStreetMap tiles are loaded from tile.openstreetmap.org, "
    "which sees the area you view."
)


def check_basemap(basemap: str | os.PathLike[str]) -> str | Path:
    """Return ``"none"``, ``"osm"`` or the path of a local raster; raise otherwise."""
    if isinstance(basemap, str) and basemap in BASEMAPS:
        return basemap
    path = Path(basemap)
    if path.is_file():
        return path
    raise UsageError(
        f"basemap must be one of {', '.join(BASEMAPS)} or a local GeoTIFF, not {str(basemap)!r}"
    )


def lonlat_frame(frame: Any, what: str, required: tuple[str, ...]) -> Any:
    """Return the frame in EPSG:4326 without rows lacking geometry, or None if empty.

    Fixes may also be a plain DataFrame with ``lon`` and ``lat`` columns.
    """
    if frame is None:
        return None
    plain = isinstance(frame, pd.DataFrame) and LON in frame and LAT in frame
    if not plain and (not hasattr(frame, "geometry") or not hasattr(frame, "crs")):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column {missing[0]!r}")
    frame = without_attrs(frame)
    if plain and not hasattr(frame, "crs"):
        return frame if len(frame) else None
    if frame.crs is None:
        raise InputError(f"{what}: no CRS; expected {CRS_LONLAT}")
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if not keep.all():  # (taking every row would copy a large frame for nothing)
        logger.info("%s: %d rows without geometry are not drawn", what, int((~keep).sum()))
        frame = frame[keep]
    else:
        frame = frame.copy(deep=False)  # a new frame all the same, sharing the data
    if len(frame) == 0:
        return None
    return frame.to_crs(CRS_LONLAT) if not frame.crs.equals(CRS_LONLAT) else frame


def frame_bounds(frame: Any) -> np.ndarray:
    """``(west, south, east, north)`` of a frame in EPSG:4326 (or of lon/lat columns)."""
    if hasattr(frame, "total_bounds"):
        return np.asarray(frame.total_bounds, dtype="float64")
    lon, lat = frame[LON].to_numpy("float64"), frame[LAT].to_numpy("float64")
    return np.array([np.nanmin(lon), np.nanmin(lat), np.nanmax(lon), np.nanmax(lat)])


def family_colors(families: list[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    """Colour of each family: ``colors``, else the layer catalog, else a fixed palette."""
    palette = dict(_FALLBACK_COLORS)
    palette.update({f: d.color for f, d in load_catalog().items() if getattr(d, "color", None)})
    palette.update(colors or {})
    others = [fam for fam in families if fam not in palette]
    palette.update({fam: _OTHER_COLORS[i % len(_OTHER_COLORS)] for i, fam in enumerate(others)})
    return {fam: palette[fam] for fam in families}


def ordered_families(sites: pd.DataFrame | None) -> list[str]:
    """List the families present: the four known ones in their order, then the others."""
    present = [] if sites is None else sites[FAMILY].astype(str).unique().tolist()
    return [f for f in FAMILIES if f in present] + sorted(set(present) - set(FAMILIES))


def thumbnails_of(thumbnails: bool | Thumbnails | None) -> Thumbnails | None:
    """Return the thumbnails for popups: those given, new ones for True, else None."""
    if thumbnails is True:
        return Thumbnails()
    return thumbnails if isinstance(thumbnails, Thumbnails) else None


class Canvas:
    """A folium map that geoexpose layers are drawn on; adds the runtime first."""

    def __init__(self, m: folium.Map) -> None:
        self.map = m
        self._count = 0
        m.add_child(runtime_element())

    def block(self, value: Any) -> str:
        """Add a JSON data block to the page; return its id."""
        self._count += 1
        block_id = f"gx-data-{self._count}"
        self.map.add_child(DataBlock(block_id, value).element())
        return block_id

    def layer(self, name: str, fn: str, value: Any, *, show: bool = True) -> folium.FeatureGroup:
        """Add a toggleable layer drawn by the runtime's ``fn`` from ``value``."""
        group = feature_group(layer_name(name), show=show)
        group.add_to(self.map)
        return self.draw(group, fn, value)

    def draw(self, group: folium.FeatureGroup, fn: str, value: Any) -> folium.FeatureGroup:
        """Draw ``value`` with the runtime's ``fn`` into an existing group."""
        block = self.block(value)

        def call(element: Any) -> str:
            return f'geoexpose.{fn}({element._parent.get_name()}, "{block}");'

        group.add_child(page_part("GeoexposeCall", script=call))
        return group


def layer_name(name: str) -> str:
    """Make a layer's name safe for folium's layer control, which runs it through Jinja.

    A zero-width space after each ``{`` keeps a name such as ``{{x}}`` as it reads.
    """
    return name.replace("{", "{\u200b")


def new_map(basemap: str | Path) -> tuple[folium.Map, Canvas]:
    """Make an empty map with a scale bar, canvas rendering and the basemap's tiles."""
    import folium

    # Quarter zoom steps: the first view fits its sites closely between the panels.
    m = folium.Map(
        tiles=None, prefer_canvas=True, control_scale=True, maxZoom=MAX_ZOOM, zoom_snap=0.25
    )
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", max_zoom=MAX_ZOOM).add_to(
            m
        )
    return m, Canvas(m)


def add_raster(
    canvas: Canvas, basemap: str | Path, bounds: tuple[float, float, float, float] | None
) -> bool:
    """Draw a local GeoTIFF basemap (cropped to ``bounds``) under the layers."""
    if not isinstance(basemap, Path):
        return False
    overlay = raster_overlay(basemap, bounds=bounds, max_px=2048 if bounds is None else 1024)
    if overlay:
        canvas.layer(f"basemap: {overlay['name']}", "image", overlay)
    return bool(overlay)


def fit(
    m: folium.Map,
    bounds: np.ndarray | None,
    *,
    max_zoom: int = 17,
    padding: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> None:
    """Centre the map on ``(west, south, east, north)``; ``padding``: pixels kept free."""
    if bounds is None or not np.all(np.isfinite(bounds)):
        return
    w, s, e, n = (float(v) for v in bounds)
    m.location = [(s + n) / 2, (w + e) / 2]
    pads = (
        {}
        if padding is None
        else {"padding_top_left": padding[0], "padding_bottom_right": padding[1]}
    )
    m.fit_bounds([[s, w], [n, e]], max_zoom=max_zoom, **pads)


def finish(m: folium.Map, decor: str) -> folium.Map:
    """Add the decor (legend and panels, as HTML) and the layer control, last."""
    import folium

    m.add_child(decor_element(decor))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def write_page(m: folium.Map, path: str | os.PathLike[str]) -> Path:
    """Render a map with every script and style inline and write it atomically.

    Raises
    ------
    UsageError
        When the map needs a script or style that cannot be inlined.
    """
    page = inline_assets(m.get_root().render())
    path = write_text_atomic(path, page)
    logger.info("wrote %s (%d characters)", path, len(page))
    return path
