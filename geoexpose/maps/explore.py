"""Interactive maps of exposure: self-contained HTML files that load nothing.

:func:`explore` draws the overview: the sites (one toggleable layer and one colour
per family, exposed sites filled by ``exposure_score``), the flights (coloured by
height above ground when fixes are given), the capture footprints and camera
positions, a legend and a scale bar. :func:`explore_site` draws one exposed site:
its zone, the footprints that touch it, the fixes inside it and a table of its
numbers. :func:`write_map` and :func:`write_site_maps` write them atomically, with
Leaflet, geoexpose's runtime and every style inline.

Notes
-----
Geometry is drawn in EPSG:4326 with coordinates rounded to 1e-6 degrees (about
0.1 m). Sites are simplified in metres (``SIMPLIFY_M``) in the metric band chosen by
:mod:`geoexpose.projection`; flight tracks are kept at several levels of detail
(``TRACK_LEVELS_M``) and drawn at the one that suits the zoom, on a canvas, so a
scan of a million fixes gives a map that opens in a few seconds.

The basemap is ``"none"`` unless asked for: ``"osm"`` loads OpenStreetMap tiles,
whose server then learns the area viewed, and the map says so; a path to a local
GeoTIFF (such as an orthomosaic) draws it under the layers, inline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoexpose._atomic import write_text_atomic
from geoexpose.errors import InputError, UsageError
from geoexpose.maps._html_inline import decor_element, inline_assets
from geoexpose.maps._layers import (
    AGL_COLORS,
    AGL_EDGES,
    CAPTURE_COLORS,
    SCORE_COLORS,
    SCORE_EDGES,
    SIMPLIFY_M,
    TRACK_LEVELS_M,
    Canvas,
    add_captures,
    add_flights,
    exposed_mask,
    legend,
    site_spec,
)
from geoexpose.schema import (
    ALT_AGL_M,
    CRS_LONLAT,
    FAMILIES,
    FAMILY,
    FLIGHT_ID,
    LAT,
    LON,
    SITE_ID,
    TIME_UTC,
)

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from geoexpose.maps._thumbnails import Thumbnails

__all__ = [
    "AGL_COLORS",
    "AGL_EDGES",
    "BASEMAPS",
    "CAPTURE_COLORS",
    "SCORE_COLORS",
    "SCORE_EDGES",
    "SIMPLIFY_M",
    "TRACK_LEVELS_M",
    "explore",
    "explore_site",
    "load_output",
    "rebuild_maps",
    "site_file_names",
    "write_map",
    "write_maps",
    "write_site_maps",
]

MAP_FILE = "map.html"
SITES_FOLDER = "sites"

logger = logging.getLogger(__name__)

BASEMAPS = ("none", "osm")
MAX_ZOOM = 19
_FALLBACK_COLORS = dict(water="#1f78b4", rail="#6a3d9a", power="#ff7f00", military="#33a02c")
_OTHER_COLORS = ("#b15928", "#e7298a", "#666666")
_OSM_NOTE = (
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
    if frame.attrs:  # what readers record there would be deep-copied by every pandas step
        frame = frame.copy(deep=False)
        frame.attrs = {}
    if plain and not hasattr(frame, "crs"):
        return frame if len(frame) else None
    if frame.crs is None:
        raise InputError(f"{what}: no CRS; expected {CRS_LONLAT}")
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if not keep.all():
        logger.info("%s: %d rows without geometry are not drawn", what, int((~keep).sum()))
    frame = frame[keep]
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
    from geoexpose.sites import load_catalog

    palette.update({f: d.color for f, d in load_catalog().items() if getattr(d, "color", None)})
    palette.update(colors or {})
    others = [fam for fam in families if fam not in palette]
    palette.update({fam: _OTHER_COLORS[i % len(_OTHER_COLORS)] for i, fam in enumerate(others)})
    return {fam: palette[fam] for fam in families}


def ordered_families(sites: pd.DataFrame | None) -> list[str]:
    """List the families present: the four known ones in their order, then the others."""
    present = [] if sites is None else sites[FAMILY].astype(str).unique().tolist()
    return [f for f in FAMILIES if f in present] + sorted(set(present) - set(FAMILIES))


def new_map(basemap: str | Path) -> tuple[folium.Map, Canvas]:
    """Make an empty map with a scale bar, canvas rendering and the basemap's tiles."""
    import folium

    m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, maxZoom=MAX_ZOOM)
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
    from geoexpose.maps._basemap import raster_overlay

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


