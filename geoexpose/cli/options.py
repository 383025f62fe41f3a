"""What the commands share: their options (declared once), and how an error is reported.

Exit status: 0 done; 1 bad input (a one-line message naming the file, and the row or
field where it applies); 2 bad usage. The library's messages name its parameters
(``time_zone=``); on the command line they name the options (``--time-zone``).
``-v``/``-q`` are taken before or after the command: ``-v`` logs more and lists every
file skipped, ``-q`` shows no progress bars and counts the warnings in one line.
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from geoexpose._files import file_labels
from geoexpose._fork import default_workers
from geoexpose.errors import GeoexposeError, GeoexposeWarning, UsageError, counted, one_line
from geoexpose.maps import BASEMAPS, SITE_MAPS_CAP
from geoexpose.schema import FAMILIES

__all__ = [
    "BASEMAP",
    "HASH_IDS",
    "MAX_GAP_S",
    "MAX_GSD_CM",
    "OVERWRITE",
    "SITES",
    "SITE_FAMILY",
    "SITE_MAPS",
    "SPLIT_GAP_S",
    "STANDOFF",
    "STORE",
    "STRICT",
    "TIME_ZONE",
    "TO_POSTGIS",
    "VERBOSITY",
    "cli_words",
    "out_folder",
    "run",
    "say_skipped",
    "set_log_level",
    "standoffs",
    "verbosity",
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


#: Phrases of the library's messages that read otherwise on the command line.
_PHRASES = (
    (r" \(overwrite=True\)", ""),
    (r"overwrite=True", "--overwrite"),
    (r"--dem, dem=", "--dem"),
    (r"gx\.read_routes reads them", "geoexpose inspect shows them"),
    (r"; name it with columns=\{'(\w+)': \.\.\.\}",
     r" (a track log? name its \1 column as the readers know it; a site layer? give it "
     r"with --sites)"),
    (r"or map a field with columns=\{'family': \.\.\.\}", "or add a family column to the layer"),
    (r"standoff=\{'([^']+)': METRES\}", r"--standoff \1=METRES"),
    (r"engine='local'", "--engine local"),
)  # fmt: skip
#: The library's parameters, the options that set them and what those take.
_OPTIONS = (
    ("family", "--site-family", "FAMILY"),
    ("standoff", "--standoff", "FAMILY=METRES"),
    ("time_zone", "--time-zone", "ZONE"),
    ("dem", "--dem", "DEM.tif"),
    ("sites", "--sites", "LAYER"),
    ("site_maps", "--site-maps", "N|all|none"),
)
_VERBOSITY = "geoexpose.verbosity"


def cli_words(message: object) -> str:
    """Put a library message in one line, naming the options the user types for its parameters.

    >>> cli_words("a.csv: times have no time zone; taken as UTC (pass time_zone=)")
    'a.csv: times have no time zone; taken as UTC (pass --time-zone ZONE)'
    >>> cli_words("family='waterr' is not known; declare it: standoff={'waterr': METRES}")
    "--site-family 'waterr' is not known; declare it: --standoff waterr=METRES"
    """
    text = one_line(message)
    for pattern, words in _PHRASES:
        text = re.sub(pattern, words, text)
    for name, option, metavar in _OPTIONS:
        text = re.sub(rf"(?<![\w-]){name}=(?=['\"\w])", option + " ", text)
        text = re.sub(rf"(?<![\w-]){name}=", f"{option} {metavar}", text)
    return text


def verbosity() -> int:
    """``-v`` count less ``-q`` count, before and after the command (0 outside a command)."""
    ctx = click.get_current_context(silent=True)
    return 0 if ctx is None else int(ctx.find_root().meta.get(_VERBOSITY, 0))


def _set_verbosity(ctx: click.Context, param: click.Parameter, count: int) -> None:
    if not count:
        return
    step = count if param.name == "verbose" else -count
    meta = ctx.find_root().meta
    meta[_VERBOSITY] = meta.get(_VERBOSITY, 0) + step
    set_log_level()


def set_log_level() -> None:
    """Set the log level from ``-v``/``-q``: warnings and errors by default."""
    level = logging.WARNING - 10 * verbosity()
    logging.getLogger().setLevel(max(logging.DEBUG, min(level, logging.CRITICAL)))


def VERBOSITY(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command (or the group) ``-v``/``--verbose`` and ``-q``/``--quiet``."""
    for flags, name, words in (
        (("-q", "--quiet"), "quiet", "Less output: no progress bars, warnings counted."),
        (("-v", "--verbose"), "verbose", "More output: log messages, every file skipped."),
    ):
        command = click.option(
            *flags, name, count=True, expose_value=False, is_eager=True,
            callback=_set_verbosity, help=words + " Repeatable.",
        )(command)  # fmt: skip
    return command


