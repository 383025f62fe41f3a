"""geoexpose: what drone flights and photos exposed of sensitive sites.

Read site layers and flight tracks, intersect them, and report per site how long
drones were there, how close and how low they came, and an exposure score.

>>> import geoexpose as gx
>>> sorted(gx.load_catalog())
['military', 'power', 'rail', 'water']
"""

import logging

__version__ = "0.1.0"

from geoexpose.camera import Camera, camera_from_tags
from geoexpose.catalog import default_standoff, load_catalog
from geoexpose.demo import DemoInputs, make_demo_inputs
from geoexpose.errors import (
    GeoexposeError,
    GeoexposeWarning,
    InputError,
    InputWarning,
    OutputExistsError,
    UsageError,
)
from geoexpose.exposure import ExposureResult, expose
from geoexpose.maps import explore, write_map
from geoexpose.outputs import OUTPUT_FILES, check_outputs, write_outputs
from geoexpose.photo_tags import PhotoTags, read_photo_tags
from geoexpose.score import exposure_score
from geoexpose.sites import read_sites
from geoexpose.tracks import read_tracks

__all__ = [
    "OUTPUT_FILES",
    "Camera",
    "DemoInputs",
    "ExposureResult",
    "GeoexposeError",
    "GeoexposeWarning",
    "InputError",
    "InputWarning",
    "OutputExistsError",
    "PhotoTags",
    "UsageError",
    "__version__",
    "camera_from_tags",
    "check_outputs",
    "default_standoff",
    "explore",
    "expose",
    "exposure_score",
    "load_catalog",
    "make_demo_inputs",
    "read_photo_tags",
    "read_sites",
    "read_tracks",
    "write_map",
    "write_outputs",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
