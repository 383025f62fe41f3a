"""Demo inputs that geoexpose makes itself: a synthetic town, its sites and three flights.

Nothing here is real. The town of Brenmoor is placed at 52.0 N, 35.0 W, in the open
North Atlantic where no town exists, so that its made-up military depot can never be
mistaken for a real one. Sites are drawn in metres east and north of the town centre
in geoexpose's metric band (:mod:`geoexpose.projection`) and written as a GeoJSON in
EPSG:4326; flights are written as AirData UAV CSV exports (imperial units, 10 Hz).
The output is the same, byte for byte, on every run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Geod

from geoexpose.projection import band_of_lon, from_band, lonlat_to_band
from geoexpose.schema import CRS_LONLAT, FAMILY, GEOMETRY, KIND, NAME, OPERATOR, SITE_ID

__all__ = ["DemoInputs", "make_demo_inputs"]

logger = logging.getLogger(__name__)

_TOWN_LON, _TOWN_LAT = -35.0, 52.0  # open North Atlantic: no real town there
_SEED = 20260612
_FT = 0.3048  # metres per foot
_MPH = 0.44704  # metres per second per mile per hour
_GEOD = Geod(ellps="WGS84")
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

_DESCRIPTION = (
    "Brenmoor is a small synthetic town that geoexpose makes up and places in the open "
    "North Atlantic at 52.0 N, 35.0 W, where no real town exists; its water works, rail "
    "yard and line, substation, power line and military depot are invented. On 12 June 2026 "
    "three synthetic drone flights (AirData CSV, with the photos they took) inspect the "
    "substation and stray across the depot, survey the rail line past the yard, and map "
    "the water works."
)


@dataclass(frozen=True)
class DemoInputs:
    """The files of the demo, as written by :func:`make_demo_inputs`."""

    sites: Path
    tracks: tuple[Path, ...]
    description: str
    photos: tuple[Path, ...] = ()


@dataclass(frozen=True)
class _Flight:
    """A flight plan in town metres: waypoints ``(east, north, height, speed, hold)``.

    A waypoint is reached ``distance / speed + hold`` seconds after the one before it.
    Between waypoints ``survey[0]`` and ``survey[1]`` the camera shoots every
    ``photo_every_s``, aimed at ``look_at`` if given, else pitched at ``gimbal_pitch``.
    """

    start: str
    waypoints: np.ndarray
    survey: tuple[int, int]
    photo_every_s: float
    gimbal_pitch: float
    look_at: tuple[float, float] | None = None
    gap_s: float = 0.0
    no_fix_rows: int = 0


# The town's plan, in metres east and north of its centre.
_RAIL = np.array(
    [(-2200.0, 660.0), (-1200.0, 560.0), (-500.0, 470.0), (100.0, 430.0), (1400.0, 600.0)]
)
_SUBSTATION = (0.0, 0.0)
_DEPOT = (760.0, -150.0, 1160.0, 150.0)  # 400 x 300 m, 720 m east of the substation


def _rail_north(east: float) -> float:
    return float(np.interp(east, _RAIL[:, 0], _RAIL[:, 1]))


def _sites() -> gpd.GeoDataFrame:
    """Build the town's sites in town metres; return them in EPSG:4326."""
    yard_axis = shapely.LineString([(e, _rail_north(e)) for e in (-1150.0, -550.0)])
    rows = [
        (
            "water",
            "water_works",
            "Brenmoor Water Works",
            "Brenmoor Water Board",
            shapely.Polygon([(-950, -500), (-750, -515), (-735, -365), (-890, -350), (-965, -420)]),
        ),
        (
            "water",
            "water_tower",
            "Brenmoor Hill Water Tower",
            "Brenmoor Water Board",
            shapely.Point(-560, -230),
        ),
        (
            "rail",
            "yard",
            "Brenmoor Rail Yard",
            "Brenmoor Rail",
            shapely.buffer(yard_axis, 40.0, cap_style="flat"),
        ),
        ("rail", "line", "Brenmoor Branch Line", "Brenmoor Rail", shapely.LineString(_RAIL)),
        (
            "power",
            "substation",
            "Brenmoor Substation",
            "Brenmoor Grid",
            shapely.box(-40, -30, 40, 30),
        ),
        (
            "power",
            "transmission_line",
            "Brenmoor West 110 kV Line",
            "Brenmoor Grid",
            shapely.LineString([(-40, 5), (-600, 160), (-1400, 250), (-2400, 280)]),
        ),
        (
            "military",
            "depot",
            "Brenmoor Depot",
            "Defence Estates (synthetic)",
            shapely.box(*_DEPOT),
        ),
    ]
    table = pd.DataFrame(rows, columns=[FAMILY, KIND, NAME, OPERATOR, GEOMETRY])
    table.insert(0, SITE_ID, "brenmoor-" + table[KIND].str.replace("_", "-"))
    table[GEOMETRY] = _to_lonlat_geoms(table[GEOMETRY].to_numpy())
    return gpd.GeoDataFrame(table, geometry=GEOMETRY, crs=CRS_LONLAT)


