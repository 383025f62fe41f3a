"""Every file under a scan's inputs, accounted for: given to a reader, or skipped with why.

A scan walks its input folders once (:func:`walk_inputs`): the files a track reader
takes go to the track readers, the photos, video telemetry and orthomosaics to the
capture readers, and the layers the scan was given as sites or work areas to neither,
even where they sit inside an input folder. Once the readers have reported on their
files, :func:`account_files` adds an entry for every file no reader took (unknown
type, hidden, empty, a video without its telemetry), so that the record of a scan
names every file under its inputs exactly once. :func:`nothing_to_scan` says, in one
line, what was found when nothing could be read.

Examples
--------
>>> import pathlib, tempfile
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "notes.md").write_text("flight notes")
>>> walked = walk_inputs([root])
>>> [(Path(e["path"]).name, e["status"], e["reason"]) for e in account_files(walked, [])]
[('notes.md', 'skipped', 'unknown type (.md): not a track, photo, video telemetry or orthomosaic')]
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoexpose._files import expand_paths
from geoexpose.imagery import CAPTURE_SUFFIXES
from geoexpose.tracks import TRACK_SUFFIXES, track_files

__all__ = [
    "LAYER",
    "WalkedInputs",
    "account_files",
    "files_record",
    "nothing_to_scan",
    "walk_inputs",
]

#: ``status`` of the entry of a layer given to the scan (sites, work areas) found among
#: its inputs: read as that layer, not as a track or capture.
LAYER = "layer"
_VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".lrf")
_UNKNOWN = "not a track, photo, video telemetry or orthomosaic"
_SHOWN = 2  # files named per status in the one line of nothing_to_scan
_REASON_CHARS = 90


@dataclass(frozen=True)
class WalkedInputs:
    """The inputs of a scan, walked once.

    Attributes
    ----------
    tracks : list of str
        What the track readers get: files named in the inputs, and the files in the
        input folders whose names end as a track's does.
    captures : list of str
        What the capture readers get: files named in the inputs that end as a capture
        does, and the input folders (the capture readers walk them).
    files : list of Path
        Every file under the inputs, in the order walked (named files as given).
    folders : list of Path
        The input folders.
    layers : dict
        The layers given to the scan that were found among the inputs: absolute path
        to what they were given as (``"sites"``, ``"work areas"``).
    """

    tracks: list[str]
    captures: list[str]
    files: list[Path]
    folders: list[Path]
    layers: dict[str, str]


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.normcase(os.path.abspath(path))


def _layer_files(layers: Mapping[str, Iterable[Any]]) -> dict[str, str]:
    """Absolute paths of the layers given as files (``ENTRY=FILE`` too), to their role."""
    out: dict[str, str] = {}
    for role, items in layers.items():
        for item in items:
            if not isinstance(item, str | os.PathLike):
                continue
            text = os.fspath(item)
            candidates = [text, text.partition("=")[2]] if "=" in text else [text]
            for candidate in candidates:
                if candidate and Path(candidate).is_file():
                    out.setdefault(_key(candidate), role)
    return out


def _walk(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def walk_inputs(
    inputs: Iterable[str | os.PathLike[str]],
    *,
    layers: Mapping[str, Iterable[Any]] | None = None,
) -> WalkedInputs:
    """Walk the inputs once and split them between the track and capture readers.

    Parameters
    ----------
    inputs
        Files and folders.
    layers
        The layers the scan reads otherwise, by role, e.g. ``{"sites": [...]}``: where
        one is found among the inputs it goes to no reader.
    """
    items = [Path(os.fspath(i)) for i in inputs]
    folders = [i for i in items if i.is_dir()]
    roles = _layer_files(layers or {})
    files: dict[str, Path] = {}
    for item in items:
        for path in _walk(item) if item.is_dir() else [item]:
            files.setdefault(_key(path), path)
    walked = {_key(p) for p in track_files(folders)}
    walked_captures = {_key(p) for p in expand_paths(folders, CAPTURE_SUFFIXES)}
    named = {_key(i) for i in items if not i.is_dir()}
    tracks, captures = [], []
    for key, path in files.items():
        if key in roles:
            continue
        suffix = path.suffix.lower()
        capture = suffix in CAPTURE_SUFFIXES
        if key in walked or (key in named and (suffix in TRACK_SUFFIXES or not capture)):
            tracks.append(str(path))
        if key in walked_captures or (key in named and capture):
            captures.append(str(path))
    return WalkedInputs(tracks, captures, list(files.values()), folders, roles)


def _hidden(path: Path, roots: list[Path]) -> bool:
    for root in roots:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        return any(part.startswith(".") for part in parts)
    return False


def _why_not_read(path: Path, roots: list[Path], stems: set[tuple[Path, str]]) -> str:
    suffix = path.suffix.lower()
    if _hidden(path, roots):
        return "hidden file: not read"
    try:
        if path.stat().st_size == 0:
            return "empty file"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    if suffix in _VIDEO_SUFFIXES:
        if (path.parent, path.stem.lower()) in stems:
            return "video: its positions are read from the .SRT telemetry beside it"
        return "video without its .SRT telemetry: no positions (DJI writes one beside it)"
    return f"unknown type ({suffix or 'no suffix'}): {_UNKNOWN}"


def account_files(
    walked: WalkedInputs, entries: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Entries for every file under the inputs that no reader reported on.

    Parameters
    ----------
    walked
        What :func:`walk_inputs` found.
    entries
        The readers' file entries (each with ``path``).

    Returns
    -------
    list of dict
        One entry per file left over, in walk order: ``path``, ``format`` (None),
        ``status`` (``"layer"`` for a layer given to the scan, else ``"skipped"``) and
        ``reason``.
    """
    reported = {_key(e["path"]) for e in entries}
    roots = walked.folders
    stems = {(p.parent, p.stem.lower()) for p in walked.files if p.suffix.lower() == ".srt"}
    out = []
    for path in walked.files:
        key = _key(path)
        if key in reported:
            continue
        if key in walked.layers:
            role = walked.layers[key]
            entry = {"status": LAYER, "reason": f"read as {role}, not as a track or capture"}
        else:
            entry = {"status": "skipped", "reason": _why_not_read(path, roots, stems)}
        out.append({"path": str(path), "format": None, **entry})
    return out


