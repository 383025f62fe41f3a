"""Camera metadata of photos (JPEG, TIFF, DNG): EXIF with Pillow and DJI XMP, no exiftool.

EXIF comes from Pillow (the main IFD, the Exif IFD 0x8769 and the GPS IFD 0x8825) or,
for TIFFs written by GDAL, from the ``EXIF_*`` items of the GDAL_METADATA tag (42112).
DJI tags come from the XMP packet (JPEG APP1, TIFF tag 700), matched by the namespace
URI ``http://www.dji.com/drone-dji/1.0/`` in attribute and element form.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.imagery._xmp import (
    XmpError,
    field_error,
    find_xmp_packet,
    parse_gdal_metadata,
    to_integer,
    to_number,
    to_text,
    xmp_fields,
)
from geoexpose.schema import AIRCRAFT_ID, AIRCRAFT_MODEL, PATH

__all__ = [
    "PHOTO_TAG_FIELDS",
    "PROBLEM",
    "PhotoTags",
    "photo_identity",
    "photo_tags_table",
    "read_photo_tags",
]

logger = logging.getLogger(__name__)

PROBLEM = "problem"

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _XMP_TAG, _GDAL_TAG = 0x010F, 0x0110, 700, 42112
# EXIF name -> (tag in the Exif IFD, its TIFF/EP twin in IFD0 as DNG writes it, or None)
_EXIF_TAGS = {
    "DateTimeOriginal": (0x9003, 0x9003),
    "SubSecTimeOriginal": (0x9291, None),
    "OffsetTimeOriginal": (0x9011, None),
    "FocalLength": (0x920A, 0x920A),
    "FocalLengthIn35mmFilm": (0xA405, None),
    "FocalPlaneXResolution": (0xA20E, 0x920E),
    "FocalPlaneYResolution": (0xA20F, 0x920F),
    "FocalPlaneResolutionUnit": (0xA210, 0x9210),
    "PixelXDimension": (0xA002, None),
    "PixelYDimension": (0xA003, None),
    "BodySerialNumber": (0xA431, None),  # exiftool's "SerialNumber"
}
_GPS_TAGS = {
    "GPSLatitudeRef": 1,
    "GPSLatitude": 2,
    "GPSLongitudeRef": 3,
    "GPSLongitude": 4,
    "GPSAltitudeRef": 5,
    "GPSAltitude": 6,
}
# EXIF FocalPlaneResolutionUnit -> (name, millimetres per unit)
_PLANE_UNITS = {2: ("inch", 25.4), 3: ("cm", 10.0), 4: ("mm", 1.0), 5: ("um", 1e-3)}
_HEAD_BYTES = 1 << 20  # where to look for an XMP packet Pillow did not report
_EXIF_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_GDAL_NUMBERS = re.compile(r"\(\s*([^()]*?)\s*\)")


@dataclass(frozen=True)
class PhotoTags:
    """Camera metadata of one photo; None where the file does not say.

    Notes
    -----
    Angles in degrees as DJI writes them (gimbal pitch -90 nadir, 0 horizon; yaw
    clockwise from true north). ``lat``/``lon`` are WGS 84 degrees, from the XMP
    decimals where present, else from the EXIF GPS rationals. ``abs_alt_m`` is XMP
    AbsoluteAltitude, else EXIF GPSAltitude signed by GPSAltitudeRef; ``rel_alt_m``
    is the height above the take-off point. ``width_px``/``height_px`` are the pixel
    size of the file; ``exif_width_px``/``exif_height_px`` the size EXIF records
    (the original size, for resized copies), which calibrated intrinsics refer to.
    Focal-plane resolutions are in pixels per millimetre; ``focal_plane_unit`` is
    the unit the file used. ``dewarp_*`` are the fields of DJI DewarpData
    (``"date;fx,fy,cx,cy,k1,k2,p1,p2,k3"``, cx/cy offsets from the centre, pixels).
    ``serial`` is EXIF BodySerialNumber (the camera body's: on DJI payload and
    integrated cameras the serial the aircraft is known by); ``drone_serial`` and
    ``camera_serial`` are DJI XMP DroneSerialNumber and CameraSerialNumber (newer
    firmware; see :func:`photo_identity`).
    ``xmp_note`` is set where the XMP packet had to be repaired (undefined entities
    read as text) or could not be read (then only EXIF values are used).
    """

    make: str | None = None
    model: str | None = None
    width_px: int | None = None
    height_px: int | None = None
    exif_width_px: int | None = None
    exif_height_px: int | None = None
    time_original: datetime | None = None
    time_offset: str | None = None
    utc_at_exposure: str | None = None
    lat: float | None = None
    lon: float | None = None
    abs_alt_m: float | None = None
    rel_alt_m: float | None = None
    gimbal_yaw_deg: float | None = None
    gimbal_pitch_deg: float | None = None
    gimbal_roll_deg: float | None = None
    flight_yaw_deg: float | None = None
    flight_pitch_deg: float | None = None
    flight_roll_deg: float | None = None
    focal_mm: float | None = None
    focal35_mm: float | None = None
    focal_plane_x_res: float | None = None
    focal_plane_y_res: float | None = None
    focal_plane_unit: str | None = None
    calibrated_focal_px: float | None = None
    calibrated_cx: float | None = None
    calibrated_cy: float | None = None
    dewarp_data: str | None = None
    dewarp_date: str | None = None
    dewarp_fx: float | None = None
    dewarp_fy: float | None = None
    dewarp_cx: float | None = None
    dewarp_cy: float | None = None
    dewarp_k1: float | None = None
    dewarp_k2: float | None = None
    dewarp_p1: float | None = None
    dewarp_p2: float | None = None
    dewarp_k3: float | None = None
    dewarp_flag: int | None = None
    cam_reverse: int | None = None
    gimbal_reverse: int | None = None
    rtk_flag: int | None = None
    lrf_target_distance_m: float | None = None
    lrf_target_lat: float | None = None
    lrf_target_lon: float | None = None
    image_source: str | None = None
    product_name: str | None = None
    drone_model: str | None = None
    serial: str | None = None
    drone_serial: str | None = None
    camera_serial: str | None = None
    xmp_note: str | None = None


PHOTO_TAG_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(PhotoTags))


def _gdal_value(text: str) -> Any:
    """EXIF value of a GDAL ``EXIF_*`` item: ``(8.8)``, ``(24) (40) (49.0)``, ``0x00``."""
    numbers = _GDAL_NUMBERS.findall(text)
    if numbers and _GDAL_NUMBERS.sub("", text).strip() == "":
        return tuple(numbers) if len(numbers) > 1 else numbers[0]
    if re.fullmatch(r"(0x[0-9A-Fa-f]{2}\s*)+", text):
        return bytes(int(h, 16) for h in text.split())
    return text


def _read_raw(path: Path) -> tuple[tuple[int, int], dict[str, Any], bytes | None, str | None]:
    """Pixel size, EXIF values by name, the XMP packet of one file, and why it has none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            size, exif, xmp_source = _pillow_metadata(path)
        for warning in caught:
            logger.debug("%s: Pillow: %s", path, warning.message)
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image format Pillow can read") from None
    except Image.DecompressionBombError as exc:
        reason = " ".join(str(exc).split())
        raise InputError(f"{path}: refused, its declared size is too large ({reason})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{path}: not a readable image ({reason})") from None
    try:
        packet = find_xmp_packet(xmp_source) if xmp_source else None
        if packet is None:
            with path.open("rb") as handle:
                packet = find_xmp_packet(handle.read(_HEAD_BYTES))
    except XmpError as exc:
        return size, exif, None, f"XMP unreadable ({exc}): EXIF used alone"
    return size, exif, packet, None


