"""Write the demo's inputs into a folder: the town's sites, its AirData tracks and photos."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geoexpose._atomic import atomic_path, write_text_atomic
from geoexpose.demo._airdata import airdata_file_name, airdata_table
from geoexpose.demo._flights import plan_flights
from geoexpose.demo._flown import fly
from geoexpose.demo._photos import photo_files
from geoexpose.demo._town import town_sites
from geoexpose.errors import OutputExistsError

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


def make_demo_inputs(folder: str | Path, *, overwrite: bool = False) -> DemoInputs:
    """Write the synthetic demo's sites and flight tracks into ``folder``.

    Parameters
    ----------
    folder
        Where to write; made if missing.
    overwrite
        Replace the demo's files where they exist. Without it an existing file of the
        same name is refused before anything is written. Only the demo's own file
        names are ever written (each atomically, a link replaced rather than followed);
        nothing else in the folder is touched.

    Returns
    -------
    DemoInputs
        The sites GeoJSON, the AirData CSV tracks, the photos (synthetic DJI JPEGs
        with EXIF and drone-dji XMP, one per ``isPhoto`` row of the tracks, in
        ``photos/flight<n>/``) and a short description.

    Raises
    ------
    OutputExistsError
        A file the demo writes exists and ``overwrite`` is false.

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
    sites = folder / "brenmoor_sites.geojson"
    texts: dict[Path, str] = {}
    photos: dict[Path, bytes] = {}
    for index, flight in enumerate(plan_flights()):
        rng = np.random.default_rng(_SEED + index)
        flown = fly(flight, rng)
        table = airdata_table(flown, flight.start, rng)
        texts[folder / airdata_file_name(flight.start)] = table.to_csv(
            index=False, lineterminator="\n"
        )
        photos |= photo_files(flown, flight.start, folder / "photos" / f"flight{index + 1}")
    existing = [p for p in (sites, *texts, *photos) if p.exists() or p.is_symlink()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass overwrite=True")
    with atomic_path(sites) as tmp:
        town_sites().to_file(tmp, driver="GeoJSON", layer=sites.stem)  # its "name"
    for path, text in texts.items():
        write_text_atomic(path, text)
        logger.debug("wrote %s", path)
    for path, data in photos.items():
        with atomic_path(path) as tmp:
            tmp.write_bytes(data)
    return DemoInputs(
        sites=sites, tracks=tuple(texts), description=_DESCRIPTION, photos=tuple(photos)
    )
