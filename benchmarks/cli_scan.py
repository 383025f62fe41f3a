"""Benchmark: the whole ``geoexpose scan`` command line on a fleet of AirData CSV logs.

One command, from the repository root::

    python -m benchmarks.cli_scan                       # 200 logs x 10,000 fixes, 300,000 sites
    python -m benchmarks.cli_scan --logs 10 --fixes-per-log 2000 --sites 3000   # a quick run

It takes the seeded national workload of :mod:`benchmarks.generate` (the sites, and
10 Hz multirotor flights that inspect, survey or pass sites), writes each flight as
an AirData UAV CSV export (the real 46-column imperial header, leading spaces
included, text as AirData writes it; cached beside the workload), then times in one
run:

* the read floor: :func:`pandas.read_csv` reading the same logs, one after another;
* the scan: ``python -m geoexpose.cli scan LOGS --sites SITES --out OUT`` as a child
  process, with every output and the default site maps, and its peak resident
  memory (``ru_maxrss`` of that child, from :func:`os.wait4`).

It prints the ratio scan / read floor; the goal of issue 13 is at most 4x, with a
process peak under 2 GB. ``--profile FILE`` runs the scan under cProfile instead
(slower; read it with ``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._load import read_fixes_lonlat
from benchmarks.generate import DEFAULT_SEED, DEFAULT_SITES, generate
from geoexpose.demo._airdata import airdata_file_name, airdata_table
from geoexpose.schema import ALT_AGL_M, FLIGHT_ID, LAT, LON, TIME_UTC

__all__ = ["LOGS_VERSION", "main", "read_floor", "run_scan", "write_logs"]

LOGS_VERSION = 1  # bump when the CSV text changes: the cache key holds it
DEFAULT_LOGS = 200
DEFAULT_FIXES_PER_LOG = 10_000
_EARTH_M = 6_371_008.8
_MB = 1024.0


def _flown(flight: pd.DataFrame, ground_m: float) -> dict[str, np.ndarray]:
    """The flown state of one generated flight, as the demo's AirData writer takes it."""
    lon = flight[LON].to_numpy("float64")
    lat = flight[LAT].to_numpy("float64")
    h = flight[ALT_AGL_M].to_numpy("float64")
    t_ns = flight[TIME_UTC].to_numpy("datetime64[ns]").astype("int64")
    t = (t_ns - t_ns[0]) / 1e9
    size = len(t)
    dx = np.radians(np.diff(lon, prepend=lon[0])) * np.cos(np.radians(lat)) * _EARTH_M
    dy = np.radians(np.diff(lat, prepend=lat[0])) * _EARTH_M
    dt = np.maximum(np.diff(t, prepend=t[0] - 0.1), 1e-3)
    course = np.degrees(np.arctan2(dx, dy)) % 360.0
    home_x = np.radians(lon - lon[0]) * np.cos(np.radians(lat)) * _EARTH_M
    home_y = np.radians(lat - lat[0]) * _EARTH_M
    ground = np.full(size, ground_m)
    phase = np.full(size, 2, dtype="int64")
    phase[:4], phase[4:20], phase[-10:] = 0, 1, 3
    return {
        "t": t,
        "ms": np.round(t * 1000).astype("int64"),
        "fix": np.ones(size, dtype=bool),
        "speed": np.hypot(dx, dy) / dt,
        "climb": np.diff(h, prepend=h[0]) / dt,
        "msl": ground + h,
        "ground": ground,
        "h": h,
        "course": course,
        "yaw": course,
        "phase": phase,
        "lat": lat,
        "lon": lon,
        "from_home": np.hypot(home_x, home_y),
        "roll": np.zeros(size),
        "photo": np.zeros(size, dtype="int64"),
        "gimbal": np.full(size, -30.0),
        "kept": np.ones(size, dtype=bool),
    }


