"""geoexpose: what drone flights and photos exposed of sensitive sites.

Read site layers and flight tracks, intersect them, and report per site how long
drones were there, how close and how low they came, and an exposure score.

>>> import geoexpose as gx
>>> gx.__version__ >= "0.1"
True
"""

import logging

__version__ = "0.1.0"

from geoexpose.errors import (  # noqa: E402
    GeoexposeError,
    GeoexposeWarning,
    InputError,
    InputWarning,
    OutputExistsError,
    UsageError,
)

__all__ = [
    "GeoexposeError",
    "GeoexposeWarning",
    "InputError",
    "InputWarning",
    "OutputExistsError",
    "UsageError",
    "__version__",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
