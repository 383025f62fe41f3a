"""``geoexpose map``: the maps of a scan's output folder, rebuilt."""

from __future__ import annotations

from pathlib import Path

import click

from geoexpose.cli.options import BASEMAP, OVERWRITE, SITE_MAPS, VERBOSITY, run
from geoexpose.maps import rebuild_maps

__all__ = ["map_command"]


@click.command("map")
@VERBOSITY
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--site", "site", default=None, help="Build only this site's map (its site_id).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: FOLDER/map.html and FOLDER/sites/, "
    "or FOLDER/sites/<site_id>.html with --site).",
)
@BASEMAP
@SITE_MAPS
@OVERWRITE
def map_command(folder, site, out, basemap, site_maps, overwrite):
    """Rebuild the maps (overview and one per exposed site) from a scan's output folder."""

    def work() -> None:
        written = rebuild_maps(
            folder, site=site, basemap=basemap, out=out, overwrite=overwrite, site_maps=site_maps
        )
        click.echo(str(written[0]))

    run(work)
