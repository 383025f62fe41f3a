"""Count a flight that several files hold once: find the copies, keep the richer one.

The same flight often reaches a scan twice: an AirData CSV and the GPX exported
beside it, a DJI flight record and its CSV export, two receivers' Remote ID
captures of one drone. Counted twice, its dwell near every site doubles.

Two flights are copies when they come from different files, overlap in time by
at least ``min_overlap`` of the shorter one, do not name different aircraft
(``drone_id``), and lie a median of at most ``max_distance_m`` apart at common
times (the search: :mod:`geoexpose.tracks._same_flight`). Of two copies the
richer is kept, compared in this order: heights above takeoff or ground
(``alt_agl_m``), gimbal angles, photo triggers (``is_photo``), an aircraft id,
more fixes; then the first by file path, so that the result does not depend on
the order of the files. The poorer copy loses its fixes within the richer one's
time span (widened by ``tolerance_s``); fixes outside it are kept, so a partial
but richer copy never shortens the flight.

Limits: drones flying closer than ``max_distance_m`` to each other for most of
the overlap (a light show) without aircraft ids are taken for one flight; a
track across the antimeridian is compared as if it did not cross it.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose._frames import without_attrs
from geoexpose.schema import FLIGHT_ID, SOURCE
from geoexpose.tracks._reading import warn
from geoexpose.tracks._same_flight import Flights, search_copies

__all__ = [
    "DUPLICATE",
    "DUPLICATES",
    "DUPLICATE_COLUMNS",
    "MAX_DISTANCE_M",
    "MIN_OVERLAP",
    "TOLERANCE_S",
    "drop_duplicate_flights",
    "find_duplicate_flights",
]

logger = logging.getLogger(__name__)

#: Key of the duplicates found, in ``attrs["geoexpose"]`` and in each file entry.
DUPLICATES = "duplicates"
#: Drop reason (in a file entry's ``dropped``) of the fixes of a duplicate copy.
DUPLICATE = "duplicate"
#: Default largest median distance (m) between two copies of one flight.
MAX_DISTANCE_M = 10.0
#: Default smallest overlap in time, as a share of the shorter flight.
MIN_OVERLAP = 0.5
#: Default seconds by which the kept copy's span is widened when the other's fixes are dropped.
TOLERANCE_S = 5.0

#: Columns of :func:`find_duplicate_flights`.
DUPLICATE_COLUMNS = [FLIGHT_ID, SOURCE, "kept_flight_id", "kept_source", "overlap_s", "median_m"]
DUPLICATE_COLUMNS += ["compared", "kept_has", "kept_first_utc", "kept_last_utc"]


def find_duplicate_flights(
    fixes: pd.DataFrame,
    *,
    max_distance_m: float = MAX_DISTANCE_M,
    min_overlap: float = MIN_OVERLAP,
) -> pd.DataFrame:
    """Find the flights that are a poorer copy of a flight from another file.

    Parameters
    ----------
    fixes
        Fixes as :func:`geoexpose.read_tracks` returns them (a GeoDataFrame of
        Points, or a DataFrame with ``lon``/``lat`` columns), with ``flight_id``,
        ``time_utc`` and ``source``; any order.
    max_distance_m
        Largest median horizontal distance (metres) between two copies.
    min_overlap
        Smallest overlap in time, as a share (0-1] of the shorter flight.

    Returns
    -------
    pandas.DataFrame
        One row per pair of copies, :data:`DUPLICATE_COLUMNS`: the poorer copy
        (``flight_id``, ``source``), the richer (``kept_flight_id``,
        ``kept_source``), ``overlap_s`` (seconds both were flying),
        ``median_m`` (median distance between them), ``compared`` (fixes
        compared), ``kept_has`` (what the richer copy has that the other lacks,
        in words; empty when only the path decided) and the richer copy's
        ``kept_first_utc`` and ``kept_last_utc``. A flight may be the poorer
        copy of more than one flight.

    Notes
    -----
    Distances are geodesic on WGS 84. See the module notes for the rules.
    """
    found, _ = search_copies(fixes, max_distance_m, min_overlap)
    if found is None:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in DUPLICATE_COLUMNS})
    return found[DUPLICATE_COLUMNS]


def _inside(found: pd.DataFrame, fl: Flights, tolerance_s: float) -> np.ndarray:
    """Mark (in fix order) the poorer copies' fixes within their richer copy's time span.

    Adds to ``found`` the fixes each pair drops (``_dropped``), and of the poorer
    flight all its fixes (``_n``) and all it loses (``_gone``).
    """
    pad = round(tolerance_s * 1e9)
    w0 = fl.t_ns[fl.starts[found["_kept"]]] - pad
    w1 = fl.t_ns[fl.ends[found["_kept"]] - 1] + pad
    lost = found["_lost"].to_numpy()
    mask = np.zeros(len(fl.t_ns), dtype=bool)
    dropped = np.zeros(len(found), dtype=np.int64)
    for k, (f, lo, hi) in enumerate(zip(lost.tolist(), w0.tolist(), w1.tolist(), strict=True)):
        begin, end = int(fl.starts[f]), int(fl.ends[f])  # one step per copy found
        i0 = begin + int(np.searchsorted(fl.t_ns[begin:end], lo, side="left"))
        i1 = begin + int(np.searchsorted(fl.t_ns[begin:end], hi, side="right"))
        mask[i0:i1] = True
        dropped[k] = i1 - i0
    found["_dropped"] = dropped
    found["_n"] = (fl.ends - fl.starts)[lost]
    found["_gone"] = np.add.reduceat(mask, fl.starts, dtype=np.int64)[lost]
    return mask


def _reason(pairs: list[dict[str, Any]]) -> str:
    """Say of which file a file's flights are copies, how alike, and why the other was kept."""
    first = pairs[0]
    kept = ", ".join(dict.fromkeys(p["duplicate_of_source"] for p in pairs))
    why = f"it has {first['kept_has']}" if first["kept_has"] else "as rich; first by path"
    return (
        f"duplicate of {kept} (same flight: {first['overlap_s']:.0f} s overlap, median "
        f"{first['median_m']:.1f} m apart); kept {first['duplicate_of_source']}: {why}"
    )


