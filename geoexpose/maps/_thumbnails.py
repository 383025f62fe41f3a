"""Small JPEG thumbnails of photos, as data URIs, for map popups.

A thumbnail is made only when the file can be read as an image here and now; a
map never links to the file itself. Large JPEGs are decoded at a reduced scale
(Pillow's ``draft``), and files are read on a few threads. A map holds at most
``budget_bytes`` of thumbnails: captures are taken in the order given (the caller
puts first the ones that show a site) until the budget is spent.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from geoexpose.imagery import IMAGE_SUFFIXES

__all__ = ["THUMB_BUDGET_BYTES", "THUMB_SIDE_PX", "Thumbnails", "any_images"]

logger = logging.getLogger(__name__)

THUMB_SIDE_PX = 160
THUMB_BUDGET_BYTES = 6_000_000
_QUALITY = 70
_BATCH = 32
_READABLE_KINDS = ("photo",)


def _thumbnail(path: str, side: int) -> str | None:
    """Make a JPEG data URI of the image at ``path``, at most ``side`` pixels, or None."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. DecompressionBombWarning, odd EXIF
            with Image.open(path) as im:
                im.draft("RGB", (side, side))
                small = ImageOps.exif_transpose(im)
                small.thumbnail((side, side))
                buf = io.BytesIO()
                small.convert("RGB").save(buf, "JPEG", quality=_QUALITY, optimize=True)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        logger.debug("no thumbnail of %s: %s", path, exc)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def any_images(paths: Sequence[object], kinds: Sequence[object]) -> bool:
    """Whether any capture is a photo whose file is an image (a thumbnail may be made).

    Photos from a log's photo triggers name the log, which has no picture.

    >>> any_images(["a/log.csv", "b/DJI_0001.JPG"], ["photo", "video_frame"])
    False
    >>> any_images(["b/DJI_0001.JPG"], ["photo"])
    True
    """
    return any(
        k in _READABLE_KINDS and isinstance(p, str) and p.lower().endswith(IMAGE_SUFFIXES)
        for p, k in zip(paths, kinds, strict=True)
    )


class Thumbnails:
    """Thumbnails made once per file, shared by the maps of one output folder.

    Parameters
    ----------
    side
        Longest side in pixels.
    budget_bytes
        Most bytes of thumbnails in one map.
    """

    def __init__(
        self, *, side: int = THUMB_SIDE_PX, budget_bytes: int = THUMB_BUDGET_BYTES
    ) -> None:
        self.side = side
        self.budget_bytes = budget_bytes
        self._cache: dict[str, str | None] = {}

    def _read(self, paths: list[str]) -> None:
        todo = [p for p in dict.fromkeys(paths) if p not in self._cache]
        if not todo:
            return
        workers = min(4, os.cpu_count() or 1, len(todo))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for path, uri in zip(todo, pool.map(self._one, todo), strict=True):
                self._cache[path] = uri

    def _one(self, path: str) -> str | None:
        return _thumbnail(path, self.side)

    def for_map(
        self, paths: Sequence[object], kinds: Sequence[object]
    ) -> tuple[dict[int, str], dict[int, str]]:
        """Thumbnails of the captures, in the order given, within the budget.

        Returns
        -------
        thumbs, reasons
            ``thumbs[i]``: the data URI of capture ``i``; ``reasons[i]``: why capture
            ``i`` has none, where it is worth saying (over the budget).
        """
        thumbs: dict[int, str] = {}
        reasons: dict[int, str] = {}
        counted: set[str] = set()  # a file shown by several captures is stored once
        candidates = [
            i
            for i, (p, k) in enumerate(zip(paths, kinds, strict=True))
            if isinstance(p, str) and p and k in _READABLE_KINDS
        ]
        spent = 0
        for start in range(0, len(candidates), _BATCH):
            batch = candidates[start : start + _BATCH]
            if spent >= self.budget_bytes:
                reasons.update(dict.fromkeys(batch, "no thumbnail: the map's budget is spent"))
                continue
            self._read([str(paths[i]) for i in batch])
            for i in batch:
                uri = self._cache.get(str(paths[i]))
                if uri is None:
                    continue
                if uri in counted:
                    thumbs[i] = uri
                    continue
                if spent + len(uri) > self.budget_bytes:
                    reasons[i] = "no thumbnail: the map's budget is spent"
                    spent = self.budget_bytes
                    continue
                thumbs[i] = uri
                counted.add(uri)
                spent += len(uri)
        if reasons:
            logger.info(
                "%d thumbnails in the map; %d more left out (budget %d bytes)",
                len(thumbs),
                len(reasons),
                self.budget_bytes,
            )
        return thumbs, reasons
