"""Join fixes and track segments to site zones, in metres, without a loop over either.

The fixes, ordered by flight and time, are cut into chunks of up to 32 joined fixes
(a chunk never spans a recording gap or two flights). For each longitude band that
holds sites (see :mod:`geoexpose.projection`):

1. keep the chunks whose lon/lat box meets the band's sites, grown by the largest
   standoff, and project their fixes into the band;
2. query an STRtree of the sites' boxes, grown by each site's standoff, with the
   chunks' boxes;
3. bound the distance from each chunk's fixes to the site by the distance of the
   box's centre plus or minus its half-diagonal: a chunk wholly outside the zone is
   dropped; a chunk wholly inside counts as a whole (its fixes, its time, its lowest
   height), and the rest go fix by fix;
4. fix by fix, measure the exact distance to the site geometry and the share of each
   segment that lies inside the zone (the site buffered by its standoff): 1 when
   both ends are inside, found by bisection on the distance where one end is, and by
   the closest point and two bisections where a segment with both ends outside
   passes through the zone. In chunks wholly inside that may hold a flight's
   closest approach to a site, the fixes' distances are measured too, so the
   closest distance is exact.

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

from geoexpose._chunks import M_PER_DEG_MIN, Chunks, near_chunks
from geoexpose._fix_arrays import reduce_ranges
from geoexpose._site_distance import SiteDistance
from geoexpose.projection import (
    BAND_WIDTH_DEG,
    band_of_geometries,
    geometries_to_band,
    lonlat_to_band_near,
)

__all__ = ["ZoneHits", "zone_hits"]

logger = logging.getLogger(__name__)

_PIECE = 8
_BISECT_STEPS = 16


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
    run_first: np.ndarray
    run_last: np.ndarray
    run_end: np.ndarray
    run_site: np.ndarray
    run_distance_m: np.ndarray


_SITE_FIELDS = ("fix_site", "seg_site", "run_site")
_FIX_FIELDS = tuple(ZoneHits.__dataclass_fields__)[:9]


def _empty() -> ZoneHits:
    i = np.empty(0, dtype="int64")
    f = np.empty(0, dtype="float64")
    return ZoneHits(i, i, f, np.empty(0, dtype=bool), i, i, f, f, f, i, i, i, i, f)


def zone_hits(
    site_geoms: np.ndarray,
    standoff_m: np.ndarray,
    lon: np.ndarray,
    lat: np.ndarray,
    flight: np.ndarray,
    segment_ok: np.ndarray,
    *,
    threads: int = 1,
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
    """
    if len(site_geoms) == 0 or len(lon) == 0:
        return _empty()
    chunks = Chunks.of(lon, lat, segment_ok)
    vertex_xy, vertex_site = shapely.get_coordinates(site_geoms, return_index=True)
    bands = band_of_geometries(site_geoms, coords=(vertex_xy, vertex_site))
    groups = [(int(b), np.flatnonzero(bands == b)) for b in np.unique(bands)]
    # the bands with most sites first, so that two threads end at about the same time
    groups.sort(key=lambda g: -len(g[1]))

    def work(group: tuple[int, np.ndarray]) -> ZoneHits:
        band, idx = group
        mask = bands[vertex_site] == band
        vertices = (vertex_xy[mask], np.searchsorted(idx, vertex_site[mask]))
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
    near = np.flatnonzero(near_chunks(site_geoms, standoff_m, chunks))
    if len(near) == 0:
        return _empty()
    # Chunk x site pairs whose boxes meet in degrees, longitudes taken from the band's
    # central meridian; the sites' boxes grow by at least their standoff.
    centre = -180.0 + BAND_WIDTH_DEG * (band + 0.5)
    s = standoff_m.astype("float64")
    vlon = np.mod(vertices[0][:, 0] - centre + 180.0, 360.0) - 180.0
    vlat = vertices[0][:, 1]
    first = np.flatnonzero(np.r_[True, vertices[1][1:] != vertices[1][:-1]])
    margin_lat = s / M_PER_DEG_MIN + 1e-6
    lat_lo = np.minimum.reduceat(vlat, first) - margin_lat
    lat_hi = np.maximum.reduceat(vlat, first) + margin_lat
    polar = np.maximum(np.abs(lat_lo), np.abs(lat_hi)) >= 89.0
    cos_lat = np.cos(np.radians(np.minimum(np.maximum(np.abs(lat_lo), np.abs(lat_hi)), 89.0)))
    margin_lon = np.where(polar, 540.0, margin_lat / cos_lat)
    tree = shapely.STRtree(
        shapely.box(
            np.minimum.reduceat(vlon, first) - margin_lon,
            lat_lo,
            np.maximum.reduceat(vlon, first) + margin_lon,
            lat_hi,
        )
    )
    west = np.mod(chunks.lon_lo[near] - centre + 180.0, 360.0) - 180.0
    east = west + (chunks.lon_hi[near] - chunks.lon_lo[near])
    sel, site = tree.query(shapely.box(west, chunks.lat_lo[near], east, chunks.lat_hi[near]))
    if len(sel) == 0:
        return _empty()
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
    # each fix is placed from its chunk's first fix (see lonlat_to_band_near)
    anchor = starts[np.searchsorted(starts, np.arange(len(pos)), side="right") - 1]
    x, y = lonlat_to_band_near(lon[pos], lat[pos], anchor, band)
    geoms = geometries_to_band(site_geoms[used], band)
    measure = SiteDistance(geoms)
    s = s[used]
    x0 = np.minimum(np.minimum.reduceat(x, starts), x[ends])
    y0 = np.minimum(np.minimum.reduceat(y, starts), y[ends])
    x1 = np.maximum(np.maximum.reduceat(x, starts), x[ends])
    y1 = np.maximum(np.maximum.reduceat(y, starts), y[ends])

    # Every fix of a chunk lies within its box's half-diagonal of the box's centre.
    half = 0.5 * np.hypot(x1 - x0, y1 - y0)[chunk]
    dc = measure(0.5 * (x0 + x1)[chunk], 0.5 * (y0 + y1)[chunk], site)
    near = dc - half <= s[site]
    chunk, site, half, dc = chunk[near], site[near], half[near], dc[near]
    whole = dc + half <= s[site]
    # A chunk wholly inside may hold its flight's closest approach to the site when
    # its lower bound is below the best upper bound of the flight x site pair: its
    # fixes are measured, and the chunk keeps their least distance.
    key = flight[pos[starts[chunk]]].astype("int64") * len(s) + site
    _, group = np.unique(key, return_inverse=True)
    best = np.full(group.max() + 1 if len(group) else 0, np.inf)
    np.minimum.at(best, group[whole], (dc + half)[whole])
    closest = np.full(len(chunk), np.nan)
    measured = np.flatnonzero(whole & (dc - half <= best[group]))
    if len(measured):
        c = chunk[measured]
        last = ends[c] - chunks.joined_end[sel][c]  # the chunk's own fixes end here
        closest[measured] = _closest(
            starts[c], last, site[measured], group[measured], best, x, y, measure
        )
    one = _fix_by_fix(
        chunk[~whole], site[~whole], starts, ends, chunks.joined_end[sel], pos, x, y, geoms,
        measure, s, segment_ok,
    )  # fmt: skip
    c, first_of = sel[chunk[whole]], chunks.start
    nxt = np.append(first_of[1:], len(lon))
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
        run_first=first_of[c],
        run_last=nxt[c] - 1,
        run_end=chunks.end[c],
        run_site=used[site[whole]],
        run_distance_m=closest[whole],
    )


