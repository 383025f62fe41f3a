"""Every real track file: what it reads into, one flight across formats, and damaged copies.

The expected areas, dates and altitude references come from each folder's SOURCE.txt
under GEOEXPOSE_REALDATA/tracks (README.txt there lists the folders); distances are
measured with pyproj.Geod, independently of geoexpose's own geodesy.
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from conftest import mutations
from pyproj import Geod

import geoexpose as gx
from geoexpose.errors import InputError, InputWarning
from geoexpose.tracks._dji_txt import read_dji_txt_header
from geoexpose.tracks._srt import srt_frames
from geoexpose.tracks.formats import read_track_file
from geoexpose.tracks.normalize import clean_fixes, clean_positions

pytestmark = pytest.mark.realdata

GEOD = Geod(ellps="WGS84")
MINI2 = "Sep-5th-2021-07-23PM-Flight-Airdata"

# Known areas (lat, lon, radius km) stated in the SOURCE.txt files.
# dji_txt/SOURCE.txt: home point of the Mini 2 flight, Port Orchard WA; the Air 2S flight
# (airdata_csv/SOURCE.txt) is the same pilot's next flight that evening (file names
# 07-23PM and 07-48PM), so both are taken within 2 km of that home point.
PORT_ORCHARD = (47.5727, -122.6266, 2.0)
VITORIA = (42.846, -2.688, 10.0)  # ardupilot_bin: Vitoria-Gasteiz, copter and plane field
YORKSHIRE = (53.736, -1.767, 2.0)  # dji_txt v4: UK 53.736N -1.767E
MANITOBA = (49.7155, -101.1484, 1.0)  # dji_wpml_kmz: 2 waypoints near 49.7155N -101.1484E
UBC = (49.257, -123.243, 2.0)  # mavlink_tlog: UBC Vancouver
TRONDHEIM = (63.417, 10.408, 2.0)  # px4_ulog: Trondheim
FUNEN = (55.507, 10.717, 2.0)  # txtlogtocsv_csv: Denmark 55.507N 10.717E
FROM_OPERATOR = None  # remote_id_pcap: no place stated; within 2 km of the broadcast operator


@dataclass(frozen=True)
class Expect:
    """What a real file reads into."""

    outcome: str  # "fixes", "route" or "fails"
    area: tuple[float, float, float] | None = None
    date: str | None = None  # UTC date of the first fix
    alt_refs: frozenset[str] = frozenset()  # alt_ref of the rows with a height
    msl: bool = False  # whether heights above sea level are read
    flights: int = 1
    why: str = ""  # for "fails": what the one-line message says
    time_zone: str | None = None  # for files in local time, from SOURCE.txt
    kind: str = ""  # for "route": planned or untimed
    options: dict = field(default_factory=dict)


GROUND = frozenset({"ground"})
TAKEOFF = frozenset({"takeoff"})
REAL: dict[str, Expect] = {
    f"airdata_csv/{MINI2}.csv": Expect("fixes", PORT_ORCHARD, "2021-09-06", GROUND, True),
    "airdata_csv/Sep-5th-2021-07-48PM-Flight-Airdata.csv": Expect(
        "fixes", PORT_ORCHARD, "2021-09-06", GROUND, True
    ),
    # <ele> above sea level; heights above take-off derived (the flight starts on the ground)
    f"airdata_gpx/{MINI2}.gpx": Expect("fixes", PORT_ORCHARD, "2021-09-06", TAKEOFF, True),
    f"airdata_kml/{MINI2}.kml": Expect("route", PORT_ORCHARD, msl=True, kind="untimed"),
    "airdata_kml/Sep-5th-2021-07-48PM-Flight-Airdata.kml": Expect(
        "route", PORT_ORCHARD, msl=True, kind="untimed"
    ),
    "ardupilot_bin/copter_6-11-2014_GPS_issues1.BIN": Expect(
        "fixes", VITORIA, "2014-11-06", TAKEOFF, True
    ),
    # two arm cycles: two flights (SOURCE.txt: 10 mode changes, Loiter/RTL)
    "ardupilot_bin/copter_6-11-2014_Loiter_RTL.bin": Expect(
        "fixes", VITORIA, "2014-11-06", TAKEOFF, True, flights=2
    ),
    "ardupilot_bin/plane_4-12-2014_329.BIN": Expect("fixes", VITORIA, "2014-12-04", TAKEOFF, True),
    "dji_txt/DJIFlightRecord_2015-12-29_[19-05-48].txt": Expect(
        "fixes", YORKSHIRE, "2015-12-29", TAKEOFF, False
    ),
    "dji_txt/DJIFlightRecord_2021-09-05_[19-23-47].txt": Expect(
        "fails", why=r"version 14: records encrypted.*Mini 2.*export the flight as CSV"
    ),
    "dji_wpml_kmz/Seed.kmz": Expect("route", MANITOBA, alt_refs=TAKEOFF, kind="planned"),
    # file name 16-44 is local PDT; packets are UTC: 23:44 on 2018-09-17
    "mavlink_tlog/2018-09-17 16-44-06.tlog": Expect("fixes", UBC, "2018-09-17", TAKEOFF, True),
    "px4_ulog/sample_log_small.ulg": Expect("fixes", TRONDHEIM, "2021-04-21", TAKEOFF, True),
    # the Bluetooth transmitter had no GNSS fix: every position 0/0
    "remote_id_pcap/odid_bt5_lr_sample.pcapng": Expect(
        "fails", why=r"no fix kept of \d+ rows \(\d+ null_island: at 0/0"
    ),
    "remote_id_pcap/odid_wifi_bcn_sample.pcap": Expect("fixes", FROM_OPERATOR, None, TAKEOFF),
    "remote_id_pcap/odid_wifi_sample.pcap": Expect("fixes", FROM_OPERATOR, None, TAKEOFF),
    "txtlogtocsv_csv/test_drone_log.csv": Expect(
        "fixes", FUNEN, "2018-07-04", TAKEOFF, False, time_zone="Europe/Copenhagen"
    ),
}
NOT_DATA = {"SOURCE.txt", "README.txt"}


def data_files(root: Path) -> list[str]:
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name not in NOT_DATA
    )


def test_the_table_names_every_real_track_file(realdata):
    assert data_files(realdata / "tracks") == sorted(REAL)


def operator_position(data: bytes) -> tuple[float, float]:
    """Median operator position of the Open Drone ID System messages in a capture.

    Found without geoexpose: message packs (header 0xF?, size 25, count 1-10) whose
    messages are System messages (type 4) with latitude/longitude at bytes 2-9.
    """
    found = []
    for at in range(len(data) - 3):
        if data[at] >> 4 != 0xF or data[at + 1] != 25 or not 1 <= data[at + 2] <= 10:
            continue
        for k in range(data[at + 2]):
            message = data[at + 3 + 25 * k : at + 28 + 25 * k]
            if len(message) == 25 and message[0] >> 4 == 4:
                lat = int.from_bytes(message[2:6], "little", signed=True) * 1e-7
                lon = int.from_bytes(message[6:10], "little", signed=True) * 1e-7
                if (lat, lon) != (0, 0):
                    found.append((lat, lon))
    assert found, "no System message found"
    return float(np.median([f[0] for f in found])), float(np.median([f[1] for f in found]))


def distances_m(lon: np.ndarray, lat: np.ndarray, area: tuple[float, float, float]) -> np.ndarray:
    lat0, lon0, _ = area
    _, _, dist = GEOD.inv(np.full(len(lon), lon0), np.full(len(lat), lat0), lon, lat)
    return dist


def read_both(path: Path, time_zone: str | None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixes = gx.read_tracks(path, time_zone=time_zone)
        routes = gx.read_routes(path, time_zone=time_zone)
    for w in caught:
        assert issubclass(w.category, InputWarning), w
        assert "\n" not in str(w.message) and str(path) in str(w.message)
    return fixes, routes, [str(w.message) for w in caught]


@pytest.mark.parametrize("name", sorted(REAL))
def test_each_real_file_reads_plausibly_or_says_why(realdata, name):
    path = realdata / "tracks" / name
    expect = REAL[name]
    fixes, routes, messages = read_both(path, expect.time_zone)
    entry = fixes.attrs["geoexpose"]["files"][0]
    assert entry["rows_read"] == entry["rows_kept"] + sum(entry["dropped"].values())
    if expect.outcome == "fails":
        assert len(fixes) == len(routes) == 0
        assert re.search(expect.why, entry["reason"]) and "\n" not in entry["reason"]
        assert any(entry["reason"] in m for m in messages)
        return
    area = expect.area
    if area is None:
        area = (*operator_position(path.read_bytes()), 2.0)
    if expect.outcome == "route":
        assert len(fixes) == 0 and entry["status"] == "route"
        assert entry["dropped"]["untimed"] == len(routes) > 0
        assert any("gx.read_routes reads them" in m for m in messages)
        assert set(routes["route_kind"]) == {expect.kind}
        rows = routes
    else:
        assert len(routes) == 0 and entry["status"] == "read"
        assert messages == []  # files with times read without a problem worth a warning
        assert fixes["flight_id"].nunique() == expect.flights
        if expect.date is not None:
            assert fixes["time_utc"].min().strftime("%Y-%m-%d") == expect.date
        rows = fixes
        for _, flight in fixes.groupby("flight_id"):
            seconds = flight["time_utc"].diff().dt.total_seconds().to_numpy()[1:]
            assert (seconds > 0).all()
            x, y = flight.geometry.x.to_numpy(), flight.geometry.y.to_numpy()
            _, _, step = GEOD.inv(x[:-1], y[:-1], x[1:], y[1:])
            assert (step / seconds).max() < 40.0
    lon, lat = rows.geometry.x.to_numpy(), rows.geometry.y.to_numpy()
    assert distances_m(lon, lat, area).max() < area[2] * 1000
    heights = rows["alt_agl_m"].notna()
    assert set(rows.loc[heights, "alt_ref"]) == set(expect.alt_refs)
    assert rows["alt_msl_m"].notna().any() == expect.msl
    if expect.msl:  # sea level: coastal sites up to a 600 m high field in Spain
        assert rows["alt_msl_m"].dropna().between(-50, 800).all()


# ---- one flight, three formats ------------------------------------------------------------


def monotone_match(x: np.ndarray, y: np.ndarray, fx: np.ndarray, fy: np.ndarray) -> np.ndarray:
    """Index of the fix matching each vertex: nearest at or after the previous match.

    Positions are compared on a local plane (metres east/north of the first fix), in a
    window of 400 fixes ahead; the distances reported are geodesic, computed after.
    """
    lat0 = np.radians(fy[0])
    east = np.radians(fx - fx[0]) * np.cos(lat0) * 6_371_000
    north = np.radians(fy - fy[0]) * 6_371_000
    ve = np.radians(x - fx[0]) * np.cos(lat0) * 6_371_000
    vn = np.radians(y - fy[0]) * 6_371_000
    out = np.empty(len(x), dtype=int)
    at = 0
    for i in range(len(x)):
        window = slice(at, min(len(fx), at + 400))
        gap = np.hypot(east[window] - ve[i], north[window] - vn[i])
        at += int(np.argmin(gap))
        out[i] = at
    return out


def test_one_flight_as_airdata_csv_gpx_and_kml_gives_the_same_fixes(realdata):
    root = realdata / "tracks"
    csv = gx.read_tracks(root / "airdata_csv" / f"{MINI2}.csv")
    gpx = gx.read_tracks(root / "airdata_gpx" / f"{MINI2}.gpx")
    with pytest.warns(InputWarning, match="positions without times"):
        assert len(gx.read_tracks(root / "airdata_kml" / f"{MINI2}.kml")) == 0
    kml = gx.read_routes(root / "airdata_kml" / f"{MINI2}.kml")
    t_csv, t_gpx = csv["time_utc"], gpx["time_utc"]

    # GPX and CSV carry times: match fixes on equal times
    both = csv.merge(gpx, on="time_utc", suffixes=("_csv", "_gpx"))
    assert len(both) == len(gpx)  # every GPX point is one of the CSV's fixes
    _, _, apart = GEOD.inv(
        both["geometry_csv"].x,
        both["geometry_csv"].y,
        both["geometry_gpx"].x,
        both["geometry_gpx"].y,
    )
    assert np.median(apart) < 1.0 and apart.max() < 1.0  # measured: 0.0 m
    assert abs((t_gpx.iloc[0] - t_csv.iloc[0]).total_seconds()) <= 1.0  # measured: 0.1 s
    assert abs((t_gpx.iloc[-1] - t_csv.iloc[-1]).total_seconds()) <= 1.0  # measured: 0.0 s
    assert np.median(np.abs(both["alt_msl_m_csv"] - both["alt_msl_m_gpx"])) < 0.01

    # The KML has no times: its vertices are matched to the CSV's fixes by position, in
    # sequence; the matched fixes' times then place the KML's start and end.
    fx, fy = csv.geometry.x.to_numpy(), csv.geometry.y.to_numpy()
    vx, vy = kml.geometry.x.to_numpy(), kml.geometry.y.to_numpy()
    match = monotone_match(vx, vy, fx, fy)
    _, _, apart = GEOD.inv(vx, vy, fx[match], fy[match])
    assert np.median(apart) < 1.0 and np.quantile(apart, 0.99) < 1.0  # measured: 0.0, max 2 mm
    assert (t_csv.iloc[match[0]] - t_csv.iloc[0]).total_seconds() <= 1.0  # measured: 0.1 s
    assert (t_csv.iloc[-1] - t_csv.iloc[match[-1]]).total_seconds() <= 1.0  # measured: 0.0 s
    assert len(np.unique(match)) == len(kml)  # each vertex its own fix (AirData thins by ~5)
    msl = csv["alt_msl_m"].to_numpy()[match]
    assert np.median(np.abs(kml["alt_msl_m"].to_numpy() - msl)) < 0.01

    # The DJI .txt of the same flight (v14: only its header is readable offline)
    header = read_dji_txt_header(root / "dji_txt" / "DJIFlightRecord_2021-09-05_[19-23-47].txt")
    # AirData writes datetime(utc) to the second: 02:23:47.611 became 02:23:48
    assert abs((t_csv.iloc[0] - header["start_time_utc"]).total_seconds()) < 1.0
    duration = (t_csv.iloc[-1] - t_csv.iloc[0]).total_seconds()
    assert duration == pytest.approx(header["total_time_s"], abs=1.0)
    _, _, home = GEOD.inv(header["home_lon"], header["home_lat"], fx[0], fy[0])
    assert home < 1.0


# ---- damaged copies -----------------------------------------------------------------------


def ulog_excerpt(data: bytes) -> bytes:
    """The log's definitions and the data of the topics read (a valid, smaller ULog)."""
    keep, names, at = [data[:16]], {}, 16
    wanted = {"vehicle_gps_position", "sensor_gps", "vehicle_local_position", "camera_capture"}
    while at + 3 <= len(data):
        size, kind = int.from_bytes(data[at : at + 2], "little"), data[at + 2]
        body = data[at + 3 : at + 3 + size]
        if kind == ord("A"):
            names[int.from_bytes(body[1:3], "little")] = body[3:].decode()
        if kind in b"BFAI" or names.get(int.from_bytes(body[:2], "little")) in wanted:
            keep.append(data[at : at + 3 + size])  # definitions and the wanted data
        at += 3 + size
    return b"".join(keep)


