"""Read flight tracks from GPX files.

GPX (1.0 and 1.1), streamed by :mod:`geoexpose.tracks._gpx_points` (memory bounded by
the points, not the text): every ``<trk>/<trkseg>/<trkpt>`` with its ``<time>`` is a fix;
each ``<trk>`` is a track of its own (so a separate flight), the ``<trkseg>`` of
a track are split only at gaps. Track points without any ``<time>`` are an
untimed route, and a file with only ``<rte>/<rtept>`` a planned route (see
:func:`geoexpose.tracks.read_routes`). ``<ele>`` is height above mean sea level in
metres (what GPS loggers and AirData write) and goes to ``alt_msl_m``, with
``alt_agl_m`` empty and ``alt_ref="takeoff"``; ``alt_ref="takeoff"`` or
``"ground"`` says the file's ``<ele>`` is that height instead (some phone and RC
apps write height above takeoff). Where the ``<gpx creator>`` is a drone app
(AirData, DJI, Litchi, ...) and ``alt_ref`` is not given, each flight that starts
still on the ground also gets its height above take-off, ``<ele>`` minus its
first fix's (:mod:`geoexpose.tracks._takeoff`). GPX times are UTC by the GPX schema; times
without a zone are read in ``time_zone`` only where one is given. Non-standard
children such as AirData's ``<speed>`` are not read. Given ``blocks`` (a
:class:`~geoexpose.tracks._row_blocks.RowBlocks`: the reader of one huge file, through its
:class:`~geoexpose.tracks.formats.ReadOptions`), the track points go to it in blocks of
rows as they are parsed, and the frame returned has no rows.

GeoJSON and other vector layers: :mod:`geoexpose.tracks._vector`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import ALT_MSL_M, LAT, LON, TIME_DTYPE, TIME_UTC
from geoexpose.tracks._gpx_points import GpxPoints, read_gpx_points
from geoexpose.tracks._row_blocks import RowBlocks
from geoexpose.tracks._values import TIME_BASIS_UTC
from geoexpose.tracks._vector_points import put_altitudes
from geoexpose.tracks.normalize import ROUTE_PLANNED, ROUTE_UNTIMED, SEGMENT, RawTrack

__all__ = ["read_gpx"]

logger = logging.getLogger(__name__)

#: ``<gpx creator="...">`` values of drone apps, whose tracks start on the ground.
_DRONE_APPS = re.compile(
    rb"creator\s*=\s*[\"'][^\"']*(airdata|dji|litchi|phantomhelp|drone|uav|flighthub|autel|"
    rb"skydio|parrot|pix4d|ardupilot|px4|qgroundcontrol|mission ?planner)",
    re.IGNORECASE,
)


def read_gpx(
    path: Path,
    *,
    time_zone: str | None = None,
    alt_ref: str | None = None,
    blocks: RowBlocks | None = None,
) -> RawTrack:
    """Read the track points of a GPX file (see module notes; ``blocks``: where they go).

    Raises
    ------
    InputError
        Not GPX, malformed XML, or neither track nor route points.
    """
    heights = False  # an <ele> given, of the points given out in blocks
    if blocks is None:
        points, route_points = read_gpx_points(path, time_zone=time_zone)
    else:

        def sink(batch: dict[str, Any]) -> None:
            nonlocal heights
            heights = heights or bool((~np.isnan(batch["ele"])).any())
            blocks.add(_gpx_frame(batch, alt_ref))

        points, route_points = read_gpx_points(
            path, time_zone=time_zone, sink=sink, progress=blocks.progress
        )
    if len(points) == 0:
        return _gpx_route(route_points, alt_ref)
    route, basis, notes = None, TIME_BASIS_UTC, []
    if blocks is None:
        batch = {"lon": points.lon, "lat": points.lat, "ele": points.ele, "group": points.group}
        frame = _gpx_frame({**batch, "times": points.times}, alt_ref)
    else:
        frame = _gpx_frame({k: np.zeros(0) for k in ("lon", "lat", "ele", "group")}, alt_ref)
    if not points.timed:
        if blocks is not None:  # positions only: read whole, as a route
            frame = pd.concat(blocks.frames(), ignore_index=True)
        frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
        route = ROUTE_UNTIMED
        notes.append("GPX track points without <time>: positions only")
    else:
        basis = points.basis
    takeoff = "GPX <ele>" if alt_ref is None and _from_drone_app(path) else None
    if alt_ref is None and takeoff is None and (heights or frame[ALT_MSL_M].notna().any()):
        notes.append(
            "<ele> read as metres above sea level (alt_msl_m), no height above take-off: "
            "not a drone app's GPX (creator); pass alt_ref='takeoff' if <ele> is that height"
        )
    return RawTrack(frame, "gpx", time_basis=basis, notes=notes, route=route, takeoff_from=takeoff)


def _gpx_frame(batch: dict[str, Any], alt_ref: str | None) -> pd.DataFrame:
    """Return the rows of some track points (``lon``, ``lat``, ``ele``, ``group``, ``times``)."""
    frame = pd.DataFrame({LAT: batch["lat"], LON: batch["lon"]}, copy=False)  # no copy
    times = batch.get("times")
    if times is None:
        times = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    frame[TIME_UTC] = times
    put_altitudes(frame, batch["ele"], alt_ref)
    frame[SEGMENT] = np.asarray(batch["group"], dtype=np.int64)
    return frame


def _from_drone_app(path: Path) -> bool:
    """Whether the ``<gpx creator>`` names a drone app (AirData, DJI, Litchi, ...)."""
    with path.open("rb") as handle:
        return _DRONE_APPS.search(handle.read(4096)) is not None


def _gpx_route(points: GpxPoints, alt_ref: str | None) -> RawTrack:
    """Take the ``<rte><rtept>`` points of a GPX file without track points: a planned route."""
    if len(points) == 0:
        raise InputError("no track or route points (<trkpt>, <rtept>) in the GPX file")
    frame = pd.DataFrame({LAT: points.lat, LON: points.lon})
    frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    put_altitudes(frame, points.ele, alt_ref)
    frame[SEGMENT] = points.group
    notes = ["GPX <rte>: route points, planned, without times"]
    return RawTrack(frame, "gpx", notes=notes, route=ROUTE_PLANNED)
