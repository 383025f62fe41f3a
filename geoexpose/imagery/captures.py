"""Read captures: photos and video frames become ground footprints, one row per capture.

:func:`read_captures` finds the image and telemetry files, tells each file's kind from
its content, reads the camera position, pose and intrinsics (:mod:`geoexpose.imagery.photo_tags`,
:mod:`geoexpose.imagery.camera`, :mod:`geoexpose.tracks._srt`), and projects each image onto the
ground (:mod:`geoexpose.imagery.footprints`). :func:`captures_from_poses` does the last step for
poses from any source, such as the photo triggers of a flight log.

How the pose of a photo is chosen, and the flags that say so:

- the gimbal's yaw, pitch and roll (true north, no declination added);
- without gimbal yaw, the aircraft's yaw: ``pose_from_flight_attitude``;
- without gimbal pitch, nadir: ``pose_nadir_assumed``;
- a broken attitude, all three gimbal angles exactly 0, or a gimbal yaw of exactly 0 on
  every photo of a folder of several: ``attitude_broken`` and a yaw-free footprint
  (``yaw_unknown``); an all-zero attitude is also taken as nadir (``pose_nadir_assumed``).

The camera's height above the ground plane is ``RelativeAltitude``, the height above the
take-off point (``alt_ref`` is ``takeoff``): right over flat ground level with the
take-off point. A camera less than 1 m above it is put at 1 m (``height_clamped``).
Times without a zone are read in ``time_zone``, else taken as UTC
(``time_zone_assumed_utc``).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from tqdm import tqdm

from geoexpose._files import expand_paths, file_labels
from geoexpose._flags import add_flag, join_flags
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.imagery._raster import Dem, open_dem
from geoexpose.imagery.camera import DIAGONAL_35MM_MM, Camera, camera_from_tags, camera_table
from geoexpose.imagery.dem import (
    camera_elevation,
    dji_altitude_reference,
    footprints_on_dem,
    ground_elevation,
)
from geoexpose.imagery.footprints import footprints
from geoexpose.imagery.orthomosaic import read_orthomosaic, sniff_geotiff
from geoexpose.imagery.photo_tags import PROBLEM, photo_tags_table
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    CAM_LAT,
    CAM_LON,
    CAPTURE_COLUMNS,
    CAPTURE_ID,
    CAPTURE_KIND,
    CRS_LONLAT,
    CX_PX,
    CY_PX,
    FLAGS,
    FLIGHT_ID,
    FOCAL_PX,
    GSD_CM,
    IMAGE_HEIGHT_PX,
    IMAGE_WIDTH_PX,
    INTRINSICS,
    PATH,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks import check_time_zone, sniff_srt, srt_frames

__all__ = [
    "CAPTURE_EXTRA_COLUMNS",
    "CAPTURE_SUFFIXES",
    "POSE_COLUMNS",
    "captures_from_poses",
    "captures_from_triggers",
    "read_captures",
]

logger = logging.getLogger(__name__)

#: File name endings looked for in folders.
CAPTURE_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".dng", ".srt")  # orthomosaics: .tif
#: Columns after :data:`geoexpose.schema.CAPTURE_COLUMNS`: what the height is measured
#: from, and the pinhole intrinsics the footprint was made with (``intrinsics`` names
#: their source, see :mod:`geoexpose.imagery.camera`).
CAPTURE_EXTRA_COLUMNS = [
    ALT_REF,
    INTRINSICS,
    FOCAL_PX,
    IMAGE_WIDTH_PX,
    IMAGE_HEIGHT_PX,
    CX_PX,
    CY_PX,
]
#: What :func:`captures_from_poses` needs, one row per capture.
POSE_COLUMNS = [c for c in CAPTURE_COLUMNS if c not in (GSD_CM, "geometry")] + [ALT_REF]

MIN_HEIGHT_M = 1.0
#: Frame size taken for a video whose size is not known.
VIDEO_SIZE_PX = (3840, 2160)
#: 35 mm-equivalent focal length taken where a video's telemetry has none (DJI's wide).
VIDEO_FOCAL35_MM = 24.0
_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def _kind_of(path: Path) -> str:
    """``photo``, ``orthomosaic``, ``elevation`` or ``srt``, from a file's content."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not head.strip():
        raise InputError("empty file")
    if head.startswith(b"\xff\xd8\xff"):
        return "photo"
    if head.startswith(_TIFF_MAGIC):
        return sniff_geotiff(path) or "photo"  # orthomosaic, elevation or a photo
    if sniff_srt(head, path):
        return "srt"
    raise InputError("not a JPEG, TIFF, DNG or DJI telemetry (.SRT) file")


