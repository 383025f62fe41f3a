"""Name the columns of a mission's waypoints, shared by the WPML and Litchi readers."""

from __future__ import annotations

__all__ = ["HEIGHT_M", "HEIGHT_REF", "WAYPOINT_INDEX"]

#: Number of the waypoint in its mission (or wayline), from 0.
WAYPOINT_INDEX = "waypoint_index"
#: Planned height of the waypoint (metres), measured as ``height_ref`` says.
HEIGHT_M = "height_m"
#: What ``height_m`` is measured from (``"takeoff"``, ``"ground"``, ...).
HEIGHT_REF = "height_ref"
