"""Demo inputs that geoexpose makes itself: a synthetic town, its sites and three flights.

Nothing here is real. The town of Brenmoor is placed at 52.0 N, 35.0 W, in the open
North Atlantic where no town exists, so that its made-up military depot can never be
mistaken for a real one. Sites are drawn in metres east and north of the town centre
in geoexpose's metric band (:mod:`geoexpose.projection`) and written as a GeoJSON in
EPSG:4326; flights are written as AirData UAV CSV exports (imperial units, 10 Hz).
The output is the same, byte for byte, on every run.
"""

from geoexpose.demo.inputs import DemoInputs, make_demo_inputs

__all__ = ["DemoInputs", "make_demo_inputs"]
