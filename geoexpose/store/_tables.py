"""The store's tables, once for both back ends, and the conversions of frames to rows and back.

Each table is a list of columns with a logical type: ``text``, ``int``, ``real``,
``time`` (UTC, kept as ISO 8601 text with nanoseconds and a ``Z``, so that it sorts
and compares as text and keeps every digit pandas has), ``json`` (what a table has
beyond its fixed columns) and ``geom`` (EPSG:4326). Every row carries the ``scan_id``
of the scan that wrote it, and ``scans`` records the geoexpose version of each scan.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.schema import (
    ALT_AGL_M,
    ALT_REF,
    BEST_GSD_CM,
    CAM_LAT,
    CAM_LON,
    CAPACITY_MW,
    CAPTURE_ID,
    CAPTURE_KIND,
    CX_PX,
    CY_PX,
    DURATION_S,
    DWELL_S,
    END_UTC,
    FAMILY,
    FINDING_ID,
    FIRST_SEEN_UTC,
    FLAGS,
    FLIGHT_ID,
    FOCAL_PX,
    GEOMETRY,
    GSD_CM,
    IMAGE_HEIGHT_PX,
    IMAGE_WIDTH_PX,
    IMAGED_AREA_M2,
    INTRINSICS,
    KIND,
    LAST_SEEN_UTC,
    LENGTH_M,
    MAX_AGL_M,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_CAPTURES,
    N_FIXES,
    NAME,
    OPERATOR,
    PATH,
    PITCH_DEG,
    ROLL_DEG,
    RULE,
    SEVERITY,
    SITE_ID,
    SOURCE,
    STANDOFF_M,
    START_UTC,
    TIME_DTYPE,
    TIME_UTC,
    VOLTAGE_KV,
    YAW_DEG,
)

__all__ = [
    "AIRCRAFT_ID",
    "ATTRIBUTES",
    "GEOM",
    "SCHEMA_VERSION",
    "SHA256",
    "TABLES",
    "Table",
    "from_rows",
    "iso_ns",
    "to_rows",
]

#: The version of the store's tables that this geoexpose writes (see ``MIGRATIONS``).
SCHEMA_VERSION = 1
GEOM = "geom"
ATTRIBUTES = "attributes"
SHA256 = "sha256"
AIRCRAFT_ID = "aircraft_id"
SCAN_ID = "scan_id"


@dataclass(frozen=True)
class Table:
    """One table of the store: its columns with their logical types, indexes, geometry."""

    name: str
    columns: tuple[tuple[str, str], ...]
    description: str
    geometry_type: str | None = None
    indexes: tuple[str, ...] = ()

    @property
    def names(self) -> list[str]:
        """The column names, in order."""
        return [c for c, _ in self.columns]

    def kinds(self, kind: str) -> list[str]:
        """Return the columns of one logical type."""
        return [c for c, k in self.columns if k == kind]


def _t(name, description, cols, geometry_type=None, indexes=()) -> Table:
    return Table(name, tuple(cols), description, geometry_type, tuple(indexes))


_S = (SCAN_ID, "int")
TABLES = (
    _t("gx_scans", "geoexpose: one row per scan added to the store", [
        (SCAN_ID, "int"), ("added_utc", "time"), ("geoexpose_version", "text"),
        ("kind", "text"), ("command", "json"), ("params", "json"), ("site_set", "text"),
        ("files_added", "int"), ("files_known", "int"), ("files_replaced", "int"),
        ("flights_added", "int"), ("pairs_added", "int"), ("captures_added", "int"),
        ("findings_added", "int"),
    ]),
    _t("gx_files", "geoexpose: the files read, by SHA-256", [
        (PATH, "text"), (SHA256, "text"), ("size_bytes", "int"), ("format", "text"),
        ("status", "text"), ("rows_kept", "int"), ("entry", "json"), _S,
        ("replaced_by", "int"),
    ], indexes=(SHA256, PATH)),
    _t("gx_flights", "geoexpose: one line per flight", [
        (FLIGHT_ID, "text"), (AIRCRAFT_ID, "text"), (SOURCE, "text"), (SHA256, "text"),
        (N_FIXES, "int"), (FIRST_SEEN_UTC, "time"), (LAST_SEEN_UTC, "time"),
        (DURATION_S, "real"), (LENGTH_M, "real"), (MAX_AGL_M, "real"), (ALT_REF, "text"),
        (ATTRIBUTES, "json"), _S, (GEOM, "geom"),
    ], "MULTILINESTRING", (FLIGHT_ID, FIRST_SEEN_UTC, SHA256)),
    _t("gx_pairs", "geoexpose: flight x site exposure", [
        (FLIGHT_ID, "text"), (SITE_ID, "text"), (N_FIXES, "int"), (DWELL_S, "real"),
        (MIN_DISTANCE_M, "real"), (MIN_AGL_M, "real"), (FIRST_SEEN_UTC, "time"),
        (LAST_SEEN_UTC, "time"), (N_CAPTURES, "int"), (BEST_GSD_CM, "real"), _S,
    ], indexes=(FLIGHT_ID, SITE_ID)),
    _t("gx_captures", "geoexpose: one ground footprint per capture", [
        (CAPTURE_ID, "text"), (PATH, "text"), (SHA256, "text"), (CAPTURE_KIND, "text"),
        (TIME_UTC, "time"), (FLIGHT_ID, "text"), (AIRCRAFT_ID, "text"), (CAM_LON, "real"),
        (CAM_LAT, "real"), (ALT_AGL_M, "real"), (YAW_DEG, "real"), (PITCH_DEG, "real"),
        (ROLL_DEG, "real"), (GSD_CM, "real"), (FLAGS, "text"), (ALT_REF, "text"),
        (INTRINSICS, "text"), (FOCAL_PX, "real"), (IMAGE_WIDTH_PX, "real"),
        (IMAGE_HEIGHT_PX, "real"), (CX_PX, "real"), (CY_PX, "real"), (ATTRIBUTES, "json"),
        _S, (GEOM, "geom"),
    ], "GEOMETRY", (FLIGHT_ID, TIME_UTC, SHA256, CAPTURE_ID)),
    _t("gx_capture_sites", "geoexpose: which capture shows which site", [
        (CAPTURE_ID, "text"), (SITE_ID, "text"), (FLIGHT_ID, "text"), (TIME_UTC, "time"),
        (GSD_CM, "real"), (IMAGED_AREA_M2, "real"), (ATTRIBUTES, "json"), _S,
    ], indexes=(CAPTURE_ID, SITE_ID)),
    _t("gx_sites", "geoexpose: the sites as each scan had them (one set per layer version)", [
        ("site_set", "text"), ("position", "int"), (SITE_ID, "text"), (FAMILY, "text"),
        (KIND, "text"), (NAME, "text"), (OPERATOR, "text"), (STANDOFF_M, "real"),
        (SOURCE, "text"), (CAPACITY_MW, "real"), (VOLTAGE_KV, "real"), (ATTRIBUTES, "json"), _S,
        (GEOM, "geom"),
    ], "GEOMETRY", ("site_set",)),
    _t("gx_findings", "geoexpose: audit findings", [
        (FINDING_ID, "text"), (SEVERITY, "text"), (RULE, "text"), (FLIGHT_ID, "text"),
        (SITE_ID, "text"), (START_UTC, "time"), (END_UTC, "time"), (ATTRIBUTES, "json"),
        _S, (GEOM, "geom"),
    ], "GEOMETRY", (FLIGHT_ID, SITE_ID)),
)  # fmt: skip
TABLE = {t.name: t for t in TABLES}


def iso_ns(values: Any) -> np.ndarray:
    """Write times as fixed-width ISO 8601 UTC text with nanoseconds (None where missing).

    >>> iso_ns(pd.Series(pd.to_datetime(["2026-01-02T03:04:05.5Z", None])))
    array(['2026-01-02T03:04:05.500000000Z', None], dtype=object)
    """
    t = pd.to_datetime(pd.Series(values), utc=True)
    naive = t.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
    text = np.char.add(np.datetime_as_string(naive, unit="ns").astype(object), "Z")
    out = text.copy()
    out[pd.isna(naive)] = None
    return out


def _json_rows(frame: pd.DataFrame) -> list[str | None]:
    """Return the columns of ``frame`` as one JSON object per row (None for no columns).

    >>> _json_rows(pd.DataFrame({"a": [1.5, None], "b": ["x", "y"]}))
    ['{"a":1.5,"b":"x"}', '{"a":null,"b":"y"}']
    """
    if frame.shape[1] == 0 or not len(frame):
        return [None] * len(frame)
    plain = frame.copy()
    for col in plain:
        if isinstance(plain[col].dtype, pd.DatetimeTZDtype):
            plain[col] = iso_ns(plain[col])
    text = plain.to_json(orient="records", lines=True, default_handler=str)
    return text.rstrip("\n").split("\n")  # JSON escapes the newlines inside values


def to_rows(table: Table, frame: pd.DataFrame, **fixed: Any) -> tuple[list[str], list[list[Any]]]:
    """Columns of ``frame`` (and constant ``fixed`` values) as lists ready to insert.

    Columns of the table that ``frame`` lacks are NULL; columns of ``frame`` that the
    table lacks go into its ``attributes`` JSON where it has one. Geometries stay
    shapely objects: the back end encodes them.
    """
    n = len(frame)
    out: list[list[Any]] = []
    for col, kind in table.columns:
        if col in fixed:
            out.append([fixed[col]] * n)
        elif kind == "geom":
            out.append(list(frame.geometry.to_numpy()) if GEOMETRY in frame else [None] * n)
        elif kind == "json" and col == ATTRIBUTES:
            rest = [c for c in frame.columns if c not in table.names and c != GEOMETRY]
            out.append(_json_rows(frame[rest]))
        elif col not in frame:
            out.append([None] * n)
        elif kind == "time":
            out.append(iso_ns(frame[col]).tolist())
        else:
            values = frame[col]
            if kind == "real":
                values = pd.to_numeric(values, errors="coerce").astype("float64")
            kept = values.astype(object).where(values.notna(), None).tolist()
            if kind == "int":
                kept = [None if v is None else int(v) for v in kept]
            elif kind == "text":
                kept = [None if v is None else str(v) for v in kept]
            out.append(kept)
    return table.names, out


def _json_frame(values: Sequence[str | None]) -> pd.DataFrame:
    """Read one JSON object per row into columns (ujson through pandas, not a loop)."""
    if not len(values) or not any(values):
        return pd.DataFrame(index=range(len(values)))
    text = "\n".join(v or "{}" for v in values)
    return pd.read_json(io.StringIO(text), lines=True, dtype=False)


def from_rows(table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    """Return rows read back (geometry already decoded) as a frame with the right dtypes.

    An ``attributes`` column comes back as the columns it holds.
    """
    kinds = dict(table.columns)
    cols = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    data: dict[str, Any] = {}
    extra: pd.DataFrame | None = None
    for name, values in zip(names, cols, strict=True):
        kind = kinds.get(name, "text")
        if kind == "time":
            data[name] = pd.to_datetime(pd.Series(values, dtype=object), utc=True).astype(
                TIME_DTYPE
            )
        elif kind == "real":
            data[name] = pd.Series(values, dtype=object).astype("float64")
        elif kind == "int":
            ints = pd.Series(values, dtype=object)
            data[name] = ints.astype("Int64" if ints.isna().any() else "int64")
        elif kind == "geom":
            data[name] = np.asarray(values, dtype=object)
        elif name == ATTRIBUTES:
            extra = _json_frame(values)
        else:
            data[name] = pd.Series(values, dtype="str")
    frame = pd.DataFrame(data)
    if extra is not None and extra.shape[1]:
        frame = pd.concat([frame, extra.set_index(frame.index)], axis=1)
    return frame
