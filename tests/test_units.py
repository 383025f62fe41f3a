from __future__ import annotations

import math

import pytest

from geoexpose.errors import InputError
from geoexpose.tracks.units import ANGLE, DURATION, LENGTH, SPEED, split_unit, unit_factor


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("height_above_takeoff(feet)", ("height_above_takeoff", "feet")),
        (" compass_heading(degrees)", ("compass_heading", "degrees")),
        ("OSD.height [m]", ("OSD.height", "m")),
        ("BATTERY.voltage [V]", ("BATTERY.voltage", "V")),
        ("Altitude (m)", ("Altitude", "m")),
        ("datetime(utc)", ("datetime", "utc")),
        ("alt_agl_m", ("alt_agl", "m")),
        ("speed_m_s", ("speed", "m_s")),
        ("timestamp_ms", ("timestamp", "ms")),
        ("latitude", ("latitude", None)),
        ("time_utc", ("time_utc", None)),
        ("flight_id", ("flight_id", None)),
        ("isPhoto", ("isPhoto", None)),
    ],
)
def test_split_unit(name, expected):
    assert split_unit(name) == expected


def test_split_unit_keeps_a_bare_bracket_name():
    # Only a unit after a name counts; "(feet)" alone is a name.
    assert split_unit("(feet)") == ("(feet)", None)


@pytest.mark.parametrize(
    ("unit", "quantity", "factor"),
    [
        ("feet", LENGTH, 0.3048),
        ("ft", LENGTH, 0.3048),
        ("meters", LENGTH, 1.0),
        ("m", LENGTH, 1.0),
        ("km", LENGTH, 1000.0),
        ("mph", SPEED, 1609.344 / 3600),
        ("MPH", SPEED, 1609.344 / 3600),
        ("kmh", SPEED, 1000 / 3600),
        ("km/h", SPEED, 1000 / 3600),
        ("m/s", SPEED, 1.0),
        ("mps", SPEED, 1.0),
        ("knots", SPEED, 1852 / 3600),
        ("millisecond", DURATION, 0.001),
        ("ms", DURATION, 0.001),
        ("s", DURATION, 1.0),
        ("degrees", ANGLE, 1.0),
        ("rad", ANGLE, 180 / math.pi),
    ],
)
def test_unit_factor(unit, quantity, factor):
    assert unit_factor(unit, quantity=quantity, column="c") == pytest.approx(factor, rel=1e-12)


def test_no_unit_is_si():
    assert unit_factor(None, quantity=LENGTH, column="alt") == 1.0
    assert unit_factor(" ", quantity=SPEED, column="speed") == 1.0


def test_unknown_unit_names_the_column():
    with pytest.raises(InputError, match=r"column 'alt\(furlong\)'.*unknown unit 'furlong'"):
        unit_factor("furlong", quantity=LENGTH, column="alt(furlong)")


def test_unit_of_the_wrong_quantity_is_refused():
    with pytest.raises(InputError, match=r"'height\(mph\)'.*is a speed, expected a length"):
        unit_factor("mph", quantity=LENGTH, column="height(mph)")
