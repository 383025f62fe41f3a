"""Stream the points of a GPX file into arrays, in memory bounded by the points kept.

One pass with expat callbacks (no element tree is built), fed in growing chunks (a
giant token costs linear time, see :mod:`geoexpose.tracks._kml_parse`): per
``<trkpt>`` (or ``<rtept>``) its ``lat`` and ``lon`` attributes, its ``<ele>`` and
``<time>`` children, and the number of its ``<trk>`` (``<rte>``) from 0. Names are
matched without their namespace (GPX 1.0 and 1.1). Times are parsed in batches of
:data:`_BATCH` points, so what stays is eight bytes a value: about 40 bytes a point,
where GDAL's table of Python strings and shapely points took about 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import TIME_DTYPE
from geoexpose.tracks._values import TIME_BASIS_UTC, parse_times

__all__ = ["GpxPoints", "read_gpx_points"]

_FIRST_FEED = 1 << 20
_BATCH = 100_000  # points whose time texts are held before they are parsed


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

    def __len__(self) -> int:
        return len(self.lon)


@dataclass
class _Gather:
    """Arrays filled batch by batch."""

    time_zone: str | None
    parts: dict[str, list[np.ndarray]] = field(
        default_factory=lambda: {k: [] for k in ("lon", "lat", "ele", "group", "ns")}
    )
    rows: dict[str, list[float]] = field(
        default_factory=lambda: {k: [] for k in ("lon", "lat", "ele", "group")}
    )
    texts: list[str | None] = field(default_factory=list)
    basis: str = TIME_BASIS_UTC
    timed: bool = False
    first_text: str | None = None

    def add(self, lon: float, lat: float, ele: float, group: int, text: str | None) -> None:
        for key, value in (("lon", lon), ("lat", lat), ("ele", ele), ("group", group)):
            self.rows[key].append(value)
        self.texts.append(text)
        if len(self.texts) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.texts:
            return
        for key, values in self.rows.items():
            self.parts[key].append(np.asarray(values, dtype="float64"))
            values.clear()
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
        self.parts["ns"].append(ns)
        self.texts = []

    def points(self) -> GpxPoints:
        self.flush()

        def joined(key: str, dtype: str) -> np.ndarray:
            return (
                np.concatenate(self.parts[key]).astype(dtype)
                if self.parts[key]
                else (np.empty(0, dtype=dtype))
            )

        ns = joined("ns", "int64")
        times = pd.Series(ns.view("datetime64[ns]")).dt.tz_localize("UTC").astype(TIME_DTYPE)
        if self.timed and times.isna().all():
            raise InputError(
                f"column 'time': no value reads as a date-time (first {self.first_text!r})"
            )
        return GpxPoints(
            lon=joined("lon", "float64"),
            lat=joined("lat", "float64"),
            ele=joined("ele", "float64"),
            times=times,
            group=joined("group", "int64"),
            basis=self.basis,
            timed=self.timed,
        )


class _Handler:
    """Expat callbacks that gather the points, no element objects built."""

    def __init__(self, time_zone: str | None) -> None:
        self.gathers = {"trkpt": _Gather(time_zone), "rtept": _Gather(time_zone)}
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


def read_gpx_points(path: Path, *, time_zone: str | None = None) -> tuple[GpxPoints, GpxPoints]:
    """Read the track points and the route points of a GPX file.

    Raises
    ------
    InputError
        Malformed XML (the message names its line and column).
    """
    handler = _Handler(time_zone)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = True
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.CharacterDataHandler = handler.data
    fed = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(max(_FIRST_FEED, fed // 2)):
                fed += len(chunk)
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise InputError(f"not a readable GPX file (malformed XML: {exc})") from exc
    except (LookupError, UnicodeError) as exc:
        raise InputError(f"GPX text cannot be decoded ({exc})") from exc
    return handler.gathers["trkpt"].points(), handler.gathers["rtept"].points()
