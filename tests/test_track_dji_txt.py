"""Tests of the DJI native flight record (.txt) reader."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    GIMBAL_PITCH_DEG,
    LAT,
    LON,
    SPEED_M_S,
    TIME_UTC,
)
from geoexpose.tracks._dji_txt import read_dji_txt, read_dji_txt_header, sniff_dji_txt
from geoexpose.tracks.normalize import clean_fixes

GEOD = Geod(ellps="WGS84")
REAL = "tracks/dji_txt"
V4 = "DJIFlightRecord_2015-12-29_[19-05-48].txt"
V14 = "DJIFlightRecord_2021-09-05_[19-23-47].txt"
T0_MS = 1_781_258_400_000  # 2026-06-12T10:00:00Z


# ---- a synthetic version-4 record, written from the layout --------------------


def _record(kind: int, payload: bytes) -> bytes:
    return bytes([kind, len(payload)]) + payload + b"\xff"


def _osd(lat: float, lon: float, height_m: float, vx: float, vy: float, yaw: float) -> bytes:
    tenths = [round(v * 10) for v in (height_m, vx, vy, 0.0, 0.0, 0.0, yaw)]
    return struct.pack("<dd7h", math.radians(lon), math.radians(lat), *tenths) + bytes(23)


def _custom(ms: int) -> bytes:
    return struct.pack("<BBffq", 0, 0, 0.0, 0.0, ms)


def _gimbal(pitch: float, yaw: float) -> bytes:
    return struct.pack("<hhh", round(pitch * 10), 0, round(yaw * 10)) + bytes(4)


def _details_v4(start_ms: int, lat: float, lon: float) -> bytes:
    det = bytearray(400)
    det[40:46] = b"Nowher"
    struct.pack_into("<qdd", det, 91, start_ms, lon, lat)
    struct.pack_into("<fifffi", det, 115, 120.0, 3500, 42.0, 9.5, 3.0, 2)
    det[267:277] = b"SERIAL0001"
    det[277] = 7  # Phantom 4
    det[278:283] = b"bird1"
    return bytes(det)


def synthetic_v4(path: Path, fixes: list[tuple], *, start_ms: int = T0_MS) -> Path:
    """Write a version-4 record: per fix OSD, gimbal, then custom (the apps' order)."""
    body = bytearray()
    for i, (lat, lon, h, vx, vy, yaw, pitch) in enumerate(fixes):
        body += _record(1, _osd(lat, lon, h, vx, vy, yaw))
        body += _record(3, _gimbal(pitch, yaw))
        body += _record(5, _custom(start_ms + 100 * i))
    body += b"\x07\x05junk"  # an unterminated record: skipped
    details_offset = 12 + len(body)
    prefix = struct.pack("<QHBB", details_offset, 400, 4, 0)
    path.write_bytes(prefix + bytes(body) + _details_v4(start_ms, fixes[0][0], fixes[0][1]))
    return path


FIXES = [
    (52.1, 5.2, 0.0, 0.0, 0.0, 10.0, -10.0),
    (52.1001, 5.2, 12.3, 3.0, 4.0, 20.0, -45.0),
    (52.1002, 5.2001, 25.5, -6.0, 8.0, -170.0, -90.0),
]


def test_synthetic_v4_decodes_radians_decimetres_and_times(tmp_path):
    path = synthetic_v4(tmp_path / "DJIFlightRecord_x.txt", FIXES)
    raw = read_dji_txt(path, time_zone="Asia/Tokyo", alt_ref="ground")
    frame = raw.frame
    assert raw.format == "dji_txt"
    assert len(frame) == 3
    np.testing.assert_allclose(frame[LAT], [f[0] for f in FIXES], atol=1e-12)
    np.testing.assert_allclose(frame[LON], [f[1] for f in FIXES], atol=1e-12)
    np.testing.assert_allclose(frame[ALT_AGL_M], [0.0, 12.3, 25.5], atol=1e-9)
    assert (frame[ALT_REF] == "takeoff").all()  # the records say what they hold
    assert frame[ALT_MSL_M].isna().all()
    np.testing.assert_allclose(frame[SPEED_M_S], [0.0, 5.0, 10.0], atol=1e-9)
    np.testing.assert_allclose(frame[GIMBAL_PITCH_DEG], [-10.0, -45.0, -90.0])
    expected = pd.to_datetime([T0_MS, T0_MS + 100, T0_MS + 200], unit="ms", utc=True)
    assert list(frame[TIME_UTC]) == list(expected)  # UTC, time_zone not applied
    header = read_dji_txt_header(path)
    assert header["version"] == 4
    assert header["product"] == "Phantom 4"
    assert header["aircraft"] == "bird1"
    assert header["serial"] == "SERIAL0001"
    assert header["start_time_utc"] == pd.Timestamp("2026-06-12T10:00:00Z")
    assert header["home_lat"] == pytest.approx(52.1)
    assert header["total_time_s"] == pytest.approx(3.5)
    assert header["max_height_m"] == pytest.approx(42.0)
    assert header["city"] == "Nowher"


def test_synthetic_v4_truncated_before_details_still_reads(tmp_path):
    path = synthetic_v4(tmp_path / "a.txt", FIXES)
    data = path.read_bytes()
    cut = tmp_path / "cut.txt"
    group = (3 + 53) + (3 + 10) + (3 + 18)  # OSD, gimbal, custom record of one fix
    cut.write_bytes(data[: 12 + 2 * group + 5])  # two fix groups and a part of the third
    raw = read_dji_txt(cut)
    assert len(raw.frame) == 2
    assert any("truncated" in note for note in raw.notes)
    assert read_dji_txt_header(cut)["details_read"] is False


def test_not_a_flight_record(tmp_path):
    for name, data in {
        "notes.txt": b"Shopping list\nmilk\neggs\n" * 5,
        "empty.txt": b"",
        "short.txt": b"\x10\x00",
        "zeros.txt": bytes(500),
    }.items():
        path = tmp_path / name
        path.write_bytes(data)
        for reader in (read_dji_txt, read_dji_txt_header):
            with pytest.raises(InputError, match="not a DJI flight record") as info:
                reader(path)
            assert "\n" not in str(info.value)
        assert not sniff_dji_txt(data[:4096], path)


def test_sniff_needs_txt_suffix(tmp_path):
    path = synthetic_v4(tmp_path / "flight.txt", FIXES)
    assert sniff_dji_txt(path.read_bytes()[:4096], path)
    other = tmp_path / "flight.bin"
    other.write_bytes(path.read_bytes())
    assert not sniff_dji_txt(other.read_bytes()[:4096], other)


# ---- the real files ---------------------------------------------------------------


def test_real_v4_reads_offline(realdata):
    path = realdata / REAL / V4
    assert sniff_dji_txt(path.read_bytes()[:4096], path)
    raw = read_dji_txt(path)
    frame = raw.frame
    assert 871 <= len(frame) <= 872  # one fix per OSD record (dji-log-parser: 871 frames)
    kept, dropped = clean_fixes(frame, split_gap_s=60.0)
    assert len(kept) > 850
    assert sum(dropped.values()) == len(frame) - len(kept)
    assert (kept["flight_no"] == kept["flight_no"].iloc[0]).all()
    # SOURCE.txt: UK, 53.736N -1.767E, 93 s flight, home altitude 18.8 m
    _az, _baz, dist = GEOD.inv(
        np.full(len(kept), -1.767), np.full(len(kept), 53.736), kept[LON], kept[LAT]
    )
    assert dist.max() < 300
    t = kept[TIME_UTC]
    assert t.is_monotonic_increasing
    assert pd.Timestamp("2015-12-29T19:05:00Z") <= t.iloc[0] <= pd.Timestamp("2015-12-29T19:06Z")
    assert 85 <= (t.iloc[-1] - t.iloc[0]).total_seconds() <= 100
    step = (t.diff().dt.total_seconds().to_numpy())[1:]
    _a, _b, hop = GEOD.inv(kept[LON][:-1], kept[LAT][:-1], kept[LON][1:], kept[LAT][1:])
    assert np.all(hop / step < 40.0)
    # heights above takeoff: on the ground at the start, up to the details' 39.5 m
    assert kept[ALT_AGL_M].iloc[0] == 0.0
    assert kept[ALT_AGL_M].max() == pytest.approx(39.5, abs=0.05)
    assert (kept[ALT_REF] == "takeoff").all()


def test_real_v4_header(realdata):
    header = read_dji_txt_header(realdata / REAL / V4)
    assert header["version"] == 4
    assert header["encrypted"] is False
    assert header["start_time_utc"].floor("s") == pd.Timestamp("2015-12-29T19:05:48Z")
    assert header["home_lat"] == pytest.approx(53.736, abs=1e-3)
    assert header["home_lon"] == pytest.approx(-1.767, abs=1e-3)
    assert header["total_time_s"] == pytest.approx(93, abs=1)


def test_real_v14_header_and_refusal(realdata):
    path = realdata / REAL / V14
    assert sniff_dji_txt(path.read_bytes()[:4096], path)
    header = read_dji_txt_header(path)
    # SOURCE.txt: Mini 2, startTime 2021-09-06T02:23:47.611Z, home 47.5727N -122.6266E,
    # totalTime 1254.4 s, maxHeight 117 m
    assert header["version"] == 14
    assert header["encrypted"] is True
    assert header["product"] == "Mini 2"
    assert header["start_time_utc"] == pd.Timestamp("2021-09-06T02:23:47.611Z")
    assert header["home_lat"] == pytest.approx(47.5727, abs=1e-4)
    assert header["home_lon"] == pytest.approx(-122.6266, abs=1e-4)
    assert header["total_time_s"] == pytest.approx(1254.4)
    assert header["max_height_m"] == pytest.approx(117.0)
    with pytest.raises(InputError) as info:
        read_dji_txt(path)
    message = str(info.value)
    assert "\n" not in message
    for part in ("version 14", "encrypted", "Mini 2", "2021-09-06T02:23:47Z", "47.57270"):
        assert part in message
    assert "AirData" in message and "DJI Flight Log Viewer" in message


# ---- DJI records in folders: .txt told by content ------------------------------


def test_folder_walk_takes_dji_records_and_leaves_other_txt(tmp_path):
    from geoexpose.tracks import read_tracks, track_files

    (tmp_path / "logs").mkdir()
    record = synthetic_v4(tmp_path / "logs" / "DJIFlightRecord_x.txt", FIXES)
    (tmp_path / "logs" / "README.txt").write_text("Flights of June, pilot A.\n")
    (tmp_path / "logs" / "SOURCE.txt").write_text("lat,lon\n")  # text, not a record
    (tmp_path / "logs" / "zeros.txt").write_bytes(bytes(500))
    assert track_files(tmp_path) == [record]
    fixes = read_tracks(tmp_path)
    assert len(fixes) == len(FIXES)  # the record's three OSD records
    assert [e["path"] for e in fixes.attrs["geoexpose"]["files"]] == [str(record)]


def test_a_txt_named_that_is_no_record_is_skipped_saying_so(tmp_path):
    from geoexpose.errors import InputWarning
    from geoexpose.tracks import read_tracks, track_files

    readme = tmp_path / "README.txt"
    readme.write_text("Flights of June, pilot A.\nNothing else here.\n")
    assert track_files(readme) == [readme]  # named: the reader says why not
    with pytest.warns(InputWarning, match=r"README\.txt: not a DJI flight record"):
        fixes = read_tracks(readme)
    (entry,) = fixes.attrs["geoexpose"]["files"]
    assert entry["status"] == "skipped" and entry["reason"].startswith("not a DJI flight record")


def test_real_folder_reads_v4_and_skips_v14_with_the_export_to_use(realdata):
    from geoexpose.errors import InputWarning
    from geoexpose.tracks import read_tracks

    folder = realdata / REAL
    with pytest.warns(InputWarning, match="version 14"):
        fixes = read_tracks(folder)
    alone = read_tracks(folder / V4)  # the record named on its own
    assert len(fixes) == len(alone) > 0
    entries = {Path(e["path"]).name: e for e in fixes.attrs["geoexpose"]["files"]}
    assert sorted(entries) == sorted([V4, V14])  # SOURCE.txt is no track file
    assert entries[V4]["status"] == "read"
    v14 = entries[V14]
    assert v14["status"] == "skipped"
    for part in ("encrypted", "Mini 2", "2021-09-06T02:23:47Z", "AirData", "CSV"):
        assert part in v14["reason"], part
