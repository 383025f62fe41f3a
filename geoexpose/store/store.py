"""The history store: every scan kept in one GeoPackage or PostGIS database, queried over time.

Examples
--------
>>> import tempfile, geoexpose as gx
>>> folder = tempfile.mkdtemp()
>>> demo = gx.make_demo_inputs(folder)
>>> done = gx.scan([*demo.tracks, *demo.photos], demo.sites)
>>> store = gx.Store(folder + "/history.gpkg")
>>> store.add(done).flights_added, store.add(done).flights_added  # the second adds nothing
(3, 0)
>>> len(store.history().exposed) == len(done.result.exposed)
True
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geoexpose._version import __version__
from geoexpose.errors import InputError
from geoexpose.exposure import StreamResult
from geoexpose.projection import M_PER_DEG
from geoexpose.schema import CAPTURE_ID, FLIGHT_ID, PATH, SOURCE
from geoexpose.store._add import (
    KNOWN,
    NEW,
    REPLACED,
    classify,
    file_table,
    incoming,
    new_captures,
    new_flights,
    site_inputs,
    site_set_key,
    unique_capture_ids,
)
from geoexpose.store._history import Window, assemble, timeline
from geoexpose.store._postgis import PostgisBackend
from geoexpose.store._sqlite import GeoPackageBackend
from geoexpose.store._tables import (
    GEOM,
    SCHEMA_VERSION,
    SHA256,
    TABLE,
    TABLES,
    Table,
    from_rows,
    iso_ns,
    to_rows,
)

__all__ = ["Added", "Store", "is_database_url"]

logger = logging.getLogger(__name__)
_CHUNK = 500  # ids per IN (...) list
#: Flight lines are kept simplified to within this many metres, as the streamed engine
#: keeps them (a 2,000,000-fix scan's lines shrink from 32 MB to a few).
SIMPLIFY_M = 1.0


def is_database_url(location: str | os.PathLike[str]) -> bool:
    """Whether a store's location names a PostgreSQL database rather than a file."""
    return str(location).startswith(("postgresql://", "postgres://"))


@dataclass(frozen=True)
class Added:
    """What one :meth:`Store.add` did: the scan's id and how many rows it added."""

    scan_id: int
    files_added: int
    files_known: int
    files_replaced: int
    flights_added: int
    pairs_added: int
    captures_added: int
    findings_added: int


