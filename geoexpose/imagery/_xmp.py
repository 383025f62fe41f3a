"""Find and parse the XMP packet and GDAL metadata of a photo, without exiftool.

Also the checked conversions of tag values (signed strings, rationals) shared with
:mod:`geoexpose.imagery.photo_tags`, which raise :class:`~geoexpose.errors.InputError`
naming the file and the field.

The packet is found in one pass (linear in the bytes searched) and read only up to
:data:`MAX_XMP_BYTES`; XML is parsed with expat, refusing any DTD, so no entity can be
declared, expanded or fetched. A packet that is not well-formed only because of an
undefined entity such as ``&x;`` or a bare ``&`` is read again with the entities left
out and the ``&`` taken as text, and says so (``xmp_note``); a value that held such an
entity may then be empty, and EXIF fills it. A packet that cannot be read leaves the
EXIF alone.

The DJI tags are matched by namespace URI, never by prefix, and are read from both
the attribute form (``rdf:Description drone-dji:GimbalYawDegree="+12.30"``) and the
element form (``<drone-dji:GimbalYawDegree>+12.30</drone-dji:GimbalYawDegree>``).
"""

from __future__ import annotations

import logging
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from xml.parsers import expat

from geoexpose.errors import InputError

__all__ = [
    "DJI_NS",
    "MAX_XMP_BYTES",
    "TIFF_NS",
    "XmpError",
    "field_error",
    "find_xmp_packet",
    "parse_gdal_metadata",
    "parse_xmp",
    "to_integer",
    "to_number",
    "to_text",
    "xmp_fields",
]

logger = logging.getLogger(__name__)

DJI_NS = "http://www.dji.com/drone-dji/1.0/"
TIFF_NS = "http://ns.adobe.com/tiff/1.0/"
_RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

#: The largest XMP packet read (1 MiB); a larger one is taken as unreadable.
MAX_XMP_BYTES = 1 << 20
# The packet proper: <x:xmpmeta ...> ... </x:xmpmeta> (any prefix, also the old
# "xapmeta"), or a bare RDF block for writers that omit the wrapper. Each pattern
# matches a bounded run of bytes, so one search is linear in the bytes searched.
_OPEN = re.compile(rb"<(?:[\w.-]{1,64}:)?x[am]pmeta\b")
_CLOSE = re.compile(rb"</(?:[\w.-]{1,64}:)?x[am]pmeta\s{0,64}>")
_RDF_OPEN = re.compile(rb"<(?:[\w.-]{1,64}:)?RDF\b")
_RDF_CLOSE = re.compile(rb"</(?:[\w.-]{1,64}:)?RDF\s{0,64}>")
# a reference to an entity that is not predefined (none can be declared), and an "&"
# that starts no reference at all
_UNDEFINED = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)[A-Za-z_:][\w.:-]{0,64};")
_BARE_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#[0-9]{1,8}|#x[0-9A-Fa-f]{1,8});)")
_DEWARP_KEYS = ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3")

# field -> DJI XMP names, first present wins
_XMP_FLOATS = {
    "lat": ("GpsLatitude", "Latitude"),
    "lon": ("GpsLongitude", "GpsLongtitude", "Longitude", "Longtitude"),
    "abs_alt_m": ("AbsoluteAltitude",),
    "rel_alt_m": ("RelativeAltitude",),
    "gimbal_yaw_deg": ("GimbalYawDegree",),
    "gimbal_pitch_deg": ("GimbalPitchDegree",),
    "gimbal_roll_deg": ("GimbalRollDegree",),
    "flight_yaw_deg": ("FlightYawDegree",),
    "flight_pitch_deg": ("FlightPitchDegree",),
    "flight_roll_deg": ("FlightRollDegree",),
    "calibrated_focal_px": ("CalibratedFocalLength",),
    "calibrated_cx": ("CalibratedOpticalCenterX",),
    "calibrated_cy": ("CalibratedOpticalCenterY",),
    "lrf_target_distance_m": ("LRFTargetDistance",),
    "lrf_target_lat": ("LRFTargetLat",),
    "lrf_target_lon": ("LRFTargetLon",),
}
_XMP_INTS = {
    "dewarp_flag": "DewarpFlag",
    "cam_reverse": "CamReverse",
    "gimbal_reverse": "GimbalReverse",
    "rtk_flag": "RtkFlag",
}
_XMP_TEXTS = {
    "utc_at_exposure": "UTCAtExposure",
    "image_source": "ImageSource",
    "product_name": "ProductName",
    "drone_model": "DroneModel",
    "drone_serial": "DroneSerialNumber",
    "camera_serial": "CameraSerialNumber",
}
_LIMITS = {"lat": 90.0, "lon": 180.0, "lrf_target_lat": 90.0, "lrf_target_lon": 180.0}


