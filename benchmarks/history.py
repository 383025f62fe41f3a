"""Benchmark of the history store: adding 2,000,000-fix scans; a history query vs re-scanning.

Synthetic sites and flights (``benchmarks/_sites.py``, ``benchmarks/_flights.py``);
each scan's flights are moved to their own week of one year. Prints, as JSON, the
seconds to expose each scan, to add it to a GeoPackage store, and to answer the
history of the whole year and of one quarter from the store, beside the seconds the
scans took (what re-scanning the year costs at least, before reading a file). The
seconds of an add leave out the flight lines (``lines_s``), which the result makes once
for the output folder too::

    python -m benchmarks.history --sites 300000 --scans 10 --flights 1000 --fixes 2000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import geoexpose as gx
from benchmarks._flights import make_fixes
from benchmarks._sites import make_sites


def main() -> None:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=300_000)
    ap.add_argument("--scans", type=int, default=10)
    ap.add_argument("--flights", type=int, default=1000, help="flights per scan")
    ap.add_argument("--fixes", type=int, default=2000, help="fixes per flight")
    ap.add_argument("--store", type=Path, default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(16)
    layer = make_sites(rng, args.sites)
    sites = gx.prepare_sites(layer.frame)
    store_path = args.store or Path(tempfile.mkdtemp()) / "history.gpkg"
    store = gx.Store(store_path)
    figures: dict[str, Any] = {"expose_s": [], "lines_s": [], "add_s": []}
    for k in range(args.scans):
        fixes = make_fixes(rng, layer, n_flights=args.flights, fixes_per_flight=args.fixes)
        fixes["flight_id"] = f"s{k}-" + fixes["flight_id"].astype(str)
        fixes["time_utc"] = fixes["time_utc"] + pd.Timedelta(days=7 * k * 52 // args.scans)
        t = time.perf_counter()
        result = gx.expose(sites, fixes)
        figures["expose_s"].append(round(time.perf_counter() - t, 2))
        t = time.perf_counter()
        _ = result.flights  # the flight lines, which writing the scan's outputs makes too
        figures["lines_s"].append(round(time.perf_counter() - t, 2))
        t = time.perf_counter()
        store.add(result)
        figures["add_s"].append(round(time.perf_counter() - t, 2))
        print(json.dumps({"scan": k, "fixes": len(fixes), "pairs": len(result.pairs)}), flush=True)
    flights = store.history().flights
    first = flights["first_seen_utc"].min()
    t = time.perf_counter()
    year = store.history()
    figures["history_year_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    store.history(since=first, until=first + pd.Timedelta(days=91))
    figures["history_quarter_s"] = round(time.perf_counter() - t, 2)
    figures |= {
        "sites": args.sites,
        "flights": len(year.flights),
        "fixes": int(year.flights["n_fixes"].sum()),
        "pairs": len(year.pairs),
        "store_mb": round(store_path.stat().st_size / 1e6, 1),
        "rescan_s_at_least": round(sum(figures["expose_s"]), 2),
    }
    print(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
