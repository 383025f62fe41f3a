"""``geoexpose audit`` and ``geoexpose scrub``: a work order checked, photos made safe to share."""

from __future__ import annotations

import sys

import click

from geoexpose.audit import SCRUB_LIST, SEVERITIES, audit, read_policy, scrub
from geoexpose.cli.history import add_to_store, to_postgis
from geoexpose.cli.options import (
    BASEMAP,
    MAX_GAP_S,
    OVERWRITE,
    SITE_FAMILY,
    SITE_MAPS,
    SITES,
    SPLIT_GAP_S,
    STANDOFF,
    STORE,
    STRICT,
    TIME_ZONE,
    TO_POSTGIS,
    VERBOSITY,
    WORKERS,
    out_folder,
    run,
    say_skipped,
    standoffs,
    verbosity,
)
from geoexpose.errors import one_line
from geoexpose.inventory import files_record
from geoexpose.outputs import check_outputs
from geoexpose.reading import SITE_LAYER, read_site_layers, reading_inputs
from geoexpose.schema import (
    DURATION_S,
    FINDING_ID,
    FLIGHT_ID,
    REPORT_FILE,
    RULE,
    SEVERITY,
    SITE_ID,
)

__all__ = ["audit_command", "scrub_command"]


@click.command("audit")
@VERBOSITY
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@SITES
@click.option(
    "--authorized",
    multiple=True,
    required=True,
    metavar="WORK_AREAS",
    help="Authorized areas: a file of polygons (or of rows naming a site_id), or site ids "
    "separated by commas (a site comes with its zone); repeatable. Attributes "
    "valid_from_utc, valid_to_utc, aircraft and flight limit an area.",
)
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Audit policy (TOML; a [families.F] table per family: military, hazmat, ... "
    "or your own). Default: military sites are neither entered nor imaged, "
    "and no site outside the authorized areas is imaged finer than 10 cm.",
)
@out_folder("geoexpose_audit")
@SITE_FAMILY
@MAX_GAP_S
@SPLIT_GAP_S
@TIME_ZONE
@BASEMAP
@SITE_MAPS
@OVERWRITE
@STRICT
@STORE
@TO_POSTGIS
@WORKERS
def audit_command(
    inputs,
    sites_layers,
    authorized,
    policy,
    out,
    site_family,
    max_gap_s,
    split_gap_s,
    time_zone,
    basemap,
    site_maps,
    overwrite,
    strict,
    store,
    to_postgis_url,
    workers,
):
    """Audit the flights and photos under INPUTS against a work order's authorized areas."""

    def work() -> None:
        rules = read_policy(policy)  # a bad policy stops before any reading
        check_outputs(out, overwrite=overwrite)
        reading = reading_inputs(
            inputs, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, every_s=1.0,
            dem=None, progress=verbosity() >= 0, workers=workers,
            layers={
                SITE_LAYER: sites_layers,
                "the authorized work areas": authorized,
                "the audit policy": [policy] if policy else [],
            },
        )  # fmt: skip
        with reading as finish:  # the track files are read (forked) while the sites are
            sites = read_site_layers(sites_layers, family=site_family, standoff=rules.standoff_m)
            found = finish()
        say_skipped(found.other_files)
        if found.from_triggers:
            click.echo(f"{found.from_triggers} photos from the logs' photo triggers", err=True)
        result = audit(
            sites,
            found.fixes,
            found.captures,
            authorized=list(authorized),
            policy=rules,
            max_gap_s=max_gap_s,
        )
        extra = {**files_record(found.files, found.other_files), "command": sys.argv[1:]}
        result.write(
            out, overwrite=overwrite, basemap=basemap, extra_summary=extra, site_maps=site_maps,
            workers=workers,
        )  # fmt: skip
        if store:
            add_to_store(store, result, files=found.files)
        if to_postgis_url:
            to_postgis(to_postgis_url, result, overwrite=overwrite)
        f = result.findings
        counts = ", ".join(f"{int((f[SEVERITY] == s).sum())} {s}" for s in SEVERITIES)
        click.echo(
            f"{len(result.by_flight)} flights, {len(found.captures)} captures: {len(f)} "
            f"findings ({counts})",
            err=True,
        )
        for _, row in f.head(8).iterrows():
            site = row[SITE_ID] if isinstance(row[SITE_ID], str) else "-"
            click.echo(
                f"  {row[FINDING_ID]}  {row[SEVERITY]:<6}  {row[RULE]:<18}  "
                f"{row[FLIGHT_ID]}  {site}  {row[DURATION_S]:.0f} s",
                err=True,
            )
        click.echo(str(out / REPORT_FILE))

    run(work)


@click.command("scrub")
@VERBOSITY
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@SITES
@out_folder("geoexpose_scrubbed")
@SITE_FAMILY
@STANDOFF
@TIME_ZONE
@OVERWRITE
@click.option("--strict", is_flag=True, help="Stop at the first photo that cannot be read.")
def scrub_command(inputs, sites_layers, out, site_family, standoff, time_zone, overwrite, strict):
    """Copy the photos under INPUTS that show a site, rebuilt without location metadata."""
    overrides = standoffs(standoff)

    def work() -> None:
        sites = read_site_layers(sites_layers, standoff=overrides, family=site_family)
        table = scrub(
            list(inputs), sites, out, overwrite=overwrite, strict=strict, time_zone=time_zone
        )
        done = table["status"] == "scrubbed"
        click.echo(
            f"{int(done.sum())} photos that show a site scrubbed into {out}; "
            f"{int((~done).sum())} skipped",
            err=True,
        )
        for _, row in table[~done].iterrows():
            click.echo(one_line(f"  skipped {row['source']}: {row['reason']}"), err=True)
        click.echo(str(out / SCRUB_LIST))

    run(work)
