"""Find the copies of a flight that fell in different batches, and recount their files.

Within a batch of track files, :func:`geoexpose.read_tracks` counts a flight that
several files hold once. For copies in files of different batches, each batch
gives a summary of every flight it read, before copies were dropped
(:func:`flight_spans`: file, time span, first aircraft id, bounding box). Two
flights of different batches may be copies when they overlap in time, do not name
different aircraft, and their boxes come within :data:`NEAR_M` of each other: a
superset of the pairs :func:`geoexpose.tracks.find_duplicate_flights` finds with
its defaults (which need a median distance of 10 m and half the shorter flight's
time). Their files, with every file a batch found to be a copy of one of them (and
so on), form components (:func:`files_to_reread`); each component is read again as
one batch, whose reading drops copies exactly as one reading of all files does
(copies are decided pair by pair, on the fixes as read), and its results replace
those of the first reading (:func:`replace_files`).

Copies are looked for within one :class:`~geoexpose.scale.TrackFiles` input (as
one :func:`geoexpose.read_tracks` call would), not between two of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoexpose.projection import M_PER_DEG
from geoexpose.schema import DRONE_ID, FLIGHT_ID, SOURCE, TIME_DTYPE, TIME_UTC
from geoexpose.tracks import fix_lonlat

__all__ = ["NEAR_M", "SPAN_COLUMNS", "files_to_reread", "flight_spans", "replace_files"]

#: Flights of different batches whose boxes come within this (metres) may be copies.
NEAR_M = 100.0
#: Columns of :func:`flight_spans`.
SPAN_COLUMNS = [FLIGHT_ID, SOURCE, "t0_ns", "t1_ns", DRONE_ID]
SPAN_COLUMNS += ["lon_min", "lon_max", "lat_min", "lat_max"]


def flight_spans(fixes: pd.DataFrame) -> pd.DataFrame:
    """Summarise each flight of some fixes: file, time span, aircraft id, bounding box.

    Parameters
    ----------
    fixes
        Fixes as :func:`geoexpose.read_tracks` gives them (by flight, then time).

    Returns
    -------
    pandas.DataFrame
        One row per flight, :data:`SPAN_COLUMNS`: ``flight_id``, ``source``,
        ``t0_ns`` and ``t1_ns`` (first and last time, ns since 1970 UTC),
        ``drone_id`` (the first known, upper case without spaces around; None when
        none is) and the box in degrees.

    Examples
    --------
    >>> t = pd.to_datetime(["2026-01-01 10:00:00", "2026-01-01 10:00:05"], utc=True)
    >>> fixes = pd.DataFrame({"flight_id": "a.csv#1", "source": "a.csv", "time_utc": t,
    ...                       "lon": [10.0, 10.001], "lat": [55.0, 55.002]})
    >>> span = flight_spans(fixes).iloc[0]
    >>> float(span["t1_ns"] - span["t0_ns"]) / 1e9, float(span["lon_max"]), span["drone_id"]
    (5.0, 10.001, None)
    """
    if not len(fixes):
        return pd.DataFrame({name: pd.Series(dtype=object) for name in SPAN_COLUMNS})
    codes, names = pd.factorize(fixes[FLIGHT_ID], sort=False)
    first = np.unique(codes, return_index=True)[1]
    xy = fix_lonlat(fixes)
    t = fixes[TIME_UTC].astype(TIME_DTYPE).array.asi8
    grouped = pd.DataFrame({"t": t, "lon": xy[:, 0], "lat": xy[:, 1]}).groupby(codes, sort=True)
    lo, hi = grouped.min(), grouped.max()
    drone = pd.Series(None, index=range(len(names)), dtype="string")
    if DRONE_ID in fixes:
        firsts = fixes[DRONE_ID].groupby(codes, sort=True).first()  # the first known
        drone[firsts.index] = firsts.astype("string").to_numpy()
    return pd.DataFrame(
        {
            FLIGHT_ID: np.asarray(names, dtype=object).astype(str),
            SOURCE: fixes[SOURCE].iloc[first].astype(str).to_numpy(dtype=object),
            "t0_ns": lo["t"].to_numpy(),
            "t1_ns": hi["t"].to_numpy(),
            DRONE_ID: drone.str.strip().str.upper().to_numpy(dtype=object, na_value=None),
            "lon_min": lo["lon"].to_numpy(),
            "lon_max": hi["lon"].to_numpy(),
            "lat_min": lo["lat"].to_numpy(),
            "lat_max": hi["lat"].to_numpy(),
        }
    )


def _maybe_copies(spans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the pairs (i, j) of flights of different batches that may be copies.

    A sweep over the flights sorted by start time pairs only flights that overlap
    in time (few: flights at one place on many days are never paired); then the
    input, batch, aircraft and boxes are compared.
    """
    t0 = spans["t0_ns"].to_numpy("int64")
    t1 = spans["t1_ns"].to_numpy("int64")
    by_start = np.argsort(t0, kind="stable")
    end = np.searchsorted(t0[by_start], t1[by_start], side="left")  # starts before my end
    counts = np.maximum(end - np.arange(len(t0)) - 1, 0)
    first = np.repeat(np.arange(len(t0)), counts)
    step = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    i, j = by_start[first], by_start[first + 1 + step]
    group = spans["group"].to_numpy("int64")
    batch = spans["batch"].to_numpy("int64")
    drone = spans[DRONE_ID].to_numpy(dtype=object)
    known = ~pd.isna(drone)
    keep = (group[i] == group[j]) & (batch[i] != batch[j])
    keep &= np.minimum(t1[i], t1[j]) > np.maximum(t0[i], t0[j])
    keep &= ~(known[i] & known[j]) | (drone[i] == drone[j])
    i, j = i[keep], j[keep]
    lon0, lon1, lat0, lat1 = (
        spans[c].to_numpy("float64") for c in ("lon_min", "lon_max", "lat_min", "lat_max")
    )
    margin_lat = NEAR_M / M_PER_DEG
    far = np.maximum(np.maximum(np.abs(lat0[i]), np.abs(lat1[i])), np.abs(lat1[j]))
    far = np.maximum(far, np.abs(lat0[j]))
    margin_lon = margin_lat / np.cos(np.radians(np.minimum(far, 89.9)))
    near = (
        (lon0[i] - margin_lon <= lon1[j])
        & (lon0[j] - margin_lon <= lon1[i])
        & (lat0[i] - margin_lat <= lat1[j])
        & (lat0[j] - margin_lat <= lat1[i])
    )
    return i[near], j[near]


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label the connected components of a graph of ``n`` nodes and edges (a, b)."""
    label = np.arange(n)
    while True:  # each pass halves the longest path to a component's smallest node
        low = np.minimum(label[a], label[b])
        new = label.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        if np.array_equal(new, label):
            return label
        label = new


def files_to_reread(
    spans: pd.DataFrame, entries: list[dict[str, Any]]
) -> list[tuple[int, list[str]]]:
    """Return the files to read again, component by component, to count copies once.

    Parameters
    ----------
    spans
        :func:`flight_spans` of every batch, with the ``group`` (which input) and
        ``batch`` of each flight.
    entries
        The file entries of every batch (their ``duplicates``: copies found within
        a batch).

    Returns
    -------
    list of (int, list of str)
        Per component that holds flights of different batches that may be copies:
        its input ``group`` and the paths of its files.
    """
    if len(spans) < 2:
        return []
    i, j = _maybe_copies(spans)
    if not len(i):
        return []
    source = spans[SOURCE].to_numpy(dtype=object)
    found = [
        (r[SOURCE], r["duplicate_of_source"]) for e in entries for r in e.get("duplicates", [])
    ]
    ends = np.array(found, dtype=object).reshape(-1, 2)
    paths = pd.Index(pd.unique(np.concatenate([source, ends.ravel()])))
    a = paths.get_indexer(np.concatenate([source[i], ends[:, 0]]))
    b = paths.get_indexer(np.concatenate([source[j], ends[:, 1]]))
    label = _components(len(paths), a, b)
    chosen = np.flatnonzero(np.isin(label, label[paths.get_indexer(source[i])]))
    chosen = chosen[np.argsort(label[chosen], kind="stable")]
    group_of = pd.Series(spans["group"].to_numpy("int64"), index=source)
    group_of = group_of[~group_of.index.duplicated()]
    out = []
    for rows in np.split(chosen, np.flatnonzero(np.diff(label[chosen])) + 1):  # per component
        members = paths[rows].tolist()
        out.append((int(group_of[members[0]]), members))
    return out


def replace_files(
    fixed: dict[str, Any], again: dict[str, Any], paths: set[str], order: dict[str, int]
) -> None:
    """Replace (in place) in ``fixed`` what the first reading gave of ``paths`` by ``again``.

    Both are the gatherings of batches of ``stream._run_fixes``; ``again`` read
    exactly ``paths``. ``order`` gives the place of each file in one reading.
    """
    flights = set(fixed["spans"].loc[fixed["spans"][SOURCE].isin(paths), FLIGHT_ID])
    for key in ("pairs", "flights"):
        fixed[key] = [f[~f[FLIGHT_ID].astype(str).isin(flights)] for f in fixed[key]]
        fixed[key] += again[key]
    near = [fixed["near"], again["near"]]
    if len(near[0]):
        near[0] = near[0][~near[0][FLIGHT_ID].astype(str).isin(flights)]
    near = [f for f in near if len(f)]
    fixed["near"] = pd.concat(near, ignore_index=True) if near else pd.DataFrame()
    fixed["triggers"] = [t[~t["path"].astype(str).isin(paths)] for t in fixed["triggers"]]
    fixed["triggers"] += again["triggers"]
    fixed["fixes"] += again["fixes"] - sum(fixed["kept"].get(p, 0) for p in paths)
    fixed["kept"].update(again["kept"])
    new = {e["path"]: e for e in again["files"]}
    fixed["files"] = [new.get(e["path"], e) for e in fixed["files"]]
    sort_by_file(fixed, order)


def sort_by_file(fixed: dict[str, Any], order: dict[str, int]) -> None:
    """Put the file entries and photo triggers (in place) in the order of one reading."""
    if not order:
        return
    last = len(order)
    fixed["files"].sort(key=lambda e: order.get(e["path"], last))
    if fixed["triggers"]:
        triggers = pd.concat(fixed["triggers"], ignore_index=True)
        place = triggers["path"].astype(str).map(order).fillna(last).to_numpy()
        fixed["triggers"] = [triggers.iloc[np.argsort(place, kind="stable")]]
