"""The version of geoexpose, in one place."""

__version__ = "0.1.0"
