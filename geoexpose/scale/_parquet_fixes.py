"""Fixes as GeoParquet partitioned by flight: read into the lon/lat form, written as points.

The encoding (GeoArrow points, int64 times, dictionary flight ids) is described in
:mod:`geoexpose.scale.geoparquet`, the public face of these functions.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import shapely
from pyproj import CRS, Transformer

from geoexpose.errors import InputError, OutputExistsError
from geoexpose.scale._parquet import flight_cuts, hive_flight, parquet_files, replace_folder
from geoexpose.schema import CRS_LONLAT, FLIGHT_ID, GEOMETRY, LAT, LON, TIME_UTC

__all__ = ["FixFile", "FixWriter", "fix_files", "read_fixes", "write_fixes"]

_ROW_GROUP = 262_144


@dataclass(frozen=True)
class FixFile:
    """One Parquet file of fixes: where it is, its rows, and the flight its folder names."""

    path: str
    rows: int
    flight_id: str | None = None


def fix_files(paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> list[FixFile]:
    """List the Parquet files of fixes under ``paths`` with their row counts.

    Parameters
    ----------
    paths
        GeoParquet files or folders of them (a table partitioned by flight), or an
        iterable of them.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out = []
    for item in items:
        for p in parquet_files(item):
            try:
                rows = pq.ParquetFile(p).metadata.num_rows
            except (OSError, pa.ArrowException) as exc:
                raise InputError(f"{p}: not a Parquet file ({exc})") from exc
            out.append(FixFile(str(p), rows, hive_flight(p)))
    return out


def _geo_meta(schema: pa.Schema, path: str) -> tuple[str, str, CRS] | None:
    """Primary geometry column, its encoding and CRS; None without GeoParquet metadata."""
    raw = (schema.metadata or {}).get(b"geo")
    if raw is None:
        return None
    geo = json.loads(raw)
    name = geo.get("primary_column", GEOMETRY)
    meta = geo.get("columns", {}).get(name, {})
    try:  # GeoParquet: a missing CRS means OGC:CRS84 (lon/lat, WGS 84)
        crs = CRS.from_user_input(meta["crs"] if meta.get("crs") else CRS_LONLAT)
    except Exception as exc:  # pyproj raises CRSError, a plain Exception
        raise InputError(f"{path}: unknown CRS of column {name!r}: {exc}") from exc
    return name, str(meta.get("encoding", "WKB")), crs


def _xy(column: pa.ChunkedArray, encoding: str, path: str) -> tuple[np.ndarray, np.ndarray]:
    """Return x and y of a geometry column of Points, as float64 arrays."""
    if encoding == "point":
        points = column.combine_chunks()
        x = points.field("x").to_numpy(zero_copy_only=False)
        y = points.field("y").to_numpy(zero_copy_only=False)
        return np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    if encoding.upper() != "WKB":
        raise InputError(f"{path}: geometry encoding {encoding!r} is neither 'point' nor 'WKB'")
    geoms = shapely.from_wkb(column.to_numpy(zero_copy_only=False))
    n = shapely.get_num_coordinates(geoms)
    if not (n == 1).all():
        raise InputError(f"{path}: geometry must be Points (row {int(np.argmax(n != 1))} is not)")
    xy = shapely.get_coordinates(geoms)
    return xy[:, 0], xy[:, 1]


