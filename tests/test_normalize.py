from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from geoexpose.schema import LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks._values import (
    TIME_BASIS_ASSUMED_UTC,
    TIME_BASIS_UTC,
    check_time_zone,
    parse_bools,
    parse_times,
)
from geoexpose.tracks.normalize import FLIGHT_NO, SEGMENT, clean_fixes

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def stamp(*args: int, micro: int = 0) -> pd.Timestamp:
    return pd.Timestamp(datetime(*args, microsecond=micro, tzinfo=UTC))


# --- parse_times -------------------------------------------------------------------


def test_zoned_text_is_converted_to_utc():
    values = pd.Series(
        ["2024-06-01T12:00:00Z", "2024-06-01T14:00:01+02:00", "2024-06-01 07:00:02-05:00"]
    )
    times, basis = parse_times(values, column="t", time_zone="Asia/Tokyo")
    assert str(times.dtype) == TIME_DTYPE
    assert list(times) == [
        stamp(2024, 6, 1, 12, 0, 0),
        stamp(2024, 6, 1, 12, 0, 1),
        stamp(2024, 6, 1, 12, 0, 2),
    ]
    assert basis == TIME_BASIS_UTC


def test_naive_text_in_a_time_zone():
    # Berlin is UTC+2 in June (CEST) and UTC+1 in January (CET).
    values = pd.Series(["2024-06-01 14:00:00.250", "2024-01-15 13:00:00"])
    times, basis = parse_times(values, column="t", time_zone="Europe/Berlin")
    assert list(times) == [stamp(2024, 6, 1, 12, 0, 0, micro=250_000), stamp(2024, 1, 15, 12, 0, 0)]
    assert basis == "Europe/Berlin"


def test_naive_text_without_zone_is_flagged_as_assumed_utc():
    times, basis = parse_times(pd.Series(["2024-06-01 12:00:00"]), column="t")
    assert times.iloc[0] == stamp(2024, 6, 1, 12, 0, 0)
    assert basis == TIME_BASIS_ASSUMED_UTC
    _, basis = parse_times(pd.Series(["2024-06-01 12:00:00"]), column="t", naive_is_utc=True)
    assert basis == TIME_BASIS_UTC


def test_mixed_layouts_in_one_column():
    # A DJI TXTlogToCSVtool quirk: most values with milliseconds, some without.
    values = pd.Series(["2018/07/04 09:22:49.901", "2018/07/04 09:22:50", "", None])
    times, _ = parse_times(values, column="t", naive_is_utc=True)
    assert times.iloc[0] == stamp(2018, 7, 4, 9, 22, 49, micro=901_000)
    assert times.iloc[1] == stamp(2018, 7, 4, 9, 22, 50)
    assert times.iloc[2:].isna().all()


def test_unreadable_values_become_nat_but_all_unreadable_is_an_error():
    times, _ = parse_times(pd.Series(["2024-06-01T12:00:00Z", "soon"]), column="t")
    assert times.isna().tolist() == [False, True]
    with pytest.raises(ValueError, match=r"'when'.*no value reads as a date-time"):
        parse_times(pd.Series(["soon", "later"]), column="when")


@pytest.mark.parametrize(("scale", "per_unit"), [(1, None), (1e3, None), (1e6, None), (1e3, 1e-3)])
def test_epoch_numbers(scale, per_unit):
    seconds = T0.timestamp()
    values = pd.Series([seconds * scale, (seconds + 1.5) * scale, np.nan])
    times, basis = parse_times(values, column="t", seconds_per_unit=per_unit)
    assert times.iloc[0] == pd.Timestamp(T0)
    assert times.iloc[1] == pd.Timestamp(T0 + timedelta(seconds=1.5))
    assert pd.isna(times.iloc[2])
    assert basis == TIME_BASIS_UTC


def test_small_numbers_are_not_taken_for_dates():
    with pytest.raises(ValueError, match="too small for dates"):
        parse_times(pd.Series([0.0, 0.1, 0.2]), column="time")


def test_wall_times_missing_in_a_dst_change_become_nat():
    # 02:30 did not exist in Berlin on 2024-03-31 (clocks went from 02:00 to 03:00).
    times, _ = parse_times(
        pd.Series(["2024-03-31 02:30:00", "2024-03-31 03:30:00"]),
        column="t",
        time_zone="Europe/Berlin",
    )
    assert pd.isna(times.iloc[0])
    assert times.iloc[1] == stamp(2024, 3, 31, 1, 30, 0)


def test_check_time_zone():
    check_time_zone("America/Los_Angeles")
    check_time_zone(None)
    with pytest.raises(ValueError, match="'Mars/Olympus'"):
        check_time_zone("Mars/Olympus")


def test_parse_bools():
    values = pd.Series(
        ["1", "0", "Yes", "", None, "Recording", "Stop", "true", "FALSE"], dtype=object
    )
    assert parse_bools(values).tolist() == [
        True,
        False,
        True,
        False,
        False,
        True,
        False,
        True,
        False,
    ]
    assert parse_bools(pd.Series([1, 0])).tolist() == [True, False]


# --- clean_fixes -------------------------------------------------------------------


def frame(seconds, lat=None, lon=None, segment=None) -> pd.DataFrame:
    n = len(seconds)
    times = [pd.NaT if s is None else pd.Timestamp(T0 + timedelta(seconds=s)) for s in seconds]
    data = {
        LAT: lat if lat is not None else np.linspace(50.0, 50.001, n),
        LON: lon if lon is not None else np.full(n, 8.0),
        TIME_UTC: pd.Series(times, dtype=TIME_DTYPE),
        "row": np.arange(n),
    }
    if segment is not None:
        data[SEGMENT] = segment
    return pd.DataFrame(data)


