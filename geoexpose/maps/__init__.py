"""Maps: self-contained interactive HTML maps of sites, flights, captures and exposure.

:func:`explore` draws the overview, :func:`explore_site` one site; :func:`write_map`,
:func:`write_maps` and :func:`rebuild_maps` write them as single HTML files that
load nothing, with site maps for the most exposed sites (:func:`pick_site_maps`, up
to ``SITE_MAPS_CAP`` by default). The maps draw tables of the schema (sites,
flights, fixes, captures, exposure columns), whatever made them. An overview of
more than ``OVERVIEW_SITES`` sites draws the unexposed ones only within
``CONTEXT_M`` of a flight or capture, and says so in its legend.
"""

from geoexpose.maps._canvas import BASEMAPS, family_colors
from geoexpose.maps._context import CONTEXT_M, OVERVIEW_SITES
from geoexpose.maps._encode import encode_geometries, simplify_m
from geoexpose.maps._layers import (
    AGL_COLORS,
    AGL_EDGES,
    CAPTURE_COLORS,
    FOOTPRINT_LAYERS,
    REPLAY_COLOR,
    SCORE_COLORS,
    SCORE_EDGES,
    SIMPLIFY_M,
    TRACK_LEVELS_M,
    score_colors,
    table,
)
from geoexpose.maps._output_maps import load_output, rebuild_maps, write_maps, write_site_maps
from geoexpose.maps._replay import flight_label
from geoexpose.maps._site_choice import (
    SITE_MAPS_CAP,
    pick_site_maps,
    site_file_names,
    site_maps_record,
)
from geoexpose.maps._site_maps import explore_site
from geoexpose.maps.explore import explore, write_map

__all__ = [
    "AGL_COLORS",
    "AGL_EDGES",
    "BASEMAPS",
    "CAPTURE_COLORS",
    "CONTEXT_M",
    "FOOTPRINT_LAYERS",
    "OVERVIEW_SITES",
    "REPLAY_COLOR",
    "SCORE_COLORS",
    "SCORE_EDGES",
    "SIMPLIFY_M",
    "SITE_MAPS_CAP",
    "TRACK_LEVELS_M",
    "encode_geometries",
    "explore",
    "explore_site",
    "family_colors",
    "flight_label",
    "load_output",
    "pick_site_maps",
    "rebuild_maps",
    "score_colors",
    "simplify_m",
    "site_file_names",
    "site_maps_record",
    "table",
    "write_map",
    "write_maps",
    "write_site_maps",
]
