"""Imagery: photos, video frames and orthomosaics read into ground footprints.

:func:`read_captures` reads each image's position, pose and intrinsics
(:mod:`~geoexpose.imagery.photo_tags`, :mod:`~geoexpose.imagery.camera`) and projects
its frame onto the ground (:mod:`~geoexpose.imagery.footprints`, or into an
elevation model with :mod:`~geoexpose.imagery.dem`); :func:`captures_from_poses` does
the last step for poses from any source, such as the photo triggers of a log.
"""

from geoexpose.imagery._raster import Dem, open_dem, require_rasterio
from geoexpose.imagery.camera import Camera, camera_from_tags, camera_table
from geoexpose.imagery.captures import (
    CAPTURE_SUFFIXES,
    captures_from_poses,
    captures_from_triggers,
    empty_captures,
    read_captures,
)
from geoexpose.imagery.footprints import footprints, gsd_at_ground
from geoexpose.imagery.orthomosaic import read_orthomosaic, sniff_geotiff
from geoexpose.imagery.photo_tags import PhotoTags, read_photo_tags

__all__ = [
    "CAPTURE_SUFFIXES",
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