def _town_band() -> tuple[int, float, float]:
    band = int(band_of_lon(_TOWN_LON))
    x0, y0 = lonlat_to_band(np.array([_TOWN_LON]), np.array([_TOWN_LAT]), band)
    return band, float(x0[0]), float(y0[0])


def _to_lonlat_geoms(geoms: np.ndarray) -> np.ndarray:
    band, x0, y0 = _town_band()
    return from_band(shapely.transform(geoms, lambda xy: xy + np.array([x0, y0])), band)


def _ground_m(east: np.ndarray, north: np.ndarray) -> np.ndarray:
    """Return the synthetic terrain height (m above sea level): a slope with low hills."""
    return 14.0 + 0.004 * east - 0.003 * north + 1.5 * np.sin(east / 210) * np.cos(north / 170)


def _trip(home: tuple[float, float], height: float, body: list, back_speed: float) -> np.ndarray:
    """Plan a flight from ``home``: spin up, climb, fly ``body``, fly back and land."""
    e, n = home
    return np.array(
        [
            (e, n, 0, 1, 0),
            (e, n, 0, 1, 3),
            (e, n, height, 3, 0),
            *body,
            (e, n, height, back_speed, 0),
            (e, n, 0, 2.5, 0),
            (e, n, 0, 1, 2),
        ],
        dtype="float64",
    )


def _orbit(
    centre: tuple[float, float], radius: float, height: float, turns_deg: tuple, speed: float
) -> list:
    """Plan waypoints every 2 degrees on a circle, counterclockwise between two angles."""
    angle = np.radians(np.arange(turns_deg[0], turns_deg[1] + 1e-9, 2.0))
    e, n = centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle)
    return np.column_stack(
        [e, n, np.full_like(e, height), np.full_like(e, speed), np.zeros_like(e)]
    ).tolist()


def _flights() -> list[_Flight]:
    """Plan the three demo flights of 12 June 2026."""
    home1 = (-190.0, -40.0)  # 150 m west of the substation's fence
    entry = float(np.degrees(np.arctan2(home1[1], home1[0])))
    orbit = _orbit(_SUBSTATION, 60.0, 40.0, (entry, 720.0), 5.0)
    orbit[0][3] = 8.0
    stray = [
        (120, 10, 60, 8, 0),
        (830, 25, 60, 18, 0),
        (830, -25, 60, 10, 0),
        (120, -25, 60, 18, 0),
        (0, -100, 60, 12, 0),
    ]
    inspection = _trip(home1, 40.0, [*orbit, *stray], 12.0)
    rail = [(e, _rail_north(e), 60, 8, 0) for e in (-1900.0, -1200.0, -500.0, -200.0)]
    survey = _trip((-850.0, 400.0), 60.0, rail, 12.0)
    rows = [(-990, -470), (-710, -470), (-710, -430), (-990, -430), (-990, -390), (-710, -390)]
    mapping = _trip((-600.0, -300.0), 50.0, [(e, n, 50, 6, 0) for e, n in rows], 8.0)
    return [
        _Flight(
            "2026-06-12T10:02:07.400",
            inspection,
            (3, 3 + len(orbit) - 1),
            2.0,
            -30.0,
            look_at=_SUBSTATION,
            gap_s=30.0,
            no_fix_rows=5,
        ),
        _Flight("2026-06-12T10:31:41.700", survey, (3, 3 + len(rail) - 1), 3.0, -45.0),
        _Flight("2026-06-12T11:08:13.200", mapping, (3, 3 + len(rows) - 1), 2.0, -90.0),
    ]


