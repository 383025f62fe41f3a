"""Parse a KML or KMZ document: the timed tracks, lines and WPML waypoints it holds.

KML (2.2 and 2.3, with or without Google's ``gx`` extension), plain or zipped as
KMZ (``waylines.wpml`` inside, else the first ``.wpml``, else ``doc.kml``, else
the first ``.kml``), is read in one streaming pass, elements matched by namespace,
into a :class:`Found`: per ``gx:Track`` (KML 2.3 ``Track``) and ``LineString``
its coordinates, ``<when>`` times and ``altitudeMode``; per Placemark with a
``wpml:index`` (a DJI WPML waypoint) its ``wpml:`` values and its folder (the
wayline). :mod:`geoexpose.tracks._kml` makes tracks of the former,
:mod:`geoexpose.tracks._wpml` missions of the latter.

Given a :class:`~geoexpose.tracks._kml_stream.TrackStream` (the reader of one huge
file), the tracks are not kept whole: their ``<when>`` and ``<gx:coord>`` texts go to
the stream as they are parsed (:mod:`geoexpose.tracks._kml_stream`), so what is held
is a chunk of the document and what the stream holds; the :class:`Found` then holds
the lines and waypoints only.

The member of a KMZ is read as a stream through a counter
(:func:`geoexpose._limits.bounded`), never unpacked to disk: one that unpacks to more
than 512 MiB, or to more than 200 times its packed size, is refused with its name.
"""

from __future__ import annotations

import logging
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

import numpy as np
import pandas as pd

from geoexpose._limits import LimitError, bounded, check_declared, excerpt
from geoexpose._progress import Bar
from geoexpose.errors import InputError
from geoexpose.tracks._gpx_points import PROGRESS_BYTES
from geoexpose.tracks._kml_stream import GX_NS, TrackStream, Walker, check_counts

__all__ = ["WPML_NS", "ZIP_ERRORS", "Found", "coord_numbers", "read_document", "split_tag"]

logger = logging.getLogger(__name__)

_KML_NS = frozenset(
    {
        "",
        "http://www.opengis.net/kml/2.2",
        "http://www.opengis.net/kml/2.3",
        "http://earth.google.com/kml/2.0",
        "http://earth.google.com/kml/2.1",
        "http://earth.google.com/kml/2.2",
    }
)
#: Namespaces of DJI WPML elements (``http://www.dji.com/wpmz/<version>``).
WPML_NS = re.compile(r"http://www\.dji\.com/wpmz/[0-9.]+\Z")
#: First bytes fed to the XML parser; each later feed is half of what was fed before.
#: Expat (before 2.6) scans a token cut by a feed again from its start at each feed, so
#: a giant comment or attribute fed in small pieces costs the square of its length;
#: feeds that grow with the document keep the whole parse linear.
_FIRST_FEED = 1 << 20
#: First bytes fed where the tracks are streamed; a feed that gave no event (a token
#: cut by the feeds) makes the next one twice as large, one that did starts again
#: here: the chunk held stays small, and a giant token still costs linear time.
_STREAM_FEED = 1 << 20
#: What a broken zip (KMZ) raises.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def split_tag(tag: str) -> tuple[str, str]:
    """``"{uri}local"`` -> ``(uri, local)``."""
    if tag[:1] == "{":
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


@dataclass
class Found:
    """What one pass over a KML document found."""

    coords: list[np.ndarray] = field(default_factory=list)  # (n, 3) lon, lat, z per track
    whens: list[list[str | None] | None] = field(default_factory=list)  # None: untimed
    modes: list[str] = field(default_factory=list)  # altitudeMode per track
    waypoints: list[dict[str, Any]] = field(default_factory=list)
    folders: dict[int, ET.Element] = field(default_factory=dict)


def _numbers(parts: pd.DataFrame, count: int) -> np.ndarray:
    """Up to three numeric columns of split coordinate text, NaN where missing."""
    out = np.full((count, 3), np.nan)
    for k in range(min(3, parts.shape[1])):
        out[:, k] = pd.to_numeric(parts[k], errors="coerce").to_numpy(dtype="float64")
    return out


