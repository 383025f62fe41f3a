"""Photo triggers recorded in flight logs, as camera poses: one row per photo taken.

Where no photo files are given, a flight log still says when and where the camera
fired. :func:`read_trigger_poses` returns one pose per trigger, ready for
:func:`geoexpose.imagery.captures.captures_from_poses`:

DJI-family logs (AirData, PhantomHelp, dji-log-parser, TXTlogToCSVtool, Litchi CSV)
    ``isPhoto`` (``CAMERA.isPhoto``, ``CUSTOM.isPhoto``, ``istakingphoto``) is set on
    the row(s) where a photo is taken: each rise of the flag within a flight is one
    photo, at that row's time and position (the fix as :func:`geoexpose.read_tracks`
    keeps it; a flag on a row dropped by cleaning is not seen). The pose is the
    gimbal's: yaw ``gimbal_heading``/``GIMBAL.yaw`` (true north, absolute), pitch
    ``gimbal_pitch``; roll 0 (DJI's three-axis gimbals hold the horizon level). Without
    gimbal yaw the aircraft's yaw is used (``pose_from_flight_attitude``), without
    either the yaw is unknown (NaN, ``yaw_unknown``).
ArduPilot DataFlash, MAVLink telemetry, PX4 ULog
    camera records of :func:`geoexpose.tracks.formats.read_camera_events`: ``CAM``
    (the camera's feedback that it took the photo; ``TRIG``, the trigger command,
    only where a log has no ``CAM``), ``CAMERA_FEEDBACK``, ``camera_capture``. The
    position, heights and yaw are the record's; where the record has no position
    (0/0 or missing) it is taken from the log's track at that time
    (``position_from_track``), as is a missing height. These logs record the
    vehicle's attitude, not the camera's, so the camera is taken as pointing
    straight down (pitch -90, roll 0, ``pose_nadir_assumed``) with the vehicle's yaw.

Every pose is flagged ``from_log_trigger``. ``flight_id`` is the flight of
:func:`geoexpose.read_tracks` that the trigger falls in (same file, same options),
so poses and fixes join on it.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._files import file_labels
from geoexpose._flags import add_flag
from geoexpose._frames import without_attrs
from geoexpose.errors import InputError, InputWarning
from geoexpose.schema import (
    AIRCRAFT,
    ALT_AGL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    CAM_LAT,
    CAM_LON,
    CAPTURE_ID,
    CAPTURE_KIND,
    FLAGS,
    FLIGHT_ID,
    GIMBAL_PITCH_DEG,
    GIMBAL_YAW_DEG,
    IS_PHOTO,
    LAT,
    LON,
    PATH,
    PITCH_DEG,
    ROLL_DEG,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks._logs import MESSAGE
from geoexpose.tracks.files import track_files
from geoexpose.tracks.formats import TRACK_FORMATS, read_camera_events
from geoexpose.tracks.normalize import MAX_SPEED_M_S
from geoexpose.tracks.read import read_tracks

__all__ = ["CAMERA_MODEL", "FROM_LOG", "TRIGGER", "TRIGGER_COLUMNS", "read_trigger_poses"]

logger = logging.getLogger(__name__)

#: The EXIF camera model of that aircraft, as in geoexpose's camera table ("" unknown).
CAMERA_MODEL = "camera_model"
#: What marked the photo: ``isPhoto`` or the log message (``CAM``, ``camera_capture``...).
TRIGGER = "trigger"
#: Columns of :func:`read_trigger_poses`, in order.
TRIGGER_COLUMNS = [
    CAPTURE_ID, PATH, CAPTURE_KIND, TIME_UTC, FLIGHT_ID, CAM_LON, CAM_LAT, ALT_AGL_M,
    YAW_DEG, PITCH_DEG, ROLL_DEG, FLAGS, ALT_REF, AIRCRAFT, CAMERA_MODEL, TRIGGER,
]  # fmt: skip

#: The flag of a capture made from a log's photo trigger.
FROM_LOG = "from_log_trigger"
NADIR = "pose_nadir_assumed"
# The formats whose logs record camera triggers (autopilot logs).
_CAMERA_LOGS = tuple(f.name for f in TRACK_FORMATS if f.camera_events is not None)
# The camera each DJI aircraft carries, by the model name its logs write (lower case,
# most specific first), as the EXIF Model of geoexpose/_dji_cameras.toml.
_CAMERAS = (
    ("phantom 4 pro v2", "FC6310S"),
    ("phantom 4 rtk", "FC6310R"),
    ("phantom 4 pro", "FC6310"),
    ("p4 professional", "FC6310"),
    ("phantom 4", "FC330"),
    ("mavic pro", "FC220"),
    ("mavic air 2", "FC3170"),
    ("air 2s", "FC3411"),
    ("mini 2", "FC7303"),
    ("mavic 2 pro", "L1D-20c"),
    ("mavic 3 enterprise", "M3E"),
)


def camera_model_of(aircraft: str | None) -> str:
    """Return the EXIF camera model of a DJI aircraft model name, or "" when unknown.

    >>> camera_model_of("P4 Professional"), camera_model_of("Mini 2"), camera_model_of("X")
    ('FC6310', 'FC7303', '')
    """
    name = " ".join(str(aircraft or "").lower().replace("_", " ").split())
    return next((model for key, model in _CAMERAS if key in name), "")


def _rise_rows(flag: np.ndarray, flight: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Return the ``rows`` (in their order) where the flag turns true within a flight.

    ``flag`` and ``flight`` (a code per fix, -1 where missing) cover the whole frame:
    only the file's flags and codes are read, never its other columns.
    """
    mine, code = flag[rows], flight[rows]
    before = np.zeros(len(rows), dtype=bool)
    before[1:] = mine[:-1] & (code[1:] == code[:-1]) & (code[1:] >= 0)
    return rows[mine & ~before]


