"""The map of one site: its zone, what touched it and a panel of its numbers.

A site map is zoomed to the site's zone (the site buffered by ``standoff_m``) and
shows the zone, the site, the imaged part of it, the capture footprints that touch
the zone, the fixes inside the zone (coloured by height above ground), the flight
tracks around it, and a panel with the site's numbers and one row per flight.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError
from geoexpose.maps._canvas import (
    OSM_NOTE,
    Canvas,
    add_raster,
    check_basemap,
    family_colors,
    finish,
    fit,
    lonlat_frame,
    new_map,
    thumbnails_of,
)
from geoexpose.maps._encode import encode_geometries, to_lonlat, to_metric
from geoexpose.maps._html_inline import DASH, escape, panel_html
from geoexpose.maps._layers import (
    AGL_COLORS,
    add_captures,
    add_flights,
    agl_class,
    base_names,
    legend,
    site_spec,
    table,
)
from geoexpose.schema import (
    ALT_AGL_M,
    CAPTURE_ID,
    EXPOSURE_COLUMNS,
    FAMILY,
    FLIGHT_ID,
    KIND,
    LAT,
    LON,
    NAME,
    PAIR_COLUMNS,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    TIME_UTC,
)
from geoexpose.tracks import fix_lonlat

if TYPE_CHECKING:
    import folium

    from geoexpose.maps._thumbnails import Thumbnails

__all__ = ["MAX_SITE_FIXES", "FixIndex", "explore_site", "site_map"]

MAX_SITE_FIXES = 20_000
_ZONE_STYLE = {
    "color": "#333333",
    "weight": 2.0,
    "opacity": 0.9,
    "dashArray": "6 4",
    "fillColor": "#999999",
    "fillOpacity": 0.08,
}
_IMAGED_STYLE = {
    "color": "#7b3294",
    "weight": 1.0,
    "opacity": 0.9,
    "fillColor": "#7b3294",
    "fillOpacity": 0.35,
}


def _esc(text: str) -> str:
    return str(escape(pd.Series([text])).iloc[0])


def zone_of(site: pd.DataFrame) -> Any:
    """Return the zone of one site, in EPSG:4326: its geometry buffered by ``standoff_m``."""
    standoff = 0.0
    if STANDOFF_M in site:
        standoff = float(pd.to_numeric(site[STANDOFF_M], errors="coerce").fillna(0).iloc[0])
    metric, bands = to_metric(site.geometry.values)
    zone = shapely.buffer(metric, max(standoff, 1.0 if standoff <= 0 else standoff))
    if standoff <= 0:
        zone = shapely.union(zone, shapely.buffer(metric, 0.0))
    return to_lonlat(zone, bands)[0]


class FixIndex:
    """Fixes sorted by longitude, to find those inside one zone quickly."""

    def __init__(self, fixes: pd.DataFrame | None) -> None:
        self.fixes = fixes
        xy = fix_lonlat(fixes) if fixes is not None else np.zeros((0, 2))
        self._order = np.argsort(xy[:, 0], kind="stable")
        self._x = xy[self._order, 0]
        self._xy = xy

    def inside(self, zone: Any) -> np.ndarray:
        """Positions (in the frame, ascending) of the fixes inside ``zone``."""
        if self.fixes is None or len(self._x) == 0:
            return np.zeros(0, dtype="int64")
        w, s, e, n = shapely.bounds(zone)
        i0 = int(np.searchsorted(self._x, w, side="left"))
        i1 = int(np.searchsorted(self._x, e, side="right"))
        cand = self._order[i0:i1]
        y = self._xy[cand, 1]
        cand = cand[(y >= s) & (y <= n)]
        hit = shapely.intersects_xy(zone, self._xy[cand, 0], self._xy[cand, 1])
        return np.sort(cand[hit])


def _line_positions(flights: pd.DataFrame) -> pd.DataFrame:
    """Return the vertices of the flight lines as positions without time or height.

    An output folder keeps no fixes; its flight lines join them, unsimplified.
    """
    coords, owner = shapely.get_coordinates(flights.geometry.to_numpy(), return_index=True)
    ids = flights[FLIGHT_ID].to_numpy(dtype=object) if FLIGHT_ID in flights else None
    return pd.DataFrame(
        {
            FLIGHT_ID: ids[owner] if ids is not None else DASH,
            LON: coords[:, 0],
            LAT: coords[:, 1],
            ALT_AGL_M: np.nan,
        }
    )


def _fix_layer(canvas: Canvas, fixes: pd.DataFrame, idx: np.ndarray, label: str) -> str | None:
    """Draw the fixes inside the zone as points coloured by height; a note if thinned."""
    note = None
    if len(idx) > MAX_SITE_FIXES:
        keep = np.unique(np.linspace(0, len(idx) - 1, MAX_SITE_FIXES).round().astype("int64"))
        note = f"{len(idx)} {label}; one in {len(idx) / len(keep):.1f} is drawn"
        idx = idx[keep]
    inside = fixes.iloc[idx]
    xy = fix_lonlat(inside)
    agl = (
        pd.to_numeric(inside[ALT_AGL_M], errors="coerce").to_numpy("float64")
        if ALT_AGL_M in inside
        else np.full(len(inside), np.nan)
    )
    cls = agl_class(agl)
    styles = [
        {"color": c, "weight": 1.0, "opacity": 1.0, "fillColor": c, "fillOpacity": 0.9, "radius": 3}
        for c in AGL_COLORS
    ]
    frame = pd.DataFrame(
        {c: inside[c].to_numpy() for c in (FLIGHT_ID, TIME_UTC, ALT_AGL_M) if c in inside}
    )
    if SOURCE in inside:
        frame[SOURCE] = base_names(inside[SOURCE]).to_numpy()
    title = frame[FLIGHT_ID] if FLIGHT_ID in frame else pd.Series(DASH, index=frame.index)
    canvas.layer(
        label,
        "features",
        {
            "g": encode_geometries(shapely.points(xy)),
            "styles": styles,
            "s": cls,
            "table": table(frame, [c for c in frame.columns if c != FLIGHT_ID], title),
        },
    )
    return note


def _panel(
    result: Any, site: pd.DataFrame, site_id: str, overview: str | None, n: dict[str, Any]
) -> str:
    row = site.iloc[[0]]
    cols = [c for c in (SITE_ID, FAMILY, KIND, STANDOFF_M, *EXPOSURE_COLUMNS) if c in row]
    numbers = pd.DataFrame(row[cols]).reset_index(drop=True)
    for key in ("fixes in the zone", "flight positions in the zone"):
        if key in n:
            numbers[key] = n[key]
    numbers["footprints touching the zone"] = n["captures"]
    sections: list[tuple[str, pd.DataFrame, bool]] = [("Numbers", numbers, False)]
    pairs = getattr(result, "pairs", None)
    if pairs is not None and len(pairs) and SITE_ID in pairs:
        mine = pairs[pairs[SITE_ID].astype(str) == site_id]
        if len(mine):
            cols = [c for c in PAIR_COLUMNS if c in mine and c != SITE_ID]
            sections.append(("Flights", pd.DataFrame(mine[cols]).reset_index(drop=True), True))
    title = row[NAME].iloc[0] if NAME in row and pd.notna(row[NAME].iloc[0]) else site_id
    body = panel_html(str(title), sections)
    if n.get("note"):
        body = body.replace("</h1>", f"</h1><div class='gx-muted'>{_esc(n['note'])}</div>", 1)
    if overview:
        href = f"{overview}#site={urllib.parse.quote(site_id, safe='')}"
        link = f"<a class='gx-link' href='{_esc(href)}'>overview map</a>"
        body = body.replace("</div>", link + "</div>", 1)
    return body


def site_map(
    result: Any,
    site_id: str,
    *,
    basemap: str | os.PathLike[str] = "none",
    colors: Mapping[str, str] | None = None,
    thumbnails: bool | Thumbnails | None = True,
    overview: str | None = None,
    fix_index: FixIndex | None = None,
) -> folium.Map:
    """Draw the map of one site; see :func:`explore_site`.

    ``fix_index`` is the fixes of ``result`` already indexed, when several site
    maps are drawn from one result.
    """
    basemap = check_basemap(basemap)
    sites = lonlat_frame(getattr(result, "sites", None), "sites", (SITE_ID, FAMILY))
    site_id = str(site_id)
    site = None if sites is None else sites[sites[SITE_ID].astype(str) == site_id]
    if site is None or len(site) == 0:
        raise InputError(f"site {site_id!r}: not among the sites of the result")
    site = site.iloc[[0]]
    zone = zone_of(site)
    params = dict(getattr(result, "params", None) or {})
    fixes = lonlat_frame(getattr(result, "fixes", None), "fixes", (FLIGHT_ID, TIME_UTC))
    flights = lonlat_frame(getattr(result, "flights", None), "flights", ())
    captures = getattr(result, "captures", None)
    captures = (
        lonlat_frame(captures, "captures", ()) if captures is not None and len(captures) else None
    )
    thumbs = thumbnails_of(thumbnails)

    m, canvas = new_map(basemap)
    w, s, e, n = shapely.bounds(zone)
    pad_x, pad_y = (e - w) * 0.5, (n - s) * 0.5
    around = (w - pad_x, s - pad_y, e + pad_x, n + pad_y)
    fit(m, np.array([w, s, e, n]), max_zoom=19, padding=((380, 10), (230, 10)))
    add_raster(canvas, basemap, around)
    canvas.layer(
        "zone",
        "features",
        {
            "g": encode_geometries(np.array([zone], dtype=object)),
            "styles": [_ZONE_STYLE],
            "interactive": False,
        },
    )
    n_captures = 0
    if captures is not None:
        touch = shapely.intersects(captures.geometry.to_numpy(), zone)
        n_captures = int(touch.sum())
        if n_captures:
            cs = getattr(result, "capture_sites", None)
            if cs is not None and CAPTURE_ID in cs and SITE_ID in cs:
                cs = cs[cs[SITE_ID].astype(str) == site_id]
            add_captures(canvas, captures[touch], cs, thumbs)
    colours = family_colors([str(site[FAMILY].iloc[0])], colors)
    canvas.layer(f"{site[FAMILY].iloc[0]} site", "features", site_spec(site, colours))
    has_imaged = False
    imaged = getattr(result, "footprints", None)
    if imaged is not None and len(imaged) and SITE_ID in imaged:
        part = lonlat_frame(imaged[imaged[SITE_ID].astype(str) == site_id], "footprints", ())
        if part is not None:
            has_imaged = True
            canvas.layer(
                "imaged part of the site",
                "features",
                {
                    "g": encode_geometries(part.geometry.values),
                    "styles": [_IMAGED_STYLE],
                    "interactive": False,
                },
            )
    clip = shapely.box(*around)
    add_flights(canvas, flights, fixes, params, name="flights around the zone", clip=clip)
    index = fix_index if fix_index is not None else FixIndex(fixes)
    label = "fixes in the zone"
    if index.fixes is None and flights is not None:
        index = FixIndex(_line_positions(flights))
        label = "flight positions in the zone"
    inside = index.inside(zone)
    note = _fix_layer(canvas, index.fixes, inside, label) if len(inside) else None
    counts = {label: len(inside), "captures": n_captures, "note": note}
    rows = [("border:2px dashed #333", "zone (site + standoff)")]
    if has_imaged:
        rows.append((f"background:{_IMAGED_STYLE['fillColor']}", "imaged part of the site"))
    extra = [("This site", rows)]
    body = legend(
        colours,
        heights=fixes is not None,
        flights=flights is not None,
        captures=n_captures > 0,
        note=None,
        extra=extra,
    )
    if basemap == "osm":
        body += f"<div class='gx-note'>{_esc(OSM_NOTE)}</div>"
    return finish(m, body + _panel(result, site, site_id, overview, counts))


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
        back to the overview map), as for :func:`geoexpose.maps.explore`.

    Returns
    -------
    folium.Map
        Zoomed to the site's zone.
    """
    return site_map(result, site_id, **kwargs)
