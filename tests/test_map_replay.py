"""The replay data of the maps' time slider, the short flight labels and the flight table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.maps._html_text import panel_html
from geoexpose.maps._replay import flight_label, replay_data
from geoexpose.maps._site_maps import flights_table

T0 = pd.Timestamp("2024-05-01T10:00:00Z")
T0_MS = 1714557600000  # 2024-05-01 10:00:00 UTC: 19844 days of 86,400,000 ms, plus 10 h


def _fixes(n: int, flight: str, start_s: float, lon: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "flight_id": flight,
            "time_utc": T0 + pd.to_timedelta(start_s + np.arange(n), unit="s"),
            "lon": lon,
            "lat": 50.0 + 1e-4 * np.arange(n),
        }
    )


def _positions(flight: dict) -> np.ndarray:
    return np.cumsum(np.asarray(flight["d"]).reshape(-1, 2), axis=0) / 1e6


def test_replay_keeps_every_fix_in_time_order_when_few():
    fixes = pd.concat([_fixes(5, "B", 100.0, 8.1), _fixes(3, "A", 0.0, 8.0)]).iloc[::-1]
    data = replay_data(fixes, None)
    assert data["start"] == T0_MS and data["end"] == T0_MS + 104_000
    b, a = data["flights"]
    assert (b["id"], a["id"]) == ("A", "B")  # in order of first appearance (reversed)
    assert b["t0"] == T0_MS and b["dt"] == [1000, 1000]
    assert a["t0"] == T0_MS + 100_000 and a["dt"] == [1000] * 4
    assert np.allclose(_positions(b), [[8.0, 50.0], [8.0, 50.0001], [8.0, 50.0002]])
    assert np.allclose(_positions(a)[:, 1], 50.0 + 1e-4 * np.arange(5))


def test_replay_thins_each_flight_keeping_its_ends():
    fixes = pd.concat([_fixes(1000, "A", 0.0, 8.0), _fixes(1000, "B", 2000.0, 8.1)])
    data = replay_data(fixes, None, max_points=100)
    kept = sum(len(f["dt"]) + 1 for f in data["flights"])
    assert 100 <= kept <= 104  # 100 spread evenly, plus the first and last of each flight
    for f, start in zip(data["flights"], (0, 2000), strict=True):
        assert f["t0"] == T0_MS + start * 1000
        assert f["t0"] + sum(f["dt"]) == T0_MS + (start + 999) * 1000
        assert min(f["dt"]) > 0


def test_replay_of_captures_only_in_time_order():
    captures = pd.DataFrame(
        {
            "capture_id": ["late", "early", "nowhere"],
            "path": ["/x/DJI_2.JPG", "C:\\y\\DJI_1.JPG", "/z/DJI_3.JPG"],
            "time_utc": [T0 + pd.Timedelta(9, "s"), T0, T0],
            "cam_lon": [8.2, 8.1, np.nan],
            "cam_lat": [50.2, 50.1, np.nan],
        }
    )
    data = replay_data(None, captures)
    assert data["flights"] == []
    assert data["captures"]["t"] == [T0_MS, T0_MS + 9000]
    assert data["captures"]["name"] == ["DJI_1.JPG", "DJI_2.JPG"]  # no folders
    assert data["captures"]["xy"] == [8_100_000, 50_100_000, 8_200_000, 50_200_000]
    assert replay_data(None, captures.assign(time_utc=pd.NaT)) is None


def test_flight_labels_are_short_and_tell_the_flights_apart():
    ids = [
        "Sep-5th-2021-07-23PM-Flight-Airdata.csv#1",
        "Sep-5th-2021-07-48PM-Flight-Airdata.csv#1",
        "F1",
    ]
    labels = flight_label(ids)
    assert labels[2] == "F1"
    assert labels[0] != labels[1]
    assert "23PM" in labels[0] and "48PM" in labels[1]
    assert all(len(x) <= 16 for x in labels)
    # Two ids alike but for a character past the label's reach: the full ids.
    same = ["x" * 30 + "-a", "x" * 30 + "-b"]
    assert len(set(flight_label(same))) == 2


def test_flight_table_has_units_short_labels_and_the_full_id_on_hover():
    hostile = 'flight "<b>bold</b>" & more, a very long id.csv#1'
    pairs = pd.DataFrame(
        {
            "flight_id": [hostile, "F2"],
            "n_fixes": [10, 20],
            "dwell_s": [12.34, 0.0],
            "min_distance_m": [1.0, 2.0],
            "first_seen_utc": ["2021-09-06T02:23:48Z", "2021-09-06T02:48:09Z"],
            "last_seen_utc": ["2021-09-06T02:44:42Z", "2021-09-06T03:07:42Z"],
        }
    )
    table, hover = flights_table(pairs)
    assert table.columns.tolist() == ["flight", "fixes", "dwell (s)", "min dist. (m)", "seen"]
    assert table["seen"].tolist() == ["02:23:48\u201302:44:42", "02:48:09\u201303:07:42"]
    assert hover == {"flight": [hostile, None]}
    page = panel_html("t", [("Flights", table, True)], hover=hover)
    assert "<b>bold</b>" not in page
    assert 'title="flight &quot;&lt;b&gt;bold&lt;/b&gt;&quot; &amp; more' in page
