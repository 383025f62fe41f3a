"""A scan as one library call: site layers and input folders in, an exposure out.

:func:`scan` does what ``geoexpose scan`` does, for Python users and the command line
alike: it reads the site layers and every track and capture under the inputs (its
reading half is :mod:`geoexpose.reading`, which ``geoexpose audit`` uses too; the
track files are read while the site layers are) and computes the exposure in memory
or streamed batch by batch. :class:`ScanResult` writes the output folder.

Examples
--------
>>> import tempfile, geoexpose as gx
>>> demo = gx.make_demo_inputs(tempfile.mkdtemp())
>>> done = gx.scan([*demo.tracks, *demo.photos], demo.sites)
>>> len(done.result.exposed), len(done.skipped)
(7, 0)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd

from geoexpose._atomic import MANIFEST_FILE, listed_files
from geoexpose._frames import concat_keeping_files, reader_files
from geoexpose.errors import InputError, OutputExistsError, UsageError
from geoexpose.exposure import MAX_GSD_CM, ExposureResult, PreparedSites, StreamResult, expose
from geoexpose.imagery import read_captures
from geoexpose.inventory import account_files, files_record, nothing_to_scan, walk_inputs
from geoexpose.outputs import check_outputs, output_names, output_transaction
from geoexpose.reading import (
    SITE_LAYER,
    Paths,
    ScanInputs,
    listed,
    read_inputs,
    read_site_layers,
    reading_inputs,
)
from geoexpose.scale import ENGINES, TrackFiles, expose_stream, geoparquet
from geoexpose.schema import CAPTURE_KIND, FLAGS
from geoexpose.tracks import FROM_LOG, MAX_GAP_S

__all__ = [
    "SCAN_ENGINES",
    "SITE_LAYER",
    "ScanInputs",
    "ScanResult",
    "check_scan_outputs",
    "read_inputs",
    "read_site_layers",
    "scan",
]

#: Values of ``engine=``: every fix in memory, or streamed (see :func:`geoexpose.expose_stream`).
SCAN_ENGINES = ("memory", *ENGINES)
_PARQUET = "parquet"  # the folder of the result tables as GeoParquet


@dataclass(frozen=True)
class ScanResult:
    """What :func:`scan` found, and what it read and skipped.

    Attributes
    ----------
    result : ExposureResult
        The exposure (a :class:`geoexpose.StreamResult` with a streaming engine).
    files : list of dict
        The entry of every file the readers met, read or skipped with its reason.
    from_triggers : int
        How many captures came from the logs' photo triggers.
    other_files : list of dict
        As for :class:`ScanInputs`.
    """

    result: ExposureResult
    files: list[dict[str, Any]] = field(default_factory=list)
    from_triggers: int = 0
    other_files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def read(self) -> list[dict[str, Any]]:
        """The entries of the files read (tracks, routes, captures)."""
        return [f for f in self.files if f.get("status") != "skipped"]

    @property
    def skipped(self) -> list[dict[str, Any]]:
        """The entries of the files skipped, each with its ``reason``."""
        return [f for f in self.files if f.get("status") == "skipped"]

    def record(self) -> dict[str, Any]:
        """Say what became of every file (:func:`geoexpose.inventory.files_record`)."""
        return files_record(self.files, self.other_files)

    @property
    def n_fixes(self) -> int:
        """How many fixes went into the exposure."""
        r = self.result
        if isinstance(r, StreamResult):
            return int(r.stats["fixes"])
        return 0 if r.fixes is None else len(r.fixes)

    def write(
        self,
        folder: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        basemap: str | os.PathLike[str] = "none",
        parquet: bool = False,
        extra_summary: Mapping[str, Any] | None = None,
        site_maps: int | str | None = None,
        workers: int = 1,
    ) -> Path:
        """Write the output folder (see :func:`geoexpose.write_outputs`).

        ``parquet`` also writes the result tables as GeoParquet partitioned by flight
        into ``folder/parquet``. ``site_maps``: which sites get a map of their own (a
        whole number of the most exposed, ``"all"`` or ``"none"``; None for
        :data:`geoexpose.maps.SITE_MAPS_CAP`). Existing outputs are refused before
        anything is written unless ``overwrite``. ``workers``: processes drawing the
        maps (see :func:`geoexpose.maps.write_maps`).
        """
        folder = Path(folder)
        check_scan_outputs(folder, overwrite=overwrite, parquet=parquet)
        extra = {**self.record(), **(extra_summary or {})}
        names = [*output_names(), *([_PARQUET] if parquet else [])]
        with output_transaction(folder, names, overwrite=overwrite) as stage:  # one folder
            self.result.write(
                stage, overwrite=True, basemap=basemap, extra_summary=extra, site_maps=site_maps,
                workers=workers,
            )  # fmt: skip
            if parquet:
                geoparquet.write_result(self.result, stage / _PARQUET, overwrite=True)
        return folder


def check_scan_outputs(folder: str | os.PathLike[str], *, overwrite: bool, parquet: bool) -> None:
    """Raise :class:`OutputExistsError` if an output of a scan exists and not ``overwrite``.

    With ``overwrite``, a ``parquet`` folder holding files that the folder's manifest
    does not list (written by someone else, or by a geoexpose that kept no manifest)
    is refused too: they would be read as part of the new tables.
    """
    folder = Path(folder)
    check_outputs(folder, overwrite=overwrite)
    if not parquet:
        return
    check_outputs(folder, overwrite=overwrite, names=[_PARQUET])
    tables = folder / _PARQUET
    if tables.is_dir() and not tables.is_symlink():
        listed = listed_files(folder)
        others = sorted(
            p.relative_to(folder).as_posix() for p in tables.rglob("*") if not p.is_dir()
        )
        unknown = [p for p in others if p not in listed]
        if unknown:
            raise OutputExistsError(
                f"{folder / unknown[0]}: not written by this geoexpose (not in "
                f"{MANIFEST_FILE}); remove {tables} yourself or choose another folder"
            )


def _scan_streamed(
    items: list[str],
    sites: Any,
    *,
    engine: str,
    scheduler: Any,
    batch_fixes: int,
    max_gap_s: float,
    read: dict[str, Any],
    every_s: float,
    dem: Any,
    progress: bool,
    layers: Mapping[str, Iterable[Any]],
    max_gsd_cm: float,
) -> ScanResult:
    """Scan with a streaming engine: tracks and GeoParquet fixes read batch by batch."""
    parquet = [i for i in items if geoparquet.is_geoparquet(i)]
    tables = [i for i in parquet if geoparquet.is_captures_table(i)]
    walked = walk_inputs([i for i in items if i not in parquet], layers=layers)
    captures = read_captures(
        walked.captures, dem=dem, every_s=every_s, time_zone=read["time_zone"],
        strict=read["strict"], progress=progress,
    )  # fmt: skip
    if tables:
        captures = concat_keeping_files([captures, *map(geoparquet.read_table, tables)])
    triggers = bool(walked.tracks) and not (captures[CAPTURE_KIND] == "photo").any()
    fix_tables = [p for p in parquet if p not in tables]
    source: list[Any] = list(fix_tables)
    if walked.tracks:
        source.append(TrackFiles(tuple(walked.tracks), **read, triggers=triggers))
    result = expose_stream(
        sites, source, captures=captures, engine=engine, scheduler=scheduler,
        batch_fixes=batch_fixes, max_gap_s=max_gap_s, triggers_dem=dem, progress=progress,
        max_gsd_cm=max_gsd_cm,
    )  # fmt: skip
    from_triggers = 0
    if triggers:
        flags = result.captures[FLAGS].astype(str)
        from_triggers = int(flags.str.contains(FROM_LOG).sum())
    files = result.inputs.get("tracks", []) + reader_files(captures)
    other = account_files(walked, files)
    done = ScanResult(result, files + other, from_triggers, other)
    if not done.n_fixes and not len(result.captures):
        raise InputError(nothing_to_scan(items, done.files))
    return done


def scan(
    inputs: Paths,
    sites: Paths | gpd.GeoDataFrame | PreparedSites,
    *,
    site_family: str | None = None,
    standoff: Mapping[str, float] | None = None,
    engine: str = "memory",
    scheduler: Any = None,
    batch_fixes: int = 2_000_000,
    max_gap_s: float = MAX_GAP_S,
    max_gsd_cm: float = MAX_GSD_CM,
    split_gap_s: float = 60.0,
    time_zone: str | None = None,
    every_s: float = 1.0,
    dem: str | os.PathLike[str] | None = None,
    strict: bool = False,
    progress: bool = False,
    workers: int = 1,
) -> ScanResult:
    """Read site layers and every track and capture under the inputs; compute the exposure.

    Parameters
    ----------
    inputs
        Files and folders: tracks of every format :func:`geoexpose.read_tracks`
        reads, photos, video telemetry and orthomosaics, and (with a streaming
        engine) GeoParquet tables of fixes or captures.
    sites
        Site layers (files, or ``ENTRY=FILE``) read with :func:`read_site_layers`, or
        sites already read (a GeoDataFrame, or :func:`geoexpose.prepare_sites`).
    site_family, standoff
        For the layers read: the family of sites without one, and standoff overrides
        by family or kind (see :func:`geoexpose.read_sites`).
    engine
        ``"memory"`` (every fix in memory, :func:`geoexpose.expose`), ``"local"`` or
        ``"dask"`` (fixes streamed in batches of whole flights,
        :func:`geoexpose.expose_stream`).
    scheduler, batch_fixes
        Streaming engines only, as for :func:`geoexpose.expose_stream`.
    max_gap_s, max_gsd_cm
        As for :func:`geoexpose.expose`.
    split_gap_s, time_zone, strict
        As for :func:`geoexpose.read_tracks`.
    every_s, dem
        As for :func:`geoexpose.read_captures`.
    progress
        Show progress bars on a terminal.
    workers
        Processes at work at once (forked, on Linux, from a process with one thread):
        with the memory engine track files and photos are read in them (as for
        :func:`geoexpose.read_tracks` and :func:`geoexpose.read_captures`); the
        result is that of ``workers=1``.

    Returns
    -------
    ScanResult
        The exposure, and the entry of every file read or skipped with its reason.

    Raises
    ------
    UsageError
        A bad option, or GeoParquet inputs with the memory engine.
    InputError
        A site layer cannot be read, or files were found and none could be read.
    """
    if engine not in SCAN_ENGINES:
        raise UsageError(f"engine {engine!r}: expected one of {', '.join(SCAN_ENGINES)}")
    if scheduler is not None and engine != "dask":
        raise UsageError("a scheduler goes with the dask engine")
    layers: dict[str, list[Any]] = {}  # the site layers to read, if not read already
    if not isinstance(sites, gpd.GeoDataFrame | PreparedSites):
        layers[SITE_LAYER] = listed(sites)
    items = list(map(str, listed(inputs)))
    read = {"strict": strict, "split_gap_s": split_gap_s, "time_zone": time_zone}
    if engine != "memory":
        if SITE_LAYER in layers:
            sites = read_site_layers(layers[SITE_LAYER], standoff=standoff, family=site_family)
        return _scan_streamed(
            items, sites, engine=engine, scheduler=scheduler, batch_fixes=batch_fixes,
            max_gap_s=max_gap_s, read=read, every_s=every_s, dem=dem, progress=progress,
            layers=layers, max_gsd_cm=max_gsd_cm,
        )  # fmt: skip
    if any(geoparquet.is_geoparquet(item) for item in items):
        raise UsageError("GeoParquet inputs are read with --engine local or --engine dask")
    reading = reading_inputs(
        items, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, every_s=every_s,
        dem=dem, progress=progress, layers=layers, workers=workers,
    )  # fmt: skip
    with reading as finish:  # the track files are read (forked) while the sites are
        if SITE_LAYER in layers:
            sites = read_site_layers(layers[SITE_LAYER], standoff=standoff, family=site_family)
        found = finish()
    result = expose(
        sites, found.fixes, captures=found.captures, max_gap_s=max_gap_s, max_gsd_cm=max_gsd_cm
    )
    return ScanResult(result, found.files, found.from_triggers, found.other_files)
