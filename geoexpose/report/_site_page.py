"""One page of a briefing per exposed site: its map to scale, numbers, flights and photos."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from geoexpose.maps import flight_label, score_colors
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
from geoexpose.report._photos import photo_thumbnail
from geoexpose.report._text import DASH, clean, clean_id, duration, number, utc, wrap
from geoexpose.schema import (
    BEST_GSD_CM,
    CAPTURE_ID,
    DWELL_S,
    EXPOSURE_SCORE,
    FAMILY,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    GSD_CM,
    IMAGED_FRACTION,
    KIND,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    N_FLIGHTS,
    NAME,
    OPERATOR,
    PATH,
    SEVERITY,
    SITE_ID,
    STANDOFF_M,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["FLIGHT_ROWS", "MAP_RECT", "THUMBS", "site_numbers", "site_page"]

#: The map's frame on the page (figure coordinates: left, bottom, width, height).
MAP_RECT = (0.07, 0.445, 0.86, 0.43)
#: Most flights listed on a site's page, and most photos shown.
FLIGHT_ROWS = 9
THUMBS = 5
_TOP_OF_TEXT = 0.355
_FLIGHT_COLORS = ("#1f4e9c", "#2a9d8f", "#7b2cbf", "#e76f51", "#3a86ff", "#8d6e63", "#43aa8b")


def score_color(score: Any) -> str:
    """Return the colour of an exposure score, as on the HTML maps."""
    return str(score_colors([score if pd.notna(score) else 0.0])[0])


def site_numbers(site: pd.Series) -> list[tuple[str, str]]:
    """Return the numbers printed for a site, each with its label and unit."""
    frac = site.get(IMAGED_FRACTION)
    rows = [
        ("exposure score (0-100)", number(site.get(EXPOSURE_SCORE), 1)),
        ("flights", number(site.get(N_FLIGHTS), 0)),
        ("captures that show the site", number(site.get(N_CAPTURES), 0)),
        ("time in the zone", duration(site.get(DWELL_S))),
        ("closest horizontal distance", number(site.get(MIN_DISTANCE_M), 1, "m")),
        ("lowest height above ground in the zone", number(site.get(MIN_AGL_M), 1, "m")),
        ("finest ground sample distance", number(site.get(BEST_GSD_CM), 2, "cm")),
        (
            "area imaged",
            number(site.get("imaged_area_m2"), 0, "m\u00b2")
            + (f" ({number(float(frac) * 100, 1, '%')})" if pd.notna(frac) else ""),
        ),
        ("first seen", utc(site.get(FIRST_SEEN_UTC))),
        ("last seen", utc(site.get(LAST_SEEN_UTC))),
        ("zone: standoff", number(site.get(STANDOFF_M), 0, "m")),
    ]
    if "best_niirs" in site and pd.notna(site.get("best_niirs")):
        rows.insert(7, ("best NIIRS estimate", number(site.get("best_niirs"), 1)))
    return rows


def _header(fig: Figure, site: pd.Series, rank: int, total: int) -> None:
    name = site.get(NAME)
    title = wrap(name if isinstance(name, str) and name.strip() else site.get(SITE_ID), 58, 2)
    below = 0.955 - 0.0215 * (title.count("\n") + 1) - 0.008
    fig.add_artist(
        mpl().Rectangle(
            (0.045, below - 0.012),
            0.012,
            0.985 - below,
            transform=fig.transFigure,
            edgecolor="none",
            facecolor=score_color(site.get(EXPOSURE_SCORE)),
        )
    )
    where = f"Exposed site {rank} of {total}" if rank else "Site (not exposed)"
    text(fig, 0.07, 0.978, where, fontsize=8, color="#555555")
    text(fig, 0.07, 0.962, title, fontsize=15, fontweight="bold", gid="site-name")
    kind = f"{clean(site.get(FAMILY), 30)} / {clean(site.get(KIND), 40)}"
    line = f"site_id {clean(site.get(SITE_ID), 60)}   \u00b7   {kind}"
    operator = site.get(OPERATOR)
    if isinstance(operator, str) and operator.strip():
        line += f"   \u00b7   {clean(operator, 50)}"
    text(fig, 0.07, below, line, fontsize=8.5, color="#333333")


def _zone(site_m: np.ndarray, standoff: Any) -> np.ndarray:
    d = float(standoff) if pd.notna(standoff) else 0.0
    return shapely.buffer(site_m, max(d, 0.0), quad_segs=16)


def _draw_map(
    fig: Figure, b: Briefing, site: pd.Series, row: int, cache: BandCache
) -> dict[str, Any]:
    """Draw the site's map; return its axes, band, extent (m) and scale bar's length (m)."""
    band = band_of(np.array([site.geometry]))
    site_m = cache.get("sites", b.sites.geometry.to_numpy(), band)[0][row : row + 1]
    zone = _zone(site_m, site.get(STANDOFF_M))
    w, h = MAP_RECT[2] * fig.get_figwidth(), MAP_RECT[3] * fig.get_figheight()
    extent = fit_extent(shapely.total_bounds(zone), w / h, margin=0.12)
    ax = map_axes(fig, MAP_RECT, extent)
    site_id = site[SITE_ID]
    handles: list[Any] = []
    draw_polygons(
        ax,
        zone,
        facecolor="#f6e7a1",
        edgecolor="#b08900",
        alpha=0.35,
        lw=1.0,
        linestyle="--",
        zorder=2,
    )
    handles.append(
        mpl().Patch(
            facecolor="#f6e7a1",
            edgecolor="#b08900",
            linestyle="--",
            alpha=0.6,
            label=f"zone ({number(site.get(STANDOFF_M), 0, 'm')} standoff)",
        )
    )
    cap_ids = (
        b.capture_sites.loc[b.capture_sites[SITE_ID].astype(str) == site_id, CAPTURE_ID]
        if len(b.capture_sites)
        else pd.Series(dtype=str)
    )
    if len(cap_ids):
        rows = np.flatnonzero(b.captures[CAPTURE_ID].isin(set(cap_ids)).to_numpy())
        outlines = shapely.boundary(
            cache.get("captures", b.captures.geometry.to_numpy(), band)[0][rows]
        )
        x0, y0, x1, y1 = extent
        draw_lines(
            ax,
            shapely.clip_by_rect(outlines, x0, y0, x1, y1),
            color="#6a994e",
            lw=0.3,
            alpha=0.45,
            zorder=3,
        )
        handles.append(
            mpl().Line2D(
                [],
                [],
                color="#6a994e",
                lw=0.8,
                label=f"footprints of the {len(rows)} captures that show it",
            )
        )
    color = score_color(site.get(EXPOSURE_SCORE))
    draw_polygons(ax, site_m, facecolor=color, edgecolor="#333333", alpha=0.55, lw=0.8, zorder=4)
    draw_lines(ax, site_m, color=color, lw=3.0, zorder=4)
    draw_points(ax, site_m, color=color, edgecolors="#333333", s=60, zorder=4)
    handles.append(mpl().Patch(facecolor=color, edgecolor="#333333", alpha=0.7, label="site"))
    if len(b.footprints):
        mine = np.flatnonzero(b.footprints[SITE_ID].astype(str).to_numpy() == site_id)
        geoms = cache.clipped("footprints", b.footprints.geometry.to_numpy(), band, extent, mine)
        if (
            draw_polygons(
                ax, geoms, facecolor="none", edgecolor="#1b5e20", hatch="////", lw=0.6, zorder=5
            )
            is not None
        ):
            handles.append(
                mpl().Patch(
                    facecolor="none",
                    edgecolor="#1b5e20",
                    hatch="////",
                    label="part of the site imaged",
                )
            )
    if len(b.flights):
        near = cache.within("flights", b.flights.geometry.to_numpy(), band, extent)
        geoms = cache.clipped("flights", b.flights.geometry.to_numpy(), band, extent, near)
        for i, (r, g) in enumerate(zip(near, geoms, strict=True)):
            c = _FLIGHT_COLORS[i % len(_FLIGHT_COLORS)]
            draw_lines(ax, np.array([g]), color=c, lw=1.1, alpha=0.9, zorder=6)
            if i < 4:
                handles.append(
                    mpl().Line2D(
                        [],
                        [],
                        color=c,
                        lw=1.2,
                        label=f"flight {clean_id(b.flights[FLIGHT_ID].iloc[r], 44)}",
                    )
                )
        if len(near) > 4:
            handles.append(
                mpl().Line2D(
                    [], [], color="#888888", lw=1.2, label=f"and {len(near) - 4} more flights"
                )
            )
    length = scale_bar(ax, extent)
    north_arrow(ax, extent, band)
    legend = fig.legend(
        handles=handles,
        loc="upper left",
        ncol=2,
        fontsize=7,
        frameon=False,
        bbox_to_anchor=(MAP_RECT[0], MAP_RECT[1] - 0.003),
    )
    for t in legend.get_texts():
        t.set_parse_math(False)
    return {"axes": ax, "band": band, "extent_m": extent, "scale_bar_m": length}


def _flights(fig: Figure, b: Briefing, site_id: str, y: float) -> float:
    pairs = b.pairs[b.pairs[SITE_ID].astype(str) == site_id] if len(b.pairs) else b.pairs
    text(fig, 0.5, y, f"Flights ({len(pairs)})", fontsize=10, fontweight="bold")
    if len(pairs) == 0:
        text(fig, 0.5, y - 0.02, "No flight in the zone.", fontsize=8)
        return y - 0.04
    pairs = pairs.sort_values(DWELL_S, ascending=False, kind="stable")
    labels = flight_label(pairs[FLIGHT_ID].astype(str).tolist())  # as on the site maps
    rows = [
        [
            clean_id(label, 18),
            number(r.get(N_FIXES), 0),
            number(r.get(DWELL_S), 1),
            number(r.get(MIN_DISTANCE_M), 1),
            number(r.get(MIN_AGL_M), 1),
            number(r.get(N_CAPTURES), 0),
            number(r.get(BEST_GSD_CM), 2),
        ]
        for label, (_, r) in zip(labels, pairs.head(FLIGHT_ROWS).iterrows(), strict=False)
    ]
    headers = ["flight", "fixes", "dwell s", "dist m", "AGL m", "capt", "GSD cm"]
    widths = [0.125, 0.06, 0.065, 0.05, 0.045, 0.035, 0.05]  # 0.43: to the right margin
    y = table(
        fig, 0.5, y - 0.02, headers, rows, widths, right=range(1, 7), fontsize=6.5, row_h=0.012
    )
    text(
        fig,
        0.5,
        y,
        "dist: closest horizontal distance; AGL: lowest height above ground in "
        "the zone;\ncapt: captures that show the site; GSD: the finest of them.",
        fontsize=6,
        color="#555555",
    )
    y -= 0.022
    if len(pairs) > FLIGHT_ROWS:
        text(
            fig,
            0.5,
            y,
            f"and {len(pairs) - FLIGHT_ROWS} more in flight_site_exposure.csv",
            fontsize=7,
            color="#555555",
        )
        y -= 0.014
    return y


def _findings(fig: Figure, b: Briefing, site_id: str, y: float) -> float:
    if b.findings is None or SITE_ID not in b.findings:
        return y
    mine = b.findings[b.findings[SITE_ID].astype(str) == site_id]
    if len(mine) == 0:
        line = "Audit findings: none for this site."
    else:
        counts = mine[SEVERITY].astype(str).value_counts()
        parts = ", ".join(f"{n} {s}" for s, n in counts.items())
        ids = ", ".join(clean(v, 12) for v in mine.get("finding_id", pd.Series()).head(8))
        more = " ..." if len(mine) > 8 else ""
        line = f"Audit findings: {len(mine)} ({parts}): {ids}{more}; all in findings.csv"
    text(fig, 0.5, y - 0.006, wrap(line, 62, 2), fontsize=7.5)
    return y - 0.03


def _photos(fig: Figure, b: Briefing, site_id: str) -> None:
    """Draw the photos that show the site at the finest GSD, as thumbnails at the foot."""
    y_top = 0.18
    cs = b.capture_sites
    mine = cs[cs[SITE_ID].astype(str) == site_id] if len(cs) else cs
    text(
        fig,
        0.07,
        y_top,
        f"Finest captures of the site ({len(mine)} show it)",
        fontsize=10,
        fontweight="bold",
    )
    if len(mine) == 0:
        text(fig, 0.07, y_top - 0.02, "No capture shows the site.", fontsize=8)
        return
    gsd = GSD_CM if GSD_CM in mine else None
    order = mine.sort_values(gsd, kind="stable") if gsd else mine
    order = order.drop_duplicates(CAPTURE_ID).head(THUMBS)
    paths = b.captures.set_index(CAPTURE_ID)[PATH] if PATH in b.captures else pd.Series(dtype=str)
    kinds = b.captures.set_index(CAPTURE_ID)["kind"] if "kind" in b.captures else None
    w, gap = 0.16, 0.0115
    for i, (_, r) in enumerate(order.iterrows()):
        x = 0.07 + i * (w + gap)
        ax = fig.add_axes((x, 0.045, w, 0.115))
        ax.set_xticks([])
        ax.set_yticks([])
        cid = r[CAPTURE_ID]
        path = paths.get(cid) if cid in paths.index else None
        path = path.iloc[0] if isinstance(path, pd.Series) else path
        kind = kinds.get(cid) if kinds is not None and cid in kinds.index else None
        image = photo_thumbnail(path, b.folder) if kind in (None, "photo") else None
        if image is None:
            ax.text(
                0.5,
                0.5,
                "photo not available",
                ha="center",
                va="center",
                fontsize=7,
                color="#777777",
                transform=ax.transAxes,
                parse_math=False,
            )
        else:
            ax.imshow(image, aspect="equal", interpolation="antialiased")
        # 22 characters fit under a thumbnail
        label = f"{number(r.get(gsd), 2, 'cm') if gsd else DASH} GSD\n{clean_id(cid, 22)}"
        text(fig, x, 0.043, label, fontsize=6.5)


def site_page(
    b: Briefing, row: int, rank: int, total: int, cache: BandCache
) -> tuple[Figure, dict[str, Any]]:
    """Draw the page of the site at position ``row`` of ``b.sites``.

    Returns the page and what its map shows: ``axes``, ``band``, ``extent_m`` and
    ``scale_bar_m`` (the scale bar's length).
    """
    site = b.sites.iloc[row]
    fig = new_page()
    _header(fig, site, rank, total)
    drawn = _draw_map(fig, b, site, row, cache)
    y = _TOP_OF_TEXT
    text(fig, 0.07, y, "Exposure", fontsize=10, fontweight="bold")
    y -= 0.019
    for label, value in site_numbers(site):
        text(fig, 0.07, y, label, fontsize=7.5, color="#444444")
        text(fig, 0.47, y, value, fontsize=7.5, ha="right")
        y -= 0.0122
    y = _flights(fig, b, str(site[SITE_ID]), _TOP_OF_TEXT)
    _findings(fig, b, str(site[SITE_ID]), y)
    _photos(fig, b, str(site[SITE_ID]))
    return fig, drawn
