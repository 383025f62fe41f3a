"""Store: every scan kept in one GeoPackage or PostGIS database, and its history queried over time.

:class:`Store` adds what a scan or an audit found (files known by their SHA-256 add
nothing), and answers for any window of time with the exposure a scan of that
window's flights would give, from the store alone. :func:`write_postgis` writes a
result's tables into a PostGIS database.
"""

from geoexpose.store._to_postgis import write_postgis
from geoexpose.store.store import Added, Store, is_database_url

__all__ = ["Added", "Store", "is_database_url", "write_postgis"]
