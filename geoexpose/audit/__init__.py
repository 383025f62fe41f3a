"""Audit: flights and captures checked against a work order, and photos scrubbed.

:func:`audit` finds where the flights left the authorized areas
(:func:`read_authorized`) and what else they exposed, by the rules of a policy
(:func:`read_policy`); :func:`scrub` copies the photos that show a site without their
GPS and drone XMP.
"""

from geoexpose.audit.audit import audit
from geoexpose.audit.authorized import read_authorized
from geoexpose.audit.policy import Policy, read_policy
from geoexpose.audit.result import AuditResult
from geoexpose.audit.rules import RULES, SEVERITIES, SEVERITY_COLORS
from geoexpose.audit.scrub import SCRUB_LIST, scrub

__all__ = [
    "RULES",
    "SCRUB_LIST",
    "SEVERITIES",
    "SEVERITY_COLORS",
    "AuditResult",
    "Policy",
    "audit",
    "read_authorized",
    "read_policy",
    "scrub",
]
