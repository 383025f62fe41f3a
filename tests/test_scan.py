"""gx.scan: the scan as a library call gives what the readers and gx.expose give."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import geoexpose as gx


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("scan") / "inputs")


def _by_site(result) -> pd.DataFrame:
    table = pd.DataFrame(result.sites.drop(columns="geometry")).set_index("site_id")
    return table.sort_index()


def test_scan_is_the_readers_then_expose(demo):
    done = gx.scan([*demo.tracks, *demo.photos], demo.sites)
    # the same answer, made step by step with the public readers
    sites = gx.read_sites(demo.sites)
    fixes = gx.read_tracks(list(demo.tracks))
    captures = gx.read_captures(list(demo.photos))
    alone = gx.expose(sites, fixes, captures=captures)
    pd.testing.assert_frame_equal(_by_site(done.result), _by_site(alone))
    pd.testing.assert_frame_equal(done.result.pairs, alone.pairs)
    assert done.n_fixes == len(fixes) and done.from_triggers == 0
    # every input file is accounted for, each read once
    paths = sorted(entry["path"] for entry in done.files)
    assert paths == sorted(map(str, (*demo.tracks, *demo.photos)))
    assert len(done.read) == len(paths) and done.skipped == []


def test_scan_reports_what_it_skipped_and_why(demo, tmp_path):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    with pytest.warns(gx.InputWarning, match="junk.csv"):
        done = gx.scan([demo.tracks[0], junk], demo.sites)
    assert [e["path"] for e in done.skipped] == [str(junk)]
    assert done.skipped[0]["reason"]  # a reason, in words
    assert [e["path"] for e in done.read] == [str(demo.tracks[0])]


def test_scan_with_nothing_readable_is_an_input_error(tmp_path, demo):
    junk = tmp_path / "junk.csv"
    junk.write_text("a,b\n1,2\n")
    with (
        pytest.warns(gx.InputWarning),
        pytest.raises(gx.InputError, match=r"nothing to scan: .*1 files.*junk\.csv: "),
    ):
        gx.scan([junk], demo.sites)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(gx.InputError, match=r"nothing to scan: no file under .*empty$"):
        gx.scan([empty], demo.sites)


def test_logs_without_photos_give_their_photo_triggers(demo):
    done = gx.scan(list(demo.tracks), demo.sites)
    logged = gx.read_tracks(list(demo.tracks))
    # an independent count: rises of is_photo within each flight
    rises = 0
    for _, flight in logged.groupby("flight_id"):
        flag = flight["is_photo"].fillna(False).astype(bool).to_numpy()
        rises += int(flag[0]) + int((flag[1:] & ~flag[:-1]).sum())
    assert rises > 0
    assert done.from_triggers == rises == len(done.result.captures)
    assert done.result.captures["flags"].str.contains("from_log_trigger").all()


def test_streamed_scan_gives_the_rows_of_the_memory_scan(demo):
    inputs = [*demo.tracks, *demo.photos]
    memory = gx.scan(inputs, demo.sites)
    local = gx.scan(inputs, demo.sites, engine="local", batch_fixes=5_000)
    assert local.result.stats["batches"] >= 2
    a, b = _by_site(memory.result), _by_site(local.result)
    assert list(a.index) == list(b.index)
    numbers = a.select_dtypes("number").columns
    np.testing.assert_allclose(a[numbers].to_numpy(float), b[numbers].to_numpy(float), rtol=1e-9)
    assert local.n_fixes == memory.n_fixes
    assert sorted(e["path"] for e in local.files) == sorted(e["path"] for e in memory.files)


def test_scan_takes_sites_already_read_or_prepared(demo):
    sites = gx.read_sites(demo.sites)
    by_path = gx.scan(list(demo.tracks), demo.sites)
    by_frame = gx.scan(list(demo.tracks), sites)
    prepared = gx.scan(list(demo.tracks), gx.prepare_sites(sites))
    pd.testing.assert_frame_equal(_by_site(by_path.result), _by_site(by_frame.result))
    pd.testing.assert_frame_equal(_by_site(by_path.result), _by_site(prepared.result))


def test_scan_refuses_bad_options_before_reading(demo, tmp_path):
    with pytest.raises(gx.UsageError, match="engine"):
        gx.scan(list(demo.tracks), demo.sites, engine="spark")
    with pytest.raises(gx.UsageError, match="scheduler"):
        gx.scan(list(demo.tracks), demo.sites, scheduler="tcp://localhost:1")
    table = tmp_path / "fixes"
    gx.geoparquet.write_fixes(gx.read_tracks(demo.tracks[0]), table)
    with pytest.raises(gx.UsageError, match="GeoParquet"):
        gx.scan([table], demo.sites)


def test_site_ids_must_not_repeat_across_layers(demo, tmp_path):
    copy = tmp_path / "again.geojson"
    gpd.read_file(demo.sites).to_file(copy)
    with pytest.raises(gx.InputError, match="more than one layer"):
        gx.read_site_layers([demo.sites, copy])


def test_write_refuses_existing_outputs_before_writing(demo, tmp_path):
    done = gx.scan([demo.tracks[0]], demo.sites)
    out = tmp_path / "out"
    done.write(out, parquet=True)
    assert (out / "parquet" / "sites").is_dir()
    stamp = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    with pytest.raises(gx.OutputExistsError):
        done.write(out)
    (out / "map.html").unlink()
    (out / "summary.json").unlink()
    with pytest.raises(gx.OutputExistsError, match=r"exposure\.gpkg"):
        done.write(out, parquet=True)
    # nothing was written by the refused calls
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == {
        p: t for p, t in stamp.items() if p.exists()
    }
