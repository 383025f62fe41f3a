"""``geoexpose report``: the PDF briefing of a scan's or an audit's output folder."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from geoexpose.cli.options import OVERWRITE, VERBOSITY, run
from geoexpose.report import write_report

__all__ = ["report_command"]


@click.command("report")
@VERBOSITY
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="PDF file to write (default: FOLDER/report.pdf).",
)
@click.option(
    "--site",
    "sites",
    multiple=True,
    metavar="ID",
    help="Give a page to this site only (its site_id; repeat for more). Default: every "
    "exposed site, most exposed first.",
)
@click.option(
    "--basemap",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE.tif",
    help="A local GeoTIFF drawn under the maps (needs rasterio). Default: no background.",
)
@OVERWRITE
def report_command(folder, out, sites, basemap, overwrite):
    """Write a printable PDF briefing: a cover, then one page per exposed site."""

    def work() -> None:
        try:
            written = write_report(
                folder, out, sites=sites or None, basemap=basemap, overwrite=overwrite
            )
        except ImportError as exc:  # a missing extra: one line, no traceback
            click.echo(f"geoexpose: error: {exc}", err=True)
            sys.exit(1)
        click.echo(str(written))

    run(work)
