"""Write a scan's output folder: exposure.gpkg, the CSVs, summary.json and the maps.

The folder is written as one transaction (:func:`output_transaction`): locked against
a second writer, every file written into a hidden staging folder beside the outputs
and moved into place at the end, ``summary.json`` last, so that a folder with
``summary.json`` holds one complete run. ``.geoexpose-manifest.json`` lists every
file written with its size and SHA-256; ``overwrite`` removes only the files of the
previous run that it lists and that still match it, never through a symbolic link.
Existing outputs are refused, before anything is written, unless ``overwrite`` is
given. CSV cells that a spreadsheet would run as a formula are neutralised
(:func:`csv_table`). Site maps (``sites/<site_id>.html``) are written for the
most exposed sites, ``SITE_MAPS_CAP`` (50) by default, and ``summary.json`` says
which under ``site_maps`` (see :mod:`geoexpose.maps`). Every output costs
O(fixes + sites). ``exposure.gpkg`` is written by :mod:`geoexpose.outputs._gpkg`
(for a large scan, by a forked child while the maps are drawn).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import platform
from collections import Counter
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from geoexpose._atomic import atomic_path, check_targets, output_folder, write_text_atomic
from geoexpose._version import __version__
from geoexpose.errors import OutputExistsError
from geoexpose.maps import SITE_MAPS_CAP, pick_site_maps, site_maps_record, write_maps
from geoexpose.outputs._gpkg import written_aside
from geoexpose.schema import (
    AIRCRAFT_CSV,
    AIRCRAFT_ID,
    EXPOSURE_COLUMNS,
    FAMILY,
    FLIGHT_ID,
    GPKG_FILE,
    KIND,
    MAP_FILE,
    NAME,
    OPERATOR,
    OUTPUT_FILES,
    PAIRS_CSV,
    SITE_ID,
    SITE_MAPS_FOLDER,
    SITES_CSV,
    STANDOFF_M,
    SUMMARY_FILE,
)

if TYPE_CHECKING:
    from geoexpose.exposure import ExposureResult

__all__ = [
    "FORMULA_START",
    "OUTPUT_FILES",
    "SITE_MAPS_CAP",
    "check_outputs",
    "csv_table",
    "output_names",
    "output_transaction",
    "summary",
    "write_outputs",
]

#: What a text cell starts with when a spreadsheet would run it as a formula (OWASP's
#: list): such cells are written with a ``'`` in front.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

logger = logging.getLogger(__name__)


def csv_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Prepare a table for CSV.

    Tz-aware datetimes become ISO 8601 UTC text (``2026-06-12T10:02:03.400Z``) and
    floats are rounded to 3 decimals (millimetres, milliseconds); the GeoPackage
    keeps full precision. A text cell that starts with one of :data:`FORMULA_START`
    (``=``, ``+``, ``-``, ``@``, tab, carriage return), which a spreadsheet would run
    as a formula, gets a ``'`` in front (the OWASP advice on CSV injection); numbers,
    negative ones included, are left as they are. A carriage return inside a text
    cell becomes a line feed, which the CSV writer quotes, so that no cell can start
    a row of its own.

    >>> csv_table(pd.DataFrame({"name": ["=1+1", "-x", "a-b"], "dz_m": [-1.5, 2.0, 0.0]}))
        name  dz_m
    0  '=1+1  -1.5
    1    '-x   2.0
    2    a-b   0.0
    """
    out = frame.copy()
    floats = out.select_dtypes("float").columns
    out[floats] = out[floats].round(3)
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            t = out[col].dt.tz_convert("UTC")
            text = t.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
            out[col] = text.where(t.notna(), "")
    for col in out.select_dtypes(["object", "string", "category"]).columns:
        cells = out[col].astype(object)
        try:  # non-text cells (numbers, None) give NA: left as they are
            live = cells.str.startswith(FORMULA_START, na=False).astype(bool)
        except AttributeError:  # no text in the column
            continue
        if live.any():
            cells = cells.copy()
            cells[live] = "'" + cells[live]
        carriage = cells.str.contains("\r", regex=False, na=False).astype(bool)
        if carriage.any():  # a CR inside a cell is not quoted: it would start a row
            cells = cells.copy()
            cells[carriage] = cells[carriage].str.replace("\r\n?", "\n", regex=True)
        if live.any() or carriage.any():
            out[col] = cells
    return out


