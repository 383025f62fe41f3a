"""The ``geoexpose`` command line: one click group over the commands of each family.

Each command parses its options, calls the library and prints; see
:mod:`geoexpose.cli.options` for what they share and how errors are reported.
"""

from __future__ import annotations

import logging

import click

from geoexpose._version import __version__
from geoexpose.cli.audit import audit_command, scrub_command
from geoexpose.cli.history import history_command
from geoexpose.cli.inspect import inspect_command
from geoexpose.cli.layers import layers
from geoexpose.cli.maps import map_command
from geoexpose.cli.options import VERBOSITY, set_log_level
from geoexpose.cli.report import report_command
from geoexpose.cli.scan import demo_command, scan_command

__all__ = ["main"]


@click.group()
@click.version_option(__version__, prog_name="geoexpose")
@VERBOSITY
def main() -> None:
    """Report what drone flights exposed of sensitive sites (`geoexpose layers list`)."""
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    set_log_level()


for command in (
    scan_command,
    demo_command,
    inspect_command,
    layers,
    map_command,
    audit_command,
    scrub_command,
    history_command,
    report_command,
):
    main.add_command(command)