def _pillow_metadata(path: Path) -> tuple[tuple[int, int], dict[str, Any], bytes | None]:
    from PIL import Image

    with Image.open(path) as image:
        size = image.size
        exif_data = image.getexif()
        exif_ifd = exif_data.get_ifd(_EXIF_IFD)
        gps_ifd = exif_data.get_ifd(_GPS_IFD)
        exif: dict[str, Any] = {"Make": exif_data.get(_MAKE), "Model": exif_data.get(_MODEL)}
        for name, (tag, ifd0_tag) in _EXIF_TAGS.items():
            value = exif_ifd.get(tag)
            exif[name] = exif_data.get(ifd0_tag) if value is None and ifd0_tag else value
        exif.update({name: gps_ifd.get(tag) for name, tag in _GPS_TAGS.items()})
        tags = getattr(image, "tag_v2", None)
        gdal = tags.get(_GDAL_TAG) if tags is not None else None
        xmp_source = image.info.get("xmp") or (tags.get(_XMP_TAG) if tags is not None else None)
    if isinstance(xmp_source, str):
        xmp_source = xmp_source.encode("utf-8")
    if gdal:
        try:
            items = parse_gdal_metadata(gdal)
        except XmpError as exc:
            raise InputError(f"{path}: field GDAL_METADATA: {exc}") from None
        for name in exif:
            if exif[name] is None and f"EXIF_{name}" in items:
                exif[name] = _gdal_value(items[f"EXIF_{name}"])
    return size, exif, xmp_source if isinstance(xmp_source, bytes) else None


