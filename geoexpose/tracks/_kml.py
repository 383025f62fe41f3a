"""Read flight tracks from KML and KMZ files, and DJI WPML waypoint missions.

KML (2.2 and 2.3, with or without Google's ``gx`` extension), plain or zipped as
KMZ (``doc.kml`` inside, else the first ``.kml``), elements matched by namespace:

- ``gx:Track`` (KML 2.3 ``Track``): each ``<when>`` with its ``<gx:coord>`` is a
  fix; every track, also each track of a ``gx:MultiTrack``, is a ``segment``.
- ``LineString``: ``<coordinates>`` gives positions but no times, so its rows
  have ``time_utc`` NaT and the :class:`RawTrack` is an untimed route
  (``route="untimed"``, noted "KML LineString has no times: positions only"):
  :func:`geoexpose.tracks.read_routes` reads it, :func:`geoexpose.read_tracks`
  reports it without fixes. Where a file also has timed tracks, its untimed
  lines are left out (noted). Each line is a ``segment``.
- Points (AirData's "Home" placemark) and polygons are skipped.

Altitudes follow each geometry's ``altitudeMode``: ``absolute`` is metres above
sea level (``alt_msl_m``; ``alt_agl_m`` empty and ``alt_ref="takeoff"`` as a
placeholder, noted), ``relativeToGround`` is ``alt_agl_m`` with
``alt_ref="ground"``; ``clampToGround`` (the KML default) and the sea-floor modes
say the altitude is not used, so it is dropped (noted). ``alt_ref`` overrides the
mode for every altitude of the file, as for GPX ``<ele>``. Times without zone are
read in ``time_zone`` (else taken as UTC, ``time_basis="assumed_utc"``).

DJI WPML (DJI Pilot 2 / FlightHub 2 missions; KMZ holding ``wpmz/waylines.wpml``
and ``wpmz/template.kml``, namespace ``http://www.dji.com/wpmz/<version>``) is a
*planned route*, not a flown track: :func:`read_kml` returns its waypoints (format
``"dji_wpml"``, ``route="planned"``) with NaT times, ordered by ``wpml:index``,
one ``segment`` per wayline, with the planned speed; :func:`read_wpml_route`
returns them as points with height and speed.
Heights (``waylines.wpml``: ``wpml:executeHeight`` per ``wpml:executeHeightMode``;
``template.kml`` only: ``wpml:height`` or the folder's ``wpml:globalHeight`` per
``wpml:heightMode``) go to ``alt_agl_m`` with ``alt_ref="takeoff"``
(``relativeToStartPoint``) or ``"ground"`` (``aboveGroundLevel``,
``realTimeFollowSurface``), to ``alt_msl_m`` for ``EGM96``; ``WGS84`` ellipsoid
heights are left out of both (they differ from sea level by the geoid height,
tens of metres), noted.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    CRS_LONLAT,
    LAT,
    LON,
    SPEED_M_S,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks._columns import ALT_REF_MSL
from geoexpose.tracks.normalize import ROUTE_PLANNED, ROUTE_UNTIMED, SEGMENT, RawTrack, parse_times

__all__ = [
    "HEIGHT_M",
    "HEIGHT_REF",
    "WAYLINE_ID",
    "WAYPOINT_INDEX",
    "read_kml",
    "read_wpml_route",
    "sniff_kml",
]

logger = logging.getLogger(__name__)

#: Columns of :func:`read_wpml_route` (besides ``speed_m_s`` and ``geometry``).
WAYLINE_ID = "wayline_id"
WAYPOINT_INDEX = "waypoint_index"
HEIGHT_M = "height_m"
HEIGHT_REF = "height_ref"

NO_TIMES = "KML LineString has no times: positions only"
PLANNED = "DJI WPML mission: planned waypoints, not a flown track; no times"
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
_WPML_NS = re.compile(r"http://www\.dji\.com/wpmz/[0-9.]+\Z")
_KML_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?kml[\s>/]")
# WPML height modes (lower case) -> height_ref.
_HEIGHT_REFS = {
    "relativetostartpoint": ALT_REF_TAKEOFF,
    "abovegroundlevel": ALT_REF_GROUND,
    "realtimefollowsurface": ALT_REF_GROUND,
    "egm96": "egm96",
    "wgs84": "ellipsoid",
}
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError)


def _split(tag: str) -> tuple[str, str]:
    """``"{uri}local"`` -> ``(uri, local)``."""
    if tag[:1] == "{":
        uri, _, local = tag[1:].partition("}")
        return uri, local
    return "", tag


@dataclass
class _Found:
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


def _track(found: _Found, geom: ET.Element, kml: str, timed: bool) -> None:
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


def _placemark(found: _Found, mark: ET.Element, kml: str, folder: ET.Element | None) -> None:
    wpml: dict[str, Any] = {}
    for child in mark:
        uri, local = _split(child.tag)
        if _WPML_NS.match(uri):
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


def _parse(handle: IO[bytes]) -> _Found:
    """One streaming pass over a KML document."""
    found = _Found()
    folders: list[ET.Element] = []
    try:
        for event, elem in ET.iterparse(handle, events=("start", "end")):
            uri, local = _split(elem.tag)
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


def _read_found(path: Path) -> tuple[_Found, str]:
    """Parse a KML file or the document of a KMZ; also return "kml" or "kmz"."""
    try:
        with path.open("rb") as handle:
            if handle.read(4) != b"PK\x03\x04":
                handle.seek(0)
                return _parse(handle), "kml"
        with zipfile.ZipFile(path) as archive:
            name = _member(archive.namelist())
            with archive.open(name) as handle:
                found = _parse(handle)
        if not found.waypoints and name.lower().endswith(".wpml"):
            raise InputError(f"{name} in the KMZ holds no waypoints")
        return found, "kmz"
    except InputError:
        raise
    except _ZIP_ERRORS as exc:
        raise InputError(f"broken KMZ (zip) file ({exc})") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the KML/KMZ file ({exc})") from exc


def _heights(
    z: np.ndarray, modes: np.ndarray, alt_ref: str | None, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """alt_agl_m, alt_ref, alt_msl_m from one altitude per row and its altitudeMode."""
    if alt_ref is not None:
        msl = np.full(len(z), alt_ref == ALT_REF_MSL)
        ground = np.full(len(z), alt_ref == ALT_REF_GROUND)
        notes.append(f"altitudes read as {alt_ref!r} (alt_ref=)")
    else:
        msl = modes == "absolute"
        ground = modes == "relativeToGround"
        if msl.any():
            notes.append(
                "KML altitudeMode absolute: altitudes are metres above sea level "
                "(alt_msl_m); no height above takeoff or ground (alt_ref 'takeoff' "
                "is a placeholder)"
            )
        unused = ~(msl | ground) & np.isfinite(z) & (z != 0)
        if unused.any():
            names = ", ".join(sorted(set(modes[unused])))
            notes.append(f"altitudes ignored (altitudeMode {names}; pass alt_ref= to use them)")
    agl_rows = ~msl & (ground | (alt_ref is not None))
    agl = np.where(agl_rows, z, np.nan)
    ref = np.where(ground, ALT_REF_GROUND, ALT_REF_TAKEOFF).astype(object)
    return agl, ref, np.where(msl, z, np.nan)


def _track_frame(found: _Found, *, time_zone: str | None, alt_ref: str | None) -> RawTrack:
    timed = [w is not None for w in found.whens]
    keep = [i for i, c in enumerate(found.coords) if len(c) and (timed[i] or not any(timed))]
    if not keep:
        raise InputError("no track in the KML: need a Placemark with a gx:Track or LineString")
    notes: list[str] = []
    left_out = len(found.coords) - len(keep)
    if any(timed) and left_out:
        notes.append(f"{left_out} track(s) without times or points left out")
    counts = np.array([len(found.coords[i]) for i in keep])
    xyz = np.concatenate([found.coords[i] for i in keep])
    frame = pd.DataFrame({LAT: xyz[:, 1], LON: xyz[:, 0]})
    basis, route = "utc", None
    if any(timed):
        stamps = pd.Series([s for i in keep for s in found.whens[i] or ()], dtype=object)
        try:
            times, basis = parse_times(stamps, column="when", time_zone=time_zone)
        except (ValueError, TypeError) as exc:  # TypeError: normalize on odd zone text
            raise InputError(f"KML <when>: {' '.join(str(exc).split())}") from exc
        frame[TIME_UTC] = times.to_numpy()
    else:
        frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
        notes.append(NO_TIMES)
        route = ROUTE_UNTIMED
    frame[TIME_UTC] = frame[TIME_UTC].astype(TIME_DTYPE)
    modes = np.repeat(np.array([found.modes[i] for i in keep], dtype=object), counts)
    frame[ALT_AGL_M], frame[ALT_REF], frame[ALT_MSL_M] = _heights(xyz[:, 2], modes, alt_ref, notes)
    frame[SEGMENT] = np.repeat(np.arange(len(keep)), counts)
    return RawTrack(frame, "kml", time_basis=basis, notes=notes, route=route)


def _folder_value(folder: ET.Element | None, local: str) -> str | None:
    """Text of the first WPML element ``local`` anywhere under a wayline folder."""
    if folder is None:
        return None
    for elem in folder.iter():
        uri, name = _split(elem.tag)
        if name == local and _WPML_NS.match(uri):
            return (elem.text or "").strip()
    return None


def _float(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _route_table(found: _Found) -> pd.DataFrame:
    """One row per waypoint, ordered by wayline then ``wpml:index``."""
    table = pd.DataFrame(found.waypoints)
    table[WAYPOINT_INDEX] = pd.to_numeric(table["index"], errors="coerce")
    use_global = (_column(table, "useGlobalHeight") == 1).to_numpy()
    height = _column(table, "executeHeight").fillna(_column(table, "height").mask(use_global))
    table[HEIGHT_M] = height
    table[SPEED_M_S] = _column(table, "waypointSpeed")
    table[WAYLINE_ID] = np.nan
    table[HEIGHT_REF] = "unknown"
    for number, key in enumerate(pd.unique(table["folder"])):  # one pass per wayline
        folder = found.folders.get(key)
        rows = (table["folder"] == key).to_numpy()
        mode = _folder_value(folder, "executeHeightMode") or _folder_value(folder, "heightMode")
        table.loc[rows, HEIGHT_REF] = _HEIGHT_REFS.get((mode or "").lower(), "unknown")
        wayline = _float(_folder_value(folder, "waylineId") or _folder_value(folder, "templateId"))
        usable = np.isfinite(wayline) and wayline.is_integer() and abs(wayline) < 2**31
        table.loc[rows, WAYLINE_ID] = wayline if usable else number
        fill = rows & table[HEIGHT_M].isna().to_numpy() & use_global
        table.loc[fill, HEIGHT_M] = _float(_folder_value(folder, "globalHeight"))
        fill = rows & table[SPEED_M_S].isna().to_numpy()
        table.loc[fill, SPEED_M_S] = _float(_folder_value(folder, "autoFlightSpeed"))
    table[WAYLINE_ID] = table[WAYLINE_ID].astype("int64")
    return table.sort_values([WAYLINE_ID, WAYPOINT_INDEX], kind="stable", ignore_index=True)


def _column(table: pd.DataFrame, name: str) -> pd.Series:
    if name not in table:
        return pd.Series(np.nan, index=table.index, dtype="float64")
    return pd.to_numeric(table[name], errors="coerce").astype("float64")


def _wpml_frame(found: _Found) -> RawTrack:
    route = _route_table(found)
    frame = pd.DataFrame({LAT: route["lat"].astype("float64"), LON: route["lon"].astype("float64")})
    frame[TIME_UTC] = pd.Series(pd.NaT, index=frame.index, dtype=TIME_DTYPE)
    ref = route[HEIGHT_REF].to_numpy(dtype=object)
    height = route[HEIGHT_M].to_numpy(dtype="float64")
    agl = np.isin(ref, [ALT_REF_TAKEOFF, ALT_REF_GROUND])
    frame[ALT_AGL_M] = np.where(agl, height, np.nan)
    frame[ALT_REF] = np.where(ref == ALT_REF_GROUND, ALT_REF_GROUND, ALT_REF_TAKEOFF).astype(object)
    frame[ALT_MSL_M] = np.where(ref == "egm96", height, np.nan)
    frame[SEGMENT] = pd.factorize(route[WAYLINE_ID])[0]
    frame[SPEED_M_S] = route[SPEED_M_S].to_numpy(dtype="float64")
    notes = [PLANNED]
    described = {
        ALT_REF_TAKEOFF: "heights above the take-off point (relativeToStartPoint) in alt_agl_m",
        ALT_REF_GROUND: "heights above ground (terrain following) in alt_agl_m",
        "egm96": "heights above sea level (EGM96) in alt_msl_m",
        "ellipsoid": "heights above the WGS84 ellipsoid, not sea level: left out",
        "unknown": "height mode not stated: heights left out",
    }
    notes += [f"WPML {described[r]}" for r in pd.unique(route[HEIGHT_REF])]
    return RawTrack(frame, "dji_wpml", notes=notes, route=ROUTE_PLANNED)


def read_kml(path: Path, *, time_zone: str | None = None, alt_ref: str | None = None) -> RawTrack:
    """Read the tracks of a KML or KMZ file, or the waypoints of a DJI WPML KMZ.

    Parameters
    ----------
    path
        A ``.kml`` file, or a ``.kmz`` zip holding one (or DJI's ``wpmz/`` files).
    time_zone
        IANA zone name of ``<when>`` times written without zone or offset.
    alt_ref
        ``"takeoff"``, ``"ground"`` or ``"msl"``: what every altitude of the file
        measures, overriding ``altitudeMode`` (not used for WPML).

    Returns
    -------
    RawTrack
        Format ``"kml"``, ``"kmz"`` or ``"dji_wpml"`` (see module notes).

    Raises
    ------
    InputError
        Not KML, malformed XML or zip, a track whose ``<when>`` and ``<coord>``
        counts differ, or no track.
    """
    found, container = _read_found(path)
    if found.waypoints:
        return _wpml_frame(found)
    raw = _track_frame(found, time_zone=time_zone, alt_ref=alt_ref)
    raw.format = container
    return raw


def read_wpml_route(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """Read the waypoints of a DJI WPML mission (KMZ, ``waylines.wpml`` or ``template.kml``).

    Parameters
    ----------
    path
        The mission file.

    Returns
    -------
    geopandas.GeoDataFrame
        One Point (EPSG:4326) per waypoint, ordered by wayline and index, with
        ``wayline_id``, ``waypoint_index``, ``height_m``, ``height_ref``
        (``"takeoff"``, ``"ground"``, ``"egm96"``, ``"ellipsoid"`` or
        ``"unknown"``) and ``speed_m_s`` (the waypoint's, else the wayline's
        ``autoFlightSpeed``; NaN where neither is given).

    Raises
    ------
    InputError
        The file cannot be read or holds no WPML waypoint; the message names it.
    """
    try:
        found, _ = _read_found(Path(path))
        if not found.waypoints:
            raise InputError("no DJI WPML waypoint (Placemark with wpml:index)")
        route = _route_table(found)
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc
    columns = [WAYLINE_ID, WAYPOINT_INDEX, HEIGHT_M, HEIGHT_REF, SPEED_M_S]
    points = gpd.points_from_xy(route["lon"], route["lat"], crs=CRS_LONLAT)
    return gpd.GeoDataFrame(route[columns], geometry=points, crs=CRS_LONLAT)


def sniff_kml(head: bytes, path: Path) -> bool:
    """Whether a file is KML (``<kml`` root) or a KMZ zip holding a .kml or .wpml file."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (*_ZIP_ERRORS, OSError, ValueError):
            return path.suffix.lower() == ".kmz"
        return any(name.lower().endswith((".kml", ".wpml")) for name in names)
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[2:].decode(codec, errors="ignore").encode("utf-8")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"<") and _KML_ROOT.search(head) is not None
