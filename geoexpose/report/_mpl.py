"""matplotlib, imported when a briefing is drawn and not before: ``import geoexpose`` stays light.

:func:`mpl` returns the few classes the briefing draws with; without matplotlib it
raises an ImportError that names the extra to install.
"""

from __future__ import annotations

import functools
import types

__all__ = ["INSTALL_HINT", "mpl"]

#: What to run when matplotlib is missing.
INSTALL_HINT = "the PDF briefing needs matplotlib: pip install 'geoexpose[report]'"


@functools.cache
def mpl() -> types.SimpleNamespace:
    """Return matplotlib's classes used here (Figure, PdfPages, patches, collections, ...)."""
    try:
        import matplotlib
        from matplotlib.backends.backend_pdf import PdfPages
        from matplotlib.collections import LineCollection
        from matplotlib.figure import Figure
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch, PathPatch, Rectangle
        from matplotlib.path import Path
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    return types.SimpleNamespace(
        matplotlib=matplotlib,
        PdfPages=PdfPages,
        LineCollection=LineCollection,
        Figure=Figure,
        Line2D=Line2D,
        Patch=Patch,
        PathPatch=PathPatch,
        Rectangle=Rectangle,
        Path=Path,
    )
