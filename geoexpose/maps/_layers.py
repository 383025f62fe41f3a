"""The layers of a geoexpose map: sites, flights, captures and fixes, and the legend.

Each layer is a folium ``FeatureGroup`` (one toggle in the layer control) whose
features the page's runtime draws from a JSON data block (:mod:`._encode`).
Popups are tables of display text, built in the browser as text, never as HTML.
Flight tracks are drawn at the level of detail of the zoom (``TRACK_LEVELS_M``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoexpose.maps._canvas import Canvas
from geoexpose.maps._encode import encode_geometries, simplify_m
from geoexpose.maps._html_text import DASH, legend_html, text_array
from geoexpose.schema import (
    AIRCRAFT_ID,
    ALT_AGL_M,
    CAM_LAT,
    CAM_LON,
    CAPTURE_ID,
    CAPTURE_KIND,
    EXPOSURE_COLUMNS,
    EXPOSURE_SCORE,
    FAMILY,
    FLAGS,
    FLIGHT_ID,
    GEOMETRY,
    GSD_CM,
    N_CAPTURES,
    N_FLIGHTS,
    NAME,
    PATH,
    PITCH_DEG,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    TIME_UTC,
    YAW_DEG,
)

if TYPE_CHECKING:
    from geoexpose.maps._thumbnails import Thumbnails

__all__ = [
    "AGL_COLORS",
    "AGL_EDGES",
    "CAPTURE_COLORS",
    "FLIGHT_COLOR",
    "FOOTPRINT_LAYERS",
    "MAX_LABELS",
    "REPLAY_COLOR",
    "SCORE_COLORS",
    "SCORE_EDGES",
    "SIMPLIFY_M",
    "TRACK_LEVELS_M",
    "add_captures",
    "agl_class",
    "base_names",
    "exposed_mask",
    "legend",
    "score_colors",
    "site_spec",
    "table",
]

SCORE_EDGES = (20.0, 40.0, 60.0, 80.0)
# Grey to black: no hue, so no family colour (each family is an outline colour), no
# height class and no capture colour can be mistaken for a score; darker reads as
# worse without a legend, in colour-blind eyes and on a black-and-white print.
SCORE_COLORS = ("#d4d4d4", "#a3a3a3", "#737373", "#404040", "#0d0d0d")
AGL_EDGES = (30.0, 60.0, 120.0)
AGL_COLORS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#8c8c8c")  # viridis; last: unknown
FLIGHT_COLOR = "#3b3b8f"
# footprint; footprint that shows a site: greens, a hue that no family uses
CAPTURE_COLORS = ("#74c476", "#00843d")
REPLAY_COLOR = "#f5e400"  # the replay's aircraft and trail: yellow, drawn over everything
FOOTPRINT_LAYERS = ("capture footprints showing a site", "other capture footprints")
MAX_LABELS = 60  # exposed sites labelled by name on a map, the most exposed first
SIMPLIFY_M = 1.0
TRACK_LEVELS_M = (SIMPLIFY_M, 4.0, 16.0, 64.0, 256.0, 1024.0)
_FOOTPRINT_SIMPLIFY_M = 0.5
_MAX_SITES_LISTED = 5
_FEW_ROWS = 64  # style rows found in plain Python, below this many
_FOLDERS = re.compile(r"^.*[\\/]")  # what base_names cuts off


def base_names(values: pd.Series) -> pd.Series:
    r"""Only the file name of each path: a map shares no local folders.

    Each distinct path is cut once (a fleet's fixes repeat a few hundred of them).

    >>> base_names(pd.Series(["/a/b/x.csv", "C:\\logs\\y.csv", None])).tolist()
    ['x.csv', 'y.csv', None]
    """
    codes, uniques = pd.factorize(values)  # missing values: code -1
    names = [_FOLDERS.sub("", str(v)) for v in np.asarray(uniques, dtype=object).tolist()]
    return pd.Series(np.array([*names, None], dtype=object)[codes], values.index, dtype=object)


def _styles(frame: pd.DataFrame) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Find the distinct style rows of a frame, and the index of each row's style."""
    if len(frame) == 0:
        return [], np.zeros(0, dtype="int64")
    if len(frame) <= _FEW_ROWS:  # a site map's few rows: plain Python beats a MultiIndex
        rows = list(zip(*(frame[c].tolist() for c in frame.columns), strict=True))
        if not any(v != v for row in rows for v in row):  # no NaN (which never equals itself)
            where: dict[tuple[Any, ...], int] = {}
            small = np.array([where.setdefault(row, len(where)) for row in rows], dtype="intp")
            keys = [str(c) for c in frame.columns]
            return [dict(zip(keys, row, strict=True)) for row in where], small
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(frame))
    styles = pd.DataFrame(list(uniques), columns=frame.columns).to_dict("records")
    return styles, codes


