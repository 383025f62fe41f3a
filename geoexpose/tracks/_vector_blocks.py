"""Read one huge layer of Point features in batches, giving its rows in blocks as read whole.

:func:`read_vector_blocks` serves the reader of one huge file
(:mod:`geoexpose.tracks.pieces`): a GeoJSON, GeoPackage or FlatGeobuf of one Point
feature per fix is read through GDAL's Arrow stream (:func:`pyogrio.open_arrow`), a
batch of ``blocks.rows`` features at a time, and the rows go to a
:class:`~geoexpose.tracks._row_blocks.RowBlocks` a block at a time. What memory
holds is a batch, however long the file. The frames are those
:func:`geoexpose.tracks._vector.read_vector` makes of the whole layer:

1. each batch's points are transformed to longitude/latitude (as the whole layer
   is), and the batch is kept in a temporary folder with them, while what the whole
   layer decides is gathered: the kinds of its geometries, whether any point has Z
   (then Z is the altitude where no property holds one), which integer and boolean
   properties have a missing value somewhere (those are decimals in every row, as
   GDAL gives them for the whole layer), and what the whole time column decides
   (:class:`~geoexpose.tracks._table_frame.TableFrames`);
2. each batch's frame is built with those decisions and given out (after a last
   pass that sets the times from an elapsed-time column, where the whole layer's
   times are to the second).

A layer that is not all points (lines, mixed kinds; found by its declared type, or
in any batch before a row is given), or that GDAL cannot stream, is read whole;
:func:`read_vector_blocks` says why. A missing CRS is refused as read whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pyproj
import shapely

from geoexpose.errors import InputError, first_line
from geoexpose.schema import CRS_LONLAT
from geoexpose.tracks._columns import ColumnMap
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._spill import Spill
from geoexpose.tracks._table_frame import TableFrames
from geoexpose.tracks._vector_points import (
    NO_CRS,
    POINT,
    geometry_kinds,
    point_frame,
    point_mapping,
    to_lonlat,
    z_heights,
)
from geoexpose.tracks.normalize import RawTrack

__all__ = ["gdal_message", "read_vector_blocks"]

#: Errors of reading a layer that the whole reading says in its own words.
_UNREAD = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    shapely.errors.GEOSException,
    pa.ArrowException,
    OSError,
    UnicodeDecodeError,
)


def gdal_message(exc: BaseException) -> str:
    """Return the first line of an error's message, without GDAL's hint about prefixes."""
    return first_line(exc).split("; It might help")[0]


def _flagged(kind: pa.DataType) -> bool:
    """Whether GDAL gives a property of this type as decimals where a value is missing."""
    return bool(pa.types.is_integer(kind) or pa.types.is_boolean(kind))


def _readable(kind: pa.DataType) -> bool:
    """Whether a property of this type converts per batch as the whole layer reads."""
    return bool(
        _flagged(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_date32(kind)
        or pa.types.is_time(kind)
    )


def _values(column: pa.Array, decimals: bool) -> np.ndarray:
    """Return a property's values as the whole reading has them (pyogrio's arrays).

    Integers and booleans: decimals, missing values NaN, where ``decimals`` (a value
    is missing somewhere in the layer); dates: ISO text, as with ``datetime_as_string``.
    """
    if pa.types.is_date32(column.type):
        column = column.cast(pa.string())
    elif decimals:
        column = column.cast(pa.float64())
    return column.to_numpy(zero_copy_only=False)


def _props(batch: pa.RecordBatch, start: int, decimals: set[str]) -> pd.DataFrame:
    """Return a batch's properties as the whole reading's rows ``start:`` have them."""
    data = {name: _values(batch.column(name), name in decimals) for name in batch.schema.names}
    return pd.DataFrame(data, index=pd.RangeIndex(start, start + batch.num_rows))


class _Layer:
    """A layer's batches, kept on disk, and what the whole layer decides (see module notes)."""

    def __init__(
        self,
        spill: Spill,
        crs: pyproj.CRS,
        flagged: set[str],
        found: tuple[ColumnMap, TableFrames] | ValueError,
    ) -> None:
        self.spill = spill
        self.transform = not crs.equals(CRS_LONLAT)
        self.crs = crs
        self.flagged = flagged  # integer and boolean properties read
        self.decimals: set[str] = set()  # of those, with a value missing somewhere
        self.kinds: set[int] = set()
        self.any_z = False
        self.batches = 0
        self.rows = 0
        self.mapping: ColumnMap | None = None
        self.frames: TableFrames | None = None
        self.error: ValueError | None = None  # the whole reading's, once all points are seen
        if isinstance(found, ValueError):
            self.error = found
        else:
            self.mapping, self.frames = found
        self.names = self.mapping.names() if self.mapping is not None else []
        m = self.mapping
        self.timing = [c.name for c in (m.time, m.date) if c is not None] if m is not None else []
        self.early = not set(self.timing) & flagged  # the time is seen as it is read
        self._pending: list[int] = []  # batches before the time column's first value

    def add(self, batch: pa.RecordBatch, geometry: str) -> str | None:
        """Keep a batch and see what it decides; None, or why the layer is read whole."""
        geoms = shapely.from_wkb(batch.column(geometry).to_numpy(zero_copy_only=False))
        if self.transform:
            geoms = to_lonlat(geoms, self.crs)
        self.kinds |= geometry_kinds(geoms)
        if not self.kinds <= {POINT}:
            found = ", ".join(shapely.GeometryType(k).name for k in sorted(self.kinds))
            return f"not only Point features ({found})"
        if self.error is not None:
            return None  # only the kinds matter now: the whole reading's error, or none
        has_z = bool(shapely.has_z(geoms).any())
        self.any_z = self.any_z or has_z
        kept = batch.select(self.names)
        kept.validate(full=True)  # text that is not UTF-8: now, before a row is given
        self.decimals |= {name for name in self.flagged if kept.column(name).null_count}
        z = shapely.get_z(geoms) if has_z else None
        xy = (shapely.get_x(geoms), shapely.get_y(geoms))
        self.spill.put("batch", self.batches, (kept, self.rows, xy, z))
        if self.early:
            try:
                view = _props(kept.select(self.timing), self.rows, self.decimals)
                self._see(self.batches, view)
            except ValueError as exc:  # raised where the whole reading raises it
                self.error = exc
        self.batches += 1
        self.rows += batch.num_rows
        return None

    def _batch(self, number: int) -> tuple[pd.DataFrame, tuple[np.ndarray, np.ndarray], Any]:
        kept, start, xy, z = self.spill.get("batch", number)
        return _props(kept, start, self.decimals), xy, z

    def _see(self, number: int, view: pd.DataFrame) -> None:
        frames = self.frames
        assert frames is not None
        if frames.decide(view):
            for k in self._pending:
                frames.see(self._batch(k)[0])
            self._pending.clear()
            frames.see(view)
        else:
            self._pending.append(number)

    def seen(self) -> None:
        """See what was not seen as read: all batches (the time a number), or the first."""
        if not self.early:
            for number in range(self.batches):  # a loop over batches
                self._see(number, self._batch(number)[0])
        assert self.frames is not None
        self.frames.decide(None, last=True)
        for number in self._pending:
            self.frames.see(self._batch(number)[0])
        self._pending.clear()

    def frames_out(self, alt_ref: str | None) -> Iterator[tuple[pd.DataFrame, Any]]:
        """Build each batch's frame, in file order, letting the batch go."""
        assert self.frames is not None and self.mapping is not None
        heights = z_heights(self.mapping, self.any_z)
        for number in range(self.batches):  # a loop over batches
            props, xy, z = self._batch(number)
            self.spill.drop("batch", number)
            if heights and z is None:
                z = np.full(len(props), np.nan)
            yield point_frame(self.frames, props, xy, z if heights else None, alt_ref)