def _read_fix_file(f: FixFile, columns: Sequence[str] | None) -> pd.DataFrame:
    """One file of fixes in the lon/lat form, one row group at a time."""
    source = pq.ParquetFile(f.path)
    schema = source.schema_arrow
    geo = _geo_meta(schema, f.path)
    if geo is None and not {LON, LAT} <= set(schema.names):
        raise InputError(f"{f.path}: no GeoParquet geometry and no {LON!r}/{LAT!r} columns")
    geom = geo[0] if geo is not None else None
    plain = [n for n in schema.names if n not in (geom, LON, LAT)]
    wanted = plain if columns is None else [c for c in columns if c in schema.names]
    absent = columns is not None and FLIGHT_ID in columns and FLIGHT_ID not in wanted
    if absent and f.flight_id is None:
        raise InputError(f"{f.path}: no column {FLIGHT_ID!r} and no flight_id=<id> folder")
    read = [*wanted, geom] if geom is not None else [*wanted, LON, LAT]
    tables, lon, lat = [], [], []
    for group in range(source.num_row_groups):
        table = source.read_row_group(group, columns=read)
        if geom is not None and geo is not None:
            x, y = _xy(table.column(geom), geo[1], f.path)
            table = table.drop_columns([geom])
        else:
            x = table.column(LON).to_numpy().astype("float64")
            y = table.column(LAT).to_numpy().astype("float64")
            table = table.drop_columns([LON, LAT])
        lon.append(x)
        lat.append(y)
        tables.append(table)
    table = pa.concat_tables(tables) if tables else schema.empty_table().select(wanted)
    del tables
    if FLIGHT_ID in table.column_names and table.schema.field(FLIGHT_ID).type != pa.string():
        ids = pc.cast(table.column(FLIGHT_ID), pa.string())  # dictionary-encoded: plain text
        table = table.set_column(table.schema.get_field_index(FLIGHT_ID), FLIGHT_ID, ids)
    frame = table.to_pandas()
    if TIME_UTC in frame and getattr(frame[TIME_UTC].dtype, "tz", None) is None:
        raise InputError(f"{f.path}: {TIME_UTC} has no time zone (expected UTC timestamps)")
    if columns is not None and FLIGHT_ID in columns and FLIGHT_ID not in frame:
        frame.insert(0, FLIGHT_ID, pd.Series(f.flight_id, index=frame.index, dtype="str"))
    x = np.concatenate(lon) if lon else np.empty(0)
    y = np.concatenate(lat) if lat else np.empty(0)
    crs = geo[2] if geo is not None else CRS.from_user_input(CRS_LONLAT)
    if not crs.equals(CRS_LONLAT, ignore_axis_order=True):
        x, y = Transformer.from_crs(crs, CRS_LONLAT, always_xy=True).transform(x, y)
    frame[LON] = np.asarray(x, dtype="float64")
    frame[LAT] = np.asarray(y, dtype="float64")
    return frame