def lines(data: bytes, head: int, tail: int = 0) -> bytes:
    parts = data.splitlines(keepends=True)
    return b"".join(parts[:head] + (parts[-tail:] if tail else []))


def gpx_excerpt(data: bytes) -> bytes:
    ends = [m.end() for m in re.finditer(rb"</trkpt>", data)]
    return data[: ends[40]] + data[ends[-1] :]


def head_and_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:4_000] + data[middle : middle + 4_000]


# How each file is cut down before damaging it, so that a copy reads in milliseconds
# while still holding the header, the format definitions and some position records.
EXCERPTS = {
    "airdata_csv": lambda d: lines(d, 25),
    "airdata_gpx": gpx_excerpt,
    "airdata_kml": lambda d: lines(d, 80, 6),
    "ardupilot_bin": head_and_middle,
    "dji_txt": lambda d: d[:16_000],
    "dji_wpml_kmz": lambda d: d,
    "mavlink_tlog": head_and_middle,
    "px4_ulog": ulog_excerpt,
    "remote_id_pcap": lambda d: d[:16_000],
    "txtlogtocsv_csv": lambda d: lines(d, 12),
    "dji_srt": lambda d: lines(d, 60),
}
SRT_FILES = ["dji_air3s_clip.SRT", "dji_avata360_clip.SRT", "webodm_fixture_video.srt"]
# Damaged copies per file: 17 track files x 120 + 3 video subtitle files x 40 = 2160
MUTATED = {f"tracks/{name}": 120 for name in sorted(REAL)} | {f"dji_srt/{n}": 40 for n in SRT_FILES}


