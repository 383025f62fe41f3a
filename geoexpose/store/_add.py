"""What a scan adds to the store: its files by SHA-256, and the rows of the files not yet there.

A file is known by its content: one whose SHA-256 the store holds (under any name)
adds nothing. A file at a path the store holds with other content replaces that
earlier version: the flights and captures read from it are deleted with their pairs
and findings, and the new ones added. A flight whose id the store already holds from
another file replaces it too, so that a flight counts once (as in one scan of both).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.audit import AuditResult
from geoexpose.exposure import ExposureResult
from geoexpose.schema import (
    CAPTURE_ID,
    EXPOSURE_COLUMNS,
    FLIGHT_ID,
    GEOMETRY,
    PATH,
    SITE_ID,
    SOURCE,
)

__all__ = [
    "KNOWN",
    "NEW",
    "REPLACED",
    "Incoming",
    "classify",
    "file_table",
    "incoming",
    "new_captures",
    "new_flights",
    "site_inputs",
    "site_set_key",
    "unique_capture_ids",
]

#: What a file's status is in the store after an add.
NEW, KNOWN, REPLACED = "added", "known", "replaced"
_READ = ("read", "route")


@dataclass(frozen=True)
class Incoming:
    """A result to add, taken apart: the exposure, its file entries, its findings."""

    exposure: ExposureResult
    files: list[dict[str, Any]]
    findings: gpd.GeoDataFrame | None = None
    kind: str = "scan"
    params: dict[str, Any] = field(default_factory=dict)


def incoming(result: Any, files: Iterable[Mapping[str, Any]] | None = None) -> Incoming:
    """Take apart a :class:`ScanResult`, :class:`AuditResult` or :class:`ExposureResult`.

    A scan's result is known by what it holds (``.result``, ``.files``): the scan
    module stands on this wing's floor, so it is not imported here.
    """
    findings = None
    kind = "scan"
    if isinstance(getattr(result, "result", None), ExposureResult):  # a ScanResult
        exposure, entries = result.result, list(getattr(result, "files", []))
    elif isinstance(result, AuditResult):
        exposure, findings, kind = result.exposure, result.findings, "audit"
        entries = []
    elif isinstance(result, ExposureResult):
        exposure, entries = result, []
    else:
        raise TypeError(f"expected a ScanResult, AuditResult or ExposureResult, not {result!r}")
    if files is not None:
        entries = [dict(f) for f in files]
    if not entries:
        inputs = exposure.inputs
        entries = list(inputs.get("tracks", [])) + list(inputs.get("captures", []))
    params = {k: v for k, v in exposure.params.items() if isinstance(v, str | int | float)}
    return Incoming(exposure, entries, findings, kind, params)


def _sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def file_table(entries: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per file read (``path`` as given, ``abs_path``, ``sha256``, ...).

    The SHA-256 is read here, before any lock is taken.
    """
    rows: dict[str, dict[str, Any]] = {}
    for e in entries:
        path = e.get("path")
        if not path or e.get("status") not in _READ or not os.path.isfile(path):
            continue
        key = str(path)
        if key in rows:
            rows[key]["entry"].append(e)
            continue
        rows[key] = {
            "given": key,
            PATH: str(Path(key).resolve()),
            "size_bytes": os.path.getsize(key),
            "format": e.get("format"),
            "status": e.get("status"),
            "rows_kept": e.get("rows_kept"),
            "entry": [e],
        }
    out = pd.DataFrame(
        list(rows.values()),
        columns=["given", PATH, "size_bytes", "format", "status", "rows_kept", "entry"],
    )
    out["sha256"] = [_sha256(p) for p in out["given"]]  # one read of each file
    return out


def classify(
    files: pd.DataFrame, current: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Say of each file whether it is new, known or replaces an earlier version.

    ``current``: the store's current files (``path``, ``sha256``). Returns the files
    with a ``state`` column, the state of each path as given, and the SHA-256 of the
    earlier versions replaced.
    """
    known = set(current["sha256"])
    by_path = dict(zip(current[PATH], current["sha256"], strict=True))
    state = np.where(files["sha256"].isin(known), KNOWN, NEW).astype(object)
    seen = files["sha256"].duplicated().to_numpy()  # the same content twice in one scan
    state[seen & (state == NEW)] = KNOWN
    old = files[PATH].map(by_path)
    swap = (state == NEW) & old.notna().to_numpy() & (old != files["sha256"]).to_numpy()
    state[swap] = REPLACED
    files = files.assign(state=state)
    return files, dict(zip(files["given"], state, strict=True)), old[swap].tolist()


def new_flights(
    flights: gpd.GeoDataFrame, states: Mapping[str, str], stored_ids: set[str]
) -> np.ndarray:
    """Which flights to add: those of new files, or of no file read and not yet stored."""
    source = flights[SOURCE].astype(object) if SOURCE in flights else pd.Series(index=flights.index)
    state = source.map(states).to_numpy(dtype=object)
    unread = pd.isna(state)
    ids = flights[FLIGHT_ID].astype(str)
    return np.asarray((state == NEW) | (state == REPLACED) | (unread & ~ids.isin(stored_ids)))


def new_captures(
    captures: gpd.GeoDataFrame, states: Mapping[str, str], stored_ids: set[str]
) -> np.ndarray:
    """Which captures to add: those of new files, or of no file read and not yet stored."""
    state = captures[PATH].astype(object).map(states).to_numpy(dtype=object)
    unread = pd.isna(state)
    ids = captures[CAPTURE_ID].astype(str)
    return np.asarray((state == NEW) | (state == REPLACED) | (unread & ~ids.isin(stored_ids)))


def unique_capture_ids(
    captures: gpd.GeoDataFrame, capture_sites: pd.DataFrame, taken: set[str], scan_id: int
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Give captures whose id the store holds already (another file) ``<id>@<scan_id>``."""
    ids = captures[CAPTURE_ID].astype(str)
    clash = ids.isin(taken)
    if not clash.any():
        return captures, capture_sites
    renamed = dict(zip(ids[clash], ids[clash] + f"@{scan_id}", strict=True))
    captures = captures.assign(**{CAPTURE_ID: ids.replace(renamed)})
    rows = capture_sites[CAPTURE_ID].astype(str)
    return captures, capture_sites.assign(**{CAPTURE_ID: rows.replace(renamed)})


def site_inputs(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the sites as they were read: their columns without the exposure metrics."""
    return sites.drop(columns=[c for c in EXPOSURE_COLUMNS if c in sites])


def site_set_key(sites: gpd.GeoDataFrame) -> str:
    """Return a digest of the sites' ids, attributes and geometries: equal sites, equal key."""
    h = hashlib.sha256()
    plain = pd.DataFrame(sites.drop(columns=GEOMETRY)).astype(str)
    h.update(",".join(plain.columns).encode())
    h.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
    h.update(b"".join(w or b"" for w in sites.geometry.to_wkb().tolist()))
    h.update(str(len(sites)).encode() + str(sites[SITE_ID].tolist()[:1]).encode())
    return h.hexdigest()[:32]
