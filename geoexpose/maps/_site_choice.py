"""Which exposed sites get a map of their own, the file each map has, and what is said of them.

:func:`pick_site_maps` chooses the most exposed sites (highest ``exposure_score``
first, ties by ``site_id``; at most :data:`SITE_MAPS_CAP` by default, or a number,
``"all"`` or ``"none"``). :func:`site_maps_record` is what ``summary.json`` says of
them (key ``site_maps``)::

    {"limit": 50, "exposed_sites": 812, "written": 50,
     "maps": {"<site_id>": "sites/<file>.html", ...}}

``limit`` is the number asked for, ``"all"`` or ``"none"``; ``maps`` lists the
sites with a map, most exposed first. :func:`legend_section` is what the overview's
legend says of them.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import UsageError
from geoexpose.maps._layers import exposed_mask
from geoexpose.schema import EXPOSURE_SCORE, SITE_ID, SITE_MAPS_FOLDER

__all__ = [
    "SITE_MAPS_CAP",
    "legend_section",
    "pick_site_maps",
    "site_file_names",
    "site_maps_limit",
    "site_maps_record",
]

#: Site maps written by default: those of the 50 most exposed sites. Each map is a
#: self-contained page of about half a megabyte (Leaflet included), so a fleet scan
#: that exposes thousands of sites does not write thousands of them.
SITE_MAPS_CAP = 50

_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)$", re.IGNORECASE)


def site_file_names(site_ids: Any, *, only: Sequence[str] | None = None) -> dict[str, str]:
    """File name of each site's map: the id made safe, unique in any file system.

    Characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``;
    where two ids give the same name (letter case ignored), each takes the first 8
    hex digits of the SHA-1 of its id as a suffix. ``only``: return the names of
    these ids alone (those among ``site_ids``), still unique among all of them.

    >>> site_file_names(["osm:way/123", "W1"])
    {'osm:way/123': 'osm_way_123.html', 'W1': 'W1.html'}
    >>> site_file_names(["a/b", "A_b", "c"], only=["a/b", "c"])
    {'a/b': 'a_b-3ec69c85.html', 'c': 'c.html'}
    """
    text = pd.Series(site_ids)
    if not (isinstance(text.dtype, pd.StringDtype) and not text.isna().any()):
        text = pd.Series(text.to_numpy(dtype=object), dtype=object).astype(str)
    ids = pd.Series(pd.unique(text), dtype="string")  # text columns stay in Arrow
    safe = ids.str.replace(r"[^A-Za-z0-9._-]+", "_", regex=True).str.strip("._-").str[:120]
    safe = safe.where(safe != "", "site")
    safe = safe.where(~safe.str.match(_RESERVED.pattern, case=False), "_" + safe)
    if only is not None:  # the few ids asked for, against all the others
        mine = ids.isin([str(i) for i in only]).to_numpy(dtype=bool)
        ids, safe, lower = ids[mine], safe[mine], _clashing(safe.str.lower(), mine)
        clash = lower.to_numpy(dtype=bool)
    else:
        lower = pd.Series(safe.str.lower().to_numpy(dtype=object), dtype=object)
        clash = lower.duplicated(keep=False).to_numpy()  # hashing objects: quicker than Arrow's
    names = (safe + ".html").to_numpy(dtype=object)
    for k in np.flatnonzero(clash):
        digest = hashlib.sha1(str(ids.iloc[k]).encode("utf-8")).hexdigest()[:8]
        names[k] = f"{safe.iloc[k]}-{digest}.html"
    return dict(zip(ids.to_numpy(dtype=object).tolist(), names.tolist(), strict=True))


def _clashing(lower: pd.Series, mine: np.ndarray) -> pd.Series:
    """Whether each name of ``lower[mine]`` is also the name of another id (case ignored)."""
    wanted = lower[mine]
    same = lower[lower.isin(wanted.to_numpy(dtype=object)).to_numpy(dtype=bool)]
    counts = same.value_counts()
    return wanted.map(counts).fillna(0) > 1


def site_maps_limit(site_maps: int | str) -> int | None:
    """Return the number of site maps asked for (None: all); refuse anything else."""
    whole = isinstance(site_maps, int | np.integer) and not isinstance(site_maps, bool)
    if whole and int(site_maps) >= 0:
        return int(site_maps)
    text = site_maps.strip().lower() if isinstance(site_maps, str) else ""
    if text in ("all", "none"):
        return None if text == "all" else 0
    if text.isdigit():
        return int(text)
    raise UsageError(f"site maps: expected a whole number >= 0, 'all' or 'none', not {site_maps!r}")


def pick_site_maps(sites: pd.DataFrame, site_maps: int | str = SITE_MAPS_CAP) -> list[str]:
    """Choose the sites that get a map: the most exposed first, up to ``site_maps``.

    Parameters
    ----------
    sites
        Sites with their exposure columns (as ``result.sites``).
    site_maps
        How many: a whole number, ``"all"`` or ``"none"``.

    Returns
    -------
    list of str
        The ids of exposed sites (a score above 0, a flight or a capture), highest
        ``exposure_score`` first (a missing score counts as 0), ties by ``site_id``.

    >>> import geopandas as gpd, shapely
    >>> sites = gpd.GeoDataFrame(
    ...     {"site_id": ["c", "a", "b", "d"], "family": "water",
    ...      "exposure_score": [10.0, 55.0, 10.0, 0.0], "n_flights": [1, 2, 1, 0]},
    ...     geometry=[shapely.Point(0, 0)] * 4, crs=4326)
    >>> pick_site_maps(sites, 2), pick_site_maps(sites, "all"), pick_site_maps(sites, "none")
    (['a', 'b'], ['a', 'b', 'c'], [])
    """
    limit = site_maps_limit(site_maps)
    exposed = sites[exposed_mask(sites)]
    ids = exposed[SITE_ID].astype(str).to_numpy(dtype=object)
    score = (
        pd.to_numeric(exposed[EXPOSURE_SCORE], errors="coerce").to_numpy("float64")
        if EXPOSURE_SCORE in exposed
        else np.zeros(len(exposed))
    )
    rank = pd.DataFrame({"score": np.nan_to_num(score, nan=0.0), "id": ids})  # NaN as 0
    ranked = rank.sort_values(["score", "id"], ascending=[False, True], kind="stable")
    chosen = pd.unique(ranked["id"].to_numpy(dtype=object))
    return [str(i) for i in (chosen if limit is None else chosen[:limit])]


def site_maps_record(
    sites: pd.DataFrame,
    site_maps: int | str = SITE_MAPS_CAP,
    *,
    written: Sequence[str | os.PathLike[str]] | None = None,
) -> dict[str, Any]:
    """Say which sites have a map, for ``summary.json`` (see the module's docstring).

    ``written``: the site maps' paths as :func:`write_maps` returns them after the
    overview (most exposed first), to save working out their file names again.
    """
    limit = site_maps_limit(site_maps)
    chosen = pick_site_maps(sites, site_maps)
    if written is not None and len(written) == len(chosen):
        names = {i: Path(p).name for i, p in zip(chosen, written, strict=True)}
    else:
        names = site_file_names(sites[SITE_ID]) if chosen else {}
    n_exposed = int(sites.loc[exposed_mask(sites), SITE_ID].astype(str).nunique())
    return {
        "limit": "all" if limit is None else ("none" if limit == 0 else limit),
        "exposed_sites": n_exposed,
        "written": len(chosen),
        "maps": {i: f"{SITE_MAPS_FOLDER}/{names[i]}" for i in chosen},
    }


def legend_section(sites: pd.DataFrame, n_maps: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """Write the overview's legend lines on which sites have a map."""
    n_exposed = int(sites.loc[exposed_mask(sites), SITE_ID].astype(str).nunique())
    if n_exposed == 0:
        return []
    if n_maps == 0:
        text = f"none written ({n_exposed} exposed sites)"
    elif n_maps >= n_exposed:
        text = f"all {n_exposed} exposed sites have one, linked from their popups"
    else:
        text = (
            f"the {n_maps} most exposed of {n_exposed} exposed sites have one, "
            "linked from their popups"
        )
    return [("Site maps", [("display:none", text)])]
