"""The audit report: a printable, self-contained HTML file, a page per flight and per site.

Printed (A4), it has a first page (the verdict, every flight, every site, every input
file not read whole), a page with the overview map, then one page per flight (the
sites it entered, every finding of it) and one per site (its flights, every finding
at it); findings tied to no flight get a page of their own. So every finding is
listed, on its flight's page and on its site's. On screen the pages follow each
other, linked from the tables. The file has inline CSS only and loads nothing: the
overview map is embedded whole as the ``srcdoc`` of an iframe as tall as a page, so
that its legend and its layer control do not meet (the map itself loads nothing
either, unless it was made with the ``osm`` basemap). Every text from the inputs is
escaped.
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
    BEST_GSD_CM,
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
    MIN_DISTANCE_M,
    N_CAPTURES,
    NAME,
    RULE,
    SEVERITY,
    SITE_ID,
    STANDOFF_M,
    START_UTC,
)

if TYPE_CHECKING:
    from geoexpose.audit.result import AuditResult

__all__ = ["report_html"]

_DASH = "\u2013"

_CSS = """
@page { size: A4; margin: 10mm; }
* { box-sizing: border-box; }
body { font: 8.5pt/1.25 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1a1a1a; margin: 0 auto; max-width: 190mm; padding: 6mm 0; }
h1 { font-size: 14pt; margin: 0 0 1mm; }
h3 { font-size: 9pt; margin: 2mm 0 0.6mm; }
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
td.num, th.num { text-align: right; white-space: nowrap; }
td.ev { font-size: 6.9pt; }
.more { color: #555; font-size: 7.5pt; }
iframe { width: 100%; height: 85vh; min-height: 150mm; border: 1px solid #bbb; }
section.page { margin-top: 8mm; }
.facts { margin: 1mm 0 2mm; }
a { color: inherit; }
footer { color: #777; font-size: 7pt; margin-top: 2mm; }
@media print {
  body { padding: 0; } iframe { height: 250mm; min-height: 0; }
  section.page { break-before: page; margin-top: 0; }
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
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            cls = ' class="ev"' if headers[i] == "evidence" else cls
            cells.append(f"<td{cls}>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _chip(severity: str, text: str) -> str:
    return f'<span class="chip" style="background:{SEVERITY_COLORS[severity]}">{text}</span>'


def _flight_order(result: AuditResult) -> pd.DataFrame:
    """Order the flights, most findings first, and number them #1, #2, ..."""
    f = result.by_flight.sort_values(["high", "medium", "low"], ascending=False, kind="stable")
    return f.assign(number=[f"#{i + 1}" for i in range(len(f))])


def _anchor(kind: str, index: int) -> str:
    return f"{kind}-{index + 1}"


def _link(text: str, target: str) -> str:
    return f'<a href="#{target}">{text}</a>'


def _flights(result: AuditResult) -> str:
    f = _flight_order(result)
    rows = [
        [
            _link(r["number"], _anchor("flight", i)),
            _e(r[FLIGHT_ID]),
            _e(r.get("drone_id")),
            _time(r.get(FIRST_SEEN_UTC)),
            _seconds(r.get(DURATION_S)),
            _seconds(r["outside_authorized_s"]),
            f"{int(r[N_CAPTURES])}",
            f"{int(r['captures_flagged'])}",
            f"{int(r['high'])} / {int(r['medium'])} / {int(r['low'])}",
        ]
        for i, (_, r) in enumerate(f.iterrows())
    ]
    headers = ["", "flight", "aircraft", "start (UTC)", "duration", "outside authorized",
               "captures", "captures in findings", "findings high / medium / low"]  # fmt: skip
    return _table(headers, rows, {4, 5, 6, 7, 8})


def _site_title(r: Any) -> str:
    return _e(r[NAME]) if pd.notna(r.get(NAME)) else _e(r[SITE_ID])


def _site_cells(r: Any) -> list[str]:
    return [
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


_SITE_HEADERS = ["family/kind", "authorized", "time in zone", "of it unauthorized",
                 "lowest m AGL", "captures", "best GSD cm", "findings"]  # fmt: skip


def _sites(result: AuditResult) -> str:
    rows = [
        [_link(_site_title(r), _anchor("site", i)), *_site_cells(r)]
        for i, (_, r) in enumerate(result.by_site.iterrows())
    ]
    return _table(["site", *_SITE_HEADERS], rows, {3, 4, 5, 6, 7})


def _findings_table(f: pd.DataFrame, numbers: pd.Series) -> str:
    """Every finding of ``f``, each row whole."""
    if len(f) == 0:
        return "<p>No findings.</p>"
    rows = [
        [
            _e(r[FINDING_ID]),
            _chip(r[SEVERITY], _e(r[SEVERITY])),
            _e(r[RULE]),
            _e(numbers.get(r[FLIGHT_ID]) if isinstance(r[FLIGHT_ID], str) else None),
            _e(r[SITE_ID]),
            f"{_clock(r[START_UTC])}{_DASH}{_clock(r[END_UTC])}",
            _seconds(r[DURATION_S]),
            _e(_short(r[EVIDENCE], 600)),
        ]
        for _, r in f.iterrows()
    ]
    headers = ["id", "severity", "rule", "flight", "site", "UTC", "duration", "evidence"]
    return _table(headers, rows, {6})


def _pairs_table(pairs: pd.DataFrame, first: str, label: Any) -> str:
    """Draw the flight x site rows of the exposure (``first``: the column shown first)."""
    if len(pairs) == 0:
        return "<p>None.</p>"
    rows = [
        [
            label(r[first]),
            _seconds(r.get(DWELL_S)),
            _number(r.get(MIN_DISTANCE_M), ".0f"),
            _number(r.get(MIN_AGL_M), ".0f"),
            _number(r.get(N_CAPTURES), ".0f"),
            _number(r.get(BEST_GSD_CM), ".1f"),
        ]
        for _, r in pairs.sort_values(DWELL_S, ascending=False, kind="stable").iterrows()
    ]
    headers = ["flight" if first == FLIGHT_ID else "site", "time in zone", "closest m",
               "lowest m AGL", "captures", "best GSD cm"]  # fmt: skip
    return _table(headers, rows, {1, 2, 3, 4, 5})


def _flight_pages(result: AuditResult) -> str:
    f = _flight_order(result)
    numbers = f.set_index(FLIGHT_ID)["number"]
    findings = result.findings
    pairs = result.exposure.pairs
    names = result.by_site.set_index(SITE_ID)
    site_no = {sid: i for i, sid in enumerate(result.by_site[SITE_ID])}

    def site_label(sid: Any) -> str:
        title = (
            _site_title(names.loc[sid].to_dict() | {SITE_ID: sid})
            if sid in names.index
            else _e(sid)
        )
        return _link(title, _anchor("site", site_no[sid])) if sid in site_no else title

    out = []
    for i, (_, r) in enumerate(f.iterrows()):
        fid = r[FLIGHT_ID]
        mine = findings[findings[FLIGHT_ID] == fid] if isinstance(fid, str) else findings[0:0]
        if fid == "(no flight)":
            mine = findings[findings[FLIGHT_ID].isna()]
        entered = pairs[pairs[FLIGHT_ID] == fid]
        out.append(f"""<section class="page" id="{_anchor("flight", i)}">
<h2>Flight {r["number"]}: {_e(fid)}</h2>
<p class="facts">Aircraft {_e(r.get("drone_id"))}; start {_time(r.get(FIRST_SEEN_UTC))} UTC;
duration {_seconds(r.get(DURATION_S))}; outside authorized areas
{_seconds(r["outside_authorized_s"])}; {int(r[N_CAPTURES])} captures,
{int(r["captures_flagged"])} in findings.</p>
<h3>Sites whose zone it entered or that its captures show</h3>
{_pairs_table(entered, SITE_ID, site_label)}
<h3>Findings ({len(mine)})</h3>
{_findings_table(mine, numbers)}
</section>""")
    return "\n".join(out)


def _site_pages(result: AuditResult) -> str:
    numbers = _flight_order(result).set_index(FLIGHT_ID)["number"]
    flight_no = {fid: i for i, fid in enumerate(_flight_order(result)[FLIGHT_ID])}
    findings = result.findings
    pairs = result.exposure.pairs

    def flight_label(fid: Any) -> str:
        text = f"{_e(numbers.get(fid))} {_e(fid)}"
        return _link(text, _anchor("flight", flight_no[fid])) if fid in flight_no else text

    out = []
    for i, (_, r) in enumerate(result.by_site.iterrows()):
        sid = r[SITE_ID]
        mine = findings[findings[SITE_ID] == sid]
        facts = "; ".join(f"{h} {c}" for h, c in zip(_SITE_HEADERS, _site_cells(r), strict=True))
        out.append(f"""<section class="page" id="{_anchor("site", i)}">
<h2>Site: {_site_title(r)}</h2>
<p class="facts">site_id {_e(sid)}; standoff {_number(r.get(STANDOFF_M), ".0f")} m; {facts}.</p>
<h3>Flights</h3>
{_pairs_table(pairs[pairs[SITE_ID] == sid], FLIGHT_ID, flight_label)}
<h3>Findings ({len(mine)})</h3>
{_findings_table(mine, numbers)}
</section>""")
    return "\n".join(out)


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
    return ", ".join(parts)


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
    return _table(
        ["File", "Not read"], [[_e(_tail(p, 80)), _e(_short(w, 300))] for p, w in rows], set()
    )


def report_html(
    result: AuditResult, map_html: str, other_files: Sequence[Mapping[str, Any]] = ()
) -> str:
    """Write the report of an audit; ``map_html`` is the overview map's page.

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
<h2>Inputs not read whole</h2>
{_inputs(result, other_files)}
<section class="page">
<h2>Overview map</h2>
<iframe title="overview map" srcdoc="{html.escape(map_html, quote=True)}"></iframe>
</section>
{_flight_pages(result)}
{_site_pages(result)}
<footer>geoexpose {__version__}, {created}. Times UTC. Every finding with its fixes and
captures: {FINDINGS_CSV}, exposure.gpkg (layer findings).</footer>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>geoexpose audit</title><style>{_CSS}</style></head><body>{body}</body></html>\n"
    )
