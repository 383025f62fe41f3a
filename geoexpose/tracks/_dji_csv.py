"""Tell DJI-family CSV exports apart from their headers, and fix what each needs.

Kinds (:func:`dji_csv_kind`), from the header:

``phantomhelp_csv``
    PhantomHelp "DJI Flight Log Viewer": ``CUSTOM.date [local]`` (``M/D/YYYY``)
    and ``CUSTOM.updateTime [local]`` (``h:mm:ss.ss AM/PM``) are the phone's wall
    clock (read in ``time_zone``); units in brackets (``OSD.height [ft]``,
    ``OSD.hSpeed [MPH]``). The two are joined here into one time column.
``dji_log_csv``
    dji-log-parser / pydjirecord ``--csv``: ``CUSTOM.dateTime`` is ISO 8601 UTC,
    values in SI units without unit marks (``OSD.height`` m above takeoff); the
    horizontal speed is computed from ``OSD.xSpeed`` and ``OSD.ySpeed``.
``txtlogtocsv_csv``
    TXTlogToCSVtool / CsvView: ``CUSTOM.updateTime`` without a zone mark,
    ``OSD.height [m]`` above takeoff (its ``OSD.altitude`` is above takeoff too).
``litchi_csv``
    Litchi's flight log: ``datetime(utc)`` (to the second, refined by
    ``time(millisecond)``), ``altitude(m)``/``altitude(feet)`` above takeoff.
``litchi_mission``
    a Litchi mission (planned waypoints, ``curvesize(m)``): not a flight log but
    a planned route (:func:`mission_route`; also
    :func:`geoexpose.tracks._csv.read_litchi_mission`). ``altitude`` is above
    take-off (``altitudemode`` 0) or above ground (1); ``speed(m/s)`` 0 means the
    mission's cruise speed (left empty).

The columns themselves are found by the alias tables of
:mod:`geoexpose.tracks._columns`; ``OSD.altitude`` is never taken as a sea-level
height (DJI adds a home altitude to it that is not reliably above sea level).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import units
from geoexpose.tracks._columns import Column
from geoexpose.tracks._waypoints import HEIGHT_M, HEIGHT_REF, WAYPOINT_INDEX

__all__ = [
    "DJI_CSV_KINDS",
    "LITCHI_MISSION",
    "LITCHI_MISSION_MESSAGE",
    "aircraft_meta",
    "dji_csv_kind",
    "finish_frame",
    "mission_frame",
    "mission_route",
    "prepare_table",
]

logger = logging.getLogger(__name__)

PHANTOMHELP = "phantomhelp_csv"
DJI_LOG = "dji_log_csv"
TXTLOG = "txtlogtocsv_csv"
LITCHI = "litchi_csv"
LITCHI_MISSION = "litchi_mission"
#: The flight-log kinds this module tells apart (besides the mission).
DJI_CSV_KINDS = (PHANTOMHELP, DJI_LOG, TXTLOG, LITCHI)
LITCHI_MISSION_MESSAGE = "a planned route (Litchi mission), not a flight log"

# PhantomHelp's clock layouts, tried in order (US locale first).
_PH_LAYOUTS = (
    "%m/%d/%Y %I:%M:%S.%f %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S.%f",
    "%m/%d/%Y %H:%M:%S",
)
# Litchi mission altitudemode: 0 above takeoff, 1 above ground.
_MISSION_REFS = {0: ALT_REF_TAKEOFF, 1: ALT_REF_GROUND}


def _keys(names: list[str]) -> dict[str, str]:
    """Alias key -> first column name with that key."""
    found: dict[str, str] = {}
    for name in names:
        found.setdefault(Column.of(name).key, name)
    return found


def dji_csv_kind(names: list[str]) -> str | None:
    """Return the DJI-family kind of a CSV header (see module notes), or None."""
    keys = _keys(names)
    lower = [name.strip().lower() for name in names]
    if "curvesize" in keys and "latitude" in keys:
        return LITCHI_MISSION
    if "custom.updatetime" in keys and any(n.endswith("[local]") for n in lower):
        return PHANTOMHELP
    if "custom.datetime" in keys and "osd.flytime" in keys:
        return DJI_LOG
    if "custom.updatetime" in keys and "osd.latitude" in keys:
        return TXTLOG
    if "istakingphoto" in keys or "ultrasonicheight" in keys:
        return LITCHI
    return None


_NUMBER = re.compile(r"[-+.\d]+")
# Columns naming the aircraft model and its serial number, best first (alias keys).
_AIRCRAFT_KEYS = ("details.dronetype", "recover.dronetype", "osd.dronetype", "dronetype")
_SERIAL_KEYS = (
    "details.aircraftserial",
    "recover.aircraftserial",
    "details.aircraftsnbytes",
    "recover.aircraftsnbytes",
    "flycontrollerserialnumber",
)


def _first_text(table: pd.DataFrame, column: str) -> str | None:
    """Return the first value of ``column`` (among its first rows) that is text, not a number."""
    for value in table[column].iloc[:200].to_numpy(dtype=object):
        text = str(value).strip() if isinstance(value, str) else ""
        if text and not _NUMBER.fullmatch(text):
            return text[:80]
    return None


def aircraft_meta(table: pd.DataFrame) -> dict[str, str]:
    """Return the aircraft model (``aircraft``) and ``serial`` a DJI-family log names."""
    keys = _keys(list(table.columns))
    meta: dict[str, str] = {}
    for name, wanted in (("aircraft", _AIRCRAFT_KEYS), ("serial", _SERIAL_KEYS)):
        for key in wanted:
            if key in keys and (text := _first_text(table, keys[key])) is not None:
                meta[name] = text
                break
    return meta


def _phantomhelp_times(date: pd.Series, clock: pd.Series) -> pd.Series:
    """Join PhantomHelp's date and 12-hour clock columns into ISO 8601 text (no zone)."""
    text = date.astype("str").str.strip() + " " + clock.astype("str").str.strip()
    text = text.where(date.notna() & clock.notna())
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for layout in _PH_LAYOUTS:
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=layout, errors="coerce")
    return out.dt.strftime("%Y-%m-%dT%H:%M:%S.%f")