def _utc_times(tags: pd.DataFrame, time_zone: str | None) -> tuple[pd.Series, np.ndarray]:
    """Capture times in UTC, and where a zone had to be assumed."""
    local = pd.to_datetime(tags["time_original"])
    offset = tags["time_offset"].astype(object)
    parsed_offset = pd.to_timedelta(
        offset.where(offset.astype(str).str.fullmatch(r"[+-]\d\d:\d\d"), None).map(
            lambda s: None if s is None else f"{s[0]}{s[1:3]}h{s[4:6]}m"
        ),
        errors="coerce",
    )
    times = pd.Series(pd.NaT, index=tags.index, dtype=TIME_DTYPE)
    has_offset = parsed_offset.notna() & local.notna()
    times[has_offset] = (local[has_offset] - parsed_offset[has_offset]).dt.tz_localize("UTC")
    rest = local.notna() & ~has_offset
    zone = time_zone or "UTC"
    times[rest] = (
        local[rest].dt.tz_localize(zone, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    )
    assumed = (rest & (time_zone is None)).to_numpy()
    return times.astype(TIME_DTYPE), assumed


def _photo_poses(tags: pd.DataFrame, labels: list[str], time_zone: str | None):
    """Poses, cameras and skip reasons of photos, from the table of their tags."""
    n = len(tags)
    num = {c: pd.to_numeric(tags[c], errors="coerce").to_numpy("float64") for c in tags
           if c not in (PATH, PROBLEM, "time_original") and tags[c].dtype.kind == "f"}  # fmt: skip
    reasons: list[str | None] = list(tags[PROBLEM])
    cameras: list[Camera | None] = [None] * n
    records = tags.to_dict("records")
    for i, record in enumerate(records):
        if reasons[i] is not None:
            continue
        try:
            cameras[i] = camera_from_tags(record, path=record[PATH])
        except InputError as exc:
            reasons[i] = " ".join(str(exc).split())

    lon, lat, rel = num["lon"], num["lat"], num["rel_alt_m"]
    names = tags[PATH].to_numpy(dtype=object)
    for i in range(n):
        if reasons[i] is not None:
            continue
        if not (np.isfinite(lon[i]) and np.isfinite(lat[i])):
            reasons[i] = f"{names[i]}: no GPS position in EXIF or XMP"
        elif lon[i] == 0 and lat[i] == 0:
            reasons[i] = f"{names[i]}: GPS position 0/0 (no fix)"
        elif not np.isfinite(rel[i]):
            reasons[i] = (
                f"{names[i]}: field RelativeAltitude is missing: the height above ground is unknown"
            )

    flags = np.full(n, "", dtype=object)
    gy, gp, gr = num["gimbal_yaw_deg"], num["gimbal_pitch_deg"], num["gimbal_roll_deg"]
    fy = num["flight_yaw_deg"]
    from_flight = ~np.isfinite(gy) & np.isfinite(fy)
    yaw = np.where(np.isfinite(gy), gy, fy)
    flags = add_flag(flags, from_flight, "pose_from_flight_attitude")
    all_zero = (gy == 0) & (gp == 0) & (gr == 0)
    folder = pd.Series([str(Path(p).parent) for p in tags[PATH]])
    yaw_zero = pd.Series(gy == 0).groupby(folder).transform("all").to_numpy()
    several = folder.map(folder.value_counts()).to_numpy() > 1
    broken = all_zero | (yaw_zero & several)
    flags = add_flag(flags, broken, "attitude_broken")
    yaw = np.where(broken, np.nan, yaw)
    nadir = ~np.isfinite(gp) | all_zero
    flags = add_flag(flags, nadir, "pose_nadir_assumed")
    pitch = np.where(nadir, -90.0, gp)
    roll = np.where(np.isfinite(gr) & ~all_zero, gr, 0.0)

    times, assumed = _utc_times(tags, time_zone)
    flags = add_flag(flags, assumed, "time_zone_assumed_utc")
    poses = pd.DataFrame(
        {
            CAPTURE_ID: labels,
            PATH: tags[PATH].to_numpy(dtype=object),
            CAPTURE_KIND: "photo",
            TIME_UTC: times.array,
            FLIGHT_ID: None,
            CAM_LON: lon,
            CAM_LAT: lat,
            ALT_AGL_M: rel,
            YAW_DEG: yaw,
            PITCH_DEG: pitch,
            ROLL_DEG: roll,
            FLAGS: flags,
            ALT_REF: ALT_REF_TAKEOFF,
            "cam_reverse": num["cam_reverse"] == 1,
            "abs_alt_m": num["abs_alt_m"],
            "abs_alt_ref": dji_altitude_reference(num["rtk_flag"]),
        }
    )
    return poses, cameras, reasons


def _video_camera(focal35_mm: float, size: tuple[int, int]) -> Camera:
    w, h = size
    focal_px = focal35_mm * np.hypot(w, h) / DIAGONAL_35MM_MM
    return Camera(w, h, float(focal_px), w / 2, h / 2, source="focal_35mm")


def _srt_poses(path: Path, label: str, *, every_s: float, time_zone: str | None, video_size):
    """Poses and cameras of the sampled frames of one telemetry file."""
    frames = srt_frames(path, every_s=every_s, time_zone=time_zone)
    info = frames.attrs.get("geoexpose", {})
    size = video_size or VIDEO_SIZE_PX
    n = len(frames)
    flags = frames[FLAGS].to_numpy(dtype=object)
    flags = add_flag(flags, np.full(n, video_size is None), "frame_size_assumed")
    focal35 = pd.to_numeric(frames["focal_len_mm"], errors="coerce").to_numpy("float64")
    zoom = pd.to_numeric(frames["dzoom_ratio"], errors="coerce").fillna(1.0).to_numpy("float64")
    no_focal = ~(focal35 > 0)
    flags = add_flag(flags, no_focal, "intrinsics_assumed")
    focal35 = np.where(no_focal, VIDEO_FOCAL35_MM, focal35) * np.where(zoom > 0, zoom, 1.0)
    assumed = np.full(n, info.get("time_basis") == "assumed_utc")
    flags = add_flag(flags, assumed, "time_zone_assumed_utc")
    t = frames["video_time_s"].to_numpy("float64")
    poses = pd.DataFrame(
        {
            CAPTURE_ID: [f"{label}@{s:.3f}s" for s in t],
            PATH: str(path),
            CAPTURE_KIND: "video_frame",
            TIME_UTC: frames[TIME_UTC].astype(TIME_DTYPE).array,
            FLIGHT_ID: None,
            CAM_LON: frames[CAM_LON].to_numpy("float64"),
            CAM_LAT: frames[CAM_LAT].to_numpy("float64"),
            ALT_AGL_M: frames[ALT_AGL_M].to_numpy("float64"),
            YAW_DEG: frames[YAW_DEG].to_numpy("float64"),
            PITCH_DEG: frames[PITCH_DEG].to_numpy("float64"),
            ROLL_DEG: frames[ROLL_DEG].to_numpy("float64"),
            FLAGS: flags,
            ALT_REF: ALT_REF_TAKEOFF,
            "cam_reverse": False,
        }
    )
    cams = {f: _video_camera(f, size) for f in np.unique(focal35)}
    cameras = [cams[f] for f in focal35]
    notes = list(info.get("notes", [])) + list(info.get("warnings", []))
    missing_height = ~np.isfinite(poses[ALT_AGL_M].to_numpy())
    if missing_height.any():
        notes.append(f"{int(missing_height.sum())} frame(s) without a height left out")
        keep = ~missing_height
        poses = poses[keep].reset_index(drop=True)
        cameras = [c for c, k in zip(cameras, keep, strict=True) if k]
    return poses, cameras, notes


def captures_from_poses(
    poses: pd.DataFrame,
    cameras: Camera | Sequence[Camera],
    *,
    dem: str | os.PathLike[str] | Dem | None = None,
    densify: int = 16,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
) -> gpd.GeoDataFrame:
    """Ground footprints of captures from their poses, over flat ground or a DEM.

    Parameters
    ----------
    poses
        One row per capture with the columns of :data:`POSE_COLUMNS`: ``capture_id``,
        ``path``, ``kind``, ``time_utc``, ``flight_id``, ``cam_lon``, ``cam_lat``,
        ``alt_agl_m`` (height of the camera above the ground plane, m), ``yaw_deg``
        (NaN: unknown), ``pitch_deg``, ``roll_deg``, ``flags`` and ``alt_ref``; an
        optional boolean ``cam_reverse``.
    cameras
        One camera for all captures, or one per capture.
    dem
        A DEM or DSM (GeoTIFF path or open :class:`geoexpose.imagery.dem.Dem`) to march the rays
        into. The camera's height in the DEM's datum is found by
        :func:`geoexpose.imagery.dem.camera_elevation` from ``alt_agl_m`` (above take-off) and,
        where the poses have them, ``takeoff_lon``/``takeoff_lat``, ``abs_alt_m`` and
        ``abs_alt_ref``; ``alt_agl_m`` then becomes the height above the DEM under the
        camera (``alt_ref`` ``ground``). Captures whose height it cannot find keep a flat
        footprint, flagged ``elevation_unknown``.
    densify, max_range_m, min_depression_deg
        As for :func:`geoexpose.imagery.footprints.footprints`.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`geoexpose.schema.CAPTURE_COLUMNS` then
        :data:`CAPTURE_EXTRA_COLUMNS`; geometry the footprint, EPSG:4326. Heights under
        1 m are taken as 1 m and flagged ``height_clamped``.
    """
    missing = [c for c in POSE_COLUMNS if c not in poses]
    if missing:
        raise InputError(f"poses: missing columns {', '.join(missing)}")
    n = len(poses)
    cams = [cameras] * n if isinstance(cameras, Camera) else list(cameras)
    if len(cams) != n:
        raise InputError(f"poses: {len(cams)} cameras given for {n} captures")
    height = pd.to_numeric(poses[ALT_AGL_M], errors="coerce").to_numpy("float64")
    low = height < MIN_HEIGHT_M
    flags = add_flag(poses[FLAGS].fillna("").to_numpy(dtype=object), low, "height_clamped")
    reverse = poses["cam_reverse"].to_numpy(bool) if "cam_reverse" in poses else None
    lon = poses[CAM_LON].to_numpy("float64")
    lat = poses[CAM_LAT].to_numpy("float64")
    yaw, pitch, roll = (poses[c].to_numpy("float64") for c in (YAW_DEG, PITCH_DEG, ROLL_DEG))
    polygons, gsd = np.empty(n, dtype=object), np.full(n, np.nan)
    fp_flags = np.full(n, "", dtype=object)
    alt_ref = poses[ALT_REF].to_numpy(dtype=object).copy()
    on_dem = np.zeros(n, dtype=bool)
    if dem is not None and n:

        def column(name: str) -> np.ndarray | None:
            return poses[name].to_numpy() if name in poses else None

        elev, dem_flags = camera_elevation(
            dem,
            lon,
            lat,
            height,
            takeoff_lon=column("takeoff_lon"),
            takeoff_lat=column("takeoff_lat"),
            abs_alt_m=column("abs_alt_m"),
            abs_alt_ref=column("abs_alt_ref"),
        )
        flags = join_flags(flags, dem_flags)
        on_dem = np.isfinite(elev)
        if on_dem.any():
            sel = np.flatnonzero(on_dem)
            polygons[sel], gsd[sel], fp_flags[sel] = footprints_on_dem(
                lon[sel],
                lat[sel],
                elev[sel],
                yaw[sel],
                pitch[sel],
                roll[sel],
                [cams[i] for i in sel],
                dem,
                cam_reverse=None if reverse is None else reverse[sel],
                densify=densify,
                max_range_m=max_range_m,
                min_depression_deg=min_depression_deg,
            )
            # heights become heights above the ground under the camera
            height = height.copy()
            height[sel] = elev[sel] - ground_elevation(dem, lon[sel], lat[sel])
            alt_ref[sel] = ALT_REF_GROUND
    flat = np.flatnonzero(~on_dem)
    if len(flat):
        polygons[flat], gsd[flat], fp_flags[flat] = footprints(
            lon[flat],
            lat[flat],
            np.where(low, MIN_HEIGHT_M, height)[flat],
            yaw[flat],
            pitch[flat],
            roll[flat],
            [cams[i] for i in flat],
            cam_reverse=None if reverse is None else reverse[flat],
            densify=densify,
            max_range_m=max_range_m,
            min_depression_deg=min_depression_deg,
        )
    flags = join_flags(flags, fp_flags)
    source = np.array([c.source for c in cams], dtype=object)
    frame = poses[[c for c in POSE_COLUMNS if c not in (FLAGS, ALT_REF)]].copy()
    frame[FLIGHT_ID] = frame[FLIGHT_ID].astype(object)
    frame[ALT_AGL_M] = height
    frame[GSD_CM] = gsd
    frame[FLAGS] = flags
    frame[ALT_REF] = alt_ref
    frame[INTRINSICS] = np.where(source == "calibrated", "calibrated", source)
    frame[FOCAL_PX] = [c.focal_px for c in cams]
    frame[IMAGE_WIDTH_PX] = [c.width_px for c in cams]
    frame[IMAGE_HEIGHT_PX] = [c.height_px for c in cams]
    frame[CX_PX] = [c.cx_px for c in cams]
    frame[CY_PX] = [c.cy_px for c in cams]
    intrinsic_flags = {"focal_35mm": "intrinsics_from_35mm", "table": "intrinsics_from_table"}
    for name, word in intrinsic_flags.items():
        frame[FLAGS] = add_flag(frame[FLAGS].to_numpy(dtype=object), source == name, word)
    geometry = gpd.GeoSeries(polygons, crs=CRS_LONLAT, index=frame.index)
    out = gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS_LONLAT)
    return out[CAPTURE_COLUMNS + CAPTURE_EXTRA_COLUMNS]


