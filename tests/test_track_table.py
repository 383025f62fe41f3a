"""read_tracks' fix table over many files (order, columns, dtypes) and its time parsing."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geoexpose.schema import FIX_COLUMNS, FLIGHT_ID, SOURCE, TIME_DTYPE, TIME_UTC
from geoexpose.tracks import parse_times
from geoexpose.tracks._fixed_times import fixed_layout_times
from geoexpose.tracks._values import _zoned_mask
from geoexpose.tracks.read import read_tracks
from geoexpose.tracks.triggers import _rise_rows

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
AIRDATA_HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "altitude_above_seaLevel(feet),speed(mph),isPhoto,isVideo,message"
)
EXTRAS = [
    "speed_m_s",
    "yaw_deg",
    "gimbal_pitch_deg",
    "gimbal_yaw_deg",
    "is_photo",
    "is_video",
    "drone_id",
    "operator_lon",
    "operator_lat",
    "aircraft_id",
    "aircraft_model",
    "operator_id",
]


def _airdata(path: Path, starts_s: list[float], *, n: int = 5, lat0: float = 50.0) -> Path:
    """An AirData CSV, one flight of ``n`` fixes 0.1 s apart per start (seconds after T0).

    The flights follow each other in one log (elapsed time runs on), far enough apart
    in time to be flights of their own; each fix is 1e-5 degrees north of the last.
    """
    rows = [AIRDATA_HEADER]
    base = T0 + timedelta(seconds=starts_s[0])
    for k, start in enumerate(starts_s):
        for i in range(n):
            elapsed_ms = round((start - starts_s[0]) * 1000) + 100 * i
            stamp = base + timedelta(milliseconds=elapsed_ms)
            clock = stamp.replace(microsecond=0).strftime("%Y-%m-%d %H:%M:%S")
            lat = lat0 + (k * n + i) * 1e-5
            rows.append(f"{elapsed_ms},{clock},{lat:.6f},8.0,{10 * i},{300 + i},0,0,0,")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _expected_rows(
    path: Path, label: str, starts_s: list[float], *, n: int = 5, lat0: float = 50.0
):
    """(flight_id, time, source, lat) of every fix of one file, as written."""
    out = []
    for k, start in enumerate(starts_s):
        for i in range(n):
            t = pd.Timestamp(T0 + timedelta(seconds=start, milliseconds=100 * i))
            out.append((f"{label}#{k + 1}", t, str(path), lat0 + (k * n + i) * 1e-5))
    return out


def test_fixes_of_many_files_are_ordered_by_flight_id_then_time(tmp_path):
    # "b.csv" holds 11 flights: "b.csv#10" and "b.csv#11" sort before "b.csv#2", as text.
    b_starts = [1000.0 * k for k in range(11)]
    a_starts = [500.0]
    b = _airdata(tmp_path / "b.csv", b_starts)
    a = _airdata(tmp_path / "a.csv", a_starts, lat0=51.0)
    fixes = read_tracks([b, a])

    expected = _expected_rows(b, "b.csv", b_starts) + _expected_rows(
        a, "a.csv", a_starts, lat0=51.0
    )
    expected.sort(key=lambda row: (row[0], row[1]))
    assert fixes[FLIGHT_ID].tolist() == [row[0] for row in expected]
    assert fixes[FLIGHT_ID].iloc[5:15].unique().tolist() == ["b.csv#1", "b.csv#10"]
    assert fixes[TIME_UTC].tolist() == [row[1] for row in expected]
    assert fixes[SOURCE].tolist() == [row[2] for row in expected]
    np.testing.assert_allclose(fixes.geometry.y, [row[3] for row in expected], atol=1e-9)
    np.testing.assert_allclose(fixes.geometry.x, 8.0)
    assert fixes.index.equals(pd.RangeIndex(len(expected)))
    files = {Path(e["path"]).name: e for e in fixes.attrs["geoexpose"]["files"]}
    assert files["b.csv"]["flights"] == [f"b.csv#{k}" for k in range(1, 12)]
    assert files["b.csv"]["rows_kept"] == 55
    assert files["a.csv"]["flights"] == ["a.csv#1"]


def test_fix_table_columns_and_dtypes(tmp_path):
    fixes = read_tracks(_airdata(tmp_path / "one.csv", [0.0, 1000.0]))
    assert list(fixes.columns) == FIX_COLUMNS + EXTRAS
    assert fixes[TIME_UTC].dtype == TIME_DTYPE
    text = pd.Series(["x"]).astype("str").dtype
    assert fixes[FLIGHT_ID].dtype == text
    # source: one code a fix, a categorical of texts whose values compare equal to them
    assert isinstance(fixes[SOURCE].dtype, pd.CategoricalDtype)
    assert fixes[SOURCE].cat.categories.dtype == text
    assert (fixes[SOURCE] == str(tmp_path / "one.csv")).all()
    assert fixes["alt_ref"].dtype == text
    assert fixes["is_photo"].dtype == "boolean" and fixes["drone_id"].dtype == "string"
    assert fixes["operator_lon"].dtype == np.float64
    assert fixes["operator_lon"].isna().all() and fixes["drone_id"].isna().all()
    assert fixes.crs.to_epsg() == 4326
    # heights: feet above takeoff, 10 ft a fix
    np.testing.assert_allclose(fixes["alt_agl_m"].to_numpy()[:5], np.arange(5) * 10 * 0.3048)


def test_an_empty_read_has_the_columns_and_dtypes(tmp_path):
    path = tmp_path / "nothing.csv"
    path.write_text(AIRDATA_HEADER + "\n", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixes = read_tracks(path)
    assert len(fixes) == 0
    assert list(fixes.columns) == FIX_COLUMNS + EXTRAS
    assert fixes[TIME_UTC].dtype == TIME_DTYPE and fixes["is_video"].dtype == "boolean"


@pytest.mark.parametrize(
    ("text", "zoned"),
    [
        ("2024-01-10 20:17:57", False),
        ("2024-01-10T20:17:57.25", False),
        ("01/10/2024 08:17:57 PM", False),
        ("2024-01-10", False),
        ("2024-01-10T20:17:57Z", True),
        ("2024-01-10T20:17:57z", True),
        ("2024-01-10 20:17 UTC", True),
        ("2024-01-10 20:17:57 GMT", True),
        ("2024-01-10T20:17:57+02:00", True),
        ("2024-01-10T20:17:57-0530", True),
        ("2024-01-10T20:17:57+02", True),
        ("2024-01-10T20:17:57.5+01:00", True),
        ("20:17:57 Z", True),
        ("2024-01-10 20:17:57 CET", False),
        ("2024-01-10-02:00", False),  # a date with an offset but no time of day
        ("ZZZ", False),
        ("", False),
    ],
)
def test_zoned_values_are_told_apart(text, zoned):
    values = pd.Series([text, "2024-01-10 20:17:57"], dtype="str")
    assert _zoned_mask(values).tolist() == [zoned, False]


def test_parse_times_of_a_column_with_naive_zoned_blank_and_bad_values():
    values = pd.Series(
        [
            "2024-01-10 20:17:57",
            "2024-01-10T22:17:58+02:00",
            "",
            None,
            "garbage",
            "2024-01-10 20:18:00.5",
        ]
    )
    times, basis = parse_times(values, column="t")
    assert basis == "assumed_utc"
    assert times.dtype == TIME_DTYPE
    want = [
        pd.Timestamp("2024-01-10 20:17:57", tz="UTC"),
        pd.Timestamp("2024-01-10 20:17:58", tz="UTC"),
        pd.NaT,
        pd.NaT,
        pd.NaT,
        pd.Timestamp("2024-01-10 20:18:00.5", tz="UTC"),
    ]
    assert times.tolist() == want


def test_parse_times_of_naive_text_in_a_zone():
    values = pd.Series(["2024-07-01 12:00:00", "2024-07-01 12:00:01"], dtype="str")
    times, basis = parse_times(values, column="t", time_zone="Europe/Copenhagen")
    assert basis == "Europe/Copenhagen"
    # summer time: UTC+2
    assert times.tolist() == [
        pd.Timestamp("2024-07-01 10:00:00", tz="UTC"),
        pd.Timestamp("2024-07-01 10:00:01", tz="UTC"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-10 24:00:00",  # no hour 24
        "2024-01-10 20:60:00",
        "2024-01-10 20:17:60",  # no leap second
        "2023-02-29 12:00:00",  # not a leap year
        "2024-04-31 12:00:00",
        "2024-00-10 12:00:00",
        "2024-01-00 12:00:00",
        "2024-01-10 20:17:5x",
        "2024-01-10 20:17:5/",  # the byte before "0"
        "2024-01-10t20:17:57",
        "2024/01/10 20:17:57",
        "1699-12-31 23:59:59",  # beyond the far past (clamped by the general parser)
        "2024-01-10 20:17:57Z",
        "2024-01-10 20:17:5",
    ],
)
def test_fixed_layout_times_refuse_anything_else(text):
    assert fixed_layout_times(pd.Series([text, "2024-01-10 20:17:57"], dtype="str")) is None
    assert fixed_layout_times(pd.Series(["2024-01-10 20:17:57", None], dtype="str")) is None


def test_fixed_layout_times_read_every_field():
    text = [
        "2024-02-29 23:59:59",
        "2000-01-01T00:00:00",
        "1970-01-01 00:00:01",
        "2199-12-31 23:59:59",
    ]
    got = fixed_layout_times(pd.Series(text, dtype="str", index=[5, 6, 7, 8], name="when"))
    want = [
        datetime(2024, 2, 29, 23, 59, 59),
        datetime(2000, 1, 1),
        datetime(1970, 1, 1, 0, 0, 1),
        datetime(2199, 12, 31, 23, 59, 59),
    ]
    assert got is not None and got.dtype == "datetime64[ns]"
    assert got.index.tolist() == [5, 6, 7, 8] and got.name == "when"
    assert got.tolist() == [pd.Timestamp(w) for w in want]


def test_parse_times_of_fixed_layout_text_in_a_zone_and_across_a_clock_change():
    # Copenhagen: 2024-03-31 02:00-03:00 local does not exist (summer time starts)
    values = pd.Series(["2024-03-31 01:59:59", "2024-03-31 02:30:00", "2024-03-31 03:00:00"])
    times, basis = parse_times(values, column="t", time_zone="Europe/Copenhagen")
    assert basis == "Europe/Copenhagen"
    assert times.tolist() == [
        pd.Timestamp("2024-03-31 00:59:59", tz="UTC"),
        pd.NaT,
        pd.Timestamp("2024-03-31 01:00:00", tz="UTC"),
    ]


def test_photo_rises_are_counted_within_each_flight_of_a_file():
    # rows of one file (positions 2..9 of a frame), flights coded 0, 1 and -1 (missing)
    flag = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
    flight = np.array([5, 5, 0, 0, 0, 0, 1, 1, -1, -1])
    rows = np.arange(2, 10)
    # 2: first of the file (a rise); 3: still set; 5: set again after a clear row;
    # 6: still set but a new flight; 7: still set; 8, 9: no flight, never joined
    assert _rise_rows(flag, flight, rows).tolist() == [2, 5, 6, 8, 9]
    assert _rise_rows(flag, flight, np.zeros(0, dtype=np.int64)).tolist() == []
