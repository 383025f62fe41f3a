"""The pinhole camera with Brown distortion, and how its intrinsics are found from tags.

:func:`camera_from_tags` reads the intrinsics from the fields of one photo, in this order
of preference, and records which one it used in :attr:`Camera.source`:

1. ``calibrated``: ``CalibratedFocalLength`` in pixels, or the factory ``DewarpData``;
2. ``focal_plane``: ``FocalLength`` (mm) times ``FocalPlaneXResolution`` (px per mm);
3. ``table`` with the photo's own ``FocalLength`` (mm): the pixel pitch of the camera
   model from the small table shipped with geoexpose (``_dji_cameras.toml``). This is a
   focal-plane resolution that the file does not write, and it comes before the 35 mm
   value because DJI rounds that to whole millimetres: the H20T thermal camera writes
   58 mm for 13.5 mm on a 12 um, 640 x 512 sensor, whose exact equivalent is 59.4 mm, so
   the 35 mm value makes its footprints 2.4 % too wide;
4. ``focal_35mm``: ``FocalLengthIn35mmFilm`` with the diagonal crop factor, the way DJI
   writes it: ``focal_px = f35 * hypot(width_px, height_px) / 43.2666``;
5. ``table`` alone: the table's fixed focal length where the photo gives none.

Pixel coordinates have their origin at the top-left corner of the top-left pixel, ``u`` to
the right and ``v`` down. Normalized coordinates ``(x, y)`` are those of the OpenCV
camera frame (x right, y down, z along the optical axis) divided by ``z``.
"""

from __future__ import annotations

import functools
import logging
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from geoexpose.errors import InputError

__all__ = [
    "CAMERA_SOURCES",
    "DIAGONAL_35MM_MM",
    "Camera",
    "camera_codes",
    "camera_from_tags",
    "camera_table",
]

logger = logging.getLogger(__name__)

CAMERA_SOURCES = ("calibrated", "focal_plane", "focal_35mm", "table")
DIAGONAL_35MM_MM = 43.2666  # hypot(36, 24): the diagonal of a 35 mm film frame

