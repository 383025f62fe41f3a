"""Small images of the photos that show a site, read here and now, or None when they cannot be.

A photo is read only when its file is a regular file, not larger than
:data:`MAX_PHOTO_BYTES`, and Pillow takes it as an image of at most
:data:`MAX_PHOTO_PIXELS` pixels (below Pillow's own decompression-bomb guard);
JPEGs are decoded at a reduced scale (``draft``), so a 20-megapixel photo costs a
few milliseconds. A path in the captures table that is relative is taken from the
output folder.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MAX_PHOTO_BYTES", "MAX_PHOTO_PIXELS", "THUMB_SIDE_PX", "photo_thumbnail"]

logger = logging.getLogger(__name__)

#: Longest side of a thumbnail, in pixels (sharp in print at the 45 mm a thumbnail is drawn).
THUMB_SIDE_PX = 320
#: Largest photo file read for a thumbnail: 200 MiB.
MAX_PHOTO_BYTES = 200 << 20
#: Most pixels of a photo read for a thumbnail: 120 megapixels.
MAX_PHOTO_PIXELS = 120_000_000


def _resolve(path: Any, folder: Path) -> Path | None:
    if not isinstance(path, str) or not path:
        return None
    p = Path(path)
    return p if p.is_absolute() else folder / p


def photo_thumbnail(path: Any, folder: Path, side: int = THUMB_SIDE_PX) -> np.ndarray | None:
    """Return an RGB array of the photo at ``path``, at most ``side`` pixels, or None.

    None when the file is missing, not a regular file, too large, or not an image
    Pillow reads; the reason is logged at debug level.
    """
    from PIL import Image, ImageOps

    file = _resolve(path, folder)
    if file is None:
        return None
    try:
        st = os.stat(file)
        if not os.path.isfile(file) or st.st_size > MAX_PHOTO_BYTES:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning, odd EXIF
            with Image.open(file) as im:
                if im.width * im.height > MAX_PHOTO_PIXELS:
                    return None
                im.draft("RGB", (side, side))
                small = ImageOps.exif_transpose(im)
                small.thumbnail((side, side))
                return np.asarray(small.convert("RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        logger.debug("no thumbnail of %s: %s", file, exc)
        return None