def say_skipped(other: list[dict[str, Any]]) -> None:
    """Say which files under the inputs no reader took, by reason (each one with ``-v``)."""
    skipped = [e for e in other if e.get("status") == "skipped"]
    if verbosity() < 0:
        if skipped:
            click.echo(
                f"{counted(len(skipped), 'file')} skipped that no reader takes (-q)", err=True
            )
        return
    labels = file_labels([Path(e["path"]) for e in skipped])
    by_reason: dict[str, list[str]] = {}
    for entry, label in zip(skipped, labels, strict=True):
        by_reason.setdefault(str(entry.get("reason")), []).append(label)
    shown = None if verbosity() > 0 else 3
    for reason, names in by_reason.items():
        listed = ", ".join(names[:shown])
        more = f" and {len(names) - shown} more" if shown and len(names) > shown else ""
        click.echo(
            one_line(f"skipped {counted(len(names), 'file')}, {reason}: {listed}{more}"), err=True
        )


def _report_warnings(caught: list[warnings.WarningMessage]) -> None:
    ours = [w for w in caught if issubclass(w.category, GeoexposeWarning)]
    for w in caught:
        if not issubclass(w.category, GeoexposeWarning):
            logger.debug("%s", w.message)
    if verbosity() < 0 and ours:
        click.echo(f"{len(ours)} warnings (-q; without it each is shown)", err=True)
        return
    for w in ours:
        click.echo(f"warning: {cli_words(w.message)}", err=True)


def run(func: Callable[[], Any]) -> Any:
    """Run a command; a geoexpose error becomes one line on stderr and exit 1."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return func()
        except BrokenPipeError:  # the reader of the output went away (| head)
            sys.stderr.close()
            sys.exit(1)
        except UsageError as exc:
            raise click.UsageError(cli_words(exc)) from exc
        except (GeoexposeError, OSError) as exc:
            click.echo(f"geoexpose: error: {cli_words(exc)}", err=True)
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


def _site_maps(ctx: click.Context, param: click.Parameter, value: str) -> int | str:
    if value in ("all", "none"):
        return value
    if value.isdigit():
        return int(value)
    raise click.BadParameter(f"{value!r}: expected a whole number, all or none")


SITE_MAPS = click.option(
    "--site-maps",
    metavar="N|all|none",
    default=str(SITE_MAPS_CAP),
    show_default=True,
    callback=_site_maps,
    help="Which exposed sites get a map of their own (sites/<site_id>.html): the N most "
    "exposed, all or none. Every exposed site stays in the tables and on map.html.",
)
OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
WORKERS = click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=default_workers(),
    show_default="the CPUs, at most 8",
    help="Processes reading track files and drawing maps at once (forked, on Linux; 1: "
    "all in this process). The outputs are the same.",
)
STRICT = click.option("--strict", is_flag=True, help="Stop at the first file that cannot be read.")
STORE = click.option(
    "--store",
    default=None,
    metavar="STORE",
    help="Also add what was found to this history store: a GeoPackage file (made if need "
    "be) or postgresql://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass). "
    "Files already in the store add nothing.",
)
TO_POSTGIS = click.option(
    "--to-postgis",
    "to_postgis_url",
    default=None,
    metavar="DSN",
    help="Also write the result tables (the layers of exposure.gpkg) into this PostGIS "
    "database: postgresql://USER@HOST:PORT/DB[?schema=NAME]; existing tables are "
    "replaced only with --overwrite.",
)
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
    help=f"Family ({', '.join(FAMILIES)}, or your own) of the sites in layers that "
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
MAX_GSD_CM = click.option(
    "--max-gsd-cm",
    type=click.FloatRange(min=0.0, min_open=True),
    default=100.0,
    show_default=True,
    help="A capture images a site only where its ground sample distance is at most this (cm).",
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
HASH_IDS = click.option(
    "--hash-ids",
    is_flag=True,
    help="Write aircraft and operator ids (serials, Remote ID ids) as keyed hashes "
    "(HMAC-SHA256) in every output, for sharing; the key is read from the environment "
    "variable GEOEXPOSE_ID_KEY (16 characters or more): the same key gives the same "
    "hashes in every report.",
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
