"""Imagery: photos, video frames and orthomosaics read into ground footprints.

:func:`read_captures` (:mod:`~geoexpose.imagery.read`) reads each image's position, pose
and intrinsics (:mod:`~geoexpose.imagery.photo_tags`, :mod:`~geoexpose.imagery.camera`,
:mod:`~geoexpose.imagery.capture_poses`) and projects its frame onto the ground
(:mod:`~geoexpose.imagery.footprints`, or into an elevation model with
:mod:`~geoexpose.imagery.dem`); :func:`captures_from_poses`
(:mod:`~geoexpose.imagery.captures`) does the last step for poses from any source, such
as the photo triggers of a log. :func:`imaging_footprints`
(:mod:`~geoexpose.imagery.resolution`) keeps the part of a footprint finer than a GSD,
and :func:`niirs_from_gsd` (:mod:`~geoexpose.imagery.niirs`) rates a GSD on the NIIRS.
"""

from geoexpose.imagery._raster import Dem, open_dem, require_rasterio
from geoexpose.imagery.camera import Camera, camera_from_tags, camera_table
from geoexpose.imagery.captures import (
    CAPTURE_EXTRA_COLUMNS,
    POSE_COLUMNS,
    captures_from_poses,
    captures_from_triggers,
    empty_captures,
)
from geoexpose.imagery.footprints import footprints
from geoexpose.imagery.gsd import gsd_at_ground
from geoexpose.imagery.niirs import NIIRS_TIERS, niirs_from_gsd, niirs_tier
from geoexpose.imagery.orthomosaic import read_orthomosaic, sniff_geotiff
from geoexpose.imagery.photo_tags import PhotoTags, read_photo_tags
from geoexpose.imagery.read import CAPTURE_SUFFIXES, IMAGE_SUFFIXES, read_captures
from geoexpose.imagery.resolution import gm_gsd_cm, imaging_footprints, optical_axes

__all__ = [
    "CAPTURE_EXTRA_COLUMNS",
    "CAPTURE_SUFFIXES",
    "IMAGE_SUFFIXES",
    "NIIRS_TIERS",
    "POSE_COLUMNS",
    "Camera",
    "Dem",
    "PhotoTags",
    "camera_from_tags",
    "camera_table",
    "captures_from_poses",
    "captures_from_triggers",
    "empty_captures",
    "footprints",
    "gm_gsd_cm",
    "gsd_at_ground",
    "imaging_footprints",
    "niirs_from_gsd",
    "niirs_tier",
    "open_dem",
    "optical_axes",
    "read_captures",
    "read_orthomosaic",
    "read_photo_tags",
    "require_rasterio",
    "sniff_geotiff",
]