def _frames(result: Any, **given: Any) -> dict[str, Any]:
    """Pick the frames to draw: those given by keyword, else the result's attributes."""
    out = {}
    for key, value in given.items():
        if value is None and result is not None:
            value = getattr(result, key, None)
        out[key] = value
    captures = out.get("captures")
    if captures is not None and len(captures) == 0:
        out["captures"] = None
    return out


def explore(
    result: Any = None,
    *,
    sites: gpd.GeoDataFrame | None = None,
    flights: gpd.GeoDataFrame | None = None,
    fixes: gpd.GeoDataFrame | None = None,
    captures: gpd.GeoDataFrame | None = None,
    capture_sites: pd.DataFrame | None = None,
    basemap: str | os.PathLike[str] = "none",
    colors: Mapping[str, str] | None = None,
    thumbnails: bool | Thumbnails = True,
    site_pages: Mapping[str, str] | None = None,
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]] = (),
) -> folium.Map:
    """Draw sites, flights and captures on an interactive overview map.

    Parameters
    ----------
    result
        An exposure result with ``.sites``, ``.flights`` and optionally ``.fixes``,
        ``.captures`` and ``.capture_sites``; frames given by keyword take precedence.
    sites
        Sites with their exposure columns; one toggleable layer per ``family``.
        Exposed sites are filled by ``exposure_score`` class.
    flights
        One line per flight, with a popup of its columns.
    fixes
        Fixes (a GeoDataFrame, or a DataFrame with ``lon``/``lat``); when given,
        flight paths are coloured by ``alt_agl_m`` class.
    captures
        Captures: footprints and camera positions, with a popup of each capture's
        file, time and GSD and, when the file can be read, a small thumbnail.
    capture_sites
        Which capture shows which site (``capture_id``, ``site_id``).
    basemap
        ``"none"`` (default: the map loads nothing), ``"osm"`` (OpenStreetMap tiles,
        whose server then sees the area viewed; the map says so) or the path of a
        local GeoTIFF, drawn inline under the layers.
    colors
        Colour of each family, overriding the layer catalog.
    thumbnails
        Put thumbnails of the photos in the popups.
    site_pages
        Relative link of each site's own map, shown in its popup.
    layers
        More layers to draw on top, each ``(name, data, legend entries)``: data for
        the runtime's ``features`` (as :mod:`geoexpose.maps._layers` makes them) and
        ``(css, label)`` entries for a legend section named ``name`` (e.g. the
        findings of an audit).

    Returns
    -------
    folium.Map
        Write it with :func:`write_map` to get a self-contained file.
    """
    from geoexpose.maps._thumbnails import Thumbnails

    basemap = check_basemap(basemap)
    f = _frames(
        result,
        sites=sites,
        flights=flights,
        fixes=fixes,
        captures=captures,
        capture_sites=capture_sites,
    )
    params = dict(getattr(result, "params", None) or {})
    sites = lonlat_frame(f["sites"], "sites", (SITE_ID, FAMILY))
    flights = lonlat_frame(f["flights"], "flights", ())
    fixes = lonlat_frame(f["fixes"], "fixes", (FLIGHT_ID, TIME_UTC, ALT_AGL_M))
    captures = lonlat_frame(f["captures"], "captures", ())
    thumbs = thumbnails if isinstance(thumbnails, Thumbnails) else None
    if thumbnails is True:
        thumbs = Thumbnails()

    m, canvas = new_map(basemap)
    # The view is set before the layers are added, so that they are projected once.
    active = [fr for fr in (flights, fixes, captures) if fr is not None]
    if sites is not None and exposed_mask(sites).any():
        active.append(sites[exposed_mask(sites)])
    drawn = active or ([sites] if sites is not None else [])
    if drawn:
        b = np.array([frame_bounds(fr) for fr in drawn])
        fit(m, np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)])
    add_raster(canvas, basemap, None)
    families = ordered_families(sites)
    colours = family_colors(families, colors)
    if sites is not None:
        fam = sites[FAMILY].astype(str).to_numpy()
        for name in colours:
            spec = site_spec(sites[fam == name], colours, links=site_pages)
            canvas.layer(f"{name} sites", "features", spec)
    add_flights(canvas, flights, fixes, params)
    if captures is not None:
        add_captures(canvas, captures, f["capture_sites"], thumbs)
    for name, data, _ in layers:
        canvas.layer(name, "features", dict(data))

    body = legend(
        colours,
        heights=fixes is not None,
        flights=flights is not None,
        captures=captures is not None,
        note=_OSM_NOTE if basemap == "osm" else None,
        extra=[(name, entries) for name, _, entries in layers if entries],
    )
    m.add_child(decor_element(body))
    import folium

    folium.LayerControl(collapsed=False).add_to(m)
    return m


