"""Captures from poses: each pose's footprint on the ground, one row of the captures table.

:func:`captures_from_poses` projects the image of each pose onto the ground
(:mod:`geoexpose.imagery.footprints`, or into an elevation model with
:mod:`geoexpose.imagery.dem`), whatever the poses come from: photos and video frames
(:mod:`geoexpose.imagery.capture_poses`) or the photo triggers of a flight log
(:func:`captures_from_triggers`). A camera less than 1 m above the ground is put at 1 m
(``height_clamped``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose._flags import add_flag, join_flags
from geoexpose.errors import InputError
from geoexpose.imagery._raster import Dem
from geoexpose.imagery.camera import DIAGONAL_35MM_MM, Camera, camera_from_tags, camera_table
from geoexpose.imagery.dem import footprints_on_dem
from geoexpose.imagery.elevation import camera_elevation, ground_elevation
from geoexpose.imagery.footprints import footprints
from geoexpose.schema import (
    AIRCRAFT_ID,
    AIRCRAFT_ID_SOURCE,
    ALT_AGL_M,
    ALT_REF,
    ALT_REF_GROUND,
    CAM_LAT,
    CAM_LON,
    CAPTURE_COLUMNS,
    CRS_LONLAT,
    CX_PX,
    CY_PX,
    FLAGS,
    FLIGHT_ID,
    FOCAL_PX,
    GSD_CM,
    IDENTITY_COLUMNS,
    IMAGE_HEIGHT_PX,
    IMAGE_WIDTH_PX,
    INTRINSICS,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)

__all__ = [
    "CAPTURE_EXTRA_COLUMNS",
    "POSE_COLUMNS",
    "TRIGGER_CAMERA",
    "captures_from_poses",
    "captures_from_triggers",
    "empty_captures",
]

#: Columns after :data:`geoexpose.schema.CAPTURE_COLUMNS`: what the height is measured
#: from, and the pinhole intrinsics the footprint was made with (``intrinsics`` names
#: their source, see :mod:`geoexpose.imagery.camera`), and the aircraft: ``aircraft_id``,
#: ``aircraft_model``, ``operator_id`` as the poses give them (missing where they do not)
#: and ``aircraft_id_source`` (``photo`` where the capture's own tags gave the id).
CAPTURE_EXTRA_COLUMNS = [
    ALT_REF,
    INTRINSICS,
    FOCAL_PX,
    IMAGE_WIDTH_PX,
    IMAGE_HEIGHT_PX,
    CX_PX,
    CY_PX,
    *IDENTITY_COLUMNS,
    AIRCRAFT_ID_SOURCE,
]
#: What :func:`captures_from_poses` needs, one row per capture.
POSE_COLUMNS = [c for c in CAPTURE_COLUMNS if c not in (GSD_CM, "geometry")] + [ALT_REF]

MIN_HEIGHT_M = 1.0
FLAT_DENSIFY = 16  # points per image edge over flat ground with densify=None


def captures_from_poses(
    poses: pd.DataFrame,
    cameras: Camera | Sequence[Camera],
    *,
    dem: str | os.PathLike[str] | Dem | None = None,
    densify: int | None = None,
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
        optional boolean ``cam_reverse``; optional ``aircraft_id``, ``aircraft_model``,
        ``operator_id``.
    cameras
        One camera for all captures, or one per capture.
    dem
        A DEM or DSM (GeoTIFF path or open :class:`geoexpose.imagery.dem.Dem`) to march the
        rays into. The camera's height in the DEM's datum is found by
        :func:`geoexpose.imagery.elevation.camera_elevation` from ``alt_agl_m`` (above
        take-off) and, where the poses have them, ``takeoff_lon``/``takeoff_lat``, ``abs_alt_m`` and
        ``abs_alt_ref``; ``alt_agl_m`` then becomes the height above the DEM under the
        camera (``alt_ref`` ``ground``). Captures whose height it cannot find keep a flat
        footprint, flagged ``elevation_unknown``.
    densify
        Points per image edge. ``None`` (the default): 16 over flat ground; on a DEM as
        many as keep the footprint's vertices about two DEM cells apart on the ground,
        16 to 128 (see :func:`geoexpose.imagery.dem.footprints_on_dem`).
    max_range_m, min_depression_deg
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
            densify=FLAT_DENSIFY if densify is None else densify,
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
    for name in IDENTITY_COLUMNS:
        frame[name] = poses[name].astype(object) if name in poses else None
    known = frame[AIRCRAFT_ID].notna().to_numpy()
    frame[AIRCRAFT_ID_SOURCE] = pd.Series("photo", frame.index, dtype=object).where(known, None)
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
    densify: int | None = None,
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


def empty_captures() -> gpd.GeoDataFrame:
    """Return an empty frame of the captures schema."""
    numbers = (CAM_LON, CAM_LAT, ALT_AGL_M, YAW_DEG, PITCH_DEG, ROLL_DEG)
    dtypes = {TIME_UTC: TIME_DTYPE, **dict.fromkeys(numbers, "float64")}
    return captures_from_poses(
        pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in POSE_COLUMNS}), []
    )
