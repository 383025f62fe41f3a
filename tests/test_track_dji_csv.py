"""Tests of the DJI-family CSV exports: PhantomHelp, dji-log-parser, TXTlogToCSV, Litchi."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError, InputWarning
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    IS_PHOTO,
    IS_VIDEO,
    LAT,
    LON,
    SPEED_M_S,
    TIME_UTC,
)
from geoexpose.tracks._csv import read_csv_track, read_litchi_mission
from geoexpose.tracks._dji_csv import dji_csv_kind
from geoexpose.tracks._waypoints import HEIGHT_M, HEIGHT_REF, WAYPOINT_INDEX
from geoexpose.tracks.normalize import clean_fixes
from geoexpose.tracks.read import read_tracks

GEOD = Geod(ellps="WGS84")
FT = 0.3048
MPH = 0.44704

# ---- exact headers (research note, tracks.md §1.2, §1.4, §1.6, §1.7) -------------------

PHANTOMHELP_HEADER = (
    "CUSTOM.date [local],CUSTOM.updateTime [local],OSD.flyTime,OSD.flyTime [s],OSD.latitude,"
    "OSD.longitude,OSD.height [ft],OSD.heightMax [ft],OSD.vpsHeight [ft],OSD.altitude [ft],"
    "OSD.hSpeed [MPH],OSD.hSpeedMax [MPH],OSD.xSpeed [MPH],OSD.xSpeedMax [MPH],OSD.ySpeed [MPH],"
    "OSD.ySpeedMax [MPH],OSD.zSpeed [MPH],OSD.zSpeedMax [MPH],OSD.pitch,OSD.roll,OSD.yaw,"
    "OSD.yaw [360],OSD.flycState,OSD.flycCommand,OSD.flightAction,OSD.gpsNum,OSD.gpsLevel,"
    "OSD.isGPSUsed,OSD.nonGPSCause,OSD.droneType,OSD.isSwaveWork,OSD.waveError,"
    "OSD.goHomeStatus,OSD.batteryType,OSD.ctrlDevice,OSD.isOnGround,OSD.isMotorOn,"
    "OSD.isMotorBlocked,OSD.motorStartFailedCause,OSD.motorFailReason,OSD.isImuPreheated,"
    "OSD.imuInitFailReason,OSD.isAcceletorOverRange,OSD.isBarometerDeadInAir,"
    "OSD.isCompassError,OSD.isGoHomeHeightModified,OSD.canIOCWork,OSD.isNotEnoughForce,"
    "OSD.isOutOfLimit,OSD.isPropellerCatapult,OSD.isVibrating,OSD.isVisionUsed,"
    "OSD.voltageWarning,GIMBAL.mode,GIMBAL.pitch,GIMBAL.roll,GIMBAL.yaw,GIMBAL.yaw [360],"
    "GIMBAL.isPitchAtLimit,GIMBAL.isRollAtLimit,GIMBAL.isYawAtLimit,GIMBAL.isStuck,"
    "CAMERA.isPhoto,CAMERA.isVideo,CAMERA.filename,CAMERA.sdCardIsInserted,CAMERA.sdCardState,"
    "RC.downlinkSignal,RC.uplinkSignal,RC.aileron,RC.elevator,RC.throttle,RC.rudder,RC.mode,"
    "HOME.latitude,HOME.longitude,HOME.distance [ft],HOME.height [ft],HOME.heightLimit [ft],"
    "RECOVER.aircraftName,RECOVER.aircraftSerial,DETAILS.totalTime [s],"
    "DETAILS.totalDistance [ft],DETAILS.maxHeight [ft],DETAILS.maxHorizontalSpeed [MPH],"
    "APPGPS.latitude,APPGPS.longitude,APPGPS.accuracy,APP.message,APP.tip,APP.warning"
)
DJI_LOG_HEADER = (
    "CUSTOM.dateTime,OSD.flyTime,OSD.latitude,OSD.longitude,OSD.height,OSD.heightMax,"
    "OSD.vpsHeight,OSD.altitude,OSD.xSpeed,OSD.xSpeedMax,OSD.ySpeed,OSD.ySpeedMax,OSD.zSpeed,"
    "OSD.zSpeedMax,OSD.pitch,OSD.roll,OSD.yaw,OSD.flycState,OSD.flycCommand,OSD.flightAction,"
    "OSD.isGPSUsed,OSD.nonGPSCause,OSD.gpsNum,OSD.gpsLevel,OSD.droneType,OSD.isSwaveWork,"
    "OSD.waveError,OSD.goHomeStatus,OSD.batteryType,OSD.isOnGround,OSD.isMotorOn,"
    "OSD.isMotorBlocked,OSD.motorStartFailedCause,OSD.isImuPreheated,OSD.imuInitFailReason,"
    "OSD.isAcceleratorOverRange,OSD.isBarometerDeadInAir,OSD.isCompassError,"
    "OSD.isGoHomeHeightModified,OSD.canIOCWork,OSD.isNotEnoughForce,OSD.isOutOfLimit,"
    "OSD.isPropellerCatapult,OSD.isVibrating,OSD.isVisionUsed,OSD.voltageWarning,GIMBAL.mode,"
    "GIMBAL.pitch,GIMBAL.roll,GIMBAL.yaw,GIMBAL.isPitchAtLimit,GIMBAL.isRollAtLimit,"
    "GIMBAL.isYawAtLimit,GIMBAL.isStuck,CAMERA.isPhoto,CAMERA.isVideo,CAMERA.sdCardIsInserted,"
    "CAMERA.sdCardState,RC.downlinkSignal,RC.uplinkSignal,RC.aileron,RC.elevator,RC.throttle,"
    "RC.rudder,BATTERY.chargeLevel,BATTERY.voltage,BATTERY.current,BATTERY.currentCapacity,"
    "BATTERY.fullCapacity,BATTERY.cellNum,BATTERY.isCellVoltageEstimated,BATTERY.cellVoltage1,"
    "BATTERY.cellVoltage2,BATTERY.cellVoltageDeviation,BATTERY.maxCellVoltageDeviation,"
    "BATTERY.temperature,BATTERY.minTemperature,BATTERY.maxTemperature,HOME.latitude,"
    "HOME.longitude,HOME.altitude,HOME.heightLimit,HOME.isHomeRecord,HOME.goHomeMode,"
    "RECOVER.appPlatform,RECOVER.appVersion,RECOVER.aircraftName,RECOVER.aircraftSerial,"
    "APP.tip,APP.warn,DETAILS.totalTime,DETAILS.totalDistance,DETAILS.maxHeight,"
    "DETAILS.aircraftName,DETAILS.aircraftSerial,DETAILS.appPlatform,DETAILS.appVersion"
)
LITCHI_HEADER = (
    "latitude,longitude,altitude({L}),ultrasonicHeight({L}),speed({S}),distance({L}),"
    "max_altitude({L}),max_ascent({L}),max_speed({S}),max_distance({L}),time(millisecond),"
    "datetime(utc),datetime(local),satellites,pressure(Pa),temperature(F),voltage(v),"
    "home_latitude,home_longitude,velocityX({S}),velocityY({S}),velocityZ({S}),pitch(deg),"
    "roll(deg),yaw(deg),powerlevel,isflying,istakingphoto,remainPowerPercent,remainLifePercent,"
    "currentCurrent,currentElectricity,currentVoltage,batteryTemperature,dischargeCount,"
    "flightmode,isMotorsOn,isTakingVideo,Rc_elevator,Rc_aileron,Rc_throttle,Rc_rudder,Rc_gyro,"
    "timestamp,Battery_Cell1,Battery_Cell2,Battery_Cell3,Battery_Cell4,Battery_Cell5,"
    "Battery_Cell6,Dronetype,AppVersion,Planename,FlyControllerSerialNumber,"
    "gimbalPitchRaw,flyState,altitudeRaw,App_Tip,App_Warning"
)
MISSION_HEADER = (
    "latitude,longitude,altitude({L}),heading(deg),curvesize({L}),rotationdir,gimbalmode,"
    "gimbalpitchangle,"
    + ",".join(f"actiontype{i},actionparam{i}" for i in range(1, 16))
    + ",altitudemode,speed(m/s),poi_latitude,poi_longitude,poi_altitude({L}),"
    "poi_altitudemode,photo_timeinterval,photo_distinterval"
)


def write_csv(path: Path, header: str, rows: list[dict[str, object]], *, first: str = "") -> Path:
    """Write rows (by column name; other columns empty) under ``header``."""
    names = header.split(",")
    unknown = {k for row in rows for k in row} - set(names)
    assert not unknown, unknown
    lines = [first] if first else []
    lines.append(header)
    lines += [",".join(str(row.get(name, "")) for name in names) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def utc(*args: int, zone: str) -> pd.Timestamp:
    """A wall-clock time in ``zone`` as a UTC Timestamp (via zoneinfo, not pandas)."""
    local = dt.datetime(*args, tzinfo=zoneinfo.ZoneInfo(zone))
    return pd.Timestamp(local.astimezone(dt.UTC))


def read_one(path: Path, **kwargs) -> tuple[pd.DataFrame, dict]:
    fixes = read_tracks(path, strict=True, **kwargs)
    return fixes, fixes.attrs["geoexpose"]["files"][0]


# ---- PhantomHelp ------------------------------------------------------------------------


def phantomhelp_file(tmp_path: Path) -> Path:
    clock = ["11:59:59.45 AM", "12:00:00.05 PM", "2:22:59.45 PM"]
    feet, mph = [0, 100, 220.8], [0, 10, 22.5]
    rows: list[dict[str, object]] = [
        {"CUSTOM.updateTime [local]": c, "OSD.height [ft]": h, "OSD.hSpeed [MPH]": v}
        for c, h, v in zip(clock, feet, mph, strict=True)
    ]
    for i, row in enumerate(rows):
        row.update({
            "CUSTOM.date [local]": "4/13/2022",
            "OSD.latitude": 39.35 + 0.0001 * i,
            "OSD.longitude": -7.395,
            "OSD.altitude [ft]": 2516 + i,  # height + a home altitude: not above sea level
            "OSD.yaw": -30.5,
            "OSD.yaw [360]": 329.5,
            "GIMBAL.pitch": -90,
            "CAMERA.isPhoto": "True" if i == 1 else "False",
            "CAMERA.isVideo": "False",
            "APPGPS.latitude": 10.0,
            "HOME.latitude": 11.0,
        })  # fmt: skip
    return write_csv(tmp_path / "phantomhelp.csv", PHANTOMHELP_HEADER, rows, first="sep=,")


def test_phantomhelp_feet_mph_and_local_time(tmp_path):
    path = phantomhelp_file(tmp_path)
    fixes, entry = read_one(path, time_zone="Europe/Lisbon")
    assert entry["format"] == "phantomhelp_csv"
    assert entry["time_basis"] == "Europe/Lisbon"
    expected = [
        utc(2022, 4, 13, 11, 59, 59, 450000, zone="Europe/Lisbon"),
        utc(2022, 4, 13, 12, 0, 0, 50000, zone="Europe/Lisbon"),
        utc(2022, 4, 13, 14, 22, 59, 450000, zone="Europe/Lisbon"),
    ]
    assert list(fixes[TIME_UTC]) == expected
    np.testing.assert_allclose(fixes[ALT_AGL_M], [0.0, 100 * FT, 220.8 * FT])
    assert (fixes[ALT_REF] == "takeoff").all()
    assert fixes[ALT_MSL_M].isna().all()
    np.testing.assert_allclose(fixes[SPEED_M_S], [0.0, 10 * MPH, 22.5 * MPH])
    np.testing.assert_allclose(fixes.geometry.y, [39.35, 39.3501, 39.3502])
    assert list(fixes[IS_PHOTO]) == [False, True, False]


def test_phantomhelp_without_zone_warns(tmp_path):
    path = phantomhelp_file(tmp_path)
    with pytest.warns(InputWarning, match="taken as UTC"):
        fixes = read_tracks(path)
    assert fixes[TIME_UTC].iloc[0] == pd.Timestamp("2022-04-13T11:59:59.45Z")


# ---- dji-log-parser / pydjirecord -------------------------------------------------------


@pytest.mark.parametrize("lat_name", ["OSD.latitude", "OSD.lalitude"])
def test_dji_log_parser_si_units_and_utc(tmp_path, lat_name):
    header = DJI_LOG_HEADER.replace("OSD.latitude", lat_name)
    rows = []
    for i, (h, vx, vy) in enumerate([(0.0, 0.0, 0.0), (12.5, 3.0, 4.0), (30.2, -6.0, 8.0)]):
        rows.append({
            "CUSTOM.dateTime": f"2021-09-06T02:23:4{7 + i}.611Z",
            "OSD.flyTime": 0.1 * i,
            lat_name: 47.5727 + 0.0001 * i,
            "OSD.longitude": -122.6266,
            "OSD.height": h,
            "OSD.altitude": h - 145.8,
            "OSD.xSpeed": vx,
            "OSD.ySpeed": vy,
            "OSD.yaw": 90,
            "CAMERA.isPhoto": "false",
            "CAMERA.isVideo": "true",
            "HOME.altitude": -145.8,
            "HOME.latitude": 47.5727,
        })  # fmt: skip
    path = write_csv(tmp_path / "djilog.csv", header, rows)
    fixes, entry = read_one(path, time_zone="America/Los_Angeles")
    assert entry["format"] == "dji_log_csv"
    assert entry["time_basis"] == "utc"
    start = pd.Timestamp("2021-09-06T02:23:47.611Z")
    assert list(fixes[TIME_UTC]) == [start + pd.Timedelta(seconds=s) for s in (0, 1, 2)]
    np.testing.assert_allclose(fixes[ALT_AGL_M], [0.0, 12.5, 30.2])
    assert (fixes[ALT_REF] == "takeoff").all()
    assert fixes[ALT_MSL_M].isna().all()
    np.testing.assert_allclose(fixes[SPEED_M_S], [0.0, 5.0, 10.0])
    np.testing.assert_allclose(fixes.geometry.y, [47.5727, 47.5728, 47.5729])
    assert fixes[IS_VIDEO].all()


# ---- Litchi flight log --------------------------------------------------------------------


@pytest.mark.parametrize("length, speed, factor, speed_factor", [
    ("m", "mps", 1.0, 1.0), ("feet", "mph", FT, MPH),
])  # fmt: skip
def test_litchi_log_units_and_utc_column(tmp_path, length, speed, factor, speed_factor):
    header = LITCHI_HEADER.format(L=length, S=speed)
    rows = []
    for i, ms in enumerate([0, 400, 1100]):
        rows.append({
            "latitude": 51.5 + 0.0001 * i,
            "longitude": -0.1,
            f"altitude({length})": 10.0 * i,
            f"speed({speed})": 2.0 * i,
            "time(millisecond)": 5000 + ms,
            "datetime(utc)": "2022-06-01 10:00:05" if ms < 1000 else "2022-06-01 10:00:06",
            "datetime(local)": "2022-06-01 11:00:05" if ms < 1000 else "2022-06-01 11:00:06",
            "istakingphoto": 1 if i == 2 else 0,
            "isTakingVideo": 0,
            "isflying": 1,
            "home_latitude": 51.5,
            "timestamp": 1654077605000 + ms,
        })  # fmt: skip
    path = write_csv(tmp_path / "litchi.csv", header, rows)
    # a time_zone does not move a column marked (utc)
    fixes, entry = read_one(path, time_zone="Europe/London")
    assert entry["format"] == "litchi_csv"
    start = pd.Timestamp("2022-06-01T10:00:05Z")
    assert list(fixes[TIME_UTC]) == [start + pd.Timedelta(milliseconds=m) for m in (0, 400, 1100)]
    np.testing.assert_allclose(fixes[ALT_AGL_M], np.array([0.0, 10.0, 20.0]) * factor)
    assert (fixes[ALT_REF] == "takeoff").all()
    np.testing.assert_allclose(fixes[SPEED_M_S], np.array([0.0, 2.0, 4.0]) * speed_factor)
    assert list(fixes[IS_PHOTO]) == [False, False, True]


def test_litchi_log_local_only(tmp_path):
    header = LITCHI_HEADER.format(L="m", S="mps").replace("datetime(utc),", "")
    rows = [
        {"latitude": 51.5, "longitude": -0.1, "datetime(local)": "2022-06-01 11:00:05",
         "time(millisecond)": 0, "altitude(m)": 5},
        {"latitude": 51.5001, "longitude": -0.1, "datetime(local)": "2022-06-01 11:00:06",
         "time(millisecond)": 1000, "altitude(m)": 6},
    ]  # fmt: skip
    path = write_csv(tmp_path / "litchi_local.csv", header, rows)
    fixes, _entry = read_one(path, time_zone="Europe/London")
    assert fixes[TIME_UTC].iloc[0] == utc(2022, 6, 1, 11, 0, 5, zone="Europe/London")


# ---- Litchi mission ---------------------------------------------------------------------


def mission_file(tmp_path: Path, length: str = "m") -> Path:
    header = MISSION_HEADER.format(L=length)
    rows = [
        {"latitude": 51.5, "longitude": -0.1, f"altitude({length})": 30, "altitudemode": 0},
        {"latitude": 51.501, "longitude": -0.1, f"altitude({length})": 45.5, "altitudemode": 1},
        {"latitude": 51.502, "longitude": -0.099, f"altitude({length})": 60, "altitudemode": 0},
    ]
    for row in rows:
        row.update({"heading(deg)": 0, f"curvesize({length})": 0.2, "speed(m/s)": 5})
    return write_csv(tmp_path / f"mission_{length}.csv", header, rows)


def test_litchi_mission_is_a_planned_route_not_fixes(tmp_path):
    path = mission_file(tmp_path)
    with pytest.warns(InputWarning, match=r"planned route \(Litchi mission\).*3 waypoints"):
        fixes = read_tracks(path, strict=True)
    info = fixes.attrs["geoexpose"]["files"][0]
    assert len(fixes) == 0 and (info["status"], info["format"]) == ("route", "litchi_mission")
    assert info["dropped"]["untimed"] == info["rows_read"] == 3
    assert info["route"]["bounds_lonlat"] == [-0.1, 51.5, -0.099, 51.502]
    raw = read_csv_track(path)
    assert raw.route == "planned" and raw.frame[TIME_UTC].isna().all()
    assert raw.frame["speed_m_s"].tolist() == [5.0, 5.0, 5.0]
    assert raw.frame["alt_ref"].tolist() == ["takeoff", "ground", "takeoff"]
    with pytest.raises(InputError, match="Litchi mission"):
        read_csv_track(path, format="csv")


@pytest.mark.parametrize("length, factor", [("m", 1.0), ("ft", FT)])
def test_read_litchi_mission(tmp_path, length, factor):
    routes = read_litchi_mission(mission_file(tmp_path, length))
    assert list(routes[WAYPOINT_INDEX]) == [0, 1, 2]
    np.testing.assert_allclose(routes[HEIGHT_M], np.array([30, 45.5, 60]) * factor)
    assert list(routes[HEIGHT_REF]) == ["takeoff", "ground", "takeoff"]
    assert routes.crs.to_epsg() == 4326
    np.testing.assert_allclose(routes.geometry.x, [-0.1, -0.1, -0.099])


def test_read_litchi_mission_refuses_other_csv(tmp_path):
    path = phantomhelp_file(tmp_path)
    with pytest.raises(InputError, match="not a Litchi mission"):
        read_litchi_mission(path)


def test_kind_from_header():
    assert dji_csv_kind(PHANTOMHELP_HEADER.split(",")) == "phantomhelp_csv"
    assert dji_csv_kind(DJI_LOG_HEADER.split(",")) == "dji_log_csv"
    assert dji_csv_kind(LITCHI_HEADER.format(L="m", S="mps").split(",")) == "litchi_csv"
    assert dji_csv_kind(MISSION_HEADER.format(L="m").split(",")) == "litchi_mission"
    assert dji_csv_kind(["time(millisecond)", "datetime(utc)", "latitude", "longitude"]) is None


# ---- TXTlogToCSVtool (real file) ----------------------------------------------------------


def test_real_txtlogtocsv(realdata):
    path = realdata / "tracks/txtlogtocsv_csv/test_drone_log.csv"
    raw = read_csv_track(path, time_zone="UTC")
    assert raw.format == "txtlogtocsv_csv"
    kept, _dropped = clean_fixes(raw.frame, split_gap_s=60.0)
    # SOURCE.txt: Denmark 55.507N 10.717E; OSD.height [m] is above takeoff, 0..64 m
    _a, _b, dist = GEOD.inv(
        np.full(len(kept), 10.717), np.full(len(kept), 55.507), kept[LON], kept[LAT]
    )
    assert dist.max() < 1000
    assert (kept[ALT_REF] == "takeoff").all()
    assert kept[ALT_AGL_M].min() >= 0
    assert kept[ALT_AGL_M].max() == pytest.approx(64.5, abs=0.5)
    assert kept[ALT_MSL_M].isna().all()  # its OSD.altitude is above takeoff too
    t = kept[TIME_UTC]
    assert t.is_monotonic_increasing
    step = t.diff().dt.total_seconds().to_numpy()[1:]
    _a, _b, hop = GEOD.inv(kept[LON][:-1], kept[LAT][:-1], kept[LON][1:], kept[LAT][1:])
    assert np.all(hop / step < 40.0)
