"""A scan's result tables written into PostGIS: the layers of ``exposure.gpkg``, one table each.

The tables are those of the output folder's GeoPackage (``sites``, ``flights``,
``flight_sites``, ``footprints``, ``captures``, ``capture_sites``, and ``findings``
for an audit) in the schema that the address names (``?schema=``, default
``public``), geometries in EPSG:4326 with a GiST index, times as ``timestamptz``.
They are written in one transaction: a failure leaves the tables as they were, and
existing tables are replaced only with ``overwrite``.
"""

from __future__ import annotations

import re
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import OutputExistsError, UsageError
from geoexpose.exposure import ExposureResult
from geoexpose.schema import GPKG_LAYERS
from geoexpose.store._postgis import connect, split_url

__all__ = ["write_postgis"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _sql_type(values: pd.Series) -> str:
    kind = values.dtype.kind
    if isinstance(values.dtype, pd.DatetimeTZDtype) or kind == "M":
        return "TIMESTAMPTZ"
    return {"f": "DOUBLE PRECISION", "i": "BIGINT", "u": "BIGINT", "b": "BOOLEAN"}.get(kind, "TEXT")


def _column(values: pd.Series, sql_type: str) -> list[Any]:
    """Return a column's values as psycopg takes them (None where missing)."""
    if sql_type == "TIMESTAMPTZ":
        times = pd.to_datetime(values, utc=True)
        return [None if pd.isna(t) else t.to_pydatetime() for t in times]
    if sql_type == "TEXT":
        return [
            None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values
        ]
    return values.astype(object).where(values.notna(), None).tolist()


def _tables(result: Any) -> dict[str, pd.DataFrame]:
    exposure: ExposureResult = getattr(result, "exposure", None) or getattr(
        result, "result", result
    )
    tables = {GPKG_LAYERS[k]: getattr(exposure, k) for k in GPKG_LAYERS}
    findings = getattr(result, "findings", None)
    if findings is not None:
        tables["findings"] = findings
    return tables


def write_postgis(result: Any, url: str, *, overwrite: bool = False) -> list[str]:
    """Write a result's tables into a PostGIS database; return the tables written.

    Parameters
    ----------
    result
        A :class:`geoexpose.ScanResult`, :class:`geoexpose.AuditResult` or
        :class:`geoexpose.ExposureResult`.
    url
        ``postgresql://USER@HOST:PORT/DB`` (``?schema=NAME``, default ``public``).
    overwrite
        Replace tables of the same names.
    """
    libpq, mine, label = split_url(url)
    schema = mine.get("schema", "public")
    if not _NAME.match(schema):
        raise UsageError(f"{label}: schema={schema!r} is not a plain SQL name")
    tables = _tables(result)
    con = connect(libpq, label)
    try:
        with con.transaction(), con.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            for name, frame in tables.items():
                cur.execute("SELECT to_regclass(%s)", (f"{schema}.{name}",))
                if cur.fetchone()[0] is not None:
                    if not overwrite:
                        raise OutputExistsError(
                            f"{label}: table {schema}.{name} exists (overwrite=True replaces it)"
                        )
                    cur.execute(f"DROP TABLE {schema}.{name}")
                _write_table(cur, f"{schema}.{name}", frame)
    finally:
        con.close()
    return [f"{schema}.{name}" for name in tables]


def _write_table(cur: Any, name: str, frame: pd.DataFrame) -> None:
    frame = pd.DataFrame(frame)
    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    if geom is None and "geometry" in frame:
        geom = "geometry"
    cols = [c for c in frame.columns if c != geom]
    types = {c: _sql_type(frame[c]) for c in cols}
    defs = [f'"{c}" {types[c]}' for c in cols]
    if geom:
        defs.append("geom geometry(Geometry, 4326)")
    cur.execute(f"CREATE TABLE {name} (fid BIGSERIAL PRIMARY KEY, {', '.join(defs)})")
    if geom:
        cur.execute(f"CREATE INDEX ON {name} USING GIST (geom)")
    if not len(frame):
        return
    values = [_column(frame[c], types[c]) for c in cols]
    marks = ["%s"] * len(cols)
    names = [f'"{c}"' for c in cols]
    if geom:
        values.append(shapely.to_wkb(np.asarray(frame[geom], dtype=object)).tolist())
        marks.append("ST_GeomFromWKB(%s, 4326)")
        names.append("geom")
    sql = f"INSERT INTO {name} ({', '.join(names)}) VALUES ({', '.join(marks)})"
    cur.executemany(sql, list(zip(*values, strict=True)))
