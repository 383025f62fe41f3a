"""The audit's report.html: a page per flight and per site, every finding listed, a map page.

The report is read back as HTML (sections split on their ids) and, for the map, in
Debian's headless Chromium in print media at A4 width: the legend and the layer
control of the embedded map must not overlap. The PDF briefing of the same folder
(``geoexpose report``) is checked to list the audit's findings on the site pages.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.test_audit import run, write_inputs

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="module")
def audit_folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("audit")
    inputs, layer, policy = write_inputs(root / "in")
    out = root / "out"
    done = run("audit", inputs, "--sites", layer, "--authorized", "sub", "--policy", policy,
               "--out", out)  # fmt: skip
    assert done.exit_code == 0, done.output
    return out


def _sections(report: str) -> dict[str, str]:
    """Each page section of the report by its id (``flight-1``, ``site-2``, ...)."""
    parts = re.split(r'<section class="page" id="([a-z]+-\d+)">', report)
    return {parts[i]: parts[i + 1].split("</section>")[0] for i in range(1, len(parts), 2)}


def test_every_finding_is_on_its_flights_page_and_its_sites_page(audit_folder):
    report = (audit_folder / "report.html").read_text()
    findings = pd.read_csv(audit_folder / "findings.csv")
    assert len(findings) == 6
    sections = _sections(report)
    flights = {k: v for k, v in sections.items() if k.startswith("flight-")}
    sites = {k: v for k, v in sections.items() if k.startswith("site-")}
    n_flights = findings["flight_id"].nunique()
    assert len(flights) >= n_flights
    for _, f in findings.iterrows():
        cell = f"<td>{f['finding_id']}</td>"
        if isinstance(f["flight_id"], str):
            pages = [v for v in flights.values() if f"{f['flight_id']}</h2>" in v]
            assert len(pages) == 1 and cell in pages[0], f["finding_id"]
        if isinstance(f["site_id"], str):
            pages = [v for v in sites.values() if f"site_id {f['site_id']};" in v]
            assert len(pages) == 1 and cell in pages[0], f["finding_id"]
    # each site page lists as many findings as the table has for that site
    per_site = findings["site_id"].value_counts()
    for site_id, n in per_site.items():
        page = next(v for v in sites.values() if f"site_id {site_id};" in v)
        assert f"Findings ({n})" in page
    assert "break-before: page" in report


def _browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if IN_CI:
            pytest.fail("playwright is not installed; the browser tests must run under CI=true")
        pytest.skip("playwright is not installed")
    if not Path(CHROMIUM).is_file():
        if IN_CI:
            pytest.fail(f"no Chromium at {CHROMIUM}; the browser tests must run under CI=true")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    return sync_playwright


def _overlap(a: dict, b: dict) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])  # fmt: skip


@pytest.mark.slow
def test_the_printed_map_keeps_legend_and_layer_control_apart(audit_folder):
    sync_playwright = _browser()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--host-resolver-rules=MAP * ~NOTFOUND"])  # fmt: skip
        try:
            context = browser.new_context(offline=True, viewport={"width": 794, "height": 1123})
            page = context.new_page()
            page.emulate_media(media="print")
            page.goto((audit_folder / "report.html").resolve().as_uri())
            frame = page.frames[1]
            frame.wait_for_selector(".gx-legend")
            frame.wait_for_selector(".leaflet-control-layers")

            def boxes() -> tuple[dict, dict]:
                return (frame.locator(".gx-legend").bounding_box(),
                        frame.locator(".leaflet-control-layers").first.bounding_box())  # fmt: skip

            legend, control = boxes()
            assert legend and control and not _overlap(legend, control)
            # the same map in a frame as short as the old one-page report's: they meet
            page.add_style_tag(content="iframe { height: 70mm !important; }")
            page.wait_for_timeout(300)
            legend, control = boxes()
            assert _overlap(legend, control)
        finally:
            browser.close()


def test_the_pdf_briefing_of_an_audit_lists_its_findings_per_site(audit_folder):
    pdfium = pytest.importorskip("pypdfium2")
    pytest.importorskip("matplotlib")
    import geoexpose as gx

    pdf = gx.write_report(audit_folder)
    doc = pdfium.PdfDocument(pdf)
    texts = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    doc.close()
    findings = pd.read_csv(audit_folder / "findings.csv")
    assert f"Audit: {len(findings)} findings" in texts[0]
    for site_id, n in findings["site_id"].value_counts().items():
        page = next(t for t in texts[1:] if f"site_id {site_id} " in t)
        assert f"Audit findings: {n} (" in page.replace("\r\n", " ").replace("\n", " ")
