"""Imagery: photos, video frames and orthomosaics read into ground footprints.

:func:`read_captures` (:mod:`~geoexpose.imagery.read`) reads each image's position, pose
and intrinsics (:mod:`~geoexpose.imagery.photo_tags`, :mod:`~geoexpose.imagery.camera`,
:mod:`~geoexpose.imagery.capture_poses`) and projects its frame onto the ground
(:mod:`~geoexpose.imagery.footprints`, or into an elevation model with
:mod:`~geoexpose.imagery.dem`); :func:`captures_from_poses`
(:mod:`~geoexpose.imagery.captures`) does the last step for poses from any source, such
as the photo triggers of a log.
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
from geoexpose.imagery.orthomosaic import read_orthomosaic, sniff_geotiff
from geoexpose.imagery.photo_tags import PhotoTags, read_photo_tags
from geoexpose.imagery.read import CAPTURE_SUFFIXES, IMAGE_SUFFIXES, read_captures

__all__ = [
    "CAPTURE_EXTRA_COLUMNS",
    "CAPTURE_SUFFIXES",
    "IMAGE_SUFFIXES",
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
    "gsd_at_ground",
    "open_dem",
    "read_captures",
    "read_orthomosaic",
    "read_photo_tags",
    "require_rasterio",
    "sniff_geotiff",
]
