"""Tests of the ArduPilot DataFlash, MAVLink tlog and PX4 ULog track readers."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError
from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, LAT, LON, TIME_UTC
from geoexpose.tracks._ardupilot import read_dataflash, read_tlog, sniff_dataflash, sniff_tlog
from geoexpose.tracks._ulog import read_ulog, sniff_ulog
from geoexpose.tracks.formats import read_camera_events, read_track_file, sniff_format
from geoexpose.tracks.normalize import SEGMENT, clean_fixes

GEOD = Geod(ellps="WGS84")
UTC = "UTC"

# ---------------------------------------------------------------- builders


_DF_SIZES = {"B": 1, "H": 2, "I": 4, "i": 4, "f": 4, "L": 4, "c": 2, "C": 2, "Q": 8}
_DF_PACK = {"L": "i", "c": "h", "C": "H"}


def df_fmt(type_id: int, name: str, fmt: str, columns: str) -> bytes:
    """A DataFlash FMT message describing message ``type_id``."""
    length = 3 + sum(_DF_SIZES[c] for c in fmt)
    body = struct.pack(
        "<BB4s16s64s", type_id, length, name.encode(), fmt.encode(), columns.encode()
    )
    return b"\xa3\x95\x80" + body


def df_msg(type_id: int, fmt: str, *values: float) -> bytes:
    pack = "<" + "".join(_DF_PACK.get(c, c) for c in fmt)
    return b"\xa3\x95" + bytes([type_id]) + struct.pack(pack, *values)


def ulog_bytes(topics: list[tuple[str, list[tuple[str, str]], list[tuple]]]) -> bytes:
    """A minimal ULog: header, flag bits, formats, subscriptions, data."""
    types = {"uint64_t": "Q", "double": "d", "float": "f", "uint8_t": "B", "int32_t": "i"}

    def msg(kind: str, body: bytes) -> bytes:
        return struct.pack("<HB", len(body), ord(kind)) + body

    out = b"ULog\x01\x12\x35\x01" + struct.pack("<Q", 0) + msg("B", bytes(40))
    for name, fields, _ in topics:
        out += msg("F", (name + ":" + "".join(f"{t} {n};" for t, n in fields)).encode())
    for number, (name, _, _) in enumerate(topics):
        out += msg("A", struct.pack("<BH", 0, number) + name.encode())
    for number, (_, fields, rows) in enumerate(topics):
        pack = "<" + "".join(types[t] for t, _ in fields)
        for row in rows:
            out += msg("D", struct.pack("<H", number) + struct.pack(pack, *row))
    return out


def tlog_packet(stamp_s: float, message, system: int) -> bytes:
    from pymavlink.dialects.v20 import ardupilotmega as dialect

    mav = dialect.MAVLink(None, srcSystem=system, srcComponent=1)
    return struct.pack(">Q", round(stamp_s * 1e6)) + message.pack(mav)


def gps_utc(week: int, ms: int, leap_s: int) -> pd.Timestamp:
    return pd.Timestamp("1980-01-06", tz=UTC) + pd.Timedelta(
        weeks=week, milliseconds=ms - leap_s * 1000
    )


# ---------------------------------------------------------------- DataFlash

GPS_OLD = "BIHiif"  # 2014 layout names, positions stored as 1e-7 degree integers


def old_dataflash(tmp_path: Path) -> Path:
    data = (
        df_fmt(130, "GPS", GPS_OLD, "Status,TimeMS,Week,Lat,Lng,Alt")
        + df_fmt(131, "EV", "B", "Id")
        + df_fmt(132, "CAM", "IHLLfccC", "GPSTime,GPSWeek,Lat,Lng,Alt,Roll,Pitch,Yaw")
        + df_msg(130, GPS_OLD, 1, 0, 0, 0, 0, 0.0)
        + df_msg(131, "B", 10)
        + df_msg(130, GPS_OLD, 3, 403684400, 1817, 428457600, -26884623, 520.5)
        + df_msg(132, "IHLLfccC", 403684500, 1817, 428457600, -26884623, 521.0, 150, -300, 9000)
        + df_msg(130, GPS_OLD, 3, 403684600, 1817, 428457700, -26884623, 521.5)
        + df_msg(131, "B", 11)
        + df_msg(131, "B", 10)
        + df_msg(130, GPS_OLD, 3, 403685600, 1817, 428457800, -26884623, 522.5)
    )
    path = tmp_path / "old.bin"
    path.write_bytes(data)
    return path


def test_dataflash_old_layout(tmp_path):
    raw = read_dataflash(old_dataflash(tmp_path))
    frame = raw.frame
    assert raw.format == "ardupilot_bin"
    assert len(frame) == 4
    assert np.isnan(frame[LAT].iloc[0]) and pd.isna(frame[TIME_UTC].iloc[0])  # Status 1
    np.testing.assert_allclose(frame[LAT].iloc[1:], [42.84576, 42.84577, 42.84578])
    np.testing.assert_allclose(frame[LON].iloc[1:], -2.6884623)
    assert frame[TIME_UTC].iloc[1] == gps_utc(1817, 403684400, 16)  # 16 leap s in 2014
    np.testing.assert_allclose(frame[ALT_MSL_M].iloc[1:], [520.5, 521.5, 522.5])
    assert frame[ALT_AGL_M].isna().all() and (frame[ALT_REF] == "takeoff").all()
    assert any("height above home" in note for note in raw.notes)
    assert frame[SEGMENT].tolist() == [0, 1, 1, 2]  # a new segment at each arming


def test_dataflash_modern_layout(tmp_path):
    gps = "QBBIHLLf"
    data = (
        df_fmt(130, "GPS", gps, "TimeUS,I,Status,GMS,GWk,Lat,Lng,Alt")
        + df_fmt(133, "POS", "QLLff", "TimeUS,Lat,Lng,Alt,RelHomeAlt")
        + df_fmt(134, "ARM", "QB", "TimeUS,ArmState")
        + df_msg(134, "QB", 900_000, 1)
        + df_msg(133, "QLLff", 1_000_000, 0, 0, 100.0, 10.0)
        + df_msg(130, gps, 1_500_000, 0, 3, 100_000, 2100, 515000000, 1000000, 101.0)
        + df_msg(130, gps, 1_500_000, 1, 3, 100_000, 2100, 100000000, 1000000, 900.0)
        + df_msg(133, "QLLff", 2_000_000, 0, 0, 100.0, 20.0)
    )
    path = tmp_path / "modern.log"
    path.write_bytes(data)
    frame = read_dataflash(path).frame
    assert len(frame) == 1  # the second receiver (I=1) is left out
    assert frame[LAT].iloc[0] == pytest.approx(51.5) and frame[LON].iloc[0] == pytest.approx(0.1)
    assert frame[ALT_AGL_M].iloc[0] == pytest.approx(15.0)  # POS.RelHomeAlt halfway
    assert frame[TIME_UTC].iloc[0] == gps_utc(2100, 100_000, 18)
    assert frame[SEGMENT].iloc[0] == 1


def test_dataflash_camera_events(tmp_path):
    events = read_camera_events(old_dataflash(tmp_path))
    assert len(events) == 1
    row = events.iloc[0]
    assert row[TIME_UTC] == gps_utc(1817, 403684500, 16)
    assert (row[LAT], row[LON], row[ALT_MSL_M]) == pytest.approx((42.84576, -2.6884623, 521.0))
    assert (row["roll_deg"], row["pitch_deg"], row["yaw_deg"]) == pytest.approx((1.5, -3.0, 90.0))


def test_dataflash_triggers_become_nadir_poses_in_their_flight(tmp_path):
    import geoexpose as gx
    from geoexpose.tracks.triggers import read_trigger_poses

    cam = "IHLLffccC"
    data = (
        df_fmt(130, "GPS", GPS_OLD, "Status,TimeMS,Week,Lat,Lng,Alt")
        + df_fmt(131, "EV", "B", "Id")
        + df_fmt(132, "CAM", cam, "GPSTime,GPSWeek,Lat,Lng,Alt,RelAlt,Roll,Pitch,Yaw")
        + df_fmt(133, "TRIG", cam, "GPSTime,GPSWeek,Lat,Lng,Alt,RelAlt,Roll,Pitch,Yaw")
        + df_msg(131, "B", 10)
        + b"".join(
            df_msg(130, GPS_OLD, 3, 403684000 + 200 * k, 1817, 428457600 + 10 * k, -26884623, 520.0)
            for k in range(11)
        )
        # a photo with its own position, and one logged before the fix (0/0) at 1.0 s
        + df_msg(133, cam, 403684400, 1817, 428457620, -26884623, 522.0, 12.0, 0, 0, 4500)
        + df_msg(132, cam, 403684400, 1817, 428457620, -26884623, 522.0, 12.0, 150, -300, 4500)
        + df_msg(132, cam, 403685000, 1817, 0, 0, 0.0, 15.0, 0, 0, 27000)
    )
    path = tmp_path / "survey.bin"
    path.write_bytes(data)
    fixes = gx.read_tracks(path)
    poses = read_trigger_poses(path)
    assert len(poses) == 2  # the CAM records: TRIG is the command, CAM the photo taken
    assert poses.attrs["geoexpose"]["files"][0]["notes"] == [
        "1 TRIG records left out: the log has CAM (taken) records"
    ]
    assert poses["time_utc"].tolist() == [gps_utc(1817, 403684400, 16),
                                          gps_utc(1817, 403685000, 16)]  # fmt: skip
    assert poses["flight_id"].tolist() == [fixes["flight_id"].iloc[0]] * 2
    np.testing.assert_allclose(poses["cam_lat"], [42.8457620, 42.8457650])  # 2nd from the track
    np.testing.assert_allclose(poses["alt_agl_m"], [12.0, 15.0])
    np.testing.assert_allclose(poses["yaw_deg"], [45.0, 270.0])
    assert (poses["pitch_deg"] == -90).all() and (poses["roll_deg"] == 0).all()
    assert poses["flags"].tolist() == [
        "from_log_trigger;pose_nadir_assumed",
        "from_log_trigger;pose_nadir_assumed;position_from_track",
    ]
    assert poses["trigger"].tolist() == ["CAM", "CAM"]


def test_damaged_dataflash_prints_nothing(tmp_path, capfd):
    whole = old_dataflash(tmp_path).read_bytes()
    path = tmp_path / "damaged.bin"
    path.write_bytes(whole[:200] + bytes(600) + whole[200:])  # pymavlink: "bad header" x 600
    read_dataflash(path)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_dataflash_without_gps(tmp_path):
    path = tmp_path / "nogps.bin"
    path.write_bytes(df_fmt(131, "EV", "B", "Id") + df_msg(131, "B", 10))
    with pytest.raises(InputError, match="no GPS"):
        read_dataflash(path)


# ---------------------------------------------------------------- tlog


def test_tlog_two_systems_and_camera(tmp_path):
    from pymavlink.dialects.v20 import ardupilotmega as dialect

    t0 = 1_600_000_000.0
    data = b""
    for i, system in enumerate([1, 2, 1]):
        lat = 492574234 + 100 * i
        position = dialect.MAVLink_global_position_int_message(
            i, lat, -1232432147, 90_500, 5_250, 0, 0, 0, 0
        )
        data += tlog_packet(t0 + i, position, system)
    camera = dialect.MAVLink_camera_feedback_message(
        0, 1, 0, 1, 492574234, -1232432147, 95.0, 10.0, 1.0, -2.0, 45.0, 0, 0, 1
    )
    data += tlog_packet(t0 + 5, camera, 1)
    path = tmp_path / "two.tlog"
    path.write_bytes(data)
    assert sniff_tlog(data[:4096], path)
    raw = read_tlog(path)
    frame = raw.frame
    assert raw.format == "mavlink_tlog" and "ground station" in raw.notes[0]
    np.testing.assert_allclose(frame[LAT], [49.2574234, 49.2574334, 49.2574434])
    np.testing.assert_allclose(frame[ALT_MSL_M], 90.5)
    np.testing.assert_allclose(frame[ALT_AGL_M], 5.25)
    assert frame[TIME_UTC].tolist() == [pd.Timestamp(t0 + i, unit="s", tz=UTC) for i in range(3)]
    seg = frame[SEGMENT].tolist()
    assert seg[0] == seg[2] != seg[1]
    kept, _ = clean_fixes(frame, split_gap_s=60)
    assert sorted(kept["flight_no"].unique().tolist()) == [1, 2]
    events = read_camera_events(path)
    assert len(events) == 1  # time_usec 0: the packet stamp is used
    assert events[TIME_UTC].iloc[0] == pd.Timestamp(t0 + 5, unit="s", tz=UTC)
    assert events["yaw_deg"].iloc[0] == pytest.approx(45.0)
    assert events[ALT_AGL_M].iloc[0] == pytest.approx(10.0)


def test_tlog_falls_back_to_gps_raw_int(tmp_path):
    from pymavlink.dialects.v20 import ardupilotmega as dialect

    data = b""
    for i, fix in enumerate([1, 3]):
        raw_gps = dialect.MAVLink_gps_raw_int_message(
            0, fix, 515000000, 1000000, 80_000, 0, 0, 0, 0, 9
        )
        data += tlog_packet(1_600_000_000 + i, raw_gps, 1)
    path = tmp_path / "raw.tlog"
    path.write_bytes(data)
    raw = read_tlog(path)
    assert np.isnan(raw.frame[LAT].iloc[0])  # fix_type 1
    assert raw.frame[LAT].iloc[1] == pytest.approx(51.5)
    assert raw.frame[ALT_MSL_M].iloc[1] == pytest.approx(80.0)
    assert raw.frame[ALT_AGL_M].isna().all()


# ---------------------------------------------------------------- ULog

GPS_FIELDS = [
    ("uint64_t", "timestamp"),
    ("uint64_t", "time_utc_usec"),
    ("double", "latitude_deg"),
    ("double", "longitude_deg"),
    ("double", "altitude_msl_m"),
    ("uint8_t", "fix_type"),
]
T_UTC_US = 1_618_986_658_000_000


def test_ulog_new_layout_and_camera(tmp_path):
    gps_rows = [(1_000_000, 0, 0.0, 0.0, 0.0, 0), (2_000_000, T_UTC_US, 63.4, 10.4, 66.0, 3)]
    gps_rows.append((3_000_000, T_UTC_US + 1_000_000, 63.4001, 10.4, 67.0, 3))
    local = [(1_500_000, -1.0, 1), (2_500_000, -3.0, 1), (3_500_000, -5.0, 1)]
    quarter_turn = (0.70710678, 0.0, 0.0, 0.70710678)
    camera_fields = [("uint64_t", "timestamp"), ("uint64_t", "timestamp_utc"), ("double", "lat"),
                     ("double", "lon"), ("float", "alt"), ("float", "ground_distance")]  # fmt: skip
    camera_fields += [("float", f"q[{i}]") for i in range(4)]
    data = ulog_bytes(
        [
            ("sensor_gps", GPS_FIELDS, gps_rows),
            (
                "vehicle_local_position",
                [("uint64_t", "timestamp"), ("float", "z"), ("uint8_t", "z_valid")],
                local,
            ),
            (
                "camera_capture",
                camera_fields,
                [(2_200_000, T_UTC_US + 200_000, 63.4, 10.4, 70.0, 4.0, *quarter_turn)],
            ),
        ]
    )
    path = tmp_path / "new.ulg"
    path.write_bytes(data)
    assert sniff_ulog(data[:4096], path)
    raw = read_ulog(path)
    frame = raw.frame
    assert raw.format == "px4_ulog"
    assert np.isnan(frame[LAT].iloc[0]) and pd.isna(frame[TIME_UTC].iloc[0])
    np.testing.assert_allclose(frame[LAT].iloc[1:], [63.4, 63.4001])
    np.testing.assert_allclose(frame[ALT_MSL_M].iloc[1:], [66.0, 67.0])
    np.testing.assert_allclose(frame[ALT_AGL_M].iloc[1:], [2.0, 4.0])  # -z halfway between samples
    assert frame[TIME_UTC].iloc[1] == pd.Timestamp(T_UTC_US, unit="us", tz=UTC)
    events = read_camera_events(path)
    assert len(events) == 1
    assert events["yaw_deg"].iloc[0] == pytest.approx(90.0, abs=1e-3)
    assert events["roll_deg"].iloc[0] == pytest.approx(0.0, abs=1e-3)
    assert events[TIME_UTC].iloc[0] == pd.Timestamp(T_UTC_US + 200_000, unit="us", tz=UTC)


def test_ulog_without_gps(tmp_path):
    path = tmp_path / "nogps.ulg"
    path.write_bytes(
        ulog_bytes(
            [("vehicle_local_position", [("uint64_t", "timestamp"), ("float", "z")], [(1, 0.0)])]
        )
    )
    with pytest.raises(InputError, match="no vehicle_gps_position"):
        read_ulog(path)


def test_missing_dependency(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyulog", None)
    path = tmp_path / "x.ulg"
    path.write_bytes(ulog_bytes([("sensor_gps", GPS_FIELDS, [])]))
    with pytest.raises(InputError, match="pip install pyulog"):
        read_ulog(path)


def test_sniffers(tmp_path):
    stamp = struct.pack(">Q", 1_600_000_000_000_000)
    assert sniff_tlog(stamp + b"\xfe\x1c", tmp_path / "a.TLOG")
    assert not sniff_tlog(stamp + b"\xfe\x1c", tmp_path / "a.bin")
    assert not sniff_tlog(bytes(8) + b"\xfe\x1c", tmp_path / "a.tlog")  # stamp of 1970
    assert not sniff_tlog(stamp + b"\x00", tmp_path / "a.tlog")
    assert sniff_dataflash(b"\xa3\x95\x80\x80", tmp_path / "x")
    assert not sniff_dataflash(b"\xa3\x95\x81", tmp_path / "x.bin")
    assert sniff_ulog(b"ULog\x01\x12\x35\x01", tmp_path / "x")
    assert not sniff_ulog(b"ULog\x01\x12\x36", tmp_path / "x.ulg")
    (tmp_path / "x.csv").write_text("lat,lon\n")
    assert sniff_format(tmp_path / "x.csv") == "csv"  # no autopilot format takes it
    with pytest.raises(InputError, match="not an ArduPilot"):
        (tmp_path / "t.txt").write_text("lat,lon\n")
        read_camera_events(tmp_path / "t.txt")


# ---------------------------------------------------------------- real files

# (folder, file name, reader, known area: lat, lon, radius km) from each SOURCE.txt
REAL = [
    ("ardupilot_bin", "copter_6-11-2014_GPS_issues1.BIN", read_dataflash, (42.846, -2.688, 10)),
    ("ardupilot_bin", "copter_6-11-2014_Loiter_RTL.bin", read_dataflash, (42.846, -2.688, 10)),
    ("ardupilot_bin", "plane_4-12-2014_329.BIN", read_dataflash, (42.846, -2.688, 10)),
    ("mavlink_tlog", "2018-09-17 16-44-06.tlog", read_tlog, (49.257, -123.243, 10)),
    ("px4_ulog", "sample_log_small.ulg", read_ulog, (63.417, 10.408, 10)),
]
SNIFF = {read_dataflash: sniff_dataflash, read_tlog: sniff_tlog, read_ulog: sniff_ulog}


@pytest.mark.realdata
@pytest.mark.parametrize(("folder", "name", "reader", "area"), REAL, ids=[r[1] for r in REAL])
def test_real_file(realdata, folder, name, reader, area):
    path = realdata / "tracks" / folder / name
    head = path.read_bytes()[:4096]
    assert [sniff(head, path) for sniff in SNIFF.values()] == [r is reader for r in SNIFF]
    kind = sniff_format(path)
    assert kind == {read_dataflash: "ardupilot_bin", read_tlog: "mavlink_tlog"}.get(
        reader, "px4_ulog"
    )
    raw = read_track_file(path, format=kind)
    assert raw.format == kind
    kept, _ = clean_fixes(raw.frame, split_gap_s=60)
    assert len(kept) >= 30
    lat0, lon0, radius_km = area
    lat, lon = kept[LAT].to_numpy(), kept[LON].to_numpy()
    _, _, from_area = GEOD.inv(np.full(len(lat), lon0), np.full(len(lat), lat0), lon, lat)
    assert from_area.max() < radius_km * 1000
    for _, flight in kept.groupby("flight_no"):
        seconds = flight[TIME_UTC].diff().dt.total_seconds().to_numpy()[1:]
        assert (seconds > 0).all()
        _, _, step = GEOD.inv(flight[LON].to_numpy()[:-1], flight[LAT].to_numpy()[:-1],
                              flight[LON].to_numpy()[1:], flight[LAT].to_numpy()[1:])  # fmt: skip
        assert (step / seconds).max() < 40
    assert kept[ALT_AGL_M].notna().mean() > 0.9
    assert kept[ALT_MSL_M].between(-50, 1000).all()


@pytest.mark.realdata
def test_real_details(realdata):
    tracks = realdata / "tracks"
    issues = read_dataflash(tracks / "ardupilot_bin" / "copter_6-11-2014_GPS_issues1.BIN").frame
    assert issues[LAT].isna().sum() == 11  # the 11 fix-loss rows of SOURCE.txt
    first = issues[TIME_UTC].dropna().iloc[0]
    assert first.strftime("%Y-%m-%d") == "2014-11-06"  # the date in the file name
    loiter = read_dataflash(tracks / "ardupilot_bin" / "copter_6-11-2014_Loiter_RTL.bin").frame
    assert loiter[SEGMENT].nunique() >= 2  # several arm cycles
    tlog = read_tlog(tracks / "mavlink_tlog" / "2018-09-17 16-44-06.tlog")
    kept, dropped = clean_fixes(tlog.frame, split_gap_s=60)
    assert dropped["null_island"] == 10
    assert kept[TIME_UTC].iloc[0].strftime("%Y-%m-%d %H") == "2018-09-17 23"  # 16:44 PDT
    ulog = read_ulog(tracks / "px4_ulog" / "sample_log_small.ulg").frame
    assert len(ulog) == 32 and ulog[ALT_MSL_M].iloc[0] == pytest.approx(66.814)
    assert ulog[TIME_UTC].iloc[0].strftime("%Y-%m-%dT%H:%M") == "2021-04-21T06:30"
    for folder, name, _, _ in REAL:
        assert len(read_camera_events(tracks / folder / name)) == 0  # none has camera records
