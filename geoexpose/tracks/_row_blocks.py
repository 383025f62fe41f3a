"""Where a reader of one huge file gives its rows: in blocks, as it reads them.

:mod:`geoexpose.tracks.pieces` reads one large track file in bounded memory. It asks
the file's reader (through :attr:`geoexpose.tracks.formats.ReadOptions.blocks`) to
give its rows as blocks of a :class:`~geoexpose.tracks.normalize.RawTrack` frame, in
file order, instead of one frame: a GPX as it parses its points, a CSV as it parses
its lines. A reader that gave its rows so returns a frame without rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

__all__ = ["RowBlocks"]


@dataclass(frozen=True)
class RowBlocks:
    """Where a reader gives its rows, in blocks of rows (see module notes).

    ``add`` takes each block (a :class:`~geoexpose.tracks.normalize.RawTrack` frame
    of some rows, in file order); ``frames`` gives them all back (a file read whole
    after all: a route, no times); ``progress``: a bar of the bytes read; ``rows``:
    about how many rows a block holds (a reader may give fewer).
    """

    add: Callable[[pd.DataFrame], object]
    frames: Callable[[], list[pd.DataFrame]]
    progress: bool = False
    rows: int = 1 << 17
