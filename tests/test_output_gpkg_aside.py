"""exposure.gpkg written by a forked process while the maps are drawn (large scans)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track

import geoexpose as gx
from geoexpose.outputs import _gpkg as outputs  # the GeoPackage's writer

pytestmark = pytest.mark.skipif(
    not (hasattr(os, "fork") and sys.platform.startswith("linux")), reason="forks on Linux only"
)


@pytest.fixture(autouse=True)
def forking(monkeypatch):
    """Fork even for three sites, and whatever threads earlier tests left running."""
    monkeypatch.setattr(outputs, "FORK_SITES", 0)
    monkeypatch.setattr(outputs, "can_fork", lambda: True)


@pytest.fixture()
def result():
    lon = np.linspace(6.0, 6.01, 300)
    fixes = pd.concat(
        [make_track(lon, np.full(300, 45.0), flight="a"),
         make_track(lon[::-1], np.full(300, 45.0003), flight="b", t0="2026-06-12T12:00:00Z")],
        ignore_index=True,
    )  # fmt: skip
    points = [shapely.Point(6.005, 45.0), shapely.Point(7.0, 46.0), shapely.Point(6.002, 45.0)]
    return gx.expose(make_sites(points, standoff_m=50.0), fixes)


def test_forked_writer_writes_every_layer(tmp_path, result, monkeypatch):
    parent = os.getpid()
    out = result.write(tmp_path / "out")
    assert os.getpid() == parent  # the child never comes back here
    gpkg = out / "exposure.gpkg"
    layers = set(gpd.list_layers(gpkg)["name"])
    assert {"sites", "flights", "flight_sites", "footprints", "captures"} <= layers
    sites = gpd.read_file(gpkg, layer="sites")
    assert list(sites["site_id"]) == ["s0", "s1", "s2"]
    assert sites.geometry.x.tolist() == [6.005, 7.0, 6.002]
    assert sorted(gpd.read_file(gpkg, layer="flights")["flight_id"]) == ["a", "b"]
    assert (out / "summary.json").is_file() and (out / "map.html").is_file()
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".geoexpose-manifest.json"]  # no temporary file left


def test_an_error_of_the_forked_writer_is_raised_and_nothing_is_written(
    tmp_path, result, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs, "write_layer", broken)  # the child inherits it
    out = tmp_path / "out"
    with pytest.raises(OSError, match=r"exposure\.gpkg: not written: RuntimeError: disk full"):
        result.write(out)
    assert not out.exists() or not any(p for p in out.iterdir() if not p.name.startswith("."))


def test_a_threaded_caller_is_never_forked(tmp_path, result, monkeypatch):
    monkeypatch.undo()  # the real rule
    monkeypatch.setattr(outputs, "FORK_SITES", 0)

    def no_fork():
        raise AssertionError("forked a threaded process")

    monkeypatch.setattr(os, "fork", no_fork)
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait)
    worker.start()
    try:
        out = result.write(tmp_path / "out")  # written in this process, in turn
    finally:
        stop.set()
        worker.join()
    assert sorted(gpd.read_file(out / "exposure.gpkg", layer="flights")["flight_id"]) == ["a", "b"]


_CLI_PROBE = """
import sys, threading
from geoexpose.outputs import _gpkg as outputs
from geoexpose.cli import main
outputs.FORK_SITES = 0
real = outputs.can_fork
def probe():
    print("threads at the write:", threading.active_count(), "fork:", real(), file=sys.stderr)
    return real()
outputs.can_fork = probe
main(sys.argv[1:], standalone_mode=False)
"""


def test_the_command_line_writes_from_one_thread_and_forks(tmp_path):
    # tqdm's own bars start a monitor thread; geoexpose's (geoexpose._progress) do
    # not, so that a large scan's exposure.gpkg is written aside
    out = tmp_path / "demo"
    args = [sys.executable, "-c", _CLI_PROBE, "demo", "--out", str(out)]
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    assert "threads at the write: 1 fork: True" in done.stderr
    assert "sites" in set(gpd.list_layers(out / "exposure.gpkg")["name"])
