"""The file store under load and faults: two writers at once, one killed or failing half-way."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

import geoexpose as gx
from geoexpose.store import Store

TABLES = ("gx_scans", "gx_files", "gx_flights", "gx_pairs", "gx_captures", "gx_capture_sites")

_CHILD = textwrap.dedent(
    """
    import sys, geoexpose as gx
    store, sites, *tracks = sys.argv[1:]
    gx.Store(store).add(gx.scan(tracks, sites))
    """
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("demo"))


def _counts(path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def _child(store, demo, tracks, **env):
    args = [sys.executable, "-c", _CHILD, str(store), str(demo.sites), *map(str, tracks)]
    return subprocess.Popen(args, env={**os.environ, **env}, stderr=subprocess.PIPE)


def test_two_processes_adding_at_once_lose_nothing_and_duplicate_nothing(demo, tmp_path):
    store = tmp_path / "h.gpkg"  # not made yet: the two writers race to make it too
    # one adds flights 1 and 2, the other 2 and 3: flight 2 must be stored once
    a = _child(store, demo, demo.tracks[:2])
    b = _child(store, demo, demo.tracks[1:])
    for child in (a, b):
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    counts = _counts(store)
    assert counts["gx_scans"] == 2 and counts["gx_files"] == 3 and counts["gx_flights"] == 3
    flights = Store(store).history().flights
    assert sorted(flights["flight_id"]) == sorted(p.name + "#1" for p in demo.tracks)
    added = Store(store).scans()[["flights_added", "files_known"]].to_numpy().tolist()
    assert sorted(added) == [[1, 1], [2, 0]]


def test_a_writer_killed_before_it_commits_leaves_the_store_as_it_was(demo, tmp_path):
    store = tmp_path / "h.gpkg"
    Store(store).add(gx.scan([demo.tracks[0]], demo.sites))
    before = _counts(store)
    marker = tmp_path / "written"
    child = _child(store, demo, demo.tracks[1:], GEOEXPOSE_STORE_TEST_PAUSE=str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():  # every row written, the transaction still open
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert _counts(store) == before  # the journal is rolled back when the file is next opened
    again = Store(store).add(gx.scan(demo.tracks[1:], demo.sites))
    assert again.flights_added == 2 and len(Store(store).history().flights) == 3


def test_an_add_that_fails_half_way_leaves_the_store_as_it_was(demo, tmp_path, monkeypatch):
    store = Store(tmp_path / "h.gpkg")
    store.add(gx.scan([demo.tracks[0]], demo.sites))
    before = _counts(tmp_path / "h.gpkg")
    real = store._insert
    calls = []

    def failing(cur, table, frame, **fixed):
        calls.append(table.name)
        if table.name == "gx_captures":  # files, flights and pairs already written
            raise OSError("disk full")
        return real(cur, table, frame, **fixed)

    monkeypatch.setattr(store, "_insert", failing)
    with pytest.raises(OSError, match="disk full"):
        store.add(gx.scan([demo.tracks[1], *demo.photos], demo.sites))
    assert "gx_flights" in calls and _counts(tmp_path / "h.gpkg") == before
