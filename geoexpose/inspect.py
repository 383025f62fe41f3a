"""What geoexpose reads from one file: its format, rows, time span, positions, pose, problems.

:func:`inspect_file` answers ``geoexpose inspect``: a track file gives the entry of
:func:`geoexpose.read_tracks` with its time span, bounds and heights; a photo its
position, pose and where its intrinsics come from, and the footprint it gives; a
GeoTIFF the orthomosaic or elevation model it is; a file that is no track but a site
layer, its sites by family; a folder, the report of each such file in it.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Any

from geoexpose._files import expand_paths
from geoexpose.errors import InputError, UsageError, counted, one_line
from geoexpose.imagery import (
    IMAGE_SUFFIXES,
    camera_from_tags,
    open_dem,
    read_captures,
    read_orthomosaic,
    read_photo_tags,
    sniff_geotiff,
)
from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, FAMILY, FLAGS, GSD_CM, TIME_UTC
from geoexpose.sites import default_standoff, read_sites
from geoexpose.tracks import TRACK_SUFFIXES, read_tracks, track_files

__all__ = ["inspect_file"]

_LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".parquet", ".fgb", ".csv")
#: Statuses of a file geoexpose reads something from.
_READ = ("read", "route")
_UNSPECIFIED = "unspecified"  # the family of a layer without one, as inspect reads it
_POSE_FIELDS = (
    "make", "model", "width_px", "height_px", "time_original", "lat", "lon", "abs_alt_m",
    "rel_alt_m", "gimbal_yaw_deg", "gimbal_pitch_deg", "gimbal_roll_deg", "flight_yaw_deg",
    "flight_pitch_deg", "flight_roll_deg", "focal_mm", "focal35_mm", "calibrated_focal_px",
)  # fmt: skip


def _bounds(bounds: Any) -> list[float]:
    return [round(float(v), 6) for v in bounds]


def _photo(path: str) -> dict[str, Any]:
    """Report a photo's position, pose, and where its intrinsics come from."""
    report: dict[str, Any] = {"path": path, "format": "photo", "status": "read"}
    try:
        tags = read_photo_tags(path)
    except InputError as exc:
        return {**report, "status": "skipped", "reason": one_line(exc)}
    values = dataclasses.asdict(tags)
    report["pose"] = {k: values.get(k) for k in _POSE_FIELDS if values.get(k) is not None}
    if tags.xmp_note:  # XMP repaired or unreadable: say so
        report["notes"] = [tags.xmp_note]
    try:
        report["intrinsics"] = camera_from_tags(values, path=path).source
    except InputError as exc:
        report["problems"] = [one_line(exc)]
        return report
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        captures = read_captures(path)
    if len(captures):  # the footprint it gives, over flat ground
        row = captures.iloc[0]
        report["footprint"] = {
            GSD_CM: round(float(row[GSD_CM]), 2),
            "bounds_lonlat": _bounds(row.geometry.bounds),
            FLAGS: row[FLAGS],
        }
    return report


def _raster(path: str, kind: str, time_zone: str | None) -> dict[str, Any]:
    """Report an orthomosaic (as the capture it becomes) or an elevation model."""
    report: dict[str, Any] = {"path": path, "format": kind, "status": "read"}
    try:
        if kind == "orthomosaic":
            ortho = read_orthomosaic(path, time_zone=time_zone).iloc[0]
            report[GSD_CM] = round(float(ortho[GSD_CM]), 2)
            report["bounds_lonlat"] = _bounds(ortho.geometry.bounds)
            report[FLAGS] = ortho[FLAGS]
        else:
            with open_dem(path) as dem:
                report["crs"] = dem.crs.to_string()
                report["vertical_datum"] = dem.vertical
                report["size_px"] = [dem.dataset.width, dem.dataset.height]
                report["use"] = "an elevation model: give it as dem= to scan"
    except (InputError, UsageError) as exc:
        return {**report, "status": "skipped", "reason": one_line(exc)}
    return report


def _sites(path: str) -> dict[str, Any] | None:
    """Report a site layer's sites by family, or None when it is none."""
    notes = []
    try:
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            try:
                sites = read_sites(path)
            except InputError as exc:
                if "no family" not in str(exc):
                    raise
                # a family of its own, declared with a standoff (the catalog's default)
                declared = {_UNSPECIFIED: default_standoff(_UNSPECIFIED)}
                sites = read_sites(path, family=_UNSPECIFIED, standoff=declared)
                notes.append("no family attribute: give family= to read it as sites")
    except InputError:
        return None
    by_family = sites[FAMILY].value_counts().sort_index()
    return {
        "path": path,
        "format": "sites",
        "status": "read",
        "rows_kept": len(sites),
        "sites_by_family": {str(k): int(v) for k, v in by_family.items()},
        "bounds_lonlat": _bounds(sites.total_bounds),
        "notes": notes,
    }


