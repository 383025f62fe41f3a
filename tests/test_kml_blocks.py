"""One huge KML or KMZ file read in blocks gives what one reading of it gives, in bounded memory."""

from __future__ import annotations

import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.errors import InputError
from geoexpose.tracks import pieces, read_track_pieces
from geoexpose.tracks._kml import read_kml
from geoexpose.tracks._row_blocks import RowBlocks
from tests._blocks_compare import WHOLE, joined, same_fixes
from tests._pieces_peak import pieces_peak_mb

KML = "http://www.opengis.net/kml/2.2"
GX = "http://www.google.com/kml/ext/2.2"
T0 = np.datetime64("2024-05-01T08:00:00", "s")


def _stamps(start: np.datetime64, n: int, layout: str = "iso_z") -> list[str]:
    """``n`` times 1 s apart from ``start`` in a layout: ISO with Z, naive ISO, day first."""
    t = start + np.arange(n).astype("timedelta64[s]")
    iso = np.datetime_as_string(t, unit="s")
    if layout == "iso_z":
        return [f"{s}Z" for s in iso]
    if layout == "naive":
        return [str(s) for s in iso]
    return [f"{s[8:10]}/{s[5:7]}/{s[:4]} {s[11:]}" for s in iso]  # "13/05/2024 10:00:00"


def _coords(n: int, lon0: float, z: float) -> list[tuple[float, float, float]]:
    i = np.arange(n)
    lon = lon0 + 0.00005 * i
    lat = 50.0 + 0.01 * np.sin(i / 300)
    return list(zip(lon.round(7), lat.round(7), np.full(n, z) + i % 7, strict=True))


def _track(whens: list[str], coords: list, mode: str = "", tag: str = "gx:Track") -> str:
    mode_xml = f"<altitudeMode>{mode}</altitudeMode>" if mode else ""
    coord = "gx:coord" if tag == "gx:Track" else "coord"
    body = "\n".join(f"<when>{w}</when>" for w in whens)
    body += "\n" + "\n".join(f"<{coord}>{x} {y} {z}</{coord}>" for x, y, z in coords)
    return f"<{tag}>{mode_xml}\n{body}\n</{tag}>"


def _document(*placemarks: str) -> str:
    marks = "\n".join(f"<Placemark>{p}</Placemark>" for p in placemarks)
    head = f'<?xml version="1.0"?>\n<kml xmlns="{KML}" xmlns:gx="{GX}"><Document>'
    return f"{head}<Folder>{marks}</Folder></Document></kml>\n"


def _placemarks() -> list[str]:
    """Tracks of odd heights and time layouts, with a line and an empty track among them."""
    line = "<LineString><coordinates>7,49,5 7.1,49.1,6</coordinates></LineString>"
    absolute = _track(_stamps(T0, 1500), _coords(1500, 8.0, 300.0), "absolute")
    clamped = _track(_stamps(T0 + 3600, 700, "naive"), _coords(700, 8.1, 40.0))  # default mode
    ground = _track(_stamps(T0 + 7200, 900), _coords(900, 8.2, 30.0), "relativeToGround")
    sea = _track(_stamps(T0 + 9000, 300), _coords(300, 8.25, 12.0), "clampToSeaFloor")
    # day-first dates first met past the first blocks: the layout guessed from the first
    # ("13/05/2024" can only be day first) holds for the later "02/06/2024" too
    days = _track(
        _stamps(np.datetime64("2024-05-13T10:00:00"), 400, "dayfirst"), _coords(400, 8.3, 0.0)
    )
    june = _track(
        _stamps(np.datetime64("2024-06-02T10:00:00"), 1200, "dayfirst"), _coords(1200, 8.4, 0.0)
    )
    kml23 = _track(_stamps(T0 + 20_000, 600), _coords(600, 8.5, 50.0), "absolute", tag="Track")
    return [
        absolute,
        line,
        f"<gx:MultiTrack>{clamped}{ground}<gx:Track></gx:Track>{sea}</gx:MultiTrack>",
        days,
        june,
        kml23,
    ]


