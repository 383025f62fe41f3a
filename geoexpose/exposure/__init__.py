"""Exposure: sites x fixes x captures, per site and per flight x site.

:func:`expose` joins fixes and track segments to the sites' zones and captures'
footprints to the sites' areas, in metres in each site's band
(:mod:`geoexpose.projection`), and returns an :class:`ExposureResult`; the score's
formula is in :mod:`~geoexpose.exposure.score`.
"""

from geoexpose.exposure._site_distance import SiteDistance
from geoexpose.exposure._zone_join import ZoneHits, zone_hits
from geoexpose.exposure.expose import ExposureResult, expose
from geoexpose.exposure.score import exposure_score

__all__ = ["ExposureResult", "SiteDistance", "ZoneHits", "expose", "exposure_score", "zone_hits"]
