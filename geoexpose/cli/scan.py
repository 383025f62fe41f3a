"""``geoexpose scan`` and ``geoexpose demo``: a scan, and a scan of the demo town."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import click

from geoexpose.cli.history import add_to_store, to_postgis
from geoexpose.cli.options import (
    BASEMAP,
    HASH_IDS,
    MAX_GAP_S,
    MAX_GSD_CM,
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
from geoexpose.demo import make_demo_inputs
from geoexpose.errors import one_line
from geoexpose.exposure import hash_key, hash_result_ids, scrub_record
from geoexpose.scan import SCAN_ENGINES, ScanResult, check_scan_outputs, scan
from geoexpose.schema import EXPOSURE_SCORE, FAMILY, KIND, MAP_FILE, SITE_ID

__all__ = ["demo_command", "scan_command"]


def _scan_and_write(
    inputs: list[str],
    sites_layers: list[str],
    out: Path,
    *,
    overwrite: bool,
    basemap: str,
    parquet: bool = False,
    standoff: dict[str, float] | None = None,
    site_maps: int | str | None = None,
    store: str | None = None,
    to_postgis_url: str | None = None,
    hash_ids: bool = False,
    workers: int = 1,
    **options: Any,
) -> ScanResult:
    """Scan, write the output folder, and say what was found."""
    check_scan_outputs(out, overwrite=overwrite, parquet=parquet)
    key = hash_key() if hash_ids else None  # a missing key is refused before reading
    progress = verbosity() >= 0
    done = scan(
        inputs, sites_layers, standoff=standoff, progress=progress, workers=workers, **options
    )
    if key is not None:
        done = _hashed(done, key)
    say_skipped(done.other_files)
    if done.from_triggers:
        click.echo(f"{done.from_triggers} photos from the logs' photo triggers", err=True)
    extra = {"command": sys.argv[1:], "standoff_overrides": standoff or {}}
    done.write(
        out, overwrite=overwrite, basemap=basemap, parquet=parquet, extra_summary=extra,
        site_maps=site_maps, workers=workers,
    )  # fmt: skip
    if store:
        add_to_store(store, done)
    if to_postgis_url:
        to_postgis(to_postgis_url, done, overwrite=overwrite)
    result = done.result
    exposed = result.exposed
    click.echo(
        f"{done.n_fixes} fixes in {len(result.flights)} flights, {len(result.captures)} "
        f"captures; {len(exposed)} of {len(result.sites)} sites exposed",
        err=True,
    )
    for _, row in exposed.head(5).iterrows():
        click.echo(
            "  "
            + one_line(
                f"{row[EXPOSURE_SCORE]:6.1f}  {row[SITE_ID]}  {row[FAMILY]}/{row[KIND]}"
                f"  dwell {row['dwell_s']:.1f} s  min distance {row['min_distance_m']:.0f} m"
            ),
            err=True,
        )
    click.echo(str(out / MAP_FILE))
    return done


def _hashed(done: ScanResult, key: bytes) -> ScanResult:
    """Return a scan with every aircraft and operator id hashed (``--hash-ids``)."""
    raw = done.result
    return dataclasses.replace(
        done,
        result=hash_result_ids(raw, key),
        files=scrub_record(done.files, raw, key),
        other_files=scrub_record(done.other_files, raw, key),
    )


@click.command("scan")
@VERBOSITY
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@SITES
@out_folder("geoexpose_out")
@SITE_FAMILY
@STANDOFF
@MAX_GAP_S
@MAX_GSD_CM
@SPLIT_GAP_S
@TIME_ZONE
@HASH_IDS
@click.option(
    "--dem",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    metavar="DEM.tif",
    help="Elevation or surface model (GeoTIFF) to project the photos onto, instead of "
    "flat ground at the take-off height (needs geoexpose[raster]).",
)
@click.option(
    "--every-s",
    type=float,
    default=1.0,
    show_default=True,
    help="Video: one frame per this many seconds becomes a capture (0: every frame).",
)
@BASEMAP
@SITE_MAPS
@OVERWRITE
@STRICT
@STORE
@TO_POSTGIS
@WORKERS
@click.option(
    "--engine",
    type=click.Choice(SCAN_ENGINES),
    default="memory",
    show_default=True,
    help="memory: every fix in memory at once. local: fixes streamed in batches of whole "
    "flights, memory bounded (GeoParquet inputs need it). dask: the batches as tasks on a "
    "Dask cluster (needs geoexpose[dask]).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Dask scheduler address (tcp://host:8786); default: a LocalCluster on this machine.",
)
@click.option(
    "--batch-fixes",
    type=click.IntRange(min=1),
    default=2_000_000,
    show_default=True,
    help="Fixes per batch (about; whole flights) with --engine local or dask.",
)
@click.option(
    "--parquet",
    is_flag=True,
    help="Also write the result tables as GeoParquet partitioned by flight in OUT/parquet/.",
)
def scan_command(inputs, sites_layers, out, standoff, scheduler, engine, **options):
    """Read tracks, photos and video telemetry under INPUTS; write what they exposed."""
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler goes with --engine dask")
    overrides = standoffs(standoff)
    run(
        lambda: _scan_and_write(
            list(inputs),
            list(sites_layers),
            out,
            standoff=overrides,
            engine=engine,
            scheduler=scheduler,
            **options,
        )
    )


@click.command("demo")
@VERBOSITY
@out_folder("out/demo")
@BASEMAP
@OVERWRITE
def demo_command(out, basemap, overwrite):
    """Run the whole pipeline offline on the synthetic demo town."""

    def work() -> None:
        check_scan_outputs(out, overwrite=overwrite, parquet=False)
        demo = make_demo_inputs(out / "inputs", overwrite=overwrite)
        click.echo(demo.description, err=True)
        _scan_and_write(
            [str(p) for p in (*demo.tracks, *demo.photos)],
            [str(demo.sites)],
            out,
            overwrite=overwrite,
            basemap=basemap,
            strict=True,
        )

    run(work)
