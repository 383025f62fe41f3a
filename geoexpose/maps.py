"""Interactive maps of exposure: one self-contained HTML file that loads nothing.

:func:`explore` draws the sites (one toggleable layer per family, exposed sites
filled by ``exposure_score``) and the flights (coloured by height above ground
when fixes are given) on a folium map without a basemap. :func:`write_map` renders
it with Leaflet and every style inline, and writes it atomically.

Notes
-----
Geometry is drawn in EPSG:4326 with coordinates rounded to 1e-6 degrees (about
0.1 m). Lines and polygons are first simplified in metres (``SIMPLIFY_M``) in the
metric band chosen by :mod:`geoexpose.projection`, so a scan of a million fixes
still gives a small file. The basemap is ``"none"`` unless ``"osm"`` is asked for:
the OpenStreetMap tile server then learns the area viewed, and the map says so.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoexpose import projection
from geoexpose._atomic import write_text_atomic
from geoexpose._fix_arrays import GAP_FACTOR, MAX_GAP_S, fix_arrays
from geoexpose._html_inline import (
    DASH,
    decor_element,
    inline_assets,
    legend_html,
    macro_element,
    popup_tables,
)
from geoexpose.errors import InputError, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    CRS_LONLAT,
    EXPOSURE_COLUMNS,
    EXPOSURE_SCORE,
    FAMILIES,
    FAMILY,
    FLIGHT_COLUMNS,
    FLIGHT_ID,
    GEOMETRY,
    N_CAPTURES,
    N_FLIGHTS,
    NAME,
    SITE_COLUMNS,
    SITE_ID,
    SOURCE,
    TIME_UTC,
)

if TYPE_CHECKING:
    import folium
    import geopandas as gpd

__all__ = [
    "AGL_COLORS",
    "AGL_EDGES",
    "BASEMAPS",
    "SCORE_COLORS",
    "SCORE_EDGES",
    "SIMPLIFY_M",
    "explore",
    "write_map",
]

logger = logging.getLogger(__name__)

BASEMAPS = ("none", "osm")
SIMPLIFY_M = 1.0
MAX_ZOOM = 19
SCORE_EDGES = (20.0, 40.0, 60.0, 80.0)
SCORE_COLORS = ("#fdd049", "#fd9a3c", "#f0592b", "#c8102e", "#67000d")
AGL_EDGES = (30.0, 60.0, 120.0)
AGL_COLORS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#8c8c8c")  # viridis; last: unknown
FLIGHT_COLOR = "#3b3b8f"
_FALLBACK_COLORS = dict(water="#1f78b4", rail="#6a3d9a", power="#ff7f00", military="#33a02c")
_OTHER_COLORS = ("#b15928", "#e7298a", "#666666")
_OSM_NOTE = (
    "Basemap: OpenStreetMap tiles are loaded from tile.openstreetmap.org, "
    "which sees the area you view."
)

_LAYER_JS = """{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data }}, {
  interactive: {{ this.interactive }},
  style: function (f) { var p = f.properties; return {color: p.color, weight: p.weight,
    opacity: p.opacity, fillColor: p.fillColor, fillOpacity: p.fillOpacity, radius: p.radius}; },
  pointToLayer: function (f, latlng) { return L.circleMarker(latlng, {radius: 6}); },
  onEachFeature: function (f, layer) {
    if (f.properties.popup) { layer.bindPopup(f.properties.popup, {maxWidth: 420}); } }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}"""


def _simplify_m(geoms: np.ndarray, *, preserve_topology: bool) -> np.ndarray:
    """Simplify EPSG:4326 geometries with a tolerance of ``SIMPLIFY_M`` metres."""
    out = np.array(geoms, dtype=object)
    if len(out) == 0:
        return out
    bands = projection.band_of_geometries(out)
    for band in np.unique(bands):
        sel = bands == band
        metric = projection.geometries_to_band(out[sel], int(band))
        simple = shapely.simplify(metric, SIMPLIFY_M, preserve_topology=preserve_topology)
        out[sel] = projection.from_band(simple, int(band))
    return shapely.transform(out, lambda xy: np.round(xy, 6))


def _collection(geoms: np.ndarray, props: pd.DataFrame) -> str:
    """Write a GeoJSON FeatureCollection as text that is safe inside a ``<script>``."""
    if len(geoms) == 0:
        return '{"type":"FeatureCollection","features":[]}'
    props_json = pd.Series(props.to_json(orient="records", lines=True).rstrip("\n").split("\n"))
    geom_json = pd.Series(shapely.to_geojson(geoms), dtype=object)
    features = '{"type":"Feature","properties":' + props_json + ',"geometry":' + geom_json + "}"
    text = '{"type":"FeatureCollection","features":[' + ",".join(features.tolist()) + "]}"
    return text.replace("<", "\\u003c")


def _lonlat(frame: Any, what: str, required: tuple[str, ...]) -> gpd.GeoDataFrame | None:
    """Return the frame in EPSG:4326 without rows lacking geometry, or None if empty."""
    if frame is None:
        return None
    if not hasattr(frame, "geometry") or not hasattr(frame, "crs"):
        raise InputError(f"{what}: expected a GeoDataFrame, got {type(frame).__name__}")
    missing = [col for col in required if col not in frame.columns]
    if missing:
        raise InputError(f"{what}: missing column {missing[0]!r}")
    if frame.crs is None:
        raise InputError(f"{what}: no CRS; expected {CRS_LONLAT}")
    keep = ~(frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    if not keep.all():
        logger.info("%s: %d rows without geometry are not drawn", what, int((~keep).sum()))
    frame = frame[keep]
    if len(frame) == 0:
        return None
    return frame.to_crs(CRS_LONLAT) if not frame.crs.equals(CRS_LONLAT) else frame


def _file_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep only the file name of ``source`` for popups: a map shares no local paths."""
    if SOURCE not in frame.columns:
        return frame
    names = frame[SOURCE].astype(object).where(frame[SOURCE].isna(), frame[SOURCE].astype(str))
    return frame.assign(**{SOURCE: names.str.replace(r"^.*[\\/]", "", regex=True)})


