"""The page of a briefing: A4 portrait, its text, tables, map frames and footer.

Every text is drawn with ``parse_math=False`` (a ``$`` in a name is a dollar
sign) after :func:`geoexpose.report._text.clean`; tables are drawn cell by cell
as text at fixed positions, each cell cut to its column's width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from geoexpose.projection import band_of_geometries, geometries_to_band
from geoexpose.report._mpl import mpl
from geoexpose.report._text import clean

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["A4_IN", "BandCache", "map_axes", "new_page", "table", "text"]

#: A4 portrait, in inches.
A4_IN = (8.27, 11.69)
_GREY = "#555555"


def new_page() -> Figure:
    """Return an empty A4 page (not attached to pyplot, so nothing is kept between pages)."""
    return mpl().Figure(figsize=A4_IN, dpi=100)


def text(fig: Figure, x: float, y: float, value: str, **style: Any) -> Any:
    """Draw text at figure coordinates, never read as mathematics."""
    style.setdefault("fontsize", 8.5)
    style.setdefault("va", "top")
    return fig.text(x, y, value, parse_math=False, usetex=False, **style)


def table(
    fig: Figure,
    x: float,
    y: float,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    *,
    right: Sequence[int] = (),
    fontsize: float = 7.5,
    row_h: float = 0.0145,
) -> float:
    """Draw a table from its top-left corner (figure coordinates); return the y below it.

    ``widths`` are the columns' widths in figure coordinates; a cell is cut to the
    characters its column holds (about 1.7 x font size / 1000 per character).
    """
    char_w = fontsize * 0.6 / 72 / A4_IN[0]
    xs = x + np.r_[0.0, np.cumsum(widths)[:-1]]
    for i, (head, w) in enumerate(zip(headers, widths, strict=True)):
        at = xs[i] + (w - 0.005 if i in right else 0.0)
        text(
            fig,
            at,
            y,
            clean(head, max(int(w / char_w), 2)),
            fontsize=fontsize,
            fontweight="bold",
            ha="right" if i in right else "left",
        )
    y -= row_h
    fig.add_artist(_rule(fig, x, y + row_h * 0.15, sum(widths)))
    for row in rows:
        for i, (cell, w) in enumerate(zip(row, widths, strict=True)):
            at = xs[i] + (w - 0.005 if i in right else 0.0)
            text(
                fig,
                at,
                y,
                clean(cell, max(int((w - 0.006) / char_w), 2)),
                fontsize=fontsize,
                ha="right" if i in right else "left",
            )
        y -= row_h
    return y


def _rule(fig: Figure, x: float, y: float, width: float) -> Any:
    return mpl().Line2D([x, x + width], [y, y], transform=fig.transFigure, color="#999999", lw=0.5)


def map_axes(fig: Figure, rect: Sequence[float], extent: Sequence[float]) -> Axes:
    """Add a map frame at ``rect`` (figure coordinates) showing ``extent`` (metres), 1:1."""
    x, y, w, h = rect
    ax = fig.add_axes((x, y, w, h))
    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box", anchor="N")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_facecolor("#fbfbf8")
    for spine in ax.spines.values():
        spine.set_color("#888888")
        spine.set_linewidth(0.6)
    return ax


def band_of(geoms: np.ndarray) -> int:
    """Return the band of EPSG:4326 geometries: that of the circular mean of their centres."""
    centres = shapely.centroid(np.asarray(geoms, dtype=object))
    centres = centres[~shapely.is_empty(centres)]
    if len(centres) == 0:
        return 30
    return int(band_of_geometries(np.array([shapely.multipoints(centres)]))[0])


class BandCache:
    """The geometries of a table projected into a band once, with an index, for many maps."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, int], tuple[np.ndarray, shapely.STRtree]] = {}

    def get(self, name: str, geoms: np.ndarray, band: int) -> tuple[np.ndarray, shapely.STRtree]:
        """Return ``geoms`` (EPSG:4326) in ``band``'s metres and an STRtree of them."""
        key = (name, int(band))
        if key not in self._done:
            projected = geometries_to_band(np.asarray(geoms, dtype=object), band)
            self._done[key] = (projected, shapely.STRtree(projected))
        return self._done[key]

    def within(
        self, name: str, geoms: np.ndarray, band: int, extent: Sequence[float]
    ) -> np.ndarray:
        """Return the indices of the rows of ``geoms`` whose projected geometry meets ``extent``."""
        _, tree = self.get(name, geoms, band)
        return np.sort(tree.query(shapely.box(*extent), predicate="intersects"))

    def clipped(
        self,
        name: str,
        geoms: np.ndarray,
        band: int,
        extent: Sequence[float],
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """Return the projected geometries of ``rows`` (default: those in ``extent``), clipped."""
        projected, _ = self.get(name, geoms, band)
        if rows is None:
            rows = self.within(name, geoms, band, extent)
        if len(rows) == 0:
            return np.empty(0, dtype=object)
        x0, y0, x1, y1 = extent
        return shapely.clip_by_rect(projected[rows], x0, y0, x1, y1)
