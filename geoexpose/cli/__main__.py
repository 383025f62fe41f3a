"""``python -m geoexpose.cli``: the command line."""

from geoexpose.cli import main

main()