def _family_colors(families: list[str], colors: Mapping[str, str] | None) -> dict[str, str]:
    """Colour of each family: ``colors``, else the layer catalog, else a fixed palette."""
    palette = dict(_FALLBACK_COLORS)
    try:
        from geoexpose.catalog import load_catalog
    except ImportError:
        logger.debug("no layer catalog; family colours from the fixed palette")
    else:
        defs = load_catalog()
        palette.update({fam: d.color for fam, d in defs.items() if getattr(d, "color", None)})
    palette.update(colors or {})
    others = [fam for fam in families if fam not in palette]
    palette.update({fam: _OTHER_COLORS[i % len(_OTHER_COLORS)] for i, fam in enumerate(others)})
    return {fam: palette[fam] for fam in families}


def _score_colors(scores: np.ndarray) -> np.ndarray:
    """Fill colour of each exposure score, by classes of ``SCORE_EDGES`` (NaN as 0)."""
    scores = np.nan_to_num(np.asarray(scores, dtype="float64"), nan=0.0)
    return np.asarray(SCORE_COLORS)[np.digitize(scores, SCORE_EDGES, right=True)]


def _site_layers(sites: gpd.GeoDataFrame, family_colors: dict[str, str]) -> dict[str, str]:
    """GeoJSON text of each family's sites, unexposed drawn first, then by score."""
    if EXPOSURE_SCORE in sites.columns:
        score = pd.to_numeric(sites[EXPOSURE_SCORE], errors="coerce").to_numpy("float64")
    else:
        score = np.full(len(sites), np.nan)
    order = np.argsort(np.nan_to_num(score, nan=-1.0), kind="stable")
    sites, score = sites.iloc[order], score[order]
    family = sites[FAMILY].astype(str).to_numpy()
    exposed = score > 0
    for col in (N_FLIGHTS, N_CAPTURES):  # as ExposureResult.exposed has it
        if col in sites.columns:
            exposed |= pd.to_numeric(sites[col], errors="coerce").fillna(0).to_numpy() > 0
    color = pd.Series(family, dtype=object).map(family_colors).to_numpy(dtype=object)
    fill = np.where(exposed, _score_colors(score), color)
    type_id = shapely.get_type_id(sites.geometry.values)
    line = np.isin(type_id, (1, 2, 5))
    columns = [
        c for c in SITE_COLUMNS + EXPOSURE_COLUMNS if c in sites and c not in (NAME, GEOMETRY)
    ]
    title = NAME if NAME in sites.columns else SITE_ID
    props = pd.DataFrame(
        {
            "color": np.where(line & exposed, fill, color),
            "weight": np.select([line & exposed, line, exposed], [5.0, 3.0, 2.5], 1.5),
            "opacity": 1.0,
            "fillColor": fill,
            "fillOpacity": np.where(exposed, 0.7, 0.15),
            "radius": np.where(exposed, 8, 6),
            "popup": popup_tables(_file_names(sites), columns, title).to_numpy(),
        }
    )
    geoms = _simplify_m(sites.geometry.values, preserve_topology=True)
    return {
        fam: _collection(geoms[family == fam], props[family == fam].reset_index(drop=True))
        for fam in family_colors
    }


