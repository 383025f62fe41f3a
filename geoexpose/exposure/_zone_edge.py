"""Fix by fix at a zone's edge: distances, and where each segment enters and leaves the zone.

The pieces of track that :mod:`geoexpose.exposure._zone_join` finds across a zone's edge
are measured here one fix at a time: the exact distance of each fix to the site, and the
share of each segment inside the zone, from where it crosses the edge (regula falsi on
the distance, to 2**-16 of the segment) or, for a segment with both ends outside that
passes through the zone, from its closest point to the site.
"""

from __future__ import annotations

import numpy as np
import shapely

__all__ = ["fix_by_fix"]

TOLERANCE = 2.0**-16  # of a segment's length: where it enters or leaves a zone


def fix_by_fix(first, end, joined, site, pos, x, y, geoms, measure, s, segment_ok):
    """Distances of the fixes and shares of the segments of ranges first..end x site."""
    if len(first) == 0:
        i, f = np.empty(0, dtype="int64"), np.empty(0, dtype="float64")
        return dict(fix=i, fix_site=i, distance_m=f, inside=np.empty(0, dtype=bool), seg=i,
                    seg_site=i, seg_fraction=f, seg_enter=f, seg_exit=f, seg_near_m=f)  # fmt: skip
    # Lay out the positions of each range x site pair one after the other.
    counts = end - first + 1
    start = np.cumsum(counts) - counts
    e = np.arange(counts.sum())
    pair = np.repeat(np.arange(len(first)), counts)
    p = first[pair] + (e - start[pair])
    j = site[pair]
    dist = measure(x[p], y[p], j)
    # A position belongs to one range only: the next range's first is not this one's.
    own = (p < end[pair]) | ~joined[pair]

    # Segments: entries e and e + 1 of one pair, consecutive fixes, no gap.
    k = np.flatnonzero(e[:-1] + 1 != start[pair[:-1]] + counts[pair[:-1]])
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
        "seg_near_m": np.minimum(dist[k], dist[k + 1])[hit],
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

    one = in0 ^ in1  # leaves the zone (in0) or enters it (in1) on [0, 1]
    k = np.flatnonzero(one)
    roots = [(k, np.zeros(len(k)), np.ones(len(k)), (d0 - ss)[k], (d1 - ss)[k])]
    # Both ends outside: it can pass through only if d0 + d1 <= 2 s + length.
    through = np.flatnonzero(~in0 & ~in1 & (d0 + d1 <= 2 * ss + seg_len) & (seg_len > 0))
    if len(through):
        lines = shapely.linestrings(
            np.stack(
                [
                    np.column_stack([x0[through], y0[through]]),
                    np.column_stack([x1[through], y1[through]]),
                ],
                axis=1,
            )
        )
        nearest = shapely.distance(lines, geoms[sj[through]])
        inside = nearest <= ss[through]
        through, lines, f_c = through[inside], lines[inside], (nearest - ss[through])[inside]
        if len(through):
            closest = shapely.get_point(shapely.shortest_line(lines, geoms[sj[through]]), 0)
            uc = shapely.line_locate_point(lines, closest, normalized=True)
            zero, unit = np.zeros(len(through)), np.ones(len(through))
            roots.append((through, zero, uc, (d0 - ss)[through], f_c))  # enters
            roots.append((through, uc, unit, f_c, (d1 - ss)[through]))  # leaves
    k, lo, hi, f_lo, f_hi = (np.concatenate(r) for r in zip(*roots, strict=True))
    u = _crossing(
        measure, x0[k], y0[k], (x1 - x0)[k], (y1 - y0)[k], sj[k], ss[k], lo, hi, f_lo, f_hi
    )
    entering = f_lo > 0  # outside at lo: the zone begins at u
    enter[k[entering]] = u[entering]
    leave[k[~entering]] = u[~entering]
    enter[k[~entering & in0[k]]] = 0.0
    leave[k[entering & in1[k]]] = 1.0

    hit = np.flatnonzero(~np.isnan(enter))
    return hit, enter[hit], leave[hit]


def _crossing(measure, x0, y0, dx, dy, site, s, lo, hi, f_lo, f_hi) -> np.ndarray:
    """Find where f(u) = distance(x0 + u dx, y0 + u dy) - s changes sign in [lo, hi].

    ``f_lo`` and ``f_hi`` are f at the two ends, one of them <= 0 (inside the zone)
    and the other > 0. The Illinois variant of regula falsi (an end kept twice in a
    row has its f halved), with a bisection wherever two steps did not halve the
    bracket, and never within half the tolerance of an end, until the bracket is at
    most 2**-16 wide (as 16 bisections would leave it); returns its middle.
    """
    lo, hi, f_lo, f_hi = (np.array(a, dtype="float64") for a in (lo, hi, f_lo, f_hi))
    out = np.empty(len(lo))
    active = np.arange(len(lo))
    kept = np.zeros(len(lo), dtype="int8")  # the end the last step kept: -1 lo, 1 hi
    before = np.full(len(lo), np.inf)  # the bracket's width two steps before
    step = 0
    while len(active):
        a = active
        width = hi[a] - lo[a]
        done = width <= TOLERANCE
        out[a[done]] = 0.5 * (lo[a[done]] + hi[a[done]])
        a, width = a[~done], width[~done]
        if len(a) == 0:
            break
        fl, fh = f_lo[a], f_hi[a]
        u = (lo[a] * fh - hi[a] * fl) / (fh - fl)
        bisect = ~(u > lo[a]) | ~(u < hi[a])
        if step % 2 == 0:  # every other step: bisect where two steps kept over half
            bisect |= width > 0.5 * before[a]
            before[a] = width
        u = np.where(bisect, 0.5 * (lo[a] + hi[a]), u)
        # at least half the tolerance from either end: a root next to an end ends it
        u = np.clip(u, lo[a] + 0.5 * TOLERANCE, hi[a] - 0.5 * TOLERANCE)
        f = measure(x0[a] + u * dx[a], y0[a] + u * dy[a], site[a]) - s[a]
        at_lo = (f <= 0) == (fl <= 0)  # u replaces lo, hi is kept
        keep = np.where(at_lo, 1, -1).astype("int8")
        again = (keep == kept[a]) & ~bisect
        lo[a] = np.where(at_lo, u, lo[a])
        f_lo[a] = np.where(at_lo, f, np.where(again, 0.5 * fl, fl))
        hi[a] = np.where(at_lo, hi[a], u)
        f_hi[a] = np.where(at_lo, np.where(again, 0.5 * fh, fh), f)
        kept[a] = keep
        active = a
        step += 1
    return out