def read_fixes(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | Sequence[FixFile],
    *,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Read GeoParquet fixes into the fast form of :func:`geoexpose.expose`.

    Parameters
    ----------
    paths
        GeoParquet files or folders (a table partitioned by flight), or the
        :class:`FixFile` entries of :func:`fix_files`.
    columns
        The columns to read besides the position (default: all); a flight named by a
        Hive folder ``flight_id=<id>`` fills ``flight_id``.

    Returns
    -------
    DataFrame
        ``columns`` then ``lon`` and ``lat`` (degrees, EPSG:4326; another CRS is
        transformed); no shapely objects.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    files = [
        f for item in items for f in ([item] if isinstance(item, FixFile) else fix_files(item))
    ]
    frames = [_read_fix_file(f, columns) for f in files]
    # Arrow keeps the freed buffers of the row groups for reuse: give them back
    pa.default_memory_pool().release_unused()
    if not frames:
        names = list(columns or [FLIGHT_ID, TIME_UTC])
        return pd.DataFrame({c: [] for c in [*names, LON, LAT]})
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _lonlat_form(fixes: pd.DataFrame) -> pd.DataFrame:
    """Return fixes as a DataFrame with lon/lat columns (from Points in any CRS)."""
    if isinstance(fixes, gpd.GeoDataFrame):
        if fixes.crs is None:
            raise InputError("fixes: the frame has no CRS; set one with .set_crs(...)")
        geo = fixes if fixes.crs.equals(CRS_LONLAT) else fixes.to_crs(CRS_LONLAT)
        n = shapely.get_num_coordinates(geo.geometry.array)
        if len(geo) and not (n == 1).all():
            row = int(np.argmax(n != 1))
            raise InputError(f"fixes: geometry must be Points (row {row} is not)")
        xy = shapely.get_coordinates(geo.geometry.array)
        out = pd.DataFrame(geo.drop(columns=geo.geometry.name))
        out[LON], out[LAT] = xy[:, 0], xy[:, 1]
        return out
    if not {LON, LAT} <= set(fixes.columns):
        raise InputError(f"fixes: expected a GeoDataFrame or {LON!r}/{LAT!r} columns")
    return fixes


def _fix_table(frame: pd.DataFrame) -> pa.Table:
    """Make an Arrow table of fixes: dictionary flight ids, a point struct, the rest."""
    cols: dict[str, pa.Array] = {}
    for name in frame.columns:
        if name in (LON, LAT):
            continue
        values = frame[name]
        if name == TIME_UTC:
            t = values.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
            kind = pa.timestamp("ns", tz="UTC")
            cols[name] = pa.array(t.array.asi8, kind, mask=t.isna().to_numpy())
        elif name == FLIGHT_ID:
            cols[name] = pa.array(values.astype(str).to_numpy(dtype=object)).dictionary_encode()
        else:
            cols[name] = pa.Array.from_pandas(values)
    cols[GEOMETRY] = pa.StructArray.from_arrays(
        [pa.array(frame[LON].to_numpy("float64")), pa.array(frame[LAT].to_numpy("float64"))],
        ["x", "y"],
    )
    return pa.table(cols)


def _geo_metadata(bbox: list[float]) -> bytes:
    meta = {
        "version": "1.1.0",
        "primary_column": GEOMETRY,
        "columns": {GEOMETRY: {"encoding": "point", "geometry_types": ["Point"], "bbox": bbox}},
    }
    return json.dumps(meta).encode()


class FixWriter:
    """Write fixes as GeoParquet partitioned by flight, a frame at a time.

    Each :meth:`write` sorts its frame by flight and time and cuts it into files of
    about ``rows_per_file`` rows holding whole flights. A flight must come in one
    frame only. The folder appears when the writer closes without error.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> fixes = pd.DataFrame({"flight_id": ["b", "a", "a"], "lon": [1.0, 2.0, 3.0],
    ...     "lat": [4.0, 5.0, 6.0], "time_utc": pd.to_datetime([3, 1, 2], unit="s", utc=True)})
    >>> folder = tempfile.mkdtemp() + "/fixes"
    >>> with FixWriter(folder) as writer:
    ...     writer.write(fixes)
    >>> read_fixes(folder)["flight_id"].tolist()
    ['a', 'a', 'b']
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        rows_per_file: int = 1_000_000,
        overwrite: bool = False,
    ) -> None:
        self.folder = Path(folder)
        if self.folder.exists() and not overwrite:
            raise OutputExistsError(f"{self.folder}: exists; pass overwrite=True")
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name}."))
        self.rows_per_file = int(rows_per_file)
        self.files = 0
        self.rows = 0
        self._seen: set[str] = set()

    def write(self, fixes: pd.DataFrame) -> None:
        """Add fixes (a GeoDataFrame of Points or the lon/lat form) of new flights."""
        frame = _lonlat_form(fixes)
        if FLIGHT_ID not in frame or TIME_UTC not in frame:
            raise InputError(f"fixes: need columns {FLIGHT_ID!r} and {TIME_UTC!r}")
        ids = frame[FLIGHT_ID].astype(str).to_numpy(dtype=object)
        order = np.lexsort((frame[TIME_UTC].array.asi8, pd.factorize(ids, sort=True)[0]))
        frame, ids = frame.iloc[order], ids[order]
        names = set(pd.unique(ids))
        again = names & self._seen
        if again:
            raise InputError(f"fixes: flight {sorted(again)[0]!r} came in an earlier frame")
        self._seen |= names
        for begin, end in flight_cuts(ids, self.rows_per_file):
            part = frame.iloc[begin:end]
            table = _fix_table(part)
            lon, lat = part[LON].to_numpy("float64"), part[LAT].to_numpy("float64")
            bbox = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
            table = table.replace_schema_metadata({b"geo": _geo_metadata(bbox)})
            floats = [
                f.name for f in table.schema if pa.types.is_floating(f.type) and f.name != GEOMETRY
            ]
            pq.write_table(
                table,
                self._tmp / f"part-{self.files:05d}.parquet",
                row_group_size=_ROW_GROUP,
                compression="zstd",
                use_dictionary=[FLIGHT_ID],
                use_byte_stream_split=[f"{GEOMETRY}.x", f"{GEOMETRY}.y", *floats],
                column_encoding={TIME_UTC: "DELTA_BINARY_PACKED"},
            )
            self.files += 1
            self.rows += end - begin

    def close(self) -> Path:
        """Move the written files into place; returns the folder."""
        replace_folder(self._tmp, self.folder)
        return self.folder

    def abort(self) -> None:
        """Remove what was written."""
        shutil.rmtree(self._tmp, ignore_errors=True)

    def __enter__(self) -> FixWriter:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_fixes(
    fixes: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    rows_per_file: int = 1_000_000,
    overwrite: bool = False,
) -> Path:
    """Write fixes as GeoParquet partitioned by flight (see :class:`FixWriter`).

    Parameters
    ----------
    fixes
        A GeoDataFrame of Points (any CRS) or a DataFrame with ``lon``/``lat``, with
        ``flight_id`` and ``time_utc``; other columns are kept.
    folder
        The folder to write; ``part-NNNNN.parquet`` files.
    rows_per_file
        About this many rows per file; a flight is never split.
    overwrite
        Replace an existing folder.
    """
    with FixWriter(folder, rows_per_file=rows_per_file, overwrite=overwrite) as writer:
        writer.write(fixes)
    return Path(folder)