def read_damaged(path: Path, full: bool) -> str:
    """Read a damaged file the way read_tracks does; return "fixes", "route" or "refused"."""
    try:
        raw = read_track_file(path)
    except InputError as exc:
        assert "\n" not in str(exc)
        return "refused"
    if raw.route is None and raw.frame["time_utc"].notna().any():
        clean_fixes(raw.frame, split_gap_s=60)
        outcome = "fixes"
    else:
        clean_positions(raw.frame)
        outcome = "route"
    if full:  # the whole path now and then: read_tracks, read_routes, srt_frames
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gx.read_tracks(path, strict=True)
            gx.read_routes(path, strict=True)
            if path.suffix.lower() == ".srt":
                srt_frames(path, every_s=0.5)
        for w in caught:
            assert issubclass(w.category, InputWarning) and "\n" not in str(w.message), w
    return outcome


@pytest.mark.parametrize("name", list(MUTATED))
def test_damaged_copies_read_or_are_refused_in_one_line(realdata, tmp_path, name):
    source = realdata / name
    base = EXCERPTS[source.parent.name](source.read_bytes())
    target = tmp_path / source.name
    target.write_bytes(base)
    first = read_damaged(target, full=True)
    if REAL.get(name.removeprefix("tracks/"), Expect("fixes")).outcome != "fails":
        assert first in ("fixes", "route")  # the undamaged excerpt reads
    outcomes = {"fixes": 0, "route": 0, "refused": 0}
    start = time.process_time()
    count = MUTATED[name]
    for k, blob in enumerate(
        mutations(base, seed=sum(name.encode()), count=count, line_drops=True)
    ):
        target.write_bytes(blob)
        outcomes[read_damaged(target, full=k % 40 == 0)] += 1
    assert sum(outcomes.values()) == count
    assert outcomes["refused"] < count or first == "refused"  # damage is not always fatal
    assert time.process_time() - start < 20.0  # 0.1-3 s of CPU on an idle machine
