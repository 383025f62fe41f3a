"""geoexpose: what drone flights and photos exposed of sensitive sites.

Read site layers and flight tracks, intersect them, and report per site how long
drones were there, how close and how low they came, and an exposure score.

>>> import geoexpose as gx
>>> sorted(gx.load_catalog())
['emergency', 'hazmat', 'military', 'power', 'rail', 'transport', 'water']
"""

import logging

from geoexpose._version import __version__
from geoexpose.audit import AuditResult, Policy, audit, read_authorized, read_policy, scrub
from geoexpose.demo import DemoInputs, make_demo_inputs
from geoexpose.errors import (
    GeoexposeError,
    GeoexposeWarning,
    InputError,
    InputWarning,
    OutputExistsError,
    UsageError,
)
from geoexpose.exposure import (
    ExposureResult,
    PreparedSites,
    expose,
    exposure_score,
    prepare_sites,
)
from geoexpose.imagery import (
    Camera,
    PhotoTags,
    camera_from_tags,
    captures_from_poses,
    captures_from_triggers,
    read_captures,
    read_photo_tags,
)
from geoexpose.inspect import inspect_file
from geoexpose.maps import explore, write_map
from geoexpose.outputs import OUTPUT_FILES, check_outputs, write_outputs
from geoexpose.reading import ScanInputs, read_inputs, read_site_layers
from geoexpose.report import write_report
from geoexpose.scale import StreamResult, TrackFiles, expose_stream, geoparquet
from geoexpose.scan import ScanResult, scan
from geoexpose.sites import (
    default_standoff,
    extract_sites,
    load_catalog,
    read_osm,
    read_registry,
    read_sites,
)
from geoexpose.store import Store
from geoexpose.tracks import read_routes, read_tracks, read_trigger_poses

__all__ = [
    "OUTPUT_FILES",
    "AuditResult",
    "Camera",
    "DemoInputs",
    "ExposureResult",
    "GeoexposeError",
    "GeoexposeWarning",
    "InputError",
    "InputWarning",
    "OutputExistsError",
    "PhotoTags",
    "Policy",
    "PreparedSites",
    "ScanInputs",
    "ScanResult",
    "Store",
    "StreamResult",
    "TrackFiles",
    "UsageError",
    "__version__",
    "audit",
    "camera_from_tags",
    "captures_from_poses",
    "captures_from_triggers",
    "check_outputs",
    "default_standoff",
    "explore",
    "expose",
    "expose_stream",
    "exposure_score",
    "extract_sites",
    "geoparquet",
    "inspect_file",
    "load_catalog",
    "make_demo_inputs",
    "prepare_sites",
    "read_authorized",
    "read_captures",
    "read_inputs",
    "read_osm",
    "read_photo_tags",
    "read_policy",
    "read_registry",
    "read_routes",
    "read_site_layers",
    "read_sites",
    "read_tracks",
    "read_trigger_poses",
    "scan",
    "scrub",
    "write_map",
    "write_outputs",
    "write_report",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
