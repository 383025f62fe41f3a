"""The map of one site: its zone, what touched it and a panel of its numbers.

A site map is zoomed to the site's zone (the site buffered by ``standoff_m``) and
shows the zone, the site, the imaged part of it, the capture footprints that touch
the zone, the fixes inside the zone (coloured by height above ground), the flight
tracks around it, and a panel with the site's numbers and one row per flight. Of the
fixes in the zone at most ``MAX_SITE_FIXES`` are drawn, and of those at most
``MAX_FIX_POPUPS`` have a popup (:func:`popup_fixes`); the panel says when.
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
    new_map,
    thumbnails_of,
)
from geoexpose.maps._encode import encode_geometries, encode_points_xy, to_lonlat, to_metric
from geoexpose.maps._html_text import DASH, escape, panel_html, text_array
from geoexpose.maps._layers import (
    AGL_COLORS,
    add_captures,
    agl_class,
    base_names,
    legend,
    site_spec,
    table,
)
from geoexpose.maps._replay import add_replay, flight_label, replay_data
from geoexpose.maps._site_data import FixIndex, SiteMapData
from geoexpose.maps._tracks import draw_flights
from geoexpose.schema import (
    ALT_AGL_M,
    BEST_GSD_CM,
    DWELL_S,
    EXPOSURE_COLUMNS,
    FAMILY,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    KIND,
    LAST_SEEN_UTC,
    LAT,
    LON,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
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

__all__ = [
    "MAX_FIX_POPUPS",
    "MAX_SITE_FIXES",
    "FixIndex",
    "explore_site",
    "popup_fixes",
    "site_map",
]

MAX_SITE_FIXES = 20_000  # fixes drawn in the zone, at most; one in k when there are more
MAX_FIX_POPUPS = 1_000  # of those, fixes with a popup (see popup_fixes)
REPLAY_SITE_POINTS = 5_000  # fixes in the zone replayed by the time slider, at most
# The panel's flight table: short headers, the unit in brackets.
_HEADERS = {
    FLIGHT_ID: "flight",
    N_FIXES: "fixes",
    DWELL_S: "dwell (s)",
    MIN_DISTANCE_M: "min dist. (m)",
    MIN_AGL_M: "min AGL (m)",
    FIRST_SEEN_UTC: "first seen",
    LAST_SEEN_UTC: "last seen",
    N_CAPTURES: "photos",
    BEST_GSD_CM: "best GSD (cm)",
}
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


def popup_fixes(flights: np.ndarray, positions: np.ndarray, agl: np.ndarray, n: int) -> np.ndarray:
    """Choose the ``n`` fixes (of those drawn) that get a popup; return their indices, ascending.

    First the fixes that tell most: where each flight enters and leaves the zone
    (the first and last fix of each run of consecutive ``positions`` of one flight)
    and its lowest fix; then others evenly spread, up to ``n`` in all.

    >>> flights = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    >>> positions = np.array([1, 2, 3, 4, 9, 20, 21, 22])  # runs 1-4, 9 and 20-22
    >>> agl = np.array([50.0, 40, 45, 60, 55, 30, 20, 35])
    >>> popup_fixes(flights, positions, agl, 7).tolist()  # all but one inside a run
    [0, 1, 3, 4, 5, 6, 7]
    """
    size = len(positions)
    if size <= n:
        return np.arange(size)
    cut = np.ones(size, dtype=bool)
    cut[1:] = (np.diff(positions) != 1) | (flights[1:] != flights[:-1])
    key = cut | np.append(cut[1:], True)  # entries and exits
    low = np.where(np.isnan(agl), np.inf, agl)
    by_flight = np.lexsort((low, flights))
    first = np.ones(size, dtype=bool)
    first[1:] = flights[by_flight][1:] != flights[by_flight][:-1]
    key[by_flight[first]] = True  # the lowest fix of each flight
    chosen = np.flatnonzero(key)
    if len(chosen) >= n:
        return chosen[np.unique(np.linspace(0, len(chosen) - 1, n).round().astype("int64"))]
    rest = np.flatnonzero(~key)
    even = np.unique(np.linspace(0, len(rest) - 1, n - len(chosen)).round().astype("int64"))
    return np.sort(np.concatenate([chosen, rest[even]]))


def _fix_layer(canvas: Canvas, fixes: pd.DataFrame, idx: np.ndarray, label: str) -> str | None:
    """Draw the fixes inside the zone as points coloured by height; a note if thinned.

    Up to ``MAX_SITE_FIXES`` fixes are drawn, of which up to ``MAX_FIX_POPUPS`` get
    a popup (see :func:`popup_fixes`); the others are drawn as plain points.
    """
    notes = []
    if len(idx) > MAX_SITE_FIXES:
        keep = np.unique(np.linspace(0, len(idx) - 1, MAX_SITE_FIXES).round().astype("int64"))
        notes.append(f"{len(idx)} {label}; one in {len(idx) / len(keep):.1f} is drawn")
        idx = idx[keep]
    # Columns one by one: taking rows of the whole frame copies what is not drawn.
    xy = fix_lonlat(fixes[[LON, LAT]].iloc[idx] if LON in fixes else fixes.iloc[idx])
    agl = (
        pd.to_numeric(fixes[ALT_AGL_M].iloc[idx], errors="coerce").to_numpy("float64")
        if ALT_AGL_M in fixes
        else np.full(len(idx), np.nan)
    )
    cls = agl_class(agl)
    styles = [
        {"color": c, "weight": 1.0, "opacity": 1.0, "fillColor": c, "fillOpacity": 0.9, "radius": 3}
        for c in AGL_COLORS
    ]
    group = None
    popup = np.arange(len(idx))
    if len(idx) > MAX_FIX_POPUPS:
        flights = (
            pd.factorize(fixes[FLIGHT_ID].iloc[idx])[0]
            if FLIGHT_ID in fixes
            else np.zeros(len(idx), dtype="int64")
        )
        where = idx  # positions among all the fixes: fix_table's index, when a subset
        if pd.api.types.is_integer_dtype(fixes.index) and fixes.index.is_monotonic_increasing:
            where = fixes.index.to_numpy()[idx]
        popup = popup_fixes(flights, where, agl, MAX_FIX_POPUPS)
        plain = np.ones(len(idx), dtype=bool)
        plain[popup] = False
        notes.append(
            f"{len(popup)} of the {len(idx)} drawn have a popup: where each flight "
            "enters and leaves the zone, its lowest fix, and others evenly spread"
        )
        # The fixes without a popup: one MultiPoint per height class, not clickable.
        order = np.argsort(cls[plain], kind="stable")
        present, part = np.unique(cls[plain][order], return_inverse=True)
        spec = {"g": encode_points_xy(xy[plain][order], part, len(present)), "styles": styles}
        group = canvas.layer(label, "features", spec | {"s": present, "interactive": False})
    inside = fixes.iloc[idx[popup]]
    frame = pd.DataFrame(
        {c: inside[c].array for c in (FLIGHT_ID, TIME_UTC, ALT_AGL_M) if c in inside}
    )
    if SOURCE in inside:
        frame[SOURCE] = base_names(inside[SOURCE]).to_numpy()
    title = frame[FLIGHT_ID] if FLIGHT_ID in frame else pd.Series(DASH, index=frame.index)
    spec = {
        "g": encode_points_xy(xy[popup]),
        "styles": styles,
        "s": cls[popup],
        "table": table(frame, [c for c in frame.columns if c != FLIGHT_ID], title),
    }
    if group is None:
        canvas.layer(label, "features", spec)
    else:
        canvas.draw(group, "features", spec)
    return "; ".join(notes) or None


def _panel(
    data: SiteMapData, site: pd.DataFrame, site_id: str, overview: str | None, n: dict[str, Any]
) -> str:
    row = pd.DataFrame(site.iloc[[0]])  # a plain frame: a GeoDataFrame's columns cost more
    cols = [c for c in (SITE_ID, FAMILY, KIND, STANDOFF_M, *EXPOSURE_COLUMNS) if c in row]
    numbers = pd.DataFrame(row[cols]).reset_index(drop=True)
    for key in ("fixes in the zone", "flight positions in the zone"):
        if key in n:
            numbers[key] = n[key]
    numbers["footprints touching the zone"] = n["captures"]
    sections: list[tuple[str, pd.DataFrame, bool]] = [("Numbers", numbers, False)]
    mine = data.pairs_of(site_id)
    hover = None
    if mine is not None and len(mine):
        cols = [c for c in PAIR_COLUMNS if c in mine and c != SITE_ID]
        flights, hover = flights_table(pd.DataFrame(mine[cols]).reset_index(drop=True))
        sections.append(("Flights (times UTC)", flights, True))
    title = row[NAME].iloc[0] if NAME in row and pd.notna(row[NAME].iloc[0]) else site_id
    body = panel_html(str(title), sections, hover=hover)
    if n.get("note"):
        body = body.replace("</h1>", f"</h1><div class='gx-muted'>{_esc(n['note'])}</div>", 1)
    if overview:
        href = f"{overview}#site={urllib.parse.quote(site_id, safe='')}"
        link = f"<a class='gx-link' href='{_esc(href)}'>overview map</a>"
        body = body.replace("</div>", link + "</div>", 1)
    return body


def flights_table(pairs: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, list[str | None]]]:
    """Make the panel's table of flights: short labels, units in the headers, times of day.

    Returns the table (display text) and, for its first column, each flight's full
    id where the label is shorter (shown on hover).

    >>> t, hover = flights_table(pd.DataFrame({"flight_id": ["a-rather-long-flight-id.csv#1"],
    ...     "dwell_s": [1.25], "first_seen_utc": ["2021-09-06T02:23:48.6Z"]}))
    >>> t.columns.tolist(), t.iloc[0].tolist()
    (['flight', 'dwell (s)', 'first seen'], ['a-rathe\u2026d.csv#1', '1.2', '02:23:48'])
    >>> hover
    {'flight': ['a-rather-long-flight-id.csv#1']}
    """
    out = pd.DataFrame(index=pairs.index)
    hover: dict[str, list[str | None]] = {}
    times = [c for c in pairs.columns if c.endswith("_utc")]
    stamps = [str(v) for c in times for v in text_array(pairs[c], c).tolist() if v != DASH]
    one_day = len({v[:10] for v in stamps}) <= 1
    for col in pairs.columns:
        text = text_array(pairs[col], col)
        head = _HEADERS.get(col, col)
        if col == FLIGHT_ID:
            full = [str(v) for v in text.tolist()]
            short = flight_label(full)
            out[head] = short
            hover[head] = [f if f != s else None for f, s in zip(full, short, strict=True)]
        elif col in times:  # "2021-09-06 02:23:48 UTC": the time of day, or month-day time
            out[head] = [v if v == DASH else v[11:19] if one_day else v[5:19] for v in text]
        else:
            out[head] = text
    first, last = _HEADERS[FIRST_SEEN_UTC], _HEADERS[LAST_SEEN_UTC]
    if first in out and last in out:  # one column "from-to": the table stays narrow
        seen = out[first].astype(str) + "\u2013" + out[last].astype(str)
        out = out.drop(columns=[last]).rename(columns={first: "seen"})
        out["seen"] = seen
    return out, hover


def site_map(
    result: Any,
    site_id: str,
    *,
    basemap: str | os.PathLike[str] = "none",
    colors: Mapping[str, str] | None = None,
    thumbnails: bool | Thumbnails | None = True,
    overview: str | None = None,
    fix_index: FixIndex | None = None,
    data: SiteMapData | None = None,
) -> folium.Map:
    """Draw the map of one site; see :func:`explore_site`.

    ``data`` is ``result`` prepared for site maps (:class:`SiteMapData`), when
    several site maps are drawn from one result; ``fix_index``, its fixes indexed.
    """
    basemap = check_basemap(basemap)
    site_id = str(site_id)
    data = data if data is not None else SiteMapData(result, site_ids=[site_id])
    site = data.site(site_id)
    if site is None:
        raise InputError(f"site {site_id!r}: not among the sites of the result")
    zone = zone_of(site)
    shapely.prepare(zone)
    thumbs = thumbnails_of(thumbnails)

    m, canvas = new_map(basemap)
    w, s, e, n = shapely.bounds(zone)
    pad_x, pad_y = (e - w) * 0.5, (n - s) * 0.5
    around = (w - pad_x, s - pad_y, e + pad_x, n + pad_y)
    fit(m, np.array([w, s, e, n]), max_zoom=19, padding=((560, 10), (240, 90)))
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
    touch = data.captures_touching(zone)
    n_captures = len(touch)
    mine = data.captures.iloc[touch] if n_captures and data.captures is not None else None
    if mine is not None:
        add_captures(canvas, mine, data.capture_sites_of(site_id), thumbs)
    colours = family_colors([str(site[FAMILY].iloc[0])], colors)
    canvas.layer(f"{site[FAMILY].iloc[0]} site", "features", site_spec(site, colours))
    part = data.footprints_of(site_id)
    has_imaged = part is not None and len(part) > 0
    if part is not None and has_imaged:
        canvas.layer(
            "imaged part of the site",
            "features",
            {
                "g": encode_geometries(part.geometry.values),
                "styles": [_IMAGED_STYLE],
                "interactive": False,
            },
        )
    around_tracks = data.tracks.clip(shapely.box(*around))
    if around_tracks is not None:
        draw_flights(canvas, around_tracks, name="flights around the zone")
    index = fix_index if fix_index is not None else data.fix_index
    label = data.fix_label
    inside = index.inside(zone)
    note = _fix_layer(canvas, index.fixes, inside, label) if len(inside) else None
    add_replay(
        canvas,
        replay_data(
            index.fixes if len(inside) else None,
            mine,
            rows=inside,
            max_points=REPLAY_SITE_POINTS,
        ),
    )
    counts = {label: len(inside), "captures": n_captures, "note": note}
    rows = [("border:2px dashed #333", "zone (site + standoff)")]
    if has_imaged:
        rows.append((f"background:{_IMAGED_STYLE['fillColor']}", "imaged part of the site"))
    extra = [("This site", rows)]
    body = legend(
        colours,
        heights=data.fixes is not None,
        flights=data.flights is not None,
        captures=n_captures > 0,
        note=None,
        extra=extra,
    )
    if basemap == "osm":
        body += f"<div class='gx-note'>{_esc(OSM_NOTE)}</div>"
    return finish(m, body + _panel(data, site, site_id, overview, counts))


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
