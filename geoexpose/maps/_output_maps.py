"""The maps of an output folder: ``map.html`` and ``sites/<site_id>.html``, written or rebuilt.

:func:`write_maps` writes the overview and a map for each of the most exposed sites
(chosen by :mod:`geoexpose.maps._site_choice`), linked both ways; every exposed site
stays on the overview, whose legend says which have a map. :func:`rebuild_maps` draws the maps again
from the folder's ``exposure.gpkg`` (read by :func:`load_output`), for instance
with another basemap or another choice of site maps.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyogrio

from geoexpose._atomic import output_folder, write_text_atomic
from geoexpose._fork import fork_map
from geoexpose.errors import InputError, OutputExistsError
from geoexpose.maps._canvas import check_basemap, lonlat_frame, thumbnails_of, write_page
from geoexpose.maps._layers import exposed_mask
from geoexpose.maps._site_choice import (
    SITE_MAPS_CAP,
    legend_section,
    pick_site_maps,
    site_file_names,
    site_maps_limit,
    site_maps_record,
)
from geoexpose.maps._site_data import SiteMapData
from geoexpose.maps._site_maps import explore_site, site_map
from geoexpose.maps._thumbnails import Thumbnails, any_images
from geoexpose.maps._tracks import flight_pieces
from geoexpose.maps.explore import explore, overview_map
from geoexpose.schema import (
    CAPTURE_KIND,
    FLIGHT_ID,
    GPKG_FILE,
    GPKG_LAYERS,
    MAP_FILE,
    PATH,
    SITE_ID,
    SITE_MAPS_FOLDER,
    SUMMARY_FILE,
    TIME_UTC,
)

__all__ = ["load_output", "rebuild_maps", "write_maps", "write_site_maps"]

logger = logging.getLogger(__name__)

_OVERVIEW_LINK = f"../{MAP_FILE}"  # from a site map back to the overview
_SHARE = 5  # site maps drawn by one forked child at a time
_MAPS = (MAP_FILE, SITE_MAPS_FOLDER)  # what the maps own in an output folder


def write_site_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    site_ids: Any = None,
    basemap: str | os.PathLike[str] = "none",
    overview: str | None = _OVERVIEW_LINK,
    thumbnails: bool | Thumbnails = True,
    data: SiteMapData | None = None,
) -> dict[str, Path]:
    """Write ``<site_id>.html`` into ``folder`` for each exposed site (or each of ``site_ids``).

    Without ``site_ids``, the maps are written as one transaction (see
    :mod:`geoexpose.outputs`), and those this function wrote in ``folder`` before for
    sites no longer exposed are removed (the folder's manifest lists them; no other
    file is touched, nothing through a symbolic link). The result is prepared once
    (``data``, made here when not given), so each map costs only the rows near its
    site.

    Returns
    -------
    dict
        The path written for each site id.
    """
    folder = Path(folder)
    basemap = check_basemap(basemap)
    sites = result.sites
    if site_ids is None:
        wanted = sites[SITE_ID][exposed_mask(sites)].astype(str).tolist()
    else:
        wanted = [str(i) for i in ([site_ids] if isinstance(site_ids, str) else site_ids)]
    wanted = list(dict.fromkeys(wanted))
    names = site_file_names(sites[SITE_ID], only=wanted)
    unknown = [i for i in wanted if i not in names]
    if unknown:
        raise InputError(f"site {unknown[0]!r}: not among the sites of the result")
    thumbs = thumbnails_of(thumbnails)
    if data is None and wanted:
        data = SiteMapData(result, site_ids=wanted)
    with contextlib.ExitStack() as stack:
        into = folder
        if site_ids is None:
            into = stack.enter_context(
                output_folder(folder, overwrite=True, error=OutputExistsError)
            )
        into.mkdir(parents=True, exist_ok=True)
        draw = _SiteMaps(result, into, names, basemap, thumbs, overview, data)
        written = dict(zip(wanted, map(draw, wanted), strict=True))
    written = {i: folder / p.name for i, p in written.items()}
    logger.info("wrote %d site maps in %s", len(written), folder)
    return written


class _SiteMaps:
    """Draw and write the map of one site, or of each of a list of sites."""

    def __init__(
        self,
        result: Any,
        folder: Path,
        names: Mapping[str, str],
        basemap: str | os.PathLike[str],
        thumbnails: Thumbnails | None,
        overview: str | None,
        data: SiteMapData | None,
    ) -> None:
        self.result, self.folder, self.names = result, folder, names
        self.basemap, self.thumbnails, self.overview, self.data = (
            basemap, thumbnails, overview, data,
        )  # fmt: skip

    def __call__(self, site_id: str) -> Path:
        m = site_map(
            self.result,
            site_id,
            basemap=self.basemap,
            thumbnails=self.thumbnails,
            overview=self.overview,
            data=self.data,
        )
        return write_page(m, self.folder / self.names[site_id])

    def each(self, site_ids: Sequence[str]) -> list[Path]:
        """Write the maps of ``site_ids``; return their paths."""
        return [self(i) for i in site_ids]


def write_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    basemap: str | os.PathLike[str] = "none",
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]] = (),
    site_maps: int | str = SITE_MAPS_CAP,
    workers: int = 1,
) -> list[Path]:
    """Write an output folder's maps: ``map.html`` and ``sites/<site_id>.html``.

    Parameters
    ----------
    result
        An exposure result, or a namespace with its frames.
    folder
        The output folder.
    basemap
        As for :func:`geoexpose.maps.explore`.
    layers
        Drawn on the overview, as for :func:`geoexpose.maps.explore`.
    site_maps
        Which sites get a map: the ``site_maps`` most exposed (``SITE_MAPS_CAP`` by
        default), ``"all"`` or ``"none"`` (see :func:`pick_site_maps`).
    workers
        Processes drawing the maps: from 2, the site maps are drawn in forked
        children while this process draws the overview (Linux, from a process with
        one thread; see :func:`geoexpose._fork.fork_map`). The files are the same.

    Returns
    -------
    list of Path
        The paths written: the overview first, then the site maps, most exposed first.

    Notes
    -----
    The overview's site popups link to the site maps, each site map links back, and
    the overview's legend says which sites have a map. The maps are written as one
    transaction (see :mod:`geoexpose.outputs`): the site maps written before in
    ``sites/`` that are not written again are removed (and the folder, when left
    empty), but only those the folder's manifest lists unchanged: no other file is
    touched, and nothing through a symbolic link.
    """
    with output_folder(
        folder, scope=_MAPS, overwrite=True, error=OutputExistsError
    ) as stage:  # fmt: skip
        written = _write_maps(result, stage, basemap, layers, site_maps, workers)
    return [Path(folder) / p.relative_to(stage) for p in written]


def _write_maps(
    result: Any,
    folder: Path,
    basemap: str | os.PathLike[str],
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]],
    site_maps: int | str,
    workers: int = 1,
) -> list[Path]:
    """Write the maps into ``folder`` (a staging folder): the overview and the site maps."""
    folder = Path(folder)
    basemap = check_basemap(basemap)
    chosen = pick_site_maps(result.sites, site_maps)
    thumbs = Thumbnails()
    # The tracks are cut and simplified once, for the overview and the site maps.
    flights = lonlat_frame(getattr(result, "flights", None), "flights", ())
    fixes = lonlat_frame(getattr(result, "fixes", None), "fixes", (FLIGHT_ID, TIME_UTC))
    params = dict(getattr(result, "params", None) or {})
    pieces = flight_pieces(flights, fixes, params)
    pieces = pieces.with_levels() if pieces is not None else None
    names = site_file_names(result.sites[SITE_ID], only=chosen) if chosen else {}
    links = {i: f"{SITE_MAPS_FOLDER}/{names[i]}" for i in chosen}
    data = SiteMapData(result, pieces=pieces, site_ids=chosen) if chosen else None
    if chosen:
        (folder / SITE_MAPS_FOLDER).mkdir(exist_ok=True)
    draw = _SiteMaps(
        result, folder / SITE_MAPS_FOLDER, names, basemap, thumbs, _OVERVIEW_LINK, data
    )
    shares = [chosen[k : k + _SHARE] for k in range(0, len(chosen), _SHARE)]

    def draw_overview() -> Path:
        m = overview_map(
            result,
            sites=None,
            flights=None,
            fixes=None,
            captures=None,
            capture_sites=None,
            basemap=basemap,
            colors=None,
            thumbnails=thumbs,
            site_pages=links,
            layers=layers,
            legend_sections=legend_section(result.sites, len(chosen)),
            pieces=pieces,
        )
        return write_page(m, folder / MAP_FILE)

    # The site maps are drawn in forked children where there are several workers,
    # each taking every n-th share. With photos, the overview is drawn first and the
    # children inherit its thumbnails; without, they draw while it is drawn.
    if _has_photos(result):
        overview = draw_overview()
        done = fork_map(draw.each, shares, workers=workers)
    else:
        done = fork_map(draw.each, shares, workers=workers)
        overview = draw_overview()
    with done:
        site_pages = [path for share in done for path in share]
    return [overview, *site_pages]


def _has_photos(result: Any) -> bool:
    """Whether any capture of the result is a photo file (the maps show its thumbnail)."""
    captures = getattr(result, "captures", None)
    if captures is None or CAPTURE_KIND not in captures or PATH not in captures:
        return False
    return any_images(captures[PATH].tolist(), captures[CAPTURE_KIND].tolist())


def load_output(folder: str | os.PathLike[str]) -> Any:
    """Read what the maps need from a scan's output folder (``exposure.gpkg``).

    Returns
    -------
    types.SimpleNamespace
        ``sites``, ``flights``, ``pairs``, ``footprints``, ``captures`` and
        ``capture_sites`` (each None where the layer is missing), ``fixes`` (None:
        the folder does not keep fixes) and ``params``.

    Raises
    ------
    InputError
        When ``folder`` has no ``exposure.gpkg``.
    """
    gpkg = Path(folder) / GPKG_FILE
    if not gpkg.is_file():
        raise InputError(f"{gpkg}: no such file; is {folder} a scan's output folder?")
    present = {str(row[0]) for row in pyogrio.list_layers(gpkg)}
    out: dict[str, Any] = {"fixes": None, "params": {}}
    for key, layer in GPKG_LAYERS.items():
        out[key] = pyogrio.read_dataframe(gpkg, layer=layer) if layer in present else None
    if out["sites"] is None:
        raise InputError(f"{gpkg}: no layer {GPKG_LAYERS['sites']!r}")
    return types.SimpleNamespace(**out)


def rebuild_maps(
    folder: str | os.PathLike[str],
    *,
    site: str | None = None,
    basemap: str | os.PathLike[str] = "none",
    out: str | os.PathLike[str] | None = None,
    overwrite: bool = False,
    site_maps: int | str = SITE_MAPS_CAP,
) -> list[Path]:
    """(Re)build the maps of a scan's output folder from its ``exposure.gpkg``.

    Parameters
    ----------
    folder
        The output folder of ``geoexpose scan``.
    site
        Build only this site's map (at ``sites/<site_id>.html``, or ``out``).
    basemap
        As for :func:`geoexpose.maps.explore`.
    out
        The HTML file to write instead: the overview (or, with ``site``, the site map).
    overwrite
        Replace existing maps; without it an existing map is an error.
    site_maps
        Without ``site`` and ``out``: which sites get a map, as for
        :func:`write_maps`; the ``site_maps`` entry of the folder's ``summary.json``
        is updated to match.

    Returns
    -------
    list of Path
        The files written. Without ``site`` and ``out``: ``map.html`` and the site
        maps. The folder keeps no fixes, so site maps show the positions of the
        flight lines inside the zone, without time or height.
    """
    folder = Path(folder)
    basemap = check_basemap(basemap)
    site_maps_limit(site_maps)
    result = load_output(folder)
    rel, overview = "", None
    if site is not None:
        names = site_file_names(result.sites[SITE_ID])
        if str(site) not in names:
            raise InputError(f"site {site!r}: not in {folder / GPKG_FILE}")
        rel = f"{SITE_MAPS_FOLDER}/{names[str(site)]}"
        overview = None if out else _OVERVIEW_LINK
    if out:
        target = Path(out)
        if os.path.lexists(target) and not overwrite:
            raise OutputExistsError(f"{target}: exists; pass --overwrite")
        if site is not None:
            m = explore_site(result, str(site), basemap=basemap, overview=overview)
            return [write_page(m, target)]
        return [write_page(explore(result, basemap=basemap), target)]
    scope = [rel] if site is not None else [*_MAPS, SUMMARY_FILE]
    check = [rel] if site is not None else list(_MAPS)
    with output_folder(
        folder, scope=scope, check=check, overwrite=overwrite, last=SUMMARY_FILE,
        error=OutputExistsError,
    ) as stage:  # fmt: skip
        if site is not None:
            m = explore_site(result, str(site), basemap=basemap, overview=overview)
            return [folder / write_page(m, stage / rel).relative_to(stage)]
        written = _write_maps(result, stage, basemap, (), site_maps)
        record = site_maps_record(result.sites, site_maps, written=written[1:])
        _update_summary(folder / SUMMARY_FILE, stage / SUMMARY_FILE, record)
    return [folder / p.relative_to(stage) for p in written]


def _update_summary(path: Path, target: Path, record: dict[str, Any]) -> None:
    """Write ``summary.json`` with the ``site_maps`` record to ``target``, atomically."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.info("%s: not updated (missing or not JSON)", path)
        return
    if isinstance(info, dict):
        info["site_maps"] = record
        write_text_atomic(target, json.dumps(info, indent=2, default=str) + "\n")
