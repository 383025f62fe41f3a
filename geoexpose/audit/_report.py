"""The audit report: one printable, self-contained HTML page.

The page has inline CSS only and loads nothing: the overview map is embedded whole as
the ``srcdoc`` of an iframe (the map itself loads nothing either, unless it was made
with the ``osm`` basemap). Every text from the inputs is escaped. Long tables are cut
to keep the page to one printed A4 sheet; ``findings.csv`` has every row.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geoexpose._version import __version__
from geoexpose.audit.rules import SEVERITIES, SEVERITY_COLORS
from geoexpose.schema import (
    DURATION_S,
    DWELL_S,
    END_UTC,
    EVIDENCE,
    FAMILY,
    FINDING_ID,
    FINDINGS_CSV,
    FIRST_SEEN_UTC,
    FLIGHT_ID,
    KIND,
    MIN_AGL_M,
    N_CAPTURES,
    NAME,
    RULE,
    SEVERITY,
    SITE_ID,
    START_UTC,
)

if TYPE_CHECKING:
    from geoexpose.audit.result import AuditResult

__all__ = ["MAX_ROWS", "report_html"]

#: Rows shown per table (flights, sites, findings, inputs not wholly read) on the one page.
MAX_ROWS = {"flights": 5, "sites": 7, "findings": 8, "inputs": 8}
_DASH = "\u2013"

_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 8.5pt/1.25 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1a1a1a; margin: 0 auto; max-width: 190mm; padding: 6mm 0; }
h1 { font-size: 14pt; margin: 0 0 1mm; }
h2 { font-size: 10pt; margin: 2.5mm 0 0.8mm; border-bottom: 1px solid #bbb; }
p { margin: 0.8mm 0; }
.meta { color: #555; font-size: 8pt; }
.verdict { font-size: 10.5pt; margin: 2mm 0; }
.chip { display: inline-block; padding: 0 2mm; border-radius: 2mm; color: #fff;
        font-weight: 600; margin-right: 1mm; print-color-adjust: exact;
        -webkit-print-color-adjust: exact; }
table { border-collapse: collapse; width: 100%; font-size: 7.3pt; }
th, td { border-bottom: 1px solid #e2e2e2; padding: 0.3mm 1mm; text-align: left;
         vertical-align: top; }
th { background: #f2f2f2; font-weight: 600; print-color-adjust: exact;
     -webkit-print-color-adjust: exact; }
td.num { text-align: right; white-space: nowrap; }
td.ev { font-size: 6.9pt; }
.more { color: #555; font-size: 7.5pt; }
iframe { width: 100%; height: 80mm; border: 1px solid #bbb; }
footer { color: #777; font-size: 7pt; margin-top: 2mm; }
@media print {
  body { padding: 0; } iframe { height: 70mm; }
  h2 { break-after: avoid; } tr { break-inside: avoid; }
}
"""


