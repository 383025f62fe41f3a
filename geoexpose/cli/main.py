"""The ``geoexpose`` command line: a thin layer over the public API.

Exit status: 0 done; 1 bad input (a one-line message naming the file, and the row
or field where it applies); 2 bad usage.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

import geoexpose as gx

__all__ = ["main"]

logger = logging.getLogger(__name__)


def _standoffs(values: Iterable[str]) -> dict[str, float]:
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
        if issubclass(w.category, gx.GeoexposeWarning):
            click.echo(f"warning: {' '.join(str(w.message).split())}", err=True)
        else:
            logger.debug("%s", w.message)


def _run(func: Callable[[], Any]) -> Any:
    """Run a command; a geoexpose error becomes one line on stderr and exit 1."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return func()
        except gx.UsageError as exc:
            raise click.UsageError(" ".join(str(exc).split())) from exc
        except (gx.GeoexposeError, OSError) as exc:
            click.echo(f"geoexpose: error: {' '.join(str(exc).split())}", err=True)
            sys.exit(1)
        finally:
            _report_warnings(caught)


def _read_sites(
    layers: Iterable[str], standoff: dict[str, float], family: str | None = None
) -> Any:
    import pandas as pd

    frames = []
    for layer in layers:
        frames.append(gx.read_sites(layer, standoff=standoff or None, family=family))
    sites = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    entries = [e for f in frames for e in f.attrs.get("geoexpose", {}).get("layers", [])]
    dup = sites["site_id"].duplicated()
    if dup.any():
        raise gx.InputError(
            f"site_id {sites.loc[dup, 'site_id'].iloc[0]!r} occurs in more than one layer; "
            "give the layers distinct ids"
        )
    sites.attrs["geoexpose"] = {"layers": entries}
    return sites


_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".tif", ".tiff", ".dng")