def _fly(flight: _Flight, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fly ``flight`` at 10 Hz; return its state in SI units, one value per 100 ms."""
    wp = flight.waypoints
    step = np.hypot(np.hypot(np.diff(wp[:, 0]), np.diff(wp[:, 1])), np.diff(wp[:, 2]))
    t_key = np.concatenate([[0.0], np.cumsum(step / wp[1:, 3] + wp[1:, 4])])
    ms = np.arange(int(t_key[-1] * 10) + 1) * 100
    t = ms / 1000.0
    h = np.round(np.interp(t, t_key, wp[:, 2]), 1)  # barometric height, 0.1 m steps
    sway = 0.4 * np.minimum(h / 5.0, 1.0)  # a little wind drift once airborne
    drift = rng.uniform(0, 2 * np.pi, 2)
    e = np.interp(t, t_key, wp[:, 0]) + sway * np.sin(2 * np.pi * t / 17 + drift[0])
    n = np.interp(t, t_key, wp[:, 1]) + sway * np.sin(2 * np.pi * t / 23 + drift[1])
    lon, lat = np.round(shapely.get_coordinates(_to_lonlat_geoms(shapely.points(e, n))).T, 12)

    # Motion from the positions as written: geodesic steps of 0.1 s, speeds in 0.1 m/s.
    az, _, dist = _GEOD.inv(lon[:-1], lat[:-1], lon[1:], lat[1:])
    speed = np.round(np.concatenate([[0.0], dist / 0.1]), 1)
    course = np.concatenate([[az[0]], az])
    moving = speed >= 0.3
    last = np.maximum.accumulate(np.where(moving, np.arange(len(t)), 0))
    yaw = np.where(moving[last], course[last], course[np.argmax(moving)])
    msl = _ground_m(wp[0, 0], wp[0, 1]) + h
    ground = _ground_m(e, n)
    gimbal = np.full(len(t), float(flight.gimbal_pitch))
    roll = rng.normal(0.0, 0.4, len(t))
    t0, t1 = t_key[flight.survey[0]], t_key[flight.survey[1]]
    if flight.look_at is not None:  # point the camera at the target while surveying
        aim = (t >= t0) & (t <= t1)
        target = shapely.get_coordinates(_to_lonlat_geoms(shapely.points([flight.look_at])))[0]
        to_lon, to_lat = np.full_like(lon, target[0]), np.full_like(lat, target[1])
        to_az, _, to_dist = _GEOD.inv(lon, lat, to_lon, to_lat)
        yaw = np.where(aim, to_az, yaw)
        gimbal = np.where(aim, -np.degrees(np.arctan2(msl - ground, to_dist)), gimbal)
        roll = np.where(aim, np.degrees(np.arctan2(speed**2, 9.81 * to_dist)), roll)
    photo = np.zeros(len(t), dtype="int64")
    photo[np.round(np.arange(t0, t1, flight.photo_every_s) * 10).astype("int64")] = 1
    _, _, from_home = _GEOD.inv(np.full_like(lon, lon[0]), np.full_like(lat, lat[0]), lon, lat)
    gap_ms = np.round((t0 + t1) * 5) * 100  # the middle of the survey, on the 100 ms grid
    return {
        "ms": ms,
        "t": t,
        "lon": lon,
        "lat": lat,
        "h": h,
        "msl": msl,
        "ground": ground,
        "speed": speed,
        "course": course,
        "yaw": np.mod(yaw, 360.0),
        "gimbal": gimbal,
        "roll": roll,
        "photo": photo,
        "from_home": from_home,
        "climb": np.round(np.concatenate([[0.0], np.diff(h) / 0.1]), 1),
        "fix": np.arange(len(t)) >= flight.no_fix_rows,
        "phase": np.select([t < t_key[1], t < t_key[1] + 5.0, t >= t_key[-2]], [0, 1, 3], 2),
        "kept": ~((ms > gap_ms) & (ms < gap_ms + flight.gap_s * 1000)),
    }


def _fmt(values: np.ndarray, decimals: int) -> np.ndarray:
    """Write numbers as AirData does: no trailing zeros, no ``-0``."""
    text = np.strings.mod(f"%.{decimals}f", np.round(values, decimals) + 0.0)
    return np.strings.rstrip(np.strings.rstrip(text, "0"), ".") if decimals else text


def _airdata(f: dict[str, np.ndarray], start: str, rng: np.random.Generator) -> pd.DataFrame:
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


# The demo camera: a DJI Air 2S (FC3411; 13.2 x 8.8 mm sensor, 8.4 mm lens, 22 mm eq.),
# its photos written at 1/12 of the 5472 x 3648 pixels to keep the demo small.
_PHOTO_SIZE = (456, 304)
_PHOTO_UTC_OFFSET_H = -2  # the camera clock runs on local time at 35 W


def _exif_rational(value: float, scale: int = 1000) -> Any:
    from PIL.TiffImagePlugin import IFDRational

    return IFDRational(round(abs(value) * scale), scale)


def _photo_bytes(f: dict[str, np.ndarray], i: int, start: str, number: int) -> bytes:
    """Encode a synthetic DJI JPEG for row ``i`` of a flown state: EXIF, drone-dji XMP."""
    import io

    from PIL import Image, ImageDraw

    when = pd.Timestamp(start) + pd.Timedelta(milliseconds=int(f["ms"][i]))
    local = when + pd.Timedelta(hours=_PHOTO_UTC_OFFSET_H)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "DJI", "FC3411"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9291] = f"{local.microsecond // 1000:03d}"
    sub[0x9011] = f"{_PHOTO_UTC_OFFSET_H:+03d}:00"
    sub[0x920A] = _exif_rational(8.38)
    sub[0xA405] = 22
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = ("N" if f["lat"][i] >= 0 else "S"), ("E" if f["lon"][i] >= 0 else "W")
    for tag, value in ((2, f["lat"][i]), (4, f["lon"][i])):
        deg = abs(float(value))
        minutes = (deg - int(deg)) * 60
        gps[tag] = (
            _exif_rational(int(deg), 1),
            _exif_rational(int(minutes), 1),
            _exif_rational((minutes - int(minutes)) * 60, 10_000),
        )
    gps[5], gps[6] = b"\x00", _exif_rational(float(f["msl"][i]))
    tags = {
        "AbsoluteAltitude": f"{f['msl'][i]:+.3f}",
        "RelativeAltitude": f"{f['h'][i]:+.3f}",
        "GpsLatitude": f"{f['lat'][i]:.9f}",
        "GpsLongitude": f"{f['lon'][i]:.9f}",
        "GimbalRollDegree": "+0.00",
        "GimbalYawDegree": f"{(f['yaw'][i] + 180) % 360 - 180:+.2f}",
        "GimbalPitchDegree": f"{f['gimbal'][i]:+.2f}",
        "FlightRollDegree": f"{f['roll'][i]:+.2f}",
        "FlightYawDegree": f"{(f['yaw'][i] + 180) % 360 - 180:+.2f}",
        "FlightPitchDegree": "+0.00",
    }
    attrs = " ".join(f'drone-dji:{k}="{v}"' for k, v in tags.items())
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="DJI Meta Data" '
        f'xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" {attrs}/></rdf:RDF></x:xmpmeta>'
        '<?xpacket end="w"?>'
    ).encode()
    shade = int(np.clip(110 + f["gimbal"][i], 20, 200))
    image = Image.new("RGB", _PHOTO_SIZE, (shade, 140, 110))
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), f"Brenmoor demo photo {number:04d}", fill=(255, 255, 255))
    draw.text((12, 30), "synthetic: no real place", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, exif=exif, xmp=xmp)
    return buffer.getvalue()


def _photos(f: dict[str, np.ndarray], start: str, folder: Path) -> list[Path]:
    """Write the photos a flight took (its ``isPhoto`` rows with a fix) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("DJI_*.JPG"):
        old.unlink()
    rows = np.flatnonzero((f["photo"] == 1) & f["fix"] & f["kept"])
    paths = []
    for number, i in enumerate(rows, start=1):
        path = folder / f"DJI_{number:04d}.JPG"
        path.write_bytes(_photo_bytes(f, int(i), start, number))
        paths.append(path)
    return paths


def _file_name(start: str) -> str:
    """Name a flight's CSV file as AirData does, after its start time."""
    when = pd.Timestamp(start)
    month = _MONTHS[when.month - 1]
    day = when.day
    suffix = "th" if 10 < day < 14 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    hour = f"{(when.hour - 1) % 12 + 1:02d}-{when.minute:02d}{'AM' if when.hour < 12 else 'PM'}"
    return f"{month}-{day}{suffix}-{when.year}-{hour}-Flight-Airdata.csv"


def make_demo_inputs(folder: str | Path) -> DemoInputs:
    """Write the synthetic demo's sites and flight tracks into ``folder``.

    Parameters
    ----------
    folder
        Where to write; made if missing. Files of an earlier run are replaced.

    Returns
    -------
    DemoInputs
        The sites GeoJSON, the AirData CSV tracks, the photos (synthetic DJI JPEGs
        with EXIF and drone-dji XMP, one per ``isPhoto`` row of the tracks, in
        ``photos/flight<n>/``) and a short description.

    Notes
    -----
    Everything is computed, with a fixed random seed, so the files are the same byte
    for byte on every run; nothing is downloaded. The sites are in EPSG:4326; the
    tracks carry heights in feet and speeds in miles per hour, as AirData writes them.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     demo = make_demo_inputs(folder)
    >>> demo.sites.name, demo.tracks[0].name
    ('brenmoor_sites.geojson', 'Jun-12th-2026-10-02AM-Flight-Airdata.csv')
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sites = folder / "brenmoor_sites.geojson"
    sites.unlink(missing_ok=True)
    _sites().to_file(sites, driver="GeoJSON")
    tracks, photos = [], []
    for index, flight in enumerate(_flights()):
        path = folder / _file_name(flight.start)
        rng = np.random.default_rng(_SEED + index)
        flown = _fly(flight, rng)
        table = _airdata(flown, flight.start, rng)
        table.to_csv(path, index=False, lineterminator="\n")
        logger.debug("wrote %s: %d rows", path, len(table))
        tracks.append(path)
        photos += _photos(flown, flight.start, folder / "photos" / f"flight{index + 1}")
    return DemoInputs(
        sites=sites, tracks=tuple(tracks), description=_DESCRIPTION, photos=tuple(photos)
    )