def table(frame: pd.DataFrame, columns: list[str], title: pd.Series) -> dict[str, Any]:
    """Popup table: a title and the display text of each column, per row."""
    cells = [text_array(frame[c], c) for c in columns]
    rows = np.column_stack(cells).tolist() if cells else [[] for _ in range(len(frame))]
    titles = title.astype(object).where(title.notna(), DASH).astype(str)
    return {"title": titles.tolist(), "cols": columns, "rows": rows}


def score_colors(scores: Any) -> np.ndarray:
    """Fill colour of each exposure score, by classes of ``SCORE_EDGES`` (NaN as 0)."""
    scores = np.nan_to_num(np.asarray(scores, dtype="float64"), nan=0.0)
    return np.asarray(SCORE_COLORS)[np.digitize(scores, SCORE_EDGES, right=True)]


def exposed_mask(sites: pd.DataFrame) -> np.ndarray:
    """Sites with a score above 0, a flight or a capture (as ``ExposureResult.exposed``)."""
    exposed = np.zeros(len(sites), dtype=bool)
    if EXPOSURE_SCORE in sites.columns:
        exposed |= pd.to_numeric(sites[EXPOSURE_SCORE], errors="coerce").fillna(0).to_numpy() > 0
    for col in (N_FLIGHTS, N_CAPTURES):
        if col in sites.columns:
            exposed |= pd.to_numeric(sites[col], errors="coerce").fillna(0).to_numpy() > 0
    return exposed


def site_spec(
    sites: pd.DataFrame,
    family_colors: Mapping[str, str],
    *,
    links: Mapping[str, str] | None = None,
    labels: int = MAX_LABELS,
) -> dict[str, Any]:
    """Make the data of a site layer: geometry, styles (exposed ones filled by score), popups.

    The ``labels`` most exposed sites get a label with their name (or id).
    """
    score = (
        pd.to_numeric(sites[EXPOSURE_SCORE], errors="coerce").to_numpy("float64")
        if EXPOSURE_SCORE in sites.columns
        else np.full(len(sites), np.nan)
    )
    exposed = exposed_mask(sites)
    color = sites[FAMILY].astype(str).map(dict(family_colors)).to_numpy(dtype=object)
    fill = np.where(exposed, score_colors(score), color)
    line = np.isin(shapely.get_type_id(sites.geometry.values), (1, 2, 5))
    # The family is the outline; the score, the fill (a line site: a casing of its
    # score colour around the line of its family's colour).
    styles, s = _styles(
        pd.DataFrame(
            {
                "color": color,
                "casing": np.where(line & exposed, fill, ""),
                "weight": np.select([line & exposed, line, exposed], [3.0, 3.0, 3.0], 1.5),
                "opacity": 1.0,
                "fillColor": fill,
                "fillOpacity": np.where(exposed, 0.75, 0.15),
                "radius": np.where(exposed, 9, 6),
            }
        )
    )
    columns = [
        c for c in SITE_COLUMNS + EXPOSURE_COLUMNS if c in sites and c not in (NAME, GEOMETRY)
    ]
    frame = sites.assign(**{SOURCE: base_names(sites[SOURCE])}) if SOURCE in sites else sites
    title = (
        sites[NAME].where(sites[NAME].notna(), sites[SITE_ID]) if NAME in sites else sites[SITE_ID]
    )
    popup = table(frame, columns, title)
    popup["ids"] = sites[SITE_ID].astype(str).tolist()
    spec: dict[str, Any] = {"kind": "site", "front": True}
    if labels and exposed.any():
        rank = np.argsort(-np.nan_to_num(score, nan=0.0), kind="stable")
        top = rank[exposed[rank]][:labels]
        names = np.full(len(sites), None, dtype=object)
        names[top] = np.asarray(popup["title"], dtype=object)[top]
        spec["labels"] = names.tolist()
        spec["label_rank"] = np.round(100.0 - np.nan_to_num(score, nan=0.0), 3)
    if links:
        popup["links"] = [links.get(i) for i in popup["ids"]]
        popup["links_label"] = "open the site's map"
    geoms = simplify_m(sites.geometry.values, SIMPLIFY_M, preserve_topology=True)
    return spec | {"g": encode_geometries(geoms), "styles": styles, "s": s, "table": popup}