class Store:
    """A history of scans in a GeoPackage file or a PostGIS database.

    Parameters
    ----------
    location
        A file (a GeoPackage, made when first written; the embedded default, no server
        needed), or ``postgresql://USER@HOST:PORT/DB`` (needs ``geoexpose[postgis]``;
        the password from ``PGPASSWORD`` or ``~/.pgpass``, never in the address).

    Notes
    -----
    The tables (``gx_scans``, ``gx_files``, ``gx_flights``, ``gx_pairs``,
    ``gx_captures``, ``gx_capture_sites``, ``gx_sites``, ``gx_findings``) are made and
    migrated by geoexpose (version in ``gx_meta``). Each :meth:`add` is one
    transaction: all of it or nothing, and two at once run one after the other.
    """

    def __init__(self, location: str | os.PathLike[str]) -> None:
        self.location = str(location)
        if is_database_url(location):
            self._db: Any = PostgisBackend(self.location)
        else:
            self._db = GeoPackageBackend(location)
        self._ready = False

    def __repr__(self) -> str:
        return f"Store({self._db.label!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection to the store."""
        self._db.close()

    # --- the tables -------------------------------------------------------------------
    def _version(self, cur: Any) -> int | None:
        if not self._db.has_table(cur, "gx_meta"):
            return None
        cur.execute("SELECT value FROM gx_meta WHERE key = 'schema_version'")
        row = cur.fetchone()
        return int(row[0]) if row else None

    def _ensure(self) -> None:
        """Create or migrate the tables, once per Store."""
        if self._ready:
            return
        with self._db.transaction(write=True) as cur:
            self._db.prepare(cur)
            version = self._version(cur)
            if version is not None and version > SCHEMA_VERSION:
                raise InputError(
                    f"{self._db.label}: store tables of version {version}, written by a newer "
                    f"geoexpose; this one ({__version__}) knows up to {SCHEMA_VERSION}"
                )
            for step in range((version or 0) + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[step](self._db, cur)
                cur.execute(
                    self._db.sql("UPDATE gx_meta SET value = ? WHERE key = 'schema_version'"),
                    (str(step),),
                )
                logger.info("%s: store tables migrated to version %d", self._db.label, step)
        self._ready = True

    def _insert(self, cur: Any, table: Table, frame: pd.DataFrame, **fixed: Any) -> int:
        if not len(frame):
            return 0
        names, cols = to_rows(table, frame, **fixed)
        marks = []
        for i, (_, kind) in enumerate(table.columns):
            if kind == "geom":
                cols[i] = self._db.encode(cols[i])
                marks.append(self._db.geom_value())
            else:
                marks.append("?")
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(marks)})"
        cur.executemany(self._db.sql(sql), list(zip(*cols, strict=True)))
        return len(frame)

    def _select(
        self, cur: Any, table: Table, where: str = "", params: Sequence[Any] = ()
    ) -> pd.DataFrame:
        exprs = [self._db.geom_column(c) if k == "geom" else c for c, k in table.columns]
        sql = f"SELECT {', '.join(exprs)} FROM {table.name} {where}"
        cur.execute(self._db.sql(sql), tuple(params))
        rows = cur.fetchall()
        frame = from_rows(table, table.names, rows)
        if GEOM in frame:
            frame[GEOM] = self._db.decode(frame[GEOM].tolist())
        return frame

    def _delete(self, cur: Any, table: str, column: str, values: Iterable[Any]) -> None:
        rows = [(v,) for v in values]
        if rows:
            sql = self._db.sql(f"DELETE FROM {table} WHERE {column} = ?")
            cur.executemany(sql, rows)

    def _stored(self, cur: Any, table: str, column: str, values: Sequence[str]) -> set[str]:
        """Which of ``values`` the column holds."""
        found: set[str] = set()
        values = list(dict.fromkeys(values))
        for i in range(0, len(values), _CHUNK):
            part = values[i : i + _CHUNK]
            marks = ", ".join("?" * len(part))
            cur.execute(
                self._db.sql(f"SELECT DISTINCT {column} FROM {table} WHERE {column} IN ({marks})"),
                tuple(part),
            )
            found.update(r[0] for r in cur.fetchall())
        return found

    # --- adding -----------------------------------------------------------------------
    def add(
        self,
        result: Any,
        *,
        files: Iterable[Mapping[str, Any]] | None = None,
        command: Sequence[str] | None = None,
    ) -> Added:
        """Add what a scan or an audit found; files already in the store add nothing.

        Parameters
        ----------
        result
            A :class:`geoexpose.ScanResult`, :class:`geoexpose.AuditResult` or
            :class:`geoexpose.ExposureResult`.
        files
            The entries of the files read (default: those the result records).
        command
            The command line, kept with the scan.

        Returns
        -------
        Added
            The new scan's id and what it added.
        """
        got = incoming(result, files)
        table = file_table(got.files)  # SHA-256 of every file, before the lock
        self._ensure()
        r = got.exposure
        sites = site_inputs(r.sites)
        with self._db.transaction(write=True) as cur:
            self._db.lock_for_add(cur)
            cur.execute("SELECT COALESCE(MAX(scan_id), 0) + 1 FROM gx_scans")
            scan_id = int(cur.fetchone()[0])
            current = self._select(cur, TABLE["gx_files"], "WHERE replaced_by IS NULL")
            table, states, old = classify(table, current)
            self._replace(cur, old, scan_id)
            flights = r.flights
            flight_ids = flights[FLIGHT_ID].astype(str).tolist() if len(flights) else []
            stored = self._stored(cur, "gx_flights", FLIGHT_ID, flight_ids)
            keep = new_flights(flights, states, stored) if len(flights) else np.zeros(0, bool)
            flights = flights[keep]
            added_ids = set(flights[FLIGHT_ID].astype(str))
            self._drop_flights(cur, stored & added_ids)
            sha = dict(zip(table["given"], table[SHA256], strict=True))
            flights = _simplified(flights).assign(
                **{SHA256: flights.get(SOURCE, pd.Series()).map(sha)}
            )
            pairs = r.pairs[r.pairs[FLIGHT_ID].astype(object).isin(added_ids)]
            caps = r.captures
            cap_stored = self._stored(
                cur, "gx_captures", CAPTURE_ID, caps[CAPTURE_ID].astype(str).tolist()
            )
            caps = caps[new_captures(caps, states, cap_stored)]
            rows = r.capture_sites[r.capture_sites[CAPTURE_ID].isin(caps[CAPTURE_ID])]
            caps, rows = unique_capture_ids(caps, rows, cap_stored, scan_id)
            caps = caps.assign(**{SHA256: caps[PATH].map(sha)})
            n_findings = 0
            if got.findings is not None and len(got.findings):
                f = got.findings
                fid = f[FLIGHT_ID].astype(object)
                mine = fid.isin(added_ids) | (fid.isna() & bool(len(caps)))
                n_findings = self._insert(cur, TABLE["gx_findings"], f[mine], scan_id=scan_id)
            key = site_set_key(sites)
            if not self._stored(cur, "gx_sites", "site_set", [key]):
                placed = sites.assign(position=np.arange(len(sites)))
                self._insert(cur, TABLE["gx_sites"], placed, site_set=key, scan_id=scan_id)
            table["entry"] = [json.dumps(e, default=str) for e in table["entry"]]
            new_files = table[table["state"] != KNOWN]
            self._insert(cur, TABLE["gx_files"], new_files, scan_id=scan_id)
            self._insert(cur, TABLE["gx_flights"], flights, scan_id=scan_id)
            self._insert(cur, TABLE["gx_pairs"], pairs, scan_id=scan_id)
            self._insert(cur, TABLE["gx_captures"], caps, scan_id=scan_id)
            self._insert(cur, TABLE["gx_capture_sites"], rows, scan_id=scan_id)
            added = Added(
                scan_id,
                int((table["state"] == NEW).sum()),
                int((table["state"] == KNOWN).sum()),
                int((table["state"] == REPLACED).sum()),
                len(flights),
                len(pairs),
                len(caps),
                n_findings,
            )
            params = {**got.params, "site_layers": r.inputs.get("sites", [])}
            scan = pd.DataFrame(
                [
                    {
                        "added_utc": pd.Timestamp.now(tz="UTC"),
                        "geoexpose_version": __version__,
                        "kind": got.kind,
                        "command": json.dumps(list(command or [])),
                        "params": json.dumps(params, default=str),
                        "site_set": key,
                        **{k: v for k, v in vars(added).items() if k != "scan_id"},
                    }
                ]
            )
            self._insert(cur, TABLE["gx_scans"], scan, scan_id=scan_id)
            _test_hook(cur)
        logger.info("%s: scan %d added %s", self._db.label, scan_id, added)
        return added

    def _replace(self, cur: Any, old: list[str], scan_id: int) -> None:
        """Delete what earlier versions of changed files brought; mark them replaced."""
        if not old:
            return
        for sha in old:
            cur.execute(self._db.sql("SELECT flight_id FROM gx_flights WHERE sha256 = ?"), (sha,))
            self._drop_flights(cur, {r[0] for r in cur.fetchall()})
            cur.execute(self._db.sql("SELECT capture_id FROM gx_captures WHERE sha256 = ?"), (sha,))
            self._delete(cur, "gx_capture_sites", CAPTURE_ID, [r[0] for r in cur.fetchall()])
            self._delete(cur, "gx_captures", SHA256, [sha])
        sql = "UPDATE gx_files SET replaced_by = ? WHERE sha256 = ? AND replaced_by IS NULL"
        cur.executemany(self._db.sql(sql), [(scan_id, sha) for sha in old])

    def _drop_flights(self, cur: Any, ids: set[str]) -> None:
        for table in ("gx_pairs", "gx_findings", "gx_flights"):
            self._delete(cur, table, FLIGHT_ID, sorted(ids))

    # --- reading ----------------------------------------------------------------------
    def files(self, *, replaced: bool = False) -> pd.DataFrame:
        """Return the files in the store: path, SHA-256, size, format, the scan that added it.

        ``replaced``: also the earlier versions of files that changed since.
        """
        self._ensure()
        where = "" if replaced else "WHERE replaced_by IS NULL"
        with self._db.transaction(write=False) as cur:
            return self._select(cur, TABLE["gx_files"], where + " ORDER BY path, scan_id")

    def scans(self) -> pd.DataFrame:
        """One row per scan added: when, by which geoexpose, and what it added."""
        self._ensure()
        with self._db.transaction(write=False) as cur:
            return self._select(cur, TABLE["gx_scans"], "ORDER BY scan_id")

    def history(
        self,
        *,
        since: Any = None,
        until: Any = None,
        sites: Iterable[str] | None = None,
        aircraft: Iterable[str] | None = None,
    ) -> StreamResult:
        """Compute the exposure over a window of time, from the store alone.

        Parameters
        ----------
        since, until
            The window: flights that started at or after ``since`` and before
            ``until`` (ISO 8601 text or timestamps; UTC where no zone is given), and
            captures of no flight taken in it. None: no bound.
        sites
            Only these site ids (default: every site).
        aircraft
            Only flights and captures of these aircraft ids.

        Returns
        -------
        StreamResult
            As a streamed scan of the window's flights and captures returns it; its
            per-site numbers come from the stored flight x site pairs merged as the
            streamed engine merges batches. The sites are those of the latest scan.
        """
        self._ensure()
        window = Window.of(since, until, sites, aircraft)
        with self._db.transaction(write=False) as cur:
            frames = self._window(cur, window)
        return assemble(frames, window)

    def timeline(self, sites: Iterable[str], **window: Any) -> pd.DataFrame:
        """One row per flight x site of these sites in the window, in time order."""
        return timeline(self.history(sites=sites, **window))

    def _window(self, cur: Any, w: Window) -> dict[str, Any]:
        """Read what a window needs: sites, flights, pairs, captures."""
        cur.execute("SELECT site_set FROM gx_scans ORDER BY scan_id DESC")
        row = cur.fetchone()
        sites = self._select(cur, TABLE["gx_sites"], "WHERE site_set = ? ORDER BY position",
                             (row[0] if row else "",))  # fmt: skip
        cond, params = w.flight_condition(iso_ns)
        flights = self._select(cur, TABLE["gx_flights"], f"WHERE {cond} ORDER BY flight_id", params)
        pairs = self._select(
            cur, TABLE["gx_pairs"],
            f"WHERE flight_id IN (SELECT flight_id FROM gx_flights WHERE {cond})", params,
        )  # fmt: skip
        ccond, cparams = w.capture_condition(iso_ns)
        caps = self._select(
            cur, TABLE["gx_captures"],
            f"WHERE flight_id IN (SELECT flight_id FROM gx_flights WHERE {cond}) OR ({ccond})"
            " ORDER BY time_utc, capture_id", [*params, *cparams],
        )  # fmt: skip
        scans = self._select(cur, TABLE["gx_scans"], "ORDER BY scan_id")
        files = self._select(cur, TABLE["gx_files"], "WHERE replaced_by IS NULL")
        return {"sites": sites, "flights": flights, "pairs": pairs, "captures": caps,
                "scans": scans, "files": files, "store": self._db.label}  # fmt: skip


