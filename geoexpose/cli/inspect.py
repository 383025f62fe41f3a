"""``geoexpose inspect``: what geoexpose reads from each file, as text or JSON."""

from __future__ import annotations

import json

import click

from geoexpose.cli.options import TIME_ZONE, run
from geoexpose.inspect import inspect_file

__all__ = ["inspect_command"]

#: What the text report prints of a file's report, in this order.
_SHOWN = (
    "reason", "sites_by_family", "pose", "intrinsics", "footprint", "gsd_cm", "crs",
    "vertical_datum", "size_px", "use", "problems", "rows_read", "rows_kept", "dropped",
    "flights", "route", "aircraft", "time_span_utc", "bounds_lonlat", "alt_agl_m", "alt_ref",
    "notes",
)  # fmt: skip


@click.command("inspect")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@TIME_ZONE
def inspect_command(files, as_json, time_zone):
    """Say what geoexpose reads from each file: format, rows, time span, positions, problems."""

    def work() -> None:
        reports = [inspect_file(path, time_zone=time_zone) for path in files]
        if as_json:
            click.echo(json.dumps(reports, indent=2, default=str))
            return
        for r in reports:
            click.echo(f"{r['path']}: {r['format']}, {r['status']}")
            for key in _SHOWN:
                if r.get(key) not in (None, [], {}, ""):
                    click.echo(f"  {key}: {r[key]}")

    run(work)
