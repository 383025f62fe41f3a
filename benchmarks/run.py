"""Time ``geoexpose.expose`` against the plain-geopandas way on one national workload.

Run from the repository root::

    python -m benchmarks.run                       # 300,000 sites x 500 flights x 10,000 fixes
    python -m benchmarks.run --sites 3000 --flights 5 --fixes-per-flight 2000   # a quick one

The workload is generated once (``benchmarks.generate``, cached in ``benchmarks/data``).
Each method then runs in its own fresh Python process, which loads the GeoParquet
inputs (the fixes in the form the method takes: a GeoDataFrame for geopandas, lon/lat
columns for geoexpose), runs, and reports its wall time and memory, so one method's
memory never counts against the other. Each process is also timed end to end: from
its start to the per-site table, imports and reading included (geoexpose reads the
sites with ``gx.read_sites``, geopandas with ``geopandas.read_parquet``). The two
answers are compared last.
``benchmarks/README.md`` explains every number printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks._child import UNAVAILABLE
from benchmarks._compare import compare, format_agreement
from benchmarks.generate import add_size_arguments, generate

__all__ = ["METHOD_NAMES", "environment", "format_table", "main", "run_method"]

ROOT = Path(__file__).resolve().parents[1]
METHOD_NAMES = ("geoexpose", "geopandas")
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "GEOEXPOSE_THREADS")


def environment() -> dict[str, str]:
    """Machine and library versions that the timings depend on."""
    import geopandas
    import numpy
    import pyarrow
    import pyproj
    import shapely

    import geoexpose

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "cpus usable": str(len(os.sched_getaffinity(0)))
        if hasattr(os, "sched_getaffinity")
        else "?",
        "numpy": numpy.__version__,
        "pandas": pd.__version__,
        "shapely": f"{shapely.__version__} (GEOS {shapely.geos_version_string})",
        "geopandas": geopandas.__version__,
        "pyproj": f"{pyproj.__version__} (PROJ {pyproj.proj_version_str})",
        "pyarrow": pyarrow.__version__,
        "geoexpose": geoexpose.__version__,
    }
    try:
        import psutil

        info["memory"] = f"{psutil.virtual_memory().total / 2**30:.1f} GiB"
    except ImportError:  # psutil is a test extra; the figure is only informative
        pass
    for var in _THREAD_VARS:
        if var in os.environ:
            info[var] = os.environ[var]
    return info


def run_method(
    method: str, sites: Path, fixes: Path, out: Path, *, max_gap_s: float
) -> tuple[str, dict[str, Any] | None]:
    """Run one method in a fresh interpreter; return its status and measurements.

    Status is ``ok``, ``unavailable`` (geoexpose without ``expose`` yet) or
    ``failed (exit N)``; the child's error output goes straight to the terminal.
    """
    command = [sys.executable, "-m", "benchmarks._child", method, str(sites), str(fixes)]
    command += [str(out), "--max-gap-s", str(max_gap_s)]
    started = time.time()  # the child's end-to-end time counts from here
    command += ["--started", repr(started)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode == UNAVAILABLE:
        return "unavailable", None
    if done.returncode != 0:
        return f"failed (exit {done.returncode})", None
    return "ok", json.loads(done.stdout.strip().splitlines()[-1])


def format_table(reports: dict[str, dict[str, Any]]) -> str:
    """The timing and memory table, plus the geopandas / geoexpose ratios."""
    header = (
        f"{'method':<10} {'start s':>7} {'sites s':>7} {'load s':>7} {'run s':>8}"
        f" {'e2e s':>7} {'RSS load MB':>12} {'peak run MB':>12}"
        f" {'above load MB':>14} {'proc peak MB':>13} {'exposed':>8} {'pairs':>8}"
    )
    lines = [header, "-" * len(header)]
    for name, r in reports.items():
        lines.append(
            f"{name:<10} {_seconds(r, 'startup_s'):>7} {_seconds(r, 'sites_s'):>7}"
            f" {r['load_s']:>7.1f} {r['run_s']:>8.2f} {_seconds(r, 'end_to_end_s'):>7}"
            f" {r['rss_before_mb']:>12.0f} {r['peak_run_mb']:>12.0f} {r['peak_above_mb']:>14.0f}"
            f" {r['peak_process_mb']:>13.0f} {r['n_exposed']:>8} {r['n_pairs']:>8}"
        )
    if not all(r.get("peak_reset", True) for r in reports.values()):
        lines.append("(peak-RSS mark could not be reset: 'peak run' is the process peak)")
    if {"geoexpose", "geopandas"} <= reports.keys():
        gx, gp = reports["geoexpose"], reports["geopandas"]
        speed = gp["run_s"] / max(gx["run_s"], 1e-9)
        memory = gp["peak_above_mb"] / max(gx["peak_above_mb"], 1.0)
        lines.append(
            f"geopandas / geoexpose: time {speed:.1f}x, memory above load {memory:.1f}x,"
            f" process peak {gp['peak_process_mb'] / max(gx['peak_process_mb'], 1.0):.2f}x"
        )
        if gx.get("end_to_end_s") and gp.get("end_to_end_s"):
            lines.append(
                "geopandas / geoexpose end to end (process start to per-site table, reading"
                f" included): {gp['end_to_end_s'] / max(gx['end_to_end_s'], 1e-9):.1f}x"
            )
    return "\n".join(lines)


def _seconds(report: dict[str, Any], key: str) -> str:
    """A time of ``report`` to one decimal, or ``-`` where it was not measured."""
    value = report.get(key)
    return "-" if value is None else f"{value:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the workload, time each method, compare the answers."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_size_arguments(parser)
    parser.add_argument(
        "--methods",
        default=",".join(METHOD_NAMES),
        help="comma-separated, from: " + ", ".join(METHOD_NAMES),
    )
    parser.add_argument("--max-gap-s", type=float, default=5.0, help="longest dwell interval")
    parser.add_argument("--json", type=Path, default=None, help="also write all figures here")
    parser.add_argument(
        "--keep", type=Path, default=None, help="keep each method's per-site result in this folder"
    )
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHOD_NAMES))
    if unknown:
        parser.error(f"unknown method(s) {', '.join(unknown)}; choose from {METHOD_NAMES}")

    env = environment()
    print("environment: " + "; ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    work = generate(
        sites=args.sites,
        flights=args.flights,
        fixes_per_flight=args.fixes_per_flight,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    state = f"generated in {work.seconds:.1f} s" if work.generated else "cached"
    print(
        f"workload: {args.sites:,} sites, {args.flights:,} flights x {args.fixes_per_flight:,}"
        f" fixes, seed {args.seed} ({state}: {work.sites_path.parent})",
        flush=True,
    )

    reports: dict[str, dict[str, Any]] = {}
    status: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="geoexpose-bench-") as tmp:
        folder = Path(tmp) if args.keep is None else args.keep
        folder.mkdir(parents=True, exist_ok=True)
        outputs = {m: folder / f"{m}.parquet" for m in methods}
        for method in methods:  # one fresh process per method
            print(f"running {method} ...", flush=True)
            status[method], report = run_method(
                method, work.sites_path, work.fixes_path, outputs[method], max_gap_s=args.max_gap_s
            )
            if report is not None:
                reports[method] = report
            else:
                print(f"{method}: {status[method]}", flush=True)
        print()
        if reports:
            print(format_table(reports))
        agreement = None
        if {"geoexpose", "geopandas"} <= reports.keys():
            agreement = compare(
                pd.read_parquet(outputs["geoexpose"]), pd.read_parquet(outputs["geopandas"])
            )
            print()
            print(format_agreement(agreement, "geoexpose", "geopandas"))
    if args.json is not None:
        summary = {
            "environment": env,
            "workload": vars(args) | {"generated_s": work.seconds, "generated": work.generated},
            "status": status,
            "reports": reports,
            "agreement": None if agreement is None else asdict(agreement),
        }
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 1 if any(s.startswith("failed") for s in status.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