def _tuples(text: str | None) -> np.ndarray:
    """``<coordinates>`` text ``lon,lat[,alt] ...`` -> (n, 3) array."""
    tuples = (text or "").split()
    if not tuples:
        return np.empty((0, 3))
    commas = np.char.count(np.array(tuples), ",")
    if commas[0] in (1, 2) and (commas == commas[0]).all():  # fast path: well-formed
        try:
            flat = np.array((text or "").replace(",", " ").split(), dtype="float64")
        except ValueError:
            pass
        else:
            out = np.full((len(tuples), 3), np.nan)
            out[:, : commas[0] + 1] = flat.reshape(len(tuples), -1)
            return out
    tuples = re.sub(r"\s*,\s*", ",", (text or "").strip()).split()
    return _numbers(pd.Series(tuples, dtype=object).str.split(",", expand=True), len(tuples))


def coord_numbers(texts: list[str | None]) -> np.ndarray:
    """``<gx:coord>`` texts ``lon lat alt`` -> (n, 3) array, NaN where missing."""
    if not texts:
        return np.empty((0, 3))
    return _numbers(pd.Series(texts, dtype=object).str.split(expand=True), len(texts))


def _child_text(elem: ET.Element, uris: tuple[str, ...], local: str) -> str | None:
    for uri in uris:
        child = elem.find(f"{{{uri}}}{local}" if uri else local)
        if child is not None:
            return (child.text or "").strip()
    return None


def _track(found: Found, geom: ET.Element, kml: str, timed: bool) -> None:
    mode = _child_text(geom, (kml, GX_NS), "altitudeMode") or "clampToGround"
    if timed:
        tag = f"{{{kml}}}when" if kml else "when"
        whens = [e.text for e in geom.iter(tag)]
        coord_tags = [f"{{{GX_NS}}}coord", f"{{{kml}}}coord" if kml else "coord"]
        texts = [e.text for t in coord_tags for e in geom.iter(t)]
        check_counts(len(found.coords), len(whens), len(texts))
        found.coords.append(coord_numbers(texts))
        found.whens.append(whens or None)
    else:
        found.coords.append(_tuples(_child_text(geom, (kml,), "coordinates")))
        found.whens.append(None)
    found.modes.append(mode)


def _placemark(
    found: Found, mark: ET.Element, kml: str, folder: ET.Element | None, tracks: bool = True
) -> None:
    """Take a Placemark's waypoint, tracks (unless streamed: ``tracks`` False) and lines."""
    wpml: dict[str, Any] = {}
    for child in mark:
        uri, local = split_tag(child.tag)
        if WPML_NS.match(uri):
            wpml[local] = (child.text or "").strip()
    if "index" in wpml:
        point = mark.find(f"{{{kml}}}Point" if kml else "Point")
        text = None if point is None else _child_text(point, (kml,), "coordinates")
        xyz = _tuples(text)
        wpml["lon"], wpml["lat"] = (xyz[0, 0], xyz[0, 1]) if len(xyz) else (np.nan, np.nan)
        wpml["folder"] = id(folder)
        if folder is not None:
            found.folders[id(folder)] = folder
        found.waypoints.append(wpml)
        return
    prefix = f"{{{kml}}}" if kml else ""
    for tag in (f"{{{GX_NS}}}Track", f"{prefix}Track") if tracks else ():
        for geom in mark.iter(tag):
            _track(found, geom, kml, timed=True)
    for geom in mark.iter(f"{prefix}LineString"):
        _track(found, geom, kml, timed=False)