N_POINTS = 1500 + 700 + 900 + 300 + 400 + 1200 + 600


@pytest.fixture(scope="module")
def odd_kml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kml_blocks") / "odd.kml"
    path.write_text(_document(*_placemarks()))
    return path


def _in_blocks(path: Path, rows: int, **kwargs) -> tuple[pd.DataFrame, list[pd.DataFrame], str]:
    """read_kml giving its rows to blocks of ``rows``: the frame returned, the blocks."""
    given: list[pd.DataFrame] = []
    blocks = RowBlocks(add=given.append, frames=lambda: given, rows=rows)
    raw = read_kml(path, blocks=blocks, **kwargs)
    return raw.frame, given, raw


def _same_reading(path: Path, monkeypatch: pytest.MonkeyPatch, **kwargs) -> list:
    """Read a file whole and in pieces: the same fixes, file entry and warnings."""
    with warnings.catch_warnings(record=True) as w_said:
        warnings.simplefilter("always", gx.InputWarning)
        whole = gx.read_tracks([path], **kwargs)
    monkeypatch.setattr(pieces, "BLOCK_ROWS", 512)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always", gx.InputWarning)
        found = list(read_track_pieces(path, piece_fixes=700, **kwargs))
    assert [str(w.message) for w in said] == [str(w.message) for w in w_said]
    entry, w_entry = found[0].entry, whole.attrs["geoexpose"]["files"][0]
    for key in ("rows_read", "rows_kept", "dropped", "time_basis", "flights"):
        assert entry[key] == w_entry[key], key
    assert [n for n in entry["notes"] if not n.startswith(WHOLE)] == w_entry["notes"]
    same_fixes(joined(found), whole)
    return found


