"""The maps of an output folder: ``map.html`` and ``sites/<site_id>.html``, written or rebuilt.

:func:`write_maps` writes the overview and one map per exposed site, linked both
ways; :func:`rebuild_maps` draws them again from the folder's ``exposure.gpkg``
(read by :func:`load_output`), for instance with another basemap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyogrio

from geoexpose.errors import InputError, OutputExistsError
from geoexpose.maps._canvas import check_basemap, lonlat_frame, thumbnails_of, write_page
from geoexpose.maps._layers import exposed_mask
from geoexpose.maps._site_maps import FixIndex, explore_site, site_map
from geoexpose.maps._thumbnails import Thumbnails
from geoexpose.maps.explore import explore
from geoexpose.schema import (
    FLIGHT_ID,
    GPKG_FILE,
    GPKG_LAYERS,
    MAP_FILE,
    SITE_ID,
    SITE_MAPS_FOLDER,
    TIME_UTC,
)

__all__ = ["load_output", "rebuild_maps", "site_file_names", "write_maps", "write_site_maps"]

logger = logging.getLogger(__name__)

_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)
_OVERVIEW_LINK = f"../{MAP_FILE}"  # from a site map back to the overview


def site_file_names(site_ids: Any) -> dict[str, str]:
    """File name of each site's map: the id made safe, unique in any file system.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``;
    where two ids give the same name (letter case ignored), each takes the first 8
    hex digits of the SHA-1 of its id as a suffix.

    >>> site_file_names(["osm:way/123", "W1"])
    {'osm:way/123': 'osm_way_123.html', 'W1': 'W1.html'}
    """
    ids = pd.Series(pd.unique(pd.Series(site_ids, dtype=object).astype(str)), dtype=object)
    safe = ids.str.replace(r"[^A-Za-z0-9._-]+", "_", regex=True).str.strip("._-").str[:120]
    safe = safe.where(safe != "", "site")
    safe = safe.where(~safe.str.match(_RESERVED), "_" + safe)
    clash = safe.str.lower().duplicated(keep=False).to_numpy()
    digest = ids[clash].map(lambda i: hashlib.sha1(i.encode("utf-8")).hexdigest()[:8])
    safe[clash] = safe[clash] + "-" + digest
    return dict(zip(ids, safe + ".html", strict=True))


def write_site_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    site_ids: Any = None,
    basemap: str | os.PathLike[str] = "none",
    overview: str | None = _OVERVIEW_LINK,
    thumbnails: bool | Thumbnails = True,
) -> dict[str, Path]:
    """Write ``<site_id>.html`` into ``folder`` for each exposed site (or each of ``site_ids``).

    Without ``site_ids``, the maps in ``folder`` of sites no longer exposed are removed.

    Returns
    -------
    dict
        The path written for each site id.
    """
    folder = Path(folder)
    basemap = check_basemap(basemap)
    sites = result.sites
    names = site_file_names(sites[SITE_ID])
    if site_ids is None:
        wanted = sites[SITE_ID][exposed_mask(sites)].astype(str).tolist()
    else:
        wanted = [str(i) for i in ([site_ids] if isinstance(site_ids, str) else site_ids)]
    unknown = [i for i in wanted if i not in names]
    if unknown:
        raise InputError(f"site {unknown[0]!r}: not among the sites of the result")
    thumbs = thumbnails_of(thumbnails)
    fixes = lonlat_frame(getattr(result, "fixes", None), "fixes", (FLIGHT_ID, TIME_UTC))
    index = FixIndex(fixes)
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for site_id in wanted:
        m = site_map(
            result,
            site_id,
            basemap=basemap,
            thumbnails=thumbs,
            overview=overview,
            fix_index=index,
        )
        written[site_id] = write_page(m, folder / names[site_id])
    if site_ids is None:
        keep = {p.name for p in written.values()}
        for old in folder.glob("*.html"):
            if old.name not in keep:
                old.unlink()
    logger.info("wrote %d site maps in %s", len(written), folder)
    return written


def write_maps(
    result: Any,
    folder: str | os.PathLike[str],
    *,
    basemap: str | os.PathLike[str] = "none",
    layers: Sequence[tuple[str, Mapping[str, Any], list[tuple[str, str]]]] = (),
) -> list[Path]:
    """Write an output folder's maps: ``sites/<site_id>.html`` per exposed site, ``map.html``.

    The overview's site popups link to the site maps, and each site map links back.
    Site maps of sites no longer exposed are removed from ``sites/``. ``layers`` are
    drawn on the overview, as for :func:`geoexpose.maps.explore`. Returns the paths
    written, the overview first.
    """
    folder = Path(folder)
    basemap = check_basemap(basemap)
    thumbs = Thumbnails()
    written = write_site_maps(
        result,
        folder / SITE_MAPS_FOLDER,
        basemap=basemap,
        overview=_OVERVIEW_LINK,
        thumbnails=thumbs,
    )
    links = {i: f"{SITE_MAPS_FOLDER}/{p.name}" for i, p in written.items()}
    m = explore(result, basemap=basemap, thumbnails=thumbs, site_pages=links, layers=layers)
    return [write_page(m, folder / MAP_FILE), *written.values()]


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

    Returns
    -------
    list of Path
        The files written. Without ``site`` and ``out``: ``map.html`` and the site
        maps. The folder keeps no fixes, so site maps show the positions of the
        flight lines inside the zone, without time or height.
    """
    folder = Path(folder)
    basemap = check_basemap(basemap)
    result = load_output(folder)
    if site is not None:
        names = site_file_names(result.sites[SITE_ID])
        if str(site) not in names:
            raise InputError(f"site {site!r}: not in {folder / GPKG_FILE}")
        target = Path(out) if out else folder / SITE_MAPS_FOLDER / names[str(site)]
        overview = None if out else _OVERVIEW_LINK
        targets = [target]
    else:
        target = Path(out) if out else folder / MAP_FILE
        targets = [target] + ([] if out else [folder / SITE_MAPS_FOLDER])
    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass --overwrite")
    if site is not None:
        m = explore_site(result, str(site), basemap=basemap, overview=overview)
        return [write_page(m, target)]
    if out:
        return [write_page(explore(result, basemap=basemap), target)]
    return write_maps(result, folder, basemap=basemap)