#: The camera taken for a log trigger whose aircraft is not known: 4000 x 3000 pixels
#: behind a 24 mm-equivalent lens (DJI's usual wide camera), flagged.
TRIGGER_CAMERA = Camera(4000, 3000, 24.0 * 5000.0 / DIAGONAL_35MM_MM, 2000.0, 1500.0)


def captures_from_triggers(
    poses: pd.DataFrame,
    *,
    dem: str | os.PathLike[str] | Dem | None = None,
    densify: int = 16,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
) -> gpd.GeoDataFrame:
    """Ground footprints of the photo triggers of flight logs.

    Parameters
    ----------
    poses
        From :func:`geoexpose.read_trigger_poses`. The camera is the one of the table
        shipped with geoexpose for ``camera_model`` at its full size; without a known
        model a 4000 x 3000 px camera with a 24 mm-equivalent lens, flagged
        ``intrinsics_assumed``.
    dem, densify, max_range_m, min_depression_deg
        As for :func:`captures_from_poses`.
    """
    models = poses["camera_model"].fillna("").astype(str) if "camera_model" in poses else None
    cameras, assumed = [], np.zeros(len(poses), dtype=bool)
    found: dict[str, Camera | None] = {}
    for i, model in enumerate(models if models is not None else [""] * len(poses)):
        if model not in found:
            rows = [r for r in camera_table() if r["model"].casefold() == model.casefold()]
            tags = {"model": model, **({} if not rows else rows[0])}
            try:
                found[model] = camera_from_tags(tags) if rows else None
            except InputError:
                found[model] = None
        cam = found[model]
        assumed[i] = cam is None
        cameras.append(cam if cam is not None else TRIGGER_CAMERA)
    poses = poses.assign(**{FLAGS: add_flag(poses[FLAGS].fillna("").to_numpy(), assumed,
                                             "intrinsics_assumed")})  # fmt: skip
    return captures_from_poses(
        poses,
        cameras,
        dem=dem,
        densify=densify,
        max_range_m=max_range_m,
        min_depression_deg=min_depression_deg,
    )