def agl_class(agl: np.ndarray) -> np.ndarray:
    """Height class of each height above ground (``AGL_EDGES``; the last is unknown)."""
    agl = np.asarray(agl, dtype="float64")
    return np.where(np.isnan(agl), len(AGL_EDGES) + 1, np.digitize(np.nan_to_num(agl), AGL_EDGES))


def agl_labels() -> list[str]:
    """Legend label of each height class."""
    h = [f"{e:g}" for e in AGL_EDGES]
    labels = [f"< {h[0]} m", *(f"{a}{DASH}{b} m" for a, b in itertools.pairwise(h))]
    return [*labels, f"\u2265 {h[-1]} m", "unknown"]


def _sites_shown(captures: pd.DataFrame, capture_sites: pd.DataFrame | None) -> pd.Series:
    """List the ids of the sites each capture shows, as text (at most a few named)."""
    empty = pd.Series("", index=captures.index, dtype=object)
    if capture_sites is None or len(capture_sites) == 0 or CAPTURE_ID not in captures:
        return empty
    listed = capture_sites.drop_duplicates([CAPTURE_ID, SITE_ID]).copy()
    listed[SITE_ID] = listed[SITE_ID].astype(str)
    listed["rank"] = listed.groupby(CAPTURE_ID).cumcount()
    count = listed.groupby(CAPTURE_ID).size()
    names = listed[listed["rank"] < _MAX_SITES_LISTED].groupby(CAPTURE_ID)[SITE_ID]
    text = names.agg(", ".join)
    more = (count - _MAX_SITES_LISTED).reindex(text.index)
    text = text.where(more <= 0, text + " and " + more.astype(str) + " more")
    return pd.Series(captures[CAPTURE_ID].map(text).fillna("").to_numpy(), index=captures.index)


