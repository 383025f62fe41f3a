"""Parse a KML or KMZ document: the timed tracks, lines and WPML waypoints it holds.

KML (2.2 and 2.3, with or without Google's ``gx`` extension), plain or zipped as
KMZ (``waylines.wpml`` inside, else the first ``.wpml``, else ``doc.kml``, else
the first ``.kml``), is read in one streaming pass, elements matched by namespace,
into a :class:`Found`: per ``gx:Track`` (KML 2.3 ``Track``) and ``LineString``
its coordinates, ``<when>`` times and ``altitudeMode``; per Placemark with a
``wpml:index`` (a DJI WPML waypoint) its ``wpml:`` values and its folder (the
wayline). :mod:`geoexpose.tracks._kml` makes tracks of the former,
:mod:`geoexpose.tracks._wpml` missions of the latter.

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
from geoexpose.errors import InputError

__all__ = ["WPML_NS", "ZIP_ERRORS", "Found", "read_document", "split_tag"]

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
_GX_NS = "http://www.google.com/kml/ext/2.2"
#: Namespaces of DJI WPML elements (``http://www.dji.com/wpmz/<version>``).
WPML_NS = re.compile(r"http://www\.dji\.com/wpmz/[0-9.]+\Z")
#: First bytes fed to the XML parser; each later feed is half of what was fed before.
#: Expat (before 2.6) scans a token cut by a feed again from its start at each feed, so
#: a giant comment or attribute fed in small pieces costs the square of its length;
#: feeds that grow with the document keep the whole parse linear.
_FIRST_FEED = 1 << 20
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


def _child_text(elem: ET.Element, uris: tuple[str, ...], local: str) -> str | None:
    for uri in uris:
        child = elem.find(f"{{{uri}}}{local}" if uri else local)
        if child is not None:
            return (child.text or "").strip()
    return None


def _track(found: Found, geom: ET.Element, kml: str, timed: bool) -> None:
    mode = _child_text(geom, (kml, _GX_NS), "altitudeMode") or "clampToGround"
    if timed:
        tag = f"{{{kml}}}when" if kml else "when"
        whens = [e.text for e in geom.iter(tag)]
        coord_tags = [f"{{{_GX_NS}}}coord", f"{{{kml}}}coord" if kml else "coord"]
        texts = [e.text for t in coord_tags for e in geom.iter(t)]
        if whens and len(whens) != len(texts):
            raise InputError(
                f"track {len(found.coords) + 1}: {len(whens)} <when> for {len(texts)} <coord>"
            )
        split = pd.Series(texts, dtype=object).str.split(expand=True)
        found.coords.append(_numbers(split, len(texts)) if texts else np.empty((0, 3)))
        found.whens.append(whens or None)
    else:
        found.coords.append(_tuples(_child_text(geom, (kml,), "coordinates")))
        found.whens.append(None)
    found.modes.append(mode)


def _placemark(found: Found, mark: ET.Element, kml: str, folder: ET.Element | None) -> None:
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
    for tag, timed in ((f"{{{_GX_NS}}}Track", True), (f"{prefix}Track", True)):
        for geom in mark.iter(tag):
            _track(found, geom, kml, timed=timed)
    for geom in mark.iter(f"{prefix}LineString"):
        _track(found, geom, kml, timed=False)


def _events(handle: IO[bytes]) -> Iterator[tuple[str, ET.Element]]:
    """Parse events of a document fed in growing chunks (see :data:`_FIRST_FEED`)."""
    parser: ET.XMLPullParser = ET.XMLPullParser(events=("start", "end"))
    fed = 0
    while chunk := handle.read(max(_FIRST_FEED, fed // 2)):
        fed += len(chunk)
        parser.feed(chunk)
        yield from parser.read_events()  # type: ignore[misc]
    parser.close()
    yield from parser.read_events()  # type: ignore[misc]


def _parse(handle: IO[bytes]) -> Found:
    """One streaming pass over a KML document."""
    found = Found()
    folders: list[ET.Element] = []
    try:
        for event, elem in _events(handle):
            uri, local = split_tag(elem.tag)
            if uri not in _KML_NS:
                continue
            if local == "Folder":
                if event == "start":
                    folders.append(elem)
                elif folders:
                    folders.pop()
            elif local == "Placemark" and event == "end":
                _placemark(found, elem, uri, folders[-1] if folders else None)
                elem.clear()
    except ET.ParseError as exc:
        raise InputError(f"malformed KML ({exc})") from exc
    except (LookupError, UnicodeError) as exc:
        raise InputError(f"KML text cannot be decoded ({exc})") from exc
    return found


def _member(names: list[str]) -> str:
    """Pick the document of a KMZ: a WPML wayline file, else doc.kml, else any .kml."""
    lower = [name.lower() for name in names]
    for wanted in ("waylines.wpml", ".wpml", "doc.kml", ".kml"):
        for name, low in zip(names, lower, strict=True):
            if low.endswith(wanted) and (wanted[0] == "." or low.split("/")[-1] == wanted):
                return name
    raise InputError("KMZ (zip) holds no .kml or .wpml file")


def read_document(path: Path) -> tuple[Found, str]:
    """Parse a KML file or the document of a KMZ; also return "kml" or "kmz"."""
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                handle.seek(0)
                return _parse(handle), "kml"
        with zipfile.ZipFile(path) as archive:
            name = _member(archive.namelist())
            info = archive.getinfo(name)
            what = f"member {excerpt(name, 80)!r}"
            check_declared(info.file_size, what=what)
            with archive.open(info) as member:
                found = _parse(bounded(member, packed=info.compress_size, what=what))
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
