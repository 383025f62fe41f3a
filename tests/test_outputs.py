"""The output folder: contents, round trip through GDAL, and atomic, refusing writes."""

from __future__ import annotations

import json
import types

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track

import geoexpose as gx
from geoexpose.outputs import folder as outputs  # the folder's writer


@pytest.fixture()
def result():
    lon = np.linspace(6.0, 6.01, 400)
    fixes = pd.concat(
        [make_track(lon, np.full(400, 45.0), flight="a"),
         make_track(lon[::-1], np.full(400, 45.0003), flight="b", t0="2026-06-12T12:00:00Z")],
        ignore_index=True,
    )  # fmt: skip
    fixes.attrs["geoexpose"] = {"files": [{"path": "x.csv", "status": "read", "rows_read": 805,
                                           "rows_kept": 800, "dropped": {"null_island": 5}},
                                          {"path": "bad.csv", "status": "skipped",
                                           "reason": "empty file", "dropped": {}}]}  # fmt: skip
    sites = make_sites([shapely.Point(6.005, 45.0), shapely.Point(7.0, 46.0)], standoff_m=50.0)
    return gx.expose(sites, fixes)


def test_folder_contents_round_trip(tmp_path, result):
    out = result.write(tmp_path / "out")
    layers = set(gpd.list_layers(out / "exposure.gpkg")["name"])
    assert {"sites", "flights", "flight_sites"} <= layers
    sites = gpd.read_file(out / "exposure.gpkg", layer="sites")
    assert list(sites["site_id"]) == ["s0", "s1"]
    assert sites.crs.to_epsg() == 4326
    got = sites.set_index("site_id").loc["s0"]
    want = result.sites.set_index("site_id").loc["s0"]
    assert got["dwell_s"] == pytest.approx(want["dwell_s"])
    assert pd.Timestamp(got["first_seen_utc"]) == want["first_seen_utc"].round("ms")
    flights = gpd.read_file(out / "exposure.gpkg", layer="flights")
    assert sorted(flights["flight_id"]) == ["a", "b"]
    table = pd.read_csv(out / "site_exposure.csv")
    assert list(table["site_id"]) == ["s0"]  # only exposed sites
    assert table["first_seen_utc"].iloc[0].endswith("Z")
    pairs = pd.read_csv(out / "flight_site_exposure.csv")
    assert len(pairs) == 2 and set(pairs["flight_id"]) == {"a", "b"}
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"]["fixes_dropped"] == {"null_island": 5}
    assert summary["files_skipped"] == [{"path": "bad.csv", "reason": "empty file"}]
    assert summary["results"]["exposed_sites"] == 1
    assert summary["versions"]["geoexpose"] == gx.__version__
    assert "map.html" in {p.name for p in out.iterdir()}


def test_existing_outputs_are_refused_and_untouched(tmp_path, result):
    out = tmp_path / "out"
    result.write(out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(gx.OutputExistsError, match="overwrite"):
        result.write(out)
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    result.write(out, overwrite=True)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".geoexpose-manifest.json"]  # no temporary file, no lock


def test_a_failing_write_leaves_no_partial_file(tmp_path, result, monkeypatch):
    out = tmp_path / "out"
    result.write(out, map_html=False)
    old = (out / "summary.json").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    # summary.json, written last, fails (the GeoPackage's writer keeps its own json)
    monkeypatch.setattr(outputs, "json", types.SimpleNamespace(dumps=broken, loads=json.loads))
    with pytest.raises(RuntimeError):
        result.write(out, overwrite=True, map_html=False)
    assert (out / "summary.json").read_bytes() == old
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".geoexpose-manifest.json"]
