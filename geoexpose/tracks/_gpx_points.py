"""Stream the points of a GPX file into arrays, or block by block to a sink.

One pass with expat callbacks (no element tree is built), fed in chunks of 1 MiB that
grow only while a token is cut (a giant token costs linear time, see
:mod:`geoexpose.tracks._kml_parse`; the text held is bounded by the largest token, not
the file): per
``<trkpt>`` (or ``<rtept>``) its ``lat`` and ``lon`` attributes, its ``<ele>`` and
``<time>`` children, and the number of its ``<trk>`` (``<rte>``) from 0. Names are
matched without their namespace (GPX 1.0 and 1.1). Times are parsed in batches of
:data:`_BATCH` points, so what stays is eight bytes a value: about 40 bytes a point,
where GDAL's table of Python strings and shapely points took about 500. With a
``sink``, each batch of track points goes to it as it is parsed and nothing of them
is held (the reader of one huge file, :mod:`geoexpose.tracks._clean_blocks`). A file
over :data:`PROGRESS_BYTES` shows a bar of the bytes parsed where asked to.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

import numpy as np
import pandas as pd

from geoexpose._progress import Bar
from geoexpose.errors import InputError
from geoexpose.schema import TIME_DTYPE
from geoexpose.tracks._values import TIME_BASIS_UTC, parse_times

__all__ = ["PROGRESS_BYTES", "GpxPoints", "Sink", "read_gpx_points"]

#: Files larger than this show a bar of the bytes parsed (where a bar is asked for).
PROGRESS_BYTES = 64 << 20
#: What takes the batches of track points: ``lon``, ``lat``, ``ele``, ``group`` and
#: ``times`` (UTC, NaT where missing or unreadable) of some points.
Sink = Callable[[dict[str, Any]], None]

_FIRST_FEED = 1 << 20
_BATCH = 100_000  # points whose time texts are held before they are parsed
_MIN_POINT_BYTES = 24  # '<trkpt lat="1" lon="1"/>'
_MAX_ROOM = 1 << 24  # points of the first room at most (then it doubles)


@dataclass
class GpxPoints:
    """The points of one kind (track or route) of a GPX file, in file order."""

    lon: np.ndarray
    lat: np.ndarray
    ele: np.ndarray
    times: pd.Series  # datetime64[ns, UTC], NaT where missing or unreadable
    group: np.ndarray  # number of the <trk> or <rte>, from 0
    basis: str = TIME_BASIS_UTC
    timed: bool = False  # any <time> given
    sent: int = 0  # points given to a sink instead

    def __len__(self) -> int:
        return len(self.lon) + self.sent


class _Column:
    """A growing array of one value per point, written batch by batch.

    Its room doubles when full (the old array let go), so the points are held once
    in a few large arrays: not in a list of small ones joined at the end, whose
    memory the allocator keeps after they are let go.
    """

    def __init__(self, dtype: str, room: int) -> None:
        self.values = np.empty(max(room, 1024), dtype=dtype)
        self.n = 0

    def extend(self, batch: Any) -> None:
        """Add a batch of values."""
        batch = np.asarray(batch, dtype=self.values.dtype)
        end = self.n + len(batch)
        if end > len(self.values):
            grown = np.empty(max(2 * len(self.values), end), dtype=self.values.dtype)
            grown[: self.n] = self.values[: self.n]
            self.values = grown
        self.values[self.n : end] = batch
        self.n = end

    def array(self) -> np.ndarray:
        """Return the values written (pages of the room left unwritten take no memory)."""
        return self.values[: self.n]


_DTYPES = {"lon": "float64", "lat": "float64", "ele": "float64", "group": "int64"}


@dataclass
class _Gather:
    """Columns filled batch by batch (``room``: points expected, a first size)."""

    time_zone: str | None
    room: int = 0
    sink: Sink | None = None
    columns: dict[str, _Column] = field(init=False)
    rows: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ("lon", "lat", "ele", "group")}
    )
    texts: list[str | None] = field(default_factory=list)
    basis: str = TIME_BASIS_UTC
    timed: bool = False
    first_text: str | None = None
    sent: int = 0  # points given to the sink
    any_time: bool = False  # a time read, of the points given to the sink

    def __post_init__(self) -> None:
        room = 0 if self.sink is not None else self.room
        self.columns = {k: _Column(d, room) for k, d in {**_DTYPES, "ns": "int64"}.items()}

    def add(self, lon: float, lat: float, ele: float, group: int, text: str | None) -> None:
        for key, value in (("lon", lon), ("lat", lat), ("ele", ele), ("group", group)):
            self.rows[key].append(value)
        self.texts.append(text)
        if len(self.texts) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.texts:
            return
        ns = self._times()
        self.texts = []
        if self.sink is not None:
            rows = self.rows.items()
            batch: dict[str, Any] = {k: np.asarray(v, dtype=_DTYPES[k]) for k, v in rows}
            for values in self.rows.values():
                values.clear()
            batch["times"] = _utc(ns)
            self.any_time = self.any_time or bool((ns != np.iinfo(np.int64).min).any())
            self.sent += len(ns)
            self.sink(batch)
            return
        for key, values in self.rows.items():
            self.columns[key].extend(values)
            values.clear()
        self.columns["ns"].extend(ns)

    def _times(self) -> np.ndarray:
        """Parse the time texts of the batch: UTC nanoseconds (NaT: int64 min)."""
        text = pd.Series(self.texts, dtype=object)
        ns = np.full(len(text), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
        if text.notna().any():
            self.timed = True
            self.first_text = self.first_text or str(text.dropna().iloc[0])
            try:
                times, basis = parse_times(
                    text, column="time", time_zone=self.time_zone, naive_is_utc=True
                )
            except ValueError:
                pass  # no time of this batch reads; the whole file is judged at the end
            else:
                ns = times.to_numpy(dtype="datetime64[ns]").view("int64")
                if basis != TIME_BASIS_UTC:
                    self.basis = basis
        return ns

    def points(self) -> GpxPoints:
        self.flush()
        ns = self.columns.pop("ns").array()
        times = _utc(ns)
        del ns
        unread = times.isna().all() and not self.any_time
        if self.timed and unread:
            raise InputError(
                f"column 'time': no value reads as a date-time (first {self.first_text!r})"
            )
        return GpxPoints(
            lon=self.columns.pop("lon").array(),
            lat=self.columns.pop("lat").array(),
            ele=self.columns.pop("ele").array(),
            times=times,
            group=self.columns.pop("group").array(),
            basis=self.basis,
            timed=self.timed,
            sent=self.sent,
        )


def _utc(ns: np.ndarray) -> pd.Series:
    """Return the times of UTC nanoseconds (int64 min: NaT)."""
    times = pd.Series(ns.view("datetime64[ns]"), copy=False).dt.tz_localize("UTC")
    return times.astype(TIME_DTYPE)


class _Handler:
    """Expat callbacks that gather the points, no element objects built."""

    def __init__(self, time_zone: str | None, room: int, sink: Sink | None = None) -> None:
        self.gathers = {"trkpt": _Gather(time_zone, room, sink), "rtept": _Gather(time_zone)}
        self.counts = {"trk": -1, "rte": -1}
        self.point: str | None = None  # "trkpt" or "rtept" while inside one
        self.attrs: dict[str, str] = {}
        self.child: str | None = None  # "ele" or "time" while inside one of a point
        self.values: dict[str, list[str]] = {}

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        name = tag.rpartition(" ")[2]
        if name in self.gathers:
            self.point, self.attrs, self.values = name, attrs, {}
        elif self.point is not None and name in ("ele", "time"):
            self.child = name
            self.values[name] = []
        elif name in self.counts:
            self.counts[name] += 1

    def data(self, text: str) -> None:
        if self.child is not None:
            self.values[self.child].append(text)

    def end(self, tag: str) -> None:
        name = tag.rpartition(" ")[2]
        if name == self.child:
            self.child = None
        elif name == self.point:
            time = "".join(self.values.get("time", ())).strip() or None
            ele = "".join(self.values.get("ele", ())) if "ele" in self.values else None
            group = self.counts["trk" if name == "trkpt" else "rte"]
            self.gathers[name].add(
                _number(_attr(self.attrs, "lon")),
                _number(_attr(self.attrs, "lat")),
                _number(ele),
                max(group, 0),
                time,
            )
            self.point = None


def _attr(attrs: dict[str, str], name: str) -> str | None:
    """Return an attribute by its local name (``lat``, or a namespaced ``uri lat``)."""
    if name in attrs:
        return attrs[name]
    return next((v for k, v in attrs.items() if k.rpartition(" ")[2] == name), None)


def _number(text: str | None) -> float:
    try:
        return float(text) if text is not None else np.nan
    except ValueError:
        return np.nan


def read_gpx_points(
    path: Path, *, time_zone: str | None = None, sink: Sink | None = None, progress: bool = False
) -> tuple[GpxPoints, GpxPoints]:
    """Read the track points and the route points of a GPX file.

    ``sink``: give it the track points batch by batch instead (the track points
    returned are then none, with ``timed`` and ``basis`` said). ``progress``: a bar of
    the bytes parsed, on a terminal, for a file over :data:`PROGRESS_BYTES`.

    Raises
    ------
    InputError
        Malformed XML (the message names its line and column).
    """
    # a first room for the track points: as many as the file could hold, within a bound
    # (pages of an array not written to take no memory)
    size = path.stat().st_size
    handler = _Handler(time_zone, min(size // _MIN_POINT_BYTES, _MAX_ROOM), sink)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    fed, feed = 0, _FIRST_FEED
    bar = None  # a bar (drawn on a terminal only) for a large file; none at all otherwise
    if progress and size > PROGRESS_BYTES:
        bar = Bar(total=size, desc=path.name, unit="B", unit_scale=True, disable=None)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(feed):
                fed += len(chunk)
                parser.Parse(chunk, False)
                if bar is not None:
                    bar.update(len(chunk))
                # bytes fed since the last event: a token cut by the feeds (twice that
                # next, so a giant token is fed in growing chunks, in linear time)
                feed = max(_FIRST_FEED, 2 * (fed - parser.CurrentByteIndex))
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise InputError(f"not a readable GPX file (malformed XML: {exc})") from exc
    except (LookupError, UnicodeError) as exc:
        raise InputError(f"GPX text cannot be decoded ({exc})") from exc
    finally:
        if bar is not None:
            bar.close()
    return handler.gathers["trkpt"].points(), handler.gathers["rtept"].points()
