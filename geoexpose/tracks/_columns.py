"""Find the fix columns of a table by name or alias: which column gives which field.

Shared by the CSV reader and the GeoJSON/vector reader (whose properties are a
table too). Columns are found by name (after trimming, lower-casing and taking the
unit out, see :func:`geoexpose.tracks.units.split_unit`) in the alias tables below, first
alias first; ``columns={"lat": ..., "lon": ..., "time": ..., "alt": ...,
"alt_msl": ..., "date": ...}`` names them instead. AirData exports have a fixed
mapping (:func:`airdata_mapping`).

Altitudes (``alt_ref`` of the output says which one ``alt_agl_m`` holds):

- a height-above-ground column (``height_above_ground...``, ``agl``, ``alt_agl``)
  fills ``alt_agl_m`` with ``alt_ref="ground"``; rows where it is empty fall back
  to a height-above-takeoff column if there is one (``alt_ref="takeoff"`` there);
- otherwise a height-above-takeoff column (``height_above_takeoff``, ``height``,
  ``rel_alt``, and the ambiguous ``alt``/``altitude``, which consumer-drone
  exports use for height above takeoff) fills ``alt_agl_m`` with ``"takeoff"``;
- a sea-level column (``altitude_above_sealevel``, ``alt_msl``, ``ele``,
  ``elevation``, ``abs_alt``, ...) fills ``alt_msl_m``;
- ``alt_ref=`` (``"ground"``, ``"takeoff"`` or ``"msl"``) says what the altitude
  column (named with ``columns={"alt": ...}`` or the first alias found) measures;
  ``"msl"`` puts it in ``alt_msl_m`` and leaves ``alt_agl_m`` empty.

:func:`geoexpose.tracks._table_frame.build_frame` reads the columns found.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    IS_PHOTO,
    IS_VIDEO,
    SPEED_M_S,
    YAW_DEG,
)
from geoexpose.tracks import units

__all__ = [
    "ALIASES",
    "ALT_ALIASES",
    "ALT_REF_MSL",
    "EXTRA_QUANTITY",
    "Column",
    "ColumnMap",
    "airdata_mapping",
    "find",
    "generic_mapping",
    "key_of",
]

logger = logging.getLogger(__name__)

ALT_REF_MSL = "msl"

#: Header aliases by field, best first (compared after :func:`key_of`).
ALIASES: dict[str, tuple[str, ...]] = {
    "lat": ("latitude", "lat", "osd.latitude", "gps:lat", "gps.lat", "gps_lat", "y"),
    "lon": (
        "longitude",
        "lon",
        "lng",
        "long",
        "osd.longitude",
        "gps:long",
        "gps:lon",
        "gps.lon",
        "gps_lon",
        "x",
    ),
    "time": (
        "time_utc",
        "datetime_utc",
        "timestamp_utc",
        "utc_time",
        "datetime",
        "date_time",
        "timestamp",
        "custom.datetime",
        "custom.updatetime",
        "gps_time",
        "time",
        "utc",
        "when",
    ),
    "date": ("date", "date_utc", "custom.date", "gps_date"),
    "elapsed": ("time", "elapsed", "elapsed_time", "offsettime", "clock:offsettime"),
    "segment": ("flight_id", "track_id", "trajectory_id", "traj_id", "track_fid"),
    SPEED_M_S: ("speed", "hspeed", "custom.hspeed", "osd.hspeed", "ground_speed", "groundspeed"),
    YAW_DEG: ("compass_heading", "osd.yaw", "yaw", "heading"),
    GIMBAL_PITCH_DEG: ("gimbal_pitch", "gimbal.pitch"),
    GIMBAL_YAW_DEG: ("gimbal_heading", "gimbal.yaw", "gimbal_yaw"),
    IS_PHOTO: ("isphoto", "is_photo", "camera.isphoto", "custom.isphoto", "istakingphoto"),
    IS_VIDEO: ("isvideo", "is_video", "camera.isvideo", "custom.isvideo", "istakingvideo"),
}
#: Altitude aliases by reference, best first.
ALT_ALIASES: dict[str, tuple[str, ...]] = {
    ALT_REF_GROUND: (
        "height_above_ground_at_drone_location",
        "height_above_ground",
        "alt_agl",
        "height_agl",
        "altitude_agl",
        "agl",
    ),
    ALT_REF_TAKEOFF: (
        "height_above_takeoff",
        "osd.height",
        "height_above_home",
        "relative_altitude",
        "relative_alt",
        "rel_alt",
        "alt_rel",
        "height",
        "alt",
        "altitude",
    ),
    ALT_REF_MSL: (
        "altitude_above_sealevel",
        "alt_msl",
        "altitude_msl",
        "alt_amsl",
        "altitude_amsl",
        "msl",
        "amsl",
        "absolute_altitude",
        "abs_alt",
        "ele",
        "elevation",
        "gps_alt",
        "gps:alt",
    ),
}
#: The quantity of each numeric extra column (for its unit).
EXTRA_QUANTITY = {
    SPEED_M_S: units.SPEED,
    YAW_DEG: units.ANGLE,
    GIMBAL_PITCH_DEG: units.ANGLE,
    GIMBAL_YAW_DEG: units.ANGLE,
}
_AIRDATA = {
    "lat": "latitude",
    "lon": "longitude",
    "time": "datetime",
    "elapsed": "time",
    "ground": "height_above_ground_at_drone_location",
    "takeoff": "height_above_takeoff",
    "msl": "altitude_above_sealevel",
    SPEED_M_S: "speed",
    YAW_DEG: "compass_heading",
    GIMBAL_PITCH_DEG: "gimbal_pitch",
    GIMBAL_YAW_DEG: "gimbal_heading",
    IS_PHOTO: "isphoto",
    IS_VIDEO: "isvideo",
}


def key_of(base: str) -> str:
    """Normalise a base column name for alias look-up: lower case, ``_`` for blanks."""
    return re.sub(r"[\s\-]+", "_", base.strip().lower())


@dataclass(frozen=True)
class Column:
    """A column of the input: its name as found, its alias key and its unit."""

    name: str
    key: str
    unit: str | None

    @classmethod
    def of(cls, name: str) -> Column:
        """Describe the column called ``name``."""
        return _column_of(name)

    @property
    def is_duration(self) -> bool:
        """Whether the unit is a duration (ms, s, ...)."""
        found = units.UNITS.get((self.unit or "").lower())
        return found is not None and found.quantity == units.DURATION


@functools.lru_cache(maxsize=4096)
def _column_of(name: str) -> Column:
    """Describe a column (cached: a DJI export has hundreds, looked up several times)."""
    base, unit = units.split_unit(name)
    return Column(name, key_of(base), unit)


@dataclass(frozen=True)
class ColumnMap:
    """Which input column gives which output field."""

    lat: Column | None
    lon: Column | None
    time: Column
    date: Column | None = None
    elapsed: Column | None = None
    agl: Column | None = None
    agl_ref: str = ALT_REF_TAKEOFF
    agl_fallback: Column | None = None
    msl: Column | None = None
    segment: Column | None = None
    extras: dict[str, Column] = field(default_factory=dict)

    def names(self) -> list[str]:
        """Return the names of the columns read, each once, in the order of the fields."""
        cols = [self.lat, self.lon, self.time, self.date, self.elapsed]
        cols += [self.agl, self.agl_fallback, self.msl, self.segment, *self.extras.values()]
        return list(dict.fromkeys(col.name for col in cols if col is not None))


def find(cols: list[Column], aliases: tuple[str, ...], *, exclude: tuple = ()) -> Column | None:
    """Return the first column matching an alias, trying aliases in order."""
    for alias in aliases:
        for col in cols:
            if col.key == alias and col not in exclude:
                return col
    return None


def _named(cols: list[Column], columns: Mapping[str, str], field_: str) -> Column | None:
    if field_ not in columns:
        return None
    wanted = columns[field_]
    for col in cols:
        if col.name == wanted.strip():
            return col
    for col in cols:
        if col.name.lower() == wanted.strip().lower():
            return col
    raise InputError(f"no column {wanted!r} (columns[{field_!r}]) in the header")


def _alt_ref_of(col: Column) -> str | None:
    return next((ref for ref, names in ALT_ALIASES.items() if col.key in names), None)


def generic_mapping(
    names: list[str],
    *,
    columns: Mapping[str, str] | None,
    alt_ref: str | None,
    need_position: bool = True,
) -> ColumnMap:
    """Find the lat/lon/time/altitude/extra columns among ``names`` (see module notes).

    Raises
    ------
    InputError
        A required column is missing, or a column named in ``columns`` is absent.
    """
    cols = [Column.of(name) for name in names]
    columns = columns or {}
    where = {}
    for name in ("lat", "lon") if need_position else ():
        where[name] = _named(cols, columns, name) or find(cols, ALIASES[name])
        if where[name] is None:
            raise InputError(
                f"no {name} column in the header (looked for {', '.join(ALIASES[name])}); "
                f"name it with columns={{{name!r}: ...}}"
            )
    time = _named(cols, columns, "time")
    if time is None:
        clocks = [col for col in cols if not col.is_duration]
        time = find(clocks, ALIASES["time"]) or find(cols, ALIASES["time"])
    if time is None:
        raise InputError(
            f"no time column in the header (looked for {', '.join(ALIASES['time'])}); "
            "name it with columns={'time': ...}"
        )
    elapsed = None
    if not time.is_duration:
        elapsed = find([c for c in cols if c.is_duration], ALIASES["elapsed"], exclude=(time,))
    date = _named(cols, columns, "date") or find(cols, ALIASES["date"], exclude=(time,))

    agl, ref, fallback, msl = None, ALT_REF_TAKEOFF, None, _named(cols, columns, "alt_msl")
    if "alt" in columns or alt_ref is not None:
        every = (
            ALT_ALIASES[ALT_REF_GROUND] + ALT_ALIASES[ALT_REF_TAKEOFF] + ALT_ALIASES[ALT_REF_MSL]
        )
        chosen = _named(cols, columns, "alt") or find(cols, every)
        if chosen is not None:
            ref = alt_ref or _alt_ref_of(chosen) or ALT_REF_TAKEOFF
            if ref == ALT_REF_MSL:
                msl, ref = chosen, ALT_REF_TAKEOFF
            else:
                agl = chosen
        msl = msl or find(cols, ALT_ALIASES[ALT_REF_MSL], exclude=(agl,))
    else:
        agl = find(cols, ALT_ALIASES[ALT_REF_GROUND])
        takeoff = find(cols, ALT_ALIASES[ALT_REF_TAKEOFF])
        if agl is not None:
            ref, fallback = ALT_REF_GROUND, takeoff
        else:
            agl = takeoff
        msl = msl or find(cols, ALT_ALIASES[ALT_REF_MSL])
    extras = {name: find(cols, ALIASES[name]) for name in (*EXTRA_QUANTITY, IS_PHOTO, IS_VIDEO)}
    return ColumnMap(
        lat=where.get("lat"),
        lon=where.get("lon"),
        time=time,
        date=date,
        elapsed=elapsed,
        agl=agl,
        agl_ref=ref,
        agl_fallback=fallback,
        msl=msl,
        segment=find(cols, ALIASES["segment"]),
        extras={name: col for name, col in extras.items() if col is not None},
    )


def airdata_mapping(names: list[str]) -> ColumnMap | None:
    """Return the AirData mapping, or None when the header is not an AirData export."""
    cols: dict[str, Column] = {}
    for col in map(Column.of, names):
        cols.setdefault(col.key, col)
    needed = ("lat", "lon", "time", "elapsed", "takeoff")
    if any(_AIRDATA[name] not in cols for name in needed):
        return None
    if not cols[_AIRDATA["elapsed"]].is_duration:
        return None
    got: dict[str, Column | None] = {name: cols.get(key) for name, key in _AIRDATA.items()}
    ground, takeoff = got["ground"], cols[_AIRDATA["takeoff"]]
    extras = {}
    for name in (*EXTRA_QUANTITY, IS_PHOTO, IS_VIDEO):
        found = got[name]
        if found is not None:
            extras[name] = found
    return ColumnMap(
        lat=got["lat"],
        lon=got["lon"],
        time=cols[_AIRDATA["time"]],
        elapsed=got["elapsed"],
        agl=ground or takeoff,
        agl_ref=ALT_REF_GROUND if ground else ALT_REF_TAKEOFF,
        agl_fallback=takeoff if ground else None,
        msl=got["msl"],
        extras=extras,
    )