def _dms(value: Any, ref: Any, path: Path, field: str, limit: float) -> float | None:
    """Decimal degrees from EXIF degree/minute/second rationals and an N/S/E/W ref."""
    if value is None:
        return None
    parts = value if isinstance(value, tuple) else (value,)
    numbers = [to_number(part, path, field) for part in parts]
    if not numbers or any(n is None for n in numbers):
        return None
    degrees = sum(n / 60.0**i for i, n in enumerate(numbers) if n is not None)
    hemisphere = (to_text(ref) or "").upper()
    if hemisphere in ("S", "W"):
        degrees = -degrees
    if abs(degrees) > limit:
        raise field_error(path, field, f"{degrees} is outside +-{limit:g} degrees")
    return degrees


def _time(value: Any, subsec: Any, path: Path) -> datetime | None:
    text = to_text(value)
    if text is None or set(text) <= set("0: -"):
        return None
    match = _EXIF_TIME.match(text)
    if match is None:
        raise field_error(
            path, "DateTimeOriginal", f"expected 'YYYY:MM:DD HH:MM:SS', found {text!r}"
        )
    digits = re.sub(r"\D", "", to_text(subsec) or "")
    micro = int((digits + "000000")[:6]) if digits else 0
    try:
        year, month, day, hour, minute, second = (int(g) for g in match.groups())
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError as exc:
        raise field_error(path, "DateTimeOriginal", f"{text!r} is not a date ({exc})") from None


def _serial(value: Any) -> str | None:
    """Return a serial number as text; None where empty or only zeros, spaces or NULs."""
    text = to_text(value)
    if text is None:
        return None
    text = text.strip().strip("\0").strip()
    return text[:64] if text.strip("0") else None


def _exif_fields(exif: Mapping[str, Any], path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "make": to_text(exif["Make"]),
        "model": to_text(exif["Model"]),
        "exif_width_px": to_integer(exif["PixelXDimension"], path, "PixelXDimension"),
        "exif_height_px": to_integer(exif["PixelYDimension"], path, "PixelYDimension"),
        "time_original": _time(exif["DateTimeOriginal"], exif["SubSecTimeOriginal"], path),
        "time_offset": to_text(exif["OffsetTimeOriginal"]),
        "lat": _dms(exif["GPSLatitude"], exif["GPSLatitudeRef"], path, "GPSLatitude", 90.0),
        "lon": _dms(exif["GPSLongitude"], exif["GPSLongitudeRef"], path, "GPSLongitude", 180.0),
        "focal_mm": to_number(exif["FocalLength"], path, "FocalLength"),
        "focal35_mm": to_number(exif["FocalLengthIn35mmFilm"], path, "FocalLengthIn35mmFilm"),
        "serial": _serial(exif["BodySerialNumber"]),
    }
    altitude = to_number(exif["GPSAltitude"], path, "GPSAltitude")
    below = to_integer(exif["GPSAltitudeRef"], path, "GPSAltitudeRef") == 1
    out["abs_alt_m"] = -altitude if altitude is not None and below else altitude
    x_res = to_number(exif["FocalPlaneXResolution"], path, "FocalPlaneXResolution")
    y_res = to_number(exif["FocalPlaneYResolution"], path, "FocalPlaneYResolution")
    code = to_integer(exif["FocalPlaneResolutionUnit"], path, "FocalPlaneResolutionUnit")
    if code is None and (x_res is not None or y_res is not None):
        code = 2  # the EXIF default unit is the inch
    unit_name, mm_per_unit = _PLANE_UNITS.get(code or 0, (None, math.nan))
    out["focal_plane_unit"] = unit_name
    if unit_name is not None:
        out["focal_plane_x_res"] = None if x_res is None else x_res / mm_per_unit
        out["focal_plane_y_res"] = None if y_res is None else y_res / mm_per_unit
    return out


