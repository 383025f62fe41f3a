"""Join fixes and track segments to site zones, in metres, without a loop over either.

The fixes, ordered by flight and time, are cut into chunks of up to 32 joined fixes
(a chunk never spans a recording gap or two flights). Sites that no chunk comes near
are set aside first, by a coarse grid in lon/lat (:func:`geoexpose.exposure._chunks.sites_near`).
Then for each longitude band that holds sites (see :mod:`geoexpose.projection`):

1. keep the chunks whose lon/lat box meets the band's sites, grown by the largest
   standoff, and the sites whose box, grown by their standoff, meets a chunk's box
   on a finer grid;
2. query an STRtree of those sites' boxes (one box per segment for a line, whose
   own box holds much land far from it) with the boxes of groups of chunks, and
   sort each group's pairs out chunk by chunk; project the fixes of the chunks met;
3. bound the distance from each chunk's fixes to the site by the distance of the
   box's centre plus or minus its half-diagonal: a chunk wholly outside the zone is
   dropped, a chunk wholly inside counts as a whole (its fixes, its time, its lowest
   height), and a chunk across the zone's edge is cut into pieces of 8 fixes,
   bounded and sorted the same way;
4. fix by fix, for the pieces across the edge, measure the exact distance to the
   site geometry and the share of each segment that lies inside the zone (the site
   buffered by its standoff): 1 when both ends are inside, found by regula falsi on
   the distance (to 2**-16 of the segment) where one end is, and from the closest
   point where a segment with both ends outside passes through the zone. For the
   runs wholly inside, a branch and bound finds each flight's closest fix to each
   site, so the closest distance is exact.

The zone is taken as convex along one segment: a segment with both ends inside
counts as inside all along. At fix intervals of a second or less this is exact to
the fix spacing; with sparse fixes and a concave zone (a bent line's buffer) a
segment that briefly leaves the zone is counted inside.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from geoexpose.exposure._chunks import M_PER_DEG_MIN, Chunks, may_meet, near_chunks, sites_near
from geoexpose.exposure._site_distance import SiteDistance
from geoexpose.exposure._zone_edge import fix_by_fix
from geoexpose.projection import (
    BAND_WIDTH_DEG,
    band_of_geometries,
    geometries_to_band,
    lonlat_to_band_near,
)
from geoexpose.tracks import reduce_ranges

__all__ = ["ZoneHits", "zone_hits"]

logger = logging.getLogger(__name__)

_PIECE = 8
_GROUP = 4  # chunks per query of the tree
_LINES = (1, 2, 5)  # shapely type ids: LineString, LinearRing, MultiLineString


@dataclass(frozen=True)
class ZoneHits:
    """Fixes, segments and whole chunks inside or near site zones.

    Attributes
    ----------
    fix, fix_site : int arrays
        Fix index and site index of each fix x site pair measured one by one.
    distance_m : float array
        Horizontal distance of the fix to the site geometry (0 inside the site).
    inside : bool array
        The fix lies inside the site's zone.
    seg, seg_site : int arrays
        Index of the first fix of each segment with a part inside a zone, and its site.
    seg_fraction : float array
        Share of the segment's length inside the zone, 0 to 1.
    seg_enter, seg_exit : float arrays
        Where along the segment (0 to 1) the part inside the zone begins and ends.
    seg_near_m : float array
        The distance to the site of the nearer of the segment's two fixes.
    run_first, run_last, run_end, run_site : int arrays
        Runs of fixes wholly inside a site's zone, counted as a whole: the first and
        last fix of the run, the fix its last segment ends at (``run_last`` or the one
        after), and the site. None of their fixes is among ``fix``.
    run_distance_m : float array
        The least distance of a run's fixes to the site where the run may hold its
        flight's closest approach, else NaN (a closer fix is known).
    """

    fix: np.ndarray
    fix_site: np.ndarray
    distance_m: np.ndarray
    inside: np.ndarray
    seg: np.ndarray
    seg_site: np.ndarray
    seg_fraction: np.ndarray
    seg_enter: np.ndarray
    seg_exit: np.ndarray
    seg_near_m: np.ndarray
    run_first: np.ndarray
    run_last: np.ndarray
    run_end: np.ndarray
    run_site: np.ndarray
    run_distance_m: np.ndarray


_SITE_FIELDS = ("fix_site", "seg_site", "run_site")


def _empty() -> ZoneHits:
    i = np.empty(0, dtype="int64")
    f = np.empty(0, dtype="float64")
    return ZoneHits(i, i, f, np.empty(0, dtype=bool), i, i, f, f, f, f, i, i, i, i, f)


def zone_hits(
    site_geoms: np.ndarray,
    standoff_m: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    flight: np.ndarray,
    segment_ok: np.ndarray,
    *,
    threads: int = 1,
    bounds: np.ndarray | None = None,
) -> ZoneHits:
    """Find the fixes, segments and runs of fixes inside or near each site's zone.

    Parameters
    ----------
    site_geoms
        Site geometries in EPSG:4326.
    standoff_m
        Zone width of each site, metres.
    lon, lat
        Fix positions, degrees, ordered by flight then time.
    flight
        Integer code of each fix's flight.
    segment_ok
        ``segment_ok[i]`` is true where fixes ``i`` and ``i + 1`` belong to one flight
        with no recording gap between them.
    threads
        Longitude bands to work on at once (shapely, pyproj and numpy release the GIL).
    bounds
        ``shapely.bounds(site_geoms)``, where already at hand (prepared sites).
    """
    if len(site_geoms) == 0 or len(lon) == 0:
        return _empty()
    chunks = Chunks.of(lon, lat, segment_ok)
    # most sites are far from every flight: set aside before anything else is done
    near = np.flatnonzero(sites_near(site_geoms, standoff_m, chunks, bounds=bounds))
    if len(near) == 0:
        return _empty()
    vertex_xy, vertex_site = shapely.get_coordinates(site_geoms[near], return_index=True)
    bands = band_of_geometries(site_geoms[near], coords=(vertex_xy, vertex_site))
    groups = [(int(b), near[bands == b]) for b in np.unique(bands)]
    # the bands with most sites first, so that two threads end at about the same time
    groups.sort(key=lambda g: -len(g[1]))

    def work(group: tuple[int, np.ndarray]) -> ZoneHits:
        band, idx = group
        mask = bands[vertex_site] == band
        vertices = (vertex_xy[mask], np.searchsorted(idx, near[vertex_site[mask]]))
        return _band_hits(
            band, site_geoms[idx], vertices, standoff_m[idx], lon, lat, flight, segment_ok, chunks
        )

    if threads > 1 and len(groups) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            results = list(pool.map(work, groups))
    else:
        results = [work(g) for g in groups]
    return ZoneHits(
        *(
            np.concatenate(
                [
                    idx[getattr(h, name)] if name in _SITE_FIELDS else getattr(h, name)
                    for (_, idx), h in zip(groups, results, strict=True)
                ]
            )
            for name in ZoneHits.__dataclass_fields__
        )
    )


def _band_hits(
    band, site_geoms, vertices, standoff_m, lon, lat, flight, segment_ok, chunks: Chunks
) -> ZoneHits:
    first = np.flatnonzero(np.r_[True, vertices[1][1:] != vertices[1][:-1]])
    vlon, vlat = vertices[0][:, 0], vertices[0][:, 1]
    bounds = np.column_stack(
        [
            np.minimum.reduceat(vlon, first),
            np.minimum.reduceat(vlat, first),
            np.maximum.reduceat(vlon, first),
            np.maximum.reduceat(vlat, first),
        ]
    )
    near = np.flatnonzero(near_chunks(site_geoms, standoff_m, chunks, bounds=bounds))
    if len(near) == 0:
        return _empty()
    # Chunk x site pairs whose boxes meet in degrees, longitudes taken from the band's
    # central meridian; the sites' boxes grow by at least their standoff.
    centre = -180.0 + BAND_WIDTH_DEG * (band + 0.5)
    s = standoff_m.astype("float64")
    vlon = np.mod(vlon - centre + 180.0, 360.0) - 180.0
    margin_lat = s / M_PER_DEG_MIN + 1e-6
    lat_lo = bounds[:, 1] - margin_lat
    lat_hi = bounds[:, 3] + margin_lat
    polar = np.maximum(np.abs(lat_lo), np.abs(lat_hi)) >= 89.0
    cos_lat = np.cos(np.radians(np.minimum(np.maximum(np.abs(lat_lo), np.abs(lat_hi)), 89.0)))
    margin_lon = np.where(polar, 540.0, margin_lat / cos_lat)
    zones = (
        np.minimum.reduceat(vlon, first) - margin_lon,
        lat_lo,
        np.maximum.reduceat(vlon, first) + margin_lon,
        lat_hi,
    )
    west = np.mod(chunks.lon_lo[near] - centre + 180.0, 360.0) - 180.0
    east = west + (chunks.lon_hi[near] - chunks.lon_lo[near])
    boxes = (west, chunks.lat_lo[near], east, chunks.lat_hi[near])
    # Most sites are far from every flight: a coarse grid sets them aside first, so
    # that only the others become boxes in a tree.
    candidates = np.flatnonzero(may_meet(zones, boxes))
    entries, owner = _tree_boxes(site_geoms, candidates, zones, margin_lon, margin_lat, centre)
    sel, entry = _box_pairs(boxes, entries)
    if len(sel) == 0:
        return _empty()
    # a chunk may meet several segments of one line: one pair each
    pair = np.unique(sel * len(site_geoms) + owner[entry])
    sel, site = pair // len(site_geoms), pair % len(site_geoms)
    # only the chunks and sites of those pairs are projected and measured
    sel_chunks, chunk = np.unique(near[sel], return_inverse=True)
    used, site = np.unique(site, return_inverse=True)
    sel = sel_chunks
    n_pos = chunks.end[sel] - chunks.start[sel] + 1
    offset = np.repeat(np.cumsum(n_pos) - n_pos, n_pos)
    pos = np.repeat(chunks.start[sel], n_pos) + np.arange(n_pos.sum()) - offset
    pos = pos[np.r_[True, pos[1:] != pos[:-1]]]  # ascending; drop shared chunk ends
    starts = np.searchsorted(pos, chunks.start[sel])
    ends = np.searchsorted(pos, chunks.end[sel])
    x, y = lonlat_to_band_near(lon[pos], lat[pos], band)
    geoms = geometries_to_band(site_geoms[used], band)
    measure = SiteDistance(geoms)
    s = s[used]
    cx, cy, chunk_half = _boxes(starts, ends, x, y)

    # Every fix of a range lies within its box's half-diagonal of the box's centre.
    # Chunk x site pairs as ranges of positions first..end; `joined`: the range's end
    # is the next range's first fix (not its own).
    first, end, joined = starts[chunk], ends[chunk], chunks.joined_end[sel][chunk]
    half = chunk_half[chunk]
    dc = measure(cx[chunk], cy[chunk], site)
    near = dc - half <= s[site]
    first, end, joined, site, dc, half = (a[near] for a in (first, end, joined, site, dc, half))
    whole = dc + half <= s[site]
    # Chunks across the zone's edge: pieces of _PIECE fixes, bounded and sorted again.
    edge = ~whole
    pf, pe, pj, ps = _pieces(first[edge], end[edge], joined[edge], site[edge])
    px, py, p_half = _boxes(pf, pe, x, y)
    p_dc = measure(px, py, ps)
    near = p_dc - p_half <= s[ps]
    pf, pe, pj, ps, p_dc, p_half = (a[near] for a in (pf, pe, pj, ps, p_dc, p_half))
    p_whole = p_dc + p_half <= s[ps]

    # Runs of fixes wholly inside a zone: whole chunks and whole pieces.
    cat = lambda a, b: np.concatenate([a[whole], b[p_whole]])  # noqa: E731
    r_first, r_end, r_joined, r_site = cat(first, pf), cat(end, pe), cat(joined, pj), cat(site, ps)
    r_lower, r_upper = cat(dc - half, p_dc - p_half), cat(dc + half, p_dc + p_half)
    # A run may hold its flight's closest approach to the site when its lower bound is
    # below the best upper bound of the flight x site pair: then it is searched.
    key = flight[pos[r_first]].astype("int64") * len(s) + r_site
    _, group = np.unique(key, return_inverse=True)
    best = np.full(group.max() + 1 if len(group) else 0, np.inf)
    np.minimum.at(best, group, r_upper)
    closest = np.full(len(r_first), np.nan)
    measured = np.flatnonzero(r_lower <= best[group])
    r_last = r_end - r_joined  # the run's own fixes end here
    if len(measured):
        closest[measured] = _closest(
            r_first[measured], r_last[measured], r_lower[measured], r_site[measured],
            group[measured], len(best), x, y, measure,
        )  # fmt: skip
    edge = ~p_whole
    one = fix_by_fix(
        pf[edge], pe[edge], pj[edge], ps[edge], pos, x, y, geoms, measure, s, segment_ok
    )
    return ZoneHits(
        fix=one["fix"],
        fix_site=used[one["fix_site"]],
        distance_m=one["distance_m"],
        inside=one["inside"],
        seg=one["seg"],
        seg_site=used[one["seg_site"]],
        seg_fraction=one["seg_fraction"],
        seg_enter=one["seg_enter"],
        seg_exit=one["seg_exit"],
        seg_near_m=one["seg_near_m"],
        run_first=pos[r_first],
        run_last=pos[r_last],
        run_end=pos[r_end],
        run_site=used[r_site],
        run_distance_m=closest,
    )


def _box_pairs(boxes, entries):
    """Pairs (i, j) of ``boxes`` (chunks, in order) and ``entries`` that meet.

    Both are ``(x0, y0, x1, y1)`` tuples of arrays. The tree is queried with the box of
    each group of _GROUP consecutive chunks, and each group's pairs are sorted out
    chunk by chunk with numpy: a tenth of the queries and of the boxes to make.
    """
    n = len(boxes[0])
    tree = shapely.STRtree(shapely.box(*entries))
    first = np.arange(0, n, _GROUP)
    group_boxes = [
        reduce.reduceat(b, first) if n else b
        for reduce, b in zip((np.fmin, np.fmin, np.fmax, np.fmax), boxes, strict=True)
    ]
    group, entry = tree.query(shapely.box(*group_boxes))
    size = np.diff(np.append(first, n))[group]
    offsets = np.cumsum(size) - size
    i = np.repeat(first[group] - offsets, size) + np.arange(size.sum())
    j = np.repeat(entry, size)
    x0, y0, x1, y1 = boxes
    ex0, ey0, ex1, ey1 = entries
    meet = (x0[i] <= ex1[j]) & (x1[i] >= ex0[j]) & (y0[i] <= ey1[j]) & (y1[i] >= ey0[j])
    return i[meet], j[meet]


def _tree_boxes(site_geoms, candidates, zones, margin_lon, margin_lat, centre):
    """Boxes of the candidate sites' zones for the tree, and the site of each.

    A line's zone gets one box per segment: a long line's box, grown by its standoff,
    holds much land far from the line.
    """
    line = np.isin(shapely.get_type_id(site_geoms[candidates]), _LINES)
    boxes = [tuple(z[candidates[~line]] for z in zones)]
    owners = [candidates[~line]]
    if line.any():
        lines = candidates[line]
        parts, part_of = shapely.get_parts(site_geoms[lines], return_index=True)
        xy, index = shapely.get_coordinates(parts, return_index=True)
        seg = np.flatnonzero(index[1:] == index[:-1])
        site = lines[part_of[index[seg]]]
        lon = np.mod(xy[:, 0] - centre + 180.0, 360.0) - 180.0
        lon0, lon1, lat0, lat1 = lon[seg], lon[seg + 1], xy[seg, 1], xy[seg + 1, 1]
        boxes.append(
            (
                np.minimum(lon0, lon1) - margin_lon[site],
                np.minimum(lat0, lat1) - margin_lat[site],
                np.maximum(lon0, lon1) + margin_lon[site],
                np.maximum(lat0, lat1) + margin_lat[site],
            )
        )
        owners.append(site)
    entries = tuple(np.concatenate(z) for z in zip(*boxes, strict=True))
    return entries, np.concatenate(owners)


def _boxes(first, end, x, y):
    """Centre and half-diagonal of the box of positions first..end of each range."""
    x0 = reduce_ranges(np.minimum, x, first, end)
    x1 = reduce_ranges(np.maximum, x, first, end)
    y0 = reduce_ranges(np.minimum, y, first, end)
    y1 = reduce_ranges(np.maximum, y, first, end)
    return 0.5 * (x0 + x1), 0.5 * (y0 + y1), 0.5 * np.hypot(x1 - x0, y1 - y0)


def _pieces(first, end, joined, site):
    """Cut ranges of positions into pieces of _PIECE own fixes (plus the shared end)."""
    last = end - joined  # the range's own fixes end here
    piece_first, piece_last, owner = _split(first, last, np.arange(len(first)), _PIECE)
    # a piece ends at the next piece's first fix, the range's last piece where it does
    piece_joined = (piece_last < last[owner]) | joined[owner]
    return piece_first, piece_last + piece_joined, piece_joined, site[owner]


def _closest(first, last, lower, site, group, n_groups, x, y, measure) -> np.ndarray:
    """Find the least distance of fixes first..last of each chunk to its site.

    ``lower`` bounds each chunk's distances from below; ``group`` numbers the
    flight x site pairs. Only each group's least distance is sought: the result is
    the least distance measured in each chunk, NaN where none was (a closer fix of
    the group is known).

    Branch and bound: each range of fixes (a chunk, then pieces of _PIECE fixes, then
    fixes) has its middle fix measured, which gives an exact distance that the group
    reaches; ranges whose lower bound is not below it are dropped, the rest are cut
    into smaller ranges, bounded by the distance of their box's centre less its
    half-diagonal, and dropped in turn.
    """
    reach = np.full(n_groups, np.inf)  # least distance measured per group
    out = np.full(len(first), np.inf)
    owner = np.arange(len(first))
    for size in (_PIECE, 1):
        mid = (first + last) // 2
        d = measure(x[mid], y[mid], site[owner])
        np.minimum.at(reach, group[owner], d)
        np.minimum.at(out, owner, d)
        keep = np.flatnonzero(np.maximum(lower, 0.0) < reach[group[owner]])
        first, last, owner = _split(first[keep], last[keep], owner[keep], size)
        if size > 1:
            x0 = reduce_ranges(np.minimum, x, first, last)
            x1 = reduce_ranges(np.maximum, x, first, last)
            y0 = reduce_ranges(np.minimum, y, first, last)
            y1 = reduce_ranges(np.maximum, y, first, last)
            dc = measure(0.5 * (x0 + x1), 0.5 * (y0 + y1), site[owner])
            lower = dc - 0.5 * np.hypot(x1 - x0, y1 - y0)
            keep = np.flatnonzero(np.maximum(lower, 0.0) < reach[group[owner]])
            first, last, owner, lower = first[keep], last[keep], owner[keep], lower[keep]
    d = measure(x[first], y[first], site[owner])  # single fixes now
    np.minimum.at(out, owner, d)
    return np.where(np.isinf(out), np.nan, out)


def _split(first, last, owner, size: int):
    """Cut the ranges first..last into pieces of up to ``size``; each keeps its owner."""
    k = -(-(last - first + 1) // size)  # pieces per range
    offsets = np.cumsum(k) - k
    piece_first = np.repeat(first, k) + size * (np.arange(k.sum()) - np.repeat(offsets, k))
    return piece_first, np.minimum(piece_first + size - 1, np.repeat(last, k)), np.repeat(owner, k)