def _height_pieces(
    fixes: gpd.GeoDataFrame, *, max_gap_s: float = MAX_GAP_S, gap_factor: float = GAP_FACTOR
) -> tuple[np.ndarray, np.ndarray]:
    """Cut flight paths where height above ground changes class; merge them per class.

    Each segment between consecutive fixes of a flight takes the class of the mean
    ``alt_agl_m`` of its ends (``AGL_EDGES``; the last class is "unknown"); recording
    gaps, as :func:`geoexpose.exposure.expose` defines them, are not drawn. Returns
    one MultiLineString per class present, and the class index of each.
    """
    a = fix_arrays(fixes, max_gap_s=max_gap_s, gap_factor=gap_factor)
    xy, flight, agl, ok = a.xy, a.codes, a.alt, a.seg_ok
    seg = np.flatnonzero(ok[:-1] & (flight[:-1] >= 0))
    if seg.size == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype="int64")
    mean = (agl[seg] + agl[seg + 1]) / 2.0
    cls = np.where(np.isnan(mean), len(AGL_EDGES) + 1, np.digitize(np.nan_to_num(mean), AGL_EDGES))
    start = np.ones(seg.size, dtype=bool)
    start[1:] = (seg[1:] != seg[:-1] + 1) | (cls[1:] != cls[:-1])
    run = np.cumsum(start) - 1
    last = np.append(start[1:], True)
    verts = np.concatenate([seg, seg[last] + 1])
    runs = np.concatenate([run, run[last]])
    order = np.lexsort((verts, runs))
    lines = shapely.linestrings(xy[verts[order]], indices=runs[order])
    lines = _simplify_m(lines, preserve_topology=False)
    run_cls = cls[start]
    by_class = np.argsort(run_cls, kind="stable")
    classes, index = np.unique(run_cls[by_class], return_inverse=True)
    return shapely.multilinestrings(lines[by_class], indices=index), classes


def _flight_layers(
    flights: gpd.GeoDataFrame | None, fixes: gpd.GeoDataFrame | None, params: dict[str, Any]
) -> list[tuple[str, str]]:
    """GeoJSON text and interactivity of the flight lines, then of the height pieces."""
    out = []
    if flights is not None:
        columns = [c for c in FLIGHT_COLUMNS if c in flights.columns and c != GEOMETRY]
        props = pd.DataFrame(
            {
                "color": "#303030" if fixes is not None else FLIGHT_COLOR,
                "weight": 1.5 if fixes is not None else 2.5,
                "opacity": 0.9,
                "popup": popup_tables(_file_names(flights), columns, columns[0]).to_numpy()
                if columns
                else "",
            },
            index=range(len(flights)),
        )
        geoms = _simplify_m(flights.geometry.values, preserve_topology=False)
        out.append((_collection(geoms, props), "true"))
    if fixes is not None:
        gaps = {k: v for k, v in params.items() if k in ("max_gap_s", "gap_factor")}
        pieces, classes = _height_pieces(fixes, **gaps)
        colors = np.asarray(AGL_COLORS)[classes]
        props = pd.DataFrame({"color": colors, "weight": 3.0, "opacity": 0.9})
        out.append((_collection(pieces, props), "false"))
    return out


