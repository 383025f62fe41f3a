"""Heights the track readers give: GPX <ele> above sea level, and above take-off derived."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoexpose.errors import UsageError
from geoexpose.tracks import read_tracks

T0 = pd.Timestamp("2026-06-12T10:00:00Z")


def _gpx(path, tracks, creator="Airdata.com"):
    """Write a GPX of tracks, each a list of (seconds, lat, lon, ele)."""
    parts = [f'<?xml version="1.0"?>\n<gpx version="1.1" creator="{creator}">']
    for points in tracks:
        parts.append("<trk><trkseg>")
        for s, lat, lon, ele in points:
            when = (T0 + pd.Timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            parts.append(
                f'<trkpt lat="{lat}" lon="{lon}"><ele>{ele}</ele><time>{when}</time></trkpt>'
            )
        parts.append("</trkseg></trk>")
    parts.append("</gpx>")
    path.write_text("\n".join(parts))
    return path


def _climb(t0_s, lat0, ground, *, still_s=5, top=40.0):
    """Fixes at 1 Hz: still on the ground for ``still_s`` s, then north and up 2 m/s."""
    out = [(t0_s + s, lat0, 8.0, ground) for s in range(still_s)]
    for k in range(1, int(top / 2) + 1):
        out.append((t0_s + still_s - 1 + k, lat0 + k * 5e-5, 8.0, ground + 2.0 * k))
    return out


def test_drone_app_gpx_gets_heights_above_takeoff_per_flight(tmp_path):
    first = _climb(0, 50.0, 212.5)
    aloft = [(600 + s, 50.1 + s * 1e-4, 8.0, 300.0 + s) for s in range(10)]  # moving at once
    path = _gpx(tmp_path / "t.gpx", [first, aloft])
    fixes = read_tracks(path)
    flights = fixes.groupby("flight_id", sort=True)
    one, two = (group for _, group in flights)
    expected = np.array([p[3] - 212.5 for p in first])
    assert np.allclose(one["alt_agl_m"].to_numpy(), expected)
    assert (one["alt_ref"] == "takeoff").all()
    assert np.allclose(one["alt_msl_m"].to_numpy(), [p[3] for p in first])
    assert two["alt_agl_m"].isna().all()  # starts moving: no take-off to measure from
    assert np.allclose(two["alt_msl_m"].to_numpy(), [p[3] for p in aloft])
    notes = " ".join(fixes.attrs["geoexpose"]["files"][0]["notes"])
    assert "for 1 of 2 flights" in notes and "212.5 m" in notes
    assert "1 flight does not start still on the ground" in notes


def test_a_log_started_hovering_then_landing_lower_gets_no_heights(tmp_path):
    hover = [(s, 50.0, 8.0, 150.0) for s in range(5)]
    hover += [(5 + k, 50.0, 8.0, 150.0 - 5.0 * k) for k in range(1, 11)]  # down 50 m
    fixes = read_tracks(_gpx(tmp_path / "h.gpx", [hover]))
    assert fixes["alt_agl_m"].isna().all()
    assert np.allclose(fixes["alt_msl_m"], [p[3] for p in hover])


def test_gpx_of_no_drone_app_keeps_ele_above_sea_level_only(tmp_path):
    path = _gpx(tmp_path / "walk.gpx", [_climb(0, 50.0, 212.5)], creator="GPSLogger")
    fixes = read_tracks(path)
    assert fixes["alt_agl_m"].isna().all() and fixes["alt_msl_m"].notna().all()
    notes = " ".join(fixes.attrs["geoexpose"]["files"][0]["notes"])
    assert "alt_ref='takeoff'" in notes
    given = read_tracks(path, alt_ref="takeoff")  # <ele> said to be above take-off
    assert np.allclose(given["alt_agl_m"], [p[3] for p in _climb(0, 50.0, 212.5)])
    assert given["alt_msl_m"].isna().all()


def test_hints_name_the_parameter_as_spelt(tmp_path):
    path = _gpx(tmp_path / "t.gpx", [_climb(0, 50.0, 10.0)])
    with pytest.raises(UsageError, match=r"^time_zone='Mars/Olympus': not an IANA zone name"):
        read_tracks(path, time_zone="Mars/Olympus")


def test_real_airdata_gpx_heights_match_its_csv(realdata):
    folder = realdata / "tracks"
    fixes = read_tracks(folder / "airdata_gpx")
    # the same flight's AirData CSV: height above take-off in feet, at its own times
    table = pd.read_csv(folder / "airdata_csv" / "Sep-5th-2021-07-23PM-Flight-Airdata.csv")
    start = pd.Timestamp(table["datetime(utc)"].iloc[0], tz="UTC")
    table["t"] = start + pd.to_timedelta(table["time(millisecond)"], unit="ms")
    table = table.drop_duplicates("t", keep=False)  # the CSV repeats its last time
    table["h"] = table["height_above_takeoff(feet)"] * 0.3048
    ours = pd.DataFrame({"t": fixes["time_utc"], "agl": fixes["alt_agl_m"]})
    both = ours.merge(table[["t", "h"]], on="t")
    assert len(both) > 10_000  # GPX: 10,941 points, a thinned copy of the CSV's rows
    assert (fixes["alt_ref"] == "takeoff").all()
    assert np.abs(both["agl"] - both["h"]).max() < 0.01
    assert fixes["alt_agl_m"].max() == pytest.approx(table["h"].max(), abs=0.01)
