"""Read the kept rows of a file cleaned block by block back by position, heights finished.

:class:`KeptRows` reads ranges of the kept rows that
:class:`~geoexpose.tracks._clean_blocks.BlockCleaner` wrote as blocks, and gives them
as :func:`geoexpose.tracks._kept.take_kept` and
:func:`geoexpose.tracks._takeoff.takeoff_heights` leave them on a whole file: the
flights that start on the ground get ``alt_agl_m`` = ``alt_msl_m`` minus their first
fix's and ``alt_ref`` ``"takeoff"``, and ``alt_ref`` is a categorical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, ALT_REF_TAKEOFF
from geoexpose.tracks._spill import Spill
from geoexpose.tracks.normalize import FLIGHT_NO

__all__ = ["KeptRows"]


class KeptRows:
    """The kept rows of one file, in blocks of a spill (see module notes).

    Parameters
    ----------
    spill
        Where the blocks (``"kept"``) are.
    sizes
        Rows of each block.
    ground
        The first ``alt_msl_m`` of each flight that starts on the ground, by flight number.
    """

    def __init__(self, spill: Spill, sizes: list[int], ground: dict[int, float]) -> None:
        self.spill = spill
        self.bounds = np.r_[0, np.cumsum(np.asarray(sizes, dtype=np.int64))]
        self.ground = ground
        self._cached: tuple[int, pd.DataFrame] | None = None

    def __len__(self) -> int:
        return int(self.bounds[-1])

    def _block(self, i: int) -> pd.DataFrame:
        if self._cached is None or self._cached[0] != i:
            self._cached = (i, self.spill.get("kept", i))
        return self._cached[1]

    def blocks(self):
        """Give the kept blocks in order, as written (heights not finished)."""
        for i in range(len(self.bounds) - 1):  # a loop over blocks
            yield self.spill.get("kept", i)

    def plain(self, a: int, b: int) -> pd.DataFrame:
        """Rows ``a:b`` as written (heights not finished)."""
        first = int(np.searchsorted(self.bounds, a, side="right")) - 1
        parts = []
        for i in range(max(first, 0), len(self.bounds) - 1):  # blocks of the range
            lo, hi = int(self.bounds[i]), int(self.bounds[i + 1])
            if lo >= b:
                break
            if hi > a and hi > lo:
                parts.append(self._block(i).iloc[max(a - lo, 0) : b - lo])
        if not parts:
            return self._block(0).iloc[:0]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()

    def rows(self, a: int, b: int) -> pd.DataFrame:
        """Rows ``a:b`` (positions among the kept rows), heights finished."""
        rows = self.plain(a, b).reset_index(drop=True)
        refs = rows[ALT_REF].astype("category") if ALT_REF in rows else None
        if self.ground and len(rows):
            flight = rows[FLIGHT_NO].to_numpy("int64")
            start = pd.Series(flight).map(self.ground).to_numpy("float64")
            on = ~np.isnan(start)
            if on.any():
                msl = rows[ALT_MSL_M].to_numpy("float64")
                height = rows[ALT_AGL_M].to_numpy("float64", copy=True)
                height[on] = msl[on] - start[on]
                rows[ALT_AGL_M] = height
                if refs is not None:
                    if ALT_REF_TAKEOFF not in refs.cat.categories:
                        refs = refs.cat.add_categories([ALT_REF_TAKEOFF])
                    refs = refs.mask(on, ALT_REF_TAKEOFF)
        if refs is not None:
            rows[ALT_REF] = refs
        return rows