def prepare_table(
    kind: str, table: pd.DataFrame, columns: Mapping[str, str] | None
) -> tuple[pd.DataFrame, Mapping[str, str] | None]:
    """Return the table and ``columns`` as the alias look-up needs them for ``kind``.

    PhantomHelp: the date and clock columns become one ISO time column (a new
    table; the input is not changed). Litchi: ``datetime(utc)`` is the time
    column where the log also has ``datetime(local)``.
    """
    columns = dict(columns or {})
    keys = _keys(list(table.columns))
    if kind == PHANTOMHELP and "time" not in columns and "custom.date" in keys:
        clock, date = keys["custom.updatetime"], keys["custom.date"]
        table = table.drop(columns=[date]).assign(
            **{clock: _phantomhelp_times(table[date], table[clock])}
        )
    if kind == DJI_LOG and "osd.lalitude" in keys and "osd.latitude" not in keys:
        # a misspelt header written by some dji-log-parser versions
        table = table.rename(columns={keys["osd.lalitude"]: "OSD.latitude"})
    if kind == LITCHI and "time" not in columns:
        cols = map(Column.of, table.columns)
        utc = [c.name for c in cols if c.key == "datetime" and (c.unit or "").lower() == "utc"]
        if utc:
            columns["time"] = utc[0]
    return table, columns or None


