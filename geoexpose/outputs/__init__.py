"""The output folder of a scan: exposure.gpkg, the CSVs, summary.json and the maps.

:mod:`geoexpose.outputs.folder` writes the folder as one transaction (locked against a
second writer, staged beside the outputs, ``summary.json`` last, a manifest of every
file written) with CSV cells a spreadsheet would run neutralised;
:mod:`geoexpose.outputs._gpkg` writes ``exposure.gpkg`` (for a large scan, in a forked
child while the maps are drawn).
"""

from geoexpose.outputs._gpkg import FORK_SITES, gpkg_table, write_layer
from geoexpose.outputs.folder import (
    FORMULA_START,
    OUTPUT_FILES,
    SITE_MAPS_CAP,
    check_outputs,
    csv_table,
    output_names,
    output_transaction,
    summary,
    write_outputs,
)

__all__ = [
    "FORK_SITES",
    "FORMULA_START",
    "OUTPUT_FILES",
    "SITE_MAPS_CAP",
    "check_outputs",
    "csv_table",
    "gpkg_table",
    "output_names",
    "output_transaction",
    "summary",
    "write_layer",
    "write_outputs",
]