def test_each_drop_reason_is_counted_once():
    raw = frame(
        [0, 1, None, 3, 4, 5, 5, 4.5, 8],
        lat=[50.0, np.nan, 50.0, 0.0, 91.0, 50.0, 50.0, 50.0, 50.0],
        lon=[8.0, 8.0, 8.0, 0.0, 8.0, 8.0, 8.0, 8.0, -181.0],
    )
    fixes, dropped = clean_fixes(raw, split_gap_s=60)
    assert dropped == {
        "no_fix": 2,  # NaN latitude; missing time
        "null_island": 1,
        "out_of_range": 2,  # |lat| > 90; |lon| > 180
        "time_out_of_range": 0,
        "time_ahead": 0,
        "duplicate_time": 1,  # the second fix at 5 s
        "time_backwards": 1,  # 4.5 s after 5 s
        "gps_jump": 0,
    }
    assert fixes["row"].tolist() == [0, 5]


def test_backwards_rows_are_dropped_not_resorted():
    fixes, dropped = clean_fixes(frame([0, 5, 3, 5, 6, 4, 7]), split_gap_s=60)
    # 3 and 4 go back in time; the second 5 repeats the running maximum.
    assert fixes["row"].tolist() == [0, 1, 4, 6]
    assert (dropped["time_backwards"], dropped["duplicate_time"]) == (2, 1)
    assert fixes[TIME_UTC].is_monotonic_increasing


def test_flights_split_only_at_gaps_longer_than_the_threshold():
    fixes, _ = clean_fixes(frame([0, 10, 70, 70.5, 200, 201]), split_gap_s=60)
    # 10 -> 70 is exactly 60 s (no split); 70.5 -> 200 is 129.5 s (split).
    assert fixes[FLIGHT_NO].tolist() == [1, 1, 1, 1, 2, 2]
    fixes, _ = clean_fixes(frame([0, 10, 70, 70.5, 200, 201]), split_gap_s=15)
    assert fixes[FLIGHT_NO].tolist() == [1, 1, 2, 2, 3, 3]


def test_segments_are_separate_tracks_with_their_own_time_order():
    # Track "b" starts before track "a" ends: not backwards, since it is another track.
    raw = frame([0, 1, 2, 0.5, 1.5, 3], segment=["a", "a", "a", "b", "b", "a"])
    fixes, dropped = clean_fixes(raw, split_gap_s=60)
    assert dropped["time_backwards"] == 0
    assert fixes["row"].tolist() == [0, 1, 2, 5, 3, 4]
    assert fixes[FLIGHT_NO].tolist() == [1, 1, 1, 1, 2, 2]


def test_input_frame_is_not_modified():
    raw = frame([0, 1, 1, 0.5])
    before = raw.copy()
    clean_fixes(raw, split_gap_s=60)
    pd.testing.assert_frame_equal(raw, before)


def test_empty_frame():
    fixes, dropped = clean_fixes(frame([]), split_gap_s=60)
    assert len(fixes) == 0
    assert set(dropped.values()) == {0}


def test_epoch_milliseconds_are_exact():
    from geoexpose.tracks._values import parse_times

    ms = pd.Series([1767261600123, 1767261600999, 1767261601001])
    times, _ = parse_times(ms, column="time")
    expected = pd.to_datetime(["2026-01-01T10:00:00.123Z", "2026-01-01T10:00:00.999Z",
                               "2026-01-01T10:00:01.001Z"], utc=True)  # fmt: skip
    assert list(times) == list(expected)
    seconds, _ = parse_times(pd.Series([1767261600.25, 1767261600.5]), column="time")
    assert seconds.dt.microsecond.tolist() == [250000, 500000]
    assert seconds.dt.nanosecond.tolist() == [0, 0]


@pytest.mark.parametrize(
    "odd", ["2024-06-01T12:00.08Z", "2024-06-01T12:00:0 Z", "2024-06-01 12:00:00 +0200 junk"]
)
def test_odd_time_text_parses_or_is_missing_but_never_raises_type_errors(odd):
    from geoexpose.tracks._values import parse_times

    times, _ = parse_times(pd.Series(["2024-06-01T12:00:00Z", odd]), column="t")
    assert times.iloc[0] == pd.Timestamp("2024-06-01T12:00:00Z")
    assert str(times.dtype) == TIME_DTYPE


def test_a_lone_gps_jump_is_dropped_and_counted_but_a_fast_leg_is_kept():
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    n = 50
    lon, lat, _ = geod.fwd(np.full(n, 8.0), np.full(n, 47.0), np.full(n, 90.0), np.arange(n) * 10.0)
    lat = np.asarray(lat).copy()
    lat[20] += 0.01  # one fix 1.1 km off the line, at 10 m/s
    times = pd.Timestamp("2026-01-01T00:00:00Z") + pd.to_timedelta(np.arange(n), unit="s")
    raw = pd.DataFrame({LAT: lat, LON: lon, TIME_UTC: times.astype(TIME_DTYPE)})
    kept, dropped = clean_fixes(raw, split_gap_s=60.0)
    assert dropped["gps_jump"] == 1 and len(kept) == n - 1
    assert 20 not in set(np.flatnonzero(np.isin(lat, kept[LAT].to_numpy())))
    fast = raw.assign(**{LAT: np.full(n, 47.0)}, **{LON: 8.0 + np.arange(n) * 0.0008})
    kept, dropped = clean_fixes(fast, split_gap_s=60.0)  # 60 m/s, every step: a fast leg
    assert dropped["gps_jump"] == 0 and len(kept) == n
    kept, dropped = clean_fixes(raw, split_gap_s=60.0, max_speed_m_s=np.inf)
    assert dropped["gps_jump"] == 0