def add_captures(
    canvas: Canvas,
    captures: pd.DataFrame,
    capture_sites: pd.DataFrame | None,
    thumbnails: Thumbnails | None,
) -> None:
    """Capture footprints (those that show a site, then the others, off) and camera positions.

    The layers share one popup table.
    """
    shown = _sites_shown(captures, capture_sites)
    shows_site = (shown != "").to_numpy()
    names = (
        base_names(captures[PATH]) if PATH in captures else pd.Series(DASH, index=captures.index)
    )
    frame = pd.DataFrame({"file": names, "sites shown": shown.where(shows_site, DASH)})
    shown_cols = (CAPTURE_KIND, TIME_UTC, FLIGHT_ID, AIRCRAFT_ID, GSD_CM, ALT_AGL_M, PITCH_DEG)
    for col in (*shown_cols, YAW_DEG, FLAGS):
        if col in captures:
            frame[col] = captures[col].to_numpy()
    cols = [c for c in frame.columns if c != "file"]
    popup = table(frame, cols, frame["file"])
    if CAPTURE_ID in captures:
        popup["ids"] = captures[CAPTURE_ID].astype(str).tolist()
    if thumbnails is not None and PATH in captures:
        # Captures that show a site first, finest GSD first; then the others in order.
        gsd = (
            pd.to_numeric(captures[GSD_CM], errors="coerce").to_numpy("float64")
            if GSD_CM in captures
            else np.full(len(captures), np.nan)
        )
        order = np.lexsort((np.nan_to_num(gsd, nan=np.inf), ~shows_site))
        kinds = (
            captures[CAPTURE_KIND]
            if CAPTURE_KIND in captures
            else pd.Series("photo", index=captures.index)
        )
        got, reasons = thumbnails.for_map(
            captures[PATH].to_numpy(dtype=object)[order], kinds.to_numpy(dtype=object)[order]
        )
        uris = list(dict.fromkeys(got.values()))
        where = {uri: n for n, uri in enumerate(uris)}
        popup["thumbs"] = canvas.block(
            {"uris": uris, "of": {str(order[k]): where[uri] for k, uri in got.items()}}
        )
        popup["no_thumb"] = {int(order[k]): why for k, why in reasons.items()}
        popup["no_thumb"] = [popup["no_thumb"].get(i) for i in range(len(captures))]
    table_id = canvas.block(popup)
    color = np.asarray(CAPTURE_COLORS)[shows_site.astype(int)]
    foot_styles, foot_s = _styles(
        pd.DataFrame(
            {
                "color": color,
                "weight": np.where(shows_site, 1.5, 1.0),
                "opacity": 0.75,
                "fillColor": color,
                "fillOpacity": 0.0,  # outlines: many overlap, and fills would add up
            }
        )
    )
    footprints = simplify_m(captures.geometry.values, _FOOTPRINT_SIMPLIFY_M, preserve_topology=True)
    # Those that show a site are drawn; the others (often many, and large where the
    # camera was near level) are a layer switched off.
    for name, rows in (
        (FOOTPRINT_LAYERS[0], np.flatnonzero(shows_site)),
        (FOOTPRINT_LAYERS[1], np.flatnonzero(~shows_site)),
    ):
        if len(rows) == 0:
            continue
        canvas.layer(
            name,
            "features",
            {
                "g": encode_geometries(footprints[rows]),
                "styles": foot_styles,
                "s": foot_s[rows],
                "rows": rows,
                "table": table_id,
                "kind": "footprint",
            },
            show=name == FOOTPRINT_LAYERS[0],
        )
    if CAM_LON in captures and CAM_LAT in captures:
        lon = pd.to_numeric(captures[CAM_LON], errors="coerce").to_numpy("float64")
        lat = pd.to_numeric(captures[CAM_LAT], errors="coerce").to_numpy("float64")
        ok = np.isfinite(lon) & np.isfinite(lat)
        points = np.full(len(captures), None, dtype=object)
        points[ok] = shapely.points(lon[ok], lat[ok])
        cam_styles, cam_s = _styles(
            pd.DataFrame(
                {
                    "color": "#ffffff",
                    "weight": 1.0,
                    "opacity": 1.0,
                    "fillColor": color,
                    "fillOpacity": 1.0,
                    "radius": 4,
                }
            )
        )
        canvas.layer(
            "camera positions",
            "features",
            {
                "g": encode_geometries(points),
                "styles": cam_styles,
                "s": cam_s,
                "table": table_id,
                "kind": "camera",
            },
        )


def legend(
    family_colors: Mapping[str, str],
    *,
    heights: bool,
    flights: bool,
    captures: bool,
    note: str | None,
    extra: list[tuple[str, list[tuple[str, str]]]] | None = None,
) -> str:
    """Write the legend's HTML: score classes, families, flights, captures, and ``extra``."""
    edges = [0, *SCORE_EDGES, 100]
    sections = [
        (
            "exposure_score (fill)",
            [
                (f"background:{c}", f"{a:g}{DASH}{b:g}")
                for c, (a, b) in zip(SCORE_COLORS, itertools.pairwise(edges), strict=True)
            ],
        ),
        (
            "Sites by family (outline)",
            [(f"background:#fff;border:2px solid {c}", f) for f, c in family_colors.items()],
        ),
    ]
    if heights:
        sections.append(
            (
                "Flights: height above ground (or take-off)",
                list(zip((f"background:{c}" for c in AGL_COLORS), agl_labels(), strict=True)),
            )
        )
    elif flights:
        sections.append(("Flights", [(f"background:{FLIGHT_COLOR}", "flight path")]))
    if captures:
        sections.append(
            (
                "Captures",
                [
                    (
                        f"border:2px solid {CAPTURE_COLORS[0]}",
                        "footprint showing no site (layer off at first)",
                    ),
                    (
                        f"border:2px solid {CAPTURE_COLORS[1]}",
                        "footprint showing a site",
                    ),
                    (f"background:{CAPTURE_COLORS[0]};border-radius:50%", "camera position"),
                ],
            )
        )
    sections += extra or []
    return legend_html(sections, note)
