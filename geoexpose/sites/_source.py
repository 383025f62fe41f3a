"""Read a site layer from a file or a frame into a GeoDataFrame in EPSG:4326.

Vector formats go through pyogrio (GeoPackage, GeoJSON, Shapefile, FlatGeobuf and
whatever else GDAL reads), GeoParquet through pyarrow, and CSV through pandas, with
points built from longitude/latitude columns. Attributes are returned unchanged.
OpenStreetMap files (``.osm.pbf``, ``.osm``, ``.osm.gz``, ``.osm.bz2``) go through
:func:`geoexpose.sites.osm.osm_table`. Spreadsheets (``.xlsx``) are read through GDAL,
every cell as text; a title row above the header row (as in the EIA-860 files) is
skipped, and so are rows with every cell empty.

Untrusted files are read within bounds (:mod:`geoexpose._limits`): a CSV line over
1 MiB refuses the file before it is parsed; a ``.gz`` or ``.bz2`` file (OpenStreetMap
or other) and every member of a zip (KMZ, zipped Shapefile) is first unpacked as a
stream with a counter, and refused when it unpacks to more than 512 MiB or 200 times
its packed size; messages quote at most a short, cleaned excerpt of a file's text.

Row numbers name the rows as the user sees them in the file: the line of a CSV file
(the header is line 1), the row number Excel shows for a spreadsheet (the header row
and any title rows above it counted), the feature's position from 1 otherwise.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geoexpose._files import PARQUET_SUFFIXES
from geoexpose._limits import (
    LimitError,
    bounded,
    check_declared,
    check_line_lengths,
    decompressed_size,
    excerpt,
)
from geoexpose.errors import InputError, UsageError
from geoexpose.schema import CRS_LONLAT, GPKG_LAYERS
from geoexpose.sites.catalog import normalize_label
from geoexpose.sites.osm import OSM_SUFFIXES, osm_table
from geoexpose.sites.postgis import is_postgis_url, postgis_source

__all__ = ["LAT_NAMES", "LON_NAMES", "Loaded", "read_source"]

logger = logging.getLogger(__name__)

# Coordinate columns of tables, as labels, in the order they are looked for
# (longdd/latdd: decimal degrees in the BTS NTAD National Bridge Inventory).
LON_NAMES = ("longitude", "lon", "lng", "long", "x", "longdd")
LAT_NAMES = ("latitude", "lat", "y", "latdd")

_CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
_SPREADSHEET_SUFFIXES = (".xlsx",)
_FRAME_LABEL = "GeoDataFrame"
_FRAME_PREFIX = "site"
_PREFERRED_LAYER = GPKG_LAYERS["sites"]  # the sites layer of a geoexpose output
_HEADER_SEARCH_ROWS = 20  # a header row is looked for among the first rows of a sheet
_LONLAT = CRS.from_user_input(CRS_LONLAT)  # parsed once
_MAX_FIELDS_NAMED = 30


@dataclass(frozen=True)
class Loaded:
    """A site layer as read: attributes untouched, geometry in EPSG:4326."""

    label: str  # the input, for messages and the ``source`` column
    stem: str  # the default prefix of site ids
    frame: gpd.GeoDataFrame  # RangeIndex
    coordinates: tuple[str, ...] = field(default=())  # lon/lat columns the points came from
    rows: np.ndarray | None = None  # row number in the file of each row; None: position + 1

    def row_numbers(self) -> np.ndarray:
        """Row number in the file (as the user sees it) of each row of ``frame``."""
        if self.rows is not None:
            return self.rows
        return np.arange(1, len(self.frame) + 1, dtype="int64")


def read_source(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    layer: str | None,
    lon: str | None,
    lat: str | None,
    crs: object | None,
) -> Loaded:
    """Read ``source`` (a path or a frame) into a GeoDataFrame in EPSG:4326."""
    given_crs = _parse_crs(crs)
    if isinstance(source, pd.DataFrame):
        if layer is not None:
            raise UsageError("layer= applies to files with several layers, not to a frame")
        label, stem, table, rows = _FRAME_LABEL, _FRAME_PREFIX, source, None
    elif is_postgis_url(source):  # a table or query of a PostGIS database, in any SRID
        label, stem, table, rows = postgis_source(str(source))
    else:
        path = Path(source)
        label, stem = os.fspath(source), path.stem or path.name
        table, rows = _read_path(path, label, layer)
    frame, coordinates = _as_geoframe(table, label, lon=lon, lat=lat, crs=given_crs, rows=rows)
    if not frame.crs.equals(_LONLAT, ignore_axis_order=True):
        logger.info("%s: reprojecting from %s to %s", label, frame.crs.to_string(), CRS_LONLAT)
        frame = frame.to_crs(CRS_LONLAT)
    frame = frame.reset_index(drop=True)
    return Loaded(label=label, stem=stem, frame=frame, coordinates=coordinates, rows=rows)


def _parse_crs(crs: object | None) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except CRSError as error:
        raise UsageError(f"crs={crs!r} is not a coordinate reference system: {error}") from error


def _one_line(error: BaseException) -> str:
    return excerpt(" ".join(str(error).split()) or type(error).__name__, 300)


def _fields_named(fields: list[str]) -> str:
    """Name the first fields of a table, each cut short, for a message."""
    named = ", ".join(excerpt(f) for f in fields[:_MAX_FIELDS_NAMED]) or "(none)"
    more = len(fields) - _MAX_FIELDS_NAMED
    return named + (f" and {more} more" if more > 0 else "")


def _read_path(path: Path, label: str, layer: str | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Read the file's table, and the row number in the file of each row (None: position + 1)."""
    if not path.exists():
        raise InputError(f"{label}: no such file")
    _check_packed(path, label)
    name = path.name.lower()
    suffix = path.suffix.lower()
    if name.endswith(OSM_SUFFIXES) or suffix in _SPREADSHEET_SUFFIXES:
        if name.endswith(OSM_SUFFIXES) and layer is not None:
            raise UsageError(f"layer= applies to files with several layers, not to {label}")
        if suffix in _SPREADSHEET_SUFFIXES:
            return _read_spreadsheet(path, label, layer)
        return osm_table(path, label=label), None  # the sites of every family the catalog reads
    if (suffix in _CSV_SUFFIXES or suffix in PARQUET_SUFFIXES) and layer is not None:
        raise UsageError(f"layer= applies to files with several layers, not to {label}")
    if suffix in _CSV_SUFFIXES:
        return _read_csv(path, label, _CSV_SUFFIXES[suffix])
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(path, label), None
    return _read_vector(path, label, layer), None