def nothing_to_scan(
    inputs: Iterable[str | os.PathLike[str]], files: Sequence[Mapping[str, Any]]
) -> str:
    """Say in one line what was found under the inputs when nothing could be read.

    >>> nothing_to_scan(["logs"], [])
    'nothing to scan: no file under logs'
    >>> nothing_to_scan(["logs"], [
    ...     {"path": "logs/a.kml", "status": "route", "reason": "12 positions without times"},
    ...     {"path": "logs/b.kml", "status": "route", "reason": "9 positions without times"},
    ...     {"path": "logs/c.md", "status": "skipped", "reason": "unknown type (.md)"}])
    ... # doctest: +NORMALIZE_WHITESPACE
    'nothing to scan: no fix or capture in 3 files under logs: 2 route (a.kml: 12 positions
    without times; b.kml), 1 skipped (c.md: unknown type (.md))'
    """
    where = ", ".join(os.fspath(i) for i in inputs)
    if not files:
        return f"nothing to scan: no file under {where}"
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for entry in files:
        groups.setdefault(str(entry.get("status")), []).append(entry)
    parts = []
    for status, entries in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        first = entries[0]
        reason = str(first.get("reason") or status)
        if len(reason) > _REASON_CHARS:
            reason = reason[: _REASON_CHARS - 3].rstrip() + "..."
        names = [f"{Path(first['path']).name}: {reason}"]
        names += [Path(e["path"]).name for e in entries[1:_SHOWN]]
        more = f" and {len(entries) - _SHOWN} more" if len(entries) > _SHOWN else ""
        parts.append(f"{len(entries)} {status} ({'; '.join(names)}{more})")
    return f"nothing to scan: no fix or capture in {len(files)} files under {where}: " + ", ".join(
        parts
    )


def files_record(
    files: Sequence[Mapping[str, Any]], other: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Say in ``summary.json`` what became of every file, beyond the readers' entries.

    Parameters
    ----------
    files
        Every file's entry, the readers' and the others.
    other
        The entries of the files no reader took (:func:`account_files`).

    Returns
    -------
    dict
        ``input_files``: how many files by status; ``other_files``: ``other``;
        ``files_skipped``: every file skipped, by a reader or taken by none, with its
        reason; ``duplicate_flights``: the flights counted once though given in several
        files, each with the copy kept (see :func:`geoexpose.tracks.drop_duplicate_flights`).
    """
    return {
        "input_files": dict(Counter(str(f.get("status")) for f in files)),
        "other_files": list(other),
        "duplicate_flights": [d for f in files for d in f.get("duplicates", [])],
        "files_skipped": [
            {"path": f["path"], "reason": f.get("reason")}
            for f in files
            if f.get("status") == "skipped"
        ],
    }
