"""What an audit found: :class:`AuditResult`, which sums itself up and writes itself."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from geoexpose.audit.policy import Policy
from geoexpose.audit.rules import SEVERITIES
from geoexpose.exposure import ExposureResult
from geoexpose.schema import RULE, SEVERITY

__all__ = ["AuditResult"]


@dataclass(frozen=True)
class AuditResult:
    """What :func:`audit` found.

    Attributes
    ----------
    findings : GeoDataFrame
        One row per finding, columns :data:`geoexpose.schema.FINDING_COLUMNS`, high
        severity first then by time; geometry the fixes of the span (a line, or a point
        for one fix) or the part of the site area that the captures show, EPSG:4326.
    exposure : ExposureResult
        The exposure of the sites to the flights and captures audited.
    authorized : GeoDataFrame
        The authorized areas (:func:`geoexpose.read_authorized`).
    policy : Policy
        The policy applied.
    by_flight : DataFrame
        One row per flight: its time span, time outside the authorized areas, captures,
        and findings by severity.
    by_site : DataFrame
        One row per site with a finding or exposed: whether it is authorized, time in
        its zone, time there outside the authorized areas, captures, findings.
    """

    findings: gpd.GeoDataFrame
    exposure: ExposureResult
    authorized: gpd.GeoDataFrame
    policy: Policy
    by_flight: pd.DataFrame
    by_site: pd.DataFrame

    def summary(self) -> dict[str, Any]:
        """Return what the audit used and found, for ``summary.json``."""
        counts = self.findings.groupby([RULE, SEVERITY]).size()
        areas = pd.DataFrame(self.authorized.drop(columns="geometry"))
        return {
            "policy": self.policy.to_dict(),
            "authorized_areas": _records(areas),
            "findings": {
                "total": len(self.findings),
                "by_severity": {s: int((self.findings[SEVERITY] == s).sum()) for s in SEVERITIES},
                "by_rule": {str(rule): int(n) for (rule, _), n in counts.items()},
            },
        }

    def write(
        self,
        folder: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        basemap: str | os.PathLike[str] = "none",
        extra_summary: Mapping[str, Any] | None = None,
        site_maps: int | str | None = None,
        workers: int = 1,
    ) -> Path:
        """Write a scan's output folder with the findings and ``report.html``.

        The findings go to ``findings.csv``, the ``findings`` layer of
        ``exposure.gpkg`` and a layer of ``map.html``. ``site_maps`` and ``workers``
        as for :meth:`geoexpose.ExposureResult.write`.

        Raises :class:`~geoexpose.errors.OutputExistsError` before writing anything if
        an output exists and ``overwrite`` is false.
        """
        # The writer's module needs this class (for its types only): the one loop of
        # the wing, a result writing itself through its writer.
        from geoexpose.audit._outputs import write_audit

        return write_audit(
            self, Path(folder), overwrite=overwrite, basemap=basemap,
            extra_summary=extra_summary, workers=workers,
            **({} if site_maps is None else {"site_maps": site_maps}),
        )  # fmt: skip


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Return a table's rows as plain data: None where missing, times in ISO 8601."""
    out = frame.astype(object).where(frame.notna(), None)
    for col in out:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            out[col] = [None if v is None else v.isoformat() for v in out[col]]
    return out.to_dict("records")
