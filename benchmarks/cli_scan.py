"""Benchmark: the whole ``geoexpose scan`` command line on a fleet of AirData CSV logs.

One command, from the repository root::

    python -m benchmarks.cli_scan                       # 200 logs x 10,000 fixes, 300,000 sites
    python -m benchmarks.cli_scan --logs 10 --fixes-per-log 2000 --sites 3000   # a quick run

It takes the seeded national workload of :mod:`benchmarks.generate` (the sites, and
10 Hz multirotor flights that inspect, survey or pass sites), writes each flight as
an AirData UAV CSV export (the real 46-column imperial header, leading spaces
included, text as AirData writes it; cached beside the workload), then times in one
run:

* the read floor: :func:`pandas.read_csv` reading the same logs, one after another,
  in this process;
* the scan: ``python -m geoexpose.cli scan LOGS --sites SITES --out OUT`` as a child
  process, with every output and the default site maps (and its default
  ``--workers``: forked processes read the logs and draw the site maps on a machine
  of several CPUs).

The two are timed in turn ``--repeat`` times (floor, scan, floor, scan, ...), so
that a machine whose speed drifts moves both; the ratio scan / read floor is taken
pair by pair and the median is the figure (the goal of issue 13: at most 4x). For
each scan it also prints the CPU seconds of the whole process tree (the scan's
children included) against the floor's, and two peaks of memory: the largest
process (``ru_maxrss``) and the whole tree at once (the sum of the processes'
proportional set sizes, ``Pss`` of ``/proc/PID/smaps_rollup``, sampled every
0.1 s: pages shared by forked children counted once). The goal: under 2 GB.
``--profile FILE`` runs the scan once under cProfile instead (slower; read it with
``python -m pstats FILE``).
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
import threading
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


def read_floor(logs: list[Path]) -> tuple[float, float, int]:
    """Wall and CPU seconds for :func:`pandas.read_csv` to read every log, and the rows."""
    start, cpu = time.perf_counter(), time.process_time()
    rows = sum(len(pd.read_csv(path)) for path in logs)
    return time.perf_counter() - start, time.process_time() - cpu, rows


def _descendants(pid: int) -> list[int]:
    """``pid`` and the processes below it, from ``/proc`` (Linux)."""
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(parents.get(p, []))
    return found


def _pss_kb(pid: int) -> int:
    """The proportional set size of one process (kB), 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _TreeMemory(threading.Thread):
    """Sample the summed Pss of a process and its descendants; keep the largest."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        if not Path("/proc/self/smaps_rollup").exists():
            return
        while not self.done.wait(0.1):
            total = sum(_pss_kb(p) for p in _descendants(self.pid))
            self.peak_kb = max(self.peak_kb, total)


def run_scan(
    logs: Path,
    sites: Path,
    out: Path,
    *,
    profile: Path | None = None,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """Run ``geoexpose scan`` as a child process: seconds, CPU, peaks of memory, exit status."""
    head = [sys.executable]
    if profile is not None:
        head += ["-m", "cProfile", "-o", str(profile)]
    cmd = [*head, "-m", "geoexpose.cli", "scan", str(logs), "--sites", str(sites)]
    cmd += ["--out", str(out), "--overwrite", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = _TreeMemory(child.pid)
    sampler.start()
    stdout, stderr = child.communicate()
    seconds = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    # communicate() reaped the child, which reaped its own children: their CPU is added
    # to this process's RUSAGE_CHILDREN, whose ru_maxrss is the largest process so far
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    return {
        "command": " ".join(cmd),
        "seconds": seconds,
        "cpu_s": cpu,
        "peak_mb": usage.ru_maxrss / _MB,
        "tree_pss_mb": sampler.peak_kb / _MB,
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
    parser.add_argument(
        "--repeat", type=int, default=3, help="pairs of floor and scan timed in turn (median)"
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

    out = args.out or Path(tempfile.mkdtemp(prefix="gx_cli_scan_"))
    repeat = 1 if args.profile is not None else max(1, args.repeat)
    pairs: list[dict[str, Any]] = []
    try:
        for k in range(repeat):
            floor_s, floor_cpu_s, rows = read_floor(logs)
            scan = run_scan(folder, work.sites_path, out, profile=args.profile, extra=args.scan_arg)
            if scan["returncode"] != 0:
                print(scan["stderr"][-3000:], file=sys.stderr)
                print(f"scan failed: exit {scan['returncode']}", file=sys.stderr)
                return 1
            pair = {"floor_s": floor_s, "floor_cpu_s": floor_cpu_s, **scan}
            pair["ratio"] = scan["seconds"] / floor_s
            pairs.append(pair)
            print(
                f"run {k + 1}: read floor (pandas.read_csv) {floor_s:.2f} s for {rows:,} rows; "
                f"scan (whole command line) {scan['seconds']:.2f} s, {scan['cpu_s']:.1f} CPU s; "
                f"ratio {pair['ratio']:.2f}x"
            )
        written = _outputs(out)
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)

    def median(key: str) -> float:
        return float(np.median([p[key] for p in pairs]))

    ratio, floor_s, scan_s = median("ratio"), median("floor_s"), median("seconds")
    cpu_ratio = median("cpu_s") / median("floor_cpu_s")
    peak_mb = max(p["peak_mb"] for p in pairs)
    tree_mb = max(p["tree_pss_mb"] for p in pairs)
    print(
        f"median of {len(pairs)}: read floor {floor_s:.2f} s, scan {scan_s:.2f} s; "
        f"ratio scan / read floor {ratio:.2f}x (goal <= 4x)"
    )
    print(
        f"CPU: scan {median('cpu_s'):.1f} s (all its processes) / floor "
        f"{median('floor_cpu_s'):.1f} s = {cpu_ratio:.2f}x"
    )
    print(
        f"peak memory: largest process {peak_mb:.0f} MB, whole process tree {tree_mb:.0f} MB "
        "(Pss; goal < 2048 MB)"
    )
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
            "scan_s": scan_s,
            "ratio": ratio,
            "cpu_ratio": cpu_ratio,
            "peak_mb": peak_mb,
            "tree_pss_mb": tree_mb,
            "pairs": [
                {k: v for k, v in p.items() if k not in ("stdout", "stderr", "command")}
                for p in pairs
            ],
            "command": pairs[-1]["command"],
            "profiled": args.profile is not None,
            **written,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
