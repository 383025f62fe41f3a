"""Scale benchmark: 100M fixes streamed, 1 thread against 2, and DuckDB spatial as a peer.

Run from the repository root::

    python -m benchmarks.scale          # 10,000 flights x 10,000 fixes against 300,000 sites
    python -m benchmarks.scale --stream-flights 200 --flights 20 --sites 3000   # quick

Three measurements, each in a fresh Python process:

1. ``stream``: :func:`geoexpose.expose_stream` over a GeoParquet table of fixes
   partitioned by flight (generated once, cached in ``benchmarks/data``), batch by
   batch on this machine; wall time (reading included) and the process's peak memory.
2. ``expose 1 thread`` / ``expose 2 threads``: :func:`geoexpose.expose` on the standard
   5M-fix workload (``benchmarks.generate``) with ``threads=1`` and ``threads=2``.
3. ``duckdb``: the same join in DuckDB spatial (``benchmarks/duckdb_peer.py``), on the
   same 5M fixes, with the answers compared to geoexpose's.

``benchmarks/README.md`` explains the numbers.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.generate import DATA_DIR, add_size_arguments, generate

__all__ = ["main", "stream_workload"]

ROOT = Path(__file__).resolve().parents[1]
STREAM_VERSION = 1  # bump when the streamed workload's files change
FIX_COLUMNS = ["flight_id", "time_utc", "alt_agl_m"]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def stream_workload(
    *,
    sites: int,
    flights: int,
    fixes_per_flight: int,
    seed: int,
    data_dir: Path | None = None,
    chunk_flights: int = 250,
) -> tuple[Path, bool, float]:
    """Write (once) the fixes of ``flights`` flights as GeoParquet partitioned by flight.

    The flights come from the benchmark's generator over the same sites as
    :func:`benchmarks.generate.generate` with this seed, ``chunk_flights`` at a time,
    each chunk from its own random stream; flight ids are ``C<chunk>-F<n>``. Columns:
    ``flight_id`` (dictionary), ``time_utc`` (int64 ns), ``alt_agl_m`` (float32) and
    the GeoArrow point (float64 lon/lat). Returns the folder, whether this call wrote
    it, and the seconds spent.
    """
    from benchmarks._flights import make_fixes
    from benchmarks._sites import make_sites
    from geoexpose.scale.geoparquet import FixWriter

    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    name = f"stream_v{STREAM_VERSION}_seed{seed}_sites{sites}_flights{flights}x{fixes_per_flight}"
    path = folder / name
    if path.is_dir():
        return path, False, 0.0
    start = time.perf_counter()
    site_seed, flight_seed = np.random.SeedSequence(seed).spawn(2)
    layer = make_sites(np.random.default_rng(site_seed), sites)
    chunks = -(-flights // chunk_flights)
    with FixWriter(path, rows_per_file=1_000_000) as writer:
        for k, chunk_seed in enumerate(flight_seed.spawn(chunks)):
            n = min(chunk_flights, flights - k * chunk_flights)
            fixes = make_fixes(
                np.random.default_rng(chunk_seed),
                layer,
                n_flights=n,
                fixes_per_flight=fixes_per_flight,
            )
            xy = np.asarray(fixes.geometry.get_coordinates())
            frame = pd.DataFrame(
                {
                    "flight_id": f"C{k:03d}-" + fixes["flight_id"].astype(str),
                    "time_utc": fixes["time_utc"],
                    "alt_agl_m": fixes["alt_agl_m"].to_numpy("float32"),
                    "lon": xy[:, 0],
                    "lat": xy[:, 1],
                }
            )
            del fixes, xy
            writer.write(frame)
            print(f"  chunk {k + 1}/{chunks} written", flush=True)
    return path, True, time.perf_counter() - start


# --- the children: one measurement each, printed as a JSON line ------------------------


def _child_stream(args: argparse.Namespace) -> dict[str, Any]:
    import geopandas as gpd

    import geoexpose as gx

    sites = gpd.read_parquet(args.sites_file)
    before = _peak_mb()
    start = time.perf_counter()
    result = gx.expose_stream(
        sites, args.fixes, engine="local", batch_fixes=args.batch_fixes, threads=args.threads
    )
    run_s = time.perf_counter() - start
    return {
        "run_s": run_s,
        "peak_before_mb": before,
        "peak_process_mb": _peak_mb(),
        "n_fixes": result.stats["fixes"],
        "batches": result.stats["batches"],
        "n_exposed": int((result.sites["n_flights"] > 0).sum()),
        "n_pairs": len(result.pairs),
        "n_flights": len(result.flights),
    }


def _child_expose(args: argparse.Namespace) -> dict[str, Any]:
    import geopandas as gpd

    import geoexpose as gx
    from benchmarks._child import measure_memory
    from benchmarks.baseline import RESULT_COLUMNS

    start = time.perf_counter()
    sites = gpd.read_parquet(args.sites_file)
    fixes = gx.geoparquet.read_fixes(args.fixes, columns=FIX_COLUMNS)
    load_s = time.perf_counter() - start
    result, report = measure_memory(lambda: gx.expose(sites, fixes, threads=args.threads))
    pd.DataFrame(result.sites[RESULT_COLUMNS]).to_parquet(args.out, index=False)
    return report | {
        "load_s": load_s,
        "n_fixes": len(fixes),
        "n_exposed": int((result.sites["n_flights"] > 0).sum()),
        "n_pairs": len(result.pairs),
    }


def _child_duckdb(args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.duckdb_peer import duckdb_exposure

    per_site, n_pairs, times = duckdb_exposure(
        Path(args.sites_file), Path(args.fixes), threads=args.threads
    )
    per_site.to_parquet(args.out, index=False)
    return times | {
        "peak_process_mb": _peak_mb(),
        "n_exposed": int((per_site["n_flights"] > 0).sum()),
        "n_pairs": n_pairs,
    }


_CHILDREN = {"stream": _child_stream, "expose": _child_expose, "duckdb": _child_duckdb}


def _run_child(kind: str, **options: Any) -> dict[str, Any] | None:
    command = [sys.executable, "-m", "benchmarks.scale", "--child", kind]
    for key, value in options.items():
        command += [f"--{key.replace('_', '-')}", str(value)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        print(f"{kind}: failed (exit {done.returncode})", flush=True)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    header = f"{'run':<22} {'fixes':>12} {'run s':>8} {'fixes/s':>11} {'peak MB':>8} {'pairs':>8}"
    lines = [header, "-" * len(header)]
    for name, r in rows:
        lines.append(
            f"{name:<22} {r.get('n_fixes', 0):>12,} {r['run_s']:>8.1f}"
            f" {r.get('n_fixes', 0) / max(r['run_s'], 1e-9):>11,.0f}"
            f" {r['peak_process_mb']:>8.0f} {r['n_pairs']:>8,}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) the workloads, run the measurements, print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_size_arguments(parser)  # --flights: of the 5M runs
    parser.add_argument("--stream-flights", type=int, default=10_000, help="flights streamed")
    parser.add_argument("--batch-fixes", type=int, default=2_000_000, help="streamed batch")
    parser.add_argument("--runs", default="stream,threads,duckdb", help="what to measure")
    parser.add_argument("--json", type=Path, default=None, help="also write all figures here")
    # child options
    parser.add_argument("--child", choices=sorted(_CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--sites-file", help=argparse.SUPPRESS)
    parser.add_argument("--fixes", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_CHILDREN[args.child](args)))
        return 0

    from benchmarks._compare import compare, format_agreement
    from benchmarks.run import environment

    runs = {r.strip() for r in args.runs.split(",") if r.strip()}
    env = environment()
    print("environment: " + "; ".join(f"{k} {v}" for k, v in env.items()), flush=True)
    work = generate(
        sites=args.sites,
        flights=args.flights,
        fixes_per_flight=args.fixes_per_flight,
        seed=args.seed,
        data_dir=args.data_dir,
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    summary: dict[str, Any] = {"environment": env, "workload": vars(args) | {"runs": sorted(runs)}}
    with tempfile.TemporaryDirectory(prefix="geoexpose-scale-") as tmp:
        out = Path(tmp)
        if "threads" in runs or "duckdb" in runs:
            for threads in (1, 2) if "threads" in runs else (2,):
                print(f"expose, {threads} thread(s) ...", flush=True)
                r = _run_child(
                    "expose", sites_file=work.sites_path, fixes=work.fixes_path,
                    out=out / f"expose{threads}.parquet", threads=threads,
                )  # fmt: skip
                if r is not None:
                    rows.append((f"expose {threads} thread{'s' * (threads > 1)}", r))
        if "duckdb" in runs:
            print("duckdb spatial ...", flush=True)
            r = _run_child(
                "duckdb", sites_file=work.sites_path, fixes=work.fixes_path,
                out=out / "duckdb.parquet", threads=2,
            )  # fmt: skip
            if r is not None:
                r["n_fixes"] = args.flights * args.fixes_per_flight
                rows.append(("duckdb spatial 2 thr", r))
        if "stream" in runs:
            folder, made, seconds = stream_workload(
                sites=args.sites,
                flights=args.stream_flights,
                fixes_per_flight=args.fixes_per_flight,
                seed=args.seed,
                data_dir=args.data_dir,
            )
            state = f"generated in {seconds:.0f} s" if made else "cached"
            size = sum(p.stat().st_size for p in folder.glob("*.parquet")) / 2**20
            print(f"streamed fixes: {folder} ({state}, {size:,.0f} MiB)", flush=True)
            print("stream ...", flush=True)
            r = _run_child(
                "stream", sites_file=work.sites_path, fixes=folder,
                batch_fixes=args.batch_fixes, threads=2,
            )  # fmt: skip
            if r is not None:
                rows.append(("stream local 2 thr", r))
            summary["stream_files_mib"] = size
        print()
        print(_table(rows))
        named = dict(rows)
        if {"expose 1 thread", "expose 2 threads"} <= named.keys():
            ratio = named["expose 1 thread"]["run_s"] / named["expose 2 threads"]["run_s"]
            print(f"1 thread / 2 threads: {ratio:.2f}x")
            summary["thread_speedup"] = ratio
        if {"expose 2 threads", "duckdb spatial 2 thr"} <= named.keys():
            ratio = named["duckdb spatial 2 thr"]["run_s"] / named["expose 2 threads"]["run_s"]
            print(f"duckdb / geoexpose: {ratio:.1f}x")
            summary["duckdb_ratio"] = ratio
            agreement = compare(
                pd.read_parquet(out / "expose2.parquet"), pd.read_parquet(out / "duckdb.parquet")
            )
            print()
            print(format_agreement(agreement, "geoexpose", "duckdb"))
    summary["runs"] = dict(rows)
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if all(r is not None for _, r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
