"""The cover of a briefing: what was scanned and when, the most exposed sites, an overview map."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoexpose._version import __version__
from geoexpose.errors import counted
from geoexpose.maps import SCORE_COLORS, SCORE_EDGES
from geoexpose.report._drawing import (
    draw_lines,
    draw_points,
    draw_polygons,
    fit_extent,
    north_arrow,
    scale_bar,
)
from geoexpose.report._folder import Briefing
from geoexpose.report._layout import BandCache, band_of, map_axes, new_page, table, text
from geoexpose.report._mpl import mpl
from geoexpose.report._site_page import score_color
from geoexpose.report._text import DASH, clean, number, utc, wrap
from geoexpose.schema import (
    BEST_GSD_CM,
    DWELL_S,
    EXPOSURE_SCORE,
    FAMILY,
    FIRST_SEEN_UTC,
    KIND,
    LAST_SEEN_UTC,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FLIGHTS,
    NAME,
    SEVERITY,
    SITE_ID,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["COVER_ROWS", "cover_page"]

# Sites not exposed: white, outlined in grey; the exposed are filled by the maps'
# grey-to-black score ramp (SCORE_COLORS), which no white fill can be taken for.
_QUIET_FILL = "#ffffff"
_QUIET_EDGE = "#8c8c8c"

#: Most sites in the cover's table.
COVER_ROWS = 15
#: The overview's frame: from the foot of the page up to below the table, at most this high.
_OVERVIEW_BOTTOM = 0.075
_OVERVIEW_MAX_H = 0.5


def _count(entries: Any) -> tuple[int, int]:
    entries = entries if isinstance(entries, list) else []
    read = sum(1 for e in entries if isinstance(e, dict) and e.get("status") == "read")
    return read, len(entries)


def _scanned(b: Briefing) -> list[str]:
    """Sentences on what went in, from summary.json and the layers."""
    s = b.summary
    inputs = s.get("inputs", {}) if isinstance(s.get("inputs"), dict) else {}
    rows = s.get("rows", {}) if isinstance(s.get("rows"), dict) else {}
    tracks, n_tracks = _count(inputs.get("track_files"))
    caps, n_caps = _count(inputs.get("capture_files"))
    lines = [
        f"{tracks} of {n_tracks} track files and {caps} of {n_caps} photo, video or "
        f"orthomosaic files read; {number(rows.get('fixes_kept'), 0)} fixes in "
        f"{len(b.flights)} flights, {len(b.captures)} captures.",
        f"{len(b.sites)} sites in the layers, {len(b.exposed)} exposed "
        f"(a flight in the zone or a capture that shows the site).",
    ]
    if len(b.flights) and FIRST_SEEN_UTC in b.flights:
        first = pd.to_datetime(b.flights[FIRST_SEEN_UTC], utc=True, errors="coerce").min()
        last = pd.to_datetime(b.flights[LAST_SEEN_UTC], utc=True, errors="coerce").max()
        lines.append(f"Flights from {utc(first)} to {utc(last)}.")
    if b.findings is not None and SEVERITY in b.findings:
        counts = b.findings[SEVERITY].astype(str).value_counts()
        parts = ", ".join(f"{n} {sev}" for sev, n in counts.items()) or "none"
        lines.append(f"Audit: {len(b.findings)} findings ({parts}); every one in findings.csv.")
    skipped = s.get("files_skipped")
    if isinstance(skipped, list) and skipped:
        lines.append(f"{counted(len(skipped), 'file')} skipped (see summary.json, files_skipped).")
    return lines


def _sites_table(fig: Figure, b: Briefing, shown: list[str], y: float) -> float:
    top = b.exposed.head(COVER_ROWS)
    rank = {sid: i + 1 for i, sid in enumerate(b.exposed[SITE_ID].astype(str))}
    page = {sid: i + 2 for i, sid in enumerate(shown)}
    rows = []
    for _, r in top.iterrows():
        name = r.get(NAME) if isinstance(r.get(NAME), str) and r.get(NAME).strip() else r[SITE_ID]
        rows.append(
            [
                str(rank[str(r[SITE_ID])]),
                name,
                f"{clean(r.get(FAMILY), 12)}/{clean(r.get(KIND), 20)}",
                number(r.get(EXPOSURE_SCORE), 1),
                number(r.get(DWELL_S), 1),
                number(r.get(MIN_DISTANCE_M), 1),
                number(r.get(BEST_GSD_CM), 2),
                number(r.get(N_CAPTURES), 0),
                number(r.get(N_FLIGHTS), 0),
                str(page.get(str(r[SITE_ID]), DASH)),
            ]
        )
    headers = [
        "#",
        "site",
        "family/kind",
        "score",
        "dwell s",
        "closest m",
        "GSD cm",
        "capt.",
        "flights",
        "page",
    ]
    widths = [0.03, 0.22, 0.16, 0.05, 0.07, 0.075, 0.08, 0.05, 0.06, 0.045]
    return table(fig, 0.07, y, headers, rows, widths, right=[0, *range(3, 10)])


def _overview(fig: Figure, b: Briefing, cache: BandCache, top: float) -> dict[str, Any]:
    height = min(top - _OVERVIEW_BOTTOM, _OVERVIEW_MAX_H)
    rect = (0.07, top - height, 0.86, height)
    shown = b.exposed
    pieces = [shown.geometry.to_numpy()]
    if len(b.flights):
        pieces.append(b.flights.geometry.to_numpy())
    everything = np.concatenate(pieces) if pieces else np.empty(0, dtype=object)
    band = band_of(everything if len(shown) == 0 else shown.geometry.to_numpy())
    sites_m, _ = cache.get("sites", b.sites.geometry.to_numpy(), band)
    exposed_rows = np.flatnonzero(b.sites[SITE_ID].astype(str).isin(set(shown[SITE_ID])))
    parts = [sites_m[exposed_rows]]
    if len(b.flights):
        parts.append(cache.get("flights", b.flights.geometry.to_numpy(), band)[0])
    bounds = shapely.total_bounds(np.concatenate(parts)) if len(everything) else (0, 0, 1, 1)
    w, h = rect[2] * fig.get_figwidth(), rect[3] * fig.get_figheight()
    extent = fit_extent(bounds, w / h, margin=0.06)
    ax = map_axes(fig, rect, extent)
    near = cache.within("sites", b.sites.geometry.to_numpy(), band, extent)
    quiet = near[~np.isin(near, exposed_rows)]
    draw_polygons(
        ax, sites_m[quiet], facecolor=_QUIET_FILL, edgecolor=_QUIET_EDGE, lw=0.5, zorder=2
    )
    draw_lines(ax, sites_m[quiet], color=_QUIET_EDGE, lw=0.8, linestyle=(0, (2, 2)), zorder=2)
    draw_points(ax, sites_m[quiet], color=_QUIET_FILL, edgecolors=_QUIET_EDGE, s=8, zorder=2)
    if len(b.flights):
        flights = cache.clipped("flights", b.flights.geometry.to_numpy(), band, extent)
        draw_lines(ax, flights, color="#1f4e9c", lw=0.7, alpha=0.8, zorder=3)
    colors = (
        [score_color(v) for v in b.sites[EXPOSURE_SCORE].iloc[exposed_rows]]
        if EXPOSURE_SCORE in b.sites
        else [SCORE_COLORS[-1]] * len(exposed_rows)
    )
    for colour in sorted(set(colors)):
        rows = exposed_rows[np.array(colors) == colour]
        draw_polygons(ax, sites_m[rows], facecolor=colour, edgecolor="#333333", lw=0.5, zorder=4)
        draw_lines(ax, sites_m[rows], color=colour, lw=2.2, zorder=4)
        draw_points(ax, sites_m[rows], color=colour, edgecolors="#333333", s=30, zorder=4)
    rank = {sid: i + 1 for i, sid in enumerate(shown[SITE_ID].astype(str))}
    for r in exposed_rows:
        n = rank.get(str(b.sites[SITE_ID].iloc[r]))
        if n is not None and n <= COVER_ROWS:
            p = shapely.point_on_surface(sites_m[r])
            ax.text(
                p.x,
                p.y,
                str(n),
                fontsize=7,
                fontweight="bold",
                ha="center",
                va="center",
                zorder=8,
                parse_math=False,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#333333", "lw": 0.4},
            )
    length = scale_bar(ax, extent)
    north_arrow(ax, extent, band)
    edges = [0.0, *SCORE_EDGES, 100.0]
    handles = [
        mpl().Patch(facecolor=c, edgecolor="#333333", label=f"score {edges[i]:g}-{edges[i + 1]:g}")
        for i, c in enumerate(SCORE_COLORS)
    ]
    handles += [
        mpl().Patch(facecolor=_QUIET_FILL, edgecolor=_QUIET_EDGE, label="site not exposed"),
        mpl().Line2D([], [], color="#1f4e9c", lw=1.0, label="flights"),
    ]
    fig.legend(
        handles=handles,
        loc="upper left",
        ncol=4,
        fontsize=6.8,
        frameon=False,
        bbox_to_anchor=(rect[0], rect[1] - 0.002),
    )
    return {"axes": ax, "band": band, "extent_m": extent, "scale_bar_m": length}


def cover_page(b: Briefing, shown: list[str], cache: BandCache) -> tuple[Figure, dict[str, Any]]:
    """Draw the cover: ``shown`` are the site ids that get a page, in page order."""
    fig = new_page()
    text(fig, 0.07, 0.965, "Exposure briefing", fontsize=20, fontweight="bold")
    text(fig, 0.07, 0.93, wrap(f"Output folder: {b.folder.name}", 90, 1), fontsize=9)
    made = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    scanned = b.summary.get("created_utc")
    text(
        fig,
        0.07,
        0.914,
        f"Scan written {utc(scanned) if scanned else DASH}; briefing made "
        f"{made} by geoexpose {__version__}. Times are UTC.",
        fontsize=8,
        color="#555555",
    )
    y = 0.885
    text(fig, 0.07, y, "What was scanned", fontsize=11, fontweight="bold")
    y -= 0.02
    for line in _scanned(b):
        text(fig, 0.07, y, wrap(line, 105, 2), fontsize=8.5)
        y -= 0.027 if "\n" in wrap(line, 105, 2) else 0.016
    y -= 0.006
    title = f"The most exposed sites ({min(COVER_ROWS, len(b.exposed))} of {len(b.exposed)})"
    text(fig, 0.07, y, title, fontsize=11, fontweight="bold")
    y -= 0.02
    if len(b.exposed) == 0:
        text(fig, 0.07, y, "No site was exposed.", fontsize=8.5)
    else:
        y = _sites_table(fig, b, shown, y)
        if len(b.exposed) > COVER_ROWS:
            text(
                fig,
                0.07,
                y,
                f"and {len(b.exposed) - COVER_ROWS} more in site_exposure.csv",
                fontsize=7.5,
                color="#555555",
            )
            y -= 0.016
    y -= 0.012
    text(fig, 0.07, y, "Overview", fontsize=11, fontweight="bold")
    drawn = _overview(fig, b, cache, y - 0.025)
    return fig, drawn
