"""``geoexpose layers``: the layer catalog, and sites extracted from OpenStreetMap data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from geoexpose.cli.options import OVERWRITE, STANDOFF, VERBOSITY, run, standoffs
from geoexpose.schema import FAMILIES
from geoexpose.sites import extract_sites, load_catalog, load_osm_tags, load_registries, parse_bbox

__all__ = ["layers"]


@click.group()
def layers() -> None:
    """Show the layer catalog; extract site layers from OpenStreetMap data."""


@layers.command("list")
@VERBOSITY
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def layers_list(as_json):
    """List the families and kinds of the catalog, the OpenStreetMap tags and registries."""
    rules = load_osm_tags().rules
    registries = load_registries().values()
    rows = [
        {
            "family": fam.name,
            "kind": k.kind,
            "standoff_m": k.standoff_m,
            "description": k.description,
            "osm": [r.describe() for r in rules if (r.family, r.kind) == (fam.name, k.kind)],
            "registries": [e.name for e in registries if (e.family, e.kind) == (fam.name, k.kind)],
        }
        for fam in load_catalog().values()
        for k in fam.kinds.values()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        click.echo(
            f"{r['family']:<10} {r['kind']:<22} {r['standoff_m']:>6.0f} m  {r['description']}"
        )
        for tags in r["osm"]:
            click.echo(f"{'':<44}osm: {tags}")
    click.echo("\nregistries (--sites ENTRY=FILE; the sites' family/kind):")
    for e in registries:
        click.echo(f"  {e.name:<26} {e.family}/{e.kind}  {e.description}")


@layers.command("extract")
@VERBOSITY
@click.argument("osm_file", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="GeoPackage to write (layer 'sites').",
)
@click.option(
    "--family",
    "families",
    multiple=True,
    metavar="FAMILY",
    help=f"Only sites of this family ({', '.join(FAMILIES)}); repeatable.",
)
@click.option(
    "--bbox",
    default=None,
    metavar="W,S,E,N",
    help="Only sites that intersect this box: min_lon,min_lat,max_lon,max_lat.",
)
@STANDOFF
@OVERWRITE
def layers_extract(osm_file, out, families, bbox, standoff, overwrite):
    """Write the sites of OpenStreetMap data (.osm.pbf, .osm, .osm.gz, .osm.bz2) to OUT."""
    overrides = standoffs(standoff)

    def work() -> None:
        box = None if bbox is None else parse_bbox(bbox)
        sites = extract_sites(
            osm_file,
            out,
            families=families or None,
            bbox=box,
            standoff=overrides or None,
            overwrite=overwrite,
        )
        for (family, kind), count in sites.groupby(["family", "kind"]).size().items():
            click.echo(f"  {family:<10} {kind:<22} {count:>8}", err=True)
        click.echo(f"{len(sites)} sites; {sites.attrs['attribution']}", err=True)
        click.echo(str(out))

    run(work)
