"""How a CSV track's columns are read: AirData, a DJI-family export or generic, once.

:func:`csv_columns` decides it from the header's names, for the reading of a whole
file (:mod:`geoexpose.tracks._csv`) and of one in blocks
(:mod:`geoexpose.tracks._csv_blocks`) alike: a DJI-family kind from the header
(:mod:`geoexpose.tracks._dji_csv`) unless ``format="csv"``, else AirData's columns
unless ``format="csv"``, else the generic aliases. A DJI-family export's table is
fixed up before its columns are read (:meth:`CsvColumns.view`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from geoexpose.errors import InputError
from geoexpose.tracks._columns import ColumnMap, airdata_mapping, generic_mapping
from geoexpose.tracks._dji_csv import LITCHI_MISSION, dji_csv_kind, prepare_table

__all__ = ["NOT_AIRDATA", "CsvColumns", "csv_columns"]

#: What a CSV read as AirData (``format="airdata_csv"``) without its header is told.
NOT_AIRDATA = "not an AirData CSV (no time(millisecond)/datetime(utc)/latitude header)"


@dataclass
class CsvColumns:
    """How a file's columns are read: the mapping, the format's name, a DJI-family kind.

    A DJI-family export is fixed up (:meth:`view`, as
    :func:`~geoexpose.tracks._dji_csv.prepare_table` fixes it) before its columns are
    read; read in blocks, it keeps every column of a block (:meth:`kept`), another
    the columns read only.
    """

    mapping: ColumnMap
    name: str
    kind: str | None = None
    columns: Mapping[str, str] | None = None  # as prepare_table gives them

    def kept(self, table: pd.DataFrame) -> pd.DataFrame:
        """Return what of a block is kept on disk."""
        return table if self.kind is not None else table[self.mapping.names()]

    def view(self, table: pd.DataFrame) -> pd.DataFrame:
        """Return the table the mapping reads, of a table (or a block kept)."""
        if self.kind is None:
            return table
        return prepare_table(self.kind, table, self.columns)[0]


def csv_columns(
    names: list[str],
    format: str,
    columns: Mapping[str, str] | None,
    alt_ref: str | None,
) -> CsvColumns | str:
    """Find how a CSV's columns are read from its header's names (see module notes).

    Returns how, or why the file is not a track (a Litchi mission: a route).

    Raises
    ------
    InputError
        Not AirData where ``format="airdata_csv"`` asks for it; a header without the
        columns needed.
    """
    kind = dji_csv_kind(names)
    if kind == LITCHI_MISSION:
        return "a Litchi mission (a planned route)"
    if format == "csv":
        kind = None
    mapping = None if format == "csv" or kind is not None else airdata_mapping(names)
    if mapping is not None:
        return CsvColumns(mapping, "airdata_csv")
    if format == "airdata_csv":
        raise InputError(NOT_AIRDATA)
    if kind is not None:  # the names of the table fixed up
        prepared, columns = prepare_table(kind, pd.DataFrame(columns=names), columns)
        names = [str(name) for name in prepared.columns]
    mapping = generic_mapping(names, columns=columns, alt_ref=alt_ref)
    return CsvColumns(mapping, kind or "csv", kind, columns)
