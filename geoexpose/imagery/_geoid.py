"""Vertical datums: what a DEM's heights are measured from, and geoid heights from PROJ grids.

Heights come in three kinds here: ``ellipsoid`` (above the WGS 84 ellipsoid, what GNSS
and DJI RTK fixes give), ``egm96`` and ``egm2008`` (above those geoids, "mean sea level";
EGM96 is what most non-RTK receivers report, EGM2008 what Copernicus DEMs use). The geoid
height ``N`` (of the geoid above the ellipsoid, -107 to +86 m) links them:
``h_ellipsoid = H_geoid + N``.

``N`` comes from the PROJ grid files, read offline by pyproj: ``us_nga_egm96_15.tif`` or
``egm96_15.gtx`` (Debian package ``proj-data`` installs the latter in /usr/share/proj),
``us_nga_egm08_25.tif`` or ``egm08_25.gtx``. They are looked for in pyproj's data
folders, ``PROJ_DATA``, ``PROJ_LIB``, the PROJ user folder (where ``projsync`` puts them)
and /usr/share/proj, /usr/local/share/proj. Nothing is ever downloaded. Where the
EGM2008 grid is missing, the EGM96 one stands in for it (they differ by less than 1-2 m
almost everywhere; flagged ``geoid_approximate``).
"""

from __future__ import annotations

import contextlib
import functools
import os
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer

from geoexpose.errors import UsageError

__all__ = [
    "EGM96",
    "EGM2008",
    "ELLIPSOID",
    "UNKNOWN",
    "VERTICAL_DATUMS",
    "find_geoid_grid",
    "geoid_height",
    "height_shift",
    "vertical_datum",
]

ELLIPSOID = "ellipsoid"
EGM96 = "egm96"
EGM2008 = "egm2008"
UNKNOWN = "unknown"
VERTICAL_DATUMS = (ELLIPSOID, EGM96, EGM2008, UNKNOWN)

_GRIDS = {
    EGM96: ("us_nga_egm96_15.tif", "egm96_15.gtx"),
    EGM2008: ("us_nga_egm08_25.tif", "egm08_25.gtx"),
}
_VERTICAL_EPSG = {5773: EGM96, 3855: EGM2008}
_SYSTEM_DIRS = ("/usr/share/proj", "/usr/local/share/proj")


def vertical_datum(crs: CRS) -> str:
    """Tell what the heights of a raster in ``crs`` are measured from.

    Returns ``ellipsoid`` for a 3-D geographic or projected CRS, ``egm96`` or
    ``egm2008`` for a compound CRS with that vertical part, ``unknown`` for a 2-D CRS
    (most DEM files say nothing about their heights), and ``other:NAME`` for any other
    vertical CRS.

    >>> vertical_datum(CRS.from_user_input("EPSG:32633+5773"))
    'egm96'
    >>> vertical_datum(CRS.from_epsg(4979)), vertical_datum(CRS.from_epsg(32633))
    ('ellipsoid', 'unknown')
    """
    if crs.is_compound:
        for sub in crs.sub_crs_list:
            if sub.is_vertical:
                code = sub.to_epsg()
                if code in _VERTICAL_EPSG:
                    return _VERTICAL_EPSG[code]
                name = sub.name.upper().replace(" ", "")
                for key in (EGM2008, EGM96):
                    if key.upper() in name:
                        return key
                return f"other:{sub.name}"
        return UNKNOWN
    if len(crs.axis_info) == 3 and (crs.is_geographic or crs.is_projected):
        return ELLIPSOID
    return UNKNOWN


def _search_dirs() -> list[Path]:
    import pyproj.datadir

    found: list[str] = []
    with contextlib.suppress(Exception):  # pyproj without its data is broken anyway
        found += pyproj.datadir.get_data_dir().split(os.pathsep)
    for var in ("PROJ_DATA", "PROJ_LIB"):
        found += [p for p in os.environ.get(var, "").split(os.pathsep) if p]
    found.append(pyproj.datadir.get_user_data_dir())
    found += list(_SYSTEM_DIRS)
    return [Path(p) for p in dict.fromkeys(found)]


@functools.cache
def find_geoid_grid(model: str) -> Path | None:
    """Path of the PROJ grid of ``model`` (``egm96`` or ``egm2008``) on this machine, or None."""
    for folder in _search_dirs():
        for name in _GRIDS[model]:
            if (folder / name).is_file():
                return folder / name
    return None


@functools.cache
def _grid_transformer(path: Path) -> Transformer:
    return Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
        f"+step +proj=vgridshift +grids={path} +multiplier=1 "
        "+step +proj=unitconvert +xy_in=rad +xy_out=deg"
    )


def _geoid(lon: np.ndarray, lat: np.ndarray, model: str) -> tuple[np.ndarray, bool]:
    """Geoid height of ``model``, and whether the EGM96 grid stood in for EGM2008."""
    path = find_geoid_grid(model)
    approx = False
    if path is None and model == EGM2008:
        path, approx = find_geoid_grid(EGM96), True
    if path is None:
        raise UsageError(
            f"the {model.upper()} geoid grid ({' or '.join(_GRIDS[model])}) is not installed: "
            "apt-get install proj-data, or projsync --file us_nga_egm96_15.tif"
        )
    _, _, n = _grid_transformer(path).transform(lon, lat, np.zeros_like(lon))
    n = np.asarray(n, dtype="float64")
    return np.where(np.abs(n) < 1000, n, np.nan), approx


def geoid_height(lon: np.ndarray, lat: np.ndarray, model: str = EGM96) -> np.ndarray:
    """Height ``N`` of the geoid above the WGS 84 ellipsoid, metres.

    Raises
    ------
    UsageError
        When no grid of the model (nor, for EGM2008, of EGM96) is installed.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
    lat = np.broadcast_to(np.asarray(lat, dtype="float64"), lon.shape)
    return _geoid(lon, lat, model)[0]


def height_shift(
    lon: np.ndarray, lat: np.ndarray, source: str, target: str
) -> tuple[np.ndarray, str]:
    """Return what to add to heights from ``source`` to get them from ``target``.

    Both are ``ellipsoid``, ``egm96`` or ``egm2008``. Returns the shift in metres and
    ``geoid_approximate`` where the EGM96 grid stood in for EGM2008, else ``""``.

    Raises
    ------
    UsageError
        When a geoid grid that is needed is not installed.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype="float64"))
    lat = np.broadcast_to(np.asarray(lat, dtype="float64"), lon.shape)
    if source == target:
        return np.zeros(lon.shape), ""
    shift = np.zeros(lon.shape)
    approx = False
    for name, sign in ((source, 1.0), (target, -1.0)):
        if name != ELLIPSOID:
            n, a = _geoid(lon, lat, name)
            shift += sign * n
            approx |= a
    return shift, "geoid_approximate" if approx else ""
