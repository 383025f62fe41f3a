"""Photo triggers of flight logs as camera poses (geoexpose.tracks.triggers)."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.imagery.camera import camera_table
from geoexpose.tracks.triggers import _CAMERAS, TRIGGER_COLUMNS, camera_model_of, read_trigger_poses

FT = 0.3048
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

AIRDATA_HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "altitude_above_seaLevel(feet), compass_heading(degrees),isPhoto,"
    "gimbal_heading(degrees),gimbal_pitch(degrees)"
)


def airdata(path: Path, flags: list[int], *, gap_at: int | None = None) -> Path:
    """An AirData CSV, one row per flag, 0.5 s apart (a 120 s gap before row ``gap_at``)."""
    rows = [AIRDATA_HEADER]
    for i, flag in enumerate(flags):
        ms = 500 * i + (120_000 if gap_at is not None and i >= gap_at else 0)
        lat, lon = 50.0 + i * 1e-5, 8.0 + i * 2e-5
        rows.append(f"{ms},2024-06-01 12:00:00,{lat},{lon},{100 + i},{400 + i}, {10 + i},{flag},")
        rows[-1] += f"{200 + i},{-30 - i}"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_each_rise_of_is_photo_is_one_pose_with_the_gimbal_angles(tmp_path):
    flags = [0, 1, 1, 0, 1, 0, 0, 1]  # photos start at rows 1, 4 and 7 (7: after the gap)
    path = airdata(tmp_path / "f.csv", flags, gap_at=6)
    fixes = gx.read_tracks(path)
    poses = read_trigger_poses(path)
    assert list(poses.columns) == TRIGGER_COLUMNS
    assert len(poses) == 3
    rows = [1, 4, 7]
    seconds = [0.5 * i + (120 if i >= 6 else 0) for i in rows]
    assert poses["time_utc"].tolist() == [pd.Timestamp(T0 + timedelta(seconds=s)) for s in seconds]
    np.testing.assert_allclose(poses["cam_lat"], [50.0 + i * 1e-5 for i in rows])
    np.testing.assert_allclose(poses["cam_lon"], [8.0 + i * 2e-5 for i in rows])
    np.testing.assert_allclose(poses["alt_agl_m"], [(100 + i) * FT for i in rows])
    np.testing.assert_allclose(poses["yaw_deg"], [200 + i for i in rows])  # gimbal heading
    np.testing.assert_allclose(poses["pitch_deg"], [-30 - i for i in rows])  # gimbal pitch
    assert (poses["roll_deg"] == 0).all() and (poses["alt_ref"] == "takeoff").all()
    assert (poses["flags"] == "from_log_trigger").all() and (poses["kind"] == "photo").all()
    assert (poses["trigger"] == "isPhoto").all() and (poses["path"] == str(path)).all()
    assert poses["capture_id"].tolist() == ["f.csv#photo1", "f.csv#photo2", "f.csv#photo3"]
    # the 120 s gap splits the flight; each pose carries the flight read_tracks gives
    assert poses["flight_id"].tolist() == ["f.csv#1", "f.csv#1", "f.csv#2"]
    assert set(poses["flight_id"]) == set(fixes["flight_id"])
    # the same from fixes already read
    again = read_trigger_poses(path, fixes=fixes)
    pd.testing.assert_frame_equal(again, poses)


def test_without_gimbal_angles_the_pose_is_nadir_and_the_yaw_the_aircrafts(tmp_path):
    text = "lat,lon,time,alt,yaw,is_photo\n" + "".join(
        f"50.0,{8 + i * 1e-5},2024-06-01T12:00:0{i}Z,60,{45 if i < 2 else ''},{int(i in (1, 3))}\n"
        for i in range(4)
    )
    path = tmp_path / "plain.csv"
    path.write_text(text)
    poses = read_trigger_poses(path)
    assert len(poses) == 2
    assert (poses["pitch_deg"] == -90).all()
    assert poses["yaw_deg"].iloc[0] == 45 and np.isnan(poses["yaw_deg"].iloc[1])
    assert poses["flags"].tolist() == [
        "from_log_trigger;pose_nadir_assumed;pose_from_flight_attitude",
        "from_log_trigger;pose_nadir_assumed;yaw_unknown",
    ]


def test_files_without_triggers_give_an_empty_table_with_the_columns(tmp_path):
    path = airdata(tmp_path / "none.csv", [0, 0, 0])
    with pytest.warns(gx.InputWarning, match="missing.csv: no such file"):
        poses = read_trigger_poses([path, tmp_path / "missing.csv"])
    assert poses.empty and list(poses.columns) == TRIGGER_COLUMNS
    assert str(poses["time_utc"].dtype) == "datetime64[ns, UTC]"


def test_the_poses_are_what_captures_from_poses_takes():
    from geoexpose.imagery.captures import POSE_COLUMNS

    assert set(POSE_COLUMNS) <= set(TRIGGER_COLUMNS)


def test_camera_models_are_in_the_camera_table():
    models = {row["model"] for row in camera_table()}
    assert {model for _, model in _CAMERAS} <= models
    assert camera_model_of("DJI Mini 2") == "FC7303"
    assert camera_model_of("Phantom 4 Pro V2") == "FC6310S"  # before "phantom 4 pro"
    assert camera_model_of(None) == camera_model_of("Inspire 1") == ""


# ---- real logs ----------------------------------------------------------------------------


def rises(path: Path, column: str, truthy: str, encoding: str = "utf-8") -> list[dict]:
    with path.open(newline="", encoding=encoding) as handle:
        rows = [
            {k.strip(): (v or "").strip() for k, v in r.items()} for r in csv.DictReader(handle)
        ]
    out, before = [], False
    for row in rows:
        now = row[column] == truthy
        if now and not before:
            out.append(row)
        before = now
    return out


@pytest.mark.realdata
@pytest.mark.parametrize("name", ["07-23PM", "07-48PM"])
def test_real_airdata_photos(realdata, name):
    path = realdata / "tracks" / "airdata_csv" / f"Sep-5th-2021-{name}-Flight-Airdata.csv"
    expected = rises(path, "isPhoto", "1")
    poses = read_trigger_poses(path)
    assert len(poses) == len(expected) == {"07-23PM": 34, "07-48PM": 46}[name]
    np.testing.assert_allclose(poses["cam_lat"], [float(r["latitude"]) for r in expected])
    np.testing.assert_allclose(poses["cam_lon"], [float(r["longitude"]) for r in expected])
    pitch = [float(r["gimbal_pitch(degrees)"]) for r in expected]
    np.testing.assert_allclose(poses["pitch_deg"], pitch)
    heading = [float(r["gimbal_heading(degrees)"]) for r in expected]
    np.testing.assert_allclose(poses["yaw_deg"], heading)
    fixes = gx.read_tracks(path)
    assert set(poses["flight_id"]) <= set(fixes["flight_id"])


@pytest.mark.realdata
def test_real_txtlog_photo_names_the_camera(realdata):
    path = realdata / "tracks" / "txtlogtocsv_csv" / "test_drone_log.csv"
    expected = rises(path, "CUSTOM.isPhoto", "Yes", encoding="latin-1")
    poses = read_trigger_poses(path, time_zone="Europe/Copenhagen")
    assert len(poses) == len(expected) == 1
    row = poses.iloc[0]
    assert row["pitch_deg"] == float(expected[0]["GIMBAL.pitch"])  # -89.9: straight down
    assert row["aircraft"] == expected[0]["DETAILS.droneType"] == "P4 Professional"
    assert row["camera_model"] == "FC6310"
    local = datetime.strptime(expected[0]["CUSTOM.updateTime"], "%Y/%m/%d %H:%M:%S.%f")
    assert row["time_utc"] == pd.Timestamp(local, tz="Europe/Copenhagen").tz_convert("UTC")