def _records(found: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the copies found as plain records, for the file entries and ``attrs``."""
    out = pd.DataFrame(
        {
            FLIGHT_ID: found[FLIGHT_ID].astype(str),
            SOURCE: found[SOURCE].astype(str),
            "duplicate_of": found["kept_flight_id"].astype(str),
            "duplicate_of_source": found["kept_source"].astype(str),
            "overlap_s": found["overlap_s"].astype(float).round(1),
            "median_m": found["median_m"].astype(float).round(2),
            "fixes_dropped": found["_dropped"].astype(int),
            "kept_has": found["kept_has"].astype(str),
        }
    )
    return out.to_dict("records")


def _account(
    found: pd.DataFrame, files: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Record the copies in the file entries (in place); return the records and warnings."""
    by_path = {entry["path"]: entry for entry in files}
    records = _records(found)
    n_fixes = dict(zip(found[FLIGHT_ID].astype(str), found["_n"].tolist(), strict=True))
    gone = dict(zip(found[FLIGHT_ID].astype(str), found["_gone"].tolist(), strict=True))
    per_file: dict[str, list[dict[str, Any]]] = {}
    for record in records:  # one step per copy found
        per_file.setdefault(record[SOURCE], []).append(record)
    messages = {}
    for path, pairs in per_file.items():
        flights = list(dict.fromkeys(p[FLIGHT_ID] for p in pairs))
        n_gone = sum(gone[f] for f in flights)
        reason = _reason(pairs)
        partly = n_gone < sum(n_fixes[f] for f in flights)
        messages[path] = f"{n_gone} fixes dropped as a {reason}" if partly else reason
        entry = by_path.get(path)
        if entry is not None:
            entry["dropped"][DUPLICATE] = entry["dropped"].get(DUPLICATE, 0) + n_gone
            entry["rows_kept"] = entry["rows_kept"] - n_gone
            entry["flights"] = [f for f in entry["flights"] if gone.get(f) != n_fixes.get(f)]
            entry[DUPLICATES] = pairs
            if entry["rows_kept"] == 0:
                entry.update(status="skipped", reason=reason)
            else:
                entry["notes"] = [*entry["notes"], messages[path]]
        for other in dict.fromkeys(p["duplicate_of_source"] for p in pairs):
            if other in by_path:
                note = f"also in {path} (duplicate skipped)"
                by_path[other]["notes"] = [*by_path[other]["notes"], note]
    return records, messages


def drop_duplicate_flights(
    fixes: pd.DataFrame,
    *,
    max_distance_m: float = MAX_DISTANCE_M,
    min_overlap: float = MIN_OVERLAP,
    tolerance_s: float = TOLERANCE_S,
) -> pd.DataFrame:
    """Count a flight that several files hold once: drop the poorer copies' fixes.

    Parameters
    ----------
    fixes
        Fixes as :func:`geoexpose.read_tracks` returns them (not modified).
    max_distance_m, min_overlap
        As for :func:`find_duplicate_flights`.
    tolerance_s
        The richer copy's time span is widened by this many seconds on each side
        before the poorer copy's fixes within it are dropped.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The fixes without those of poorer copies, same columns and order.
        ``attrs["geoexpose"]["duplicates"]`` (there where copies were found)
        lists each copy: ``flight_id``
        and ``source`` of the poorer copy, ``duplicate_of`` and
        ``duplicate_of_source`` (the copy kept), ``overlap_s``, ``median_m``,
        ``fixes_dropped`` and ``kept_has``. In ``attrs["geoexpose"]["files"]``
        the poorer copy's file entry counts its dropped fixes as ``duplicate``
        (``rows_kept`` less them), lists its copies under ``duplicates``, and is
        ``"skipped"`` with the reason when no fix of it is left (else a note
        says so); the kept file's entry has a note naming the other file. Each
        file with copies is warned about (:class:`InputWarning`).

    Examples
    --------
    A flight given with heights (``a.csv``) and again without (``b.gpx``):

    >>> import warnings
    >>> t = pd.date_range("2026-01-01", periods=30, freq="s", tz="UTC")
    >>> one = pd.DataFrame({"flight_id": "a.csv#1", "time_utc": t, "alt_agl_m": 30.0,
    ...                     "source": "a.csv", "lon": 10 + np.arange(30) * 1e-4, "lat": 55.0})
    >>> two = one.assign(flight_id="b.gpx#1", source="b.gpx", alt_agl_m=np.nan)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = drop_duplicate_flights(pd.concat([one, two]))
    >>> out["flight_id"].unique().tolist(), out.attrs["geoexpose"]["duplicates"][0]["kept_has"]
    (['a.csv#1'], 'heights above takeoff or ground')
    >>> len(caught)
    1
    """
    found, fl = search_copies(fixes, max_distance_m, min_overlap)
    frame = without_attrs(fixes)
    if found is None or fl is None:
        out = frame.copy(deep=False)
        out.attrs = fixes.attrs  # nothing changed: the entries are shared, not copied
        return out
    meta = copy.deepcopy(fixes.attrs.get("geoexpose", {}))
    mask = _inside(found, fl, tolerance_s)
    meta[DUPLICATES], messages = _account(found, meta.get("files", []))
    for path, message in messages.items():
        warn(Path(path), message)
    keep = np.ones(len(frame), dtype=bool)
    keep[fl.rows(np.flatnonzero(mask))] = False
    out = frame[keep]
    logger.info("%d fixes of %d copies of flights dropped", int(mask.sum()), len(found))
    out.attrs = {"geoexpose": meta}
    return out
