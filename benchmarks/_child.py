"""One timed run of one method in a fresh process (started by ``benchmarks.run``).

``python -m benchmarks._child METHOD SITES.parquet FIXES.parquet OUT.parquet``
loads both inputs in the form the method takes (:data:`SITE_LOADERS`, :data:`LOADERS`),
notes the resident memory, resets the kernel's peak-RSS mark, runs the method, and
prints one JSON line of measurements on stdout. With ``--started EPOCH`` (the parent's
``time.time()`` just before it started the process) it also reports ``end_to_end_s``:
from the start of the process to the per-site table, imports and reading included.
The method's per-site result (``baseline.RESULT_COLUMNS``) is written to OUT.parquet
for the comparison. Exit status 3: the method is not
available (geoexpose without ``expose``).
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from benchmarks._load import read_fixes_lonlat
from benchmarks.baseline import RESULT_COLUMNS, geopandas_exposure
from geoexpose.schema import ALT_AGL_M, FLIGHT_ID, GEOMETRY, N_FLIGHTS, TIME_UTC

__all__ = ["LOADERS", "METHODS", "SITE_LOADERS", "UNAVAILABLE", "main", "measure_memory"]

UNAVAILABLE = 3
_MB = 1024.0 * 1024.0


def _status_kb(field: str) -> float | None:
    """A ``VmRSS``/``VmHWM`` figure from /proc/self/status, in kB (None off Linux)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field}:\s+(\d+) kB", text, flags=re.MULTILINE)
    return float(match.group(1)) if match else None


def _rss_mb() -> float:
    """Resident memory now, in MiB."""
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb / 1024.0
    import psutil  # only where /proc is missing

    return psutil.Process().memory_info().rss / _MB


def _ru_maxrss_mb() -> float:
    """The process's peak resident memory from getrusage, in MiB (Linux reports kB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / _MB if sys.platform == "darwin" else peak / 1024.0


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def measure_memory(run: Callable[[], Any]) -> tuple[Any, dict[str, float | bool]]:
    """Run ``run()`` and measure its wall time and the memory it needed on top of now.

    Returns the result and a dict: ``run_s``, ``rss_before_mb`` (after a garbage
    collection), ``peak_before_mb`` (process peak so far), ``peak_run_mb`` (peak RSS
    while running), ``peak_process_mb`` (process peak overall), ``peak_above_mb``
    (``peak_run_mb - rss_before_mb``) and ``peak_reset`` (False when the kernel's peak
    mark could not be reset; ``peak_run_mb`` is then the process peak, an upper bound).
    """
    gc.collect()
    rss_before = _rss_mb()
    peak_before = _ru_maxrss_mb()
    reset = _reset_peak()
    start = time.perf_counter()
    result = run()
    run_s = time.perf_counter() - start
    hwm_kb = _status_kb("VmHWM") if reset else None
    peak_run = hwm_kb / 1024.0 if hwm_kb is not None else _ru_maxrss_mb()
    return result, {
        "run_s": run_s,
        "rss_before_mb": rss_before,
        "peak_before_mb": peak_before,
        "peak_run_mb": peak_run,
        "peak_process_mb": max(peak_before, peak_run, _ru_maxrss_mb()),
        "peak_above_mb": max(peak_run - rss_before, 0.0),
        "peak_reset": hwm_kb is not None,
    }


def _geopandas(sites: gpd.GeoDataFrame, fixes: pd.DataFrame, max_gap_s: float) -> Any:
    return geopandas_exposure(sites, fixes, max_gap_s=max_gap_s)


def _find_expose() -> Callable[..., Any] | None:
    """``geoexpose.expose``, or None while unwritten."""
    import geoexpose

    expose = getattr(geoexpose, "expose", None)
    if expose is None:
        try:
            from geoexpose.exposure import expose
        except ImportError:
            return None
    return expose


def _geoexpose(sites: gpd.GeoDataFrame, fixes: pd.DataFrame, max_gap_s: float) -> Any:
    expose = _find_expose()
    if expose is None:
        raise ModuleNotFoundError("geoexpose.expose is not available yet")
    return expose(sites, fixes=fixes, max_gap_s=max_gap_s)


METHODS: dict[str, Callable[[gpd.GeoDataFrame, pd.DataFrame, float], Any]] = {
    "geoexpose": _geoexpose,
    "geopandas": _geopandas,
}


def _read_sites_geoexpose(path: Path) -> gpd.GeoDataFrame:
    from geoexpose import read_sites

    return read_sites(path)


#: How each method reads the sites: a geopandas user calls geopandas.read_parquet; a
#: geoexpose user calls gx.read_sites (schema checks, repairs, standoffs included).
SITE_LOADERS: dict[str, Callable[[Path], gpd.GeoDataFrame]] = {
    "geoexpose": _read_sites_geoexpose,
    "geopandas": gpd.read_parquet,
}

#: The fix columns both methods use.
FIX_INPUT = [FLIGHT_ID, TIME_UTC, ALT_AGL_M]

#: How each method loads the fixes: geopandas needs a GeoDataFrame (one shapely Point
#: per fix); geoexpose takes plain lon/lat columns, read without making Points.
LOADERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    "geoexpose": lambda path: read_fixes_lonlat(path, FIX_INPUT),
    "geopandas": lambda path: gpd.read_parquet(path, columns=[*FIX_INPUT, GEOMETRY]),
}


def main(argv: list[str] | None = None) -> int:
    """Load, run one method, write its per-site result, print measurements as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks._child")
    parser.add_argument("method", choices=sorted(METHODS))
    parser.add_argument("sites", type=Path)
    parser.add_argument("fixes", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--max-gap-s", type=float, default=5.0)
    parser.add_argument(
        "--started", type=float, default=None, help="time.time() when the process was started"
    )
    args = parser.parse_args(argv)
    imported = time.time()
    if args.method == "geoexpose" and _find_expose() is None:
        print("geoexpose.expose is not available yet", file=sys.stderr)
        return UNAVAILABLE
    start = time.perf_counter()
    sites = SITE_LOADERS[args.method](args.sites)
    sites_s = time.perf_counter() - start
    fixes = LOADERS[args.method](args.fixes)
    load_s = time.perf_counter() - start
    method = METHODS[args.method]
    result, report = measure_memory(lambda: method(sites, fixes, args.max_gap_s))
    table = pd.DataFrame(result.sites[RESULT_COLUMNS])
    done = time.time()
    table.to_parquet(args.out, index=False)
    figures: dict[str, Any] = dict(report)
    figures.update(
        method=args.method,
        load_s=load_s,
        sites_s=sites_s,
        startup_s=None if args.started is None else imported - args.started,
        end_to_end_s=None if args.started is None else done - args.started,
        n_sites=len(sites),
        n_fixes=len(fixes),
        n_exposed=int((table[N_FLIGHTS] > 0).sum()),
        n_pairs=len(result.pairs) if getattr(result, "pairs", None) is not None else -1,
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