def _simplified(flights: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Flight lines simplified to within :data:`SIMPLIFY_M` (lengths, times: every fix)."""
    if not len(flights):
        return flights
    tolerance = SIMPLIFY_M / M_PER_DEG  # degrees: at most that many metres
    lines = shapely.simplify(flights.geometry.to_numpy(), tolerance, preserve_topology=False)
    single = np.flatnonzero(shapely.get_type_id(lines) == 1)  # simplified to a LineString
    if len(single):
        lines[single] = shapely.multilinestrings(lines[single], indices=np.arange(len(single)))
    return flights.set_geometry(gpd.GeoSeries(lines, index=flights.index, crs=flights.crs))


def _test_hook(cur: Any) -> None:
    """Let a test kill or fail an add once its rows are written, before it commits."""
    if os.environ.get("GEOEXPOSE_STORE_TEST_PAUSE"):
        with open(os.environ["GEOEXPOSE_STORE_TEST_PAUSE"], "w") as f:
            f.write("written")
        time.sleep(60)


def _create_all(db: Any, cur: Any) -> None:
    cur.execute("CREATE TABLE gx_meta (key TEXT PRIMARY KEY, value TEXT)")
    cur.execute(db.sql("INSERT INTO gx_meta VALUES ('schema_version', '0')"))
    for table in TABLES:
        db.create(cur, table)


#: Step n brings the tables from version n - 1 to n.
_MIGRATIONS = {1: _create_all}