def explore_site(result: Any, site_id: str, **kwargs: Any) -> folium.Map:
    """Draw one site: its zone, footprints, fixes inside it and a table of its numbers.

    Parameters
    ----------
    result
        An exposure result (``.sites``, ``.pairs``, ``.fixes``, ``.flights``,
        ``.captures``, ``.capture_sites``, ``.footprints``) or a namespace with some
        of them.
    site_id
        The site to draw.
    **kwargs
        ``basemap``, ``colors``, ``thumbnails`` and ``overview`` (a relative link
        back to the overview map), as for :func:`explore`.

    Returns
    -------
    folium.Map
        Zoomed to the site's zone.
    """
    from geoexpose.maps._site_maps import site_map

    return site_map(result, site_id, **kwargs)


def site_file_names(site_ids: Any) -> dict[str, str]:
    """File name of each site's map: the id made safe, unique in any file system.

    >>> site_file_names(["osm:way/123", "W1"])
    {'osm:way/123': 'osm_way_123.html', 'W1': 'W1.html'}
    """
    from geoexpose.maps._site_maps import file_names

    return file_names(site_ids)


def write_map(
    m_or_result: Any, path: str | os.PathLike[str], *, basemap: str | os.PathLike[str] = "none"
) -> Path:
    """Write a map as one self-contained HTML file, atomically.

    Parameters
    ----------
    m_or_result
        A folium Map (e.g. from :func:`explore`), or a result to draw with it.
    path
        The HTML file; its folder is made if needed. The page is rendered first and
        written to a temporary name beside ``path``, then renamed over it, so a
        failure leaves an existing file untouched and no partial file behind.
    basemap
        As for :func:`explore`; only with a result (a Map has its basemap already).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    UsageError
        When the map needs a script or style that cannot be inlined.
    """
    import folium

    if isinstance(m_or_result, folium.Map):
        if basemap != "none":
            raise UsageError("basemap is chosen when the map is made: pass it to explore()")
        m = m_or_result
    else:
        m = explore(m_or_result, basemap=basemap)
    page = inline_assets(m.get_root().render())
    path = write_text_atomic(path, page)
    logger.info("wrote %s (%d bytes)", path, len(page.encode("utf-8")))
    return path


def write_site_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    site_ids: Any = None,
    basemap: str | os.PathLike[str] = "none",
    overview: str | None = "../map.html",
    thumbnails: bool | Thumbnails = True,
) -> dict[str, Path]:
    """Write ``<site_id>.html`` into ``folder`` for each exposed site (or each of ``site_ids``).

    Returns
    -------
    dict
        The path written for each site id.
    """
    from geoexpose.maps._site_maps import write_all

    return write_all(
        result,
        Path(folder),
        site_ids=site_ids,
        basemap=check_basemap(basemap),
        overview=overview,
        thumbnails=thumbnails,
    )


