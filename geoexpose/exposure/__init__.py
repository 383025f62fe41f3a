"""Exposure: sites x fixes x captures, per site and per flight x site.

:func:`expose` joins fixes and track segments to the sites' zones, and captures'
footprints to the sites' areas, in metres in each site's band
(:mod:`geoexpose.projection`), and returns an :class:`ExposureResult`. Sites exposed
to many batches of fixes are made ready once with :func:`prepare_sites`; the streamed
engine builds its answer from the same pieces (:func:`fix_pairs`, :func:`site_table`,
:func:`assign_flights`). The score's formula is in :mod:`~geoexpose.exposure.score`.
"""

from geoexpose.exposure._capture_flights import (
    CLOCK_SHIFTS_NS,
    MATCH_DISTANCE_M,
    MATCH_TOLERANCE_S,
)
from geoexpose.exposure._capture_join import site_areas_in_band
from geoexpose.exposure._capture_metrics import assign_flights
from geoexpose.exposure._capture_resolution import DETAIL_GSD_CM, MAX_GSD_CM
from geoexpose.exposure._pairs import fix_pairs
from geoexpose.exposure._site_distance import SiteDistance
from geoexpose.exposure._site_table import site_table
from geoexpose.exposure._validate import validate_captures, validate_fixes
from geoexpose.exposure._zone_join import ZoneHits, zone_hits
from geoexpose.exposure.aircraft import aircraft_exposure, attribute_captures
from geoexpose.exposure.compute import expose
from geoexpose.exposure.hash_ids import KEY_ENV, hash_key, hash_result_ids, scrub_record
from geoexpose.exposure.prepared import PreparedSites, prepare_sites
from geoexpose.exposure.result import ExposureResult, StreamResult
from geoexpose.exposure.score import exposure_score

__all__ = [
    "CLOCK_SHIFTS_NS",
    "DETAIL_GSD_CM",
    "KEY_ENV",
    "MATCH_DISTANCE_M",
    "MATCH_TOLERANCE_S",
    "MAX_GSD_CM",
    "ExposureResult",
    "PreparedSites",
    "SiteDistance",
    "StreamResult",
    "ZoneHits",
    "aircraft_exposure",
    "assign_flights",
    "attribute_captures",
    "expose",
    "exposure_score",
    "fix_pairs",
    "hash_key",
    "hash_result_ids",
    "prepare_sites",
    "scrub_record",
    "site_areas_in_band",
    "site_table",
    "validate_captures",
    "validate_fixes",
    "zone_hits",
]
