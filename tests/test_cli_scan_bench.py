"""The command-line scan benchmark (benchmarks/cli_scan.py) on a tiny fleet of AirData logs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

import geoexpose as gx
from benchmarks._load import read_fixes_lonlat
from benchmarks.cli_scan import main
from benchmarks.generate import generate

GEOD = Geod(ellps="WGS84")
# AirData's header, leading spaces included, as in shared/research/tracks.md section 1.3
AIRDATA_HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "height_above_ground_at_drone_location(feet),ground_elevation_at_drone_location(feet),"
    "altitude_above_seaLevel(feet),height_sonar(feet),speed(mph),distance(feet),satellites,"
    "gpslevel,voltage(v),max_altitude(feet),max_ascent(feet),max_speed(mph),max_distance(feet),"
    " xSpeed(mph), ySpeed(mph), zSpeed(mph), compass_heading(degrees), pitch(degrees),"
    " roll(degrees),isPhoto,isVideo,rc_elevator,rc_aileron,rc_throttle,rc_rudder,"
    "gimbal_heading(degrees),gimbal_pitch(degrees),battery_percent,voltageCell1,voltageCell2,"
    "voltageCell3,voltageCell4,voltageCell5,voltageCell6,current(A),battery_temperature(f),"
    "altitude(feet),ascent(feet),flycStateRaw,flycState,message"
)
TINY = ["--logs", "3", "--fixes-per-log", "400", "--sites", "500", "--seed", "5", "--repeat", "2"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    data = tmp_path_factory.mktemp("data")
    out = tmp_path_factory.mktemp("out") / "scan"
    figures = data / "figures.json"
    args = [*TINY, "--data-dir", str(data), "--out", str(out), "--json", str(figures)]
    assert main(args) == 0
    return data, json.loads(figures.read_text())


def test_logs_are_airdata_csv_with_the_real_header(run):
    data, _ = run
    logs = sorted(data.glob("*_airdata_v1/*.csv"))
    assert len(logs) == 3
    header = logs[0].read_text().splitlines()[0]
    assert header == AIRDATA_HEADER
    root = os.environ.get("GEOEXPOSE_REALDATA")
    if root:  # the same as a real export's
        real = next((Path(root) / "tracks" / "airdata_csv").glob("*.csv"))
        assert header == real.read_text().splitlines()[0]


def test_logs_hold_the_workload_positions_and_heights(run):
    data, _ = run
    work = generate(sites=500, flights=3, fixes_per_flight=400, seed=5, data_dir=data)
    truth = read_fixes_lonlat(work.fixes_path, ["flight_id", "time_utc", "alt_agl_m"])
    truth = truth.sort_values(["flight_id", "time_utc"], kind="stable").reset_index(drop=True)
    logs = sorted(data.glob("*_airdata_v1/*.csv"))
    table = pd.concat([pd.read_csv(p) for p in logs], ignore_index=True)
    assert len(table) == len(truth) == 1200
    _, _, dist = GEOD.inv(truth["lon"], truth["lat"], table["longitude"], table["latitude"])
    assert np.max(dist) < 0.01  # 12 decimals of a degree
    feet = table["height_above_takeoff(feet)"].to_numpy()
    np.testing.assert_allclose(feet * 0.3048, truth["alt_agl_m"], atol=1e-6)
    # 10 Hz, from 0 ms, in each file
    first = pd.read_csv(logs[0])
    assert first["time(millisecond)"].iloc[:3].tolist() == [0, 100, 200]
    # geoexpose reads them as AirData exports: every fix, in metres
    fixes = gx.read_tracks(logs)
    assert len(fixes) == 1200
    assert set(fixes["source"].map(lambda s: Path(s).name)) == {p.name for p in logs}


def test_figures_and_default_site_maps(run):
    _, figures = run
    assert figures["logs"] == 3 and figures["rows"] == 1200
    assert figures["read_floor_s"] > 0 and figures["scan_s"] > 0
    pairs = figures["pairs"]
    assert len(pairs) == 2  # floor and scan timed in turn, twice
    for pair in pairs:
        assert pair["ratio"] == pytest.approx(pair["seconds"] / pair["floor_s"])
        assert pair["cpu_s"] > 0.5  # a Python process that imports geopandas, each time
    assert figures["ratio"] == pytest.approx(np.median([p["ratio"] for p in pairs]))
    assert figures["peak_mb"] > 50  # a Python process with geopandas
    # the whole tree's proportional set size, sampled while it ran
    assert 50 < figures["tree_pss_mb"] < 4 * figures["peak_mb"]
    assert figures["fixes_kept"] == 1200
    assert figures["site_maps"] == min(figures["exposed_sites"], 50)
