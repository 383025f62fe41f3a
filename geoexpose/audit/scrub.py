"""Scrub photos before they are shared: copies rebuilt from the segments that code the image.

:func:`scrub` finds the photos whose ground footprint shows a site (as
:func:`geoexpose.expose` decides it) and writes copies of them rebuilt from an
allow-list of JPEG segments (see :mod:`geoexpose.audit._jpeg_scrub`): the image data
byte for byte, so the pixels are the same, a JFIF or Adobe header, and of the EXIF
only the orientation. GPS, thumbnails, XMP, Photoshop/IPTC, comments, ICC profiles,
every other APPn and trailing preview images are left out, and counted. Each copy is
then read back from disk and checked (:mod:`geoexpose.audit._jpeg_verify`); one that
cannot be shown clean is removed and listed as skipped with the reason. It writes a
list of what it did, ``scrubbed.csv``. The originals are only read.

Only JPEG photos are scrubbed; a TIFF or DNG photo, or a video, that shows a site is
listed as skipped, with the reason, and not copied.
"""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose._atomic import atomic_path, write_text_atomic
from geoexpose.audit._jpeg_scrub import scrub_jpeg
from geoexpose.audit._jpeg_verify import copy_problems
from geoexpose.errors import InputError, InputWarning, OutputExistsError, UsageError, printable
from geoexpose.exposure import expose
from geoexpose.imagery import read_captures
from geoexpose.outputs import csv_table
from geoexpose.schema import CAPTURE_ID, CAPTURE_KIND, PATH, SITE_ID

__all__ = ["SCRUB_COLUMNS", "SCRUB_LIST", "scrub"]

logger = logging.getLogger(__name__)

SCRUB_LIST = "scrubbed.csv"
#: Columns of ``scrubbed.csv``, one row per file that shows a site.
SCRUB_COLUMNS = [
    CAPTURE_ID,
    "source",
    "output",
    "sites",
    "status",
    "reason",
    "gps_tags_removed",
    "xmp_segments_removed",
    "trailer_bytes_removed",
    "sha256",
    "exif_tags_removed",
    "segments_removed",
    "removed",
]
_COUNTS = (
    "gps_tags_removed",
    "xmp_segments_removed",
    "trailer_bytes_removed",
    "exif_tags_removed",
    "segments_removed",
)


def _relative(label: str) -> Path:
    """Make a safe relative output path of a capture label (``a/b.jpg``)."""
    parts = [p for p in PurePosixPath(str(label).replace("\\", "/")).parts if p not in ("/", "..")]
    return Path(*parts) if parts else Path("photo.jpg")


