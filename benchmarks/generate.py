"""Seeded generator of a national benchmark workload, cached as GeoParquet.

The workload is a site layer over the conterminous United States (water, rail, power
and military sites as points, lines, polygons and Multi* geometries) and a set of
10 Hz multirotor flights, many of them inspecting a site. The same parameters always
give the same files; they are written once to ``benchmarks/data/`` (git-ignored) under
a name that holds every parameter, and later runs reuse them.

Run ``python -m benchmarks.generate --help`` from the repository root.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np

from benchmarks._flights import make_fixes
from benchmarks._sites import make_sites

__all__ = [
    "DATA_DIR",
    "DEFAULT_FIXES_PER_FLIGHT",
    "DEFAULT_FLIGHTS",
    "DEFAULT_SEED",
    "DEFAULT_SITES",
    "GENERATOR_VERSION",
    "Workload",
    "add_size_arguments",
    "generate",
    "main",
    "workload_paths",
]

logger = logging.getLogger(__name__)

GENERATOR_VERSION = 1  # bump when the generator's output changes: the cache key holds it
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_SITES = 300_000
DEFAULT_FLIGHTS = 500
DEFAULT_FIXES_PER_FLIGHT = 10_000
DEFAULT_SEED = 20_240_601


@dataclass(frozen=True)
class Workload:
    """Where a workload's files are, and whether this call wrote them.

    ``seconds`` is the time spent generating and writing (0 when read from the cache).
    """

    sites_path: Path
    fixes_path: Path
    generated: bool
    seconds: float


def workload_paths(
    *, sites: int, flights: int, fixes_per_flight: int, seed: int, data_dir: Path | None = None
) -> tuple[Path, Path]:
    """The site and fix GeoParquet paths of one parameter set."""
    folder = Path(data_dir) if data_dir is not None else DATA_DIR
    key = f"v{GENERATOR_VERSION}_seed{seed}_sites{sites}_flights{flights}x{fixes_per_flight}"
    return folder / f"{key}_sites.parquet", folder / f"{key}_fixes.parquet"


def _write_atomic(frame: gpd.GeoDataFrame, path: Path, *, geometry_encoding: str = "WKB") -> None:
    """Write GeoParquet to a temporary name and rename it, so no half file is cached.

    Points are written in the GeoArrow encoding (faster to write); mixed geometry
    types need WKB.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_parquet(tmp, index=False, geometry_encoding=geometry_encoding)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def generate(
    *,
    sites: int = DEFAULT_SITES,
    flights: int = DEFAULT_FLIGHTS,
    fixes_per_flight: int = DEFAULT_FIXES_PER_FLIGHT,
    seed: int = DEFAULT_SEED,
    data_dir: Path | None = None,
    force: bool = False,
) -> Workload:
    """Make (or find in the cache) the site and fix GeoParquet files of a workload.

    Parameters
    ----------
    sites
        Number of sites (at least 1).
    flights
        Number of flights (at least 1).
    fixes_per_flight
        Fixes per flight, at 10 Hz (at least 2).
    seed
        Seed of numpy's random generator: the same parameters give identical files.
    data_dir
        Folder of the cache; ``benchmarks/data`` by default.
    force
        Regenerate even when the files exist.

    Returns
    -------
    Workload
        The two paths, and whether and for how long this call generated them.
    """
    if sites < 1 or flights < 1 or fixes_per_flight < 2:
        raise ValueError(
            f"need sites >= 1, flights >= 1 and fixes_per_flight >= 2, got {sites}, "
            f"{flights} and {fixes_per_flight}"
        )
    sites_path, fixes_path = workload_paths(
        sites=sites,
        flights=flights,
        fixes_per_flight=fixes_per_flight,
        seed=seed,
        data_dir=data_dir,
    )
    if not force and sites_path.is_file() and fixes_path.is_file():
        logger.info("workload found in the cache: %s", sites_path.parent)
        return Workload(sites_path, fixes_path, generated=False, seconds=0.0)
    start = time.perf_counter()
    site_seed, flight_seed = np.random.SeedSequence(seed).spawn(2)
    layer = make_sites(np.random.default_rng(site_seed), sites)
    fixes = make_fixes(
        np.random.default_rng(flight_seed),
        layer,
        n_flights=flights,
        fixes_per_flight=fixes_per_flight,
    )
    sites_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomic(layer.frame, sites_path)
    _write_atomic(fixes, fixes_path, geometry_encoding="geoarrow")
    seconds = time.perf_counter() - start
    logger.info("workload generated in %.1f s: %s", seconds, sites_path.parent)
    return Workload(sites_path, fixes_path, generated=True, seconds=seconds)


def add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """The workload options shared by ``benchmarks.generate`` and ``benchmarks.run``."""
    parser.add_argument("--sites", type=int, default=DEFAULT_SITES, help="number of sites")
    parser.add_argument("--flights", type=int, default=DEFAULT_FLIGHTS, help="number of flights")
    parser.add_argument(
        "--fixes-per-flight",
        type=int,
        default=DEFAULT_FIXES_PER_FLIGHT,
        help="fixes per flight, at 10 Hz",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="cache folder (default benchmarks/data)"
    )


def main(argv: list[str] | None = None) -> int:
    """Command line: generate a workload and print where it is."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_size_arguments(parser)
    parser.add_argument("--force", action="store_true", help="regenerate even if cached")
    args = parser.parse_args(argv)
    work = generate(
        sites=args.sites,
        flights=args.flights,
        fixes_per_flight=args.fixes_per_flight,
        seed=args.seed,
        data_dir=args.data_dir,
        force=args.force,
    )
    state = f"generated in {work.seconds:.1f} s" if work.generated else "cached"
    print(f"sites: {work.sites_path}\nfixes: {work.fixes_path}\n({state})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