def write_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    basemap: str | os.PathLike[str] = "none",
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]] = (),
) -> list[Path]:
    """Write an output folder's maps: ``sites/<site_id>.html`` per exposed site, ``map.html``.

    The overview's site popups link to the site maps, and each site map links back.
    Site maps of sites no longer exposed are removed from ``sites/``. ``layers`` are
    drawn on the overview, as for :func:`explore`. Returns the paths written, the
    overview first.
    """
    from geoexpose.maps._thumbnails import Thumbnails

    folder = Path(folder)
    basemap = check_basemap(basemap)
    thumbs = Thumbnails()
    written = write_site_maps(
        result,
        folder / SITES_FOLDER,
        basemap=basemap,
        overview=f"../{MAP_FILE}",
        thumbnails=thumbs,
    )
    links = {i: f"{SITES_FOLDER}/{p.name}" for i, p in written.items()}
    m = explore(result, basemap=basemap, thumbnails=thumbs, site_pages=links, layers=layers)
    return [write_map(m, folder / MAP_FILE), *written.values()]


def load_output(folder: str | os.PathLike[str]) -> Any:
    """Read what the maps need from a scan's output folder (``exposure.gpkg``).

    Returns
    -------
    types.SimpleNamespace
        ``sites``, ``flights``, ``pairs``, ``footprints``, ``captures`` and
        ``capture_sites`` (each None where the layer is missing), ``fixes`` (None:
        the folder does not keep fixes) and ``params``.

    Raises
    ------
    InputError
        When ``folder`` has no ``exposure.gpkg``.
    """
    import types

    import pyogrio

    gpkg = Path(folder) / "exposure.gpkg"
    if not gpkg.is_file():
        raise InputError(f"{gpkg}: no such file; is {folder} a scan's output folder?")
    present = {str(row[0]) for row in pyogrio.list_layers(gpkg)}
    layers = {
        "sites": "sites",
        "flights": "flights",
        "pairs": "flight_sites",
        "footprints": "footprints",
        "captures": "captures",
        "capture_sites": "capture_sites",
    }
    out: dict[str, Any] = {"fixes": None, "params": {}}
    for key, layer in layers.items():
        out[key] = pyogrio.read_dataframe(gpkg, layer=layer) if layer in present else None
    if out["sites"] is None:
        raise InputError(f"{gpkg}: no layer 'sites'")
    return types.SimpleNamespace(**out)


def rebuild_maps(
    folder: str | os.PathLike[str],
    *,
    site: str | None = None,
    basemap: str | os.PathLike[str] = "none",
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """(Re)build the maps of a scan's output folder from its ``exposure.gpkg``.

    Parameters
    ----------
    folder
        The output folder of ``geoexpose scan``.
    site
        Build only this site's map (at ``sites/<site_id>.html``, or ``out``).
    basemap
        As for :func:`explore`.
    out
        The HTML file to write instead: the overview (or, with ``site``, the site map).
    overwrite
        Replace existing maps; without it an existing map is an error.

    Returns
    -------
    list of Path
        The files written. Without ``site`` and ``out``: ``map.html`` and the site
        maps. The folder keeps no fixes, so site maps show the positions of the
        flight lines inside the zone, without time or height.
    """
    from geoexpose.errors import OutputExistsError

    folder = Path(folder)
    basemap = check_basemap(basemap)
    result = load_output(folder)
    if site is not None:
        names = site_file_names(result.sites[SITE_ID])
        if str(site) not in names:
            raise InputError(f"site {site!r}: not in {folder / 'exposure.gpkg'}")
        target = Path(out) if out else folder / SITES_FOLDER / names[str(site)]
        overview = None if out else f"../{MAP_FILE}"
        targets = [target]
    else:
        target = Path(out) if out else folder / MAP_FILE
        targets = [target] + ([] if out else [folder / SITES_FOLDER])
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass --overwrite")
    if site is not None:
        m = explore_site(result, str(site), basemap=basemap, overview=overview)
        return [write_map(m, target)]
    if out:
        return [write_map(explore(result, basemap=basemap), target)]
    return write_maps(result, folder, basemap=basemap)