def _entry(path: Path) -> dict[str, Any]:
    return {"path": str(path), "format": "unknown", "status": "skipped", "reason": None,
            "captures": 0, "notes": []}  # fmt: skip


def empty_captures() -> gpd.GeoDataFrame:
    """Return an empty frame of the captures schema."""
    numbers = (CAM_LON, CAM_LAT, ALT_AGL_M, YAW_DEG, PITCH_DEG, ROLL_DEG)
    dtypes = {TIME_UTC: TIME_DTYPE, **dict.fromkeys(numbers, "float64")}
    return captures_from_poses(
        pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in POSE_COLUMNS}), []
    )


def read_captures(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    dem: str | os.PathLike[str] | None = None,
    every_s: float = 1.0,
    time_zone: str | None = None,
    video_size: tuple[int, int] | None = None,
    densify: int = 16,
    max_range_m: float = 1000.0,
    min_depression_deg: float = 2.0,
    strict: bool = False,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Read photos, video telemetry and orthomosaics: one row per capture, with its footprint.

    Parameters
    ----------
    paths
        A file or folder, or an iterable of them. Folders are walked for ``.jpg``,
        ``.jpeg``, ``.tif``, ``.tiff``, ``.dng`` and ``.srt`` files (hidden ones left out).
        Each file's kind comes from its content: a photo, DJI video telemetry, or a
        georeferenced GeoTIFF, which is an orthomosaic (one capture: its valid-data
        area, at its pixel size; see :func:`geoexpose.imagery.orthomosaic.read_orthomosaic`)
        unless it holds one band of elevations (then it is skipped: pass it as ``dem``).
    dem
        A digital elevation or surface model (GeoTIFF; needs ``geoexpose[raster]``) to
        march the rays into, instead of the flat ground level with the take-off point.
        See :func:`captures_from_poses` for how the camera's height on it is found.
    every_s
        Video: keep one frame per this many seconds of video (0: every telemetry block).
    time_zone
        IANA zone of camera clocks that write no offset. Without it such times are taken
        as UTC, flagged ``time_zone_assumed_utc``.
    video_size
        ``(width, height)`` of the videos in pixels; default 3840 x 2160, flagged
        ``frame_size_assumed`` (it sets the GSD, not the footprint).
    densify, max_range_m, min_depression_deg
        As for :func:`geoexpose.imagery.footprints.footprints`.
    strict
        Raise :class:`InputError` for a file that cannot be read, instead of warning
        and skipping it.
    progress
        Show a progress bar over the files on a terminal.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns :data:`geoexpose.schema.CAPTURE_COLUMNS` (``flight_id`` empty: it is
        matched by time in :func:`geoexpose.expose`) then :data:`CAPTURE_EXTRA_COLUMNS`;
        ``attrs["geoexpose"]["files"]`` has one entry per file: ``path``, ``format``,
        ``status``, ``reason``, ``captures``, ``notes``.
    """
    if not np.isfinite(every_s) or every_s < 0:
        raise UsageError(f"every_s={every_s!r}: expected a number of seconds >= 0")
    try:
        check_time_zone(time_zone)
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    files = expand_paths(paths, CAPTURE_SUFFIXES)
    labels = dict(zip(files, file_labels(files), strict=True))
    entries = {path: _entry(path) for path in files}

    def skip(path: Path, reason: str, exc: Exception | None = None) -> None:
        reason = " ".join(reason.split())
        entries[path]["reason"] = reason
        message = reason if reason.startswith(str(path)) else f"{path}: {reason}"
        if strict:
            raise InputError(message) from exc
        warnings.warn(InputWarning(message), stacklevel=3)

    photos: list[Path] = []
    orthos: list[gpd.GeoDataFrame] = []
    parts: list[tuple[pd.DataFrame, list[Camera]]] = []
    for path in tqdm(files, desc="captures", unit="file", disable=None if progress else True):
        try:
            kind = _kind_of(path)
        except (InputError, OSError) as exc:
            skip(path, str(exc) if isinstance(exc, InputError) else f"cannot read ({exc})", exc)
            continue
        entries[path]["format"] = kind
        if kind == "photo":
            photos.append(path)
        elif kind == "elevation":
            skip(path, "an elevation model, not imagery (give it as the DEM: --dem, dem=)")
        elif kind == "orthomosaic":
            try:
                ortho = read_orthomosaic(path, time_zone=time_zone)
                orthos.append(ortho.assign(**{CAPTURE_ID: labels[path]}))  # unique names
            except (InputError, UsageError) as exc:
                skip(path, str(exc), exc)
                continue
            entries[path].update(status="read", captures=1)
        else:
            try:
                poses, cams, notes = _srt_poses(
                    path, labels[path], every_s=every_s, time_zone=time_zone,
                    video_size=video_size,
                )  # fmt: skip
            except InputError as exc:
                skip(path, str(exc), exc)
                continue
            entries[path].update(status="read", captures=len(poses), notes=notes)
            parts.append((poses, cams))

    if photos:
        tags = photo_tags_table(photos)
        poses, cams, reasons = _photo_poses(tags, [labels[p] for p in photos], time_zone)
        ok = np.array([r is None for r in reasons], dtype=bool)
        for path, reason in zip(photos, reasons, strict=True):
            if reason is None:
                entries[path].update(status="read", captures=1)
            else:
                skip(path, reason)
        if ok.any():
            parts.append(
                (poses[ok].reset_index(drop=True), [c for c, k in zip(cams, ok, strict=True) if k])
            )
        if (assumed := poses[FLAGS].str.contains("time_zone_assumed_utc")[ok]).any():
            warnings.warn(
                InputWarning(
                    f"{int(assumed.sum())} photo(s) write local times without a zone; "
                    "taken as UTC (pass time_zone=)"
                ),
                stacklevel=2,
            )

    if parts:
        poses = pd.concat([p for p, _ in parts], ignore_index=True)
        cams_all = [c for _, cs in parts for c in cs]
        opened = None if dem is None else open_dem(dem)
        try:
            out = captures_from_poses(
                poses, cams_all, dem=opened, densify=densify, max_range_m=max_range_m,
                min_depression_deg=min_depression_deg,
            )  # fmt: skip
        finally:
            if opened is not None:
                opened.close()
        out = out.sort_values([TIME_UTC, CAPTURE_ID], kind="stable", ignore_index=True)
    else:
        out = empty_captures()
    if orthos:
        out = pd.concat([out, *orthos], ignore_index=True)
        out = out.sort_values([TIME_UTC, CAPTURE_ID], kind="stable", ignore_index=True)
    out.attrs["geoexpose"] = {"files": list(entries.values())}
    logger.info("captures: %d from %d files", len(out), len(files))
    return out