def scrub(
    photos: str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    strict: bool = False,
    time_zone: str | None = None,
) -> pd.DataFrame:
    """Write copies without GPS and XMP of the photos that show a site.

    Parameters
    ----------
    photos
        Photo files or folders (read with :func:`geoexpose.read_captures`), or the
        captures it returned.
    sites
        Sites in the schema of :func:`geoexpose.read_sites`.
    out
        The folder to write the copies to (under their capture ids, such as
        ``DJI_0001.JPG`` or ``flight2/DJI_0001.JPG``) and ``scrubbed.csv``.
    overwrite
        Replace existing copies and list; without it an existing one is an error,
        raised before anything is written.
    strict, time_zone
        As for :func:`geoexpose.read_captures`.

    Returns
    -------
    pandas.DataFrame
        The list written to ``scrubbed.csv``: columns :data:`SCRUB_COLUMNS`, one row per
        file that shows a site; ``status`` is ``scrubbed`` (the copy was read back and
        holds nothing but the image and its orientation) or ``skipped`` (with the
        ``reason``; no copy is left); ``output`` is relative to ``out``. The counts say
        what was left out: GPS tags, XMP segments, bytes after the image, EXIF tags
        and marker segments; ``removed`` names each kind, such as ``APP1 XMP x2;
        APP13 Photoshop/IPTC x1; COM x1; EXIF thumbnail x1``.

    Raises
    ------
    OutputExistsError
        An output exists and ``overwrite`` is false.
    UsageError
        A copy would replace its original (``out`` is a folder of the inputs).
    """
    out = Path(out)
    if isinstance(photos, gpd.GeoDataFrame):
        captures = photos
    else:
        captures = read_captures(photos, strict=strict, time_zone=time_zone)
    shown = expose(sites, None, captures).capture_sites
    listed = shown.groupby(CAPTURE_ID, sort=False)[SITE_ID].agg(
        lambda s: ";".join(dict.fromkeys(map(str, s)))
    )
    caps = captures[captures[CAPTURE_ID].isin(listed.index)]
    # one row per file: a video's frames share theirs
    files = caps.drop_duplicates(PATH, keep="first")
    sites_by_file = caps.groupby(PATH)[CAPTURE_ID].agg(
        lambda ids: ";".join(dict.fromkeys(";".join(listed[i] for i in ids).split(";")))
    )
    rows = []
    for cap in files.itertuples(index=False):
        source = getattr(cap, PATH)
        photo = getattr(cap, CAPTURE_KIND) == "photo"
        target = _relative(getattr(cap, CAPTURE_ID)) if photo else None
        rows.append(
            {
                CAPTURE_ID: getattr(cap, CAPTURE_ID),
                "source": str(source),
                "output": None if target is None else target.as_posix(),
                "sites": sites_by_file[source],
                "status": "skipped",
                "reason": None if photo else "a video: only photos are scrubbed",
            }
        )
    targets = [out / r["output"] for r in rows if r["output"] is not None]
    sources = {Path(r["source"]).resolve() for r in rows}
    clash = [t for t in targets if t.resolve() in sources]
    if clash:
        raise UsageError(f"{clash[0]}: the copy would replace its original; choose another --out")
    existing = [p for p in [*targets, out / SCRUB_LIST] if p.exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass --overwrite (overwrite=True)")

    for row in rows:
        if row["output"] is not None:
            _scrub_one(row, out, strict=strict)
    table = pd.DataFrame(rows, columns=SCRUB_COLUMNS)
    for col in _COUNTS:
        table[col] = table[col].astype("Int64")
    rows_text = csv_table(table).to_csv(index=False, lineterminator="\n")  # no live formulas
    write_text_atomic(out / SCRUB_LIST, rows_text)
    logger.info("scrubbed %d of %d files", int((table["status"] == "scrubbed").sum()), len(table))
    return table


def _refuse(row: dict[str, Any], why: str, *, strict: bool, exc: Exception | None = None) -> None:
    """List a photo as not scrubbed, with the reason; warn (or raise when strict)."""
    row.update(status="skipped", output=None, reason=printable(f"not scrubbed: {why}"))
    message = printable(f"{row['source']}: {why}; not copied")
    if strict:
        raise InputError(message) from exc
    warnings.warn(InputWarning(message), stacklevel=4)


def _scrub_one(row: dict[str, Any], out: Path, *, strict: bool) -> None:
    """Write the scrubbed copy of one photo, read it back and check it; fill its row."""
    original = Path(row["source"]).read_bytes()
    try:
        done = scrub_jpeg(original)
    except ValueError as exc:
        _refuse(row, str(exc), strict=strict, exc=exc)
        return
    target = out / row["output"]
    with atomic_path(target) as tmp:
        tmp.write_bytes(done.data)
    written = target.read_bytes()
    problems = copy_problems(written, original)
    if problems:
        target.unlink()
        _refuse(row, f"the written copy held {', '.join(problems)}: deleted", strict=strict)
        return
    row.update(
        status="scrubbed",
        gps_tags_removed=done.gps_tags,
        xmp_segments_removed=done.xmp_segments,
        trailer_bytes_removed=done.trailer_bytes,
        sha256=hashlib.sha256(written).hexdigest(),
        exif_tags_removed=done.exif_tags,
        segments_removed=done.segments,
        removed=done.describe() or "nothing",
    )
