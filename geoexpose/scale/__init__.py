"""Scale: exposure of more fixes than fit in memory, batch by batch, here or on Dask.

:func:`expose_stream` gives the answer of :func:`geoexpose.expose` holding only a
batch or two of whole flights at a time; :mod:`~geoexpose.scale.geoparquet` reads and
writes fixes, captures and results as GeoParquet partitioned by flight.
"""

from geoexpose.scale import geoparquet
from geoexpose.scale._merge import combine_footprints, combine_pairs
from geoexpose.scale.stream import ENGINES, StreamResult, TrackFiles, expose_stream

__all__ = [
    "ENGINES",
    "StreamResult",
    "TrackFiles",
    "combine_footprints",
    "combine_pairs",
    "expose_stream",
    "geoparquet",
]
