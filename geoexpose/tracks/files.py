"""Which files the track readers take: the files named, and folders walked by the format table.

A folder is walked for the endings of :data:`~geoexpose.tracks.formats.TRACK_SUFFIXES`;
an ending that only formats told by content claim (``.txt``, see
:attr:`~geoexpose.tracks.formats.TrackFormat.by_content`) is taken only where the
file's first bytes are of such a format, so a folder's ``README.txt`` is no track
file while a ``DJIFlightRecord_*.txt`` is. A file named is always taken: the reader
then reads it or says why not.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from geoexpose._files import expand_paths
from geoexpose.tracks.formats import _SNIFF_BYTES, TRACK_FORMATS, TRACK_SUFFIXES

__all__ = ["track_files"]

#: Endings that claim a walked file by name alone.
_BY_NAME = frozenset(s for f in TRACK_FORMATS if not f.by_content for s in f.suffixes)


def _of_its_format(path: Path) -> bool:
    """Whether a walked file's first bytes are of a format its ending may be (by content)."""
    suffix = path.suffix.lower()
    if suffix in _BY_NAME:
        return True
    try:
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
    except OSError:
        return True  # the reader says why it cannot be read
    return any(
        f.sniff(head, path)
        for f in TRACK_FORMATS
        if f.by_content and suffix in f.suffixes and f.sniff is not None
    )


def track_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
) -> list[Path]:
    """List the files :func:`geoexpose.read_tracks` reads, in the order it reads them.

    Parameters
    ----------
    paths
        A file or folder, or an iterable of them.

    Returns
    -------
    list of pathlib.Path
        The files named, as they are; and the files of each folder (hidden files and
        folders left out) whose name ends in one of :data:`TRACK_SUFFIXES`, sorted,
        where a ``.txt`` is taken only when it is a DJI flight record. A file named
        twice is listed once.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "README.txt").write_text("Flights of June")
    >>> _ = (folder / "flight.gpx").write_text("<gpx></gpx>")
    >>> [p.name for p in track_files(folder)]
    ['flight.gpx']
    >>> [p.name for p in track_files(folder / "README.txt")]  # named: read_tracks says why not
    ['README.txt']
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    named = {Path(item).absolute() for item in items if not Path(item).is_dir()}
    files = expand_paths(items, TRACK_SUFFIXES)
    return [p for p in files if p.absolute() in named or _of_its_format(p)]
