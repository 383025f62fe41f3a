"""The history store in a GeoPackage: adding scans, files known by content, history over time."""

from __future__ import annotations

import shutil
import sqlite3

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

import geoexpose as gx
from geoexpose.store import Store

METRICS = [
    "n_flights", "n_captures", "dwell_s", "min_distance_m", "min_agl_m", "best_gsd_cm",
    "imaged_area_m2", "imaged_fraction", "exposure_score",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def full(demo):
    """One scan of every flight and photo."""
    return gx.scan([*demo.tracks, *demo.photos], demo.sites)


def _one_flight(demo, i):
    return gx.scan(
        [demo.tracks[i], demo.tracks[i].parent / "photos" / f"flight{i + 1}"], demo.sites
    )


def _same_sites(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.set_index("site_id"), b.set_index("site_id").loc[a.set_index("site_id").index]
    for col in METRICS:
        np.testing.assert_allclose(
            a[col].to_numpy(float), b[col].to_numpy(float), rtol=1e-9, equal_nan=True, err_msg=col
        )
    for col in ("first_seen_utc", "last_seen_utc"):
        assert (a[col].isna() == b[col].isna()).all() and (a[col].dropna() == b[col].dropna()).all()


def test_single_flight_scans_added_one_by_one_give_one_scan_of_all(demo, full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    for i in range(3):
        added = store.add(_one_flight(demo, i))
        assert added.flights_added == 1
    history = store.history()
    _same_sites(full.result.sites, history.sites)
    pairs = ["flight_id", "site_id"]
    a = full.result.pairs.sort_values(pairs, ignore_index=True)
    b = history.pairs.sort_values(pairs, ignore_index=True)
    assert a[pairs].equals(b[pairs])
    np.testing.assert_allclose(a["dwell_s"], b["dwell_s"], rtol=1e-9)
    assert (a["n_captures"].to_numpy() == b["n_captures"].to_numpy()).all()
    # the demo: 3 flights and 78 + 72 + 77 photos
    assert len(history.flights) == 3 and len(history.captures) == 227
    assert len(history.capture_sites) == len(full.result.capture_sites)


def test_adding_the_same_files_again_adds_nothing(full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    first = store.add(full)
    again = store.add(full)
    assert (first.flights_added, first.captures_added) == (3, 227)
    assert (again.flights_added, again.captures_added, again.files_added) == (0, 0, 0)
    assert again.files_known == first.files_added == 3 + 227  # 3 logs, 227 photos
    files = store.files()
    assert len(files) == 230 and files["sha256"].str.fullmatch("[0-9a-f]{64}").all()
    _same_sites(full.result.sites, store.history().sites)
    assert list(store.scans()["geoexpose_version"]) == [gx.__version__] * 2


def test_a_copy_under_another_name_is_known(demo, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    copy = tmp_path / "copy.csv"
    shutil.copy(demo.tracks[0], copy)
    store.add(gx.scan([demo.tracks[0]], demo.sites))
    assert store.add(gx.scan([copy], demo.sites)).files_known == 1
    assert len(store.history().flights) == 1


def test_a_changed_file_replaces_its_earlier_version(demo, tmp_path):
    log = tmp_path / "flight.csv"
    lines = demo.tracks[0].read_text().splitlines(keepends=True)
    log.write_text("".join(lines))
    store = Store(tmp_path / "h.gpkg")
    store.add(gx.scan([log], demo.sites))
    log.write_text("".join(lines[:1001]))  # the header and the first 1000 rows
    added = store.add(gx.scan([log], demo.sites))
    assert (added.files_replaced, added.flights_added) == (1, 1)
    flights = store.history().flights
    assert len(flights) == 1
    assert flights["n_fixes"].iloc[0] <= 1000  # the rows of the shorter file, not both
    assert len(store.files()) == 1 and len(store.files(replaced=True)) == 2


def test_history_of_a_window_holds_the_flights_that_started_in_it(demo, full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    store.add(full)
    starts = full.result.flights.set_index("flight_id")["first_seen_utc"].sort_values()
    middle = store.history(since=starts.iloc[1], until=starts.iloc[2])
    assert middle.flights["flight_id"].tolist() == [starts.index[1]]
    alone = _one_flight(demo, list(full.result.flights["flight_id"]).index(starts.index[1]))
    _same_sites(alone.result.sites, middle.sites)
    assert len(store.history(until="2000-01-01").flights) == 0
    with pytest.raises(gx.UsageError):
        store.history(since="2026-07-01", until="2026-06-01")


def test_history_of_some_sites_and_its_timeline(full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    store.add(full)
    exposed = full.result.exposed["site_id"].iloc[0]
    h = store.history(sites=[exposed])
    assert h.sites["site_id"].tolist() == [exposed]
    line = store.timeline([exposed])
    expected = full.result.pairs[full.result.pairs["site_id"] == exposed]
    assert sorted(line["flight_id"]) == sorted(expected["flight_id"])
    assert line["first_seen_utc"].is_monotonic_increasing
    with pytest.raises(gx.InputError, match="no site 'nowhere'"):
        store.history(sites=["nowhere"])


def test_the_store_is_a_geopackage_that_gis_tools_read(full, tmp_path):
    path = tmp_path / "h.gpkg"
    Store(path).add(full)
    layers = dict(pyogrio.list_layers(path))
    assert {"gx_flights", "gx_captures", "gx_sites", "gx_pairs", "gx_files"} <= set(layers)
    flights = gpd.read_file(path, layer="gx_flights")
    assert len(flights) == 3 and flights.crs.to_epsg() == 4326
    assert flights.geom_type.eq("MultiLineString").all()
    sites = gpd.read_file(path, layer="gx_sites")
    assert sorted(sites["site_id"]) == sorted(full.result.sites["site_id"])
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert con.execute("SELECT value FROM gx_meta").fetchone()[0] == "1"


def test_history_writes_the_output_folder_of_a_scan(full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    store.add(full)
    out = store.history().write(tmp_path / "out", site_maps="none")
    for name in gx.OUTPUT_FILES:
        assert (out / name).exists()
    table = pd.read_csv(out / "site_exposure.csv")
    assert len(table) == len(full.result.exposed)


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    bad = tmp_path / "x.gpkg"
    bad.write_text("hello")
    with pytest.raises(gx.InputError, match="not a GeoPackage"):
        Store(bad).files()


def test_streamed_single_flight_scans_give_the_memory_scan_of_all(demo, full, tmp_path):
    store = Store(tmp_path / "h.gpkg")
    for i, track in enumerate(demo.tracks):
        photos = track.parent / "photos" / f"flight{i + 1}"
        store.add(gx.scan([track, photos], demo.sites, engine="local"))
    _same_sites(full.result.sites, store.history().sites)


def test_history_of_some_aircraft(demo, full, tmp_path):
    done = gx.scan([*demo.tracks, *demo.photos], demo.sites)
    flights = done.result.flights.sort_values("flight_id", ignore_index=True)
    # the store keeps the aircraft of each flight where the result has one
    done.result.__dict__["flights"] = flights.assign(aircraft_id=["A", "B", "A"])
    store = Store(tmp_path / "h.gpkg")
    store.add(done)
    got = store.history(aircraft=["A"])
    assert got.flights["flight_id"].tolist() == flights["flight_id"][[0, 2]].tolist()
    both = [flights["flight_id"][k].split("#")[0] for k in (0, 2)]
    tracks = [t for t in demo.tracks if t.name in both]
    folders = [t.parent / "photos" / f"flight{demo.tracks.index(t) + 1}" for t in tracks]
    _same_sites(gx.scan([*tracks, *folders], demo.sites).result.sites, got.sites)
    assert len(store.history(aircraft=["C"]).flights) == 0


def test_a_folder_is_no_store(tmp_path):
    with pytest.raises(gx.InputError, match="cannot open the store"):
        Store(tmp_path).files()
