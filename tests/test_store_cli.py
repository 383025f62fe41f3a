"""``scan --store``, ``audit --store`` and ``geoexpose history`` on the command line."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
from click.testing import CliRunner

import geoexpose as gx
from geoexpose.cli.main import main


def test_scan_store_and_history(tmp_path):
    demo = gx.make_demo_inputs(tmp_path / "in")
    store = tmp_path / "h.gpkg"
    run = CliRunner().invoke
    for i, track in enumerate(demo.tracks):
        args = ["scan", str(track), str(demo.sites.parent / "photos" / f"flight{i + 1}"),
                "--sites", str(demo.sites), "--out", str(tmp_path / f"o{i}"),
                "--site-maps", "none", "--store", str(store), "-q"]  # fmt: skip
        done = run(main, args)
        assert done.exit_code == 0, done.output
        assert f"scan {i + 1} added 1 flight," in done.output
    again = run(main, [*args[:-3], "--out", str(tmp_path / "again"), "--store", str(store)])
    assert "added 0 flights" in again.output and "78 already there" in again.output
    full = gx.scan([*demo.tracks, *demo.photos], demo.sites).result
    depot = "brenmoor-depot"
    out = run(main, ["history", str(store), "--out", str(tmp_path / "h"), "--site", depot,
                     "--site-maps", "none", "-q"])  # fmt: skip
    assert out.exit_code == 0, out.output
    table = pd.read_csv(tmp_path / "h" / "site_exposure.csv")
    expected = full.sites.set_index("site_id").loc[depot]
    assert table["site_id"].tolist() == [depot]
    assert abs(table["dwell_s"].iloc[0] - expected["dwell_s"]) < 1e-3  # the CSV keeps 3 decimals
    flights = full.pairs.loc[full.pairs["site_id"] == depot, "flight_id"]
    noun = "flight" if len(flights) == 1 else "flights"
    assert f"{depot}: {len(flights)} {noun}\n" in out.output
    assert all(f in out.output for f in flights)
    summary = json.loads((tmp_path / "h" / "summary.json").read_text())
    assert summary["history"]["sites"] == [depot]
    bad = run(main, ["history", str(store), "--out", str(tmp_path / "x"), "--since", "soon"])
    assert bad.exit_code == 2 and "since" in bad.output


def test_audit_store_keeps_the_findings(tmp_path):
    demo = gx.make_demo_inputs(tmp_path / "in")
    store = tmp_path / "h.gpkg"
    args = ["audit", *map(str, demo.tracks), "--sites", str(demo.sites), "--authorized",
            str(demo.sites), "--out", str(tmp_path / "a"), "--site-maps", "none",
            "--store", str(store), "-q"]  # fmt: skip
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    findings = pd.read_csv(tmp_path / "a" / "findings.csv")
    with sqlite3.connect(store) as con:
        stored = con.execute("SELECT count(*) FROM gx_findings").fetchone()[0]
        kind = con.execute("SELECT kind FROM gx_scans").fetchone()[0]
    assert stored == len(findings) and kind == "audit"