def _events(handle: IO[bytes], walker: Walker | None = None) -> Iterator[tuple[str, ET.Element]]:
    """Parse events of a document fed in growing chunks (see :data:`_FIRST_FEED`).

    With a ``walker`` (tracks streamed), chunks of :data:`_STREAM_FEED`, and the walker
    told after each chunk's events were taken.
    """
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
    fed, feed = 0, (_FIRST_FEED if walker is None else _STREAM_FEED)
    while chunk := handle.read(feed):
        fed += len(chunk)
        parser.feed(chunk)
        if walker is None:
            yield from parser.read_events()  # type: ignore[misc]
            feed = max(_FIRST_FEED, fed // 2)
            continue
        events = 0
        for item in parser.read_events():
            events += 1
            yield item  # type: ignore[misc]
        walker.drained()
        feed = _STREAM_FEED if events else 2 * feed
    parser.close()
    yield from parser.read_events()  # type: ignore[misc]
    if walker is not None:
        walker.drained()


def _parse(handle: IO[bytes], stream: TrackStream | None = None) -> Found:
    """One streaming pass over a KML document (``stream``: where the tracks go)."""
    found = Found()
    folders: list[ET.Element] = []
    walker = None if stream is None else Walker(stream, found.coords)
    try:
        for event, elem in _events(handle, walker):
            if walker is not None and walker.step(event, elem):
                continue
            uri, local = split_tag(elem.tag)
            if uri not in _KML_NS:
                continue
            if local == "Folder":
                if event == "start":
                    folders.append(elem)
                elif folders:
                    folders.pop()
            elif local == "Placemark":
                if walker is not None:
                    walker.placemark(uri if event == "start" else None)
                if event == "end":
                    folder = folders[-1] if folders else None
                    _placemark(found, elem, uri, folder, tracks=walker is None)
                    elem.clear()
    except ET.ParseError as exc:
        raise InputError(f"malformed KML ({exc})") from exc
    except (LookupError, UnicodeError) as exc:
        raise InputError(f"KML text cannot be decoded ({exc})") from exc
    return found


class _Counted:
    """A binary stream that moves a bar by the bytes read from it."""

    def __init__(self, handle: IO[bytes], bar: Bar) -> None:
        self.handle, self.bar = handle, bar

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.bar.update(len(chunk))
        return chunk


def _parse_shown(
    handle: IO[bytes], stream: TrackStream | None, size: int, name: str, progress: bool
) -> Found:
    """:func:`_parse` with a bar of the bytes parsed, on a terminal, for a large document."""
    if not progress or size <= PROGRESS_BYTES:
        return _parse(handle, stream)
    bar = Bar(total=size, desc=name, unit="B", unit_scale=True, disable=None)
    try:
        return _parse(_Counted(handle, bar), stream)  # type: ignore[arg-type]
    finally:
        bar.close()


def _member(names: list[str]) -> str:
    """Pick the document of a KMZ: a WPML wayline file, else doc.kml, else any .kml."""
    lower = [name.lower() for name in names]
    for wanted in ("waylines.wpml", ".wpml", "doc.kml", ".kml"):
        for name, low in zip(names, lower, strict=True):
            if low.endswith(wanted) and (wanted[0] == "." or low.split("/")[-1] == wanted):
                return name
    raise InputError("KMZ (zip) holds no .kml or .wpml file")


def read_document(
    path: Path, stream: TrackStream | None = None, *, progress: bool = False
) -> tuple[Found, str]:
    """Parse a KML file or the document of a KMZ; also return "kml" or "kmz".

    ``stream``: where the tracks go, as they are read (see module notes). ``progress``:
    a bar of the bytes parsed (on a terminal) for a document over 64 MiB.

    Raises
    ------
    InputError
        Malformed XML or zip, a track whose ``<when>`` and ``<coord>`` counts differ.
    NotInOrder
        Tracks the ``stream`` cannot be given in order (read the file whole; see
        :mod:`geoexpose.tracks._kml_stream`).
    """
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                handle.seek(0)
                size = path.stat().st_size
                return _parse_shown(handle, stream, size, path.name, progress), "kml"
        with zipfile.ZipFile(path) as archive:
            name = _member(archive.namelist())
            info = archive.getinfo(name)
            what = f"member {excerpt(name, 80)!r}"
            check_declared(info.file_size, what=what)
            with archive.open(info) as member:
                packed = bounded(member, packed=info.compress_size, what=what)
                found = _parse_shown(packed, stream, info.file_size, path.name, progress)
        if not found.waypoints and name.lower().endswith(".wpml"):
            raise InputError(f"{name} in the KMZ holds no waypoints")
        return found, "kmz"
    except InputError:
        raise
    except LimitError as exc:
        raise InputError(f"KMZ {exc}") from exc
    except ZIP_ERRORS as exc:
        raise InputError(f"broken KMZ (zip) file ({exc})") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the KML/KMZ file ({exc})") from exc
