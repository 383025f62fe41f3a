"""``geoexpose inspect``: what geoexpose reads from each file, as text or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from geoexpose.cli.options import TIME_ZONE, VERBOSITY, cli_words, run
from geoexpose.errors import InputError, one_line
from geoexpose.inspect import inspect_file

__all__ = ["inspect_command"]

#: What the text report prints of a file's report, in this order.
_SHOWN = (
    "reason", "sites_by_family", "pose", "intrinsics", "footprint", "gsd_cm", "crs",
    "vertical_datum", "size_px", "use", "problems", "rows_read", "rows_kept", "dropped",
    "flights", "route", "aircraft", "time_span_utc", "bounds_lonlat", "alt_agl_m", "alt_ref",
    "alt_msl_m", "notes",
)  # fmt: skip
_READ = ("read", "route")


def _per_file(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One report per file: a folder's files in its place (the folder where it has none)."""
    out: list[dict[str, Any]] = []
    for r in reports:
        out.extend(r["files"] if r.get("format") == "folder" and r["files"] else [r])
    return out


def _nothing_readable(reports: list[dict[str, Any]]) -> str:
    """Say in one line that no input gave anything to read."""
    parts = [f"{r['path']}: {r['reason']}" for r in reports if r.get("format") == "folder"]
    skipped = len(reports) - len(parts)
    if skipped:
        parts.append(f"{skipped} file{'s' * (skipped != 1)} skipped (why: above)")
    return parts[0] if len(parts) == 1 and not skipped else "nothing readable: " + "; ".join(parts)


@click.command("inspect")
@VERBOSITY
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@TIME_ZONE
def inspect_command(files, as_json, time_zone):
    """Say what geoexpose reads from each file: format, rows, time span, positions, problems.

    A folder gives one report per file in it; exit status 1 where nothing could be read.
    """

    def work() -> None:
        reports = _per_file([inspect_file(path, time_zone=time_zone) for path in files])
        readable = any(r["status"] in _READ for r in reports)
        if as_json:
            click.echo(json.dumps(reports, indent=2, default=str))
        else:
            for r in reports:
                if r.get("format") == "folder" and not readable:
                    continue  # the one line below says it
                click.echo(one_line(f"{r['path']}: {r.get('format', 'unknown')}, {r['status']}"))
                for key in _SHOWN:
                    if r.get(key) not in (None, [], {}, ""):
                        click.echo(f"  {key}: {cli_words(r[key])}")  # options, not parameters
        if not readable:
            raise InputError(_nothing_readable(reports))

    run(work)