def _check_packed(path: Path, label: str) -> None:
    """Unpack a gzip, bzip2 or zip file as a stream, nothing kept, and refuse a bomb."""
    if path.is_dir():
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
        if head.startswith((b"\x1f\x8b", b"BZh")):
            decompressed_size(path)
        elif head == b"PK\x03\x04":
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    what = f"member {excerpt(info.filename, 80)!r}"
                    check_declared(info.file_size, what=what)
                    with archive.open(info) as member:
                        stream = bounded(member, packed=info.compress_size, what=what)
                        while stream.read(1 << 22):
                            pass
    except LimitError as error:
        raise InputError(f"{label}: {error}") from error
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError) as error:
        raise InputError(f"{label}: broken compressed file: {_one_line(error)}") from error


def _read_csv(path: Path, label: str, sep: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    # Every cell as text: ids keep leading zeros; numbers are parsed where needed.
    options: dict[str, object] = {
        "sep": sep,
        "dtype": "str",
        "keep_default_na": False,
        "na_values": [""],
    }
    if sep is None:
        options["engine"] = "python"
    encoding = "utf-8-sig"
    try:
        check_line_lengths(path)
    except LimitError as error:
        raise InputError(f"{label}: {error}") from error
    try:
        try:
            table = pd.read_csv(path, encoding=encoding, **options)
        except UnicodeDecodeError:
            logger.info("%s: not UTF-8; reading it as Latin-1", label)
            encoding = "latin-1"
            table = pd.read_csv(path, encoding=encoding, **options)
    except (OSError, ValueError, pd.errors.ParserError) as error:
        raise InputError(f"{label}: cannot read as CSV: {_one_line(error)}") from error
    return table, _csv_lines(path, len(table), sep, encoding, label)


def _csv_lines(path: Path, n_rows: int, sep: str | None, encoding: str, label: str) -> np.ndarray:
    """Find the line of the file on which each of ``n_rows`` records starts (header: line 1).

    When the file has one line per record (the usual case, told by counting line ends)
    record ``i`` is on line ``i + 2``; else (blank lines, which pandas skips, or
    quoted values over several lines) the records are walked with :mod:`csv`.
    """
    simple = np.arange(2, n_rows + 2, dtype="int64")
    data = path.read_bytes()
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if lines == n_rows + 1:
        return simple
    starts: list[int] = []
    try:
        text = data.decode(encoding)
        delimiter = sep or csv.Sniffer().sniff(text[:65536]).delimiter
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        end = 0
        for record in reader:
            if record:  # a blank line is no record
                starts.append(end + 1)
            end = reader.line_num
    except (csv.Error, UnicodeDecodeError) as error:
        logger.debug("%s: line numbers not found (%s)", label, error)
    if len(starts) != n_rows + 1:
        logger.debug("%s: row numbers count records after the header", label)
        return simple
    return np.asarray(starts[1:], dtype="int64")


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    import pyarrow
    import pyarrow.parquet as pq

    try:
        metadata = pq.read_schema(path).metadata or {}
        if b"geo" in metadata:
            return gpd.read_parquet(path)
        return pd.read_parquet(path)  # a plain table: points from lon/lat columns
    except (OSError, ValueError, pyarrow.ArrowException) as error:
        raise InputError(f"{label}: cannot read as (Geo)Parquet: {_one_line(error)}") from error


def _read_spreadsheet(
    path: Path, label: str, sheet: str | None
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Read one sheet of a spreadsheet as text, its header row found below any title rows.

    The header is the first of the first rows with at least half as many filled cells
    as the fullest of them, none of them a number. Rows with every cell empty are
    skipped. Returns the table and the row number (as Excel shows it) of each row:
    GDAL gives every row from the sheet's first, empty ones included.
    """
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    failures = (DataSourceError, DataLayerError, OSError, ValueError, RuntimeError)
    try:
        sheets = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except failures as error:
        raise InputError(f"{label}: cannot read as a spreadsheet: {_one_line(error)}") from error
    if sheet is not None and sheet not in sheets:
        raise InputError(f"{label}: no sheet {sheet!r}; its sheets are: {', '.join(sheets)}")
    if sheet is None and len(sheets) != 1:
        raise InputError(
            f"{label}: holds {len(sheets)} sheets ({', '.join(sheets)}); choose one with layer="
        )
    try:
        cells = pyogrio.read_dataframe(
            path, layer=sheet or sheets[0], read_geometry=False, HEADERS="DISABLE"
        )
    except failures as error:
        raise InputError(f"{label}: cannot read sheet: {_one_line(error)}") from error
    cells = cells.astype("str").apply(lambda column: column.str.strip()).replace("", np.nan)
    if cells.empty:
        return pd.DataFrame(), None
    top = cells.iloc[:_HEADER_SEARCH_ROWS]
    filled = top.notna().sum(axis=1).to_numpy()
    numeric = top.apply(lambda column: pd.to_numeric(column, errors="coerce")).notna()
    header = int(np.flatnonzero((filled * 2 >= filled.max()) & ~numeric.any(axis=1).to_numpy())[0])
    names = [
        str(value) if isinstance(value, str) else f"column_{number}"
        for number, value in enumerate(cells.iloc[header], start=1)
    ]
    if header:
        logger.info("%s: header on row %d of the sheet", label, header + 1)
    table = cells.iloc[header + 1 :]
    rows = np.arange(header + 2, header + 2 + len(table), dtype="int64")
    filled_rows = table.notna().any(axis=1).to_numpy()
    if not filled_rows.all():
        logger.info("%s: %d empty rows skipped", label, int((~filled_rows).sum()))
        table, rows = table.loc[filled_rows], rows[filled_rows]
    table = table.reset_index(drop=True)
    table.columns = pd.Index(_unique(names))
    return table, rows


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _read_vector(path: Path, label: str, layer: str | None) -> pd.DataFrame:
    import pyogrio
    from pyogrio.errors import DataLayerError, DataSourceError

    failures = (DataSourceError, DataLayerError, OSError, ValueError, RuntimeError)
    try:
        names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except failures as error:
        raise InputError(f"{label}: cannot read: {_one_line(error)}") from error
    if layer is not None and layer not in names:
        raise InputError(f"{label}: no layer {layer!r}; its layers are: {', '.join(names)}")
    if layer is None:
        if not names:
            raise InputError(f"{label}: holds no layer")
        if len(names) == 1:
            layer = names[0]
        elif _PREFERRED_LAYER in names:
            layer = _PREFERRED_LAYER
        else:
            raise InputError(
                f"{label}: holds {len(names)} layers ({', '.join(names)}); choose one with layer="
            )
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except failures as error:
        raise InputError(f"{label}: cannot read layer {layer!r}: {_one_line(error)}") from error


def _has_geometry(table: pd.DataFrame) -> bool:
    if not isinstance(table, gpd.GeoDataFrame):
        return False
    name = table._geometry_column_name  # None when no geometry column is active
    return name is not None and name in table.columns


def _as_geoframe(
    table: pd.DataFrame,
    label: str,
    *,
    lon: str | None,
    lat: str | None,
    crs: CRS | None,
    rows: np.ndarray | None,
) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    if _has_geometry(table):
        if lon is not None or lat is not None:
            raise UsageError(f"lon=/lat= apply to tables without geometry; {label} has geometry")
        frame = gpd.GeoDataFrame(table)
        if frame.crs is None:
            if crs is None:
                raise InputError(f"{label}: has no CRS; give its CRS with crs= (e.g. 'EPSG:32633')")
            return frame.set_crs(crs), ()
        if crs is not None and not frame.crs.equals(crs, ignore_axis_order=True):
            raise InputError(
                f"{label}: its CRS is {frame.crs.to_string()} but crs={crs.to_string()} was "
                "given; drop crs= or fix the file"
            )
        return frame, ()
    lon_field = _coordinate_field(table, lon, LON_NAMES, "lon", label)
    lat_field = _coordinate_field(table, lat, LAT_NAMES, "lat", label)
    x = _coordinates(table[lon_field], lon_field, label, rows)
    y = _coordinates(table[lat_field], lat_field, label, rows)
    present = np.isfinite(x) & np.isfinite(y)
    points = np.full(len(table), None, dtype=object)
    points[present] = shapely.points(x[present], y[present])
    attributes = pd.DataFrame(table).drop(columns=[lon_field, lat_field])
    frame = gpd.GeoDataFrame(attributes, geometry=points, crs=crs or CRS_LONLAT)
    return frame, (lon_field, lat_field)


def _coordinate_field(
    table: pd.DataFrame, given: str | None, names: tuple[str, ...], axis: str, label: str
) -> str:
    fields = [str(column) for column in table.columns]
    if given is not None:
        folded = [f for f in fields if f == given] or [
            f for f in fields if f.casefold() == given.casefold()
        ]
        if len(folded) == 1:
            return folded[0]
        raise InputError(
            f"{label}: no field {given!r} (given as {axis}=); its fields are: "
            f"{_fields_named(fields)}"
        )
    by_label: dict[str, str] = {}
    for column in fields:
        by_label.setdefault(normalize_label(column), column)
    for name in names:
        if name in by_label:
            return by_label[name]
    raise InputError(
        f"{label}: no geometry and no {axis} column (looked for {', '.join(names)}); "
        f"give it with {axis}=; its fields are: {_fields_named(fields)}"
    )


def _coordinates(
    values: pd.Series, field_name: str, label: str, rows: np.ndarray | None
) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype="float64", na_value=np.nan)
    text = values.astype("str").str.strip()
    text = text.mask(text == "")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = (text.notna() & numbers.isna()).to_numpy()
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        row = first + 1 if rows is None else int(rows[first])
        raise InputError(
            f"{label}: row {row}: {excerpt(field_name)} {excerpt(text.iloc[first])!r} is not "
            f"a number ({int(bad.sum())} such rows)"
        )
    return numbers.to_numpy(dtype="float64", na_value=np.nan)
