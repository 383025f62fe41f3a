"""The GeoPackage side of the file store: its core tables and its geometry blobs.

A GeoPackage (OGC 12-128r18) is an SQLite file with three core tables
(``gpkg_spatial_ref_sys``, ``gpkg_contents``, ``gpkg_geometry_columns``) and
geometries stored as "GeoPackage binary": an 8-byte header (``GP``, version 0, a
flags byte, the SRS id) then standard WKB. QGIS and GDAL open such a file as it is.

>>> import shapely
>>> blobs = to_gpkg_blobs([shapely.Point(1, 2), None], srs_id=4326)
>>> blobs[0][:2], blobs[1]
(b'GP', None)
>>> [g.wkt if g is not None else None for g in from_gpkg_blobs(blobs)]
['POINT (1 2)', None]
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import shapely
from pyproj import CRS

__all__ = [
    "APPLICATION_ID",
    "from_gpkg_blobs",
    "init_gpkg",
    "register_table",
    "to_gpkg_blobs",
]

#: ``PRAGMA application_id`` of a GeoPackage ("GPKG").
APPLICATION_ID = 0x47504B47
_USER_VERSION = 10400  # GeoPackage 1.4
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def to_gpkg_blobs(geoms: Sequence[Any] | np.ndarray, *, srs_id: int) -> list[bytes | None]:
    """Encode geometries as GeoPackage binary (no envelope; little-endian header)."""
    arr = np.asarray(geoms, dtype=object)
    wkb = shapely.to_wkb(arr, byte_order=1, include_srid=False)
    empty = shapely.is_empty(arr)
    full = b"GP\x00\x01" + struct.pack("<i", srs_id)
    hollow = b"GP\x00\x11" + struct.pack("<i", srs_id)
    return [
        None if w is None else (hollow if e else full) + w
        for w, e in zip(wkb.tolist(), empty.tolist(), strict=True)
    ]


def from_gpkg_blobs(blobs: Sequence[bytes | None]) -> np.ndarray:
    """Decode GeoPackage binary geometries (any envelope) into a shapely array."""
    wkb = np.array(
        [None if b is None else bytes(b)[8 + _ENVELOPE_BYTES[(b[3] >> 1) & 7] :] for b in blobs],
        dtype=object,
    )
    return shapely.from_wkb(wkb)


def init_gpkg(con: sqlite3.Connection) -> None:
    """Make an empty SQLite database a GeoPackage: its pragmas and core tables."""
    con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    con.execute(f"PRAGMA user_version = {_USER_VERSION}")
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, "
        "srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL, "
        "organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, "
        "data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', "
        "last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), "
        "min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, "
        "CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (table_name TEXT NOT NULL, "
        "column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, "
        "z TINYINT NOT NULL, m TINYINT NOT NULL, "
        "CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), "
        "CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), "
        "CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))"
    )
    rows = [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
        ("WGS 84 geodetic", 4326, "EPSG", 4326, CRS.from_epsg(4326).to_wkt(), "EPSG:4326"),
    ]
    con.executemany("INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", rows)


def register_table(
    con: sqlite3.Connection,
    table: str,
    *,
    description: str,
    geometry: tuple[str, str] | None = None,
    srs_id: int = 4326,
) -> None:
    """List a table in ``gpkg_contents`` (and its geometry column) so GIS tools see it.

    ``geometry``: ``(column, type name)`` for a feature table, None for attributes.
    """
    kind = "features" if geometry else "attributes"
    con.execute(
        "INSERT OR REPLACE INTO gpkg_contents (table_name, data_type, identifier, "
        "description, srs_id) VALUES (?, ?, ?, ?, ?)",
        (table, kind, table, description, srs_id if geometry else None),
    )
    if geometry:
        con.execute(
            "INSERT OR REPLACE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
            (table, geometry[0], geometry[1], srs_id),
        )