def _e(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return _DASH
    return html.escape(str(value))


def _time(value: Any) -> str:
    if value is None or pd.isna(value):
        return _DASH
    return pd.Timestamp(value).tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S")


def _clock(value: Any) -> str:
    if value is None or pd.isna(value):
        return _DASH
    return pd.Timestamp(value).tz_convert("UTC").strftime("%H:%M:%S")


def _seconds(value: Any) -> str:
    """Write a duration: ``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    if value is None or pd.isna(value):
        return _DASH
    s = round(float(value))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


def _short(text: Any, limit: int) -> str:
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def _tail(text: str, limit: int) -> str:
    """Cut a path from the left: its file name is what matters."""
    return text if len(text) <= limit else "\u2026" + text[-(limit - 1) :]


def _number(value: Any, fmt: str) -> str:
    if value is None or pd.isna(value):
        return _DASH
    return format(float(value), fmt)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cls = ' class="ev"' if headers[i] == "evidence" else cls
            cells.append(f"<td{cls}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _more(n: int, shown: int, what: str, where: str) -> str:
    return f'<p class="more">and {n - shown} more {what} in {where}</p>' if n > shown else ""


def _chip(severity: str, text: str) -> str:
    return f'<span class="chip" style="background:{SEVERITY_COLORS[severity]}">{text}</span>'


def _flight_order(result: AuditResult) -> pd.DataFrame:
    """Order the flights, most findings first, and number them #1, #2, ..."""
    f = result.by_flight.sort_values(["high", "medium", "low"], ascending=False, kind="stable")
    return f.assign(number=[f"#{i + 1}" for i in range(len(f))])


def _flights(result: AuditResult) -> str:
    f = _flight_order(result)
    rows = [
        [
            r["number"],
            _e(r[FLIGHT_ID]),
            _e(r.get("drone_id")),
            _time(r.get(FIRST_SEEN_UTC)),
            _seconds(r.get(DURATION_S)),
            _seconds(r["outside_authorized_s"]),
            f"{int(r[N_CAPTURES])}",
            f"{int(r['captures_flagged'])}",
            f"{int(r['high'])} / {int(r['medium'])} / {int(r['low'])}",
        ]
        for _, r in f.head(MAX_ROWS["flights"]).iterrows()
    ]
    headers = ["", "flight", "aircraft", "start (UTC)", "duration", "outside authorized",
               "captures", "captures in findings", "findings high / medium / low"]  # fmt: skip
    return _table(headers, rows, {4, 5, 6, 7, 8}) + _more(
        len(f), MAX_ROWS["flights"], "flights", "summary.json"
    )


def _sites(result: AuditResult) -> str:
    s = result.by_site
    rows = [
        [
            _e(r[NAME]) if pd.notna(r.get(NAME)) else _e(r[SITE_ID]),
            f"{_e(r[FAMILY])}/{_e(r.get(KIND))}",
            "yes" if r["authorized"] else "no",
            _seconds(r[DWELL_S]),
            _seconds(r["outside_authorized_s"]),
            _number(r.get(MIN_AGL_M), ".0f"),
            f"{int(r[N_CAPTURES])}",
            _number(r.get("best_gsd_cm"), ".1f"),
            f"{int(r['findings'])}"
            + (f" {_chip(r['worst_severity'], r['worst_severity'])}" if r["findings"] else ""),
        ]
        for _, r in s.head(MAX_ROWS["sites"]).iterrows()
    ]
    headers = ["site", "family/kind", "authorized", "time in zone", "of it unauthorized",
               "lowest m AGL", "captures", "best GSD cm", "findings"]  # fmt: skip
    return _table(headers, rows, {3, 4, 5, 6, 7}) + _more(
        len(s), MAX_ROWS["sites"], "sites", "exposure.gpkg (layer sites)"
    )


def _findings(result: AuditResult) -> str:
    f = result.findings
    if len(f) == 0:
        return "<p>No findings.</p>"
    flights = _flight_order(result).set_index(FLIGHT_ID)["number"]
    rows = [
        [
            _e(r[FINDING_ID]),
            _chip(r[SEVERITY], _e(r[SEVERITY])),
            _e(r[RULE]),
            _e(flights.get(r[FLIGHT_ID]) if isinstance(r[FLIGHT_ID], str) else None),
            _e(r[SITE_ID]),
            f"{_clock(r[START_UTC])}{_DASH}{_clock(r[END_UTC])}",
            _seconds(r[DURATION_S]),
            _e(_short(r[EVIDENCE], 150)),
        ]
        for _, r in f.head(MAX_ROWS["findings"]).iterrows()
    ]
    headers = ["id", "severity", "rule", "flight", "site", "UTC", "duration", "evidence"]
    return _table(headers, rows, {6}) + _more(
        len(f), MAX_ROWS["findings"], "findings", FINDINGS_CSV
    )


def _verdict(result: AuditResult) -> str:
    f = result.findings
    if len(f) == 0:
        return '<p class="verdict">No findings: the flights kept to the policy.</p>'
    chips = " ".join(
        _chip(s, f"{int((f[SEVERITY] == s).sum())} {s}")
        for s in SEVERITIES
        if (f[SEVERITY] == s).any()
    )
    return f'<p class="verdict">{len(f)} findings: {chips}</p>'


def _areas(result: AuditResult) -> str:
    a = result.authorized
    if len(a) == 0:
        return "none"
    parts = []
    for area_id, group in a.groupby("area_id", sort=False):
        text = _e(area_id)
        lo, hi = group["valid_from_utc"].iloc[0], group["valid_to_utc"].iloc[0]
        if pd.notna(lo) or pd.notna(hi):
            text += f" ({_time(lo)} {_DASH} {_time(hi)})"
        aircraft = [str(v) for v in group["aircraft"].dropna().unique()]
        if aircraft:
            text += " for " + ", ".join(_e(v) for v in aircraft)
        parts.append(text)
    shown = parts[:6]
    return ", ".join(shown) + (f" and {len(parts) - 6} more" if len(parts) > 6 else "")


def _what_was_not_read(entry: Mapping[str, Any]) -> str:
    """Say what of one input file was not read: the file, or its rows by reason."""
    if entry.get("status") != "read":
        return str(entry.get("reason") or entry.get("status"))
    dropped = {k: int(v) for k, v in (entry.get("dropped") or {}).items() if v}
    if not dropped:
        return ""
    counts = ", ".join(f"{v} {k}" for k, v in sorted(dropped.items(), key=lambda kv: -kv[1]))
    return f"read; {sum(dropped.values())} of {entry.get('rows_read')} rows dropped ({counts})"


def _inputs(result: AuditResult, other_files: Sequence[Mapping[str, Any]]) -> str:
    """List every input file, or part of one, that the audit did not read, and why.

    A contractor's file cannot hide a flight from the audit unseen: a skipped file, a
    file no reader takes and rows dropped from a read file (bad times, positions,
    duplicates of another file) each appear here.
    """
    inputs = result.exposure.inputs
    entries = [*inputs.get("tracks", []), *inputs.get("captures", []), *other_files]
    rows = [(str(e.get("path")), _what_was_not_read(e)) for e in entries]
    rows = [r for r in rows if r[1]]
    if not rows:
        return "<p>Every input file was read whole.</p>"
    limit = MAX_ROWS["inputs"]
    table = _table(
        ["File", "Not read"],
        [[_e(_tail(p, 60)), _e(_short(w, 140))] for p, w in rows[:limit]],
        set(),
    )
    return table + _more(len(rows), limit, "files", "summary.json (files_skipped, inputs)")


def report_html(
    result: AuditResult, map_html: str, other_files: Sequence[Mapping[str, Any]] = ()
) -> str:
    """Write the report page of an audit; ``map_html`` is the overview map's page.

    ``other_files``: the entries of the files under the inputs that no reader took
    (:func:`geoexpose.inventory.files_record`), listed with the files not read whole.
    """
    e = result.exposure
    flights = len(result.by_flight)
    fixes = 0 if e.fixes is None else len(e.fixes)
    created = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = f"""
<h1>Flight audit</h1>
<p class="meta">{flights} flights ({fixes} fixes), {len(e.captures)} captures, {len(e.sites)} sites.
Authorized areas: {_areas(result)}. Policy: {_e(result.policy.source)}.</p>
{_verdict(result)}
<h2>Flights</h2>
{_flights(result)}
<h2>Sites</h2>
{_sites(result)}
<h2>Findings</h2>
{_findings(result)}
<h2>Inputs not read whole</h2>
{_inputs(result, other_files)}
<h2>Overview map</h2>
<iframe title="overview map" srcdoc="{html.escape(map_html, quote=True)}"></iframe>
<footer>geoexpose {__version__}, {created}. Times UTC. Every finding with its fixes and
captures: findings.csv, exposure.gpkg (layer findings).</footer>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>geoexpose audit</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