def read_photo_tags(path: str | PathLike[str]) -> PhotoTags:
    """Read the camera metadata of one photo.

    Parameters
    ----------
    path
        A JPEG, TIFF or DNG file.

    Returns
    -------
    PhotoTags
        Every field the file carries; None elsewhere.

    Raises
    ------
    InputError
        If the file is not a readable image (or declares more pixels than Pillow
        opens: a possible decompression bomb), or a tag holds a value that is not a
        number, a date or a coordinate in range (the message names file and field).

    Notes
    -----
    XMP values win over EXIF for position and altitude (DJI writes its decimals
    there); EXIF wins for make and model.
    """
    path = Path(path)
    (width, height), exif, packet, note = _read_raw(path)
    values: dict[str, Any] = {"width_px": int(width), "height_px": int(height)}
    if note is not None:
        values["xmp_note"] = note
    from_exif = _exif_fields(exif, path)
    from_xmp = xmp_fields(packet, path) if packet is not None else {}
    for field in PHOTO_TAG_FIELDS:
        first, second = (
            (from_exif, from_xmp) if field in ("make", "model") else (from_xmp, from_exif)
        )
        value = first.get(field)
        values.setdefault(field, value if value is not None else second.get(field))
    return PhotoTags(**values)


def photo_tags_table(paths: Iterable[str | PathLike[str]]) -> pd.DataFrame:
    """Camera metadata of many photos, one row per file, never failing on one file.

    Parameters
    ----------
    paths
        Photo files.

    Returns
    -------
    pandas.DataFrame
        Columns ``path``, the :class:`PhotoTags` fields and ``problem``: empty where
        the file was read, else a one-line reason, with the tag fields left empty
        (NaN, NaT or missing). Numbers are float64 and ``time_original`` is a naive
        datetime64 column.
    """
    rows: list[dict[str, Any]] = []
    for item in paths:
        row: dict[str, Any] = {PATH: str(item), PROBLEM: None}
        try:
            row.update(dataclasses.asdict(read_photo_tags(item)))
        except InputError as exc:
            row[PROBLEM] = " ".join(str(exc).split())
            logger.info("skipped %s", row[PROBLEM])
        rows.append(row)
    columns: dict[str, Any] = {PATH: [row[PATH] for row in rows]}
    for field in dataclasses.fields(PhotoTags):
        values = [row.get(field.name) for row in rows]
        kind = str(field.type)
        if "datetime" in kind:
            columns[field.name] = pd.to_datetime(pd.Series(values, dtype=object))
        elif "float" in kind or "int" in kind:
            columns[field.name] = np.array(
                [np.nan if v is None else v for v in values], dtype=np.float64
            )
        else:
            columns[field.name] = pd.Series(values, dtype=object)
    columns[PROBLEM] = pd.Series([row[PROBLEM] for row in rows], dtype=object)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)))


def photo_identity(tags: pd.DataFrame) -> pd.DataFrame:
    """Return the aircraft each photo names: ``aircraft_id`` and ``aircraft_model``.

    Parameters
    ----------
    tags
        From :func:`photo_tags_table`.

    Returns
    -------
    pandas.DataFrame
        One row per photo, same index: ``aircraft_id`` the XMP DroneSerialNumber,
        else EXIF BodySerialNumber, else XMP CameraSerialNumber; ``aircraft_model``
        the XMP DroneModel, else ProductName, else the EXIF camera model (e.g.
        ``ZH20T``, ``FC6310R``: the camera, which names the aircraft it is built for).
        Missing (None) where the photo does not say.

    Examples
    --------
    >>> tags = pd.DataFrame({"serial": ["1W9DJ5S001JX5D", None], "model": ["ZH20T", None]})
    >>> photo_identity(tags).to_dict("records")
    [{'aircraft_id': '1W9DJ5S001JX5D', 'aircraft_model': 'ZH20T'}, \
{'aircraft_id': None, 'aircraft_model': None}]
    """

    def first(*names: str) -> pd.Series:
        out = pd.Series([None] * len(tags), index=tags.index, dtype=object)
        for name in reversed(names):  # the first name wins: written last
            if name in tags:
                values = tags[name].astype(object)
                given = values.notna() & (values.astype(str).str.strip() != "")
                out = out.where(~given, values.astype(str).str.strip())
        found = np.where(out.notna().to_numpy(), out.to_numpy(dtype=object), None)
        return pd.Series(found, index=tags.index, dtype=object)

    return pd.DataFrame(
        {
            AIRCRAFT_ID: first("drone_serial", "serial", "camera_serial"),
            AIRCRAFT_MODEL: first("drone_model", "product_name", "model"),
        },
        index=tags.index,
    )