def _numbers(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64")


def _flag_poses(photos: pd.DataFrame, path: Path) -> pd.DataFrame:
    gimbal_yaw = _numbers(photos, GIMBAL_YAW_DEG)
    body_yaw = _numbers(photos, YAW_DEG)
    pitch = _numbers(photos, GIMBAL_PITCH_DEG)
    yaw = np.where(np.isnan(gimbal_yaw), body_yaw, gimbal_yaw)
    flags = np.full(len(photos), FROM_LOG, dtype=object)
    flags = add_flag(flags, np.isnan(pitch), NADIR)
    flags = add_flag(flags, np.isnan(gimbal_yaw) & ~np.isnan(body_yaw), "pose_from_flight_attitude")
    flags = add_flag(flags, np.isnan(yaw), "yaw_unknown")
    return pd.DataFrame(
        {
            PATH: str(path),
            TIME_UTC: photos[TIME_UTC].to_numpy(),
            FLIGHT_ID: photos[FLIGHT_ID].to_numpy(dtype=object),
            CAM_LON: photos.geometry.x.to_numpy(),
            CAM_LAT: photos.geometry.y.to_numpy(),
            ALT_AGL_M: _numbers(photos, ALT_AGL_M),
            YAW_DEG: yaw,
            PITCH_DEG: np.where(np.isnan(pitch), -90.0, pitch),
            ROLL_DEG: 0.0,
            FLAGS: flags,
            ALT_REF: photos[ALT_REF].to_numpy(dtype=object),
            TRIGGER: "isPhoto",
        }
    )


def _flight_of(times: np.ndarray, track: pd.DataFrame, tolerance_s: float) -> np.ndarray:
    """Return the flight of each time: the one spanning it, else the nearest within tolerance."""
    out = np.full(len(times), None, dtype=object)
    best = np.full(len(times), np.inf)
    ns = track[TIME_UTC].to_numpy(dtype="datetime64[ns]").view("int64")
    for flight, rows in track.groupby(FLIGHT_ID, sort=False).indices.items():
        start, end = ns[rows].min(), ns[rows].max()
        away = np.maximum(start - times, times - end).clip(min=0) / 1e9
        closer = (away < best) & (away <= tolerance_s)
        out[closer] = flight
        best = np.where(closer, away, best)
    return out


def _along(track: pd.DataFrame, times: np.ndarray, flights: np.ndarray, column: str) -> np.ndarray:
    """Interpolate ``column`` of the track in time at each trigger, within its flight."""
    out = np.full(len(times), np.nan)
    for flight, rows in track.groupby(FLIGHT_ID, sort=False).indices.items():
        mine = flights == flight
        if not mine.any():
            continue
        part = track.iloc[rows]
        values = part[column].to_numpy(dtype="float64")
        at = part[TIME_UTC].to_numpy(dtype="datetime64[ns]").view("int64").astype("float64")
        ok = np.isfinite(values)
        if ok.any():
            out[mine] = np.interp(times[mine].astype("float64"), at[ok], values[ok])
    return out


def _camera_poses(
    path: Path, track: pd.DataFrame, tolerance_s: float, notes: list[str]
) -> pd.DataFrame:
    events = read_camera_events(path)
    if (events[MESSAGE] == "CAM").any():
        dropped = int((events[MESSAGE] == "TRIG").sum())
        if dropped:
            notes.append(f"{dropped} TRIG records left out: the log has CAM (taken) records")
        events = events[events[MESSAGE] != "TRIG"]
    events = events[events[TIME_UTC].notna()].reset_index(drop=True)
    times = events[TIME_UTC].to_numpy(dtype="datetime64[ns]").view("int64")
    track = track.assign(**{LON: track.geometry.x, LAT: track.geometry.y})
    flights = _flight_of(times, track, tolerance_s)
    lat = events[LAT].to_numpy(dtype="float64")
    lon = events[LON].to_numpy(dtype="float64")
    placed = np.isfinite(lat) & np.isfinite(lon) & ~((lat == 0) & (lon == 0))
    placed &= (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    lat = np.where(placed, lat, _along(track, times, flights, LAT))
    lon = np.where(placed, lon, _along(track, times, flights, LON))
    agl = events[ALT_AGL_M].to_numpy(dtype="float64")
    agl_missing = np.isnan(agl)
    agl = np.where(agl_missing, _along(track, times, flights, ALT_AGL_M), agl)
    yaw = events[YAW_DEG].to_numpy(dtype="float64") % 360.0
    flags = np.full(len(events), FROM_LOG, dtype=object)
    flags = add_flag(flags, np.ones(len(events), dtype=bool), NADIR)  # always, see module notes
    flags = add_flag(flags, ~placed | agl_missing, "position_from_track")
    flags = add_flag(flags, np.isnan(yaw), "yaw_unknown")
    poses = pd.DataFrame(
        {
            PATH: str(path),
            TIME_UTC: events[TIME_UTC].to_numpy(),
            FLIGHT_ID: flights,
            CAM_LON: lon,
            CAM_LAT: lat,
            ALT_AGL_M: agl,
            YAW_DEG: yaw,
            PITCH_DEG: -90.0,
            ROLL_DEG: 0.0,
            FLAGS: flags,
            ALT_REF: ALT_REF_TAKEOFF,
            TRIGGER: events[MESSAGE].to_numpy(dtype=object),
        }
    )
    usable = np.isfinite(lat) & np.isfinite(lon)
    if not usable.all():
        notes.append(f"{int((~usable).sum())} trigger(s) without a position left out")
    return poses[usable]


def _rows_by_file(fixes: pd.DataFrame) -> dict[Path, np.ndarray]:
    """Return the row positions of each file's fixes, by resolved path, in one pass."""
    codes, names = pd.factorize(fixes[SOURCE])
    order = np.argsort(codes, kind="stable")  # rising positions within each source
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    starts = np.cumsum(counts) - counts
    first = int(np.searchsorted(codes[order], 0))  # missing sources (-1) come first: left out
    out: dict[Path, list[np.ndarray]] = {}
    for k, name in enumerate(names):  # one step per source file
        rows = order[first + starts[k] : first + starts[k] + counts[k]]
        out.setdefault(Path(str(name)).resolve(), []).append(rows)
    return {path: np.sort(np.concatenate(parts)) for path, parts in out.items()}


def read_trigger_poses(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    fixes: gpd.GeoDataFrame | None = None,
    time_zone: str | None = None,
    split_gap_s: float = 60.0,
    max_speed_m_s: float = MAX_SPEED_M_S,
    strict: bool = False,
) -> pd.DataFrame:
    """Read the photo triggers of flight logs as camera poses (see module notes).

    Parameters
    ----------
    paths
        Log files or folders, as for :func:`geoexpose.read_tracks`; files without
        photo triggers give no rows.
    fixes
        The result of :func:`geoexpose.read_tracks` on these files, to take the
        photo rows and flights from instead of reading the files again.
    time_zone, split_gap_s, max_speed_m_s, strict
        As for :func:`geoexpose.read_tracks` (used where ``fixes`` is None); the
        same values give the same ``flight_id``.

    Returns
    -------
    pandas.DataFrame
        One row per photo, in file then time order, columns :data:`TRIGGER_COLUMNS`:
        ``capture_id`` (``"<file name>#photo<n>"``), ``path`` (the log), ``kind``
        (``"photo"``), ``time_utc``, ``flight_id`` (None where no flight of the file
        is within ``split_gap_s``), ``cam_lon``, ``cam_lat``, ``alt_agl_m``,
        ``yaw_deg`` (NaN unknown), ``pitch_deg`` (-90 nadir), ``roll_deg``,
        ``flags`` (``;``-joined, always ``from_log_trigger``), ``alt_ref``,
        ``aircraft``, ``camera_model`` and ``trigger``. ``attrs["geoexpose"]
        ["files"]``: per log file ``path``, ``triggers`` and ``notes``.

    Raises
    ------
    InputError
        With ``strict=True``, a file cannot be read.
    """
    if fixes is None:
        fixes = read_tracks(
            paths,
            time_zone=time_zone,
            split_gap_s=split_gap_s,
            max_speed_m_s=max_speed_m_s,
            strict=strict,
        )
    files = track_files(paths)
    entries = {
        Path(e["path"]).resolve(): e for e in fixes.attrs.get("geoexpose", {}).get("files", [])
    }
    plain = without_attrs(fixes)  # per-file slices of a frame with attrs copy them all
    rows_of = _rows_by_file(plain)
    has_flags = IS_PHOTO in plain
    if has_flags:  # over the whole frame once; each file takes its photo rows only
        flag = plain[IS_PHOTO].fillna(False).to_numpy(dtype=bool)
        flight = pd.factorize(plain[FLIGHT_ID])[0]
    parts, report = [], []
    no_photo: pd.DataFrame | None = None
    for path, label in zip(files, file_labels(files), strict=True):
        entry: dict[str, Any] = entries.get(path.resolve(), {})
        notes: list[str] = []
        if entry.get("status") == "skipped":  # read_tracks said why
            continue
        rows = rows_of.get(path.resolve(), np.empty(0, dtype="int64"))
        if entry.get("format") in _CAMERA_LOGS:
            try:
                poses = _camera_poses(path, plain.take(rows), split_gap_s, notes)
            except InputError as exc:
                message = f"{path}: {' '.join(str(exc).split())}"
                if strict:
                    raise InputError(message) from exc
                warnings.warn(InputWarning(message), stacklevel=2)
                continue
        else:
            rises = _rise_rows(flag, flight, rows) if has_flags else rows[:0]
            if len(rises) or no_photo is None:
                poses = _flag_poses(plain.take(rises), path)
                no_photo = poses.copy() if not len(rises) else no_photo
            else:  # no photo, as in most logs of a fleet: the same empty frame
                poses = no_photo.copy()
        aircraft = str(entry.get("aircraft") or "")
        poses[AIRCRAFT] = aircraft
        poses[CAMERA_MODEL] = camera_model_of(aircraft)
        poses = poses.sort_values(TIME_UTC, kind="stable", ignore_index=True)
        poses[CAPTURE_ID] = [f"{label}#photo{n}" for n in range(1, len(poses) + 1)]
        report.append({"path": str(path), "triggers": len(poses), "notes": notes})
        parts.append(poses)
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TRIGGER_COLUMNS)
    out[CAPTURE_KIND] = "photo"
    out = out[TRIGGER_COLUMNS].astype(
        {
            TIME_UTC: TIME_DTYPE,
            CAM_LON: "float64",
            CAM_LAT: "float64",
            ALT_AGL_M: "float64",
            YAW_DEG: "float64",
            PITCH_DEG: "float64",
            ROLL_DEG: "float64",
        }
    )
    out.attrs["geoexpose"] = {"files": report}
    return out
