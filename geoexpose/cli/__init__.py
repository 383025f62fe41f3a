"""The ``geoexpose`` command line: thin commands over the library."""

from geoexpose.cli.main import main

__all__ = ["main"]
