"""The streamed engine counts a flight that several track files hold once, as one reading does.

Copies of a flight whose files fall in different batches are found after the batches
and read again together; the answer must be that of ``gx.expose`` over one
``gx.read_tracks`` of every file, whatever the batches.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import geoexpose as gx
from geoexpose.imagery import captures_from_triggers
from geoexpose.scale import TrackFiles, expose_stream
from geoexpose.scale._sources import plan_batches
from tests._stream_workloads import assert_same_result
from tests.conftest import make_sites

CSV_23 = "airdata_csv/Sep-5th-2021-07-23PM-Flight-Airdata.csv"
CSV_48 = "airdata_csv/Sep-5th-2021-07-48PM-Flight-Airdata.csv"
GPX_23 = "airdata_gpx/Sep-5th-2021-07-23PM-Flight-Airdata.gpx"


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _records(entries: list[dict]) -> list[dict]:
    return [r for e in entries for r in e.get("duplicates", [])]


def _same_as_one_reading(expected, fixes, got) -> None:
    """Tables, flights, file entries and copies found: those of one reading."""
    assert_same_result(expected, got)
    assert got.flights["flight_id"].tolist() == expected.flights["flight_id"].tolist()
    np.testing.assert_array_equal(got.flights["n_fixes"], expected.flights["n_fixes"])
    assert got.stats["fixes"] == len(fixes)
    entries = fixes.attrs["geoexpose"]["files"]
    assert got.inputs["tracks"] == entries
    assert _records(got.inputs["tracks"]) == fixes.attrs["geoexpose"].get("duplicates", [])


# --- real files: an AirData CSV and the GPX exported beside it ---------------------------


@pytest.fixture(scope="module")
def real_tracks(realdata: Path):
    folder = realdata / "tracks"
    paths = [str(folder / "airdata_csv"), str(folder / "airdata_gpx")]
    csv = _quiet(gx.read_tracks, folder / CSV_23)
    home = csv.geometry.iloc[0]  # where the drone took off
    sites = make_sites([home, home.buffer(0.001)], standoff_m=100.0)
    return folder, paths, csv, sites


@pytest.mark.parametrize("batch_fixes", [1, 12_000, 10_000_000])
def test_real_csv_and_gpx_in_any_batches_count_once(real_tracks, batch_fixes: int) -> None:
    folder, paths, csv, sites = real_tracks
    fixes = _quiet(gx.read_tracks, paths)
    expected = gx.expose(sites, fixes)
    got = _quiet(expose_stream, sites, paths, batch_fixes=batch_fixes)
    _same_as_one_reading(expected, fixes, got)
    # the GPX counts for nothing: the dwell at take-off is that of the CSV alone,
    # over a minute, not twice it (the two CSVs are 25 minutes apart, both from home)
    alone = gx.expose(sites, csv).sites.set_index("site_id")
    both = _quiet(gx.read_tracks, [folder / CSV_23, folder / CSV_48])
    dwell = got.sites.set_index("site_id")["dwell_s"]
    assert dwell["s0"] == pytest.approx(gx.expose(sites, both).sites["dwell_s"].iloc[0])
    assert dwell["s0"] > alone.loc["s0", "dwell_s"] > 60
    assert set(got.flights["flight_id"]) == {Path(CSV_23).name + "#1", Path(CSV_48).name + "#1"}
    (gpx,) = [e for e in got.inputs["tracks"] if e["path"].endswith(".gpx")]
    assert gpx["status"] == "skipped" and gpx["rows_kept"] == 0
    assert gpx["duplicates"][0]["duplicate_of_source"] == str(folder / CSV_23)
    if batch_fixes == 1:  # a file a batch: the copies met only when read again
        assert got.stats["batches"] == 3
        assert got.stats["reread_files"] == 2 and got.stats["reread_batches"] == 1
    if batch_fixes == 10_000_000:  # one batch: nothing read again
        assert got.stats["batches"] == 1 and got.stats["reread_files"] == 0


def test_real_copies_with_photo_triggers_count_once(real_tracks) -> None:
    _, paths, _, sites = real_tracks
    fixes = _quiet(gx.read_tracks, paths)
    triggers = _quiet(gx.read_trigger_poses, paths, fixes=fixes)
    assert len(triggers) > 0
    expected = gx.expose(sites, fixes, captures=captures_from_triggers(triggers))
    source = TrackFiles(tuple(paths), triggers=True)
    got = _quiet(expose_stream, sites, source, batch_fixes=1)
    assert got.stats["reread_files"] == 2
    _same_as_one_reading(expected, fixes, got)
    assert len(got.captures) == len(triggers)


def test_keep_streams_every_copy(real_tracks) -> None:
    _, paths, _, sites = real_tracks
    fixes = _quiet(gx.read_tracks, paths, duplicates="keep")
    expected = gx.expose(sites, fixes)
    got = _quiet(expose_stream, sites, TrackFiles(tuple(paths), duplicates="keep"), batch_fixes=1)
    _same_as_one_reading(expected, fixes, got)
    assert got.flights["flight_id"].str.endswith(".gpx#1").any()
    assert got.stats["reread_files"] == 0


def test_bad_duplicates_option_is_a_usage_error() -> None:
    with pytest.raises(gx.UsageError, match="duplicates='dorp'"):
        TrackFiles(("a.csv",), duplicates="dorp")


# --- synthetic: the demo's logs, copied under other names and formats ---------------------


def _write_gpx(fixes: pd.DataFrame, path: Path) -> None:
    """A GPX of fixes: positions and times only (no heights above take-off)."""
    xy = shapely.get_coordinates(fixes.geometry.array)
    times = fixes["time_utc"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    points = "".join(
        f'<trkpt lat="{y:.8f}" lon="{x:.8f}"><time>{t}</time></trkpt>'
        for (x, y), t in zip(xy.tolist(), times.tolist(), strict=True)
    )
    path.write_text(
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><trkseg>{points}</trkseg></trk></gpx>",
        encoding="utf-8",
    )


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory):
    """Three demo flights given in seven files across three folders.

    - ``a/``: flights 1 and 2 (AirData CSV);
    - ``b/``: flight 3's AirData CSV cut to its middle half, and a GPX of all of
      flight 3 (poorer than the cut CSV, so only its head and tail are left);
    - ``c/``: a byte copy of flight 2 (same name as in ``a/``), a GPX of flight 1
      (poorer: no heights), and a GPX of the last fifth of flight 3: a copy of
      the whole GPX (which has more fixes), not of the cut CSV (they do not
      overlap in time). With both files of ``b/`` in one batch and the tail in
      another, only a reading of all three together drops the right fixes.
    """
    root = tmp_path_factory.mktemp("copies")
    demo = gx.make_demo_inputs(root / "demo")
    one, two, three = demo.tracks
    for folder in "abc":
        (root / folder).mkdir()
    shutil.copy(one, root / "a" / one.name)
    shutil.copy(two, root / "a" / two.name)
    shutil.copy(two, root / "c" / two.name)
    _write_gpx(_quiet(gx.read_tracks, one), root / "c" / "flight1.gpx")
    lines = three.read_text(encoding="utf-8").splitlines(keepends=True)
    n = len(lines) - 1
    cut = root / "b" / three.name
    cut.write_text("".join([lines[0], *lines[1 + n // 4 : 1 + 3 * n // 4]]), encoding="utf-8")
    fixes3 = _quiet(gx.read_tracks, three)
    _write_gpx(fixes3, root / "b" / "flight3.gpx")
    _write_gpx(fixes3.iloc[4 * len(fixes3) // 5 :], root / "c" / "flight3_tail.gpx")
    sites = gx.read_sites(demo.sites)
    paths = [str(root / folder) for folder in "abc"]
    files = {"one": one, "two": two, "cut": cut, "gpx3": root / "b" / "flight3.gpx"}
    return root, sites, paths, files


def _b_together(paths: list[str]) -> int:
    """A batch size (in fixes) putting both files of ``b/`` in one batch, the tail in another."""
    for limit in range(1_000, 200_000, 1_000):
        batches, _ = plan_batches(paths, limit)
        where = {
            f"{Path(f).parent.name}/{Path(f).name}": k
            for k, b in enumerate(batches)
            for f in b.files
        }
        b = {k for name, k in where.items() if name.startswith("b/")}
        if len(b) == 1 and where["c/flight3_tail.gpx"] not in b:
            return limit
    raise AssertionError("no batch size puts both files of b/ in one batch")


@pytest.mark.parametrize("cut", ["file", "b_together", "all"])
def test_demo_copies_in_any_batches_count_once(copies, cut: str) -> None:
    root, sites, paths, files = copies
    batch_fixes = {"file": 1, "b_together": _b_together(paths), "all": 10_000_000}[cut]
    fixes = _quiet(gx.read_tracks, paths)
    expected = gx.expose(sites, fixes)
    got = _quiet(expose_stream, sites, paths, batch_fixes=batch_fixes)
    _same_as_one_reading(expected, fixes, got)
    if cut == "all":  # one batch: nothing read again
        assert got.stats["batches"] == 1 and got.stats["reread_files"] == 0
    else:  # every file holds a copy found across batches, or a copy of such a file
        assert got.stats["batches"] >= 3 and got.stats["reread_files"] == 7
    if cut == "file":
        assert got.stats["batches"] == 7

    # worked out by hand from each file read alone
    alone = {k: _quiet(gx.read_tracks, p) for k, p in files.items()}
    gpx3 = alone["gpx3"]
    pad = pd.Timedelta(seconds=5)
    t0, t1 = alone["cut"]["time_utc"].min() - pad, alone["cut"]["time_utc"].max() + pad
    head_tail = int(((gpx3["time_utc"] < t0) | (gpx3["time_utc"] > t1)).sum())
    assert 0 < head_tail < len(gpx3)
    want = len(alone["one"]) + len(alone["two"]) + len(alone["cut"]) + head_tail
    assert got.stats["fixes"] == want
    by_name = {str(Path(e["path"]).relative_to(root)): e for e in got.inputs["tracks"]}
    assert by_name["c/flight1.gpx"]["status"] == "skipped"
    assert by_name[f"c/{files['two'].name}"]["status"] == "skipped"  # a/ is first by path
    assert by_name["c/flight3_tail.gpx"]["status"] == "skipped"
    gpx = by_name["b/flight3.gpx"]
    assert gpx["status"] == "read" and gpx["rows_kept"] == head_tail
    assert gpx["dropped"]["duplicate"] == len(gpx3) - head_tail
    names = [files["one"].name, f"a/{files['two'].name}", files["cut"].name, "flight3.gpx"]
    assert sorted(got.flights["flight_id"]) == sorted(f"{name}#1" for name in names)
    # flight 2 counted once: its dwell at each site is that of the file read alone
    two = gx.expose(sites, alone["two"]).pairs.set_index("site_id")["dwell_s"]
    mine = got.pairs[got.pairs["flight_id"] == f"a/{files['two'].name}#1"]
    np.testing.assert_allclose(mine.set_index("site_id")["dwell_s"], two, rtol=1e-9)


def test_demo_copies_with_photo_triggers_count_once(copies) -> None:
    _, sites, paths, files = copies
    fixes = _quiet(gx.read_tracks, paths)
    triggers = _quiet(gx.read_trigger_poses, paths, fixes=fixes)
    expected = gx.expose(sites, fixes, captures=captures_from_triggers(triggers))
    got = _quiet(expose_stream, sites, TrackFiles(tuple(paths), triggers=True), batch_fixes=1)
    _same_as_one_reading(expected, fixes, got)
    # the photos of flight 2 once, named by the label of the copy kept (a/, as the
    # file's name is in c/ too); the skipped copy gives none
    label = f"a/{files['two'].name}"
    ids = got.captures["capture_id"].astype(str)
    with_two = ids.str.startswith(f"{label}#photo")
    photo = _quiet(gx.read_tracks, files["two"])["is_photo"].fillna(False).astype(bool)
    rises = int((photo & ~photo.shift(fill_value=False)).sum())  # a photo per rise
    assert with_two.sum() == rises > 0
    assert (got.captures.loc[with_two.to_numpy(), "flight_id"] == f"{label}#1").all()
    assert not ids.str.startswith("c/").any()


_DASK = importlib.util.find_spec("distributed") is not None


@pytest.mark.skipif(
    not _DASK and os.environ.get("CI", "").lower() != "true", reason="needs geoexpose[dask]"
)
def test_demo_copies_on_dask_count_once(copies) -> None:
    _, sites, paths, _ = copies
    fixes = _quiet(gx.read_tracks, paths)
    expected = gx.expose(sites, fixes)
    got = _quiet(expose_stream, sites, paths, engine="dask", workers=2, batch_fixes=1)
    assert got.stats["workers"] == 2 and got.stats["reread_files"] == 7
    _same_as_one_reading(expected, fixes, got)
