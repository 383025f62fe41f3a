"""Benchmark of geoexpose against plain geopandas; see ``benchmarks/README.md``."""