def finish_frame(kind: str, table: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Add what ``kind`` gives beyond the alias look-up (dji-log-parser: ground speed)."""
    keys = _keys(list(table.columns))
    if kind == DJI_LOG and SPEED_M_S not in frame and {"osd.xspeed", "osd.yspeed"} <= set(keys):
        north = pd.to_numeric(table[keys["osd.xspeed"]], errors="coerce").astype("float64")
        east = pd.to_numeric(table[keys["osd.yspeed"]], errors="coerce").astype("float64")
        frame[SPEED_M_S] = np.hypot(north.to_numpy(), east.to_numpy())
    return frame


def _mission_columns(table: pd.DataFrame) -> dict[str, str]:
    keys = _keys(list(table.columns))
    missing = [k for k in ("latitude", "longitude", "altitude") if k not in keys]
    if missing:
        raise InputError(f"Litchi mission without {', '.join(missing)} column")
    return keys


def _mission_heights(table: pd.DataFrame, keys: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """Heights in metres (NaN where unreadable) and their references."""
    values = pd.to_numeric(table[keys["altitude"]], errors="coerce").to_numpy(dtype="float64")
    unit = Column.of(keys["altitude"]).unit
    height = values * units.unit_factor(unit, quantity=units.LENGTH, column=keys["altitude"])
    if "altitudemode" in keys:
        mode = pd.to_numeric(table[keys["altitudemode"]], errors="coerce")
        refs = mode.map(_MISSION_REFS).fillna(ALT_REF_TAKEOFF).to_numpy(dtype=object)
    else:
        refs = np.full(len(table), ALT_REF_TAKEOFF, dtype=object)
    return height, refs


def mission_route(table: pd.DataFrame) -> pd.DataFrame:
    """Turn a Litchi mission table into a RawTrack frame of planned waypoints (no times).

    Unreadable values become NaN (cleaning drops waypoints without a position).

    Raises
    ------
    InputError
        No latitude, longitude or altitude column, or an unknown unit.
    """
    keys = _mission_columns(table)
    height, refs = _mission_heights(table, keys)
    speed = np.full(len(table), np.nan)
    if "speed" in keys:
        col = Column.of(keys["speed"])
        factor = units.unit_factor(col.unit, quantity=units.SPEED, column=col.name)
        given = pd.to_numeric(table[col.name], errors="coerce").to_numpy(dtype="float64")
        speed = np.where(given > 0, given * factor, np.nan)
    return pd.DataFrame(
        {
            LAT: pd.to_numeric(table[keys["latitude"]], errors="coerce").astype("float64"),
            LON: pd.to_numeric(table[keys["longitude"]], errors="coerce").astype("float64"),
            TIME_UTC: pd.Series(pd.NaT, index=table.index, dtype=TIME_DTYPE),
            ALT_AGL_M: height,
            ALT_REF: refs,
            ALT_MSL_M: np.nan,
            SPEED_M_S: speed,
        },
        index=table.index,
    )


def mission_frame(table: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Waypoints of a Litchi mission table: (attributes, lon, lat).

    Raises
    ------
    InputError
        No latitude/longitude/altitude column, or a value that is not a number.
    """
    keys = _mission_columns(table)
    values = {}
    for key in ("latitude", "longitude", "altitude"):
        col = pd.to_numeric(table[keys[key]], errors="coerce").astype("float64")
        bad = np.flatnonzero(col.isna().to_numpy())
        if len(bad):
            raise InputError(f"waypoint {bad[0] + 1}: {keys[key]!r} is not a number")
        values[key] = col.to_numpy()
    height, refs = _mission_heights(table, keys)
    attrs = pd.DataFrame(
        {WAYPOINT_INDEX: np.arange(len(table), dtype="int64"), HEIGHT_M: height, HEIGHT_REF: refs}
    )
    lat, lon = values["latitude"], values["longitude"]
    out = np.flatnonzero((np.abs(lat) > 90) | (np.abs(lon) > 180))
    if len(out):
        raise InputError(f"waypoint {out[0] + 1}: latitude/longitude out of range")
    return attrs, lon, lat
