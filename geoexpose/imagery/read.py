"""Read captures: find image and telemetry files, tell each one's kind, read them into footprints.

:func:`read_captures` walks folders for the files of :data:`CAPTURE_SUFFIXES`, tells each
file's kind from its content (a photo, DJI video telemetry, an orthomosaic or an elevation
model), makes the poses of photos and video frames (:mod:`geoexpose.imagery.capture_poses`)
and their footprints (:func:`geoexpose.imagery.captures.captures_from_poses`), reads
orthomosaics (:mod:`geoexpose.imagery.orthomosaic`), and records what it did with each
file.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._files import expand_paths, file_labels
from geoexpose._fork import fork_map
from geoexpose._progress import progress_bar
from geoexpose.errors import InputError, InputWarning, UsageError, one_line, printable
from geoexpose.imagery._raster import open_dem
from geoexpose.imagery.camera import Camera
from geoexpose.imagery.capture_poses import photo_poses, srt_poses
from geoexpose.imagery.captures import captures_from_poses, empty_captures
from geoexpose.imagery.orthomosaic import read_orthomosaic, sniff_geotiff
from geoexpose.imagery.photo_tags import photo_tags_table
from geoexpose.schema import CAPTURE_ID, FLAGS, TIME_UTC
from geoexpose.tracks import check_time_zone, sniff_srt

__all__ = ["CAPTURE_SUFFIXES", "IMAGE_SUFFIXES", "read_captures"]

logger = logging.getLogger(__name__)

#: File name endings of photos and rasters (orthomosaics and DEMs: .tif).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".dng")
#: File name endings looked for in folders: images and DJI video telemetry.
CAPTURE_SUFFIXES = (*IMAGE_SUFFIXES, ".srt")
_PHOTO_SHARE = 200  # photos whose metadata one forked worker reads at a time
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _kind_of(path: Path) -> str:
    """``photo``, ``orthomosaic``, ``elevation`` or ``srt``, from a file's content."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise InputError("empty file")
    if head.startswith(b"\xff\xd8\xff"):
        return "photo"
    if head.startswith(_TIFF_MAGIC):
        return sniff_geotiff(path) or "photo"  # orthomosaic, elevation or a photo
    if sniff_srt(head, path):
        return "srt"
    raise InputError("not a JPEG, TIFF, DNG or DJI telemetry (.SRT) file")


def _entry(path: Path) -> dict[str, Any]:
    """Return a file's entry in ``attrs["geoexpose"]["files"]``, before it is read."""
    return {"path": str(path), "format": "unknown", "status": "skipped", "reason": None,
            "captures": 0, "notes": []}  # fmt: skip


def _photo_tags(photos: list[Path], workers: int) -> pd.DataFrame:
    """Return :func:`photo_tags_table` of ``photos``, read in shares by forked workers."""
    if workers < 2 or len(photos) <= _PHOTO_SHARE:
        return photo_tags_table(photos)
    shares = [photos[k : k + _PHOTO_SHARE] for k in range(0, len(photos), _PHOTO_SHARE)]
    return pd.concat(list(fork_map(photo_tags_table, shares, workers=workers)), ignore_index=True)


