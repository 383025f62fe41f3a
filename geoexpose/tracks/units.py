"""Units written in column names, and their factors to SI.

Flight logs put the unit in the header: ``height_above_takeoff(feet)``,
``OSD.height [m]``, ``speed(mph)``, ``alt_agl_m``. :func:`split_unit` takes the
unit out of a name, :func:`unit_factor` turns it into the factor that gives
metres, metres per second, seconds or degrees.

Examples
--------
>>> split_unit(" height_above_takeoff(feet)")
('height_above_takeoff', 'feet')
>>> split_unit("OSD.height [m]")
('OSD.height', 'm')
>>> split_unit("alt_agl_m")
('alt_agl', 'm')
>>> unit_factor("feet", quantity=LENGTH, column="height(feet)")
0.3048
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

from geoexpose.errors import InputError

__all__ = [
    "ANGLE",
    "DURATION",
    "LENGTH",
    "SPEED",
    "UNITS",
    "ZONE_MARKERS",
    "Unit",
    "split_unit",
    "unit_factor",
]

logger = logging.getLogger(__name__)

LENGTH = "length"
SPEED = "speed"
DURATION = "duration"
ANGLE = "angle"


@dataclass(frozen=True)
class Unit:
    """A unit: the quantity it measures and the factor to the SI unit.

    Parameters
    ----------
    quantity
        ``"length"`` (to metres), ``"speed"`` (to m/s), ``"duration"`` (to
        seconds) or ``"angle"`` (to degrees: the unit of angles in geoexpose).
    factor
        Multiply a value in this unit by ``factor`` to get the SI value.
    """

    quantity: str
    factor: float


def _table() -> dict[str, Unit]:
    spellings = {
        (LENGTH, 1.0): "m meter meters metre metres",
        (LENGTH, 0.3048): "ft feet foot",
        (LENGTH, 1000.0): "km kilometer kilometers kilometre kilometres",
        (LENGTH, 0.01): "cm",
        (LENGTH, 0.001): "mm",
        (LENGTH, 1609.344): "mi mile miles",
        (SPEED, 1.0): "m/s mps m_s ms-1 meters/second metres/second",
        (SPEED, 1 / 3.6): "km/h kmh kph km_h kmph",
        (SPEED, 0.44704): "mph mi/h",
        (SPEED, 1852 / 3600): "kn kt kts knot knots",
        (SPEED, 0.3048): "ft/s fps ft_s",
        (DURATION, 1.0): "s sec secs second seconds",
        (DURATION, 1e-3): "ms msec millisecond milliseconds",
        (DURATION, 1e-6): "us microsecond microseconds",
        (DURATION, 1e-9): "ns nanosecond nanoseconds",
        (ANGLE, 1.0): "deg degree degrees °",
        (ANGLE, 180 / math.pi): "rad radian radians",
    }
    return {
        word: Unit(quantity, factor)
        for (quantity, factor), words in spellings.items()
        for word in words.split()
    }


#: Every unit spelling geoexpose understands (lower case), with its factor to SI.
UNITS: dict[str, Unit] = _table()

#: Units of a date-time column that say which clock it is on, not a scale.
ZONE_MARKERS = frozenset({"utc", "gmt", "z", "local"})

# Units recognised as a name suffix ("alt_m", "speed_m_s"); a small set, so
# that ordinary words after an underscore are never taken for units.
_SUFFIXES = ("m_s", "m", "ft", "feet", "meters", "metres", "kmh", "mph", "kn", "ms", "s", "deg")
_BRACKETS = re.compile(r"^(?P<base>.*?)\s*(?:\((?P<p>[^()]*)\)|\[(?P<b>[^\[\]]*)\])\s*$")
_SUFFIX = re.compile(r"^(?P<base>.+?)_(?P<unit>" + "|".join(_SUFFIXES) + r")$", re.IGNORECASE)


def split_unit(name: str) -> tuple[str, str | None]:
    """Split a column name into its base name and its unit.

    Parameters
    ----------
    name
        A column name such as ``"speed(mph)"``, ``"OSD.height [m]"`` or
        ``"alt_msl_m"``.

    Returns
    -------
    tuple of (str, str or None)
        The base name (trimmed) and the unit as written (trimmed), or None when
        the name carries no unit.

    Notes
    -----
    Three forms are recognised: ``name(unit)``, ``name [unit]`` and a few unit
    suffixes after an underscore (``_m``, ``_ft``, ``_m_s``, ``_kmh``, ``_mph``,
    ``_kn``, ``_s``, ``_ms``, ``_deg``, ...).

    Examples
    --------
    >>> split_unit("datetime(utc)")
    ('datetime', 'utc')
    >>> split_unit("latitude")
    ('latitude', None)
    """
    text = name.strip()
    match = _BRACKETS.match(text)
    if match and match["base"]:
        unit = match["p"] if match["p"] is not None else match["b"]
        return match["base"].strip(), unit.strip()
    match = _SUFFIX.match(text)
    if match:
        return match["base"], match["unit"]
    return text, None


def unit_factor(unit: str | None, *, quantity: str, column: str) -> float:
    """Return the factor that turns values in ``unit`` into SI values.

    Parameters
    ----------
    unit
        The unit as written in the header, or None for a column without a unit;
        such a column is taken to be in the SI unit already (metres, m/s,
        seconds, degrees).
    quantity
        What the column must measure: :data:`LENGTH`, :data:`SPEED`,
        :data:`DURATION` or :data:`ANGLE`.
    column
        The column name, for the error message.

    Returns
    -------
    float
        The factor to multiply values by.

    Raises
    ------
    InputError
        The unit is unknown, or measures another quantity.

    Examples
    --------
    >>> unit_factor("mph", quantity=SPEED, column="speed(mph)")
    0.44704
    >>> unit_factor(None, quantity=LENGTH, column="alt")
    1.0
    """
    if unit is None or not unit.strip():
        return 1.0
    found = UNITS.get(unit.strip().lower())
    if found is None:
        known = sorted(word for word, spec in UNITS.items() if spec.quantity == quantity)
        raise InputError(
            f"column {column!r}: unknown unit {unit!r}; expected a {quantity} unit "
            f"({', '.join(known)})"
        )
    if found.quantity != quantity:
        raise InputError(
            f"column {column!r}: unit {unit!r} is a {found.quantity}, expected a {quantity}"
        )
    return found.factor