class XmpError(ValueError):
    """The XMP packet or the GDAL metadata is not well-formed XML."""


def _span(data: bytes, opening: re.Pattern[bytes], closing: re.Pattern[bytes]) -> slice | None:
    """From the first opening tag to the first closing tag after it, or None.

    If the first opening tag has no closing tag after it, no later one has: two
    searches, each over the bytes once, answer what a lazy ``open.*?close`` asks
    from every opening tag in turn (which is quadratic).
    """
    start = opening.search(data)
    if start is None:
        return None
    end = closing.search(data, start.end())
    return None if end is None else slice(start.start(), end.end())


def find_xmp_packet(data: bytes) -> bytes | None:
    """Return the XMP packet found in ``data``, or None.

    Parameters
    ----------
    data
        Bytes that hold a packet somewhere: a JPEG APP1 payload, a TIFF tag 700
        value (GDAL may prefix it with ``xml:XMP=``) or the head of a file.

    Returns
    -------
    bytes or None
        From the opening ``<x:xmpmeta`` to the closing tag, junk after it left out.

    Raises
    ------
    XmpError
        The packet is larger than :data:`MAX_XMP_BYTES`.

    Examples
    --------
    >>> find_xmp_packet(b"junk<x:xmpmeta a='1'><rdf:RDF/></x:xmpmeta >junk")
    b"<x:xmpmeta a='1'><rdf:RDF/></x:xmpmeta >"
    >>> find_xmp_packet(b"<x:xmpmeta " * 1000) is None
    True
    """
    found = _span(data, _OPEN, _CLOSE) or _span(data, _RDF_OPEN, _RDF_CLOSE)
    if found is None:
        return None
    size = found.stop - found.start
    if size > MAX_XMP_BYTES:
        raise XmpError(f"the XMP packet is {size} bytes, over the {MAX_XMP_BYTES} read")
    return data[found]


def _parse_xml(text: bytes, what: str) -> ET.Element:
    """Parse ``text`` with expat into elements, refusing any DTD or entity declaration."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator=" ")

    def name(raw: str) -> str:
        uri, _, local = raw.rpartition(" ")
        return f"{{{uri}}}{local}" if uri else local

    def refuse(*_: object) -> None:
        raise XmpError(f"{what} declares a DTD or entities, which are refused")

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(name(tag), {name(k): v for k, v in attrs.items()})

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise XmpError(f"{what} is not well-formed XML ({exc})") from None
    return builder.close()


def _element_text(element: ET.Element) -> str | None:
    """Text of a property element: its own text, or that of its first ``rdf:li``."""
    text = (element.text or "").strip()
    if text:
        return text
    for item in element.iter(f"{{{_RDF_NS}}}li"):
        item_text = (item.text or "").strip()
        if item_text:
            return item_text
    # rdf:parseType / rdf:resource forms keep the value in an rdf attribute
    value = element.get(f"{{{_RDF_NS}}}value") or element.get(f"{{{_RDF_NS}}}resource")
    return value.strip() if value else None


def parse_xmp(packet: bytes, *, namespaces: tuple[str, ...] = (DJI_NS, TIFF_NS)) -> dict[str, str]:
    """Properties of the given namespaces in an XMP packet.

    Parameters
    ----------
    packet
        The packet, as returned by :func:`find_xmp_packet`.
    namespaces
        Namespace URIs to keep; the first one is the main namespace.

    Returns
    -------
    dict
        ``{local_name: text}`` for the main namespace and ``{"{uri}local_name": text}``
        for the others. Values are stripped strings as written; where a property
        occurs more than once the first occurrence wins.

    Raises
    ------
    XmpError
        If the packet is not well-formed XML or declares a DTD.
    """
    root = _parse_xml(packet, "the XMP packet")
    main = namespaces[0]
    prefixes = tuple(f"{{{uri}}}" for uri in namespaces)
    found: dict[str, str] = {}

    def keep(qualified: str, value: str | None) -> None:
        if value is None or not qualified.startswith(prefixes):
            return
        key = qualified.split("}", 1)[1] if qualified.startswith(f"{{{main}}}") else qualified
        found.setdefault(key, value.strip())

    for element in root.iter():
        for name, value in element.attrib.items():
            keep(name, value)
        keep(element.tag, _element_text(element) if element.tag.startswith(prefixes) else None)
    return found


def parse_gdal_metadata(text: bytes | str) -> dict[str, str]:
    """Items of a GDAL_METADATA TIFF tag (42112) in the default domain.

    Parameters
    ----------
    text
        The tag's XML, ``<GDALMetadata><Item name="...">value</Item>...``.

    Returns
    -------
    dict
        ``{item name: text}``, e.g. ``{"EXIF_FocalLength": "(8.8)"}``.

    Raises
    ------
    XmpError
        If the XML is not well formed.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else text
    root = _parse_xml(raw.rstrip(b"\x00"), "the GDAL metadata")
    items: dict[str, str] = {}
    for item in root.iter("Item"):
        name = item.get("name")
        if name and not item.get("domain") and not item.get("role"):
            items.setdefault(name, (item.text or "").strip())
    return items


