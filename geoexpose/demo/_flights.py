"""The demo's three flight plans of 12 June 2026, as waypoints in town metres."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geoexpose.demo._town import SUBSTATION, rail_north

__all__ = ["Flight", "plan_flights"]


@dataclass(frozen=True)
class Flight:
    """A flight plan in town metres: waypoints ``(east, north, height, speed, hold)``.

    A waypoint is reached ``distance / speed + hold`` seconds after the one before it.
    Between waypoints ``survey[0]`` and ``survey[1]`` the camera shoots every
    ``photo_every_s``, aimed at ``look_at`` if given, else pitched at ``gimbal_pitch``.
    """

    start: str
    waypoints: np.ndarray
    survey: tuple[int, int]
    photo_every_s: float
    gimbal_pitch: float
    look_at: tuple[float, float] | None = None
    gap_s: float = 0.0
    no_fix_rows: int = 0


def _trip(home: tuple[float, float], height: float, body: list, back_speed: float) -> np.ndarray:
    """Plan a flight from ``home``: spin up, climb, fly ``body``, fly back and land."""
    e, n = home
    return np.array(
        [
            (e, n, 0, 1, 0),
            (e, n, 0, 1, 3),
            (e, n, height, 3, 0),
            *body,
            (e, n, height, back_speed, 0),
            (e, n, 0, 2.5, 0),
            (e, n, 0, 1, 2),
        ],
        dtype="float64",
    )


def _orbit(
    centre: tuple[float, float], radius: float, height: float, turns_deg: tuple, speed: float
) -> list:
    """Plan waypoints every 2 degrees on a circle, counterclockwise between two angles."""
    angle = np.radians(np.arange(turns_deg[0], turns_deg[1] + 1e-9, 2.0))
    e, n = centre[0] + radius * np.cos(angle), centre[1] + radius * np.sin(angle)
    return np.column_stack(
        [e, n, np.full_like(e, height), np.full_like(e, speed), np.zeros_like(e)]
    ).tolist()


def plan_flights() -> list[Flight]:
    """Plan the three demo flights of 12 June 2026."""
    home1 = (-190.0, -40.0)  # 150 m west of the substation's fence
    entry = float(np.degrees(np.arctan2(home1[1], home1[0])))
    orbit = _orbit(SUBSTATION, 60.0, 40.0, (entry, 720.0), 5.0)
    orbit[0][3] = 8.0
    stray = [
        (120, 10, 60, 8, 0),
        (830, 25, 60, 18, 0),
        (830, -25, 60, 10, 0),
        (120, -25, 60, 18, 0),
        (0, -100, 60, 12, 0),
    ]
    inspection = _trip(home1, 40.0, [*orbit, *stray], 12.0)
    rail = [(e, rail_north(e), 60, 8, 0) for e in (-1900.0, -1200.0, -500.0, -200.0)]
    survey = _trip((-850.0, 400.0), 60.0, rail, 12.0)
    rows = [(-990, -470), (-710, -470), (-710, -430), (-990, -430), (-990, -390), (-710, -390)]
    mapping = _trip((-600.0, -300.0), 50.0, [(e, n, 50, 6, 0) for e, n in rows], 8.0)
    return [
        Flight(
            "2026-06-12T10:02:07.400",
            inspection,
            (3, 3 + len(orbit) - 1),
            2.0,
            -30.0,
            look_at=SUBSTATION,
            gap_s=30.0,
            no_fix_rows=5,
        ),
        Flight("2026-06-12T10:31:41.700", survey, (3, 3 + len(rail) - 1), 3.0, -45.0),
        Flight("2026-06-12T11:08:13.200", mapping, (3, 3 + len(rows) - 1), 2.0, -90.0),
    ]
