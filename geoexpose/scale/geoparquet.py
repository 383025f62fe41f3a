"""GeoParquet in and out: fixes, captures and results, partitioned by flight.

A table partitioned by flight is a folder of Parquet files in which every flight lies
in one file only, rows sorted by ``flight_id`` (then time). Such a folder can be read
a few files at a time, and each batch holds whole flights: that is what
:func:`geoexpose.expose_stream` needs to keep its memory bounded. A folder written by
others in the Hive layout (``flight_id=<id>/part.parquet``, as dask and pyarrow write
it) reads the same way.

Fixes are written in the GeoArrow ``point`` encoding: the geometry column is a struct
of ``x`` (longitude) and ``y`` (latitude), plain float64 numbers. They are read back
straight into the fast form that :func:`geoexpose.expose` takes, a DataFrame with
``lon`` and ``lat`` columns, without making a shapely Point per fix. Files in the WKB
encoding are read too, one row group at a time. Coordinates and times keep their full
precision: longitude and latitude float64, time int64 nanoseconds UTC; ``flight_id``
is dictionary-encoded and floats are stored byte-stream-split with zstd, about 11 bytes
per fix of 10 Hz tracks.

Captures and result tables (``sites``, ``footprints``, ``flights``, ``pairs``,
``captures``, ``capture_sites``) are written with :meth:`geopandas.GeoDataFrame.to_parquet`
(WKB), the tables with a ``flight_id`` partitioned by flight.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from geoexpose.errors import InputError, OutputExistsError
from geoexpose.exposure import ExposureResult, StreamResult
from geoexpose.scale._parquet import (
    flight_cuts,
    is_captures_table,
    is_geoparquet,
    parquet_files,
    replace_folder,
)
from geoexpose.scale._parquet_fixes import FixFile, FixWriter, fix_files, read_fixes, write_fixes
from geoexpose.schema import FLIGHT_ID

__all__ = [
    "FixFile",
    "FixWriter",
    "fix_files",
    "is_captures_table",
    "is_geoparquet",
    "read_fixes",
    "read_result",
    "read_table",
    "write_fixes",
    "write_result",
    "write_table",
]

_RESULT_TABLES = ("sites", "footprints", "flights", "pairs", "captures", "capture_sites")


def write_table(
    frame: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    rows_per_file: int = 200_000,
    overwrite: bool = False,
) -> Path:
    """Write a table (GeoParquet if it has geometry), partitioned by flight if it has one.

    Rows are sorted by ``flight_id`` (rows without one last, in a file of their own);
    without a ``flight_id`` column the table is one file, ``part-00000.parquet``.
    """
    folder = Path(folder)
    if folder.exists() and not overwrite:
        raise OutputExistsError(f"{folder}: exists; pass overwrite=True")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        parts: list[pd.DataFrame] = [frame]
        if FLIGHT_ID in frame and len(frame):
            ids = frame[FLIGHT_ID]
            known = ids.notna().to_numpy()
            named = frame[known]
            order = np.argsort(named[FLIGHT_ID].astype(str).to_numpy(dtype=object), kind="stable")
            named = named.iloc[order]
            key = named[FLIGHT_ID].astype(str).to_numpy(dtype=object)
            parts = [named.iloc[a:b] for a, b in flight_cuts(key, rows_per_file)]
            if not known.all():
                parts.append(frame[~known])
        for i, part in enumerate(parts):
            path = tmp / f"part-{i:05d}.parquet"
            if isinstance(part, gpd.GeoDataFrame):
                part.to_parquet(path, index=False, compression="zstd")
            else:
                pd.DataFrame(part).to_parquet(path, index=False, compression="zstd")
        replace_folder(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def read_table(folder: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (a GeoDataFrame if it has geometry)."""
    files = parquet_files(folder)
    frames = []
    for path in files:
        if b"geo" in (pq.read_schema(path).metadata or {}):
            frames.append(gpd.read_parquet(path))
        else:
            frames.append(pd.read_parquet(path))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return out


def write_result(
    result: ExposureResult, folder: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write an exposure result as GeoParquet tables, partitioned by flight.

    ``folder/<table>/part-NNNNN.parquet`` for the tables ``sites``, ``footprints``,
    ``flights``, ``pairs``, ``captures`` and ``capture_sites``.
    """
    folder = Path(folder)
    if not overwrite:
        existing = [folder / t for t in _RESULT_TABLES if (folder / t).exists()]
        if existing:
            raise OutputExistsError(f"{existing[0]}: exists; pass overwrite=True")
    for name in _RESULT_TABLES:
        write_table(getattr(result, name), folder / name, overwrite=True)
    return folder


def read_result(folder: str | os.PathLike[str]) -> StreamResult:
    """Read a result written by :func:`write_result` (without fixes; flights as a table)."""
    folder = Path(folder)
    missing = [t for t in _RESULT_TABLES if not (folder / t).is_dir()]
    if missing:
        raise InputError(f"{folder}: not a result folder (no {missing[0]!r} table)")
    tables = {name: read_table(folder / name) for name in _RESULT_TABLES}
    return StreamResult(
        sites=tables["sites"],
        pairs=tables["pairs"],
        footprints=tables["footprints"],
        captures=tables["captures"],
        capture_sites=tables["capture_sites"],
        flight_table=tables["flights"],
    )