def _versions() -> dict[str, str]:
    import numpy
    import pyogrio
    import pyproj
    import shapely

    return {
        "geoexpose": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "geopandas": gpd.__version__,
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "pyproj": pyproj.__version__,
        "proj": pyproj.proj_version_str,
        "pyogrio": pyogrio.__version__,
        "gdal": pyogrio.__gdal_version_string__,
    }


def summary(result: ExposureResult, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Summarise what went in and what came out, for ``summary.json``.

    Parameters
    ----------
    result
        The result of :func:`geoexpose.expose`.
    extra
        More entries to record (e.g. the command line's inputs and options).
    """
    files = list(result.inputs.get("tracks", []))
    capture_files = list(result.inputs.get("captures", []))
    dropped: Counter[str] = Counter()
    for entry in files:
        dropped.update(entry.get("dropped", {}))
    exposed = result.exposed
    out: dict[str, Any] = {
        "created_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "parameters": result.params,
        "inputs": {
            "track_files": files,
            "site_layers": result.inputs.get("sites", []),
            "capture_files": capture_files,
        },
        "rows": {
            "fixes_read": int(sum(e.get("rows_read", 0) for e in files)),
            "fixes_kept": 0 if result.fixes is None else len(result.fixes),
            "fixes_dropped": dict(sorted(dropped.items())),
            "captures": len(result.captures),
            "captures_matched_to_flights": int(result.captures[FLIGHT_ID].notna().sum()),
        },
        "files_skipped": [
            {"path": e["path"], "reason": e.get("reason")}
            for e in files + capture_files
            if e.get("status") == "skipped"
        ],
        "results": {
            "sites": len(result.sites),
            "exposed_sites": len(exposed),
            "exposed_by_family": {
                str(k): int(v) for k, v in exposed[FAMILY].value_counts().sort_index().items()
            },
            "flights": len(result.flights),
            "flight_site_pairs": len(result.pairs),
            "capture_site_pairs": len(result.capture_sites),
            "imaged_sites": len(result.footprints),
            "aircraft": int(result.aircraft[AIRCRAFT_ID].notna().sum()),
        },
        "versions": _versions(),
    }
    if extra:
        out.update(extra)
    return out


def output_names(*, map_html: bool = True) -> list[str]:
    """Return the top-level names of a scan's output folder (files and ``sites``)."""
    names = [n for n in OUTPUT_FILES if map_html or n != MAP_FILE]
    return names + ([SITE_MAPS_FOLDER] if map_html else [])


def check_outputs(
    folder: str | Path,
    *,
    overwrite: bool = False,
    map_html: bool = True,
    names: Collection[str] | None = None,
) -> None:
    """Raise :class:`OutputExistsError` if an output exists in ``folder`` and not ``overwrite``.

    ``names``: the outputs to look for (default: :func:`output_names`). A symbolic
    link counts as an output that exists, even a broken one; one to a folder
    (``sites -> ../website``) is refused even with ``overwrite``, since geoexpose
    writes and removes nothing through links.
    """
    names = output_names(map_html=map_html) if names is None else names
    check_targets(Path(folder), names, overwrite=overwrite, error=OutputExistsError)


@contextmanager
def output_transaction(
    folder: str | Path,
    names: Collection[str] | None = None,
    *,
    overwrite: bool = False,
    check: Collection[str] | None = None,
) -> Iterator[Path]:
    """Write an output folder as one transaction; yield the staging folder to write into.

    Parameters
    ----------
    folder
        The output folder; made if needed.
    names
        The top-level names (files, folders) this write owns (default: those of
        :func:`output_names`); the previous run's files under them that its manifest
        lists are replaced or, when not written again, removed.
    overwrite
        Replace existing outputs; without it an existing one is refused.
    check
        The names refused without ``overwrite`` (default: ``names``).

    Raises
    ------
    OutputExistsError
        An output exists and not ``overwrite``; a linked output folder; another
        process is writing ``folder``.

    Notes
    -----
    Nested inside another transaction (``folder`` is its staging folder), it yields
    ``folder`` itself. ``summary.json`` is moved in last: a folder without it did
    not finish.
    """
    owned = output_names() if names is None else names
    with output_folder(
        folder, scope=owned, check=check, overwrite=overwrite, last=SUMMARY_FILE,
        error=OutputExistsError,
    ) as stage:  # fmt: skip
        yield stage


def write_outputs(
    result: ExposureResult,
    folder: str | Path,
    *,
    overwrite: bool = False,
    basemap: str | Path = "none",
    map_html: bool = True,
    extra_summary: Mapping[str, Any] | None = None,
    site_maps: int | str = SITE_MAPS_CAP,
    workers: int = 1,
) -> Path:
    """Write the output folder of a scan.

    Parameters
    ----------
    result
        The result of :func:`geoexpose.expose`.
    folder
        The output folder; made if needed.
    overwrite
        Replace existing outputs. Without it an existing output file is an error,
        raised before anything is written. The previous run's files that this one
        does not write again (site maps of sites no longer chosen) are removed when
        the folder's manifest lists them unchanged; other files are left alone.
    basemap
        The maps' basemap: ``"none"`` (default), ``"osm"`` or a local GeoTIFF.
    map_html
        Write ``map.html`` and ``sites/<site_id>.html`` (needs folium).
    extra_summary
        More entries for ``summary.json``.
    site_maps
        Which sites get a map of their own: the ``site_maps`` most exposed (highest
        ``exposure_score`` first, ties by ``site_id``; ``SITE_MAPS_CAP`` = 50 by
        default), ``"all"`` or ``"none"``. Every exposed site stays in the tables
        and on the overview; ``summary.json`` lists the maps under ``site_maps``
        (``limit``, ``exposed_sites``, ``written``, ``maps``: site id to file).
    workers
        Processes drawing the maps (see :func:`geoexpose.maps.write_maps`).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is false, ``sites`` is a link to a
        folder, or another process is writing the folder.
    UsageError
        ``site_maps`` is not a whole number >= 0, ``"all"`` or ``"none"``.

    Notes
    -----
    Written as one transaction (:func:`output_transaction`): on an error nothing of
    this run reaches the folder.
    """
    folder = Path(folder)
    check_outputs(folder, overwrite=overwrite, map_html=map_html)
    if map_html:
        pick_site_maps(result.sites, site_maps)  # a bad value is refused before writing
    names = output_names(map_html=map_html)
    with output_transaction(folder, names, overwrite=overwrite) as stage:
        _write_files(result, stage, basemap, map_html, extra_summary, site_maps, workers)
    logger.info("wrote %s", folder)
    return folder


def _write_files(
    result: ExposureResult,
    folder: Path,
    basemap: str | Path,
    map_html: bool,
    extra_summary: Mapping[str, Any] | None,
    site_maps: int | str,
    workers: int,
) -> None:
    """Write the files of the output folder into ``folder`` (a staging folder)."""
    with atomic_path(folder / GPKG_FILE) as tmp, written_aside(result, tmp):
        columns = [SITE_ID, FAMILY, KIND, NAME, *EXPOSURE_COLUMNS, STANDOFF_M, OPERATOR]
        exposed = result.exposed
        table = csv_table(pd.DataFrame(exposed[[c for c in columns if c in exposed]]))
        write_text_atomic(folder / SITES_CSV, table.to_csv(index=False, lineterminator="\n"))
        write_text_atomic(
            folder / PAIRS_CSV, csv_table(result.pairs).to_csv(index=False, lineterminator="\n")
        )
        aircraft = csv_table(result.aircraft).to_csv(index=False, lineterminator="\n")
        write_text_atomic(folder / AIRCRAFT_CSV, aircraft)
        extra = {}
        if map_html:
            maps = write_maps(result, folder, basemap=basemap, site_maps=site_maps, workers=workers)
            extra["site_maps"] = site_maps_record(result.sites, site_maps, written=maps[1:])
        info = summary(result, {**extra, **(extra_summary or {})})
        write_text_atomic(folder / SUMMARY_FILE, json.dumps(info, indent=2, default=str) + "\n")
