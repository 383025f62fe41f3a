"""The overview map: every site, flight and capture of a result on one page.

:func:`explore` draws the sites (one toggleable layer and one colour per family,
exposed sites filled by ``exposure_score``), the flights (coloured by height above
ground when fixes are given), the capture footprints and camera positions, a
legend and a scale bar; with more than ``OVERVIEW_SITES`` sites, the unexposed
ones only near a flight or capture (:mod:`._context`). :func:`write_map` writes a
map atomically as one HTML file that loads nothing, with Leaflet, geoexpose's runtime
and every style inline.

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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoexpose.errors import UsageError
from geoexpose.maps._canvas import (
    OSM_NOTE,
    add_raster,
    check_basemap,
    family_colors,
    finish,
    fit,
    frame_bounds,
    lonlat_frame,
    new_map,
    ordered_families,
    thumbnails_of,
    write_page,
)
from geoexpose.maps._context import CONTEXT_M, OVERVIEW_SITES, context_note, sites_to_draw
from geoexpose.maps._layers import add_captures, exposed_mask, legend, site_spec
from geoexpose.maps._replay import add_replay, replay_data
from geoexpose.maps._tracks import FlightPieces, draw_flights, flight_pieces
from geoexpose.schema import ALT_AGL_M, FAMILY, FLIGHT_ID, SITE_ID, TIME_UTC

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

    from geoexpose.maps._thumbnails import Thumbnails

__all__ = ["FIT_PADDING", "explore", "overview_map", "write_map"]

# Pixels kept free when the view is fitted: (left, top), (right, bottom): the zoom
# buttons, the layer control and legend on the right, the time slider at the bottom.
FIT_PADDING = ((60, 40), (350, 80))


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
    legend_sections: Sequence[tuple[str, list[tuple[str, str]]]] = (),
    max_sites: int | None = OVERVIEW_SITES,
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
    legend_sections
        More legend sections, each ``(title, [(swatch CSS, label), ...])``, e.g.
        which sites have a map of their own.
    max_sites
        With more sites than this (``OVERVIEW_SITES``, 20,000, by default), the map
        draws every exposed site but the unexposed ones only within ``CONTEXT_M``
        (1 km) of a flight track or capture footprint, and its legend says how many
        were left out; None draws every site.

    Returns
    -------
    folium.Map
        Write it with :func:`write_map` to get a self-contained file.
    """
    return overview_map(
        result,
        sites=sites,
        flights=flights,
        fixes=fixes,
        captures=captures,
        capture_sites=capture_sites,
        basemap=basemap,
        colors=colors,
        thumbnails=thumbnails,
        site_pages=site_pages,
        layers=layers,
        legend_sections=legend_sections,
        max_sites=max_sites,
    )


def overview_map(
    result: Any,
    *,
    sites: gpd.GeoDataFrame | None,
    flights: gpd.GeoDataFrame | None,
    fixes: gpd.GeoDataFrame | None,
    captures: gpd.GeoDataFrame | None,
    capture_sites: pd.DataFrame | None,
    basemap: str | os.PathLike[str],
    colors: Mapping[str, str] | None,
    thumbnails: bool | Thumbnails,
    site_pages: Mapping[str, str] | None,
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]],
    legend_sections: Sequence[tuple[str, list[tuple[str, str]]]],
    pieces: FlightPieces | None = None,
    max_sites: int | None = OVERVIEW_SITES,
) -> folium.Map:
    """Draw the overview (see :func:`explore`); ``pieces``: the flight tracks, already cut."""
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
    thumbs = thumbnails_of(thumbnails)

    m, canvas = new_map(basemap)
    # The view is set before the layers are added, so that they are projected once:
    # on the exposed sites, else on what was flown, clear of the legend and controls.
    active = [fr for fr in (flights, fixes, captures) if fr is not None]
    if sites is not None and exposed_mask(sites).any():
        active = [sites[exposed_mask(sites)]]
    drawn = active or ([sites] if sites is not None else [])
    if drawn:
        b = np.array([frame_bounds(fr) for fr in drawn])
        fit(m, np.r_[b[:, :2].min(axis=0), b[:, 2:].max(axis=0)], padding=FIT_PADDING)
    add_raster(canvas, basemap, None)
    families = ordered_families(sites)
    colours = family_colors(families, colors)
    if pieces is None:
        pieces = flight_pieces(flights, fixes, params)
    pieces = pieces.with_levels() if pieces is not None else None
    sections = list(legend_sections)
    if sites is not None:
        near = [pieces.levels[0] if pieces is not None and pieces.levels else None]
        near.append(captures.geometry.to_numpy() if captures is not None else None)
        drawn_sites = sites_to_draw(sites, exposed_mask(sites), near, max_sites=max_sites)
        if not drawn_sites.all() and max_sites is not None:
            note = context_note(len(sites), int(drawn_sites.sum()), max_sites, CONTEXT_M)
            sections.append(("Sites not drawn", [("display:none", note)]))
            sites = sites[drawn_sites]
        fam = sites[FAMILY].astype(str).to_numpy()
        for name in colours:
            spec = site_spec(sites[fam == name], colours, links=site_pages)
            canvas.layer(f"{name} sites", "features", spec)
    if pieces is not None:
        draw_flights(canvas, pieces)
    if captures is not None:  # drawn under the sites (site_spec's "front")
        add_captures(canvas, captures, f["capture_sites"], thumbs)
    add_replay(canvas, replay_data(fixes, captures))
    for name, data, _ in layers:
        canvas.layer(name, "features", dict(data))

    body = legend(
        colours,
        heights=fixes is not None,
        flights=flights is not None,
        captures=captures is not None,
        note=OSM_NOTE if basemap == "osm" else None,
        extra=[(name, entries) for name, _, entries in layers if entries] + sections,
    )
    return finish(m, body)


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
    return write_page(m, path)