def _split_inputs(inputs: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split the inputs between the track readers and the capture readers.

    Folders go to both (each walks for its own files), images only to the captures,
    video telemetry (.SRT) to both, other files only to the tracks.
    """
    tracks, captures = [], []
    for item in inputs:
        suffix = Path(item).suffix.lower()
        if Path(item).is_dir() or suffix == ".srt":
            tracks.append(item)
            captures.append(item)
        elif suffix in _IMAGE_SUFFIXES:
            captures.append(item)
        else:
            tracks.append(item)
    return tracks, captures


def _scan(
    inputs: Iterable[str],
    sites_layers: Iterable[str],
    out: Path,
    *,
    standoff: dict[str, float],
    site_family: str | None = None,
    overwrite: bool,
    strict: bool,
    basemap: str,
    max_gap_s: float,
    split_gap_s: float,
    time_zone: str | None,
    every_s: float = 1.0,
    dem: Path | None = None,
    engine: dict[str, Any] | None = None,
) -> Any:
    gx.check_outputs(out, overwrite=overwrite)
    if engine and engine.get("parquet") and (out / "parquet").exists() and not overwrite:
        raise gx.OutputExistsError(f"{out / 'parquet'}: exists; pass --overwrite")
    sites = _read_sites(sites_layers, standoff, site_family)
    read: dict[str, Any] = {"strict": strict, "split_gap_s": split_gap_s, "time_zone": time_zone}
    if engine is None or engine["engine"] == "memory":
        if any(gx.geoparquet.is_geoparquet(item) for item in inputs):
            raise gx.UsageError("GeoParquet inputs are read with --engine local or --engine dask")
        fixes, captures = _read_inputs(inputs, **read, every_s=every_s, dem=dem)
        result = gx.expose(sites, fixes, captures=captures, max_gap_s=max_gap_s)
        n_fixes = len(fixes)
    else:
        result, captures = _stream_scan(inputs, sites, engine, read, every_s, dem, max_gap_s)
        n_fixes = result.stats["fixes"]
    extra = {"command": sys.argv[1:], "standoff_overrides": standoff}
    result.write(out, overwrite=overwrite, basemap=basemap, extra_summary=extra)
    if engine and engine.get("parquet"):
        gx.geoparquet.write_result(result, out / "parquet", overwrite=overwrite)
    exposed = result.exposed
    click.echo(
        f"{n_fixes} fixes in {len(result.flights)} flights, {len(captures)} captures; "
        f"{len(exposed)} of {len(result.sites)} sites exposed",
        err=True,
    )
    for _, row in exposed.head(5).iterrows():
        click.echo(
            f"  {row['exposure_score']:6.1f}  {row['site_id']}  {row['family']}/{row['kind']}"
            f"  dwell {row['dwell_s']:.1f} s  min distance {row['min_distance_m']:.0f} m",
            err=True,
        )
    click.echo(str(out / "map.html"))
    return result


def _stream_scan(
    inputs: Iterable[str],
    sites: Any,
    engine: dict[str, Any],
    read: dict[str, Any],
    every_s: float,
    dem: Path | None,
    max_gap_s: float,
) -> tuple[Any, Any]:
    """Scan with the streamed engine: tracks and GeoParquet fixes read batch by batch."""
    import pandas as pd

    parquet = [i for i in inputs if gx.geoparquet.is_geoparquet(i)]
    tables = [i for i in parquet if gx.geoparquet.is_captures_table(i)]
    track_inputs, capture_inputs = _split_inputs([i for i in inputs if i not in parquet])
    captures = gx.read_captures(
        capture_inputs,
        dem=dem,
        every_s=every_s,
        time_zone=read["time_zone"],
        strict=read["strict"],
        progress=True,
    )
    if tables:
        files = captures.attrs["geoexpose"]["files"]
        captures = pd.concat([captures, *map(gx.geoparquet.read_table, tables)], ignore_index=True)
        captures.attrs["geoexpose"] = {"files": files}
    triggers = bool(track_inputs) and not (captures["kind"] == "photo").any()
    fix_tables = [p for p in parquet if p not in tables]
    source: list[Any] = list(fix_tables)
    if track_inputs:
        source.append(gx.TrackFiles(tuple(track_inputs), **read, triggers=triggers))
    result = gx.expose_stream(
        sites, source, captures=captures, engine=engine["engine"],
        scheduler=engine["scheduler"], batch_fixes=engine["batch_fixes"],
        max_gap_s=max_gap_s, triggers_dem=dem, progress=True,
    )  # fmt: skip
    if triggers:
        n = int(result.captures["flags"].astype(str).str.contains("from_log_trigger").sum())
        if n:
            click.echo(f"{n} photos from the logs' photo triggers", err=True)
    files = result.inputs.get("tracks", []) + captures.attrs["geoexpose"]["files"]
    if files and not fix_tables and all(f["status"] == "skipped" for f in files):
        paths = dict.fromkeys(f["path"] for f in files)
        raise gx.InputError("no input could be read: " + "; ".join(paths))
    return result, result.captures


def _basemap(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value in ("none", "osm") or Path(value).is_file():
        return value
    raise click.BadParameter(f"{value!r}: expected none, osm or an existing GeoTIFF file")


_BASEMAP = click.option(
    "--basemap",
    metavar="none|osm|FILE.tif",
    default="none",
    show_default=True,
    callback=_basemap,
    help="Map background: none; osm (the OpenStreetMap tile server then sees the area "
    "viewed); or a local GeoTIFF such as an orthomosaic, drawn inline.",
)
_OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
_SITES = click.option(
    "--sites",
    "sites_layers",
    multiple=True,
    required=True,
    metavar="LAYER",
    help="Site layer: a file (GeoPackage, GeoJSON, Shapefile, GeoParquet, FlatGeobuf, "
    "CSV with lon/lat, XLSX registry table, OpenStreetMap .osm.pbf/.osm), or a registry "
    "entry of the catalog as ENTRY=FILE (see `geoexpose layers list`); repeat for several.",
)
_SITE_FAMILY = click.option(
    "--site-family",
    default=None,
    metavar="FAMILY",
    help="Family (water, rail, power, military or your own) of the sites in layers that "
    "carry no family attribute, e.g. a table of power plants.",
)
_STANDOFF = click.option(
    "--standoff",
    multiple=True,
    metavar="FAMILY=M",
    help="Standoff override in metres, by family or kind; repeatable.",
)
_MAX_GAP_S = click.option(
    "--max-gap-s",
    type=float,
    default=5.0,
    show_default=True,
    help="Intervals longer than this (and 3x the flight's median) are recording gaps: no dwell.",
)
_SPLIT_GAP_S = click.option(
    "--split-gap-s",
    type=float,
    default=60.0,
    show_default=True,
    help="Start a new flight after a gap longer than this.",
)
_TIME_ZONE = click.option(
    "--time-zone", default=None, help="IANA zone of times written without one."
)


def _out_folder(default: str) -> Callable[[Any], Any]:
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path(default),
        show_default=True,
        help="Output folder.",
    )


@click.group()
@click.version_option(gx.__version__, prog_name="geoexpose")
@click.option("-v", "--verbose", count=True, help="More log output (repeat for more).")
@click.option("-q", "--quiet", count=True, help="Less log output.")
def main(verbose: int, quiet: int) -> None:
    """Report what drone flights exposed of water, rail, power and military sites."""
    level = logging.WARNING - 10 * (verbose - quiet)
    logging.basicConfig(
        level=max(logging.DEBUG, min(level, logging.CRITICAL)),
        format="%(levelname)s %(name)s: %(message)s",
    )


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@_SITES
@_out_folder("geoexpose_out")
@_SITE_FAMILY
@_STANDOFF
@_MAX_GAP_S
@_SPLIT_GAP_S
@_TIME_ZONE
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
@_BASEMAP
@_OVERWRITE
@click.option("--strict", is_flag=True, help="Stop at the first file that cannot be read.")
@click.option(
    "--engine",
    type=click.Choice(["memory", "local", "dask"]),
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
def scan(
    inputs,
    sites_layers,
    out,
    site_family,
    standoff,
    max_gap_s,
    split_gap_s,
    time_zone,
    dem,
    every_s,
    basemap,
    overwrite,
    strict,
    engine,
    scheduler,
    batch_fixes,
    parquet,
):
    """Read tracks, photos and video telemetry under INPUTS; write what they exposed."""
    if scheduler is not None and engine != "dask":
        raise click.UsageError("--scheduler goes with --engine dask")
    overrides = _standoffs(standoff)
    stream = {"engine": engine, "scheduler": scheduler, "batch_fixes": batch_fixes,
              "parquet": parquet}  # fmt: skip
    _run(
        lambda: _scan(
            inputs,
            sites_layers,
            out,
            standoff=overrides,
            site_family=site_family,
            overwrite=overwrite,
            strict=strict,
            basemap=basemap,
            max_gap_s=max_gap_s,
            split_gap_s=split_gap_s,
            time_zone=time_zone,
            every_s=every_s,
            dem=dem,
            engine=stream,
        )
    )


@main.command()
@_out_folder("out/demo")
@_BASEMAP
@_OVERWRITE
def demo(out, basemap, overwrite):
    """Run the whole pipeline offline on the synthetic demo town."""

    def run() -> None:
        gx.check_outputs(out, overwrite=overwrite)
        inputs = gx.make_demo_inputs(out / "inputs")
        click.echo(inputs.description, err=True)
        _scan(
            [str(p) for p in (*inputs.tracks, *inputs.photos)],
            [str(inputs.sites)],
            out,
            standoff={},
            overwrite=overwrite,
            strict=True,
            basemap=basemap,
            max_gap_s=5.0,
            split_gap_s=60.0,
            time_zone=None,
        )

    _run(run)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@_TIME_ZONE
def inspect(files, as_json, time_zone):
    """Say what geoexpose reads from each file: format, rows, time span, positions, problems."""

    def run() -> None:
        reports = [_inspect_one(path, time_zone) for path in files]
        if as_json:
            click.echo(json.dumps(reports, indent=2, default=str))
            return
        for r in reports:
            click.echo(f"{r['path']}: {r['format']}, {r['status']}")
            for key in (
                "reason",
                "sites_by_family",
                "pose",
                "intrinsics",
                "footprint",
                "gsd_cm",
                "crs",
                "vertical_datum",
                "size_px",
                "use",
                "problems",
                "rows_read",
                "rows_kept",
                "dropped",
                "flights",
                "route",
                "aircraft",
                "time_span_utc",
                "bounds_lonlat",
                "alt_agl_m",
                "alt_ref",
                "notes",
            ):
                if r.get(key) not in (None, [], {}, ""):
                    click.echo(f"  {key}: {r[key]}")

    _run(run)


_LAYER_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".parquet", ".fgb", ".csv")
_POSE_FIELDS = (
    "make", "model", "width_px", "height_px", "time_original", "lat", "lon", "abs_alt_m",
    "rel_alt_m", "gimbal_yaw_deg", "gimbal_pitch_deg", "gimbal_roll_deg", "flight_yaw_deg",
    "flight_pitch_deg", "flight_roll_deg", "focal_mm", "focal35_mm", "calibrated_focal_px",
)  # fmt: skip


def _inspect_photo(path: str) -> dict[str, Any]:
    """Report a photo's position, pose, and where its intrinsics come from."""
    report: dict[str, Any] = {"path": path, "format": "photo", "status": "read"}
    try:
        tags = gx.read_photo_tags(path)
    except gx.InputError as exc:
        return {**report, "status": "skipped", "reason": " ".join(str(exc).split())}
    values = dataclasses.asdict(tags)
    report["pose"] = {k: values.get(k) for k in _POSE_FIELDS if values.get(k) is not None}
    try:
        report["intrinsics"] = gx.camera_from_tags(values, path=path).source
    except gx.InputError as exc:
        report["problems"] = [" ".join(str(exc).split())]
        return report
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        captures = gx.read_captures(path)
    if len(captures):  # the footprint it gives, over flat ground
        row = captures.iloc[0]
        report["footprint"] = {
            "gsd_cm": round(float(row["gsd_cm"]), 2),
            "bounds_lonlat": [round(float(v), 6) for v in row.geometry.bounds],
            "flags": row["flags"],
        }
    return report


def _inspect_raster(path: str, kind: str, time_zone: str | None) -> dict[str, Any]:
    """Report an orthomosaic (as the capture it becomes) or an elevation model."""
    report: dict[str, Any] = {"path": path, "format": kind, "status": "read"}
    try:
        if kind == "orthomosaic":
            from geoexpose.imagery import read_orthomosaic

            ortho = read_orthomosaic(path, time_zone=time_zone).iloc[0]
            report["gsd_cm"] = round(float(ortho["gsd_cm"]), 2)
            report["bounds_lonlat"] = [round(float(v), 6) for v in ortho.geometry.bounds]
            report["flags"] = ortho["flags"]
        else:
            from geoexpose.imagery import open_dem

            with open_dem(path) as dem:
                report["crs"] = dem.crs.to_string()
                report["vertical_datum"] = dem.vertical
                report["size_px"] = [dem.dataset.width, dem.dataset.height]
                report["use"] = "an elevation model: give it to scan --dem"
    except (gx.InputError, gx.UsageError) as exc:
        return {**report, "status": "skipped", "reason": " ".join(str(exc).split())}
    return report


def _inspect_one(path: str, time_zone: str | None) -> dict[str, Any]:
    if Path(path).suffix.lower() in (".tif", ".tiff"):
        from geoexpose.imagery import sniff_geotiff

        kind = sniff_geotiff(path)
        if kind is not None:
            return _inspect_raster(path, kind, time_zone)
    if Path(path).suffix.lower() in _IMAGE_SUFFIXES:
        return _inspect_photo(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixes = gx.read_tracks(path, time_zone=time_zone)
    entries = fixes.attrs["geoexpose"]["files"]
    report: dict[str, Any] = dict(entries[0]) if entries else {"path": path, "status": "none"}
    report["warnings"] = [" ".join(str(w.message).split()) for w in caught]
    if len(fixes):
        t = fixes["time_utc"]
        report["time_span_utc"] = [t.min().isoformat(), t.max().isoformat()]
        b = fixes.total_bounds
        report["bounds_lonlat"] = [round(float(v), 6) for v in b]
        alt = fixes["alt_agl_m"]
        if alt.notna().any():
            report["alt_agl_m"] = [round(float(alt.min()), 1), round(float(alt.max()), 1)]
        report["alt_ref"] = sorted(fixes["alt_ref"].dropna().unique().tolist())
    elif report.get("status") == "skipped" and Path(path).suffix.lower() in _LAYER_SUFFIXES:
        notes = []
        try:  # not a track: perhaps a site layer
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                try:
                    sites = gx.read_sites(path)
                except gx.InputError as exc:
                    if "no family" not in str(exc):
                        raise
                    sites = gx.read_sites(path, family="unspecified")
                    notes.append("no family attribute: give scan --site-family")
        except gx.InputError:
            return report
        by_family = sites["family"].value_counts().sort_index()
        return {
            "path": path,
            "format": "sites",
            "status": "read",
            "rows_kept": len(sites),
            "sites_by_family": {str(k): int(v) for k, v in by_family.items()},
            "bounds_lonlat": [round(float(v), 6) for v in sites.total_bounds],
            "notes": notes,
        }
    return report


@main.group()
def layers() -> None:
    """Show the layer catalog; extract site layers from OpenStreetMap data."""


@layers.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def layers_list(as_json):
    """List the families and kinds of the catalog, the OpenStreetMap tags and registries."""
    from geoexpose.sites import load_osm_tags, load_registries

    catalog = gx.load_catalog()
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
        for fam in catalog.values()
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
    help="Only sites of this family (water, rail, power, military); repeatable.",
)
@click.option(
    "--bbox",
    default=None,
    metavar="W,S,E,N",
    help="Only sites that intersect this box: min_lon,min_lat,max_lon,max_lat.",
)
@click.option(
    "--standoff",
    multiple=True,
    metavar="FAMILY=M",
    help="Standoff override in metres, by family or kind; repeatable.",
)
@_OVERWRITE
def layers_extract(osm_file, out, families, bbox, standoff, overwrite):
    """Write the sites of OpenStreetMap data (.osm.pbf, .osm, .osm.gz, .osm.bz2) to OUT."""
    overrides = _standoffs(standoff)

    def run() -> None:
        from geoexpose.sites import extract_sites, parse_bbox

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

    _run(run)


@main.command("map")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--site", "site", default=None, help="Build only this site's map (its site_id).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file to write (default: FOLDER/map.html and FOLDER/sites/, "
    "or FOLDER/sites/<site_id>.html with --site).",
)
@_BASEMAP
@_OVERWRITE
def map_command(folder, site, out, basemap, overwrite):
    """Rebuild the maps (overview and one per exposed site) from a scan's output folder."""

    def run() -> None:
        written = gx.maps.rebuild_maps(
            folder, site=site, basemap=basemap, out=out, overwrite=overwrite
        )
        click.echo(str(written[0]))

    _run(run)


