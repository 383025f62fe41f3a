"""What the site maps of one result draw, prepared once: frames, indexes and rows by site.

Drawing a site map takes only its own rows. The tables are converted to lon/lat,
indexed (fixes by longitude, track pieces and capture footprints in STRtrees) and
grouped by ``site_id`` once, so that writing the maps of many sites costs
O(fixes + sites) plus the rows near each site, not O(fixes x sites).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geoexpose.maps._canvas import lonlat_frame
from geoexpose.maps._html_text import DASH
from geoexpose.maps._layers import base_names
from geoexpose.maps._tracks import FlightPieces, TrackClip, flight_pieces
from geoexpose.schema import (
    ALT_AGL_M,
    CAPTURE_ID,
    FAMILY,
    FLIGHT_ID,
    LAT,
    LON,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    TIME_UTC,
)
from geoexpose.tracks import fix_lonlat

__all__ = [
    "FixIndex",
    "SiteMapData",
    "fix_table",
    "line_positions",
    "object_strings",
    "rows_by_site",
    "zone_boxes",
]


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


def fix_table(fixes: pd.DataFrame | None, rows: np.ndarray | None = None) -> pd.DataFrame | None:
    """Keep what a site map shows of the fixes, in a form quick to take rows from.

    ``flight_id``, ``time_utc``, ``alt_agl_m``, ``source`` (file names only,
    categorical) and ``lon``/``lat``; no Points, no Arrow strings. ``rows``: keep
    only these positions (ascending); the index holds each row's position in
    ``fixes``.
    """
    if fixes is None:
        return None
    index: pd.Index = pd.RangeIndex(len(fixes))
    if rows is not None:  # only the columns kept: taking rows of the others costs
        geometry = [fixes.geometry.name] if hasattr(fixes, "geometry") else []
        shown = (FLIGHT_ID, SOURCE, TIME_UTC, ALT_AGL_M, LON, LAT, *geometry)
        fixes, index = fixes[[c for c in shown if c in fixes]].iloc[rows], pd.Index(rows)
    xy = fix_lonlat(fixes)
    out = pd.DataFrame({LON: xy[:, 0], LAT: xy[:, 1]}, index=index)
    for col in (FLIGHT_ID, SOURCE):
        if col in fixes:
            codes, uniques = pd.factorize(fixes[col])
            names = pd.Series(np.asarray(uniques, dtype=object), dtype=object)
            if col == SOURCE:  # two folders may hold files of the same name
                same, names_ = pd.factorize(base_names(names))
                codes = np.where(codes >= 0, same[np.maximum(codes, 0)], -1)
                names = pd.Series(np.asarray(names_, dtype=object), dtype=object)
            out[col] = pd.Categorical.from_codes(codes, categories=pd.Index(names))
    for col in (TIME_UTC, ALT_AGL_M):
        if col in fixes:
            out[col] = fixes[col].array
    return out


def object_strings(frame: Any) -> Any:
    """Return ``frame`` with its text columns as object arrays (a new frame; None stays None).

    Taking a few rows of an Arrow-backed text column costs a call into Arrow per
    column and map; object arrays are taken by numpy.

    >>> object_strings(pd.DataFrame({"a": pd.array(["x", None], dtype="string")}))["a"].dtype
    dtype('O')
    """
    if frame is None:
        return None
    text = {
        c: pd.Series(frame[c].to_numpy(dtype=object, na_value=None), frame.index, dtype=object)
        for c, t in frame.dtypes.items()
        if isinstance(t, pd.StringDtype | pd.ArrowDtype)
    }
    return frame.assign(**text) if text else frame


def _fixes_near(fixes: pd.DataFrame | None, sites: pd.DataFrame | None) -> np.ndarray | None:
    """Positions (ascending) of the fixes that may lie in the zone of one of ``sites``.

    A fix is kept when it is inside a site's bounds widened by its ``standoff_m``
    (and 1 %, and a metre) in degrees; a site map draws only fixes inside its zone.
    """
    if fixes is None:
        return None
    if sites is None or len(sites) == 0:
        return np.zeros(0, dtype="int64")
    index = FixIndex(fixes)
    near = np.zeros(len(fixes), dtype=bool)
    for box in shapely.box(*zone_boxes(sites).T):
        near[index.inside(box)] = True
    return np.flatnonzero(near)


def zone_boxes(sites: pd.DataFrame, pad: float = 0.0) -> np.ndarray:
    """Boxes (rows of west, south, east, north) that hold each site's zone, in degrees.

    Each site's bounds are widened by its ``standoff_m`` (and 1 %, and a metre),
    then by ``pad`` times the box's width and height on each side.
    """
    bounds = shapely.bounds(sites.geometry.to_numpy()).reshape(-1, 4)
    standoff = np.zeros(len(sites))
    if STANDOFF_M in sites:
        standoff = pd.to_numeric(sites[STANDOFF_M], errors="coerce").fillna(0).to_numpy("float64")
    d_lat = (np.maximum(standoff, 0.0) * 1.01 + 1.0) / 110_000.0
    coslat = np.cos(np.radians(np.minimum(np.abs(bounds[:, [1, 3]]).max(axis=1) + d_lat, 89.9)))
    d_lon = d_lat / coslat
    boxes = bounds + np.column_stack([-d_lon, -d_lat, d_lon, d_lat])
    size = boxes[:, 2:] - boxes[:, :2]
    return boxes + pad * np.hstack([-size, size])


def line_positions(flights: pd.DataFrame) -> pd.DataFrame:
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


def rows_by_site(frame: Any) -> dict[str, np.ndarray]:
    """Positions of the rows of each ``site_id`` (as text), in frame order: one sort.

    >>> rows_by_site(pd.DataFrame({"site_id": ["b", "a", "b"]}))
    {'a': array([1]), 'b': array([0, 2])}
    """
    if frame is None or SITE_ID not in frame or len(frame) == 0:
        return {}
    ids = frame[SITE_ID].astype(str).to_numpy(dtype=object)
    order = np.argsort(ids, kind="stable")
    keys, starts = np.unique(ids[order], return_index=True)
    return dict(zip(keys.tolist(), np.split(order, starts[1:]), strict=True))


class SiteMapData:
    """The frames of a result in lon/lat, indexed and grouped by site, for its site maps.

    Parameters
    ----------
    result
        An exposure result, or a namespace with some of its frames (``sites``,
        ``pairs``, ``fixes``, ``flights``, ``captures``, ``capture_sites``,
        ``footprints``, ``params``).
    pieces
        The flight tracks already cut (:func:`flight_pieces`), when the caller has them.
    site_ids
        The only sites whose maps will be drawn (None: any); the other sites'
        rows are not kept, which saves time and memory when a fleet scan maps 50
        of 300,000 sites.
    """

    def __init__(
        self,
        result: Any,
        *,
        pieces: FlightPieces | None = None,
        site_ids: Iterable[str] | None = None,
    ) -> None:
        self.params = dict(getattr(result, "params", None) or {})
        sites = getattr(result, "sites", None)
        if sites is not None and site_ids is not None and SITE_ID in sites:
            sites = sites[sites[SITE_ID].astype(str).isin([str(i) for i in site_ids]).to_numpy()]
        sites = lonlat_frame(sites, "sites", (SITE_ID, FAMILY))
        self.sites = object_strings(sites)
        self._site_rows: dict[str, int] = {}
        if self.sites is not None:
            ids = pd.Series(self.sites[SITE_ID].astype(str).to_numpy(dtype=object), dtype=object)
            first = ~ids.duplicated().to_numpy()
            rows = np.flatnonzero(first)
            self._site_rows = dict(zip(ids.to_numpy()[rows].tolist(), rows.tolist(), strict=True))
        fixes = lonlat_frame(getattr(result, "fixes", None), "fixes", (FLIGHT_ID, TIME_UTC))
        self.flights = lonlat_frame(getattr(result, "flights", None), "flights", ())
        if pieces is None:
            pieces = flight_pieces(self.flights, fixes, self.params)
        if pieces is not None:  # rows of object columns are taken by numpy, per map
            pieces = dataclasses.replace(pieces.with_levels(), frame=object_strings(pieces.frame))
        # A site map clips the tracks to its zone's box padded by half (see site_map).
        around = (
            zone_boxes(self.sites, 0.51)
            if site_ids is not None and self.sites is not None
            else None
        )
        self.tracks = TrackClip(pieces, boxes=around)
        near = None if site_ids is None else _fixes_near(fixes, self.sites)
        self.fixes = fix_table(fixes, near)
        del fixes
        self.fix_label = "fixes in the zone"
        self.fix_index = FixIndex(self.fixes)
        if self.fixes is None and self.flights is not None:
            self.fix_index = FixIndex(line_positions(self.flights))
            self.fix_label = "flight positions in the zone"
        captures = getattr(result, "captures", None)
        has_captures = captures is not None and len(captures) > 0
        self.captures = lonlat_frame(captures, "captures", ()) if has_captures else None
        geoms = self.captures.geometry.to_numpy() if self.captures is not None else []
        self._capture_tree = shapely.STRtree(np.asarray(geoms, dtype=object))
        self.capture_sites = getattr(result, "capture_sites", None)
        self._capture_sites_rows = rows_by_site(self.capture_sites)
        footprints = getattr(result, "footprints", None)
        has_footprints = footprints is not None and len(footprints) > 0 and SITE_ID in footprints
        self.footprints = lonlat_frame(footprints, "footprints", ()) if has_footprints else None
        self._footprint_rows = rows_by_site(self.footprints)
        self.pairs = object_strings(getattr(result, "pairs", None))
        self._pair_rows = rows_by_site(self.pairs)

    def site(self, site_id: str) -> pd.DataFrame | None:
        """Return the site's row (a one-row frame), or None when the result lacks it."""
        pos = self._site_rows.get(str(site_id))
        return None if pos is None or self.sites is None else self.sites.iloc[[pos]]

    def captures_touching(self, zone: Any) -> np.ndarray:
        """Positions (ascending) of the captures whose footprint intersects ``zone``."""
        if self.captures is None:
            return np.zeros(0, dtype="int64")
        return np.sort(self._capture_tree.query(zone, predicate="intersects"))

    def capture_sites_of(self, site_id: str) -> pd.DataFrame | None:
        """Return one site's capture x site rows (all, without ``site_id``/``capture_id``)."""
        cs = self.capture_sites
        if cs is None or SITE_ID not in cs or CAPTURE_ID not in cs:
            return cs
        return cs.iloc[self._capture_sites_rows.get(site_id, np.zeros(0, dtype="int64"))]

    def footprints_of(self, site_id: str) -> pd.DataFrame | None:
        """Return the imaged part of one site, or None."""
        rows = self._footprint_rows.get(site_id)
        if self.footprints is None or rows is None:
            return None
        return self.footprints.iloc[rows]

    def pairs_of(self, site_id: str) -> pd.DataFrame | None:
        """Return the flight x site rows of one site, or None."""
        rows = self._pair_rows.get(site_id)
        return None if self.pairs is None or rows is None else self.pairs.iloc[rows]
