"""NIIRS estimates from ground sample distance, by the General Image Quality Equation 5.

The National Imagery Interpretability Rating Scale (NIIRS) rates an image 0 to 9 by the
interpretation tasks it supports. The General Image Quality Equation, version 5.0
(National Geospatial-Intelligence Agency, 16 September 2015; NGA's current version,
which replaces GIQE 4 of Leachtenauer et al., Applied Optics 36(32), 1997) predicts it::

    NIIRS = 9.57 - 3.32 log10(GSD_W) + 3.32 (1 - exp(-1.9 / SNR)) log10(RER)
            - 2 log10(RER)**4 - 1.8 / SNR

with ``GSD_W`` in inches: the geometric mean GSD in the plane across the line of sight
divided by ``sin(elevation) ** 0.25``, that is the ground GSD (geometric mean, see
:mod:`geoexpose.imagery.resolution`) times ``sin(elevation) ** 0.25``, the elevation
being the angle of the line of sight above the ground (90 degrees straight down).

Assumptions for the cameras drones carry (stated, not measured per image):

- ``RER = 0.5`` (:data:`RER`): the relative edge response of a Bayer sensor behind a good
  lens, in focus, without motion blur, after the camera's own sharpening; GIQE 5 wants no
  further sharpening term.
- ``SNR = 50`` (:data:`SNR`): daylight contrast signal-to-noise ratio, the value of
  NGA's worked example.

With them the equation is ``NIIRS = 9.480 - 3.32 log10(GSD_W / 1 inch)``: 4.2 at 1 m
straight down, 8.5 at 5 cm. Estimates are clipped to the scale, 0 to 9. What each level
lets an analyst make out is :data:`NIIRS_TIERS`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NIIRS_TIERS", "RER", "SNR", "niirs_from_gsd", "niirs_tier"]

#: Relative edge response assumed for a drone's camera (see the module notes).
RER = 0.5
#: Contrast signal-to-noise ratio assumed (daylight).
SNR = 50.0
_A0, _A_GSD, _A_RER, _A_RER4, _A_SNR, _K_SNR = 9.57, 3.32, 3.32, 2.0, 1.8, 1.9
_CM_PER_INCH = 2.54

#: The civil NIIRS levels (IRARS, Civil NIIRS Reference Guide, 1996): the ground resolved
#: distance usually quoted for each, the kind of thing an analyst can make out from it on
#: a site, and tasks of the civil scale at that level (paraphrased).
NIIRS_TIERS: tuple[tuple[int, str, str, str], ...] = (
    (0, "-", "nothing", "image unusable: obscured, degraded or too coarse"),
    (1, "> 9 m", "land use", "tell land-use classes apart; find a medium port, runways"),
    (2, "4.5-9 m", "large buildings", "detect large buildings (factories, hospitals)"),
    (3, "2.5-4.5 m", "structures", "detect single houses; trains on tracks (not cars)"),
    (4, "1.2-2.5 m", "structures identified", "tell barns from silos; tracks in a yard"),
    (5, "0.75-1.2 m", "vehicles", "detect open bay doors, tents, large animals"),
    (6, "0.40-0.75 m", "vehicles identified", "tell sedans from station wagons; poles"),
    (7, "0.20-0.40 m", "equipment", "identify railway sleepers, steps of a stairway"),
    (8, "0.10-0.20 m", "markings", "a car's grille and licence plate; a survey mark"),
    (9, "< 0.10 m", "fine markings", "barbs on barbed wire; spikes in railway sleepers"),
)


def niirs_from_gsd(
    gsd_cm: np.ndarray | float,
    sin_elevation: np.ndarray | float = 1.0,
    *,
    rer: float = RER,
    snr: float = SNR,
) -> np.ndarray:
    """NIIRS estimate from the ground GSD (geometric mean) by GIQE 5, clipped to 0-9.

    Parameters
    ----------
    gsd_cm
        Ground sample distance, geometric mean of the pixel's two ground dimensions, cm.
    sin_elevation
        Sine of the line of sight's elevation above the ground at the point (1: nadir).
    rer, snr
        Relative edge response and contrast SNR (see the module notes).

    Returns
    -------
    numpy.ndarray
        NIIRS, 0 to 9 in steps of 0.01; NaN where ``gsd_cm`` is NaN.

    Examples
    --------
    >>> niirs_from_gsd([100.0, 5.0, 4500.0]).tolist()
    [4.18, 8.5, 0.0]
    """
    gsd = np.atleast_1d(np.asarray(gsd_cm, dtype="float64"))
    sin_e = np.clip(np.asarray(sin_elevation, dtype="float64"), 1e-6, 1.0)
    gsd_w_in = gsd * sin_e**0.25 / _CM_PER_INCH
    lr = np.log10(rer)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = (
            _A0
            - _A_GSD * np.log10(gsd_w_in)
            + _A_RER * (1.0 - np.exp(-_K_SNR / snr)) * lr
            - _A_RER4 * lr**4
            - _A_SNR / snr
        )
    return np.round(np.clip(value, 0.0, 9.0), 2)


def niirs_tier(niirs: np.ndarray | float) -> np.ndarray:
    """Name what an analyst can make out at each NIIRS (third column of :data:`NIIRS_TIERS`).

    Examples
    --------
    >>> niirs_tier([4.18, 8.5]).tolist()
    ['structures identified', 'markings']
    """
    words = np.array([t[2] for t in NIIRS_TIERS], dtype=object)
    value = np.atleast_1d(np.asarray(niirs, dtype="float64"))
    level = np.clip(np.floor(np.nan_to_num(value, nan=0.0)), 0, 9).astype(int)
    return np.where(np.isnan(value), "", words[level])
