"""CSV tracks parsed for the columns their mapping reads: rows and values as a whole parse.

Expected values are written out by hand; the last test compares the two parses.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from geoexpose._limits import LimitError, check_line_bytes, check_line_lengths
from geoexpose.schema import ALT_AGL_M, TIME_UTC
from geoexpose.tracks import _csv
from geoexpose.tracks.read import read_tracks

HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "altitude_above_seaLevel(feet), pitch(degrees),isPhoto,message"
)
ROWS = [
    "0,2024-05-01 10:00:00,50.0,8.0,10,400, -0.5,0,Takeoff",
    "1000,2024-05-01 10:00:01,50.001,8.001,20,410, 0.5,0,",
    "2000,2024-05-01 10:00:02,50.002,8.002,30,420, 1.5,1,ok",
]
FOOT = 0.3048


def _write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode())
    return path


def _read(path: Path) -> tuple[pd.DataFrame, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixes = read_tracks(path, duplicates="keep")
    return fixes, fixes.attrs["geoexpose"]["files"][0]


def test_a_row_with_an_extra_field_is_dropped_and_counted(tmp_path):
    rows = [ROWS[0], ROWS[1] + ",surplus", ROWS[2]]
    fixes, entry = _read(_write(tmp_path / "extra.csv", rows))
    assert entry["format"] == "airdata_csv"
    assert entry["dropped"]["bad_row"] == 1
    assert fixes.geometry.y.tolist() == [50.0, 50.002]
    assert any("line 3" in note for note in entry["notes"])


def test_blanks_before_values_of_the_columns_read_are_dropped(tmp_path):
    rows = [r.replace(",50.0", ", 50.0").replace(",8.0", ",\t8.0") for r in ROWS]
    fixes, entry = _read(_write(tmp_path / "blanks.csv", rows))
    assert entry["dropped"]["bad_row"] == 0
    assert fixes.geometry.y.tolist() == [50.0, 50.001, 50.002]
    assert fixes.geometry.x.tolist() == [8.0, 8.001, 8.002]
    assert fixes[ALT_AGL_M].tolist() == pytest.approx([10 * FOOT, 20 * FOOT, 30 * FOOT])


def test_a_quoted_separator_stays_in_its_field(tmp_path):
    rows = [ROWS[0], ROWS[1] + '"a, b"', ROWS[2]]
    fixes, entry = _read(_write(tmp_path / "quoted.csv", rows))
    assert entry["dropped"]["bad_row"] == 0
    assert len(fixes) == 3
    stamps = pd.to_datetime(["2024-05-01 10:00:00", "2024-05-01 10:00:01", "2024-05-01 10:00:02"])
    assert fixes[TIME_UTC].tolist() == list(stamps.tz_localize("UTC"))


def test_a_repeated_column_name_keeps_the_first_column(tmp_path):
    rows = [r + ",1.0" for r in ROWS]
    fixes, _ = _read(_write(tmp_path / "twice.csv", rows, HEADER + ", latitude"))
    assert fixes.geometry.y.tolist() == [50.0, 50.001, 50.002]


def test_check_line_bytes_gives_the_line_ends_and_refuses_a_long_line():
    assert check_line_bytes(b"ab\ncd\n\nxyz").tolist() == [2, 5, 6]
    with pytest.raises(LimitError, match="line 3 "):
        check_line_bytes(b"a\nbb\n" + b"c" * 30 + b"\nd\n", limit=20)
    with pytest.raises(LimitError, match="line 2 "):
        check_line_bytes(b"a\n" + b"c" * 21, limit=20)  # the last line, without its end
    check_line_bytes(b"a\n" + b"c" * 19 + b"\n", limit=20)  # 20 bytes with its end: allowed


def test_check_line_bytes_agrees_with_check_line_lengths(tmp_path):
    for data in (b"a" * 20 + b"\n", b"a" * 21 + b"\n", b"\n" * 3 + b"b" * 21, b"x,y\n1,2"):
        path = tmp_path / "lines.csv"
        path.write_bytes(data)
        try:
            check_line_lengths(path, limit=20)
            expected = None
        except LimitError as exc:
            expected = str(exc)
        try:
            check_line_bytes(data, limit=20)
            got = None
        except LimitError as exc:
            got = str(exc)
        assert got == expected


VARIANTS = {
    "plain": ROWS,
    "fewer_fields": [ROWS[0], "1000,2024-05-01 10:00:01,50.001", ROWS[2]],
    "blank_lines": [ROWS[0], "", ROWS[1], ROWS[2]],
    "blank_in_a_column_read": [ROWS[0], ROWS[1].replace(",20,", ", ,"), ROWS[2]],
    "leading_blank": [" " + ROWS[0], ROWS[1], ROWS[2]],
    "crlf": [r + "\r" for r in ROWS],
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("kw", [{}, {"format": "csv"}, {"time_zone": "Europe/Berlin"}])
def test_the_columns_read_give_what_the_whole_table_gives(tmp_path, monkeypatch, name, kw):
    path = _write(tmp_path / f"{name}.csv", VARIANTS[name])
    subset = _csv.read_csv_track(path, **kw)
    monkeypatch.setattr(_csv, "_parse_mapped", lambda *args, **kwargs: None)
    whole = _csv.read_csv_track(path, **kw)
    pd.testing.assert_frame_equal(subset.frame, whole.frame)
    assert (subset.format, subset.dropped, subset.notes) == (
        whole.format,
        whole.dropped,
        whole.notes,
    )
