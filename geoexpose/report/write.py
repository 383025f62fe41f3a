"""Write the PDF briefing of an output folder: a cover, then one page per exposed site.

The folder is read as written (:mod:`geoexpose.report._folder`): nothing is computed
again. The PDF is made by matplotlib's PDF backend with the DejaVu fonts it ships
(embedded as TrueType, so the text can be searched and copied), offline; maps have
no background unless a local GeoTIFF is given. The file is written under a
temporary name and renamed when complete; written into the folder (the default,
``report.pdf``), it joins the folder's manifest.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from geoexpose._atomic import atomic_path, output_folder
from geoexpose._version import __version__
from geoexpose.errors import InputError, OutputExistsError
from geoexpose.report._basemap import draw_basemap
from geoexpose.report._cover import cover_page
from geoexpose.report._folder import Briefing, read_folder
from geoexpose.report._layout import BandCache
from geoexpose.report._mpl import mpl
from geoexpose.report._site_page import site_page
from geoexpose.report._text import clean
from geoexpose.schema import SITE_ID

__all__ = ["REPORT_PDF", "render_pages", "write_report"]

logger = logging.getLogger(__name__)

#: The briefing's file name in an output folder.
REPORT_PDF = "report.pdf"
_RC = {
    "pdf.fonttype": 42,  # TrueType: the text stays text
    "text.usetex": False,
    "font.family": "DejaVu Sans",
    "hatch.linewidth": 0.5,
    "pdf.compression": 6,
}


def _chosen(b: Briefing, sites: Iterable[str] | str | None) -> list[str]:
    """Return the ids that get a page: every exposed site (most exposed first), or those asked."""
    ranked = b.exposed[SITE_ID].astype(str).tolist()
    if sites is None:
        return ranked
    wanted = [sites] if isinstance(sites, str) else [str(s) for s in sites]
    known = set(b.sites[SITE_ID].astype(str))
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise InputError(f"site {clean(unknown[0], 80)!r}: not among the sites of {b.folder}")
    order = {sid: i for i, sid in enumerate(ranked)}
    return sorted(dict.fromkeys(wanted), key=lambda s: order.get(s, len(order)))


def render_pages(
    folder: str | os.PathLike[str],
    *,
    sites: Iterable[str] | str | None = None,
    basemap: str | os.PathLike[str] | None = None,
) -> Iterator[tuple[Any, dict[str, Any]]]:
    """Draw the briefing's pages one at a time: each figure and what its map shows.

    The folder is read and the site ids checked before the first page is drawn;
    each page can be saved and dropped before the next one is made.
    """
    b = read_folder(folder)
    shown = _chosen(b, sites)
    return _pages(b, shown, basemap)


def _pages(
    b: Briefing, shown: list[str], basemap: str | os.PathLike[str] | None
) -> Iterator[tuple[Any, dict[str, Any]]]:
    cache = BandCache()
    ranked = {sid: i + 1 for i, sid in enumerate(b.exposed[SITE_ID].astype(str))}
    row_of = {sid: i for i, sid in enumerate(b.sites[SITE_ID].astype(str))}
    total = 1 + len(shown)
    for n in range(1, total + 1):
        if n == 1:
            fig, info = cover_page(b, shown, cache)
        else:
            sid = shown[n - 2]
            fig, info = site_page(b, row_of[sid], ranked.get(sid, 0), len(ranked), cache)
        if basemap is not None and str(basemap) not in ("none", ""):
            draw_basemap(info["axes"], basemap, info["band"], info["extent_m"])
        foot: dict[str, Any] = {"fontsize": 6.5, "color": "#777777", "parse_math": False}
        fig.text(
            0.07, 0.012, f"geoexpose {__version__}  \u00b7  {clean(b.folder.name, 60)}", **foot
        )
        fig.text(0.93, 0.012, f"page {n} of {total}", ha="right", **foot)
        yield fig, info


def write_report(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    *,
    sites: Iterable[str] | str | None = None,
    basemap: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the PDF briefing of a scan's (or an audit's) output folder.

    Parameters
    ----------
    folder
        The output folder of ``geoexpose scan``, ``demo`` or ``audit``.
    out
        The PDF to write (default: ``folder/report.pdf``, listed in the folder's
        manifest).
    sites
        The site ids that get a page (default: every exposed site, most exposed
        first). An id not among the folder's sites is refused.
    basemap
        A local GeoTIFF drawn under every map (needs rasterio); default: none.
    overwrite
        Replace an existing PDF.

    Returns
    -------
    Path
        The PDF written: a cover page, then one page per site.

    Raises
    ------
    InputError
        The folder is not an output folder, or a site id is unknown.
    OutputExistsError
        The PDF exists and not ``overwrite``.
    ImportError
        matplotlib is not installed (``pip install 'geoexpose[report]'``).
    """
    m = mpl()
    folder = Path(folder)
    started = time.perf_counter()
    target = folder / REPORT_PDF if out is None else Path(out)
    if out is not None and os.path.lexists(target) and not overwrite:
        raise OutputExistsError(f"{target}: exists; pass --overwrite (overwrite=True)")
    with m.matplotlib.rc_context(_RC):
        pages = render_pages(folder, sites=sites, basemap=basemap)
        count = 0
        metadata = {
            "Title": f"Exposure briefing: {clean(folder.resolve().name, 120)}",
            "Creator": f"geoexpose {__version__}",
        }
        with contextlib.ExitStack() as stack:
            if out is None:
                stage = stack.enter_context(
                    output_folder(
                        folder, scope=[REPORT_PDF], overwrite=overwrite, error=OutputExistsError
                    )
                )
                tmp = stage / REPORT_PDF
            else:
                tmp = stack.enter_context(atomic_path(target))
            with m.PdfPages(tmp, metadata=metadata) as pdf:
                for fig, _ in pages:
                    pdf.savefig(fig)
                    count += 1
    logger.info("wrote %s (%d pages) in %.1f s", target, count, time.perf_counter() - started)
    return target