def _folder_files(folder: Path) -> list[Path]:
    """List the files of a folder inspect reports on: tracks, photos, GeoTIFFs, site layers."""
    tracks = {p.absolute() for p in track_files(folder)}
    others = (*IMAGE_SUFFIXES, *_LAYER_SUFFIXES)
    walked = expand_paths(folder, (*TRACK_SUFFIXES, *others))
    return [p for p in walked if p.absolute() in tracks or p.suffix.lower() in others]


def _none_found(folder: Path) -> str:
    """Say that a folder holds no file geoexpose reads, and what it holds instead."""
    found = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(x.startswith(".") for x in p.relative_to(folder).parts)
    )
    if not found:
        return "no file geoexpose reads (the folder is empty)"
    shown = ", ".join(found[:3]) + (", ..." if len(found) > 3 else "")
    return f"no file geoexpose reads among its {len(found)} files ({shown})"


def _folder(folder: Path, time_zone: str | None) -> dict[str, Any]:
    """Report each file of a folder that geoexpose reads, under one folder report."""
    files = [inspect_file(p, time_zone=time_zone) for p in _folder_files(folder)]
    report: dict[str, Any] = {"path": str(folder), "format": "folder", "files": files}
    if any(f["status"] in _READ for f in files):
        return {**report, "status": "read"}
    reason = (
        _none_found(folder)
        if not files
        else f"nothing readable: {counted(len(files), 'file')} skipped"
    )
    return {**report, "status": "skipped", "reason": reason}


def inspect_file(path: str | os.PathLike[str], *, time_zone: str | None = None) -> dict[str, Any]:
    """Say what geoexpose reads from one file, or from each file of a folder.

    Parameters
    ----------
    path
        A track, photo, GeoTIFF (orthomosaic or elevation model) or site layer; or
        a folder (walked for them, hidden files and folders left out).
    time_zone
        IANA zone of times written without one (as for :func:`geoexpose.read_tracks`).

    Returns
    -------
    dict
        ``path``, ``format``, ``status`` (``read``, ``route`` or ``skipped``) and what
        was found: for tracks the entry of :func:`geoexpose.read_tracks` with
        ``warnings``, ``time_span_utc``, ``bounds_lonlat``, ``alt_agl_m`` and
        ``alt_msl_m`` (ranges, metres) and ``alt_ref`` (what ``alt_agl_m`` is above,
        where known); for photos ``pose``, ``intrinsics`` and ``footprint``; for
        GeoTIFFs ``gsd_cm`` or the elevation model's ``crs``, ``vertical_datum`` and
        ``size_px``; for site layers ``sites_by_family``; ``reason`` where skipped.
        For a folder: ``format`` ``"folder"``, ``files`` (the report of each track,
        photo, GeoTIFF or site layer in it, as for one file, in path order),
        ``status`` ``read`` where any of them is read (or a route), else
        ``skipped`` with a ``reason`` (no such file, and which files there are; or
        every file skipped).

    Examples
    --------
    >>> import tempfile
    >>> report = inspect_file(tempfile.mkdtemp())
    >>> report["format"], report["status"], report["files"], report["reason"]
    ('folder', 'skipped', [], 'no file geoexpose reads (the folder is empty)')
    """
    if Path(path).is_dir():
        return _folder(Path(path), time_zone)
    path = os.fspath(path)
    suffix = Path(path).suffix.lower()
    if suffix in (".tif", ".tiff"):
        kind = sniff_geotiff(path)
        if kind is not None:
            return _raster(path, kind, time_zone)
    if suffix in IMAGE_SUFFIXES:
        return _photo(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixes = read_tracks(path, time_zone=time_zone)
    entries = fixes.attrs["geoexpose"]["files"]
    report: dict[str, Any] = (
        dict(entries[0])
        if entries
        else {"path": path, "format": "unknown", "status": "skipped", "reason": "nothing read"}
    )
    report["warnings"] = [one_line(w.message) for w in caught]
    if len(fixes):
        t = fixes[TIME_UTC]
        report["time_span_utc"] = [t.min().isoformat(), t.max().isoformat()]
        report["bounds_lonlat"] = _bounds(fixes.total_bounds)
        for name in (ALT_AGL_M, ALT_MSL_M):
            alt = fixes[name]
            if alt.notna().any():
                report[name] = [round(float(alt.min()), 1), round(float(alt.max()), 1)]
        known = fixes[ALT_AGL_M].notna()
        report[ALT_REF] = sorted(fixes.loc[known, ALT_REF].dropna().unique().tolist())
    elif report.get("status") == "skipped" and suffix in _LAYER_SUFFIXES:
        return _sites(path) or report  # not a track: perhaps a site layer
    return report