def _legend(family_colors: dict[str, str], with_heights: bool, osm: bool) -> str:
    edges = [0, *SCORE_EDGES, 100]
    scores = [
        (f"background:{c}", f"{a:g}{DASH}{b:g}")
        for c, (a, b) in zip(SCORE_COLORS, itertools.pairwise(edges), strict=True)
    ]
    families = [(f"background:{c}40;border:2px solid {c}", f) for f, c in family_colors.items()]
    if with_heights:
        h = [f"{e:g}" for e in AGL_EDGES]
        labels = [f"< {h[0]} m", *(f"{a}{DASH}{b} m" for a, b in itertools.pairwise(h))]
        labels += [f"\u2265 {h[-1]} m", "unknown"]
        flights = (
            "Flights: height above ground (or take-off)",
            list(zip((f"background:{c}" for c in AGL_COLORS), labels, strict=True)),
        )
    else:
        flights = ("Flights", [(f"background:{FLIGHT_COLOR}", "flight path")])
    sections = [("exposure_score", scores), ("Sites by family", families), flights]
    return legend_html(sections, _OSM_NOTE if osm else None)


def explore(
    result: Any = None,
    *,
    sites: gpd.GeoDataFrame | None = None,
    flights: gpd.GeoDataFrame | None = None,
    fixes: gpd.GeoDataFrame | None = None,
    basemap: str = "none",
    colors: Mapping[str, str] | None = None,
) -> folium.Map:
    """Draw sites and flights on an interactive map.

    Parameters
    ----------
    result
        An exposure result with ``.sites``, ``.flights`` and optionally ``.fixes``;
        frames given by keyword take precedence over its attributes.
    sites
        Sites with their exposure columns; one toggleable layer per ``family``.
        Exposed sites (``exposure_score`` > 0) are filled by score class.
    flights
        One line per flight, with a popup of its columns.
    fixes
        Fixes; when given, flight paths are coloured by ``alt_agl_m`` class.
    basemap
        ``"none"`` (default: the map loads nothing) or ``"osm"``: OpenStreetMap
        tiles, whose server then sees the area viewed; the map shows a note saying so.
    colors
        Colour of each family, overriding the layer catalog.

    Returns
    -------
    folium.Map
        Write it with :func:`write_map` to get a self-contained file.
    """
    import folium

    if basemap not in BASEMAPS:
        raise UsageError(f"basemap must be one of {', '.join(BASEMAPS)}, not {basemap!r}")
    params = dict(getattr(result, "params", None) or {})
    if result is not None:
        sites = getattr(result, "sites", None) if sites is None else sites
        flights = getattr(result, "flights", None) if flights is None else flights
        fixes = getattr(result, "fixes", None) if fixes is None else fixes
    sites = _lonlat(sites, "sites", (SITE_ID, FAMILY))
    flights = _lonlat(flights, "flights", ())
    fixes = _lonlat(fixes, "fixes", (FLIGHT_ID, TIME_UTC, ALT_AGL_M))

    m = folium.Map(tiles=None, prefer_canvas=True, control_scale=True, maxZoom=MAX_ZOOM)
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap (online)", max_zoom=MAX_ZOOM).add_to(
            m
        )
    present = [] if sites is None else sites[FAMILY].astype(str).unique().tolist()
    families = [f for f in FAMILIES if f in present] + sorted(set(present) - set(FAMILIES))
    family_colors = _family_colors(families, colors)
    if sites is not None:
        for fam, data in _site_layers(sites, family_colors).items():
            group = folium.FeatureGroup(name=f"{fam} sites").add_to(m)
            group.add_child(
                macro_element(_LAYER_JS, "GeoexposeLayer", data=data, interactive="true")
            )
    if flights is not None or fixes is not None:
        group = folium.FeatureGroup(name="flights").add_to(m)
        for data, interactive in _flight_layers(flights, fixes, params):
            group.add_child(
                macro_element(_LAYER_JS, "GeoexposeLayer", data=data, interactive=interactive)
            )
    frames = [f for f in (sites, flights, fixes) if f is not None]
    if frames:
        bounds = np.array([f.total_bounds for f in frames])
        w, s = bounds[:, :2].min(axis=0)
        e, n = bounds[:, 2:].max(axis=0)
        m.location = [float((s + n) / 2), float((w + e) / 2)]
        m.fit_bounds([[float(s), float(w)], [float(n), float(e)]], max_zoom=17)
    body = _legend(family_colors, fixes is not None, basemap == "osm")
    m.add_child(decor_element(body))
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def write_map(m_or_result: Any, path: str | os.PathLike[str], *, basemap: str = "none") -> Path:
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
