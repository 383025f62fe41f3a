"""Folders of Parquet files partitioned by flight: listing, telling and replacing them.

A table partitioned by flight is a folder of Parquet files in which every flight lies
in one file only; a folder written by others in the Hive layout
(``flight_id=<id>/part.parquet``) names the flight in its path instead.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from geoexpose._files import PARQUET_SUFFIXES
from geoexpose.errors import InputError
from geoexpose.schema import CAPTURE_ID, FLIGHT_ID

__all__ = [
    "flight_cuts",
    "hive_flight",
    "is_captures_table",
    "is_geoparquet",
    "parquet_files",
    "replace_folder",
]


def parquet_files(path: str | os.PathLike[str]) -> list[Path]:
    """List the Parquet files of a file or folder (walked, hidden entries left out)."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder")
    found = [
        p
        for p in path.rglob("*")
        if p.suffix.lower() in PARQUET_SUFFIXES
        and p.is_file()
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    ]
    return sorted(found)


def is_geoparquet(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a Parquet file, or a folder holding Parquet files and no other."""
    path = Path(path)
    if path.is_file():
        return path.suffix.lower() in PARQUET_SUFFIXES
    if not path.is_dir():
        return False
    files = [p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    return bool(files) and all(p.suffix.lower() in PARQUET_SUFFIXES for p in files)


def is_captures_table(path: str | os.PathLike[str]) -> bool:
    """Whether the GeoParquet file or folder ``path`` holds captures (a ``capture_id``)."""
    files = parquet_files(path)
    return bool(files) and CAPTURE_ID in pq.read_schema(files[0]).names


def hive_flight(path: Path) -> str | None:
    """Return the flight a Hive folder ``flight_id=<id>`` above ``path`` names, if any."""
    for part in reversed(path.parent.parts):
        key, sep, value = part.partition("=")
        if sep and key == FLIGHT_ID:
            return urllib.parse.unquote(value)
    return None


def flight_cuts(ids: np.ndarray, rows_per_file: int) -> list[tuple[int, int]]:
    """Row ranges of at most ``rows_per_file`` rows (or one flight) holding whole flights."""
    n = len(ids)
    if n == 0:
        return []
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    ends = np.r_[starts[1:], n]
    ranges, begin = [], 0
    for s, e in zip(starts[1:].tolist(), ends[1:].tolist(), strict=True):  # over flights
        if e - begin > rows_per_file:  # the flight would overfill the file: it starts one
            ranges.append((begin, s))
            begin = s
    ranges.append((begin, n))
    return ranges


def replace_folder(tmp: Path, folder: Path) -> None:
    """Rename ``tmp`` to ``folder``, replacing an existing folder."""
    if folder.exists():
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        os.replace(folder, old)
        os.replace(tmp, folder)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, folder)
