"""What the commands share: their options (declared once), and how an error is reported.

Exit status: 0 done; 1 bad input (a one-line message naming the file, and the row or
field where it applies); 2 bad usage.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from geoexpose.errors import GeoexposeError, GeoexposeWarning, UsageError, one_line
from geoexpose.maps import BASEMAPS

__all__ = [
    "BASEMAP",
    "MAX_GAP_S",
    "OVERWRITE",
    "SITES",
    "SITE_FAMILY",
    "SPLIT_GAP_S",
    "STANDOFF",
    "STRICT",
    "TIME_ZONE",
    "out_folder",
    "run",
    "standoffs",
]

logger = logging.getLogger(__name__)


def standoffs(values: Iterable[str]) -> dict[str, float]:
    """Parse ``--standoff FAMILY=M`` values into ``{family or kind: metres}``."""
    out = {}
    for value in values:
        key, sep, metres = value.partition("=")
        try:
            out[key.strip()] = float(metres)
        except ValueError:
            sep = ""
        if not sep or not key.strip():
            raise click.BadParameter(f"{value!r}: expected FAMILY=METRES or KIND=METRES")
    return out


def _report_warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        if issubclass(w.category, GeoexposeWarning):
            click.echo(f"warning: {one_line(w.message)}", err=True)
        else:
            logger.debug("%s", w.message)


def run(func: Callable[[], Any]) -> Any:
    """Run a command; a geoexpose error becomes one line on stderr and exit 1."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return func()
        except UsageError as exc:
            raise click.UsageError(one_line(exc)) from exc
        except (GeoexposeError, OSError) as exc:
            click.echo(f"geoexpose: error: {one_line(exc)}", err=True)
            sys.exit(1)
        finally:
            _report_warnings(caught)


def _basemap(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value in BASEMAPS or Path(value).is_file():
        return value
    raise click.BadParameter(f"{value!r}: expected none, osm or an existing GeoTIFF file")


BASEMAP = click.option(
    "--basemap",
    metavar="none|osm|FILE.tif",
    default="none",
    show_default=True,
    callback=_basemap,
    help="Map background: none; osm (the OpenStreetMap tile server then sees the area "
    "viewed); or a local GeoTIFF such as an orthomosaic, drawn inline.",
)
OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
STRICT = click.option("--strict", is_flag=True, help="Stop at the first file that cannot be read.")
SITES = click.option(
    "--sites",
    "sites_layers",
    multiple=True,
    required=True,
    metavar="LAYER",
    help="Site layer: a file (GeoPackage, GeoJSON, Shapefile, GeoParquet, FlatGeobuf, "
    "CSV with lon/lat, XLSX registry table, OpenStreetMap .osm.pbf/.osm), or a registry "
    "entry of the catalog as ENTRY=FILE (see `geoexpose layers list`); repeat for several.",
)
SITE_FAMILY = click.option(
    "--site-family",
    default=None,
    metavar="FAMILY",
    help="Family (water, rail, power, military or your own) of the sites in layers that "
    "carry no family attribute, e.g. a table of power plants.",
)
STANDOFF = click.option(
    "--standoff",
    multiple=True,
    metavar="FAMILY=M",
    help="Standoff override in metres, by family or kind; repeatable.",
)
MAX_GAP_S = click.option(
    "--max-gap-s",
    type=float,
    default=5.0,
    show_default=True,
    help="Intervals longer than this (and 3x the flight's median) are recording gaps: no dwell.",
)
SPLIT_GAP_S = click.option(
    "--split-gap-s",
    type=float,
    default=60.0,
    show_default=True,
    help="Start a new flight after a gap longer than this.",
)
TIME_ZONE = click.option(
    "--time-zone", default=None, help="IANA zone of times written without one."
)


def out_folder(default: str) -> Callable[[Any], Any]:
    """Make the ``--out`` option of a command that writes a folder, with its default."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help="Output folder.",
    )
