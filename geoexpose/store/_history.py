"""A window of the store's history as one exposure, its pairs merged as batches are.

The flights of the window are those that started in it; their flight x site pairs
are read from the store and merged with :func:`geoexpose.scale.combine_pairs`, the
merge of the streamed engine's batches (a flight is in one batch, as it is in one
scan of the store). The imaged part of each site and the capture x site rows are
measured again from the window's stored captures (flights already matched), as the
streamed engine measures each batch of captures, so that a window that cuts a scan
in two still gets the union of exactly its own captures. The per-site metrics and
the score then follow from the merged pairs exactly as in :func:`geoexpose.expose`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose.errors import InputError, UsageError
from geoexpose.exposure import StreamResult, expose, prepare_sites, site_table
from geoexpose.scale import combine_pairs
from geoexpose.schema import (
    CRS_LONLAT,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    GEOMETRY,
    N_FIXES,
    PAIR_COLUMNS,
    SITE_ID,
)
from geoexpose.store._tables import AIRCRAFT_ID, GEOM, SHA256

__all__ = ["Window", "assemble", "timeline"]

_STORE_ONLY = ["scan_id", SHA256, "site_set", "position", "fid"]


def _utc(value: Any, what: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise UsageError(f"{what}={value!r}: expected an ISO 8601 date or time") from None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


@dataclass(frozen=True)
class Window:
    """What a history query asks for: a time window, sites and aircraft."""

    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None
    sites: tuple[str, ...] | None = None
    aircraft: tuple[str, ...] | None = None

    @classmethod
    def of(cls, since: Any, until: Any, sites: Any, aircraft: Any) -> Window:
        """Check and normalise the arguments of :meth:`Store.history`."""
        w = cls(
            _utc(since, "since"),
            _utc(until, "until"),
            tuple(map(str, _listed(sites))) if sites is not None else None,
            tuple(map(str, _listed(aircraft))) if aircraft is not None else None,
        )
        if w.since is not None and w.until is not None and w.until <= w.since:
            raise UsageError(f"until={until!r} is not after since={since!r}")
        return w

    def _bounds(self, column: str, fmt: Callable[[Any], Any]) -> tuple[list[str], list[Any]]:
        conds, params = [], []
        if self.since is not None:
            conds.append(f"{column} >= ?")
            params.append(fmt([self.since])[0])
        if self.until is not None:
            conds.append(f"{column} < ?")
            params.append(fmt([self.until])[0])
        if self.aircraft is not None:
            conds.append(f"{AIRCRAFT_ID} IN ({', '.join('?' * len(self.aircraft))})")
            params.extend(self.aircraft)
        return conds, params

    def flight_condition(self, fmt: Callable[[Any], Any]) -> tuple[str, list[Any]]:
        """Return the SQL condition on ``gx_flights`` (``?`` placeholders) and its values."""
        conds, params = self._bounds(FIRST_SEEN_UTC, fmt)
        return " AND ".join(conds) or "1 = 1", params

    def capture_condition(self, fmt: Callable[[Any], Any]) -> tuple[str, list[Any]]:
        """Return the SQL condition on ``gx_captures`` of no flight, and its values."""
        conds, params = self._bounds("time_utc", fmt)
        return " AND ".join(["flight_id IS NULL", *conds]), params


def _listed(values: Any) -> list[Any]:
    return [values] if isinstance(values, str) else list(values)


def _frame(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """Return a stored table as a GeoDataFrame in the result's form (store columns dropped)."""
    table = table.drop(columns=[c for c in _STORE_ONLY if c in table])
    if AIRCRAFT_ID in table and table[AIRCRAFT_ID].isna().all():
        table = table.drop(columns=AIRCRAFT_ID)
    geom = gpd.GeoSeries(table.pop(GEOM), index=table.index, crs=CRS_LONLAT)
    return gpd.GeoDataFrame(table, geometry=geom.rename(GEOMETRY), crs=CRS_LONLAT)


def assemble(frames: dict[str, Any], window: Window) -> StreamResult:
    """Build the exposure of a window from what :meth:`Store._window` read."""
    start = time.perf_counter()
    sites = _frame(frames["sites"])
    if not len(sites):
        raise InputError(f"{frames['store']}: the store holds no scan yet")
    if window.sites is not None:
        unknown = sorted(set(window.sites) - set(sites[SITE_ID]))
        if unknown:
            raise InputError(f"{frames['store']}: no site {unknown[0]!r} in the latest scan")
        sites = sites[sites[SITE_ID].isin(window.sites)].reset_index(drop=True)
    prepared = prepare_sites(sites)
    flights = _frame(frames["flights"]).sort_values(FLIGHT_ID, ignore_index=True)
    pairs = frames["pairs"][PAIR_COLUMNS]
    known = pd.Index(prepared.site_id, dtype=object)  # hashed: 300,000 ids in 0.1 s
    pairs = pairs[known.get_indexer(pairs[SITE_ID].astype(object)) >= 0]
    captures = _frame(frames["captures"])
    captures[FLIGHT_ID] = captures[FLIGHT_ID].astype(object).where(captures[FLIGHT_ID].notna())
    measured = expose(prepared, None, captures=captures)
    flightless = measured.pairs[measured.pairs[FLIGHT_ID].isna()]
    merged = combine_pairs([pairs, flightless], prepared, by_site_id=True)
    out = site_table(prepared, merged, measured.footprints)
    scans = frames["scans"]
    entries = [e for text in frames["files"]["entry"] for e in json.loads(text or "[]")]
    layers = json.loads(scans["params"].iloc[-1] or "{}").get("site_layers", [])
    window_text = {
        "since": None if window.since is None else window.since.isoformat(),
        "until": None if window.until is None else window.until.isoformat(),
        "sites": list(window.sites) if window.sites is not None else None,
        "aircraft": list(window.aircraft) if window.aircraft is not None else None,
    }
    return StreamResult(
        sites=out,
        pairs=merged,
        footprints=measured.footprints,
        fixes=None,
        params={"store": frames["store"], "window": window_text},
        inputs={"tracks": entries, "sites": layers},
        captures=measured.captures,
        capture_sites=measured.capture_sites,
        flight_table=flights,
        stats={
            "engine": "history",
            "scans": len(scans),
            "fixes": int(flights[N_FIXES].sum()) if len(flights) else 0,
            "seconds": round(time.perf_counter() - start, 3),
        },
    )


def timeline(result: StreamResult, sites: Iterable[str] | None = None) -> pd.DataFrame:
    """Each flight x site pair of the result (of ``sites``), in time order, with its aircraft."""
    pairs = result.pairs
    if sites is not None:
        pairs = pairs[pairs[SITE_ID].isin(list(sites))]
    flights = pd.DataFrame(result.flights.drop(columns=GEOMETRY))
    cols = [FLIGHT_ID] + ([AIRCRAFT_ID] if AIRCRAFT_ID in flights else [])
    out = pairs.merge(flights[cols], on=FLIGHT_ID, how="left")
    return out.sort_values([SITE_ID, FIRST_SEEN_UTC], ignore_index=True, kind="stable")
