"""Read what a briefing shows from an output folder as written: layers, summary, findings.

Nothing is computed again: the numbers printed are those of the folder's
``exposure.gpkg`` (the same as ``site_exposure.csv``), and the geometry drawn is
the folder's (sites, flights, footprints, captures), projected into one metric
band per map (:mod:`geoexpose.projection`).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geoexpose.maps import load_output
from geoexpose.schema import (
    CAPTURE_ID,
    EXPOSURE_SCORE,
    GPKG_FILE,
    N_CAPTURES,
    N_FLIGHTS,
    SITE_ID,
    SUMMARY_FILE,
)

__all__ = ["FINDINGS_LAYER", "Briefing", "read_folder"]

logger = logging.getLogger(__name__)

#: The layer of an audit's exposure.gpkg that holds its findings.
FINDINGS_LAYER = "findings"


@dataclass(frozen=True)
class Briefing:
    """What a briefing draws, as the output folder holds it.

    Attributes
    ----------
    folder
        The output folder.
    sites
        Every site of the scan (layer ``sites``).
    exposed
        The exposed sites, highest ``exposure_score`` first (the rows of
        ``site_exposure.csv``).
    flights, pairs, footprints, captures, capture_sites
        The other layers (empty frames where the folder has none).
    findings
        An audit's findings, or None for a scan.
    summary
        ``summary.json`` (empty when the folder has none).
    """

    folder: Path
    sites: gpd.GeoDataFrame
    exposed: gpd.GeoDataFrame
    flights: gpd.GeoDataFrame
    pairs: pd.DataFrame
    footprints: gpd.GeoDataFrame
    captures: gpd.GeoDataFrame
    capture_sites: pd.DataFrame
    findings: pd.DataFrame | None
    summary: dict[str, Any]


def _frame(value: Any, geo: bool) -> Any:
    if value is None:
        return gpd.GeoDataFrame(geometry=[], crs="EPSG:4326") if geo else pd.DataFrame()
    if geo and isinstance(value, gpd.GeoDataFrame) and value.crs is not None:
        return value.to_crs("EPSG:4326") if not value.crs.equals("EPSG:4326") else value
    return value


def _exposed(sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    hit = np.zeros(len(sites), dtype=bool)
    for col in (N_FLIGHTS, N_CAPTURES):
        if col in sites:
            hit |= pd.to_numeric(sites[col], errors="coerce").fillna(0).to_numpy() > 0
    out = sites[hit]
    if EXPOSURE_SCORE in out:
        out = out.sort_values(EXPOSURE_SCORE, ascending=False, kind="stable")
    return out


def _summary(folder: Path) -> dict[str, Any]:
    path = folder / SUMMARY_FILE
    if not path.is_file():
        logger.warning("%s: no such file; the briefing says what the layers hold", path)
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        logger.warning("%s: not read (%s)", path, exc)
        return {}
    return info if isinstance(info, dict) else {}


def read_folder(folder: str | os.PathLike[str]) -> Briefing:
    """Read an output folder of ``geoexpose scan``, ``demo`` or ``audit``.

    Raises
    ------
    InputError
        The folder has no ``exposure.gpkg``, or it has no ``sites`` layer.
    """
    folder = Path(folder)
    out = load_output(folder)
    sites = _frame(out.sites, True)
    if SITE_ID in sites:
        sites[SITE_ID] = sites[SITE_ID].astype(str)
    gpkg = folder / GPKG_FILE
    findings = None
    if FINDINGS_LAYER in {str(row[0]) for row in pyogrio.list_layers(gpkg)}:
        findings = pyogrio.read_dataframe(gpkg, layer=FINDINGS_LAYER, read_geometry=False)
    capture_sites = _frame(out.capture_sites, False)
    captures = _frame(out.captures, True)
    for frame in (capture_sites, captures):
        if CAPTURE_ID in frame:
            frame[CAPTURE_ID] = frame[CAPTURE_ID].astype(str)
    return Briefing(
        folder=folder,
        sites=sites,
        exposed=_exposed(sites),
        flights=_frame(out.flights, True),
        pairs=_frame(out.pairs, False),
        footprints=_frame(out.footprints, True),
        captures=captures,
        capture_sites=capture_sites,
        findings=findings,
        summary=_summary(folder),
    )
