"""Every file under a scan's inputs is accounted for: read, or skipped with its reason."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import geoexpose as gx
from geoexpose.inventory import account_files, walk_inputs


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("inventory") / "inputs")


def _touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_inputs_are_split_by_what_each_reader_reads(tmp_path):
    folder = tmp_path / "flights"
    walked_names = ["a.JPG", "b.tif", "c.SRT", "d.csv", "f.gpx", "sites.geojson"]
    for name in [*walked_names, "e.log", ".hidden/g.csv", ".h.csv"]:
        _touch(folder / name)
    named = [_touch(tmp_path / n) for n in ("n.JPG", "n.SRT", "n.log")]
    layer = folder / "sites.geojson"
    walked = walk_inputs([folder, *named], layers={"a site layer": [f"water={layer}"]})
    f = {n: str(folder / n) for n in walked_names}
    # walked files by their names; a named file by its name, or else by its content
    assert walked.tracks == [f["c.SRT"], f["d.csv"], f["f.gpx"], *map(str, named[1:])]
    assert walked.captures == [f["a.JPG"], f["b.tif"], f["c.SRT"], *map(str, named[:2])]
    assert walked.layers == {str(layer.absolute()): "a site layer"}
    # every file is listed once, hidden ones too
    assert len(walked.files) == len(walked_names) + 3 + 3


def test_files_no_reader_takes_get_their_reasons(tmp_path):
    folder = tmp_path / "drop"
    _touch(folder / "DJI_0001.MP4")
    _touch(folder / "DJI_0001.SRT")
    _touch(folder / "DJI_0002.MOV")
    _touch(folder / "notes.md")
    _touch(folder / "empty.bin", "")
    _touch(folder / ".DS_Store")
    _touch(folder / "sites.gpkg")
    walked = walk_inputs([folder], layers={"a site layer": [folder / "sites.gpkg"]})
    srt = {"path": str(folder / "DJI_0001.SRT"), "status": "read"}
    reasons = {
        Path(e["path"]).name: (e["status"], e["reason"]) for e in account_files(walked, [srt])
    }
    assert set(reasons) == {p.name for p in walked.files} - {"DJI_0001.SRT"}
    assert reasons["DJI_0001.MP4"][1].startswith("video: its positions are read from the .SRT")
    assert reasons["DJI_0002.MOV"][1].startswith("video without its .SRT telemetry")
    assert reasons["notes.md"][1].startswith("unknown type (.md)")
    assert reasons["empty.bin"][1] == "empty file"
    assert reasons[".DS_Store"][1] == "hidden file: not read"
    assert reasons["sites.gpkg"] == ("layer", "read as a site layer, not as a track or capture")
    assert all(status == "skipped" for name, (status, _) in reasons.items() if name != "sites.gpkg")


def test_a_scan_of_a_folder_names_every_file_once(demo, tmp_path):
    # the demo folder holds the site layer beside the logs, as the README's examples do
    folder = demo.sites.parent
    readme = _touch(folder / "README.md", "flown for the water board")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", gx.InputWarning)  # the site layer warns no more
            done = gx.scan([folder], demo.sites)
    finally:
        readme.unlink()
    on_disk = sorted(str(p) for p in folder.rglob("*") if p.is_file() and p != readme)
    listed = [e["path"] for e in done.files]
    assert sorted(set(listed)) == sorted([*on_disk, str(readme)])
    by_path = {e["path"]: e for e in done.files}
    assert by_path[str(demo.sites)]["status"] == "layer"
    assert by_path[str(readme)]["status"] == "skipped"
    assert done.n_fixes > 0 and len(done.result.flights) == len(demo.tracks)
    record = done.record()
    assert record["files_skipped"] == [
        {"path": str(readme), "reason": by_path[str(readme)]["reason"]}
    ]
    assert {e["path"] for e in record["other_files"]} == {str(demo.sites), str(readme)}
    assert sum(record["input_files"].values()) == len(set(listed))


def test_photo_only_scans_count_no_flight(demo):
    done = gx.scan(list(demo.photos), demo.sites)
    exposed = done.result.exposed
    assert len(exposed) > 0 and (exposed["n_captures"] > 0).all()
    assert (done.result.sites["n_flights"] == 0).all() and len(done.result.flights) == 0