def field_error(path: Path, field: str, message: str) -> InputError:
    """Return the error for a bad value, naming the file and the field."""
    return InputError(f"{path}: field {field}: {message}")


def to_number(value: Any, path: Path, field: str) -> float | None:
    """Return a finite float from a string ("+1.50"), a rational or a one-byte value."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return float(value[0]) if len(value) == 1 else None
    if isinstance(value, str):
        text = value.strip().strip("\x00").strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            raise field_error(path, field, f"expected a number, found {value!r}") from None
        if not math.isfinite(number):
            raise field_error(path, field, f"expected a finite number, found {value!r}")
        return number
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise field_error(path, field, f"expected a number, found {value!r}") from None
    return number if math.isfinite(number) else None  # EXIF 0/0 means unknown


def to_integer(value: Any, path: Path, field: str) -> int | None:
    """Return an integer from a value :func:`to_number` reads; fractions are refused."""
    number = to_number(value, path, field)
    if number is None:
        return None
    if not number.is_integer():
        raise field_error(path, field, f"expected an integer, found {value!r}")
    return int(number)


def to_text(value: Any) -> str | None:
    """Return a stripped string, None where empty."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value is None:
        return None
    text = str(value).strip("\x00 \t\r\n")
    return text or None


def _dewarp(text: str, path: Path) -> dict[str, Any]:
    """Fields of DJI DewarpData: ``"date;fx,fy,cx,cy,k1,k2,p1,p2,k3"``."""
    date, _, numbers = text.strip().rpartition(";")
    values = [v for v in numbers.split(",") if v.strip()]
    if len(values) != len(_DEWARP_KEYS):
        raise field_error(path, "DewarpData", f"expected 'date;' and 9 numbers, found {text!r}")
    out: dict[str, Any] = {"dewarp_data": text.strip(), "dewarp_date": date.strip() or None}
    for key, value in zip(_DEWARP_KEYS, values, strict=True):
        out[f"dewarp_{key}"] = to_number(value, path, "DewarpData")
    return out


def _lenient(packet: bytes) -> tuple[dict[str, str], str | None]:
    """Properties of a packet, read again without undefined entities if not well-formed."""
    try:
        return parse_xmp(packet), None
    except XmpError as exc:
        first = exc
    try:
        props = parse_xmp(_BARE_AMP.sub(b"&amp;", _UNDEFINED.sub(b"", packet)))
    except XmpError:
        return {}, f"XMP unreadable ({first}): EXIF used alone"
    return props, f"XMP repaired ({first}): undefined entities left out"


def xmp_fields(packet: bytes, path: Path) -> dict[str, Any]:
    """PhotoTags fields found in the DJI XMP of ``path``; values checked and converted.

    ``xmp_note`` says if the packet had to be repaired or could not be read (then
    the other fields are None and the EXIF is used alone).
    """
    props, note = _lenient(packet)
    out: dict[str, Any] = {}
    for field, names in _XMP_FLOATS.items():
        name = next((n for n in names if n in props), None)
        if name is not None:
            out[field] = to_number(props[name], path, name)
            limit = _LIMITS.get(field)
            if limit is not None and out[field] is not None and abs(out[field]) > limit:
                raise field_error(path, name, f"{out[field]} is outside +-{limit:g} degrees")
    for field, name in _XMP_INTS.items():
        out[field] = to_integer(props.get(name), path, name)
    for field, name in _XMP_TEXTS.items():
        out[field] = to_text(props.get(name))
    out["make"] = to_text(props.get(f"{{{TIFF_NS}}}Make"))
    out["model"] = to_text(props.get(f"{{{TIFF_NS}}}Model"))
    if to_text(props.get("DewarpData")):
        out.update(_dewarp(props["DewarpData"], path))
    out["xmp_note"] = note
    return out
