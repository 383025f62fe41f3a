"""The photos a demo flight took, written as synthetic DJI JPEGs with EXIF and drone-dji XMP."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["photo_files"]

# The demo camera: a DJI Air 2S (FC3411; 13.2 x 8.8 mm sensor, 8.4 mm lens, 22 mm eq.),
# its photos written at 1/12 of the 5472 x 3648 pixels to keep the demo small.
_PHOTO_SIZE = (456, 304)
_PHOTO_UTC_OFFSET_H = -2  # the camera clock runs on local time at 35 W


def _exif_rational(value: float, scale: int = 1000) -> Any:
    from PIL.TiffImagePlugin import IFDRational

    return IFDRational(round(abs(value) * scale), scale)


def _photo_bytes(f: dict[str, np.ndarray], i: int, start: str, number: int) -> bytes:
    """Encode a synthetic DJI JPEG for row ``i`` of a flown state: EXIF, drone-dji XMP."""
    from PIL import Image, ImageDraw

    when = pd.Timestamp(start) + pd.Timedelta(milliseconds=int(f["ms"][i]))
    local = when + pd.Timedelta(hours=_PHOTO_UTC_OFFSET_H)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "DJI", "FC3411"
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = local.strftime("%Y:%m:%d %H:%M:%S")
    sub[0x9291] = f"{local.microsecond // 1000:03d}"
    sub[0x9011] = f"{_PHOTO_UTC_OFFSET_H:+03d}:00"
    sub[0x920A] = _exif_rational(8.38)
    sub[0xA405] = 22
    gps = exif.get_ifd(0x8825)
    gps[1], gps[3] = ("N" if f["lat"][i] >= 0 else "S"), ("E" if f["lon"][i] >= 0 else "W")
    for tag, value in ((2, f["lat"][i]), (4, f["lon"][i])):
        deg = abs(float(value))
        minutes = (deg - int(deg)) * 60
        gps[tag] = (
            _exif_rational(int(deg), 1),
            _exif_rational(int(minutes), 1),
            _exif_rational((minutes - int(minutes)) * 60, 10_000),
        )
    gps[5], gps[6] = b"\x00", _exif_rational(float(f["msl"][i]))
    tags = {
        "AbsoluteAltitude": f"{f['msl'][i]:+.3f}",
        "RelativeAltitude": f"{f['h'][i]:+.3f}",
        "GpsLatitude": f"{f['lat'][i]:.9f}",
        "GpsLongitude": f"{f['lon'][i]:.9f}",
        "GimbalRollDegree": "+0.00",
        "GimbalYawDegree": f"{(f['yaw'][i] + 180) % 360 - 180:+.2f}",
        "GimbalPitchDegree": f"{f['gimbal'][i]:+.2f}",
        "FlightRollDegree": f"{f['roll'][i]:+.2f}",
        "FlightYawDegree": f"{(f['yaw'][i] + 180) % 360 - 180:+.2f}",
        "FlightPitchDegree": "+0.00",
    }
    attrs = " ".join(f'drone-dji:{k}="{v}"' for k, v in tags.items())
    xmp = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="DJI Meta Data" '
        f'xmlns:drone-dji="http://www.dji.com/drone-dji/1.0/" {attrs}/></rdf:RDF></x:xmpmeta>'
        '<?xpacket end="w"?>'
    ).encode()
    shade = int(np.clip(110 + f["gimbal"][i], 20, 200))
    image = Image.new("RGB", _PHOTO_SIZE, (shade, 140, 110))
    draw = ImageDraw.Draw(image)
    draw.text((12, 12), f"Brenmoor demo photo {number:04d}", fill=(255, 255, 255))
    draw.text((12, 30), "synthetic: no real place", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=70, exif=exif, xmp=xmp)
    return buffer.getvalue()


def photo_files(f: dict[str, np.ndarray], start: str, folder: Path) -> dict[Path, bytes]:
    """Make the photos a flight took (its ``isPhoto`` rows with a fix): path to JPEG bytes."""
    rows = np.flatnonzero((f["photo"] == 1) & f["fix"] & f["kept"])
    return {
        folder / f"DJI_{number:04d}.JPG": _photo_bytes(f, int(i), start, number)
        for number, i in enumerate(rows, start=1)
    }
