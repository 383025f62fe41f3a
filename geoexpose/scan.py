"""A scan as one library call: site layers and input folders in, an exposure out.

:func:`scan` does what ``geoexpose scan`` does, for Python users and the command line
alike: it reads the site layers, splits the inputs between the track readers and the
capture readers (folders go to both; each reader walks for its own files), lets the
photo triggers of the logs stand in for photos where no photo files were given, and
computes the exposure in memory or streamed batch by batch. :func:`read_inputs` is its
reading half, which ``geoexpose audit`` uses too.

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
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose._atomic import MANIFEST_FILE, listed_files
from geoexpose._frames import concat_keeping_files, reader_files
from geoexpose.errors import InputError, OutputExistsError, UsageError
from geoexpose.exposure import MAX_GSD_CM, ExposureResult, PreparedSites, StreamResult, expose
from geoexpose.imagery import captures_from_triggers, read_captures
from geoexpose.inventory import account_files, files_record, nothing_to_scan, walk_inputs
from geoexpose.outputs import check_outputs, output_names, output_transaction
from geoexpose.scale import ENGINES, TrackFiles, expose_stream, geoparquet
from geoexpose.schema import CAPTURE_KIND, FLAGS, SITE_ID
from geoexpose.sites import read_sites
from geoexpose.tracks import (
    FROM_LOG,
    MAX_GAP_S,
    TrackReading,
    read_trigger_poses,
)

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
_Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
#: What a site layer found among the inputs is read as (its entry's reason says so).
SITE_LAYER = "a site layer"


def _listed(paths: _Paths) -> list[Any]:
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


@dataclass(frozen=True)
class ScanInputs:
    """What a scan read: fixes and captures, and the entry of every file it met.

    Attributes
    ----------
    fixes : GeoDataFrame
        One row per fix (:func:`geoexpose.read_tracks`).
    captures : GeoDataFrame
        One row per capture (:func:`geoexpose.read_captures`), with the photos of the
        logs' photo triggers where no photo files were given.
    files : list of dict
        One entry per file each reader met (a folder's telemetry file is met by both):
        ``path``, ``format``, ``status`` (``read``, ``route`` or ``skipped``),
        ``reason`` and what the reader counted.
    from_triggers : int
        How many captures came from the logs' photo triggers.
    other_files : list of dict
        The entries (also in ``files``) of the files under the inputs that no reader
        took: a layer given to the scan (status ``layer``), or skipped with why.
    """

    fixes: gpd.GeoDataFrame
    captures: gpd.GeoDataFrame
    files: list[dict[str, Any]] = field(default_factory=list)
    from_triggers: int = 0
    other_files: list[dict[str, Any]] = field(default_factory=list)


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


def read_site_layers(
    layers: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    standoff: Mapping[str, float] | None = None,
    family: str | None = None,
) -> gpd.GeoDataFrame:
    """Read one or more site layers into one frame; site ids must not repeat across them.

    Parameters
    ----------
    layers
        Files (or ``ENTRY=FILE``) as :func:`geoexpose.read_sites` reads them.
    standoff, family
        As for :func:`geoexpose.read_sites`, for every layer.
    """
    layers = _listed(layers)
    if not layers:
        raise UsageError("no site layer given")
    frames = [read_sites(layer, standoff=standoff or None, family=family) for layer in layers]
    sites = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    entries = [e for f in frames for e in f.attrs.get("geoexpose", {}).get("layers", [])]
    dup = sites[SITE_ID].duplicated()
    if dup.any():
        raise InputError(
            f"site_id {sites.loc[dup, SITE_ID].iloc[0]!r} occurs in more than one layer; "
            "give the layers distinct ids"
        )
    sites.attrs["geoexpose"] = {"layers": entries}
    return sites


def _with_triggers(
    captures: gpd.GeoDataFrame, track_inputs: list[str], fixes: Any, time_zone: str | None, dem: Any
) -> tuple[gpd.GeoDataFrame, int]:
    """Add the photos the logs say were taken, where no photo file was given."""
    if (captures[CAPTURE_KIND] == "photo").any() or not track_inputs:
        return captures, 0
    triggers = read_trigger_poses(track_inputs, fixes=fixes, time_zone=time_zone)
    if not len(triggers):
        return captures, 0
    from_logs = captures_from_triggers(triggers, dem=dem)
    return concat_keeping_files([captures, from_logs]), len(from_logs)


def read_inputs(
    inputs: _Paths,
    *,
    strict: bool = False,
    split_gap_s: float = 60.0,
    time_zone: str | None = None,
    every_s: float = 1.0,
    dem: str | os.PathLike[str] | None = None,
    progress: bool = False,
    layers: Mapping[str, Iterable[Any]] | None = None,
    workers: int = 1,
) -> ScanInputs:
    """Read the tracks and captures under the inputs, as a scan reads them.

    Parameters
    ----------
    inputs
        Files and folders: tracks, photos, video telemetry, orthomosaics.
    strict, split_gap_s, time_zone
        As for :func:`geoexpose.read_tracks` (and ``strict``, ``time_zone`` for
        :func:`geoexpose.read_captures`).
    every_s, dem
        As for :func:`geoexpose.read_captures`.
    progress
        Show progress bars on a terminal.
    layers
        Layers read otherwise, by what they are (``{"sites": [...]}``): where one
        lies among the inputs it is read as no track or capture.
    workers
        Track files and photos read at once in forked processes, as for
        :func:`geoexpose.read_tracks` and :func:`geoexpose.read_captures`.

    Returns
    -------
    ScanInputs
        With an entry for every file under the inputs (see :mod:`geoexpose.inventory`).

    Raises
    ------
    InputError
        When no fix and no capture could be read: one line saying what was found.
    """
    reading = _reading_inputs(
        inputs, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, every_s=every_s,
        dem=dem, progress=progress, layers=layers, workers=workers,
    )  # fmt: skip
    with reading as finish:
        return finish()


@contextmanager
def _reading_inputs(
    inputs: _Paths,
    *,
    strict: bool,
    split_gap_s: float,
    time_zone: str | None,
    every_s: float,
    dem: str | os.PathLike[str] | None,
    progress: bool,
    layers: Mapping[str, Iterable[Any]] | None,
    workers: int,
) -> Iterator[Callable[[], ScanInputs]]:
    """Start reading the inputs as :func:`read_inputs` does; the body calls what it gives.

    The track readers (forked, with several workers) start at once, so the body may do
    other work (read the site layers) before it takes the inputs; readers whose work
    is not taken are stopped at the end.
    """
    items = _listed(inputs)
    walked = walk_inputs(items, layers=layers)
    tracks = TrackReading(
        walked.tracks, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone,
        progress=progress, workers=workers,
    )  # fmt: skip

    def finish() -> ScanInputs:
        fixes = tracks.result()
        captures = read_captures(
            walked.captures, dem=dem, every_s=every_s, time_zone=time_zone, strict=strict,
            progress=progress, workers=workers,
        )  # fmt: skip
        captures, from_triggers = _with_triggers(captures, walked.tracks, fixes, time_zone, dem)
        files = reader_files(fixes) + reader_files(captures)
        other = account_files(walked, files)
        if not len(fixes) and not len(captures):
            raise InputError(nothing_to_scan(items, files + other))
        return ScanInputs(fixes, captures, files + other, from_triggers, other)

    with tracks:
        yield finish


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
    inputs: _Paths,
    sites: _Paths | gpd.GeoDataFrame | PreparedSites,
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
    layers: dict[str, list[Any]] = {}
    given = isinstance(sites, gpd.GeoDataFrame | PreparedSites)
    if not isinstance(sites, gpd.GeoDataFrame | PreparedSites):
        layers[SITE_LAYER] = _listed(sites)
    items = list(map(str, _listed(inputs)))
    read = {"strict": strict, "split_gap_s": split_gap_s, "time_zone": time_zone}
    if engine != "memory":
        if not given:
            sites = read_site_layers(layers[SITE_LAYER], standoff=standoff, family=site_family)
        return _scan_streamed(
            items, sites, engine=engine, scheduler=scheduler, batch_fixes=batch_fixes,
            max_gap_s=max_gap_s, read=read, every_s=every_s, dem=dem, progress=progress,
            layers=layers, max_gsd_cm=max_gsd_cm,
        )  # fmt: skip
    if any(geoparquet.is_geoparquet(item) for item in items):
        raise UsageError("GeoParquet inputs are read with --engine local or --engine dask")
    reading = _reading_inputs(
        items, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, every_s=every_s,
        dem=dem, progress=progress, layers=layers, workers=workers,
    )  # fmt: skip
    with reading as finish:  # the track files are read (forked) while the sites are
        if not given:
            sites = read_site_layers(layers[SITE_LAYER], standoff=standoff, family=site_family)
        found = finish()
    result = expose(
        sites, found.fixes, captures=found.captures, max_gap_s=max_gap_s, max_gsd_cm=max_gsd_cm
    )
    return ScanResult(result, found.files, found.from_triggers, found.other_files)
