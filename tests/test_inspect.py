"""gx.inspect_file and `geoexpose inspect` on folders: one report per file, or one line."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from geoexpose.cli import main
from geoexpose.inspect import inspect_file

AIRDATA = "tracks/airdata_csv"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def _csv_span_and_bounds(path):
    """Time span and bounds of an AirData CSV, read with pandas (0/0 rows left out)."""
    table = pd.read_csv(path)
    table = table[(table["latitude"] != 0) | (table["longitude"] != 0)]
    start = pd.Timestamp(pd.read_csv(path, nrows=1)["datetime(utc)"].iloc[0], tz="UTC")
    times = start + pd.to_timedelta(table["time(millisecond)"], unit="ms")
    bounds = [
        table["longitude"].min(),
        table["latitude"].min(),
        table["longitude"].max(),
        table["latitude"].max(),
    ]
    return (times.min(), times.max()), bounds


def test_an_empty_folder_is_one_report_saying_so(tmp_path):
    report = inspect_file(tmp_path)
    assert report["format"] == "folder" and report["status"] == "skipped"
    assert report["files"] == [] and "empty" in report["reason"]


def test_a_folder_of_notes_only_names_what_it_holds(tmp_path):
    (tmp_path / "README.txt").write_text("Flights of June\n")
    (tmp_path / "plan.md").write_text("# plan\n")
    report = inspect_file(tmp_path)
    assert report["status"] == "skipped" and report["files"] == []
    assert "2 files" in report["reason"] and "README.txt" in report["reason"]


def test_cli_folder_with_nothing_readable_is_one_line_and_exit_1(tmp_path):
    result = run("inspect", tmp_path)
    assert result.exit_code == 1
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert str(tmp_path) in line and "empty" in line
    (tmp_path / "README.txt").write_text("Flights of June\n")
    again = run("inspect", tmp_path)
    assert again.exit_code == 1 and again.stdout == ""
    assert len(again.stderr.strip().splitlines()) == 1 and "README.txt" in again.stderr


def test_cli_only_skipped_files_exit_1_after_their_reasons(tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    result = run("inspect", junk)
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{junk}: ") and "reason:" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "skipped" in result.stderr


def test_real_folder_of_two_csvs_gives_one_report_each(realdata):
    folder = realdata / AIRDATA
    csvs = sorted(folder.glob("*.csv"))
    assert len(csvs) == 2
    report = inspect_file(folder)
    assert report["status"] == "read"
    assert [r["path"] for r in report["files"]] == [str(p) for p in csvs]
    for path, one in zip(csvs, report["files"], strict=True):
        (first, last), bounds = _csv_span_and_bounds(path)
        assert one["format"] == "airdata_csv" and one["status"] == "read"
        assert pd.Timestamp(one["time_span_utc"][0]) == first
        assert pd.Timestamp(one["time_span_utc"][1]) == last
        assert one["bounds_lonlat"] == pytest.approx(bounds, abs=1e-6)
        assert one == inspect_file(path)  # as the file inspected on its own
    result = run("inspect", "--json", folder)
    assert result.exit_code == 0
    assert [r["path"] for r in json.loads(result.stdout)] == [str(p) for p in csvs]
    text = run("inspect", folder).stdout
    heads = [line for line in text.splitlines() if not line.startswith(" ")]
    assert heads == [f"{p}: airdata_csv, read" for p in csvs]


def test_real_gpx_report_gives_both_heights(realdata):
    one = inspect_file(
        realdata / "tracks" / "airdata_gpx" / "Sep-5th-2021-07-23PM-Flight-Airdata.gpx"
    )
    assert one["alt_ref"] == ["takeoff"]
    # SOURCE.txt: <ele> 5.29 m at take-off; AirData's max height 117 m (DJI header)
    low, high = one["alt_msl_m"]
    assert one["alt_agl_m"] == pytest.approx([low - 5.3, high - 5.3], abs=0.1)


def test_a_site_layer_without_family_is_inspected_as_sites(tmp_path):
    layer = tmp_path / "stations.geojson"
    gpd.GeoDataFrame(
        {"name": ["North", "South"]},
        geometry=gpd.points_from_xy([10.0, 10.1], [50.0, 50.1]),
        crs="EPSG:4326",
    ).to_file(layer)
    report = inspect_file(layer)
    assert report["status"] == "read" and report["sites_by_family"] == {"unspecified": 2}
    assert any("no family attribute" in note for note in report["notes"])