_UNDISTORT_ITERATIONS = 30
_UNDISTORT_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Camera:
    """Intrinsics of one camera: a pinhole with Brown (OpenCV) distortion.

    Parameters
    ----------
    width_px, height_px
        Image size in pixels.
    focal_px
        Focal length in pixels (the same along both axes).
    cx_px, cy_px
        Principal point in pixels from the top-left corner of the image.
    pixel_mm
        Pixel pitch in millimetres; NaN where unknown.
    k1, k2, k3
        Radial distortion coefficients; 0 for an undistorted image.
    p1, p2
        Tangential distortion coefficients.
    source
        Where the focal length came from: one of :data:`CAMERA_SOURCES`.
    """

    width_px: float
    height_px: float
    focal_px: float
    cx_px: float
    cy_px: float
    pixel_mm: float = math.nan
    k1: float = 0.0
    k2: float = 0.0
    k3: float = 0.0
    p1: float = 0.0
    p2: float = 0.0
    source: str = "calibrated"

    def __post_init__(self) -> None:
        if self.source not in CAMERA_SOURCES:
            raise ValueError(f"Camera.source must be one of {CAMERA_SOURCES}, not {self.source!r}")
        for name in ("width_px", "height_px", "focal_px"):
            value = float(getattr(self, name))
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"Camera.{name} must be a positive number, not {value!r}")

    @property
    def has_distortion(self) -> bool:
        """Whether any distortion coefficient is non-zero."""
        return any(c != 0.0 for c in (self.k1, self.k2, self.k3, self.p1, self.p2))

    @property
    def fov_deg(self) -> tuple[float, float]:
        """Horizontal and vertical field of view of the pinhole, in degrees."""
        return (
            math.degrees(2 * math.atan(self.width_px / (2 * self.focal_px))),
            math.degrees(2 * math.atan(self.height_px / (2 * self.focal_px))),
        )

    def _offsets(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r2 = x * x + y * y
        radial = 1.0 + r2 * (self.k1 + r2 * (self.k2 + r2 * self.k3))
        dx = x * radial + 2.0 * self.p1 * x * y + self.p2 * (r2 + 2.0 * x * x)
        dy = y * radial + self.p1 * (r2 + 2.0 * y * y) + 2.0 * self.p2 * x * y
        return dx, dy

    def distort(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map normalized ray coordinates to pixel coordinates (forward Brown model).

        >>> cam = Camera(100, 80, 50.0, 50.0, 40.0)
        >>> [float(a) for a in cam.distort(0.5, -0.2)]
        [75.0, 30.0]
        """
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        xd, yd = self._offsets(x, y)
        return self.cx_px + self.focal_px * xd, self.cy_px + self.focal_px * yd

    def undistort(self, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map pixel coordinates to normalized ray coordinates (iterative inverse).

        The inverse of :meth:`distort` by Newton's method, to 1e-12 in normalized
        units or 30 iterations.

        >>> cam = Camera(100, 80, 50.0, 50.0, 40.0)
        >>> [float(a) for a in cam.undistort(75.0, 30.0)]
        [0.5, -0.2]
        """
        xd = (np.asarray(u, dtype="float64") - self.cx_px) / self.focal_px
        yd = (np.asarray(v, dtype="float64") - self.cy_px) / self.focal_px
        if not self.has_distortion:
            return xd, yd
        x, y = xd.copy(), yd.copy()
        k1, k2, k3, p1, p2 = self.k1, self.k2, self.k3, self.p1, self.p2
        for _ in range(_UNDISTORT_ITERATIONS):  # Newton on the 2 x 2 system
            fx, fy = self._offsets(x, y)
            ex, ey = fx - xd, fy - yd
            if np.all(np.abs(ex) + np.abs(ey) < _UNDISTORT_TOLERANCE):
                break
            r2 = x * x + y * y
            radial = 1.0 + r2 * (k1 + r2 * (k2 + r2 * k3))
            slope = k1 + r2 * (2.0 * k2 + 3.0 * r2 * k3)
            jxx = radial + 2.0 * x * x * slope + 2.0 * p1 * y + 6.0 * p2 * x
            jxy = 2.0 * x * y * slope + 2.0 * p1 * x + 2.0 * p2 * y
            jyy = radial + 2.0 * y * y * slope + 6.0 * p1 * y + 2.0 * p2 * x
            det = jxx * jyy - jxy * jxy
            x = x - (jyy * ex - jxy * ey) / det
            y = y - (jxx * ey - jxy * ex) / det
        return x, y


def camera_codes(cameras: Camera | Sequence[Camera], n: int) -> tuple[np.ndarray, list[Camera]]:
    """Each capture's camera as a code into the list of distinct cameras.

    Parameters
    ----------
    cameras
        One camera for all ``n`` captures, or one per capture.
    n
        Number of captures.

    Returns
    -------
    codes : numpy.ndarray of int64
        Per capture, the index of its camera in ``distinct``.
    distinct : list of Camera
        The distinct cameras, in order of first use.

    >>> a, b = Camera(100, 80, 50.0, 50.0, 40.0), Camera(100, 80, 60.0, 50.0, 40.0)
    >>> codes, distinct = camera_codes([b, a, b], 3)
    >>> codes.tolist(), distinct == [b, a]
    ([0, 1, 0], True)
    """
    if isinstance(cameras, Camera):
        return np.zeros(n, dtype="int64"), [cameras]
    objs = np.empty(len(cameras), dtype=object)
    objs[:] = list(cameras)
    if objs.size != n:
        raise InputError(f"footprints: {objs.size} cameras given for {n} captures")
    codes, uniques = pd.factorize(objs)
    return codes.astype("int64"), list(uniques)


def _num(tags: Mapping[str, Any], key: str) -> float:
    """Read a tag as a float; NaN where it is missing or not a number ("+1.50" is 1.5)."""
    value = tags.get(key)
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        out = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0


@functools.cache
def camera_table() -> tuple[dict[str, Any], ...]:
    """Return the table of DJI cameras shipped with geoexpose, one dict per camera.

    Each entry has ``model`` (as written in EXIF Model), ``sensor_width_mm``,
    ``sensor_height_mm``, ``width_px``, ``height_px`` and, where the lens is fixed,
    ``focal_mm``.
    """
    text = resources.files("geoexpose.imagery").joinpath("_dji_cameras.toml").read_text("utf-8")
    return tuple(tomllib.loads(text)["camera"])


def _table_entry(model: str, width: float, height: float) -> dict[str, Any] | None:
    """Return the table row of ``model`` that best fits the image size, or None."""
    rows = [r for r in camera_table() if r["model"].casefold() == model.strip().casefold()]
    if not rows:
        return None
    exact = [r for r in rows if r["width_px"] == width and r["height_px"] == height]
    if exact:
        return exact[0]
    aspect = width / height
    same = [r for r in rows if abs(r["width_px"] / r["height_px"] - aspect) < 0.01]
    return same[0] if len(same) == 1 else (rows[0] if len(rows) == 1 else None)


def _dewarp(tags: Mapping[str, Any], width: float, height: float) -> dict[str, float] | None:
    """Focal, principal point and Brown coefficients from DewarpData, where they apply."""
    if _num(tags, "dewarp_flag") != 0:
        return None
    keys = ("fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3")
    # the names of read_photo_tags (dewarp_fx, ...) or the short ones
    values = {
        k: _num(tags, f"dewarp_{k}") if f"dewarp_{k}" in tags else _num(tags, k) for k in keys
    }
    if not (_positive(values["fx"]) and _positive(values["fy"])):
        return None
    if any(math.isnan(v) for v in values.values()):
        return None
    # DJI writes cx, cy of DewarpData as offsets from the image centre, in pixels.
    return {
        "focal_px": 0.5 * (values["fx"] + values["fy"]),
        "cx_px": width / 2 + values["cx"],
        "cy_px": height / 2 + values["cy"],
        **{k: values[k] for k in ("k1", "k2", "k3", "p1", "p2")},
    }


def camera_from_tags(tags: Mapping[str, Any], *, path: str | None = None) -> Camera:
    """Build the camera of one photo from its tags.

    Parameters
    ----------
    tags
        The fields of one photo, by name: ``make``, ``model``, ``width_px``,
        ``height_px``, ``focal_mm``, ``focal35_mm``, ``focal_plane_x_res`` (px per mm),
        ``calibrated_focal_px``, ``calibrated_cx``, ``calibrated_cy``, the DewarpData
        fields ``dewarp_fx`` (or ``fx``), ``dewarp_fy``, ``dewarp_cx``, ``dewarp_cy``,
        ``dewarp_k1``, ``dewarp_k2``, ``dewarp_p1``, ``dewarp_p2``, ``dewarp_k3``,
        and ``dewarp_flag``. Missing fields may be absent or None; numbers may be
        strings.
    path
        The file the tags come from, for messages (default: ``tags["path"]``).

    Returns
    -------
    Camera
        Its ``source`` says which of the four sources gave the focal length.

    Raises
    ------
    InputError
        When the image size is missing, or no source gives a focal length.

    Examples
    --------
    >>> cam = camera_from_tags({"width_px": 640, "height_px": 512, "focal35_mm": 58})
    >>> cam.source, round(cam.focal_px, 1)
    ('focal_35mm', 1098.7)
    """
    where = path if path is not None else str(tags.get("path", "<tags>"))
    width, height = _num(tags, "width_px"), _num(tags, "height_px")
    if not (_positive(width) and _positive(height)):
        raise InputError(f"{where}: field width_px/height_px: the image size is missing")
    focal_mm = _num(tags, "focal_mm")
    model = str(tags.get("model") or "").strip()
    centre = {"cx_px": width / 2, "cy_px": height / 2}

    calibrated = _num(tags, "calibrated_focal_px")
    cx, cy = _num(tags, "calibrated_cx"), _num(tags, "calibrated_cy")
    # Calibrations are in pixels of the full-size image; a resized copy (the P4 RTK TIFFs
    # of shared/realdata: 1368 px wide, optical centre 2736) is told by its centre.
    scale = width / (2 * cx) if _positive(cx) and abs(width / (2 * cx) - 1) > 0.2 else 1.0
    dewarp = _dewarp(tags, width / scale, height / scale)
    if dewarp is not None or _positive(calibrated):
        if dewarp is not None:
            intr = {
                k: v * scale if k in ("focal_px", "cx_px", "cy_px") else v
                for k, v in dewarp.items()
            }
        else:
            intr = {
                "focal_px": calibrated * scale,
                "cx_px": cx * scale if _positive(cx) else width / 2,
                "cy_px": cy * scale if _positive(cy) else height / 2,
            }
        pitch = focal_mm / intr["focal_px"] if _positive(focal_mm) else math.nan
        return Camera(width, height, pixel_mm=pitch, source="calibrated", **intr)

    plane_res = _num(tags, "focal_plane_x_res")
    if _positive(focal_mm) and _positive(plane_res):
        return Camera(
            width,
            height,
            focal_mm * plane_res,
            pixel_mm=1.0 / plane_res,
            source="focal_plane",
            **centre,
        )

    row = _table_entry(model, width, height) if model else None
    # The photo may be a resized copy: the pitch follows its own width.
    pitch = row["sensor_width_mm"] / width if row is not None else math.nan
    if row is not None and _positive(focal_mm):
        return Camera(width, height, focal_mm / pitch, pixel_mm=pitch, source="table", **centre)

    focal35 = _num(tags, "focal35_mm")
    if _positive(focal35):
        focal_px = focal35 * math.hypot(width, height) / DIAGONAL_35MM_MM
        pitch = focal_mm / focal_px if _positive(focal_mm) else math.nan
        return Camera(width, height, focal_px, pixel_mm=pitch, source="focal_35mm", **centre)

    lens_mm = float(row.get("focal_mm", math.nan)) if row is not None else math.nan
    if _positive(lens_mm):
        return Camera(width, height, lens_mm / pitch, pixel_mm=pitch, source="table", **centre)
    missing = "calibrated_focal_px, focal_mm with focal_plane_x_res, focal35_mm"
    known = f"model {model!r} is not in the camera table" if row is None else "no focal_mm"
    raise InputError(
        f"{where}: no camera intrinsics: fields {missing} are missing and {known}; "
        "give the focal length in the tags"
    )