def write_logs(fixes_path: Path, folder: Path, *, seed: int) -> list[Path]:
    """Write each flight of a workload as an AirData CSV log in ``folder`` (once; cached).

    The folder is filled under a temporary name and renamed when complete.
    """
    if folder.is_dir():
        return sorted(folder.glob("*.csv"))
    fixes = read_fixes_lonlat(fixes_path, [FLIGHT_ID, TIME_UTC, ALT_AGL_M])
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    try:
        for k, (_, flight) in enumerate(fixes.groupby(FLIGHT_ID, sort=True)):
            flight = flight.sort_values(TIME_UTC, kind="stable")
            start = flight[TIME_UTC].iloc[0].tz_convert(None).floor("s")
            flown = _flown(flight, float(rng.uniform(0.0, 1500.0)))
            table = airdata_table(flown, start.isoformat(), rng)
            path = tmp / f"{k:03d}-{airdata_file_name(start.isoformat())}"
            table.to_csv(path, index=False, lineterminator="\n")
        os.replace(tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return sorted(folder.glob("*.csv"))


def read_floor(logs: list[Path]) -> tuple[float, int]:
    """Seconds for :func:`pandas.read_csv` to read every log, and the rows read."""
    start = time.perf_counter()
    rows = sum(len(pd.read_csv(path)) for path in logs)
    return time.perf_counter() - start, rows


def run_scan(
    logs: Path,
    sites: Path,
    out: Path,
    *,
    profile: Path | None = None,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """Run ``geoexpose scan`` as a child process: wall seconds, peak MB, exit status."""
    head = [sys.executable]
    if profile is not None:
        head += ["-m", "cProfile", "-o", str(profile)]
    cmd = [*head, "-m", "geoexpose.cli", "scan", str(logs), "--sites", str(sites)]
    cmd += ["--out", str(out), "--overwrite", *extra]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN, the only child
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "command": " ".join(cmd),
        "seconds": seconds,
        "peak_mb": peak_kb / _MB,
        "returncode": child.returncode,
        "stdout": stdout,
        "stderr": stderr,
    }


def _outputs(out: Path) -> dict[str, Any]:
    """What the scan wrote: the site maps, the overview's size, summary.json's counts."""
    info: dict[str, Any] = {}
    summary_path = out / "summary.json"
    if summary_path.is_file():
        summary = json.loads(summary_path.read_text())
        info["exposed_sites"] = summary.get("results", {}).get("exposed_sites")
        info["fixes_kept"] = summary.get("rows", {}).get("fixes_kept")
    maps = list((out / "sites").glob("*.html"))
    info["site_maps"] = len(maps)
    info["site_maps_mb"] = sum(p.stat().st_size for p in maps) / 1e6
    overview = out / "map.html"
    info["map_html_mb"] = overview.stat().st_size / 1e6 if overview.is_file() else None
    return info


def main(argv: list[str] | None = None) -> int:
    """Command line: make (or find) the logs, time the read floor and the scan, print both."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cli_scan",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--logs", type=int, default=DEFAULT_LOGS, help="number of CSV logs")
    parser.add_argument(
        "--fixes-per-log", type=int, default=DEFAULT_FIXES_PER_LOG, help="fixes per log (10 Hz)"
    )
    parser.add_argument("--sites", type=int, default=DEFAULT_SITES, help="number of sites")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="cache folder (default benchmarks/data)"
    )
    parser.add_argument("--out", type=Path, default=None, help="keep the scan's output here")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the scan into FILE")
    parser.add_argument("--json", type=Path, default=None, help="write the figures to FILE")
    parser.add_argument(
        "--scan-arg", action="append", default=[], help="one more argument for the scan"
    )
    args = parser.parse_args(argv)

    work = generate(
        sites=args.sites,
        flights=args.logs,
        fixes_per_flight=args.fixes_per_log,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    key = work.fixes_path.name.removesuffix("_fixes.parquet")
    folder = work.fixes_path.parent / f"{key}_airdata_v{LOGS_VERSION}"
    start = time.perf_counter()
    logs = write_logs(work.fixes_path, folder, seed=args.seed)
    made = time.perf_counter() - start
    size_mb = sum(p.stat().st_size for p in logs) / 1e6
    print(f"{len(logs)} AirData logs, {size_mb:.0f} MB, in {folder} ({made:.1f} s)")

    floor_s, rows = read_floor(logs)
    print(f"read floor (pandas.read_csv): {floor_s:.2f} s for {rows:,} rows")
    out = args.out or Path(tempfile.mkdtemp(prefix="gx_cli_scan_"))
    try:
        scan = run_scan(folder, work.sites_path, out, profile=args.profile, extra=args.scan_arg)
        if scan["returncode"] != 0:
            print(scan["stderr"][-3000:], file=sys.stderr)
            print(f"scan failed: exit {scan['returncode']}", file=sys.stderr)
            return 1
        written = _outputs(out)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    ratio = scan["seconds"] / floor_s
    print(f"scan (whole command line): {scan['seconds']:.2f} s, peak {scan['peak_mb']:.0f} MB")
    print(f"ratio scan / read floor: {ratio:.2f}x (goal <= 4x; peak goal < 2048 MB)")
    print(
        f"outputs: {written.get('exposed_sites')} exposed sites, {written['site_maps']} site "
        f"maps ({written['site_maps_mb']:.1f} MB), map.html {written['map_html_mb'] or 0:.1f} MB"
    )
    if args.json:
        figures = {
            "logs": len(logs),
            "rows": rows,
            "logs_mb": size_mb,
            "read_floor_s": floor_s,
            "scan_s": scan["seconds"],
            "ratio": ratio,
            "peak_mb": scan["peak_mb"],
            "command": scan["command"],
            "profiled": args.profile is not None,
            **written,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