def _read_inputs(
    inputs: Iterable[str],
    *,
    strict: bool,
    split_gap_s: float,
    time_zone: str | None,
    every_s: float = 1.0,
    dem: Path | None = None,
) -> tuple[Any, Any]:
    """Read the tracks and captures under INPUTS; an error when no file could be read.

    Without photo files, the photo triggers of the logs become the captures.
    """
    import pandas as pd

    track_inputs, capture_inputs = _split_inputs(inputs)
    fixes = gx.read_tracks(
        track_inputs, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone, progress=True
    )
    captures = gx.read_captures(
        capture_inputs,
        dem=dem,
        every_s=every_s,
        time_zone=time_zone,
        strict=strict,
        progress=True,
    )
    if not (captures["kind"] == "photo").any() and track_inputs:
        # no photo files: the photos the logs say were taken stand in for them
        triggers = gx.read_trigger_poses(track_inputs, fixes=fixes, time_zone=time_zone)
        if len(triggers):
            from_logs = gx.captures_from_triggers(triggers, dem=dem)
            files_read = captures.attrs["geoexpose"]["files"]
            captures = pd.concat([captures, from_logs], ignore_index=True)
            captures.attrs["geoexpose"] = {"files": files_read}
            click.echo(f"{len(from_logs)} photos from the logs' photo triggers", err=True)
    files = fixes.attrs["geoexpose"]["files"] + captures.attrs["geoexpose"]["files"]
    if files and all(f["status"] == "skipped" for f in files):
        paths = dict.fromkeys(f["path"] for f in files)
        raise gx.InputError("no input could be read: " + "; ".join(paths))
    return fixes, captures


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@_SITES
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
    help="Audit policy (TOML). Default: military sites are neither entered nor imaged, "
    "and no site outside the authorized areas is imaged finer than 10 cm.",
)
@_out_folder("geoexpose_audit")
@_SITE_FAMILY
@_MAX_GAP_S
@_SPLIT_GAP_S
@_TIME_ZONE
@_BASEMAP
@_OVERWRITE
@click.option("--strict", is_flag=True, help="Stop at the first file that cannot be read.")
def audit(
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
    overwrite,
    strict,
):
    """Audit the flights and photos under INPUTS against a work order's authorized areas."""

    def run() -> None:
        rules = gx.read_policy(policy)  # a bad policy stops before any reading
        gx.check_outputs(out, overwrite=overwrite)
        sites = _read_sites(sites_layers, {}, site_family)
        fixes, captures = _read_inputs(
            inputs, strict=strict, split_gap_s=split_gap_s, time_zone=time_zone
        )
        result = gx.audit(
            sites, fixes, captures, authorized=list(authorized), policy=rules, max_gap_s=max_gap_s
        )
        result.write(
            out, overwrite=overwrite, basemap=basemap, extra_summary={"command": sys.argv[1:]}
        )
        f = result.findings
        counts = ", ".join(
            f"{int((f['severity'] == s).sum())} {s}" for s in ("high", "medium", "low")
        )
        click.echo(
            f"{len(result.by_flight)} flights, {len(captures)} captures: {len(f)} findings "
            f"({counts})",
            err=True,
        )
        for _, row in f.head(8).iterrows():
            site = row["site_id"] if isinstance(row["site_id"], str) else "-"
            click.echo(
                f"  {row['finding_id']}  {row['severity']:<6}  {row['rule']:<18}  "
                f"{row['flight_id']}  {site}  {row['duration_s']:.0f} s",
                err=True,
            )
        click.echo(str(out / "report.html"))

    _run(run)


@main.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True))
@_SITES
@_out_folder("geoexpose_scrubbed")
@_SITE_FAMILY
@_STANDOFF
@_TIME_ZONE
@_OVERWRITE
@click.option("--strict", is_flag=True, help="Stop at the first photo that cannot be read.")
def scrub(inputs, sites_layers, out, site_family, standoff, time_zone, overwrite, strict):
    """Copy the photos under INPUTS that show a site, without GPS and drone XMP."""
    from geoexpose.audit import SCRUB_LIST

    overrides = _standoffs(standoff)

    def run() -> None:
        sites = _read_sites(sites_layers, overrides, site_family)
        table = gx.scrub(
            list(inputs), sites, out, overwrite=overwrite, strict=strict, time_zone=time_zone
        )
        done = table["status"] == "scrubbed"
        click.echo(
            f"{int(done.sum())} photos that show a site scrubbed into {out}; "
            f"{int((~done).sum())} skipped",
            err=True,
        )
        for _, row in table[~done].iterrows():
            click.echo(f"  skipped {row['source']}: {row['reason']}", err=True)
        click.echo(str(out / SCRUB_LIST))

    _run(run)
