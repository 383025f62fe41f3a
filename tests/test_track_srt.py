"""Tests of the DJI video telemetry subtitle (.SRT) reader."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    CAM_LAT,
    CAM_LON,
    FLAGS,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    IS_VIDEO,
    LAT,
    LON,
    PITCH_DEG,
    ROLL_DEG,
    SPEED_M_S,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks._srt import (
    ABS_ALT_M,
    DZOOM_RATIO,
    FOCAL_LEN_MM,
    VIDEO_TIME_S,
    read_srt,
    sniff_srt,
    srt_frames,
)
from geoexpose.tracks.normalize import clean_fixes

GEOD = Geod(ellps="WGS84")
REAL = "dji_srt"
# (file, (south, north, west, east)) from SOURCE.txt's stated positions, +- ~5 km
REAL_FILES = {
    "dji_air3s_clip.SRT": (34.22, 34.32, -84.23, -84.12),
    "dji_avata360_clip.SRT": (53.32, 53.41, 6.41, 6.51),
    "webodm_fixture_video.srt": (27.72, 27.82, -82.72, -82.61),
}


def write(path: Path, text: str, *, crlf: bool = False, bom: bool = False) -> Path:
    if crlf:
        text = text.replace("\n", "\r\n")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def cue(start_ms: int, end_ms: int) -> str:
    def stamp(ms: int) -> str:
        h, rest = divmod(ms, 3_600_000)
        m, rest = divmod(rest, 60_000)
        s, ms = divmod(rest, 1000)
        return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"

    return f"{stamp(start_ms)} --> {stamp(end_ms)}"


def modern_block(n, start_ms, when, lat, lon, rel, absolute, extra=""):
    return (
        f"{n}\n{cue(start_ms, start_ms + 16)}\n"
        f'<font size="28">FrameCnt: {n}, DiffTime: 16ms\n{when}\n'
        f"[iso: 180] [shutter: 1/640.0] [fnum: 1.8] [ev: 0] [focal_len: 24.00] "
        f"[latitude: {lat}] [longitude: {lon}] [rel_alt: {rel} abs_alt: {absolute}] "
        f"{extra}[ct: 5419] </font>\n\n"
    )


# Block 2 is missing; 1, 3, 4 are 0.5 s apart in the video and on the camera clock.
MODERN = (
    modern_block(1, 0, "2024-05-17 08:28:30.219", 50.0, 8.0, "0.000", "302.208")
    + modern_block(3, 500, "2024-05-17 08:28:30.719", 50.0001, 8.0, "10.500", "312.708")
    + modern_block(4, 1000, "2024-05-17 08:28:31.219", 50.0002, 8.0002, "21.000", "323.208")
)


def test_modern_blocks_with_crlf_bom_and_a_missing_block(tmp_path):
    path = write(tmp_path / "DJI_0001.SRT", MODERN, crlf=True, bom=True)
    raw = read_srt(path, time_zone="Europe/Berlin", alt_ref=None)
    frame = raw.frame
    assert raw.format == "dji_srt" and raw.time_basis == "Europe/Berlin"
    assert frame[LAT].tolist() == [50.0, 50.0001, 50.0002]
    assert frame[LON].tolist() == [8.0, 8.0, 8.0002]
    assert frame[ALT_AGL_M].tolist() == [0.0, 10.5, 21.0]
    assert frame[ALT_MSL_M].tolist() == [302.208, 312.708, 323.208]
    assert (frame[ALT_REF] == "takeoff").all() and frame[IS_VIDEO].all()
    assert frame[VIDEO_TIME_S].tolist() == [0.0, 0.5, 1.0]
    # 08:28:30.219 CEST (UTC+2 in May) is 06:28:30.219 UTC
    expected = pd.to_datetime(
        ["2024-05-17T06:28:30.219Z", "2024-05-17T06:28:30.719Z", "2024-05-17T06:28:31.219Z"]
    )
    assert (frame[TIME_UTC].to_numpy() == expected.to_numpy()).all()
    assert any("skip 1 block" in note for note in raw.notes)
    assert any("not MSL" in note for note in raw.notes)
    assert frame[[YAW_DEG, GIMBAL_PITCH_DEG, GIMBAL_YAW_DEG, SPEED_M_S]].isna().all().all()


def test_modern_without_zone_is_assumed_utc_and_cleans_to_one_flight(tmp_path):
    path = write(tmp_path / "a.srt", MODERN)
    raw = read_srt(path, time_zone=None, alt_ref="ground")
    assert raw.time_basis == "assumed_utc"
    assert raw.frame[TIME_UTC].iloc[0] == pd.Timestamp("2024-05-17T08:28:30.219Z")
    assert (raw.frame[ALT_REF] == "takeoff").all()  # the file states its reference
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    assert len(fixes) == 3 and sum(dropped.values()) == 0
    assert fixes["flight_no"].tolist() == [1, 1, 1]
    _, _, dist = GEOD.inv(fixes[LON][:-1], fixes[LAT][:-1], fixes[LON][1:], fixes[LAT][1:])
    # 0.0001 deg of latitude is ~11.1 m; the second step also has 0.0002 deg of longitude
    assert dist[0] == pytest.approx(11.12, abs=0.05)
    assert dist[1] == pytest.approx(
        np.hypot(11.12, 0.0002 * 111_320 * np.cos(np.radians(50))), 0.01
    )


def avata_block(n, start_ms, when, yaw, pitch, roll):
    return (
        f"{n}\n{cue(start_ms, start_ms + 41)}\n"
        f'<font size="28">FrameCnt: {n}, DiffTime: 41ms, FrameId: {4786 + n}\n{when}\n'
        "[iso: 200] [shutter: 1/6400.0] [fnum: 1.9] [ev: 0] [ct: 5845] [focal_len: 28.00] "
        "[dzoom_ratio: 2.50], [latitude: 53.365080] [longitude: 6.460739] "
        f"[rel_alt: 5.400 abs_alt: -124.744] [gb_yaw: {yaw} gb_pitch: {pitch} gb_roll: {roll}] "
        "[vsync: 0] [eis: close] [shift x: 0.00, y: 0.00] [pp_target:0.000, 0.000]</font>\n\n"
    )


def test_avata_gimbal_pose_and_frame_sampling(tmp_path):
    # 25 blocks 41 ms apart: ~1.0 s of video
    text = "".join(
        avata_block(n + 1, 41 * n, f"2024-05-27 13:10:{n:02d}.015", -162.8 + n, -30.0 - n, 0.5 * n)
        for n in range(25)
    )
    path = write(tmp_path / "avata.SRT", text)
    raw = read_srt(path, time_zone="UTC", alt_ref=None)
    assert raw.frame[GIMBAL_YAW_DEG].iloc[3] == pytest.approx(-159.8)
    assert raw.frame[GIMBAL_PITCH_DEG].iloc[3] == pytest.approx(-33.0)
    frames = srt_frames(path, every_s=0.25, time_zone="UTC")
    # windows [0, .25), [.25, .5), ...: first start at or after 0, 0.25, 0.5, 0.75 (last: .984)
    expected_n = [int(np.ceil(k * 0.25 / 0.041 - 1e-9)) for k in range(4)]
    assert frames[VIDEO_TIME_S].tolist() == pytest.approx([0.041 * n for n in expected_n])
    assert frames[YAW_DEG].tolist() == pytest.approx([-162.8 + n for n in expected_n])
    assert frames[PITCH_DEG].tolist() == pytest.approx([-30.0 - n for n in expected_n])
    assert frames[ROLL_DEG].tolist() == pytest.approx([0.5 * n for n in expected_n])
    assert (frames[FLAGS] == "").all()
    assert (frames[FOCAL_LEN_MM] == 28.0).all() and (frames[DZOOM_RATIO] == 2.5).all()
    assert (frames[ABS_ALT_M] == -124.744).all() and (frames[ALT_AGL_M] == 5.4).all()
    assert (frames[CAM_LAT] == 53.36508).all() and (frames[CAM_LON] == 6.460739).all()
    every = srt_frames(path, every_s=0)
    assert len(every) == 25 and every.attrs["geoexpose"]["time_basis"] == "assumed_utc"


LEGACY = "".join(
    f"{n + 1}\n{cue(1000 * n, 1000 * (n + 1))}\n"
    f"F/2.8, SS 206.14, ISO 150, EV 0, GPS (-82.{6669 + n}, 27.7716, {10 + n}), "
    f"D {2.8 * n:.2f}m, H {1.5 * n:.2f}m, H.S {0.25 * n:.2f}m/s, V.S 0.00m/s \n\n\n"
    for n in range(4)
)


def test_legacy_one_line_lon_first_no_date(tmp_path):
    path = write(tmp_path / "video.srt", LEGACY, crlf=True)
    raw = read_srt(path, time_zone=None, alt_ref=None)
    frame = raw.frame
    assert frame[LAT].tolist() == [27.7716] * 4
    assert frame[LON].tolist() == [-82.6669, -82.667, -82.6671, -82.6672]
    assert frame[ALT_AGL_M].tolist() == [0.0, 1.5, 3.0, 4.5]
    assert frame[ALT_MSL_M].isna().all()  # the third GPS number is not a height
    assert frame[SPEED_M_S].tolist() == [0.0, 0.25, 0.5, 0.75]
    assert frame[TIME_UTC].isna().all()
    assert raw.warnings and "no date-time" in raw.warnings[0]
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    assert len(fixes) == 0 and dropped["no_fix"] == 4
    frames = srt_frames(path, every_s=2.0)
    assert frames[VIDEO_TIME_S].tolist() == [0.0, 2.0]
    assert frames[PITCH_DEG].tolist() == [-90.0, -90.0]
    assert frames[ROLL_DEG].tolist() == [0.0, 0.0] and frames[YAW_DEG].isna().all()
    assert (frames[FLAGS] == "pose_nadir_assumed;yaw_unknown").all()
    assert frames[TIME_UTC].isna().all()


def test_legacy_p4rtk_attitude(tmp_path):
    line = (
        "F/5.6, SS 1000, ISO 100, EV 0, DZOOM 1.000, GPS (114.1234, 22.5678, 28), "
        "D 120.50m, H 76.19m, H.S 8.30m/s, V.S 0.10m/s, F.PRY (-3.1°, 1.2°, 45.6°), "
        "G.PRY (-60.0°, 0.0°, 44.9°)"
    )
    path = write(tmp_path / "p4.srt", f"1\n{cue(0, 1000)}\n{line}\n\n")
    raw = read_srt(path, time_zone=None, alt_ref=None)
    row = raw.frame.iloc[0]
    assert (row[LAT], row[LON], row[ALT_AGL_M]) == (22.5678, 114.1234, 76.19)
    assert (row[YAW_DEG], row[GIMBAL_PITCH_DEG], row[GIMBAL_YAW_DEG]) == (45.6, -60.0, 44.9)
    frames = srt_frames(path)
    assert frames[[YAW_DEG, PITCH_DEG, ROLL_DEG]].iloc[0].tolist() == [44.9, -60.0, 0.0]
    assert frames[FLAGS].iloc[0] == ""


def test_mavic2_longtitude_microseconds_and_tenths_focal(tmp_path):
    block = (
        "1\n00:00:00,000 --> 00:00:00,033\n"
        '<font size="36">SrtCnt : 1, DiffTime : 33ms\n2019-09-25 01:22:35,085,332\n'
        "[iso : 110] [shutter : 1/200.0] [fnum : 280] [ev : 0.7] [focal_len : 240] "
        "[latitude : 46.608553] [longtitude : -1.963763] [altitude: 1429.697998] </font>\n\n"
    )
    path = write(tmp_path / "m2.SRT", block)
    raw = read_srt(path, time_zone=None, alt_ref=None)
    row = raw.frame.iloc[0]
    assert (row[LAT], row[LON], row[ALT_MSL_M]) == (46.608553, -1.963763, 1429.697998)
    assert np.isnan(row[ALT_AGL_M])
    assert row[TIME_UTC] == pd.Timestamp("2019-09-25T01:22:35.085332Z")
    assert srt_frames(path)[FOCAL_LEN_MM].iloc[0] == 24.0


@pytest.mark.parametrize(
    ("gps", "lat", "lon", "agl", "msl"),
    [
        ("GPS(-122.3699,37.5929,19) BAROMETER:64.3", 37.5929, -122.3699, 64.3, np.nan),
        ("GPS(39.906217,116.391305,69.800) BAROMETER(91.2)", 39.906217, 116.391305, 91.2, 69.8),
        ("GPS(36.6146,-6.1120,0.0M) BAROMETER:0.3M", 36.6146, -6.112, 0.3, 0.0),
        ("GPS(116.391305,39.906217,12.5)", 39.906217, 116.391305, np.nan, 12.5),
    ],
)
def test_gps_forms_take_the_order_the_form_implies(tmp_path, gps, lat, lon, agl, msl):
    text = f"1\n{cue(0, 1000)}\nHOME(0,0) 2017.08.05 14:11:51\n{gps}\nISO:100\n\n"
    raw = read_srt(write(tmp_path / "g.srt", text), time_zone=None, alt_ref=None)
    row = raw.frame.iloc[0]
    assert (row[LAT], row[LON]) == (lat, lon)
    np.testing.assert_equal([row[ALT_AGL_M], row[ALT_MSL_M]], [agl, msl])
    assert row[TIME_UTC] == pd.Timestamp("2017-08-05T14:11:51Z")


def test_value_cut_by_truncation_is_not_read(tmp_path):
    cut = MODERN[: MODERN.rindex("[latitude: 50.0002]") + len("[latitude: 50.0")]
    raw = read_srt(write(tmp_path / "cut.SRT", cut), time_zone=None, alt_ref=None)
    assert len(raw.frame) == 3 and np.isnan(raw.frame[LAT].iloc[2])
    cut = MODERN[: MODERN.rindex("abs_alt: 323.208") + len("abs_alt: 32")]
    raw = read_srt(write(tmp_path / "cut2.SRT", cut), time_zone=None, alt_ref=None)
    assert raw.frame[ALT_AGL_M].iloc[2] == 21.0 and np.isnan(raw.frame[ALT_MSL_M].iloc[2])


def test_sniff(tmp_path):
    srt = write(tmp_path / "x.SRT", MODERN, bom=True, crlf=True)
    assert sniff_srt(srt.read_bytes()[:4096], srt)
    assert sniff_srt(LEGACY.encode(), tmp_path / "clip.txt")
    movie = f"1\n{cue(0, 2000)}\nHello there.\n\n"
    assert not sniff_srt(movie.encode(), tmp_path / "movie.txt")
    assert sniff_srt(movie.encode(), tmp_path / "movie.srt")  # the reader then says why not
    assert not sniff_srt(b"time,latitude,longitude\n1,2,3\n", tmp_path / "a.csv")
    assert not sniff_srt(b"<?xml version='1.0'?><gpx></gpx>", tmp_path / "a.srt")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\x03" * 100, "binary"),
        (b"time,latitude,longitude\n1,2,3\n", "no subtitle blocks"),
        (f"1\n{cue(0, 2000)}\nHello there.\n\n".encode(), "no positions"),
        (f"1\n{cue(0, 20)}\n2024-13-45 99:99:99\n[latitude: 1] [longitude: 2]\n".encode(), "date"),
    ],
)
def test_unreadable_files_raise_input_error(tmp_path, data, message):
    path = tmp_path / "bad.srt"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        read_srt(path, time_zone=None, alt_ref=None)


def test_srt_frames_options(tmp_path):
    path = write(tmp_path / "a.srt", MODERN)
    with pytest.raises(UsageError, match="every_s"):
        srt_frames(path, every_s=-1.0)
    with pytest.raises(UsageError, match="time_zone"):
        srt_frames(path, time_zone="Mars/Olympus")
    with pytest.raises(InputError, match="cannot read"):
        srt_frames(tmp_path / "missing.srt")


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(REAL_FILES))
def test_real_files_are_plausible(realdata, name):
    path = realdata / REAL / name
    text = path.read_text(encoding="utf-8")
    n_blocks = len(re.findall(r"-->", text))
    assert sniff_srt(path.read_bytes()[:4096], path)
    raw = read_srt(path, time_zone=None, alt_ref=None)
    assert len(raw.frame) == n_blocks
    south, north, west, east = REAL_FILES[name]
    assert raw.frame[LAT].between(south, north).all()
    assert raw.frame[LON].between(west, east).all()
    assert raw.frame[VIDEO_TIME_S].is_monotonic_increasing
    fixes, dropped = clean_fixes(raw.frame, split_gap_s=60)
    if name.startswith("webodm"):  # legacy per-second format: no date, so no time
        assert raw.frame[TIME_UTC].isna().all() and dropped["no_fix"] == n_blocks
        assert srt_frames(path)[CAM_LAT].between(south, north).all()
        return
    assert len(fixes) == n_blocks and sum(dropped.values()) == 0
    seconds = fixes[TIME_UTC].astype("int64").to_numpy() / 1e9
    assert (np.diff(seconds) > 0).all()
    # the camera clock advances as the video does (within 2 ms per step)
    np.testing.assert_allclose(np.diff(seconds), np.diff(fixes[VIDEO_TIME_S]), atol=0.002)
    lon, lat = fixes[LON].to_numpy(), fixes[LAT].to_numpy()
    _, _, dist = GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    assert (dist / np.diff(seconds) < 40).all()
    assert (fixes[ALT_AGL_M].between(0, 500)).all()


@pytest.mark.realdata
def test_real_avata_has_gimbal_pose_and_unreliable_abs_alt(realdata):
    frames = srt_frames(realdata / REAL / "dji_avata360_clip.SRT", every_s=0)
    assert frames[YAW_DEG].between(-180, 180).all() and frames[PITCH_DEG].between(-90, 30).all()
    assert (frames[FLAGS] == "").all()
    assert (frames[ABS_ALT_M] < 0).all()  # below sea level at a sea-level site: not MSL
