"""Load the benchmark's GeoParquet inputs the way each method takes them.

geopandas needs a GeoDataFrame: one shapely Point per fix, about 2 GB for 5,000,000
fixes. :func:`geoexpose.expose` also takes fixes as a plain DataFrame with ``lon``
and ``lat`` columns (EPSG:4326), which never makes a Point. :func:`read_fixes_lonlat`
reads a GeoParquet file of Points straight into that form, one row group at a time,
from either geometry encoding: GeoArrow ``point`` (a struct of x and y, read as
numbers) or WKB (decoded by :func:`shapely.from_wkb` a row group at a time, so
only one row group's Points exist at once).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pyproj import CRS, Transformer

from geoexpose.schema import CRS_LONLAT, LAT, LON

__all__ = ["read_fixes_lonlat"]


def _xy(column: pa.ChunkedArray, encoding: str) -> tuple[np.ndarray, np.ndarray]:
    """x and y of a geometry column of Points, as float arrays."""
    if encoding == "point":
        points = column.combine_chunks()
        return (
            points.field("x").to_numpy(zero_copy_only=False),
            points.field("y").to_numpy(zero_copy_only=False),
        )
    if encoding.upper() != "WKB":
        raise ValueError(f"geometry encoding {encoding!r} is neither 'point' nor 'WKB'")
    geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    n = shapely.get_num_coordinates(geoms)
    if not (n == 1).all():
        raise ValueError(f"geometry must be Points (row {int(np.argmax(n != 1))} is not)")
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0], xy[:, 1]


def read_fixes_lonlat(path: str | Path, columns: Sequence[str]) -> pd.DataFrame:
    """Read GeoParquet fixes (Points) into a DataFrame with ``lon`` and ``lat`` columns.

    Parameters
    ----------
    path
        A GeoParquet file whose primary geometry column holds Points.
    columns
        The other columns to read.

    Returns
    -------
    DataFrame
        ``columns`` plus ``lon`` and ``lat`` in degrees (EPSG:4326; the file's CRS is
        transformed when it is another).
    """
    source = pq.ParquetFile(path)
    geo = json.loads(source.schema_arrow.metadata[b"geo"])
    name = geo["primary_column"]
    meta = geo["columns"][name]
    # GeoParquet: a missing CRS means OGC:CRS84 (lon/lat, WGS 84)
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else CRS.from_user_input(CRS_LONLAT)
    tables, lon, lat = [], [], []
    for group in range(source.num_row_groups):
        table = source.read_row_group(group, columns=[*columns, name])
        x, y = _xy(table.column(name), meta.get("encoding", "WKB"))
        lon.append(x)
        lat.append(y)
        tables.append(table.drop_columns([name]))
        del table
    frame = pa.concat_tables(tables).to_pandas() if tables else pd.DataFrame(columns=columns)
    del tables
    x = np.concatenate(lon) if lon else np.empty(0)
    y = np.concatenate(lat) if lat else np.empty(0)
    if not crs.equals(CRS_LONLAT, ignore_axis_order=True):
        x, y = Transformer.from_crs(crs, CRS_LONLAT, always_xy=True).transform(x, y)
    frame[LON] = np.asarray(x, dtype="float64")
    frame[LAT] = np.asarray(y, dtype="float64")
    # Arrow keeps the freed buffers of the row groups for reuse: give them back
    pa.default_memory_pool().release_unused()
    return frame