def test_the_rows_in_blocks_are_the_rows_of_one_reading(odd_kml) -> None:
    whole = read_kml(odd_kml)
    frame, given, raw = _in_blocks(odd_kml, rows=512)
    assert len(frame) == 0 and list(frame.columns) == list(whole.frame.columns)
    assert [len(b) for b in given] == [512] * (N_POINTS // 512) + [N_POINTS % 512]
    got = pd.concat(given)  # the index goes on from block to block
    pd.testing.assert_frame_equal(got, whole.frame)
    assert (raw.notes, raw.time_basis, raw.route) == (whole.notes, whole.time_basis, None)
    # hand counts: the line and the empty track left out; one note a kind of height
    assert raw.notes == [
        "2 track(s) without times or points left out",
        "KML altitudeMode absolute: altitudes are metres above sea level (alt_msl_m); no "
        "height above takeoff or ground (alt_ref 'takeoff' is a placeholder)",
        "altitudes ignored (altitudeMode clampToGround, clampToSeaFloor; pass alt_ref= to "
        "use them)",
    ]
    assert raw.time_basis == "assumed_utc"  # the naive times
    assert got["segment"].drop_duplicates().tolist() == [0, 1, 2, 3, 4, 5, 6]
    # the day-first layout guessed from "13/05/2024" holds in the later blocks
    june = got[got["segment"] == 5]["time_utc"]
    assert june.iloc[0] == pd.Timestamp("2024-06-02T10:00:00Z")
    assert june.iloc[-1] == pd.Timestamp("2024-06-02T10:19:59Z")


@pytest.mark.parametrize("alt_ref", [None, "ground", "msl"])
def test_a_kml_in_pieces_gives_what_one_reading_gives(odd_kml, monkeypatch, alt_ref) -> None:
    found = _same_reading(odd_kml, monkeypatch, alt_ref=alt_ref)
    assert found[0].entry["rows_read"] == N_POINTS and len(found) == 8  # 5,600 / 700


def test_a_kmz_in_pieces_gives_what_one_reading_gives(odd_kml, tmp_path, monkeypatch) -> None:
    path = tmp_path / "odd.kmz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("doc.kml", odd_kml.read_text())
    found = _same_reading(path, monkeypatch, time_zone="Europe/Berlin")
    assert found[0].entry["format"] == "kmz" and found[0].entry["time_basis"] == "Europe/Berlin"
    frame, given, raw = _in_blocks(path, rows=1000)  # in blocks, not read whole
    assert len(frame) == 0 and sum(map(len, given)) == N_POINTS and raw.format == "kmz"


def test_tracks_the_stream_cannot_order_are_read_whole_alike(tmp_path, monkeypatch) -> None:
    # a KML 2.3 Track before a gx:Track in one Placemark: the whole reading takes the
    # gx:Track first; so does the reading in blocks (it reads such a file whole)
    late = _track(_stamps(T0 + 5000, 800), _coords(800, 8.6, 20.0), "absolute", tag="Track")
    early = _track(_stamps(T0, 900), _coords(900, 8.7, 20.0), "absolute")
    path = tmp_path / "mixed.kml"
    path.write_text(_document(late + early))
    frame, given, _ = _in_blocks(path, rows=256)
    assert given == [] and len(frame) == 1700
    assert frame["segment"].tolist() == [0] * 900 + [1] * 800  # the gx:Track first
    _same_reading(path, monkeypatch)
    # a coord before gx:coords in one track: the whole reading takes the gx:coords first
    whens = "".join(f"<when>{s}</when>" for s in _stamps(T0, 3))
    coords = "<coord>1 1 1</coord><gx:coord>2 2 2</gx:coord><gx:coord>3 3 3</gx:coord>"
    path.write_text(_document(f"<gx:Track>{whens}{coords}</gx:Track>"))
    frame, given, _ = _in_blocks(path, rows=2)
    assert given == [] and frame["lon"].tolist() == [2.0, 3.0, 1.0]
    pd.testing.assert_frame_equal(frame, read_kml(path).frame)


def test_a_kml_without_times_is_a_route_as_read_whole(tmp_path, monkeypatch) -> None:
    untimed = _track([], _coords(600, 8.0, 10.0))  # a gx:Track of positions only
    line = "<LineString><coordinates>7,49,5 7.1,49.1,6 7.2,49.2,7</coordinates></LineString>"
    path = tmp_path / "route.kml"
    path.write_text(_document(untimed, line))
    frame, given, raw = _in_blocks(path, rows=128)
    assert given == [] and len(frame) == 603 and raw.route == "untimed"
    monkeypatch.setattr(pieces, "BLOCK_ROWS", 128)
    with pytest.warns(gx.InputWarning, match="positions without times"):
        (piece,) = read_track_pieces(path)
    assert piece.entry is not None and piece.entry["status"] == "route"
    assert piece.entry["route"]["positions"] == 603


def test_counts_that_differ_raise_as_the_whole_reading_does(tmp_path, monkeypatch) -> None:
    good = _track(_stamps(T0, 700), _coords(700, 8.0, 10.0), "absolute")
    bad = _track(_stamps(T0 + 900, 650), _coords(649, 8.1, 10.0), "absolute")
    line = "<LineString><coordinates>7,49 7.1,49.1</coordinates></LineString>"
    path = tmp_path / "bad.kml"
    path.write_text(_document(good, line, bad))
    message = "track 3: 650 <when> for 649 <coord>"  # the line is track 2
    with pytest.raises(InputError, match=message):
        read_kml(path)
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    with pytest.raises(InputError, match=message):
        _in_blocks(path, rows=256)
    monkeypatch.setattr(pieces, "BLOCK_ROWS", 256)
    with pytest.raises(InputError, match=message):
        list(read_track_pieces(path, strict=True))
    with pytest.raises(InputError, match=message):
        gx.read_tracks([path], strict=True)
    assert list(root.iterdir()) == []  # the spills removed on error


def test_when_values_that_do_not_read_raise_as_the_whole_reading_does(tmp_path) -> None:
    path = tmp_path / "odd_when.kml"
    path.write_text(_document(_track(["not a time"] * 300, _coords(300, 8.0, 1.0))))
    with pytest.raises(InputError) as whole:
        read_kml(path)
    with pytest.raises(InputError) as blocks:
        _in_blocks(path, rows=64)
    assert str(blocks.value) == str(whole.value)
    assert str(whole.value).startswith("KML <when>: column 'when': no value reads")


def test_a_large_kml_shows_a_bar_of_its_bytes(odd_kml, monkeypatch) -> None:
    from geoexpose.tracks import _kml_parse

    made: list[dict] = []

    class Recorder:  # stands for the bar: what it is told
        def __init__(self, **kwargs) -> None:
            made.append({**kwargs, "done": 0})

        def update(self, n: int) -> None:
            made[-1]["done"] += n

        def close(self) -> None:
            made[-1]["closed"] = True

    monkeypatch.setattr(_kml_parse, "Bar", Recorder)
    given: list[pd.DataFrame] = []
    blocks = RowBlocks(add=given.append, frames=lambda: given, progress=True, rows=4096)
    read_kml(odd_kml, blocks=blocks)
    assert made == []  # a small file: no bar
    monkeypatch.setattr(_kml_parse, "PROGRESS_BYTES", 1000)
    read_kml(odd_kml, blocks=blocks)
    size = odd_kml.stat().st_size
    assert made == [
        {"total": size, "desc": odd_kml.name, "unit": "B", "unit_scale": True, "disable": None,
         "done": size, "closed": True}
    ]  # fmt: skip


def test_real_airdata_kml_in_pieces_is_the_route_of_one_reading(realdata, monkeypatch) -> None:
    paths = sorted((realdata / "tracks" / "airdata_kml").glob("*.kml"))
    assert paths
    monkeypatch.setattr(pieces, "BLOCK_ROWS", 512)
    for path in paths:
        with pytest.warns(gx.InputWarning):
            whole = gx.read_tracks([path]).attrs["geoexpose"]["files"][0]
        with pytest.warns(gx.InputWarning):
            (piece,) = read_track_pieces(path)
        assert piece.entry is not None and piece.entry["status"] == whole["status"] == "route"
        assert piece.entry["route"] == whole["route"] and piece.entry["notes"] == whole["notes"]


def _peak_mb(tmp_path: Path, n: int) -> float:
    """Peak MB over the start of a fresh process that reads a KML of ``n`` points in pieces."""
    path = tmp_path / f"big{n}.kml"
    i = np.arange(n)
    stamps = np.datetime_as_string(T0 + i.astype("timedelta64[s]"), unit="s")
    lat = np.char.mod("%.7f", 50.0 + 0.01 * np.sin(i / 5000))
    lon = np.char.mod("%.7f", 8.0 + 0.01 * np.cos(i / 5000))
    with path.open("w") as out:  # written in parts: its text is not counted in the child
        out.write(f'<kml xmlns="{KML}" xmlns:gx="{GX}"><Placemark><gx:Track>')
        out.write("<altitudeMode>absolute</altitudeMode>")
        for a in range(0, n, 100_000):
            out.write("".join(f"<when>{s}Z</when>" for s in stamps[a : a + 100_000]))
        for a in range(0, n, 100_000):
            xy = zip(lon[a : a + 100_000], lat[a : a + 100_000], strict=True)
            out.write("".join(f"<gx:coord>{x} {y} 210.5</gx:coord>" for x, y in xy))
        out.write("</gx:Track></Placemark></kml>\n")
    return pieces_peak_mb(path, fixes=n, block_rows=16384)  # both files of many blocks


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_the_memory_of_a_huge_kml_does_not_grow_with_its_fixes(tmp_path: Path) -> None:
    # reading whole held the tree of a track (two elements and their texts a point),
    # then its lists and frame: the old code took 114 MB more for the larger file here,
    # some 800 bytes a point; in blocks, what is held is a chunk, a block and a piece
    # (this code: about 7 MB more)
    small = _peak_mb(tmp_path, 50_000)
    large = _peak_mb(tmp_path, 200_000)
    assert small > 5  # the peak is measured (a piece's table of points at least)
    old = 150_000 * 700 / 2**20  # MB more for the larger file at 700 bytes a point
    assert large - small < old / 8, (small, large, old)
