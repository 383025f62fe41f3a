"""Write the layers of a scan's ``exposure.gpkg``, through Arrow, aside in a forked child.

:func:`written_aside` writes every layer while the body writes the folder's other
files: from :data:`FORK_SITES` sites on, on Linux, from a process with one thread
(:func:`geoexpose._fork.can_fork`), a forked child writes it (GDAL holds the GIL while
it writes, so a thread would not overlap); else it is written first. :func:`gpkg_table`
makes a frame's datetimes storable without copying its other columns (a forked writer
that copied 300,000 sites would touch, and so copy, every page of their geometries).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geoexpose._fork import can_fork
from geoexpose.schema import GPKG_FILE, GPKG_LAYERS

if TYPE_CHECKING:
    from geoexpose.exposure import ExposureResult

__all__ = ["FORK_SITES", "gpkg_table", "write_layer", "written_aside"]

#: Sites from which ``exposure.gpkg`` is written by a forked process while the maps are
#: drawn (where the system can fork): about 2 s for 300,000 sites.
FORK_SITES = 50_000


def _write_gpkg(result: ExposureResult, path: Path) -> None:
    """Write every layer of ``exposure.gpkg`` to ``path``."""
    layers = GPKG_LAYERS
    for table in ("sites", "flights", "pairs"):
        write_layer(gpkg_table(getattr(result, table)), path, layers[table])
    # the imagery layers, written also when empty so that scripts find them; the
    # captures with the aircraft of their flight where they name none
    imagery = {
        "footprints": "footprints",
        "attributed_captures": "captures",
        "capture_sites": "capture_sites",
    }
    for table, layer in imagery.items():
        frame = getattr(result, table)
        unknown = isinstance(frame, gpd.GeoDataFrame)
        write_layer(gpkg_table(frame), path, layers[layer], unknown_geometry=unknown)
    write_layer(gpkg_table(result.aircraft), path, layers["aircraft"])  # one row per aircraft


@contextmanager
def written_aside(result: ExposureResult, path: Path) -> Iterator[None]:
    """Write ``exposure.gpkg`` to ``path`` while the body writes the other files.

    From ``FORK_SITES`` sites on, on Linux, a forked child writes it (GDAL holds the
    GIL while it writes: a thread would not overlap); the context waits for it at
    its end and raises its error, naming the file. Else it is written first, here.
    """
    if not can_fork() or len(result.sites) < FORK_SITES:
        _write_gpkg(result, path)
        yield
        return
    result.flights  # noqa: B018  (made once, here, for the child and for the maps)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: write, report any error through the pipe, leave at once
        os.close(read_end)
        status = 1
        try:
            _write_gpkg(result, path)
            status = 0
        except BaseException as exc:  # whatever it is, the parent says it
            os.write(write_end, f"{type(exc).__name__}: {exc}".encode()[:2000])
        finally:
            os._exit(status)
    os.close(write_end)
    try:
        yield
    finally:
        with os.fdopen(read_end, "rb") as pipe:
            message = pipe.read().decode("utf-8", "replace")
        _, status = os.waitpid(pid, 0)
    if status != 0:
        raise OSError(f"{GPKG_FILE}: not written: {message or f'writer status {status}'}")


def _arrow_writes() -> bool:
    """Whether pyogrio can write through Arrow here (GDAL 3.8 or later, pyarrow installed)."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return tuple(pyogrio.__gdal_version__) >= (3, 8, 0)


def write_layer(
    frame: pd.DataFrame, path: str | Path, layer: str, *, unknown_geometry: bool = False
) -> None:
    """Write one layer of a GeoPackage, through Arrow where GDAL allows it.

    The Arrow path (``use_arrow=True``) stores the same fields, types, geometries and
    UTC times as the row-by-row one, in about half the time for 300,000 sites.
    ``unknown_geometry`` declares the geometry type ``Unknown`` (for layers written
    also when empty).
    """
    kwargs: dict[str, Any] = {"geometry_type": "Unknown"} if unknown_geometry else {}
    if _arrow_writes():
        kwargs["use_arrow"] = True
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", **kwargs)


def gpkg_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a frame with datetimes GDAL can store: UTC, millisecond precision; no ``attrs``.

    What readers record in ``attrs`` is not written (Arrow would try to). The other
    columns are not copied (the frame itself is left as it is): a forked writer that
    copied 300,000 sites would touch, and so copy, every page of their geometries.
    """
    out = frame.copy(deep=False)
    out.attrs = {}
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.tz_convert("UTC").dt.round("ms")
    return out
