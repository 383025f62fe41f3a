"""Write the demo's inputs into a folder: the town's sites, its AirData tracks and photos."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geoexpose.demo._airdata import airdata_file_name, airdata_table
from geoexpose.demo._flights import plan_flights
from geoexpose.demo._flown import fly
from geoexpose.demo._photos import write_photos
from geoexpose.demo._town import town_sites

__all__ = ["DemoInputs", "make_demo_inputs"]

logger = logging.getLogger(__name__)

_SEED = 20260612

_DESCRIPTION = (
    "Brenmoor is a small synthetic town that geoexpose makes up and places in the open "
    "North Atlantic at 52.0 N, 35.0 W, where no real town exists; its water works, rail "
    "yard and line, substation, power line and military depot are invented. On 12 June 2026 "
    "three synthetic drone flights (AirData CSV, with the photos they took) inspect the "
    "substation and stray across the depot, survey the rail line past the yard, and map "
    "the water works."
)


@dataclass(frozen=True)
class DemoInputs:
    """The files of the demo, as written by :func:`make_demo_inputs`."""

    sites: Path
    tracks: tuple[Path, ...]
    description: str
    photos: tuple[Path, ...] = ()


def make_demo_inputs(folder: str | Path) -> DemoInputs:
    """Write the synthetic demo's sites and flight tracks into ``folder``.

    Parameters
    ----------
    folder
        Where to write; made if missing. Files of an earlier run are replaced.

    Returns
    -------
    DemoInputs
        The sites GeoJSON, the AirData CSV tracks, the photos (synthetic DJI JPEGs
        with EXIF and drone-dji XMP, one per ``isPhoto`` row of the tracks, in
        ``photos/flight<n>/``) and a short description.

    Notes
    -----
    Everything is computed, with a fixed random seed, so the files are the same byte
    for byte on every run; nothing is downloaded. The sites are in EPSG:4326; the
    tracks carry heights in feet and speeds in miles per hour, as AirData writes them.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     demo = make_demo_inputs(folder)
    >>> demo.sites.name, demo.tracks[0].name
    ('brenmoor_sites.geojson', 'Jun-12th-2026-10-02AM-Flight-Airdata.csv')
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sites = folder / "brenmoor_sites.geojson"
    sites.unlink(missing_ok=True)
    town_sites().to_file(sites, driver="GeoJSON")
    tracks, photos = [], []
    for index, flight in enumerate(plan_flights()):
        path = folder / airdata_file_name(flight.start)
        rng = np.random.default_rng(_SEED + index)
        flown = fly(flight, rng)
        table = airdata_table(flown, flight.start, rng)
        table.to_csv(path, index=False, lineterminator="\n")
        logger.debug("wrote %s: %d rows", path, len(table))
        tracks.append(path)
        photos += write_photos(flown, flight.start, folder / "photos" / f"flight{index + 1}")
    return DemoInputs(
        sites=sites, tracks=tuple(tracks), description=_DESCRIPTION, photos=tuple(photos)
    )
