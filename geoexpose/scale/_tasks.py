"""What one batch of fixes or of captures gives, worked out where the batch is loaded.

:func:`fix_task` exposes a batch of fixes with :func:`geoexpose.exposure.fix_pairs`
and keeps its flights' lines and the fixes near captures; :func:`capture_task`
measures a batch of captures with :func:`geoexpose.expose`. Both run in this process
or on a Dask worker, with what every batch needs (:class:`Shared`) shipped once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geoexpose.exposure import (
    DETAIL_GSD_CM,
    MAX_GSD_CM,
    PreparedSites,
    expose,
    fix_pairs,
    validate_fixes,
)
from geoexpose.projection import M_PER_DEG
from geoexpose.scale._match import CaptureWindows
from geoexpose.scale._pieces import Loaded, PieceMark, near_of_piece, repeated_fix_pairs
from geoexpose.schema import CRS_LONLAT, FLIGHT_ID, N_FIXES
from geoexpose.tracks import fix_arrays, flight_lines

__all__ = ["CapturePart", "FixPart", "Shared", "capture_task", "fix_task"]


@dataclass(frozen=True)
class Shared:
    """What every batch needs, shipped to each worker once."""

    sites: PreparedSites
    windows: CaptureWindows | None
    max_gap_s: float
    gap_factor: float
    threads: int
    simplify_m: float | None
    max_gsd_cm: float = MAX_GSD_CM
    detail_gsd_cm: float = DETAIL_GSD_CM


@dataclass
class FixPart:
    """What one batch of fixes gives."""

    pairs: pd.DataFrame
    flights: gpd.GeoDataFrame
    near: pd.DataFrame | None
    n_fixes: int
    flight_ids: list[str]
    files: list[dict[str, Any]]
    triggers: pd.DataFrame | None
    spans: pd.DataFrame | None = None
    kept: dict[str, int] | None = None
    piece: PieceMark | None = None


@dataclass
class CapturePart:
    """What one batch of captures gives."""

    pairs: pd.DataFrame
    footprints: gpd.GeoDataFrame
    captures: gpd.GeoDataFrame
    capture_sites: pd.DataFrame
    detail_footprints: gpd.GeoDataFrame | None = None


def fix_task(loaded: Loaded, shared: Shared) -> FixPart:
    """Expose one batch of fixes: its pairs, flight lines and fixes near captures.

    A piece of a file (``loaded.piece``) takes its flights' recording-gap limits from
    the whole file and takes off again the counts of a first fix that repeats the
    piece before's last (see :mod:`geoexpose.scale._pieces`).
    """
    fixes = validate_fixes(loaded.fixes)
    piece = loaded.piece
    limits = piece.gap_limits if piece is not None else None
    a = fix_arrays(fixes, max_gap_s=shared.max_gap_s, gap_factor=shared.gap_factor, limits=limits)
    pairs = fix_pairs(shared.sites, a, threads=shared.threads)
    lines = flight_lines(fixes.iloc[a.order], seg_ok=a.seg_ok, xy=a.xy, codes=a.codes)
    mark, n_fixes = None, len(fixes)
    if piece is not None:
        joined: tuple[str, ...] = ()
        if piece.continued and len(fixes):
            again, joined = repeated_fix_pairs(shared.sites, a, piece.continued)
            pairs = pd.concat([pairs, again], ignore_index=True) if len(again) else pairs
            lines.loc[lines[FLIGHT_ID].isin(piece.continued), N_FIXES] -= 1
            n_fixes -= len(piece.continued)
        mark = PieceMark(piece.path, piece.label, piece.number, piece.continued, joined)
    del a
    if shared.simplify_m and len(lines):
        tolerance = shared.simplify_m / M_PER_DEG  # degrees: at most that many metres
        simple = shapely.simplify(lines.geometry.to_numpy(), tolerance, preserve_topology=False)
        lines = lines.set_geometry(gpd.GeoSeries(simple, index=lines.index, crs=CRS_LONLAT))
    near = None
    if shared.windows is not None and len(fixes):
        near = (
            shared.windows.near(fixes)
            if piece is None
            else near_of_piece(shared.windows, fixes, piece)
        )
    ids = pd.unique(fixes[FLIGHT_ID].astype(str)).tolist() if len(fixes) else []
    return FixPart(
        pairs, lines, near, n_fixes, ids, loaded.files, loaded.triggers, loaded.spans,
        loaded.kept, mark,
    )  # fmt: skip


def capture_task(captures: gpd.GeoDataFrame, shared: Shared) -> CapturePart:
    """Measure one batch of captures (flights already matched) against the sites."""
    r = expose(
        shared.sites,
        None,
        captures=captures,
        threads=shared.threads,
        max_gsd_cm=shared.max_gsd_cm,
        detail_gsd_cm=shared.detail_gsd_cm,
    )
    return CapturePart(r.pairs, r.footprints, r.captures, r.capture_sites, r.detail_footprints)
