"""The audit's vocabulary: its rules, their severities and the severities' colours.

==========================  ========  ===================================================
rule                        severity  finding
==========================  ========  ===================================================
``no_entry``                high      a span of fixes inside the zone of a site whose
                                      family has ``no_entry``, outside the authorized areas
``never_image``             high      the captures of a flight that image a site (finer
                                      than the policy's ``[imaging] max_gsd_cm``) whose
                                      family has ``never_image``, that site not authorized
``min_agl``                 medium    a span of fixes inside a site's zone lower than its
                                      family's ``min_agl_m`` (authorized or not)
``max_gsd``                 medium    the captures of a flight that show a site not
                                      authorized at a GSD finer than ``max_gsd_cm``
``outside_authorized``      low       a span of fixes outside every authorized area
==========================  ========  ===================================================

Examples
--------
>>> [rule for rule, severity in RULES.items() if severity == SEVERITIES[0]]
['no_entry', 'never_image']
>>> SEVERITY_RANK["low"]
2
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["RULES", "SEVERITIES", "SEVERITY_COLORS", "SEVERITY_RANK"]

#: The rules and their severities.
RULES: Mapping[str, str] = {
    "no_entry": "high",
    "never_image": "high",
    "min_agl": "medium",
    "max_gsd": "medium",
    "outside_authorized": "low",
}
#: The severities, the most severe first.
SEVERITIES = ("high", "medium", "low")
#: Each severity's colour, in the map and the report.
SEVERITY_COLORS = {"high": "#c8102e", "medium": "#f28e2b", "low": "#d4a800"}
#: Each severity's place in :data:`SEVERITIES` (0: the most severe), for sorting.
SEVERITY_RANK: Mapping[str, int] = {s: i for i, s in enumerate(SEVERITIES)}
