"""A huge CSV track is parsed in blocks and gives what the whole file read at once gives.

Each test writes a CSV whose columns a block alone would read otherwise than the
whole column (epoch units by the median, a date layout first met late, numbers and
text in one column, times refined by an elapsed clock anchored in a later block),
reads it in pieces through blocks of 64 rows, and compares fixes and file entry
with one reading of the whole file. Expected values in the hand checks are worked
out from the rows written.
"""

from __future__ import annotations

import contextlib
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pytest

import geoexpose as gx
from geoexpose import _limits
from geoexpose.errors import InputError
from geoexpose.tracks import _csv_blocks, _csv_layout, read_track_pieces
from tests._blocks_compare import WHOLE, same_as_whole
from tests._pieces_peak import pieces_peak_mb
from tests.test_track_dji_csv import DJI_LOG_HEADER, PHANTOMHELP_HEADER

T0 = pd.Timestamp("2024-05-01 08:00:00", tz="UTC")


def _path(n: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(n)
    return 50.0 + 0.0002 * np.sin(i / 40) + 0.00001 * i, 8.0 + 0.00001 * i


def test_airdata_times_follow_the_elapsed_clock_anchored_in_a_later_block(
    tmp_path: Path, monkeypatch
) -> None:
    n = 1_000
    rng = np.random.default_rng(1)
    elapsed = np.cumsum(100 + rng.integers(-3, 4, n))  # ms, ten fixes a second
    elapsed[600:] += 120_000  # two minutes without fixes: a second flight
    stamps = (T0 + pd.to_timedelta(elapsed, unit="ms")).floor("s").strftime("%Y-%m-%d %H:%M:%S")
    stamps = stamps.to_numpy(dtype=object)
    stamps[:70] = ""  # the clock of the first 70 rows is not yet set (blocks 1 and 2)
    lat, lon = _path(n)
    frame = pd.DataFrame(
        {
            "time(millisecond)": elapsed,
            "datetime(utc)": stamps,
            "latitude": lat.round(7),
            "longitude": lon.round(7),
            "height_above_takeoff(feet)": np.minimum(np.arange(n) % 600, 100),
        }
    )
    path = tmp_path / "airdata.csv"
    frame.to_csv(path, index=False)
    whole, entry = same_as_whole(path, monkeypatch)
    assert entry["format"] == "airdata_csv"
    assert len(entry["flights"]) == 2
    # the anchor: row 70, its whole second; every row then follows the elapsed clock
    anchor = pd.Timestamp(stamps[70], tz="UTC")
    expected = anchor + pd.to_timedelta(elapsed - elapsed[70], unit="ms")
    assert whole["time_utc"].tolist() == list(expected)  # rows 0-69 too: from the clock


def test_epoch_numbers_take_the_unit_of_the_whole_column(tmp_path: Path, monkeypatch) -> None:
    n = 1_000
    ms = (T0.value // 1_000_000 + 1000 * np.arange(n)).astype(object)
    ms[:200] = [v // 1000 for v in ms[:200]]  # seconds in the first blocks: 1970 in ms
    ms[900] = "99999999999999999999"  # too big for int64: this block is text
    ms[950] = None  # and this one decimals
    lat, lon = _path(n)
    frame = pd.DataFrame({"timestamp": ms, "lat": lat.round(7), "lon": lon.round(7)})
    # whole numbers, then a decimal in the last block: "1.0", "2.0" in every block, as
    # whole (a block of whole numbers alone would say "2", another track than "2.0")
    frame["flight_id"] = pd.Series([1] * 500 + [2] * 480 + [2.5] * 20, dtype=object)
    path = tmp_path / "epochs.csv"
    frame.to_csv(path, index=False)
    whole, entry = same_as_whole(path, monkeypatch)
    # the median is in milliseconds: the 200 seconds and the huge value are far
    # outside any flight, and the blank has no time
    assert entry["dropped"]["time_out_of_range"] == 201
    assert entry["dropped"]["no_fix"] == 1
    assert whole["time_utc"].iloc[0] == T0 + pd.Timedelta(seconds=200)
    assert entry["flights"] == ["epochs.csv#1", "epochs.csv#2", "epochs.csv#3"]
    assert (whole["flight_id"] == "epochs.csv#2").sum() == 480 - 2  # rows 900 and 950


def test_a_date_layout_first_met_late_is_guessed_once(tmp_path: Path, monkeypatch) -> None:
    n = 1_000
    t = T0.tz_localize(None) + pd.to_timedelta(np.arange(n) * 1500, unit="ms")
    text = t.strftime("%Y-%m-%d %H:%M:%S.%f").to_numpy(dtype=object)  # ISO 8601
    late = t[500:].strftime("%m/%d/%Y %H:%M:%S.%f")  # another layout from block 8 on
    text[500:] = late
    # the first of block 12, not in that layout (a day 13): read by itself, while the
    # rest of its block keeps the layout guessed from row 500 (month first)
    text[768] = "13/05/2024 08:19:12.000000"
    lat, lon = _path(n)
    path = tmp_path / "layouts.csv"
    pd.DataFrame({"time": text, "lat": lat.round(7), "lon": lon.round(7)}).to_csv(path, index=False)
    whole, entry = same_as_whole(path, monkeypatch, time_zone="Europe/Berlin")
    assert entry["time_basis"] == "Europe/Berlin"
    utc = (t - pd.Timedelta(hours=2)).tz_localize("UTC")  # Berlin: two hours ahead in May
    # 13 May is twelve days ahead of its track: dropped
    assert entry["dropped"]["time_ahead"] == 1
    assert whole["time_utc"].tolist() == list(utc.delete(768))


def test_a_date_column_goes_before_times_of_day_decided_by_the_first_time(
    tmp_path: Path, monkeypatch
) -> None:
    n = 800
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    clock = t.strftime("%H:%M:%S").to_numpy(dtype=object)
    clock[:150] = None  # no time in the first blocks: the decision waits for block 3
    lat, lon = _path(n)
    frame = pd.DataFrame(
        {"date": t.strftime("%Y-%m-%d"), "time": clock, "lat": lat.round(7), "lon": lon}
    )
    path = tmp_path / "date_and_clock.csv"
    frame.to_csv(path, index=False)
    with pytest.warns(gx.InputWarning, match="no time zone"):
        whole, entry = same_as_whole(path, monkeypatch)
    assert entry["dropped"]["no_fix"] == 150
    assert whole["time_utc"].iloc[0] == t[150]


def test_numbers_and_text_in_one_column_are_text_in_every_block(
    tmp_path: Path, monkeypatch
) -> None:
    n = 600
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    text = t.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)
    text[:100] = [str(v // 10**9) for v in t[:100].asi8]  # epoch seconds in blocks 1-2
    lat, lon = _path(n)
    height = np.full(n, 30.0).astype(object)
    height[300] = "n/a"  # one block of text in a column of numbers
    # tracks "1.50", then "1.5", then "B": three as text; a block of numbers alone
    # would read both first ones as 1.5, one track
    track = np.repeat(np.array(["1.50", "1.5", "B"], dtype=object), [250, 250, 100])
    path = tmp_path / "mixed.csv"
    frame = pd.DataFrame({"time": text, "lat": lat.round(7), "lon": lon, "alt": height})
    frame.insert(0, "flight_id", track)
    frame.to_csv(path, index=False)
    with pytest.warns(gx.InputWarning, match="no time zone"):  # the epoch text, as dates
        whole, entry = same_as_whole(path, monkeypatch)
    assert whole["alt_agl_m"].isna().sum() == 1
    assert len(entry["flights"]) == 3


def test_a_cut_last_line_and_windows_text_are_said_as_whole(tmp_path: Path, monkeypatch) -> None:
    n = 500
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    lat, lon = _path(n)
    lines = ["time,lat,lon,pilot"]
    lines += [
        f"{s},{y:.7f},{x:.7f},J\xf6rg"
        for s, y, x in zip(t.strftime("%Y-%m-%dT%H:%M:%SZ"), lat, lon, strict=True)
    ]
    path = tmp_path / "cut.csv"
    path.write_bytes(("\n".join(lines) + "\n2024-05-01T09:00:00Z,50.1").encode("cp1252"))
    whole, entry = same_as_whole(path, monkeypatch)
    assert entry["dropped"]["truncated_row"] == 1
    assert f"line {n + 2}: last row cut short (file truncated?); dropped" in entry["notes"]
    assert "not UTF-8; text decoded as cp1252" in entry["notes"]
    assert len(whole) == n


def _odd_csv(tmp_path: Path, change) -> Path:
    n = 400
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    lat, lon = _path(n)
    rows = zip(t.strftime("%Y-%m-%dT%H:%M:%SZ"), lat, lon, strict=True)
    text = "time,lat,lon\n" + "".join(f"{s},{y:.7f},{x:.7f}\n" for s, y, x in rows)
    path = tmp_path / "odd.csv"
    path.write_text(change(text), newline="")
    return path


@pytest.mark.parametrize(
    ("change", "bad_rows"),
    [
        (lambda text: re.sub(r"(:10Z),([^,]+),", r'\1,"\2",', text.replace("time", '"time"')), 0),
        (lambda text: text.replace("\n", "\r\n", 5).replace("\r\n", "\r", 1), 0),
        (lambda text: text.replace(",", "\t"), 0),
        (lambda text: text.replace(":10Z,", ":10Z,1,").replace(":20Z,", ":20Z,1,"), 14),
        (lambda text: text.replace("time,lat,lon", "time,lat,lon, lat,"), 0),
    ],
    ids=["quotes", "bare carriage return", "tab", "more fields", "repeated and blank names"],
)
def test_a_csv_that_may_hide_fields_is_parsed_whole_width_in_blocks(
    tmp_path: Path, monkeypatch, change, bad_rows
) -> None:
    path = _odd_csv(tmp_path, change)
    layouts = []
    layout = _csv_blocks.csv_layout
    monkeypatch.setattr(
        _csv_blocks, "csv_layout", lambda p: layouts.append(layout(p)) or layouts[-1]
    )
    _, entry = same_as_whole(path, monkeypatch)
    assert layouts[-1].names is None  # every column parsed, as the whole reading does
    assert entry["dropped"]["bad_row"] == bad_rows  # 7 minutes with :10 and :20 seconds


def _dji_csv(path: Path, header: str, n: int, row) -> Path:
    """A DJI-family export of ``n`` rows: ``row(k)`` gives row k's values by column name."""
    names = header.split(",")
    lines = [header] + [",".join(str(row(k).get(name, "")) for name in names) for k in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_phantomhelp_export_is_fixed_up_block_by_block(tmp_path: Path, monkeypatch) -> None:
    n = 700
    lat, lon = _path(n)
    start = pd.Timestamp("2024-05-01 11:58:00")  # the phone's wall clock, 12-hour

    def row(k: int) -> dict:
        t = start + pd.Timedelta(milliseconds=500 * k)
        return {
            "CUSTOM.date [local]": f"{t.month}/{t.day}/{t.year}",
            "CUSTOM.updateTime [local]": t.strftime("%I:%M:%S.%f")[:-4] + t.strftime(" %p"),
            "OSD.latitude": f"{lat[k]:.7f}",
            "OSD.longitude": f"{lon[k]:.7f}",
            "OSD.height [ft]": f"{min(k, 300) * 0.5:.1f}",
            "OSD.hSpeed [MPH]": "11.2",
            "CAMERA.isPhoto": "TRUE" if k % 50 == 0 else "",
            # the aircraft named from row 120 on: found in the first 200 rows, blocks 2-4
            "RECOVER.aircraftName": "Mavic 3" if k >= 120 else "",
            "RECOVER.aircraftSerial": "1581F4XF" if k >= 120 else "",
        }

    path = _dji_csv(tmp_path / "phantomhelp.csv", PHANTOMHELP_HEADER, n, row)
    whole, entry = same_as_whole(path, monkeypatch, time_zone="America/Los_Angeles")
    assert entry["format"] == "phantomhelp_csv"
    # 11:58 in Los Angeles in May (PDT) is 18:58 UTC; the clock runs past noon
    assert whole["time_utc"].iloc[0] == pd.Timestamp("2024-05-01 18:58:00", tz="UTC")
    assert whole["time_utc"].iloc[-1] == pd.Timestamp("2024-05-01 19:03:49.500", tz="UTC")


def test_a_dji_log_parser_export_gets_its_ground_speed_in_blocks(
    tmp_path: Path, monkeypatch
) -> None:
    n = 500
    lat, lon = _path(n)

    def row(k: int) -> dict:
        t = T0 + pd.Timedelta(milliseconds=100 * k)
        return {
            "CUSTOM.dateTime": t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "OSD.latitude": f"{lat[k]:.7f}",
            "OSD.longitude": f"{lon[k]:.7f}",
            "OSD.height": "42.0",
            "OSD.xSpeed": "3.0",
            "OSD.ySpeed": "4.0" if k != 300 else "n/a",  # text in one block only
        }

    path = _dji_csv(tmp_path / "dji_log.csv", DJI_LOG_HEADER, n, row)
    whole, entry = same_as_whole(path, monkeypatch)
    assert entry["format"] == "dji_log_csv"
    speeds = whole["speed_m_s"].to_numpy()
    assert np.isnan(speeds[300]) and np.allclose(np.delete(speeds, 300), 5.0)  # 3-4-5


def test_the_real_dji_family_export_reads_in_blocks_as_whole(realdata: Path, monkeypatch) -> None:
    (path,) = sorted((realdata / "tracks" / "txtlogtocsv_csv").glob("*.csv"))
    _, entry = same_as_whole(path, monkeypatch, time_zone="Europe/Berlin")
    assert entry["format"] == "txtlogtocsv_csv" and entry["rows_read"] > 2_000


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda text: re.sub(r"(?m)^[^,]*,(.*)$", r"\1,30,0.2", text).replace(
            "lat,lon,30,0.2", "latitude,longitude,altitude(m),curvesize(m)"),
         "a planned route (Litchi mission), not a flight log: waypoints without times"),
        (lambda text: "\ufeff" + text, f"{WHOLE}: blank or UTF-16"),
    ],
    ids=["litchi mission", "utf-16"],
)  # fmt: skip
def test_what_cannot_be_parsed_in_blocks_is_read_whole_and_said(
    tmp_path: Path, monkeypatch, change, why
) -> None:
    path = _odd_csv(tmp_path, change)
    if why.endswith("UTF-16"):
        path.write_bytes(path.read_text().encode("utf-16"))
    route = contextlib.nullcontext()
    if "Litchi" in why:  # a route: no fixes, and said
        route = pytest.warns(gx.InputWarning, match="planned route .* 400 waypoints")
    with route:
        _, entry = same_as_whole(path, monkeypatch, in_blocks=not why.startswith(WHOLE))
    assert why in entry["notes"]


def test_long_lines_make_blocks_of_fewer_rows(tmp_path: Path, monkeypatch) -> None:
    n = 600
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    lat, lon = _path(n)
    note = np.full(n, "", dtype=object)
    note[[5, 300]] = "x" * 200_000  # two lines of 200 kB among short ones
    frame = pd.DataFrame({"time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "lat": lat, "lon": lon})
    frame["note"] = note
    path = tmp_path / "long_lines.csv"
    frame.to_csv(path, index=False)
    asked = []
    tables = _csv_blocks._tables
    monkeypatch.setattr(
        _csv_blocks,
        "_tables",
        lambda p, layout, rows, *a, **k: asked.append(rows) or tables(p, layout, rows, *a, **k),
    )
    monkeypatch.setattr(_csv_blocks, "_BLOCK_BYTES", 4 << 20)
    same_as_whole(path, monkeypatch)
    assert asked == [20]  # 4 MiB of the longest line's 200,014 bytes (64 asked)


def test_a_header_without_positions_is_refused_unparsed(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "nopos.csv"
    path.write_text("time,foo,bar\n" + "2024-05-01T08:00:00Z,1,2\n" * 300)
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    monkeypatch.setattr(_csv_blocks, "_tables", None)  # never parsed: the header says it
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)


def test_a_nul_byte_is_refused_as_whole(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"time,lat,lon\n" + b"2024-05-01T08:00:00Z,50,8\n" * 300 + b"\x00\n")
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)
    assert "NUL byte at offset 7813" in str(blocks.value)  # 13 + 300 * 26


def test_a_line_too_long_is_refused_as_whole_before_a_nul(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(_limits, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(_csv_layout, "_CHUNK", 1024)  # the NUL and the line in other chunks
    rows = b"2024-05-01T08:00:00Z,50,8\n" * 300
    path = tmp_path / "long.csv"
    # a NUL byte early and a line of 5,000 bytes later: the line is said, as whole
    path.write_bytes(b"time,lat,lon\n\x00\n" + rows + b"x" * 5000 + b"\n" + rows)
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)
    assert "line 303 is longer than 4 KiB" in str(blocks.value)


def test_the_real_airdata_logs_read_in_blocks_as_whole(realdata: Path, monkeypatch) -> None:
    for path in sorted((realdata / "tracks" / "airdata_csv").glob("*.csv")):
        _, entry = same_as_whole(path, monkeypatch)
        assert entry["rows_read"] > 11_000


def test_a_large_csv_shows_a_bar_of_its_bytes(tmp_path: Path, monkeypatch) -> None:
    made: list[dict] = []

    class Recorder:  # stands for the bar: what it is told
        def __init__(self, **kwargs) -> None:
            made.append({**kwargs, "done": 0})

        def update(self, n: int) -> None:
            made[-1]["done"] += n

        def close(self) -> None:
            made[-1]["closed"] = True

    lat, lon = _path(300)
    path = tmp_path / "bar.csv"
    rows = "".join(
        f"2024-05-01T08:{k // 60:02d}:{k % 60:02d}Z,{lat[k]},{lon[k]}\n" for k in range(300)
    )
    path.write_bytes(b"\n\n" + f"time,lat,lon\n{rows}".encode())  # two blank lines first
    monkeypatch.setattr(_csv_blocks, "Bar", Recorder)
    list(read_track_pieces(path, progress=True))
    assert made == []  # a small file: no bar
    monkeypatch.setattr(_csv_blocks, "PROGRESS_BYTES", 1000)
    list(read_track_pieces(path, progress=False))
    assert made == []  # not asked for (-q)
    list(read_track_pieces(path, progress=True))
    size = path.stat().st_size - 2  # the header and rows
    assert made == [
        {"total": size, "desc": path.name, "unit": "B", "unit_scale": True, "disable": None,
         "done": size, "closed": True}
    ]  # fmt: skip


def _peak_mb(tmp_path: Path, n: int) -> float:
    """Peak MB over the start of a fresh process that reads an AirData CSV of ``n`` rows."""
    path = tmp_path / f"big{n}.csv"
    i = np.arange(n)
    lat, lon = _path(n)
    start = np.datetime64(T0.tz_localize(None), "s")
    table = pa.table(
        {
            "time(millisecond)": i * 100,
            "datetime(utc)": np.datetime_as_string(start + (i // 10).astype("timedelta64[s]")),
            "latitude": lat.round(7),
            "longitude": lon.round(7),
            "height_above_takeoff(feet)": np.full(n, 100.0),
        }
    )
    # written by Arrow, without quotes: its text is not counted in the child
    with path.open("wb") as out:
        out.write(",".join(table.column_names).encode() + b"\n")
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        pa_csv.write_csv(table, out, options)
    del table
    return pieces_peak_mb(path, fixes=n)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_the_memory_of_a_huge_csv_does_not_grow_with_its_rows(tmp_path: Path) -> None:
    # parsed whole, a CSV took about 370 bytes a row (the code before: 327 MB over the
    # start for 800,000 rows, 619 MB for 1,600,000); in blocks, a block and a piece
    # (61 MB for 200,000 rows, then 95 and 98 MB: what the allocator keeps, not rows)
    small = _peak_mb(tmp_path, 800_000)
    large = _peak_mb(tmp_path, 1_600_000)
    assert small > 5  # the peak is measured (a piece's table of points at least)
    old = 800_000 * 370 / 2**20  # MB more for the larger file, parsed whole
    assert large - small < old / 8, (small, large, old)
