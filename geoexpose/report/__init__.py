"""Report: a printable PDF briefing of an output folder, drawn offline.

:func:`write_report` reads a scan's (or an audit's) output folder as written and
draws a cover (what was scanned and when, the most exposed sites, an overview map)
and one page per exposed site (its map to scale with a scale bar and a north arrow,
its numbers with units, its flights, its finest photos). It needs matplotlib
(``pip install 'geoexpose[report]'``), imported only when a briefing is drawn.
"""

from geoexpose.report._mpl import INSTALL_HINT
from geoexpose.report.write import REPORT_PDF, render_pages, write_report

__all__ = ["INSTALL_HINT", "REPORT_PDF", "render_pages", "write_report"]
