"""Exposure of more fixes than fit in memory: batches of whole flights, merged exactly.

:func:`expose_stream` gives the answer of :func:`geoexpose.expose` while holding only
a batch or two of fixes at a time:

1. The fixes are cut into batches of whole flights (files of a GeoParquet table
   partitioned by flight, track files, or parts of a frame). Each batch goes through
   :func:`geoexpose.expose` on its own: a flight x site pair depends on that flight's
   fixes only, so the batches' pairs are the pairs of one call. Each batch also keeps
   its flights' lines (simplified) and the few fixes that matching captures to
   flights can use (see :mod:`geoexpose.scale._match`).
2. The captures are matched to flights with those fixes, then cut into batches by
   flight and measured against the sites; their pairs merge with the fixes' pairs by
   sum, minimum and maximum, and the imaged parts of each site by union.
3. The per-site metrics and the score are computed from the merged pairs, as in
   :func:`geoexpose.expose`.

A flight that several track files hold counts once, as in one
:func:`geoexpose.read_tracks` call: copies in different batches are read again
together, replacing the first reading (see :mod:`geoexpose.scale._copies`).

Batches run one after another in this process (``engine="local"``, the next batch
read while the current one is worked on) or on a Dask cluster (``engine="dask"``,
see :mod:`geoexpose.scale.dask_engine`). Numbers agree with one call of
:func:`geoexpose.expose` to rounding (1e-9 relative; sums may add in another order).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._frames import concat_keeping_files, reader_files, without_attrs
from geoexpose._progress import progress_bar
from geoexpose.errors import InputError, UsageError
from geoexpose.exposure import (
    DETAIL_GSD_CM,
    MATCH_TOLERANCE_S,
    MAX_GSD_CM,
    PreparedSites,
    StreamResult,
    expose,
    prepare_sites,
    site_table,
    validate_captures,
)
from geoexpose.imagery import captures_from_triggers, empty_captures
from geoexpose.scale._copies import files_to_reread, replace_files, sort_by_file
from geoexpose.scale._match import CaptureWindows, match_captures
from geoexpose.scale._merge import (
    combine_details,
    combine_footprints,
    combine_pairs,
    sort_captures,
)
from geoexpose.scale._pieces import (
    PieceMark,
    merge_flight_rows,
    merge_spans,
    renumber_triggers,
)
from geoexpose.scale._sources import (
    Pieces,
    TrackFiles,
    file_order,
    plan_batches,
    reread_batches,
)
from geoexpose.scale._tasks import CapturePart, Shared, capture_task, fix_task
from geoexpose.scale.dask_engine import DaskRunner
from geoexpose.schema import CRS_LONLAT, FLIGHT_ID, TIME_UTC
from geoexpose.tracks import GAP_FACTOR, MAX_GAP_S, flight_lines

__all__ = ["ENGINES", "StreamResult", "TrackFiles", "expose_stream"]

logger = logging.getLogger(__name__)

ENGINES = ("local", "dask")


@dataclass(frozen=True)
class _Captures:
    frame: gpd.GeoDataFrame

    def load(self) -> gpd.GeoDataFrame:
        return self.frame


class LocalRunner:
    """Run batches one after another here, reading the next while one is worked on."""

    name = "local"
    workers = 1

    def __init__(self, threads: int) -> None:
        self.threads = threads

    def share(self, obj: Any) -> Any:
        """Nothing to ship: the object itself."""
        return obj

    def map(self, func: Callable[[Any, Any], Any], batches: Iterable[Any], shared: Any):
        """Yield ``func(batch.load(), shared)`` for each batch."""
        with ThreadPoolExecutor(1, thread_name_prefix="geoexpose-read") as reader:
            it = iter(batches)
            first = next(it, None)
            pending = reader.submit(first.load) if first is not None else None
            while pending is not None:
                loaded = pending.result()
                following = next(it, None)
                pending = reader.submit(following.load) if following is not None else None
                yield func(loaded, shared)
                del loaded

    def close(self) -> None:
        """Nothing to close."""


def _runner(engine: str, scheduler: Any, threads: int | None, workers: int | None):
    if engine == "local":
        return LocalRunner(threads or min(4, os.cpu_count() or 1))
    if engine == "dask":
        return DaskRunner(scheduler, threads=threads or 1, workers=workers)
    raise UsageError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")


def _capture_batches(captures: gpd.GeoDataFrame, size: int) -> Iterator[_Captures]:
    """Cut captures into batches of whole flights (those of no flight together)."""
    key = captures[FLIGHT_ID].astype(object).fillna("").astype(str)  # "": of no flight
    codes, _ = pd.factorize(key, sort=True)
    sizes = np.bincount(codes, minlength=1)
    bounds = np.cumsum(sizes)
    batch_of_flight = (np.r_[0, bounds[:-1]] // max(size, 1)).astype("int64")
    batch = batch_of_flight[codes]
    for k in np.unique(batch):
        yield _Captures(captures[batch == k])


def expose_stream(
    sites: gpd.GeoDataFrame | PreparedSites,
    fixes: Any,
    captures: gpd.GeoDataFrame | None = None,
    *,
    engine: str = "local",
    scheduler: Any = None,
    batch_fixes: int = 2_000_000,
    batch_captures: int = 20_000,
    piece_fixes: int | None = None,
    max_gap_s: float = MAX_GAP_S,
    gap_factor: float = GAP_FACTOR,
    threads: int | None = None,
    workers: int | None = None,
    simplify_m: float | None = 1.0,
    triggers_dem: Any = None,
    progress: bool = False,
    max_gsd_cm: float = MAX_GSD_CM,
    detail_gsd_cm: float = DETAIL_GSD_CM,
) -> StreamResult:
    """Compute the exposure of :func:`geoexpose.expose`, streaming the fixes in batches.

    Parameters
    ----------
    sites
        Sites, as for :func:`geoexpose.expose` (a frame, or prepared sites): they are
        prepared once (:func:`geoexpose.prepare_sites`) and every worker gets them once.
    fixes
        Where the fixes come from: a GeoParquet file or folder partitioned by flight
        (:func:`geoexpose.geoparquet.write_fixes`; each flight in one file), track
        files and folders (paths, or :class:`TrackFiles` for reading options), a
        DataFrame or GeoDataFrame of fixes (cut by flight), or an iterable of frames,
        each one batch (a flight in one frame only).
    captures
        Captures, as for :func:`geoexpose.expose`.
    engine
        ``"local"``: batches one after another in this process. ``"dask"``: batches
        as tasks on a Dask cluster (needs ``geoexpose[dask]``).
    scheduler
        Dask only: the scheduler's address (``"tcp://host:8786"``) or a
        ``distributed.Client``; None starts a LocalCluster of ``workers`` processes
        for the call.
    batch_fixes
        About this many fixes per batch (whole flights or files); memory grows with
        it, not with the number of fixes.
    batch_captures
        About this many captures per batch.
    piece_fixes
        A track file larger than this many fixes (estimated from its size) is read
        once and worked on in pieces of this many fixes, flights cut where a piece is
        full and added up exactly (see :mod:`geoexpose.scale._pieces`); default:
        :data:`geoexpose.tracks.PIECE_FIXES` (250,000). Memory
        then grows with the piece, plus the reader's plain columns of the file
        (about 60 bytes a fix for GPX).
    max_gap_s, gap_factor, max_gsd_cm, detail_gsd_cm
        As for :func:`geoexpose.expose`.
    threads
        Threads per batch (default: the CPUs, at most 4, for ``"local"``; 1 per task
        for ``"dask"``, where processes give the parallelism).
    workers
        Dask only: processes of the LocalCluster (default: the CPUs).
    simplify_m
        Simplify the flight lines kept for maps to within this many metres
        (None: keep every fix, so memory grows with the fixes).
    triggers_dem
        Elevation model for the footprints of photo triggers read from logs
        (:class:`TrackFiles` with ``triggers=True``).
    progress
        Show a progress bar over the batches on a terminal, and one of the fixes
        given out of each file read in pieces.

    Returns
    -------
    StreamResult
        An :class:`ExposureResult` with ``fixes=None``; ``.flights`` is a table.
        ``.stats``: ``engine``, ``workers``, ``batches``, ``capture_batches``,
        ``reread_batches`` and ``reread_files`` (track files read again to count
        copies of a flight once), ``pieces`` (batches that were pieces of a file),
        ``fixes``, ``seconds``.

    Notes
    -----
    A flight that several track files hold counts once, as in one reading of them
    all (unless :class:`TrackFiles` says ``duplicates="keep"``). Files holding copies
    in different batches are read again, together, in one batch however large: at
    worst (every flight in two files of different batches) every file twice.
    """
    start = time.perf_counter()
    prepared = prepare_sites(sites)
    inputs = {"sites": list(prepared.layers)}
    captures = validate_captures(captures)
    if captures is not None:
        inputs["captures"] = reader_files(captures)
        captures = without_attrs(captures)
    if batch_fixes < 1 or batch_captures < 1:
        raise UsageError("batch_fixes and batch_captures must be at least 1")
    if piece_fixes is not None and piece_fixes < 2:
        raise UsageError("piece_fixes must be at least 2")
    context_s = 2 * MATCH_TOLERANCE_S if captures is not None else 0.0
    pieces = Pieces(piece_fixes, max_gap_s, gap_factor, context_s, progress)
    batches, known = plan_batches(fixes, batch_fixes, pieces)
    runner = _runner(engine, scheduler, threads, workers)
    params = {
        "max_gap_s": max_gap_s, "gap_factor": gap_factor, "engine": engine,
        "batch_fixes": batch_fixes, "batch_captures": batch_captures,
        "simplify_m": simplify_m, "threads": runner.threads, "piece_fixes": piece_fixes,
        "max_gsd_cm": float(max_gsd_cm) if max_gsd_cm < float("inf") else None,
        "detail_gsd_cm": float(detail_gsd_cm),
    }  # fmt: skip
    parts: list[CapturePart] = []
    try:
        windows = CaptureWindows.of(captures)
        handle = runner.share(
            Shared(
                prepared,
                windows,
                max_gap_s,
                gap_factor,
                runner.threads,
                simplify_m,
                max_gsd_cm,
                detail_gsd_cm,
            )
        )
        fixed = _run_fixes(runner, batches, handle, progress)
        _recount_copies(runner, fixed, known, batch_fixes, handle, progress)
        params["workers"] = runner.workers
        if captures is not None or fixed["triggers"]:
            captures = without_attrs(_with_triggers(captures, fixed["triggers"], triggers_dem))
            matched = match_captures(
                captures,
                fixed["near"],
                any_fixes=fixed["fixes"] > 0,
                max_gap_s=max_gap_s,
                gap_factor=gap_factor,
            )
            cut = _capture_batches(matched, batch_captures)
            parts = list(runner.map(capture_task, cut, handle))
    finally:
        runner.close()
    inputs["tracks"] = known.get("files", []) + fixed["files"]
    return _assemble(prepared, captures, fixed, parts, inputs, params, start)


def _run_fixes(runner: Any, batches: Iterator[Any], handle: Any, progress: bool) -> dict[str, Any]:
    """Run every batch of fixes; gather pairs, lines, near fixes; check flights are apart."""
    out: dict[str, Any] = {
        "pairs": [], "flights": [], "near": [], "files": [], "triggers": [], "fixes": 0,
        "batches": 0, "spans": [], "kept": {}, "reread_files": 0, "reread_batches": 0,
        "pieces": 0,
    }  # fmt: skip
    seen: dict[str, str | None] = {}  # flight: the file read in pieces that holds it
    marks: list[PieceMark | None] = []
    labels: dict[str, str] = {}  # of the files read in pieces
    parts = runner.map(fix_task, batches, handle)
    for part in progress_bar(parts, progress=progress, desc="batches", unit="batch"):
        mine = part.piece.path if part.piece is not None else None
        again = [f for f in part.flight_ids if f in seen and (mine is None or seen[f] != mine)]
        if again:
            flight = sorted(again)[0]
            raise InputError(
                f"fixes: flight {flight!r} is in two batches; each flight must be in one "
                "file or frame (write GeoParquet with geoexpose.geoparquet.write_fixes)"
            )
        seen.update(dict.fromkeys(part.flight_ids, mine))
        out["pairs"].append(part.pairs)
        out["flights"].append(part.flights)
        marks.append(part.piece)
        if part.piece is not None:
            out["pieces"] += 1
            labels[part.piece.path] = part.piece.label
        if part.near is not None and len(part.near):
            out["near"].append(part.near)
        out["files"] += part.files
        if part.triggers is not None and len(part.triggers):
            out["triggers"].append(part.triggers)
        out["fixes"] += part.n_fixes
        out["batches"] += 1
        if part.spans is not None and len(part.spans):
            out["spans"].append(part.spans)
        for path, n in (part.kept or {}).items():  # a file read in pieces: summed
            out["kept"][path] = out["kept"].get(path, 0) + n
    out["flights"] = merge_flight_rows(out["flights"], marks)
    out["triggers"] = renumber_triggers(out["triggers"], labels)
    near = out["near"]
    out["near"] = pd.concat(near, ignore_index=True) if near else pd.DataFrame()
    spans = out["spans"]
    out["spans"] = merge_spans(pd.concat(spans, ignore_index=True)) if spans else pd.DataFrame()
    return out


def _recount_copies(
    runner: Any,
    fixed: dict[str, Any],
    known: dict[str, Any],
    batch_fixes: int,
    handle: Any,
    progress: bool,
) -> None:
    """Read again, together, the files holding copies of a flight in different batches."""
    order = file_order(known)
    components = files_to_reread(fixed["spans"], fixed["files"])
    if not components:
        sort_by_file(fixed, order)
        return
    paths = {p for _, files in components for p in files}
    logger.info("%d files hold copies of flights in other batches: read again", len(paths))
    again = reread_batches(components, known, batch_fixes)
    found = _run_fixes(runner, iter(again), handle, progress)
    replace_files(fixed, found, paths, order)
    fixed["reread_files"], fixed["reread_batches"] = len(paths), found["batches"]


def _with_triggers(
    captures: gpd.GeoDataFrame | None, triggers: list[pd.DataFrame], dem: Any
) -> gpd.GeoDataFrame:
    """Add the footprints of the logs' photo triggers (in file order) to the captures."""
    frames = [captures if captures is not None else empty_captures()]
    if triggers:
        frames.append(captures_from_triggers(pd.concat(triggers, ignore_index=True), dem=dem))
    if len(frames) == 1:
        return frames[0]
    return validate_captures(concat_keeping_files(frames))  # type: ignore[arg-type, return-value]