def read_captures(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    dem: str | os.PathLike[str] | None = None,
    every_s: float = 1.0,
    time_zone: str | None = None,
    video_size: tuple[int, int] | None = None,
    densify: int | None = None,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
    strict: bool = False,
    progress: bool = False,
    workers: int = 1,
) -> gpd.GeoDataFrame:
    """Read photos, video telemetry and orthomosaics: one row per capture, with its footprint.

    Parameters
    ----------
    paths
        A file or folder, or an iterable of them. Folders are walked for ``.jpg``,
        ``.jpeg``, ``.tif``, ``.tiff``, ``.dng`` and ``.srt`` files (hidden ones left out).
        Each file's kind comes from its content: a photo, DJI video telemetry, or a
        georeferenced GeoTIFF, which is an orthomosaic (one capture: its valid-data
        area, at its pixel size; see :func:`geoexpose.imagery.orthomosaic.read_orthomosaic`)
        unless it holds one band of elevations (then it is skipped: pass it as ``dem``).
    dem
        A digital elevation or surface model (GeoTIFF; needs ``geoexpose[raster]``) to
        march the rays into, instead of the flat ground level with the take-off point.
        See :func:`captures_from_poses` for how the camera's height on it is found.
    every_s
        Video: keep one frame per this many seconds of video (0: every telemetry block).
    time_zone
        IANA zone of camera clocks that write no offset. Without it such times are taken
        as UTC, flagged ``time_zone_assumed_utc``.
    video_size
        ``(width, height)`` of the videos in pixels; default 3840 x 2160, flagged
        ``frame_size_assumed`` (it sets the GSD, not the footprint).
    densify
        Points per image edge; ``None``: 16 over flat ground, more on a DEM (see
        :func:`captures_from_poses`).
    max_range_m, min_depression_deg
        As for :func:`geoexpose.imagery.footprints.footprints`.
    strict
        Raise :class:`InputError` for a file that cannot be read, instead of warning
        and skipping it.
    progress
        Show a progress bar over the files on a terminal.
    workers
        Photos' metadata read in this many forked processes at once (Linux, from a
        process with one thread; see :func:`geoexpose._fork.fork_map`); the result
        is that of ``workers=1``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`geoexpose.schema.CAPTURE_COLUMNS` (``flight_id`` empty: it is
        matched by time in :func:`geoexpose.expose`) then :data:`CAPTURE_EXTRA_COLUMNS`;
        ``attrs["geoexpose"]["files"]`` has one entry per file: ``path``, ``format``,
        ``status``, ``reason``, ``captures``, ``notes``.
    """
    if not np.isfinite(every_s) or every_s < 0:
        raise UsageError(f"every_s={every_s!r}: expected a number of seconds >= 0")
    try:
        check_time_zone(time_zone)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    files = expand_paths(paths, CAPTURE_SUFFIXES)
    labels = dict(zip(files, file_labels(files), strict=True))
    entries = {path: _entry(path) for path in files}

    def skip(path: Path, reason: str, exc: Exception | None = None) -> None:
        reason = one_line(reason)
        entries[path]["reason"] = reason
        message = (
            reason
            if reason.startswith(printable(str(path)))
            else f"{printable(str(path))}: {reason}"
        )
        if strict:
            raise InputError(message) from exc
        warnings.warn(InputWarning(message), stacklevel=3)

    photos: list[Path] = []
    orthos: list[gpd.GeoDataFrame] = []
    parts: list[tuple[pd.DataFrame, list[Camera]]] = []
    for path in progress_bar(files, progress=progress, desc="captures", unit="file"):
        try:
            kind = _kind_of(path)
        except (InputError, OSError) as exc:
            skip(path, str(exc) if isinstance(exc, InputError) else f"cannot read ({exc})", exc)
            continue
        entries[path]["format"] = kind
        if kind == "photo":
            photos.append(path)
        elif kind == "elevation":
            skip(path, "an elevation model, not imagery (give it as the DEM: --dem, dem=)")
        elif kind == "orthomosaic":
            try:
                ortho = read_orthomosaic(path, time_zone=time_zone)
                orthos.append(ortho.assign(**{CAPTURE_ID: labels[path]}))  # unique names
            except (InputError, UsageError) as exc:
                skip(path, str(exc), exc)
                continue
            entries[path].update(status="read", captures=1)
        else:
            try:
                poses, cams, notes = srt_poses(
                    path, labels[path], every_s=every_s, time_zone=time_zone,
                    video_size=video_size,
                )  # fmt: skip
            except InputError as exc:
                skip(path, str(exc), exc)
                continue
            entries[path].update(status="read", captures=len(poses), notes=notes)
            parts.append((poses, cams))

    if photos:
        tags = _photo_tags(photos, workers)
        poses, photo_cams, reasons = photo_poses(tags, [labels[p] for p in photos], time_zone)
        ok = np.array([r is None for r in reasons], dtype=bool)
        notes = tags["xmp_note"].tolist()
        for path, reason, note in zip(photos, reasons, notes, strict=True):
            if note:
                entries[path]["notes"] = [note]
            if reason is None:
                entries[path].update(status="read", captures=1)
            else:
                skip(path, reason)
        if ok.any():
            cams = [c for c, k in zip(photo_cams, ok, strict=True) if k and c is not None]
            parts.append((poses[ok].reset_index(drop=True), cams))
        if (assumed := poses[FLAGS].str.contains("time_zone_assumed_utc")[ok]).any():
            warnings.warn(
                InputWarning(
                    f"{int(assumed.sum())} photo(s) write local times without a zone; "
                    "taken as UTC (pass time_zone=)"
                ),
                stacklevel=2,
            )

    if parts:
        poses = pd.concat([p for p, _ in parts], ignore_index=True)
        cams_all = [c for _, cs in parts for c in cs]
        opened = None if dem is None else open_dem(dem)
        try:
            out = captures_from_poses(
                poses, cams_all, dem=opened, densify=densify, max_range_m=max_range_m,
                min_depression_deg=min_depression_deg,
            )  # fmt: skip
        finally:
            if opened is not None:
                opened.close()
        out = out.sort_values([TIME_UTC, CAPTURE_ID], kind="stable", ignore_index=True)
    else:
        out = empty_captures()
    if orthos:
        out = pd.concat([out, *orthos], ignore_index=True)
        out = out.sort_values([TIME_UTC, CAPTURE_ID], kind="stable", ignore_index=True)
    out.attrs["geoexpose"] = {"files": list(entries.values())}
    logger.info("captures: %d from %d files", len(out), len(files))
    return out
