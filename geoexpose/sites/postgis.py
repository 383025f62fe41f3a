"""Site layers read from PostGIS: a table or a query of a PostgreSQL database, in any SRID.

The address is a libpq URI with the layer in its query: ``postgresql://USER@HOST:PORT/
DB?table=SCHEMA.TABLE`` or ``...?sql=SELECT ...`` (URL-encoded), and ``geometry=COLUMN``
where the layer has more than one geometry column. The password comes from
``PGPASSWORD`` or ``~/.pgpass`` as libpq finds it; an address that holds one is
refused. The query runs in a read-only transaction. Needs ``geoexpose[postgis]``.
"""

from __future__ import annotations

import decimal
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose.errors import InputError, UsageError
from geoexpose.schema import SOURCE

__all__ = ["is_postgis_url", "postgis_source", "read_postgis"]

_OURS = ("table", "sql", "geometry")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def is_postgis_url(source: Any) -> bool:
    """Whether a site source names a PostgreSQL database.

    >>> is_postgis_url("postgresql://gx@db/sites?table=public.plants"), is_postgis_url("a.gpkg")
    (True, False)
    """
    return isinstance(source, str) and source.startswith(("postgresql://", "postgres://"))


def _split(url: str) -> tuple[str, dict[str, str], str]:
    """Return libpq's URI, the layer's parameters and a label without any secret."""
    parts = urlsplit(url)
    label = urlunsplit(parts._replace(query="", netloc=parts.netloc.rsplit("@", 1)[-1]))
    if parts.password is not None:
        raise UsageError(f"{label}: a password in the address; give it in PGPASSWORD or ~/.pgpass")
    query = parse_qsl(parts.query, keep_blank_values=True)
    mine = {k: v for k, v in query if k in _OURS}
    libpq = urlunsplit(
        parts._replace(query=urlencode([(k, v) for k, v in query if k not in _OURS]))
    )
    return libpq, mine, label


def _quoted(table: str, label: str) -> str:
    names = table.split(".")
    if len(names) > 2 or not all(_NAME.match(n) for n in names):
        raise UsageError(f"{label}: table={table!r}: expected TABLE or SCHEMA.TABLE")
    return ".".join(f'"{n}"' for n in names)


def _ident(name: str) -> str:
    """Quote a column name as SQL wants it: a ``"`` in it is doubled, never a way out."""
    return '"' + name.replace('"', '""') + '"'


def _plain(values: pd.Series) -> pd.Series:
    """Numbers that PostgreSQL returns as decimals become floats."""
    if values.dtype == object and values.map(lambda v: isinstance(v, decimal.Decimal)).any():
        return pd.to_numeric(values, errors="coerce").astype("float64")
    return values


def read_postgis(url: str) -> gpd.GeoDataFrame:
    """Read a table or query of a PostGIS database as a GeoDataFrame in its own CRS.

    Parameters
    ----------
    url
        ``postgresql://USER@HOST:PORT/DB?table=SCHEMA.TABLE`` or ``...?sql=QUERY``;
        ``&geometry=COLUMN`` to choose among several geometry columns.

    Returns
    -------
    geopandas.GeoDataFrame
        Every attribute column, the geometry, the CRS of the layer's SRID, and a
        ``source`` column (the address without password, unless the layer has one);
        ``attrs["postgis_layer"]`` holds the table's name (or ``query``).

    Raises
    ------
    UsageError
        Neither or both of ``table`` and ``sql``; a table name that is not plain.
    InputError
        No connection, a failing query, no geometry column, several SRIDs.
    """
    libpq, mine, label = _split(url)
    if ("table" in mine) == ("sql" in mine):
        raise UsageError(f"{label}: give the layer as ?table=SCHEMA.TABLE or ?sql=QUERY")
    query = f"SELECT * FROM {_quoted(mine['table'], label)}" if "table" in mine else mine["sql"]
    what = mine.get("table", "query")
    try:
        import psycopg
    except ImportError as exc:  # an optional extra
        raise ImportError(
            "sites from PostGIS need psycopg: pip install 'geoexpose[postgis]'"
        ) from exc
    try:
        with psycopg.connect(libpq) as con, con.cursor() as cur:
            cur.execute("SET TRANSACTION READ ONLY")
            cur.execute("SELECT oid FROM pg_type WHERE typname = 'geometry'")
            row = cur.fetchone()
            cur.execute(f"SELECT * FROM ({query}) AS layer LIMIT 0")
            cols = [(d.name, d.type_code) for d in cur.description or []]
            geoms = [n for n, t in cols if row is not None and t == row[0]]
            geom = mine.get("geometry") or (geoms[0] if len(geoms) == 1 else None)
            if geom not in geoms:
                found = ", ".join(geoms) or "none"
                raise InputError(
                    f"{label} ({what}): geometry column {geom or '?'} not found (geometry "
                    f"columns: {found}); choose one with &geometry=COLUMN"
                )
            others = [n for n, _ in cols if n not in geoms]
            select = ", ".join(
                [*map(_ident, others), f"ST_AsBinary({_ident(geom)})", f"ST_SRID({_ident(geom)})"]
            )
            cur.execute(f"SELECT {select} FROM ({query}) AS layer")
            rows = cur.fetchall()
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{label} ({what}): {first}") from None
    data = list(zip(*rows, strict=True)) if rows else [()] * (len(others) + 2)
    frame = pd.DataFrame(
        {n: _plain(pd.Series(v, dtype=object)) for n, v in zip(others, data, strict=False)}
    )
    srids = {s for s in data[-1] if s} if rows else set()
    if len(srids) > 1:
        raise InputError(
            f"{label} ({what}): geometries in several SRIDs {sorted(srids)}; transform them to one"
        )
    wkb = np.array([None if b is None else bytes(b) for b in data[-2]], dtype=object)
    crs = f"EPSG:{srids.pop()}" if srids else None
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(shapely.from_wkb(wkb), crs=crs), crs=crs)
    if SOURCE not in out:
        out[SOURCE] = f"{label}?table={mine['table']}" if "table" in mine else label
    out.attrs["postgis_layer"] = what.split(".")[-1]
    return out


def postgis_source(url: str) -> tuple[str, str, gpd.GeoDataFrame, None]:
    """Read a PostGIS layer for the site reader: its label, id prefix, frame, no row map.

    The label names the database and the table (never a password); the id prefix is
    the table's name (``query`` for a query).
    """
    frame = read_postgis(url)
    return (
        str(frame[SOURCE].iloc[0]) if len(frame) else url,
        frame.attrs["postgis_layer"],
        frame,
        None,
    )
