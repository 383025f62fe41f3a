"""Tests of the Remote ID (Open Drone ID) capture reader."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError, InputWarning
from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, ALT_REF, LAT, LON, SPEED_M_S, TIME_UTC
from geoexpose.tracks._pcap import sniff_remote_id
from geoexpose.tracks._remoteid import (
    read_remote_id,
    read_remote_id_messages,
    read_remote_id_operators,
)
from geoexpose.tracks.normalize import SEGMENT, clean_fixes

GEOD = Geod(ellps="WGS84")
MAC_A = bytes.fromhex("02aabbccdd01")
MAC_B = bytes.fromhex("02aabbccdd02")
T0 = pd.Timestamp("2026-06-12T10:59:59.8Z")
REAL = "tracks/remote_id_pcap"
REAL_FILES = ("odid_wifi_sample.pcap", "odid_wifi_bcn_sample.pcap", "odid_bt5_lr_sample.pcapng")


# ---- message encoders, written from the ASTM F3411 layout -----------------------


def _alt(metres: float) -> int:
    return round((metres + 1000.0) * 2)


def location(lat, lon, *, height=80.5, height_type=0, speed=12.25, direction=270, tenths=0xFFFF):
    ew, direction = (1, direction - 180) if direction >= 180 else (0, direction)
    mult, raw_speed = (
        (0, round(speed / 0.25)) if speed <= 63.75 else (1, round((speed - 63.75) / 0.75))
    )
    flags = 2 << 4 | height_type << 2 | ew << 1 | mult
    return struct.pack(
        "<BBBBbiiHHHBBHBB",
        0x12,
        flags,
        direction,
        raw_speed,
        4,
        round(lat * 1e7),
        round(lon * 1e7),
        _alt(95.0),
        _alt(140.0),
        _alt(height),
        0,
        0,
        tenths,
        0,
        0,
    )


def basic_id(text: str, id_type: int = 1) -> bytes:
    return bytes([0x02, id_type << 4 | 2]) + text.encode().ljust(20, b"\0") + bytes(3)


def system(lat: float, lon: float, stamp: int) -> bytes:
    return struct.pack(
        "<BBiiHBHHBHIB", 0x42, 1, round(lat * 1e7), round(lon * 1e7), 1, 5, 0, 0, 0, 0, stamp, 0
    )


def operator_id(text: str) -> bytes:
    return bytes([0x52, 0]) + text.encode().ljust(20, b"\0") + bytes(3)


def pack(*messages: bytes) -> bytes:
    return bytes([0xF2, 25, len(messages)]) + b"".join(messages)


# ---- frames and capture files ---------------------------------------------------


def beacon(mac: bytes, *messages: bytes, radiotap_flags: int | None = None) -> bytes:
    body = pack(*messages)
    element = b"\xdd" + bytes([5 + len(body)]) + b"\xfa\x0b\xbc\x0d\x07" + body
    frame = b"\x80\x00\x00\x00" + b"\xff" * 6 + mac + mac + b"\x00\x00" + bytes(12)
    frame += b"\x00\x04test" + element
    if radiotap_flags is None:
        return b"\x00\x00\x08\x00\x00\x00\x00\x00" + frame
    return b"\x00\x00\x09\x00\x02\x00\x00\x00" + bytes([radiotap_flags]) + frame


def nan_frame(mac: bytes, *messages: bytes) -> bytes:
    info = b"\x09" + pack(*messages)
    attribute = b"\x88\x69\x19\x9d\x92\x09\x01\x00\x10" + bytes([len(info)]) + info
    frame = b"\xd0\x00\x00\x00" + b"\x51\x6f\x9a\x01\x00\x00" + mac + mac + b"\x00\x00"
    frame += b"\x04\x09\x50\x6f\x9a\x13" + b"\x03" + struct.pack("<H", len(attribute)) + attribute
    return b"\x00\x00\x08\x00\x00\x00\x00\x00" + frame


def ble_adv(mac: bytes, message: bytes, crc: bytes = b"") -> bytes:
    data = b"\x1e\x16\xfa\xff\x0d\x03" + message
    payload = mac[::-1] + data
    return b"\xd6\xbe\x89\x8e" + bytes([0x02, len(payload)]) + payload + crc


def pcap(path: Path, packets: list[tuple[pd.Timestamp, bytes]], *, link_type: int = 127) -> Path:
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link_type)
    for time, data in packets:
        ns = time.value
        out += struct.pack("<IIII", ns // 10**9, ns % 10**9 // 1000, len(data), len(data)) + data
    path.write_bytes(out)
    return path


def _block(kind: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return struct.pack("<II", kind, len(body) + 12) + body + struct.pack("<I", len(body) + 12)


def pcapng(path: Path, packets: list[tuple[pd.Timestamp, bytes]], *, link_type: int) -> Path:
    out = _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    tsresol = struct.pack("<HHB", 9, 1, 9) + bytes(3) + bytes(4)  # nanoseconds, end
    out += _block(1, struct.pack("<HHI", link_type, 0, 0) + tsresol)
    for time, data in packets:
        ns = time.value
        head = struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(data), len(data))
        out += _block(6, head + data)
    path.write_bytes(out)
    return path


def at(seconds: float) -> pd.Timestamp:
    return T0 + pd.Timedelta(seconds=seconds)


# ---- synthetic tests ------------------------------------------------------------


def test_beacon_message_pack_fields(tmp_path):
    packets = [
        (at(0), beacon(MAC_A, basic_id("SER-1"), location(52.5200123, 13.4049876))),
        (at(1), beacon(MAC_A, location(52.5201, 13.4050, speed=70.0, direction=45))),
    ]
    raw = read_remote_id(pcap(tmp_path / "a.pcap", packets))
    frame = raw.frame
    assert raw.format == "remote_id"
    assert frame[LAT].to_numpy() == pytest.approx([52.5200123, 52.5201], abs=1e-9)
    assert frame[LON].to_numpy() == pytest.approx([13.4049876, 13.4050], abs=1e-9)
    assert frame[ALT_AGL_M].tolist() == [80.5, 80.5]
    assert frame[ALT_REF].tolist() == ["takeoff", "takeoff"]
    assert frame[ALT_MSL_M].isna().all()
    # 12.25 m/s in quarter steps; 70 m/s is 63.75 + 8 x 0.75 = 69.75 in the coarse scale
    assert frame[SPEED_M_S].tolist() == [12.25, 69.75]
    assert frame[TIME_UTC].tolist() == [at(0), at(1)]  # time unknown: capture clock
    assert "segment 0 = drone 'SER-1'" in raw.notes
    found = read_remote_id_messages(tmp_path / "a.pcap")
    assert found["direction_deg"].tolist() == [270.0, 45.0]
    assert found["speed_v_m_s"].tolist() == [2.0, 2.0]
    assert found["alt_geodetic_m"].tolist() == [140.0, 140.0]
    assert found["alt_pressure_m"].tolist() == [95.0, 95.0]


def test_message_time_placed_in_the_capture_hour(tmp_path):
    # capture clock 10:59:59.8; message times 59:59.9 and 00:00.5 (next hour), then a
    # repeat of the second, then one whose clock is 20 minutes off
    packets = [
        (at(0), beacon(MAC_A, location(50.0, 8.0, tenths=35999))),
        (at(0.5), beacon(MAC_A, location(50.0001, 8.0, tenths=5))),
        (at(0.9), nan_frame(MAC_A, location(50.0001, 8.0, tenths=5))),
        (at(1.5), beacon(MAC_A, location(50.0002, 8.0, tenths=12000))),
    ]
    raw = read_remote_id(pcap(tmp_path / "t.pcap", packets))
    expected = [
        pd.Timestamp("2026-06-12T10:59:59.9Z"),
        pd.Timestamp("2026-06-12T11:00:00.5Z"),
        at(1.5),
    ]
    assert raw.frame[TIME_UTC].tolist() == expected
    assert any("1 repeats read once" in note for note in raw.notes)


def test_height_type_ground_and_unknown_height(tmp_path):
    packets = [
        (at(0), beacon(MAC_A, location(50.0, 8.0, height=30.0, height_type=1))),
        (at(1), beacon(MAC_A, location(50.0, 8.0, height=-1000.0, height_type=1))),
    ]
    frame = read_remote_id(pcap(tmp_path / "h.pcap", packets)).frame
    assert frame[ALT_REF].tolist() == ["ground", "ground"]
    assert frame[ALT_AGL_M].iloc[0] == 30.0
    assert np.isnan(frame[ALT_AGL_M].iloc[1])


def test_two_drones_and_nan_frames_then_clean(tmp_path):
    packets = [
        (at(0), nan_frame(MAC_A, basic_id("A-1"), location(50.0, 8.0))),
        (at(0.1), nan_frame(MAC_B, location(51.0, 9.0))),
        (at(1), nan_frame(MAC_A, location(50.0001, 8.0))),
        (at(1.1), nan_frame(MAC_B, location(51.0001, 9.0))),
        (at(100), nan_frame(MAC_A, location(50.0002, 8.0))),
    ]
    raw = read_remote_id(pcap(tmp_path / "n.pcap", packets))
    assert raw.frame[SEGMENT].tolist() == [0, 1, 0, 1, 0]
    assert "segment 1 = drone '02:aa:bb:cc:dd:02'" in raw.notes
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    assert sum(dropped.values()) == 0
    # drone A: split at the 99 s gap; drone B: one flight
    assert fixes["flight_no"].tolist() == [1, 1, 2, 3, 3]
    assert fixes[LAT].tolist() == pytest.approx([50.0, 50.0001, 50.0002, 51.0, 51.0001])


def test_operators(tmp_path):
    stamp = 233_000_000  # seconds since 2019-01-01
    packets = [
        (at(0), beacon(MAC_A, basic_id("A-1"), operator_id("OP-9"), location(50.0, 8.0))),
        (at(1), beacon(MAC_A, system(49.99, 7.99, stamp))),
    ]
    ops = read_remote_id_operators(pcap(tmp_path / "o.pcap", packets))
    assert ops["drone_id"].tolist() == ["A-1"]
    assert ops["operator_id"].tolist() == ["OP-9"]
    assert ops["operator_lat"].iloc[0] == pytest.approx(49.99, abs=1e-9)
    assert ops["operator_lon"].iloc[0] == pytest.approx(7.99, abs=1e-9)
    assert ops["area_radius_m"].iloc[0] == 50.0
    expected = pd.Timestamp("2019-01-01T00:00:00Z") + pd.Timedelta(seconds=stamp)
    assert ops["system_time_utc"].iloc[0] == expected


def test_each_drone_is_its_own_flight_with_its_id_and_its_operator(tmp_path):
    import geoexpose as gx

    stamp = 233_000_000
    packets = [
        (at(0), beacon(MAC_A, basic_id("SERIAL-A"), location(50.0, 8.0))),
        (at(0.2), beacon(MAC_B, basic_id("GBR-CAA-B", id_type=2), location(51.0, 9.0))),
        (at(1), beacon(MAC_A, system(49.99, 7.99, stamp), location(50.0001, 8.0))),
        (at(1.2), beacon(MAC_B, system(50.99, 8.99, stamp), location(51.0001, 9.0))),
        (at(40), beacon(MAC_A, system(49.98, 7.98, stamp + 39), location(50.0002, 8.0))),
        (at(41), beacon(MAC_B, system(0.0, 0.0, stamp + 40), location(51.0002, 9.0))),
        (at(50), beacon(MAC_A, location(50.0003, 8.0))),
        (at(150), beacon(MAC_B, location(51.0003, 9.0))),  # 109 s after B's last System
    ]
    fixes = gx.read_tracks(pcap(tmp_path / "two.pcap", packets))
    by_drone = dict(tuple(fixes.groupby("drone_id")))
    assert sorted(by_drone) == ["GBR-CAA-B", "SERIAL-A"]
    a, b = by_drone["SERIAL-A"], by_drone["GBR-CAA-B"]
    assert len(set(a["flight_id"])) == 1 and len(set(b["flight_id"])) == 2  # B: 109 s gap
    assert set(a["flight_id"]).isdisjoint(b["flight_id"])
    # the drone's own System message nearest in capture time (A at 50 s: the one at 40 s)
    assert a["operator_lat"].tolist() == pytest.approx([49.99, 49.99, 49.98, 49.98], abs=1e-9)
    assert a["operator_lon"].tolist() == pytest.approx([7.99, 7.99, 7.98, 7.98], abs=1e-9)
    # B: 0/0 (unknown) is not a position; none within 60 s of the last fix
    assert b["operator_lat"].iloc[:3].tolist() == pytest.approx([50.99] * 3, abs=1e-9)
    assert np.isnan(b["operator_lat"].iloc[3]) and np.isnan(b["operator_lon"].iloc[3])


def test_bluetooth_pcapng_crc_and_address(tmp_path):
    good = ble_adv(MAC_A, location(50.0, 8.0))
    damaged = ble_adv(MAC_A, location(60.0, 8.0), crc=b"\x00\x00\x00")
    path = pcapng(tmp_path / "b.pcapng", [(at(0), good), (at(1), damaged)], link_type=251)
    found = read_remote_id_messages(path)
    assert found["lat"].tolist() == pytest.approx([50.0])  # a wrong CRC drops the packet
    assert found["drone_id"].tolist() == ["02:aa:bb:cc:dd:01"]
    assert found["packet_time_utc"].tolist() == [at(0)]  # nanosecond time stamps


def test_bad_fcs_frames_are_skipped(tmp_path):
    packets = [
        (at(0), beacon(MAC_A, location(50.0, 8.0), radiotap_flags=0x00)),
        (at(1), beacon(MAC_A, location(60.0, 8.0), radiotap_flags=0x40)),
    ]
    frame = read_remote_id(pcap(tmp_path / "f.pcap", packets)).frame
    assert frame[LAT].tolist() == pytest.approx([50.0])


def test_truncated_last_packet_is_counted(tmp_path):
    packets = [(at(i), beacon(MAC_A, location(50.0 + i * 1e-4, 8.0))) for i in range(3)]
    path = pcap(tmp_path / "c.pcap", packets)
    path.write_bytes(path.read_bytes()[:-10])
    raw = read_remote_id(path)
    assert len(raw.frame) == 2
    assert raw.dropped == {"truncated_row": 1}


def test_errors(tmp_path):
    text = tmp_path / "x.pcap"
    text.write_text("lat,lon\n1,2\n")
    with pytest.raises(InputError, match="not a pcap"):
        read_remote_id(text)
    empty = pcap(tmp_path / "e.pcap", [(at(0), beacon(MAC_A)[:-30])])
    with pytest.raises(InputError, match="no Remote ID"):
        read_remote_id(empty)
    only_id = pcap(tmp_path / "i.pcap", [(at(0), beacon(MAC_A, basic_id("A")))])
    with pytest.raises(InputError, match="no Location message"):
        read_remote_id(only_id)


def test_sniff(tmp_path):
    assert sniff_remote_id(struct.pack("<I", 0xA1B2C3D4), tmp_path / "a")
    assert sniff_remote_id(struct.pack(">I", 0xA1B2C3D4), tmp_path / "a")
    assert sniff_remote_id(struct.pack("<I", 0xA1B23C4D), tmp_path / "a")
    assert sniff_remote_id(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x4d\x3c\x2b\x1a", tmp_path / "a")
    assert not sniff_remote_id(b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00abcd", tmp_path / "a")
    assert not sniff_remote_id(b"time,lat,lon\n", tmp_path / "a.pcap")


# ---- real captures --------------------------------------------------------------


@pytest.mark.parametrize("name", REAL_FILES[:2])
def test_real_wifi_captures(realdata, name):
    path = realdata / REAL / name
    raw = read_remote_id(path)
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    assert len(fixes) >= 15  # about 1 Hz; NaN and beacon copies read once
    assert dropped["null_island"] == dropped["out_of_range"] == 0
    # the test content flies near its operator: every fix within 1 km of him
    ops = read_remote_id_operators(path)
    assert set(ops["operator_id"]) == {"GBR-OP-123ABCD"}  # value named in SOURCE.txt
    n = len(fixes)
    op_lon = np.full(n, ops["operator_lon"].iloc[0])
    op_lat = np.full(n, ops["operator_lat"].iloc[0])
    _, _, dist = GEOD.inv(op_lon, op_lat, fixes[LON].to_numpy(), fixes[LAT].to_numpy())
    assert dist.max() < 1000
    ns = fixes[TIME_UTC].to_numpy(dtype="datetime64[ns]").view("int64")
    assert (np.diff(ns) > 0).all()
    _, _, step = GEOD.inv(
        fixes[LON].to_numpy()[:-1],
        fixes[LAT].to_numpy()[:-1],
        fixes[LON].to_numpy()[1:],
        fixes[LAT].to_numpy()[1:],
    )
    assert (step / (np.diff(ns) / 1e9)).max() < 40
    assert (fixes[ALT_REF] == "takeoff").all()


def test_real_beacon_capture_serial(realdata):
    raw = read_remote_id(realdata / REAL / "odid_wifi_bcn_sample.pcap")
    assert "segment 0 = drone 'MFG1A0123456789'" in raw.notes  # serial named in SOURCE.txt


def test_real_bluetooth_long_range(realdata):
    path = realdata / REAL / "odid_bt5_lr_sample.pcapng"
    found = read_remote_id_messages(path)
    # 274 packets, about 1 in 9 with bit errors; every kept message decodes sanely
    assert len(found) >= 200
    assert found["status"].between(0, 4).all()
    assert set(found["drone_id"]) == {"SSEVTFG93700070"}
    # the transmitter had no GNSS fix: every position is 0/0, dropped when cleaning
    raw = read_remote_id(path)
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    assert len(fixes) == 0
    assert 10 <= dropped["null_island"] == len(raw.frame) < len(found)


def test_read_tracks_finds_remote_id_captures_in_a_folder(realdata):
    import geoexpose as gx

    with pytest.warns(InputWarning, match=r"pcapng: no fix kept of \d+ rows \(\d+ null_island"):
        fixes = gx.read_tracks(realdata / "tracks" / "remote_id_pcap")
    entries = {Path(e["path"]).name: e for e in fixes.attrs["geoexpose"]["files"]}
    assert {e["format"] for e in entries.values()} == {"remote_id"}
    assert entries["odid_bt5_lr_sample.pcapng"]["dropped"]["null_island"] > 0
    assert fixes.groupby("flight_id").size().min() >= 10
    assert fixes.total_bounds[1] > 45.5 and fixes.total_bounds[3] < 45.6
    # one drone per capture: its serial (SOURCE.txt) on every fix of the beacon capture
    beacon = fixes[fixes["source"].str.endswith("odid_wifi_bcn_sample.pcap")]
    assert set(beacon["drone_id"]) == {"MFG1A0123456789"}
    assert fixes["operator_lon"].notna().all() and fixes["operator_lat"].notna().all()
