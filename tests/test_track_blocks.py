"""One huge track file is read in blocks through a spill and gives what one reading gives."""

from __future__ import annotations

import sys
import tempfile
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose import _limits
from geoexpose.errors import InputError
from geoexpose.scale import TrackFiles, expose_stream
from geoexpose.tracks import _gpx_points, pieces, read_track_pieces
from geoexpose.tracks.fix_arrays import gap_limits
from tests._blocks_compare import joined, same_fixes
from tests._pieces_peak import pieces_peak_mb
from tests._stream_workloads import assert_same_result
from tests.test_track_pieces import sites_along

T0 = np.datetime64("2024-05-01T08:00:00", "ms")


def _hostile(n: int, seed: int = 3) -> pd.DataFrame:
    """Fixes about 1 s apart (ms jitter) with every fault the cleaning drops, by row."""
    rng = np.random.default_rng(seed)
    step_ms = 1000 + rng.integers(-30, 31, n)
    step_ms[::997] = 9000  # recording gaps within a flight
    step_ms[n // 3] = 400_000  # a new flight (over split_gap_s)
    step_ms[2 * n // 3 :: 3] = 2500  # the last part slower: another median interval
    t = T0 + np.cumsum(step_ms).astype("timedelta64[ms]")
    heading = np.cumsum(rng.normal(0, 0.08, n))
    lon = 8.0 + 0.00009 * np.cumsum(np.cos(heading))
    lat = 50.0 + 0.00006 * np.cumsum(np.sin(heading))
    ele = 200 + np.minimum(np.arange(n) % 3000, 60) + rng.normal(0, 0.05, n)
    ele[:10], lon[:10], lat[:10] = 200.0, lon[0], lat[0]  # starts still on the ground
    stamps = np.char.add(np.datetime_as_string(t, unit="ms"), "Z").astype(object)
    stamps[n // 5] = "2999-01-01T00:00:00Z"  # time_out_of_range
    stamps[n // 2] = "2024-08-01T00:00:00Z"  # a lone fix ahead of its track
    back = 3 * n // 4 + 500  # in the third track: five rows 30 s back, time_backwards
    for k in range(back, back + 5):  # (the ~30 rows before them are more: not ahead)
        stamps[k] = str(np.datetime_as_string(t[k] - 30_000, unit="ms")) + "Z"
    stamps[n // 7] = stamps[n // 7 - 1]  # duplicate_time
    stamps[n // 10] = None  # no_fix
    lon[n // 4] += 0.05  # a GPS jump
    lat[n // 8], lon[n // 8] = 0.0, 0.0  # null_island
    lat[n // 9] = 95.0  # out_of_range
    ele[n // 11] = 1e9  # an absurd height: emptied
    return pd.DataFrame({"lon": lon, "lat": lat, "ele": ele, "time": stamps})


def _write_gpx(path: Path, points: pd.DataFrame, cuts: tuple[int, ...]) -> None:
    """A drone app's GPX of the points, a new <trk> at each of ``cuts``."""
    rows = []
    for lat, lon, ele, stamp in zip(
        points["lat"], points["lon"], points["ele"], points["time"], strict=True
    ):
        time = f"<time>{stamp}</time>" if stamp is not None else ""
        rows.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{ele:.2f}</ele>{time}</trkpt>')
    bounds = [0, *cuts, len(rows)]
    body = "".join(f"<trk><trkseg>{''.join(rows[a:b])}</trkseg></trk>" for a, b in pairwise(bounds))
    head = '<?xml version="1.0"?>\n<gpx version="1.1" creator="DJI Fly" '
    path.write_text(f'{head}xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>\n')


@pytest.fixture(scope="module")
def hostile_gpx(tmp_path_factory: pytest.TempPathFactory):
    n = 9_000
    points = _hostile(n)
    path = tmp_path_factory.mktemp("blocks") / "hostile.gpx"
    _write_gpx(path, points, (n // 2 + 7, 3 * n // 4))
    return path, points


def test_blocks_keep_and_drop_what_one_reading_does(hostile_gpx, monkeypatch) -> None:
    path, _ = hostile_gpx
    whole = gx.read_tracks(path, duplicates="keep")
    w_entry = whole.attrs["geoexpose"]["files"][0]
    monkeypatch.setattr(_gpx_points, "_BATCH", 640)  # 15 blocks: flights across them
    found = list(read_track_pieces(path, piece_fixes=700, max_gap_s=2.0, gap_factor=3.0))
    entry = found[0].entry
    # hand counts of the faults written
    expected = {"no_fix": 1, "null_island": 1, "out_of_range": 1, "time_out_of_range": 1}
    expected |= {"time_ahead": 1, "duplicate_time": 1, "time_backwards": 5, "gps_jump": 1}
    assert {k: entry["dropped"][k] for k in expected} == expected
    assert entry["dropped"] == w_entry["dropped"]
    assert entry["rows_read"] == w_entry["rows_read"] == 9_000
    assert entry["notes"] == w_entry["notes"]  # the height emptied, the take-off heights
    assert entry["flights"] == w_entry["flights"]
    assert len(entry["flights"]) >= 4  # three tracks and a split
    same_fixes(joined(found), whole)
    # each flight's gap limit is the whole flight's (the median interval, exact)
    codes = pd.factorize(whole["flight_id"])[0]
    t_ns = whole["time_utc"].array.asi8
    limits = gap_limits(codes, t_ns, max_gap_s=2.0, gap_factor=3.0)
    got = {}
    for piece in found:
        got.update(piece.gap_limits)
    assert [got[f] for f in entry["flights"]] == limits.tolist()
    assert sorted(set(limits.round(6).tolist())) != [2.0]  # medians worked out, not the floor


def test_a_hostile_gpx_in_blocks_gives_the_answer_of_one_call(hostile_gpx, monkeypatch) -> None:
    path, points = hostile_gpx
    sites = sites_along(points[points["lat"].between(40, 60)], every=151)
    fixes = gx.read_tracks(path)
    expected = gx.expose(sites, fixes)
    monkeypatch.setattr(_gpx_points, "_BATCH", 500)
    got = expose_stream(sites, TrackFiles((str(path),)), piece_fixes=600, simplify_m=None)
    assert got.stats["pieces"] == 15
    assert_same_result(expected, got)


def _write_csv(path: Path, points: pd.DataFrame, flights: np.ndarray | None = None) -> None:
    frame = pd.DataFrame(
        {
            "time": points["time"],
            "latitude": points["lat"].round(7),
            "longitude": points["lon"].round(7),
            "altitude": (points["ele"] - 200).round(2),
        }
    )
    if flights is not None:
        frame.insert(0, "flight_id", flights)
    frame.to_csv(path, index=False)


@pytest.mark.parametrize("order", ["no ids", "ids in order", "ids out of order"])
def test_a_csv_in_blocks_gives_the_answer_of_one_call(tmp_path: Path, monkeypatch, order) -> None:
    n = 6_000
    points = _hostile(n, seed=5)
    flights = None
    if order != "no ids":  # flights B then A (in order: runs), then B again (out of order)
        flights = np.where(np.arange(n) < n // 2, "B", "A")
        if order == "ids out of order":  # cleaned whole, and said so
            flights[n - 100 :] = "B"
    path = tmp_path / "t.csv"
    _write_csv(path, points, flights)
    fixes = gx.read_tracks(path)
    xy = pd.DataFrame({"lon": fixes.geometry.x, "lat": fixes.geometry.y})
    sites = sites_along(xy, every=157)
    expected = gx.expose(sites, fixes)
    monkeypatch.setattr(pieces, "BLOCK_ROWS", 512)
    got = expose_stream(sites, [str(path)], piece_fixes=450, simplify_m=None)
    assert got.stats["pieces"] >= 13
    assert_same_result(expected, got)
    notes = got.inputs["tracks"][0]["notes"]
    assert any("read and cleaned whole" in note for note in notes) == (order == "ids out of order")


def _spills(root: Path) -> list[Path]:
    return sorted(root.glob("geoexpose_spill_*"))


def test_the_spill_folder_goes_at_the_end_and_on_error(hostile_gpx, tmp_path, monkeypatch):
    path, _ = hostile_gpx
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    monkeypatch.setattr(_gpx_points, "_BATCH", 1000)
    reading = read_track_pieces(path, piece_fixes=1_000)
    next(reading)
    assert len(_spills(root)) == 1  # there while the pieces are given
    assert len(list(_spills(root)[0].iterdir())) >= 9  # the kept blocks
    list(reading)
    assert _spills(root) == []
    reading = read_track_pieces(path, piece_fixes=1_000)
    next(reading)
    reading.close()  # a reader that stops half-way
    assert _spills(root) == []
    # a file cut short after most of its points were read and spilled
    cut = tmp_path / "cut.gpx"
    cut.write_bytes(path.read_bytes()[: int(path.stat().st_size * 0.9)])
    with pytest.raises(InputError, match="malformed XML"):
        list(read_track_pieces(cut, strict=True))
    assert _spills(root) == []
    with pytest.warns(gx.InputWarning, match="malformed XML"):
        (piece,) = read_track_pieces(cut)
    assert piece.entry is not None and piece.entry["status"] == "skipped"
    assert _spills(root) == []


def _peak_mb(tmp_path: Path, n: int) -> float:
    """Peak MB over the start of a fresh process that reads a GPX of ``n`` points in pieces."""
    path = tmp_path / f"big{n}.gpx"
    i = np.arange(n)
    t = T0 + (i * 1000 + 400_000 * (i >= n // 2)).astype("timedelta64[ms]")
    stamps = np.datetime_as_string(t, unit="s")
    lat = np.char.mod("%.7f", 50.0 + 0.01 * np.sin(i / 5000))
    lon = np.char.mod("%.7f", 8.0 + 0.01 * np.cos(i / 5000))
    with path.open("w") as out:
        out.write('<?xml version="1.0"?>\n<gpx version="1.1" creator="DJI Fly"><trk><trkseg>')
        for a in range(0, n, 100_000):  # written in parts: its text is not counted in the child
            b = min(n, a + 100_000)
            out.write(
                "".join(
                    f'<trkpt lat="{y}" lon="{x}"><ele>210.5</ele><time>{s}Z</time></trkpt>'
                    for y, x, s in zip(lat[a:b], lon[a:b], stamps[a:b], strict=True)
                )
            )
        out.write("</trkseg></trk></gpx>\n")
    return pieces_peak_mb(path, fixes=n)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_the_memory_of_a_huge_gpx_does_not_grow_with_its_fixes(tmp_path: Path) -> None:
    # reading whole took about 65 bytes a fix more for the file (its kept columns and
    # the working arrays of the cleaning); in blocks, what is held is a block and a piece
    small = _peak_mb(tmp_path, 200_000)
    large = _peak_mb(tmp_path, 800_000)
    assert small > 5  # the peak is measured (a piece's table of points at least)
    # MB more for the larger file at the old 65 bytes a fix (the old code: 57 MB more
    # here; this code: about 4)
    old = 600_000 * 65 / 2**20
    assert large - small < old / 4, (small, large, old)


def test_a_dji_flight_record_over_the_bound_is_refused_unread(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "DJIFlightRecord_2024-05-01_[08-00-00].txt"
    path.write_bytes(b"\x00" * 4096)
    monkeypatch.setattr(_limits, "MAX_RECORD_BYTES", 2048)
    read = []
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self) or b"")
    with pytest.warns(gx.InputWarning) as caught:
        fixes = gx.read_tracks(path, format="dji_txt")
    (warning,) = [str(w.message) for w in caught]
    assert warning == (
        f"{path}: 4096 bytes, more than the 2 KiB a DJI flight record may have; refused, not read"
    )
    assert len(fixes) == 0 and read == []  # not read at all


def test_a_video_subtitle_file_over_the_bound_is_refused_unread(
    tmp_path: Path, monkeypatch
) -> None:
    # a real DJI SRT's first block, repeated past the (lowered) bound
    block = (
        '1\n00:00:00,000 --> 00:00:00,033\n<font size="28">FrameCnt: 1, DiffTime: 33ms\n'
        "2024-05-01 08:00:00.000\n[latitude: 55.000000] [longitude: 12.000000] "
        "[rel_alt: 50.000 abs_alt: 80.000] </font>\n\n"
    )
    path = tmp_path / "DJI_0001.SRT"
    path.write_text(block * 40)
    size = path.stat().st_size
    monkeypatch.setattr(_limits, "MAX_RECORD_BYTES", 2048)
    with pytest.warns(gx.InputWarning) as caught:
        fixes = gx.read_tracks(path)
    said = [str(w.message) for w in caught]
    assert said == [
        f"{path}: {size} bytes, more than the 2 KiB a video subtitle (SRT) file may have; "
        "refused, not read"
    ]
    assert len(fixes) == 0
    monkeypatch.setattr(_limits, "MAX_RECORD_BYTES", size)  # at the bound: read
    assert len(gx.read_tracks(path, time_zone="UTC")) >= 1


def test_a_large_gpx_shows_a_bar_of_its_bytes(hostile_gpx, monkeypatch) -> None:
    path, _ = hostile_gpx
    made: list[dict] = []

    class Recorder:  # stands for the bar: what it is told
        def __init__(self, **kwargs) -> None:
            made.append({**kwargs, "done": 0})

        def update(self, n: int) -> None:
            made[-1]["done"] += n

        def close(self) -> None:
            made[-1]["closed"] = True

    monkeypatch.setattr(_gpx_points, "Bar", Recorder)
    _gpx_points.read_gpx_points(path, progress=True)
    assert made == []  # a small file: no bar
    monkeypatch.setattr(_gpx_points, "PROGRESS_BYTES", 1000)
    _gpx_points.read_gpx_points(path, progress=False)
    assert made == []  # not asked for (-q)
    _gpx_points.read_gpx_points(path, progress=True)
    size = path.stat().st_size
    assert made == [
        {"total": size, "desc": path.name, "unit": "B", "unit_scale": True, "disable": None,
         "done": size, "closed": True}
    ]  # fmt: skip


def test_a_gpx_without_times_is_a_route_as_read_whole(hostile_gpx, tmp_path, monkeypatch) -> None:
    path, _ = hostile_gpx
    untimed = tmp_path / "untimed.gpx"
    text = path.read_text()
    while "<time>" in text:  # every <time> element taken out
        a = text.index("<time>")
        text = text[:a] + text[text.index("</time>", a) + len("</time>") :]
    untimed.write_text(text)
    monkeypatch.setattr(_gpx_points, "_BATCH", 1000)
    with pytest.warns(gx.InputWarning, match="positions without times"):
        (piece,) = read_track_pieces(untimed)
    assert piece.entry is not None and len(piece.rows) == 0
    # 9,000 points less the one at 0/0 and the one at latitude 95
    assert piece.entry["status"] == "route" and piece.entry["route"]["positions"] == 8_998
