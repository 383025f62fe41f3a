"""Where a reader of one huge file gives its rows: in blocks, as it reads them.

:mod:`geoexpose.tracks.pieces` reads one large track file in bounded memory. It asks
the file's reader (through :attr:`geoexpose.tracks.formats.ReadOptions.blocks`) to
give its rows as blocks of a :class:`~geoexpose.tracks.normalize.RawTrack` frame, in
file order, instead of one frame: a GPX as it parses its points, a CSV as it parses
its lines. A reader that gave its rows so returns a frame without rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

__all__ = ["WHOLE", "RowBlocks", "whole_note"]

logger = logging.getLogger(__name__)

#: How a file's notes begin where its reader was asked for blocks and read it whole.
WHOLE = "read whole, not in blocks"


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


def whole_note(path: Path, why: str) -> str:
    """Return (and log) the note of a file read whole though blocks were asked for."""
    note = f"{WHOLE}: {why}"
    logger.info("%s: %s", path, note)
    return note