def _open(
    meta: dict[str, Any],
    schema: pa.Schema,
    spill: Spill,
    options: dict[str, Any],
) -> _Layer | str:
    """Make the layer's reading from what GDAL says of it; or why it is read whole."""
    kind = meta.get("geometry_type") or ""
    if not kind.startswith(("Point", "Unknown")):
        return f"{kind} features" if kind else "no geometry"
    if meta.get("crs") is None:
        raise InputError(NO_CRS)
    names = [str(name) for name in meta["fields"]]
    found: tuple[ColumnMap, TableFrames] | ValueError
    try:
        mapping = point_mapping(names, options["columns"], options["alt_ref"])
        found = (mapping, TableFrames(mapping, time_zone=options["time_zone"]))
    except InputError as exc:  # raised where the whole reading raises it: all points
        found = exc
    else:
        odd = [n for n in mapping.names() if not _readable(schema.field(n).type)]
        if odd:
            return f"property {odd[0]!r} of type {schema.field(odd[0]).type}"
    read = found[0].names() if isinstance(found, tuple) else []
    flagged = {n for n in read if _flagged(schema.field(n).type)}
    return _Layer(spill, pyproj.CRS.from_user_input(meta["crs"]), flagged, found)


def read_vector_blocks(
    path: Path,
    blocks: RowBlocks,
    *,
    format: str,
    columns: Mapping[str, str] | None,
    time_zone: str | None,
    alt_ref: str | None,
) -> RawTrack | str:
    """Give a layer's Point fixes to ``blocks`` as the whole reading reads them (see notes).

    Returns
    -------
    RawTrack or str
        What the layer holds (its frame without rows: they went to ``blocks``), or why
        it is to be read whole (nothing was given to ``blocks`` then).

    Raises
    ------
    InputError
        What the whole reading raises (message without the path).
    """
    with Spill() as spill:
        try:
            with pyogrio.open_arrow(
                path, batch_size=max(int(blocks.rows), 1), datetime_as_string=True,
                use_pyarrow=True,
            ) as (meta, reader):  # fmt: skip
                geometry = meta.get("geometry_name") or "wkb_geometry"
                if geometry not in reader.schema.names:
                    return "no geometry"
                options = {"columns": columns, "alt_ref": alt_ref, "time_zone": time_zone}
                layer = _open(meta, reader.schema, spill, options)
                if isinstance(layer, str):
                    return layer
                for batch in reader:
                    why = layer.add(batch, geometry) if batch.num_rows else None
                    if why is not None:
                        return why
        except _UNREAD as exc:
            return f"not read in batches ({gdal_message(exc)})"
        if not layer.kinds:
            return "no geometries"
        if layer.error is not None:
            raise layer.error
        layer.seen()
        assert layer.frames is not None
        empty = layer.frames.give(layer.frames_out(alt_ref), blocks, spill)
        basis = layer.frames.finish()
    return RawTrack(empty, format, time_basis=basis)
