"""What a scan reads: its site layers, and every track and capture under its inputs.

:func:`read_site_layers` reads one or more site layers into one frame.
:func:`read_inputs` splits the inputs between the track readers and the capture
readers (folders go to both; each reader walks for its own files), lets the photo
triggers of the logs stand in for photos where no photo files were given, and
accounts for every file met (:mod:`geoexpose.inventory`). :func:`geoexpose.scan`
and ``geoexpose audit`` read through it; a scan starts the track readers first and
reads its site layers while they work (:func:`reading_inputs`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose._frames import concat_keeping_files, reader_files
from geoexpose.errors import InputError, UsageError
from geoexpose.imagery import captures_from_triggers, read_captures
from geoexpose.inventory import account_files, nothing_to_scan, walk_inputs
from geoexpose.schema import CAPTURE_KIND, SITE_ID
from geoexpose.sites import read_sites
from geoexpose.tracks import TrackReading, read_trigger_poses

__all__ = [
    "SITE_LAYER",
    "ScanInputs",
    "listed",
    "read_inputs",
    "read_site_layers",
    "reading_inputs",
]

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]
#: What a site layer found among the inputs is read as (its entry's reason says so).
SITE_LAYER = "a site layer"


def listed(paths: Paths) -> list[Any]:
    """Return the paths as a list (one path, or an iterable of them)."""
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
    layers = listed(layers)
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
    inputs: Paths,
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
    reading = reading_inputs(
        inputs, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, every_s=every_s,
        dem=dem, progress=progress, layers=layers, workers=workers,
    )  # fmt: skip
    with reading as finish:
        return finish()


@contextmanager
def reading_inputs(
    inputs: Paths,
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
    items = listed(inputs)
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