def _closest(first, last, site, group, best, x, y, measure) -> np.ndarray:
    """Find the least distance of fixes first..last of each chunk to its site.

    NaN where the chunk cannot beat ``best[group]``.

    Chunks are cut into pieces of _PIECE fixes and bounded again like the chunks
    were, so that only the pieces that may hold the least distance are measured fix
    by fix.
    """
    n = last - first + 1
    k = -(-n // _PIECE)  # pieces per chunk
    owner = np.repeat(np.arange(len(first)), k)
    piece_start = np.repeat(first, k) + _PIECE * (
        np.arange(k.sum()) - np.repeat(np.cumsum(k) - k, k)
    )
    piece_end = np.minimum(piece_start + _PIECE - 1, last[owner])
    x0 = reduce_ranges(np.minimum, x, piece_start, piece_end)
    x1 = reduce_ranges(np.maximum, x, piece_start, piece_end)
    y0 = reduce_ranges(np.minimum, y, piece_start, piece_end)
    y1 = reduce_ranges(np.maximum, y, piece_start, piece_end)
    half = 0.5 * np.hypot(x1 - x0, y1 - y0)
    dc = measure(0.5 * (x0 + x1), 0.5 * (y0 + y1), site[owner])
    best = best.copy()
    np.minimum.at(best, group[owner], dc + half)
    keep = np.flatnonzero(dc - half <= best[group[owner]])
    m = piece_end[keep] - piece_start[keep] + 1
    offsets = np.cumsum(m) - m
    p = np.repeat(piece_start[keep] - offsets, m) + np.arange(m.sum())
    d = np.minimum.reduceat(measure(x[p], y[p], np.repeat(site[owner[keep]], m)), offsets)
    out = np.full(len(first), np.inf)
    np.minimum.at(out, owner[keep], d)
    return np.where(np.isinf(out), np.nan, out)


def _fix_by_fix(chunk, site, starts, ends, joined_end, pos, x, y, geoms, measure, s, segment_ok):
    """Distances of the fixes and shares of the segments of chunk x site pairs."""
    if len(chunk) == 0:
        return {f: getattr(_empty(), f) for f in _FIX_FIELDS}
    # Lay out the positions of each chunk x site pair one after the other.
    counts = ends[chunk] - starts[chunk] + 1
    first = np.cumsum(counts) - counts
    e = np.arange(counts.sum())
    pair = np.repeat(np.arange(len(chunk)), counts)
    p = starts[chunk][pair] + (e - first[pair])
    j = site[pair]
    dist = measure(x[p], y[p], j)
    # A position belongs to one chunk only: the next chunk's start is not this one's.
    own = (p < ends[chunk][pair]) | ~joined_end[chunk][pair]

    # Segments: entries e and e + 1 of one pair, consecutive fixes, no gap.
    k = np.flatnonzero(e[:-1] + 1 != first[pair[:-1]] + counts[pair[:-1]])
    k = k[pos[p[k + 1]] == pos[p[k]] + 1]
    k = k[segment_ok[pos[p[k]]]]
    hit, enter, leave = _segment_shares(geoms, measure, x, y, s, p[k], j[k], dist[k], dist[k + 1])
    return {
        "fix": pos[p[own]],
        "fix_site": j[own],
        "distance_m": dist[own],
        "inside": dist[own] <= s[j[own]],
        "seg": pos[p[k][hit]],
        "seg_site": j[k][hit],
        "seg_fraction": leave - enter,
        "seg_enter": enter,
        "seg_exit": leave,
    }


def _segment_shares(geoms, measure, x, y, s, sp, sj, d0, d1):
    """Where along each segment (sp, sp + 1) the zone of site sj begins and ends.

    Returns the indices of the segments with a part inside the zone, and the
    parameters (0 to 1) of entry and exit.
    """
    ss = s[sj]
    in0, in1 = d0 <= ss, d1 <= ss
    x0, y0, x1, y1 = x[sp], y[sp], x[sp + 1], y[sp + 1]
    seg_len = np.hypot(x1 - x0, y1 - y0)
    enter = np.full(len(sp), np.nan)
    leave = np.full(len(sp), np.nan)
    both = in0 & in1
    enter[both], leave[both] = 0.0, 1.0

    def locate(k, lo, hi, inside_at_lo):
        """Bisect on [lo, hi] for the zone boundary; ``inside_at_lo`` tells the side."""
        lo, hi = lo.copy(), hi.copy()
        for _ in range(_BISECT_STEPS):
            mid = 0.5 * (lo + hi)
            mx = x0[k] + mid * (x1[k] - x0[k])
            my = y0[k] + mid * (y1[k] - y0[k])
            ins = measure(mx, my, sj[k]) <= ss[k]
            same = ins == inside_at_lo
            lo = np.where(same, mid, lo)
            hi = np.where(same, hi, mid)
        return 0.5 * (lo + hi)

    one = in0 ^ in1
    k = np.flatnonzero(one & in0)  # leaves the zone
    enter[k], leave[k] = 0.0, locate(k, np.zeros(len(k)), np.ones(len(k)), True)
    k = np.flatnonzero(one & in1)  # enters the zone
    enter[k], leave[k] = locate(k, np.zeros(len(k)), np.ones(len(k)), False), 1.0

    # Both ends outside: it can pass through only if d0 + d1 <= 2 s + length.
    k = np.flatnonzero(~in0 & ~in1 & (d0 + d1 <= 2 * ss + seg_len) & (seg_len > 0))
    if len(k):
        lines = shapely.linestrings(
            np.stack([np.column_stack([x0[k], y0[k]]), np.column_stack([x1[k], y1[k]])], axis=1)
        )
        through = shapely.distance(lines, geoms[sj[k]]) <= ss[k]
        k, lines = k[through], lines[through]
        if len(k):
            closest = shapely.get_point(shapely.shortest_line(lines, geoms[sj[k]]), 0)
            uc = shapely.line_locate_point(lines, closest, normalized=True)
            enter[k] = locate(k, np.zeros(len(k)), uc, False)
            leave[k] = locate(k, uc, np.ones(len(k)), True)

    hit = np.flatnonzero(~np.isnan(enter))
    return hit, enter[hit], leave[hit]
