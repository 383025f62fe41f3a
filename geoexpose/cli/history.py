"""``geoexpose history`` and ``--store``: scans kept in a store, and their history written out."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from geoexpose.cli.options import (
    BASEMAP,
    OVERWRITE,
    SITE_MAPS,
    VERBOSITY,
    out_folder,
    run,
)
from geoexpose.errors import counted, one_line
from geoexpose.schema import (
    DWELL_S,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    MAP_FILE,
    MIN_DISTANCE_M,
    N_CAPTURES,
    SITE_ID,
)
from geoexpose.store import Store, write_postgis

__all__ = ["add_to_store", "history_command", "to_postgis"]


def add_to_store(
    location: str, result: Any, *, files: Iterable[Mapping[str, Any]] | None = None
) -> None:
    """Add a scan's or an audit's result to a store and say what it added."""
    with Store(location) as store:
        added = store.add(result, files=files, command=sys.argv[1:])
    click.echo(
        f"store {location}: scan {added.scan_id} added {counted(added.flights_added, 'flight')}, "
        f"{counted(added.captures_added, 'capture')} from "
        f"{counted(added.files_added, 'new file')} "
        f"({added.files_known} already there, {added.files_replaced} replaced)",
        err=True,
    )


def to_postgis(url: str, result: Any, *, overwrite: bool) -> None:
    """Write a result's tables into PostGIS and say which."""
    written = write_postgis(result, url, overwrite=overwrite)
    click.echo(f"PostGIS: wrote {', '.join(written)}", err=True)


@click.command("history")
@VERBOSITY
@click.argument("store", metavar="STORE")
@out_folder("geoexpose_history")
@click.option("--since", default=None, metavar="ISO", help="Flights that started at or after.")
@click.option("--until", default=None, metavar="ISO", help="Flights that started before.")
@click.option("--site", "sites", multiple=True, metavar="ID", help="Only this site (repeat).")
@click.option(
    "--aircraft", multiple=True, metavar="ID", help="Only this aircraft's flights (repeat)."
)
@BASEMAP
@SITE_MAPS
@OVERWRITE
def history_command(store, out, since, until, sites, aircraft, basemap, site_maps, overwrite):
    """Write the output folder of a scan for a window of STORE's history, from the store alone."""

    def work() -> None:
        location = str(store)
        if "://" not in location and not Path(location).is_file():
            raise click.BadParameter(f"{location}: no such store file", param_hint="STORE")
        with Store(location) as db:
            result = db.history(
                since=since, until=until, sites=sites or None, aircraft=aircraft or None
            )
        extra = {"command": sys.argv[1:], "history": result.params["window"]}
        result.write(
            out, overwrite=overwrite, basemap=basemap, extra_summary=extra, site_maps=site_maps
        )
        exposed = result.exposed
        click.echo(
            f"{counted(len(result.flights), 'flight')}, "
            f"{counted(len(result.captures), 'capture')} in the window; "
            f"{len(exposed)} of {len(result.sites)} sites exposed",
            err=True,
        )
        if sites:
            _print_timeline(result)
        click.echo(str(Path(out) / MAP_FILE))

    run(work)


def _print_timeline(result: Any) -> None:
    """Print each site's flights in time order: when, which flight, how long, how close."""
    from_pairs = result.pairs.sort_values([SITE_ID, FIRST_SEEN_UTC], kind="stable")
    for site, rows in from_pairs.groupby(SITE_ID, sort=True):
        click.echo(f"{site}: {counted(len(rows), 'flight')}")
        for _, row in rows.iterrows():  # a few lines per site, printed
            when = row[FIRST_SEEN_UTC]
            click.echo(
                "  "
                + one_line(
                    f"{when.isoformat() if when == when else '-'}  {row[FLIGHT_ID]}  "
                    f"dwell {row[DWELL_S]:.1f} s  min distance {row[MIN_DISTANCE_M]:.0f} m  "
                    f"{counted(int(row[N_CAPTURES]), 'capture')}"
                )
            )
