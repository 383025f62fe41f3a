"""The file store's back end: one GeoPackage written through the standard ``sqlite3`` module.

Why a GeoPackage rather than DuckDB: it needs nothing beyond Python itself (no new
dependency, and DuckDB's spatial extension is fetched from the network on first use,
which geoexpose never does); QGIS, GDAL and ArcGIS open it as it is; and SQLite gives
transactions and a file lock that other processes respect. A writer takes the lock at
the start of its transaction (``BEGIN IMMEDIATE``), so two scans adding at once run one
after the other; the rollback journal undoes a transaction that was interrupted, even
by a kill or a power cut, the next time the file is opened.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from geoexpose.errors import InputError
from geoexpose.store._gpkg import (
    APPLICATION_ID,
    from_gpkg_blobs,
    init_gpkg,
    register_table,
    to_gpkg_blobs,
)
from geoexpose.store._tables import GEOM, Table

__all__ = ["GeoPackageBackend"]

_TYPES = {"text": "TEXT", "int": "INTEGER", "real": "REAL", "time": "TEXT", "json": "TEXT"}
#: How long a writer waits for another to finish before giving up.
BUSY_TIMEOUT_S = 600.0


class GeoPackageBackend:
    """A store in one GeoPackage file.

    Parameters
    ----------
    path
        The file; made when first written.
    """

    dialect = "sqlite"

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.label = str(self.path)
        self._con: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection:
        """Return the open connection (opened, and the file checked, when first asked for)."""
        if self._con is None:
            if self.path.exists() and not self.path.is_file():
                raise InputError(f"{self.path}: cannot open the store: not a file")
            if self.path.exists() and self.path.stat().st_size:
                with self.path.open("rb") as f:
                    head = f.read(16)
                if head != b"SQLite format 3\x00":
                    raise InputError(f"{self.path}: not a GeoPackage (not an SQLite file)")
            try:
                con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            except sqlite3.DatabaseError as exc:  # a folder, no permission
                raise InputError(f"{self.path}: cannot open the store: {exc}") from exc
            con.execute("PRAGMA foreign_keys = OFF")
            self._con = con
        return self._con

    def close(self) -> None:
        """Close the connection."""
        if self._con is not None:
            self._con.close()
            self._con = None

    @contextlib.contextmanager
    def transaction(self, *, write: bool) -> Iterator[sqlite3.Cursor]:
        """Run a transaction: all of it or nothing. A writer holds the file's write lock."""
        con = self.connection()
        cur = con.cursor()
        try:
            cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield cur
            except BaseException:
                con.rollback()
                raise
            con.commit()
        except sqlite3.DatabaseError as exc:  # locked past the timeout, corrupt, read-only
            raise InputError(f"{self.path}: {exc}") from exc
        finally:
            cur.close()

    def prepare(self, cur: sqlite3.Cursor) -> None:
        """Make the file a GeoPackage if it is not one yet."""
        app = cur.execute("PRAGMA application_id").fetchone()[0]
        tables = cur.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != APPLICATION_ID and tables:
            raise InputError(f"{self.path}: an SQLite file but not a GeoPackage store")
        init_gpkg(cur.connection)

    def has_table(self, cur: sqlite3.Cursor, name: str) -> bool:
        """Whether the file holds this table."""
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    def create(self, cur: sqlite3.Cursor, table: Table) -> None:
        """Create a table with its indexes, and list it in the GeoPackage's contents."""
        cols = ["fid INTEGER PRIMARY KEY AUTOINCREMENT"]
        cols += [f"{c} {_TYPES.get(k, 'BLOB')}" for c, k in table.columns if k != "geom"]
        if table.geometry_type:
            cols.append(f"{GEOM} {table.geometry_type}")
        cur.execute(f"CREATE TABLE {table.name} ({', '.join(cols)})")
        for col in table.indexes:
            cur.execute(f"CREATE INDEX {table.name}_{col} ON {table.name} ({col})")
        geometry = (GEOM, table.geometry_type) if table.geometry_type else None
        register_table(cur.connection, table.name, description=table.description, geometry=geometry)

    def sql(self, text: str) -> str:
        """Return SQL with ``?`` placeholders, as this back end takes it."""
        return text

    def geom_value(self) -> str:
        """Return the placeholder of a geometry value."""
        return "?"

    def geom_column(self, column: str) -> str:
        """Return the expression that reads a geometry column."""
        return column

    def encode(self, geoms: Sequence[Any]) -> list[Any]:
        """Geometries as this back end stores them (GeoPackage binary)."""
        return to_gpkg_blobs(geoms, srs_id=4326)

    def decode(self, values: Sequence[Any]) -> np.ndarray:
        """Decode stored geometries into a shapely array."""
        return from_gpkg_blobs(values)

    def lock_for_add(self, cur: sqlite3.Cursor) -> None:
        """Nothing more: ``BEGIN IMMEDIATE`` already holds the write lock."""
