"""The store's PostGIS back end: the same tables in a PostgreSQL schema, through psycopg 3.

The address is a libpq URI, ``postgresql://USER@HOST:PORT/DB``, with libpq's own query
parameters (``sslmode=...``) and one of geoexpose's, ``schema=`` (default
``geoexpose``), the PostgreSQL schema that holds the tables. The password comes from
``PGPASSWORD`` or ``~/.pgpass``, as libpq finds it: an address with a password in it
is refused, so that it shows up in no command line, log or summary. Adds run one at a
time (a transaction-scoped advisory lock), and a transaction that is cut off (a kill,
a lost connection) is rolled back by the server.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import shapely

from geoexpose.errors import InputError, UsageError, first_line
from geoexpose.store._tables import GEOM, Table

__all__ = ["PostgisBackend", "connect", "split_url"]

_TYPES = {
    "text": "TEXT",
    "int": "BIGINT",
    "real": "DOUBLE PRECISION",
    "time": "TEXT",
    "json": "TEXT",
}
_LOCK = 0x67656F78  # the advisory lock of geoexpose's adds ("geox")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def split_url(url: str, *, ours: Sequence[str] = ("schema",)) -> tuple[str, dict[str, str], str]:
    """Split a ``postgresql://`` address into libpq's URI, geoexpose's parameters, a label.

    >>> split_url("postgresql://gx@db:5433/sites?schema=h&sslmode=require")
    ('postgresql://gx@db:5433/sites?sslmode=require', {'schema': 'h'}, 'postgresql://gx@db:5433/sites')
    """
    parts = urlsplit(url)
    if parts.password is not None:
        raise UsageError(
            f"{parts.scheme}://{parts.username}:***@{parts.hostname}...: a password in the "
            "address; give it in PGPASSWORD or ~/.pgpass instead"
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    mine = {k: v for k, v in query if k in ours}
    rest = [(k, v) for k, v in query if k not in ours]
    libpq = urlunsplit(parts._replace(query=urlencode(rest)))
    label = urlunsplit(parts._replace(query=""))
    return libpq, mine, label


def connect(libpq: str, label: str) -> Any:
    """Open a psycopg connection (autocommit; transactions are explicit)."""
    try:
        import psycopg
    except ImportError as exc:  # an optional extra
        raise ImportError(
            "a PostGIS store needs psycopg: pip install 'geoexpose[postgis]'"
        ) from exc
    try:
        return psycopg.connect(libpq, autocommit=True)
    except psycopg.OperationalError as exc:
        raise InputError(f"{label}: cannot connect: {first_line(exc)}") from None


class PostgisBackend:
    """A store in a PostgreSQL database with PostGIS."""

    dialect = "postgis"

    def __init__(self, url: str) -> None:
        self._libpq, mine, self.label = split_url(url)
        self.schema = mine.get("schema", "geoexpose")
        if not _NAME.match(self.schema):
            raise UsageError(f"{self.label}: schema={self.schema!r} is not a plain SQL name")
        self._con: Any = None

    def connection(self) -> Any:
        """Return the open connection, opened when first asked for."""
        if self._con is None:
            self._con = connect(self._libpq, self.label)
        return self._con

    def close(self) -> None:
        """Close the connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[Any]:
        """Run a transaction: all of it or nothing; a reader sees one snapshot."""
        con = self.connection()
        try:
            with con.transaction(), con.cursor() as cur:
                if not write:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cur.execute(f"SET LOCAL search_path TO {self.schema}, public")
                yield cur
        except Exception as exc:
            if not type(exc).__module__.startswith("psycopg"):
                raise
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise InputError(f"{self.label}: {first}") from exc

    def prepare(self, cur: Any) -> None:
        """Make sure of PostGIS and the schema; one process at a time from here on."""
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        cur.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'")
        if cur.fetchone() is None:
            cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")

    def has_table(self, cur: Any, name: str) -> bool:
        """Whether the store's schema holds this table."""
        cur.execute("SELECT to_regclass(%s)", (f"{self.schema}.{name}",))
        return cur.fetchone()[0] is not None

    def create(self, cur: Any, table: Table) -> None:
        """Create a table with its indexes (and a GiST index on its geometry)."""
        cols = ["fid BIGSERIAL PRIMARY KEY"]
        cols += [f"{c} {_TYPES[k]}" for c, k in table.columns if k != "geom"]
        if table.geometry_type:
            cols.append(f"{GEOM} geometry({table.geometry_type}, 4326)")
        cur.execute(f"CREATE TABLE {table.name} ({', '.join(cols)})")
        for col in table.indexes:
            cur.execute(f"CREATE INDEX {table.name}_{col} ON {table.name} ({col})")
        if table.geometry_type:
            cur.execute(f"CREATE INDEX {table.name}_geom ON {table.name} USING GIST ({GEOM})")
        text = table.description.replace("'", "''")  # COMMENT takes no parameters
        cur.execute(f"COMMENT ON TABLE {table.name} IS '{text}'")

    def sql(self, text: str) -> str:
        """Return SQL written with ``?`` placeholders in psycopg's form."""
        return text.replace("?", "%s")

    def geom_value(self) -> str:
        """Return the placeholder of a geometry value."""
        return "ST_GeomFromWKB(?, 4326)"

    def geom_column(self, column: str) -> str:
        """Return the expression that reads a geometry column."""
        return f"ST_AsBinary({column})"

    def encode(self, geoms: Sequence[Any]) -> list[Any]:
        """Encode geometries as WKB."""
        return shapely.to_wkb(np.asarray(geoms, dtype=object)).tolist()

    def decode(self, values: Sequence[Any]) -> np.ndarray:
        """Decode WKB into a shapely array."""
        wkb = np.array([None if v is None else bytes(v) for v in values], dtype=object)
        return shapely.from_wkb(wkb)

    def lock_for_add(self, cur: Any) -> None:
        """Hold geoexpose's advisory lock until the transaction ends: one add at a time."""
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
