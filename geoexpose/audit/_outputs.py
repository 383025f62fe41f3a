"""An audit's output folder: a scan's files, plus the findings and the report.

======================  ==================================================================
file                    content
======================  ==================================================================
``findings.csv``        one row per finding (:data:`geoexpose.schema.FINDING_COLUMNS`)
``exposure.gpkg``       the scan's layers and ``findings``
``map.html``            the overview map with a ``findings`` layer
``report.html``         printable: a page per flight and per site, every finding, the map
``summary.json``        the scan's summary and ``audit``: policy, areas, finding counts
======================  ==================================================================

The folder is written as one transaction, as a scan's (see :mod:`geoexpose.outputs`):
locked, staged beside, moved into place with ``summary.json`` last, and only the
files of a previous run that its manifest lists are removed. Existing outputs are
refused before anything is written unless ``overwrite`` is given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoexpose._atomic import write_text_atomic
from geoexpose.audit._report import report_html
from geoexpose.audit.rules import RULES, SEVERITIES, SEVERITY_COLORS, SEVERITY_RANK
from geoexpose.errors import OutputExistsError
from geoexpose.maps import (
    SITE_MAPS_CAP,
    encode_geometries,
    simplify_m,
    site_maps_record,
    table,
    write_maps,
)
from geoexpose.outputs import (
    check_outputs,
    csv_table,
    gpkg_table,
    output_names,
    output_transaction,
    write_outputs,
)
from geoexpose.schema import (
    DURATION_S,
    END_UTC,
    EVIDENCE,
    FINDING_ID,
    FINDINGS_CSV,
    FLIGHT_ID,
    GPKG_FILE,
    MAP_FILE,
    REPORT_FILE,
    RULE,
    SEVERITY,
    SITE_ID,
    START_UTC,
)

if TYPE_CHECKING:
    import geopandas as gpd

    from geoexpose.audit.result import AuditResult

__all__ = ["AUDIT_FILES", "findings_layer", "write_audit"]

AUDIT_FILES = (FINDINGS_CSV, REPORT_FILE)
_LAYER = "findings"


def findings_layer(
    findings: gpd.GeoDataFrame,
) -> tuple[str, dict[str, Any], list[tuple[str, str]]]:
    """Make the findings a map layer: its name, data and legend entries (see ``explore``)."""
    findings = findings.iloc[::-1]  # the most severe drawn last, on top
    codes = findings[SEVERITY].map(SEVERITY_RANK).to_numpy("int64")
    styles = [
        {
            "color": SEVERITY_COLORS[s],
            "weight": 5.0,
            "opacity": 0.9,
            "fillColor": SEVERITY_COLORS[s],
            "fillOpacity": 0.3,
            "radius": 7,
        }
        for s in SEVERITIES
    ]
    columns = [SEVERITY, FLIGHT_ID, SITE_ID, START_UTC, END_UTC, DURATION_S, EVIDENCE]
    frame = pd.DataFrame(findings[columns])
    title = findings[FINDING_ID].astype(str) + ": " + findings[RULE].astype(str)
    popup = table(frame, columns, title)
    popup["ids"] = findings[FINDING_ID].astype(str).tolist()
    geoms = simplify_m(findings.geometry.to_numpy(), 1.0, preserve_topology=True)
    data = {
        "g": encode_geometries(geoms),
        "styles": styles,
        "s": codes,
        "table": popup,
        "kind": "finding",
    }
    rules = {s: ", ".join(r for r, v in RULES.items() if v == s) for s in SEVERITIES}
    legend = [(f"background:{SEVERITY_COLORS[s]}", f"{s}: {rules[s]}") for s in SEVERITIES]
    return _LAYER, data, legend


def _check(folder: Path, overwrite: bool) -> None:
    check_outputs(folder, overwrite=overwrite)
    existing = [folder / n for n in AUDIT_FILES if (folder / n).exists()]
    if existing and not overwrite:
        raise OutputExistsError(f"{existing[0]}: exists; pass --overwrite (overwrite=True)")


def write_audit(
    result: AuditResult,
    folder: Path,
    *,
    overwrite: bool = False,
    basemap: str | os.PathLike[str] = "none",
    extra_summary: Mapping[str, Any] | None = None,
    site_maps: int | str = SITE_MAPS_CAP,
    workers: int = 1,
) -> Path:
    """Write an audit's output folder (see the module's docstring); return the folder.

    ``workers``: processes drawing the maps (see :func:`geoexpose.maps.write_maps`).
    """
    import pyogrio

    _check(folder, overwrite)
    maps = site_maps_record(result.exposure.sites, site_maps)  # refuses a bad value first
    summary = {**(extra_summary or {}), "audit": result.summary(), "site_maps": maps}
    names = [*output_names(), *AUDIT_FILES]
    with output_transaction(folder, names, overwrite=overwrite) as stage:
        write_outputs(
            result.exposure, stage, overwrite=True, map_html=False, extra_summary=summary
        )  # fmt: skip
        findings = result.findings
        pyogrio.write_dataframe(
            gpkg_table(findings), stage / GPKG_FILE, layer=_LAYER, driver="GPKG",
            geometry_type="Unknown",
        )  # fmt: skip
        rows = csv_table(pd.DataFrame(findings.drop(columns="geometry")))
        write_text_atomic(stage / FINDINGS_CSV, rows.to_csv(index=False, lineterminator="\n"))
        write_maps(
            result.exposure, stage, basemap=basemap, layers=[findings_layer(findings)],
            site_maps=site_maps, workers=workers,
        )  # fmt: skip
        other = summary.get("other_files", [])  # the files no reader took, from the scan
        page = report_html(result, (stage / MAP_FILE).read_text(encoding="utf-8"), other)
        write_text_atomic(stage / REPORT_FILE, page)
    return folder
