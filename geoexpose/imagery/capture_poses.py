"""Capture poses: where each photo and video frame was taken from, and how the camera pointed.

:func:`photo_poses` makes them from the table of the photos' tags
(:mod:`geoexpose.imagery.photo_tags`, the camera from :mod:`geoexpose.imagery.camera`),
:func:`srt_poses` from the sampled frames of DJI video telemetry
(:func:`geoexpose.tracks.srt_frames`); :func:`geoexpose.imagery.captures.captures_from_poses`
then projects them onto the ground.

How the pose of a photo is chosen, and the flags that say so:

- the gimbal's yaw, pitch and roll (true north, no declination added);
- without gimbal yaw, the aircraft's yaw: ``pose_from_flight_attitude``;
- without gimbal pitch, nadir: ``pose_nadir_assumed``;
- a broken attitude, all three gimbal angles exactly 0, or a gimbal yaw of exactly 0 on
  every photo of a folder of several: ``attitude_broken`` and a yaw-free footprint
  (``yaw_unknown``); an all-zero attitude is also taken as nadir (``pose_nadir_assumed``);
- an XMP packet read only after its undefined entities were taken as text:
  ``xmp_repaired``; one that could not be read (the EXIF position used):
  ``xmp_unreadable``.

The camera's height above the ground plane is ``RelativeAltitude``, the height above the
take-off point (``alt_ref`` is ``takeoff``): right over flat ground level with the
take-off point. A camera less than 1 m above it is put at 1 m (``height_clamped``).
Times without a zone are read in ``time_zone``, else taken as UTC
(``time_zone_assumed_utc``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geoexpose._flags import add_flag
from geoexpose.errors import InputError
from geoexpose.imagery.camera import DIAGONAL_35MM_MM, Camera, camera_from_tags
from geoexpose.imagery.elevation import dji_altitude_reference
from geoexpose.imagery.photo_tags import PROBLEM, photo_identity
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_REF,
    ALT_REF_TAKEOFF,
    CAM_LAT,
    CAM_LON,
    CAPTURE_ID,
    CAPTURE_KIND,
    FLAGS,
    FLIGHT_ID,
    PATH,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)
from geoexpose.tracks import srt_frames

__all__ = ["VIDEO_FOCAL35_MM", "VIDEO_SIZE_PX", "photo_poses", "srt_poses"]

#: Frame size taken for a video whose size is not known.
VIDEO_SIZE_PX = (3840, 2160)
#: 35 mm-equivalent focal length taken where a video's telemetry has none (DJI's wide).
VIDEO_FOCAL35_MM = 24.0


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


def photo_poses(
    tags: pd.DataFrame, labels: list[str], time_zone: str | None
) -> tuple[pd.DataFrame, list[Camera | None], list[str | None]]:
    """Poses, cameras and skip reasons of photos, from the table of their tags.

    Parameters
    ----------
    tags
        From :func:`geoexpose.imagery.photo_tags.photo_tags_table`, one row per photo.
    labels
        The capture id of each photo.
    time_zone
        IANA zone of camera clocks that write no offset; ``None``: UTC, flagged.

    Returns
    -------
    poses : pandas.DataFrame
        One row per photo, the columns of :data:`geoexpose.imagery.captures.POSE_COLUMNS`
        and ``cam_reverse``, ``abs_alt_m``, ``abs_alt_ref``.
    cameras : list of Camera or None
        Each photo's camera; ``None`` where it cannot be found.
    reasons : list of str or None
        Why a photo cannot be used (then it is skipped); ``None`` where it can.
    """
    n = len(tags)
    num = {c: pd.to_numeric(tags[c], errors="coerce").to_numpy("float64") for c in tags
           if c not in (PATH, PROBLEM, "time_original") and tags[c].dtype.kind == "f"}  # fmt: skip
    reasons: list[str | None] = list(tags[PROBLEM])
    cameras: list[Camera | None] = [None] * n
    records = tags.to_dict("records")
    xmp_notes = (
        tags["xmp_note"].fillna("").astype(str).to_numpy(dtype=object)
        if "xmp_note" in tags
        else np.full(n, "", dtype=object)
    )
    for i, record in enumerate(records):
        if reasons[i] is not None:
            continue
        try:
            cameras[i] = camera_from_tags(record, path=record[PATH])
        except InputError as exc:
            note = f" ({xmp_notes[i]})" if xmp_notes[i] else ""
            reasons[i] = " ".join(str(exc).split()) + note

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
        if reasons[i] is not None and xmp_notes[i]:
            reasons[i] = f"{reasons[i]} ({xmp_notes[i]})"

    flags = np.full(n, "", dtype=object)
    flags = add_flag(
        flags, np.char.startswith(xmp_notes.astype(str), "XMP repaired"), "xmp_repaired"
    )
    unreadable = np.char.startswith(xmp_notes.astype(str), "XMP unreadable")
    flags = add_flag(flags, unreadable, "xmp_unreadable")
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
    poses = poses.join(photo_identity(tags).set_axis(poses.index))  # aircraft_id, _model
    return poses, cameras, reasons


def _video_camera(focal35_mm: float, size: tuple[int, int]) -> Camera:
    """Pinhole camera of a video frame of ``size`` pixels behind a 35 mm-equivalent lens."""
    w, h = size
    focal_px = focal35_mm * np.hypot(w, h) / DIAGONAL_35MM_MM
    return Camera(w, h, float(focal_px), w / 2, h / 2, source="focal_35mm")


def srt_poses(
    path: Path,
    label: str,
    *,
    every_s: float,
    time_zone: str | None,
    video_size: tuple[int, int] | None,
) -> tuple[pd.DataFrame, list[Camera], list[str]]:
    """Poses and cameras of the sampled frames of one telemetry file.

    Parameters
    ----------
    path
        A DJI video telemetry (``.SRT``) file.
    label
        The file's capture id; each frame's is ``label@<seconds into the video>s``.
    every_s
        Keep one frame per this many seconds of video (0: every telemetry block).
    time_zone
        IANA zone of the telemetry's times; ``None``: UTC, flagged.
    video_size
        ``(width, height)`` of the video in pixels; ``None``: :data:`VIDEO_SIZE_PX`,
        flagged ``frame_size_assumed``.

    Returns
    -------
    poses : pandas.DataFrame
        One row per frame with a height, the columns of
        :data:`geoexpose.imagery.captures.POSE_COLUMNS` and ``cam_reverse``.
    cameras : list of Camera
        Each frame's camera: the telemetry's 35 mm-equivalent focal length times its
        digital zoom (:data:`VIDEO_FOCAL35_MM` where it writes none, flagged
        ``intrinsics_assumed``).
    notes : list of str
        What the reader noted about the file, and frames left out.
    """
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