def _assemble(
    sites: PreparedSites,
    captures: gpd.GeoDataFrame | None,
    fixed: dict[str, Any],
    parts: list[CapturePart],
    inputs: dict[str, Any],
    params: dict[str, Any],
    start: float,
) -> StreamResult:
    """Merge the batches' results into one exposure result."""
    # the empty tables of a call without captures (and its empty pairs, without fixes)
    if captures is None or not parts or not fixed["batches"]:
        r = expose(sites, None)
        empty = (r.footprints, r.captures, r.capture_sites)
        if not fixed["batches"]:
            fixed["pairs"].append(r.pairs)
    pair_parts = list(fixed["pairs"]) + [p.pairs for p in parts]
    pairs = combine_pairs(pair_parts, sites, by_site_id=captures is not None)
    if captures is not None and parts:
        details = [p.detail_footprints for p in parts if p.detail_footprints is not None]
        footprints = combine_footprints([p.footprints for p in parts], sites, details)
        detail_footprints = combine_details(details, sites)
        caps, capture_sites = sort_captures(
            [p.captures for p in parts],
            [p.capture_sites for p in parts],
            pd.Index(captures["capture_id"]),
        )
    else:
        footprints, caps, capture_sites = empty
        detail_footprints = combine_details([], sites)
    out = site_table(sites, pairs, footprints if captures is not None else None)
    lines = [f for f in fixed["flights"] if len(f)]
    flights = (
        pd.concat(lines, ignore_index=True).sort_values(FLIGHT_ID, ignore_index=True)
        if lines
        else (fixed["flights"][0] if fixed["flights"] else _no_flights())
    )
    seconds = time.perf_counter() - start
    stats = {
        "engine": params["engine"],
        "workers": params["workers"],
        "batches": fixed["batches"],
        "capture_batches": len(parts),
        "reread_batches": fixed["reread_batches"],
        "reread_files": fixed["reread_files"],
        "pieces": fixed["pieces"],
        "fixes": fixed["fixes"],
        "seconds": round(seconds, 3),
    }
    logger.info(
        "streamed exposure: %d sites, %d fixes in %d batches, %d pairs, %.1f s",
        len(out), fixed["fixes"], fixed["batches"], len(pairs), seconds,
    )  # fmt: skip
    return StreamResult(
        sites=out,
        pairs=pairs,
        footprints=footprints,
        fixes=None,
        params=params,
        inputs=inputs,
        captures=caps,
        capture_sites=capture_sites,
        detail_footprints=detail_footprints,
        flight_table=gpd.GeoDataFrame(flights, geometry="geometry", crs=CRS_LONLAT),
        stats=stats,
    )


def _no_flights() -> gpd.GeoDataFrame:
    empty = gpd.GeoDataFrame(
        {FLIGHT_ID: pd.Series(dtype=str), TIME_UTC: pd.Series(dtype="datetime64[ns, UTC]")},
        geometry=gpd.GeoSeries([], crs=CRS_LONLAT),
    )
    return flight_lines(empty, seg_ok=np.zeros(0, dtype=bool))
