"""A flown demo state written as AirData UAV's CSV export: its columns, units and file name.

The tracks are written as AirData does: imperial units (feet, miles per hour), 10 Hz.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["airdata_file_name", "airdata_table"]

_FT = 0.3048  # metres per foot
_MPH = 0.44704  # metres per second per mile per hour
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# The 46 columns of AirData UAV's CSV export in imperial units, in file order; six
# names start with a space, as in AirData's files.
_AIRDATA_HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "height_above_ground_at_drone_location(feet),ground_elevation_at_drone_location(feet),"
    "altitude_above_seaLevel(feet),height_sonar(feet),speed(mph),distance(feet),satellites,"
    "gpslevel,voltage(v),max_altitude(feet),max_ascent(feet),max_speed(mph),max_distance(feet),"
    " xSpeed(mph), ySpeed(mph), zSpeed(mph), compass_heading(degrees), pitch(degrees),"
    " roll(degrees),isPhoto,isVideo,rc_elevator,rc_aileron,rc_throttle,rc_rudder,"
    "gimbal_heading(degrees),gimbal_pitch(degrees),battery_percent,voltageCell1,voltageCell2,"
    "voltageCell3,voltageCell4,voltageCell5,voltageCell6,current(A),battery_temperature(f),"
    "altitude(feet),ascent(feet),flycStateRaw,flycState,message"
)


def _fmt(values: np.ndarray, decimals: int) -> np.ndarray:
    """Write numbers as AirData does: no trailing zeros, no ``-0``."""
    text = np.strings.mod(f"%.{decimals}f", np.round(values, decimals) + 0.0)
    return np.strings.rstrip(np.strings.rstrip(text, "0"), ".") if decimals else text


def airdata_table(f: dict[str, np.ndarray], start: str, rng: np.random.Generator) -> pd.DataFrame:
    """Tabulate a flown state as an AirData CSV export (imperial units), values as text."""
    t, ms, fix, speed, climb = f["t"], f["ms"], f["fix"], f["speed"], f["climb"]
    agl, size = f["msl"] - f["ground"], len(t)
    pct = np.round(97.0 - t / 15.0)
    current = np.where(f["phase"] > 0, 4.2 + 0.12 * speed + 0.8 * (climb > 0), 0.0)
    cell = 3.55 + 0.6 * pct / 100 - 0.012 * current + rng.normal(0, 0.002, (2, size))
    rel = np.radians(f["course"] - f["yaw"])
    sticks = 1024 + np.stack([38 * speed * np.cos(rel), 38 * speed * np.sin(rel), 100 * climb])
    sticks = np.where(np.arange(size) < 4, 364, np.clip(np.round(sticks), 364, 1684))  # start
    satellites = (
        np.minimum(12 + ms // 4000, 20) + rng.integers(0, 4, ms[-1] // 10_000 + 1)[ms // 10_000]
    )
    state = np.array([41, 10, 6, 33])[f["phase"]]
    state_name = np.array(["Motors_Started", "Assisted_Takeoff", "P-GPS", "Confirm_Landing"])
    message = np.full(size, "", dtype=object)
    message[0] = "" if fix[0] else "Waiting for GPS. Takeoff not recommended"
    message[np.argmax(fix)] = "Home point recorded. Return altitude 100 ft"
    ft = lambda metres: _fmt(metres / _FT, 10)  # noqa: E731
    mph = lambda metres_s: _fmt(metres_s / _MPH, 6)  # noqa: E731
    when = np.datetime64(start, "ms") + ms.astype("timedelta64[ms]")
    home_m = np.where(fix, f["from_home"], 0.0)
    course = np.radians(f["course"])
    values = [
        ms.astype(str),
        np.strings.replace(np.datetime_as_string(when, unit="s"), "T", " "),
        np.where(fix, _fmt(f["lat"], 12), "0"),
        np.where(fix, _fmt(f["lon"], 12), "0"),
        ft(f["h"]),
        np.where(fix, ft(agl), ""),
        np.where(fix, ft(f["ground"]), ""),
        ft(f["msl"]),
        ft(np.clip(agl, 0.1, 13.0)),
        mph(speed),
        ft(home_m),
        np.where(fix, satellites, 7).astype(str),
        np.where(fix, 4 + (t >= 10), 0).astype(str),
        _fmt(cell.sum(axis=0), 3),
        ft(np.maximum.accumulate(f["msl"])),
        ft(np.maximum.accumulate(f["h"])),
        mph(np.maximum.accumulate(speed)),
        ft(np.maximum.accumulate(home_m)),
        mph(speed * np.cos(course)),
        mph(speed * np.sin(course)),
        mph(-climb),
        _fmt(f["yaw"], 1),
        " " + _fmt(-1.3 * speed + rng.normal(0, 0.3, size), 1),
        " " + _fmt(f["roll"], 1),
        f["photo"].astype(str),
        np.full(size, "0"),
        *sticks.astype("int64").astype(str),
        np.where(np.arange(size) < 4, "1684", "1024"),
        _fmt(f["yaw"], 1),
        _fmt(f["gimbal"], 1),
        pct.astype("int64").astype(str),
        _fmt(cell[0], 3),
        _fmt(cell[1], 3),
        *[np.full(size, "0")] * 4,
        _fmt(current, 3),
        _fmt(80.0 + 12.0 * (1 - np.exp(-t / 200)), 2),
        ft(f["msl"]),
        ft(f["h"]),
        state.astype(str),
        state_name[f["phase"]],
        message,
    ]
    table = pd.DataFrame(dict(zip(_AIRDATA_HEADER.split(","), values, strict=True)))
    return table.loc[f["kept"]]


def airdata_file_name(start: str) -> str:
    """Name a flight's CSV file as AirData does, after its start time."""
    when = pd.Timestamp(start)
    month = _MONTHS[when.month - 1]
    day = when.day
    suffix = "th" if 10 < day < 14 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    hour = f"{(when.hour - 1) % 12 + 1:02d}-{when.minute:02d}{'AM' if when.hour < 12 else 'PM'}"
    return f"{month}-{day}{suffix}-{when.year}-{hour}-Flight-Airdata.csv"
