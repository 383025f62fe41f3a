"""The flight tracks of a map: pieces by height class, drawn by zoom, clipped around a site.

:func:`flight_pieces` cuts the tracks once per map (or once for every site map of
a result); :class:`TrackClip` cuts them further into short lines held in an
STRtree, so that the tracks around one site are clipped from the few lines near
it rather than from every flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoexpose.maps._canvas import Canvas
from geoexpose.maps._encode import encode_geometries, simplify_levels
from geoexpose.maps._html_text import DASH
from geoexpose.maps._layers import (
    AGL_COLORS,
    FLIGHT_COLOR,
    TRACK_LEVELS_M,
    agl_class,
    agl_labels,
    base_names,
    table,
)
from geoexpose.schema import FLIGHT_COLUMNS, FLIGHT_ID, GEOMETRY, SOURCE
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, fix_arrays

__all__ = [
    "CLIP_VERTICES",
    "FlightPieces",
    "TrackClip",
    "add_flights",
    "draw_flights",
    "flight_pieces",
    "short_lines",
    "track_pieces",
]

CLIP_VERTICES = 64  # vertices of each short line that TrackClip indexes
_EMPTY = shapely.MultiLineString()


def track_pieces(
    fixes: pd.DataFrame, *, max_gap_s: float, gap_factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Flight paths cut where the height class changes, merged per flight and class.

    Each segment between consecutive fixes of a flight takes the class of the mean
    ``alt_agl_m`` of its ends; recording gaps, as :func:`geoexpose.expose` defines
    them, are not drawn. Returns one MultiLineString per (flight, class) present, the
    flight id and class of each, and the flight ids in the order of ``fix_arrays``.
    """
    a = fix_arrays(fixes, max_gap_s=max_gap_s, gap_factor=gap_factor)
    seg = np.flatnonzero(a.seg_ok[:-1] & (a.codes[:-1] >= 0)) if len(a.codes) else np.zeros(0, int)
    if seg.size == 0:
        empty = np.empty(0, dtype=object)
        return empty, empty.copy(), np.empty(0, dtype="int64"), a.names
    cls = agl_class((a.alt[seg] + a.alt[seg + 1]) / 2.0)
    start = np.ones(seg.size, dtype=bool)
    start[1:] = (seg[1:] != seg[:-1] + 1) | (cls[1:] != cls[:-1])
    run = np.cumsum(start) - 1
    last = np.append(start[1:], True)
    verts = np.concatenate([seg, seg[last] + 1])
    runs = np.concatenate([run, run[last]])
    order = np.lexsort((verts, runs))
    lines = shapely.linestrings(a.xy[verts[order]], indices=runs[order])
    n_cls = len(AGL_COLORS)
    key = a.codes[seg[start]].astype("int64") * n_cls + cls[start]
    by_key = np.argsort(key, kind="stable")
    keys, index = np.unique(key[by_key], return_inverse=True)
    pieces = shapely.multilinestrings(lines[by_key], indices=index)
    return pieces, np.asarray(a.names, dtype=object)[keys // n_cls], keys % n_cls, a.names


def _levels_spec(canvas: Canvas, levels: list[np.ndarray], spec: dict[str, Any]) -> dict[str, Any]:
    spec["levels"] = [
        {"tol_m": tol, "block": canvas.block(encode_geometries(g))}
        for tol, g in zip(TRACK_LEVELS_M, levels, strict=True)
    ]
    return spec


@dataclass(frozen=True)
class FlightPieces:
    """Flight tracks ready to draw: one geometry per row of ``frame``, and its style.

    Attributes
    ----------
    geoms : ndarray
        The (Multi)LineStrings, EPSG:4326.
    frame : DataFrame
        ``flight_id`` and the popup columns of each geometry.
    styles : list of dict
        The distinct line styles.
    s : ndarray
        The style of each geometry (an index into ``styles``).
    levels : list of ndarray or None
        ``geoms`` simplified at each of ``TRACK_LEVELS_M``, once made
        (:meth:`with_levels`).
    """

    geoms: np.ndarray
    frame: pd.DataFrame
    styles: list[dict[str, Any]]
    s: np.ndarray
    levels: list[np.ndarray] | None = None

    def take(
        self,
        rows: np.ndarray,
        geoms: np.ndarray | None = None,
        levels: list[np.ndarray] | None = None,
    ) -> FlightPieces:
        """Keep ``rows`` (positions), with new geometries (and levels) for them if given."""
        if levels is None and self.levels is not None and geoms is None:
            levels = [level[rows] for level in self.levels]
        return FlightPieces(
            self.geoms[rows] if geoms is None else geoms,
            self.frame.iloc[rows].reset_index(drop=True),
            self.styles,
            self.s[rows],
            levels,
        )

    def with_levels(self) -> FlightPieces:
        """Return the pieces with their levels of detail made (simplified in metres)."""
        if self.levels is not None:
            return self
        levels = simplify_levels(self.geoms, TRACK_LEVELS_M, preserve_topology=False)
        return FlightPieces(self.geoms, self.frame, self.styles, self.s, levels)


def flight_pieces(
    flights: pd.DataFrame | None, fixes: pd.DataFrame | None, params: Mapping[str, Any]
) -> FlightPieces | None:
    """Make the flight tracks of a map: by height class from fixes, else the flight lines.

    Returns None when there are neither fixes nor flights.
    """
    info = None
    if flights is not None and FLIGHT_ID in flights.columns:
        cols = [c for c in FLIGHT_COLUMNS if c in flights.columns and c != GEOMETRY]
        info = pd.DataFrame(flights[cols]).drop_duplicates(FLIGHT_ID).set_index(FLIGHT_ID)
        if SOURCE in info.columns:
            info[SOURCE] = base_names(info[SOURCE])
    if fixes is not None:
        gaps = {"max_gap_s": MAX_GAP_S, "gap_factor": GAP_FACTOR}
        gaps.update({k: float(v) for k, v in params.items() if k in gaps})
        geoms, flight_ids, cls, _ = track_pieces(fixes, **gaps)
        styles = [{"color": c, "weight": 3.0, "opacity": 0.9} for c in AGL_COLORS]
        frame = pd.DataFrame({FLIGHT_ID: flight_ids, "height": np.asarray(agl_labels())[cls]})
        s = np.asarray(cls, dtype="int64")
    elif flights is not None:
        geoms = flights.geometry.to_numpy()
        styles = [{"color": FLIGHT_COLOR, "weight": 2.5, "opacity": 0.9}]
        frame = pd.DataFrame(
            {FLIGHT_ID: flights[FLIGHT_ID].to_numpy() if FLIGHT_ID in flights else DASH}
        )
        s = np.zeros(len(frame), dtype="int64")
    else:
        return None
    if info is not None and len(frame):
        frame = frame.join(info.drop(columns=[c for c in frame if c in info]), on=FLIGHT_ID)
    return FlightPieces(np.asarray(geoms, dtype=object), frame, styles, s)


def draw_flights(canvas: Canvas, pieces: FlightPieces, *, name: str = "flights") -> None:
    """Draw flight tracks as one layer, at the level of detail of the zoom."""
    frame = pieces.frame
    columns = [c for c in frame.columns if c != FLIGHT_ID]
    spec = {
        "styles": pieces.styles,
        "s": pieces.s,
        "table": table(frame, columns, frame[FLIGHT_ID].astype(object)),
    }
    canvas.layer(name, "levels", _levels_spec(canvas, pieces.with_levels().levels or [], spec))


def add_flights(
    canvas: Canvas,
    flights: pd.DataFrame | None,
    fixes: pd.DataFrame | None,
    params: Mapping[str, Any],
    *,
    name: str = "flights",
    clip: Any = None,
) -> None:
    """Flight tracks coloured by height above ground (or plain flight lines), by zoom.

    ``clip``, a polygon in EPSG:4326, keeps only the part of the tracks inside it.
    """
    pieces = flight_pieces(flights, fixes, params)
    if pieces is None:
        return
    if clip is not None and len(pieces.geoms):
        pieces = FlightPieces(
            shapely.intersection(pieces.geoms, clip), pieces.frame, pieces.styles, pieces.s
        )
    draw_flights(canvas, pieces, name=name)


def short_lines(
    geoms: np.ndarray, n_max: int, *, boxes: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the lines of ``geoms`` into LineStrings of at most ``n_max`` vertices.

    Consecutive pieces share their end vertex, so they join as the line did.
    Returns the short lines and the position in ``geoms`` each comes from.
    ``boxes`` (rows of west, south, east, north): keep only the short lines whose
    bounds meet one of them (the others are never made).
    """
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    is_line = shapely.get_type_id(parts) == 1
    parts, part_of = parts[is_line], part_of[is_line]
    if len(parts) == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype="int64")
    coords, line_of = shapely.get_coordinates(parts, return_index=True)
    n = np.bincount(line_of, minlength=len(parts))
    local = np.arange(len(coords)) - (np.cumsum(n) - n)[line_of]
    step = n_max - 1
    n_cut = (np.maximum(n - 1, 0) + step - 1) // step  # short lines of each part
    first = (np.cumsum(n_cut) - n_cut)[line_of]
    cut = local // step
    own = cut < n_cut[line_of]  # the vertex opens or continues short line ``cut``
    ends = (local % step == 0) & (local > 0)  # ... and also ends short line ``cut - 1``
    # In order of short line, then vertex: each vertex once or, where one line ends
    # and the next starts, twice (the first copy ends line ``cut - 1``); no sort.
    copies = own.astype("int64") + ends
    key = np.repeat(first + cut, copies)
    key[(np.cumsum(copies) - copies)[ends]] -= 1
    xy = np.repeat(coords, copies, axis=0)
    of = np.repeat(part_of, n_cut)
    if boxes is not None and len(key):  # keys run from 0; a short line has 2 vertices or more
        starts = np.flatnonzero(np.diff(key, prepend=-1))
        lo, hi = np.minimum.reduceat(xy, starts), np.maximum.reduceat(xy, starts)
        keep = np.zeros(len(starts), dtype=bool)
        for x0, y0, x1, y1 in np.asarray(boxes, dtype="float64").reshape(-1, 4):
            keep |= (lo[:, 0] <= x1) & (hi[:, 0] >= x0) & (lo[:, 1] <= y1) & (hi[:, 1] >= y0)
        mine = keep[key]
        xy, key, of = xy[mine], (np.cumsum(keep) - 1)[key[mine]], of[keep]
    lines = shapely.linestrings(xy, indices=key) if len(xy) else np.empty(0, dtype=object)
    return np.asarray(lines, dtype=object), of


class _ShortLineIndex:
    """Geometries cut into short lines held in an STRtree (see :func:`short_lines`)."""

    def __init__(self, geoms: np.ndarray, n_max: int, boxes: np.ndarray | None = None) -> None:
        self.lines, self.of = short_lines(geoms, n_max, boxes=boxes)
        self.tree = shapely.STRtree(self.lines)

    def clip(self, box: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return the rows that reach ``box`` and their parts inside it, a MultiLineString each."""
        hit = np.sort(self.tree.query(box))
        # A line inside the box is kept whole; only those that cross its edge are cut.
        whole = np.isin(hit, self.tree.query(box, predicate="contains"))
        inside = self.lines[hit]
        inside[~whole] = shapely.intersection(inside[~whole], box)
        parts, part_of = shapely.get_parts(inside, return_index=True)
        keep = (shapely.get_type_id(parts) == 1) & ~shapely.is_empty(parts)
        parts, owner = parts[keep], self.of[hit][part_of[keep]]
        order = np.argsort(owner, kind="stable")
        rows, index = np.unique(owner[order], return_inverse=True)
        if len(rows) == 0:
            return rows, np.empty(0, dtype=object)
        return rows, np.asarray(shapely.multilinestrings(parts[order], indices=index))


class TrackClip:
    """Flight tracks cut into short lines in STRtrees, to clip them around one site fast.

    Parameters
    ----------
    pieces
        The tracks (see :func:`flight_pieces`), or None for a map without tracks.
        When they have their levels of detail, each level is clipped too.
    n_max
        Vertices of each short line.
    boxes
        The only areas that will be clipped (rows of west, south, east, north), when
        known: the tracks elsewhere are not indexed. A box clipped must lie inside
        one of them.
    """

    def __init__(
        self,
        pieces: FlightPieces | None,
        *,
        n_max: int = CLIP_VERTICES,
        boxes: np.ndarray | None = None,
    ) -> None:
        self.pieces = pieces
        geoms = pieces.geoms if pieces is not None else np.empty(0, dtype=object)
        self._base = _ShortLineIndex(geoms, n_max, boxes)
        levels = pieces.levels if pieces is not None and pieces.levels is not None else []
        self._levels = [_ShortLineIndex(level, n_max, boxes) for level in levels]

    def clip(self, box: Any) -> FlightPieces | None:
        """Clip the tracks to ``box`` (a polygon, EPSG:4326), from the pieces that reach it.

        Each piece keeps its row (flight, height class, popup); its geometry (and
        that of each level of detail) is the part inside ``box``, a MultiLineString
        (empty where a coarser level leaves nothing inside).
        """
        if self.pieces is None:
            return None
        rows, geoms = self._base.clip(box)
        if not self._levels:
            return self.pieces.take(rows, geoms)
        levels = []
        for index in self._levels:
            got, parts = index.clip(box)
            level = np.full(len(rows), _EMPTY, dtype=object)
            found = np.isin(got, rows)
            level[np.searchsorted(rows, got[found])] = parts[found]
            levels.append(level)
        return self.pieces.take(rows, geoms, levels)
