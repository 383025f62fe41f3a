"""Benchmark: the peak memory of one huge track file through ``scan --engine local``.

::

    python -m benchmarks.big_track                         # GPX of 1M, 5M and 10M points
    python -m benchmarks.big_track --points 1e6 4e6 --format csv --dir /tmp/big
    python -m benchmarks.big_track --points 1e6 5e6 --format kml  # airdata_csv, geojson, ...
    python -m benchmarks.big_track --api        # gx.expose_stream on the file instead

For each size it writes one generated track (a GPX of two ``<trk>`` as a drone app
writes it, a KML of two ``gx:Track``, a GeoJSON of Point features, a generic CSV
with its times quoted or not, or an AirData CSV: 1 s apart, a recording gap every 997
fixes, a new flight at a third, a fix dated ahead, a GPS jump) and 300 point sites
beside it, runs
``python -m geoexpose.cli scan FILE --sites SITES --out OUT --engine local -q`` as a
child process under ``/usr/bin/time -v`` and prints its wall seconds, peak resident
memory (MB) and, between two sizes, the bytes a fix more. The files are written under
``--dir`` (default: a temporary folder, removed at the end unless ``--keep``).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["main", "run_scan", "write_track"]

T0 = np.datetime64("2024-05-01T08:00:00")
_BLOCK = 500_000  # points generated and written at a time
_N_SITES = 300


def _block(start: int, stop: int, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Positions, heights and times of points ``start:stop`` of a track of ``n``."""
    i = np.arange(start, stop)
    # a slow loop of about 2 km: positions depend on the index only (no running sums)
    angle = i / 40_000.0
    lon = 8.0 + 0.02 * np.cos(angle) + 0.0002 * np.sin(i / 37.0)
    lat = 50.0 + 0.013 * np.sin(angle) + 0.0002 * np.cos(i / 41.0)
    ele = 200 + np.minimum(i % 3000, 60) + rng.normal(0, 0.05, len(i))
    first = i < 10  # the first flight starts still on the ground
    ele[first], lon[first], lat[first] = 200.0, 8.02, 50.0002  # the position of point 0
    steps = i + 8 * (i // 997) + 400 * (i >= n // 3)  # seconds: gaps and a new flight
    t = T0 + steps.astype("timedelta64[s]")
    stamps = np.datetime_as_string(t, unit="s")
    stamps[i == n // 2] = "2024-06-01T00:00:00"  # a lone fix ahead of its track
    lon[i == n // 4] += 0.05  # a GPS jump
    return {"lon": lon, "lat": lat, "ele": ele, "time": stamps, "seconds": steps}


#: The formats written: file ending and header.
FORMATS = {
    "gpx": (".gpx", '<?xml version="1.0"?>\n<gpx version="1.1" creator="DJI Fly" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>\n'),
    "csv": (".csv", "time,latitude,longitude,altitude\n"),
    "quoted_csv": (".csv", '"time","latitude","longitude","altitude"\n'),
    "airdata_csv": (".csv", "time(millisecond),datetime(utc),latitude,longitude,"
                    "height_above_takeoff(feet)\n"),
    "kml": (".kml", '<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2" '
            'xmlns:gx="http://www.google.com/kml/ext/2.2"><Document>\n'),
    "geojson": (".geojson", '{"type":"FeatureCollection","features":[\n'),
}  # fmt: skip


def _rows(fmt: str, b: dict[str, np.ndarray], start: int, half: int) -> list[str]:
    """The lines of the points of one generated block in format ``fmt`` (not KML)."""
    lat = np.char.mod("%.7f", b["lat"])
    lon = np.char.mod("%.7f", b["lon"])
    ele = np.char.mod("%.2f", b["ele"])
    points = zip(lat, lon, ele, b["time"], b["seconds"], strict=True)
    if fmt == "gpx":
        rows = [
            f'<trkpt lat="{a}" lon="{o}"><ele>{e}</ele><time>{s}Z</time></trkpt>\n'
            for a, o, e, s, _ in points
        ]
        if 0 <= half - start < len(rows):
            rows[half - start] = "</trkseg></trk><trk><trkseg>\n" + rows[half - start]
        return rows
    if fmt == "geojson":  # a Point Z feature a fix (heights above sea level), a time
        rows = [
            f'{{"type":"Feature","properties":{{"time":"{s}Z"}},"geometry":'
            f'{{"type":"Point","coordinates":[{o},{a},{e}]}}}}'
            for a, o, e, s, _ in points
        ]
        return [("" if start == 0 and k == 0 else ",\n") + row for k, row in enumerate(rows)]
    if fmt == "airdata_csv":  # elapsed ms, the clock to the second, feet above take-off
        return [
            f"{k * 1000},{s.replace('T', ' ')},{a},{o},{(float(e) - 200) / 0.3048:.2f}\n"
            for a, o, e, s, k in points
        ]
    quote = '"' if fmt == "quoted_csv" else ""
    return [f"{quote}{s}Z{quote},{a},{o},{float(e) - 200:.2f}\n" for a, o, e, s, _ in points]


def _write_kml(out: Any, n: int, seed: int) -> None:
    """Two ``gx:Track`` (altitudeMode absolute): the ``<when>`` of each, then its coords."""
    half = n // 2 + 7
    for a, b in ((0, half), (half, n)):
        out.write("<Placemark><gx:Track><altitudeMode>absolute</altitudeMode>\n")
        for part in ("when", "coord"):
            rng = np.random.default_rng(seed + a)  # the same heights in both passes
            for start in range(a, b, _BLOCK):
                blk = _block(start, min(b, start + _BLOCK), n, rng)
                if part == "when":
                    out.write("".join(f"<when>{s}Z</when>\n" for s in blk["time"]))
                    continue
                lat = np.char.mod("%.7f", blk["lat"])
                lon = np.char.mod("%.7f", blk["lon"])
                ele = np.char.mod("%.2f", blk["ele"])
                rows = zip(lon, lat, ele, strict=True)
                out.write("".join(f"<gx:coord>{o} {t} {e}</gx:coord>\n" for o, t, e in rows))
        out.write("</gx:Track></Placemark>\n")
    out.write("</Document></kml>\n")


def write_track(path: Path, n: int, fmt: str = "gpx", seed: int = 7) -> None:
    """Write a generated track of ``n`` points in one of :data:`FORMATS`.

    GPX: two ``<trk>``; KML: two ``gx:Track``; GeoJSON: a Point Z feature a fix;
    CSV: generic, its times quoted or not, or AirData's (an elapsed clock in ms, the
    date-time to the second).
    """
    rng = np.random.default_rng(seed)
    with path.open("w") as out:
        out.write(FORMATS[fmt][1])
        if fmt == "kml":
            _write_kml(out, n, seed)
            return
        for start in range(0, n, _BLOCK):
            b = _block(start, min(n, start + _BLOCK), n, rng)
            out.write("".join(_rows(fmt, b, start, n // 2 + 7)))
        out.write({"gpx": "</trkseg></trk></gpx>\n", "geojson": "\n]}\n"}.get(fmt, ""))


def write_sites(path: Path, n: int) -> None:
    """Write 300 point sites along the generated loop (CSV with lon/lat)."""
    i = np.linspace(0, min(n, 260_000) - 1, _N_SITES).astype("int64")
    angle = i / 40_000.0
    lon = 8.0 + 0.02 * np.cos(angle) + 0.0004
    lat = 50.0 + 0.013 * np.sin(angle) - 0.0003
    lines = ["name,family,lon,lat"] + [
        f"S{k},military,{o:.7f},{a:.7f}" for k, (o, a) in enumerate(zip(lon, lat, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n")


_API = (
    "import sys, geoexpose as gx; from geoexpose.scale import expose_stream; "
    "r = expose_stream(gx.read_sites(sys.argv[2]), [sys.argv[1]]); "
    "print(len(r.pairs), int(r.flights['n_fixes'].sum()))"
)


def run_scan(
    track: Path, sites: Path, out: Path, extra: list[str], *, api: bool = False
) -> dict[str, float]:
    """Run the scan as a child under ``/usr/bin/time -v``: wall seconds and peak MB.

    ``api``: call :func:`geoexpose.scale.expose_stream` on the file instead (no outputs).
    """
    cmd = ["/usr/bin/time", "-v", sys.executable]
    if api:
        cmd += ["-c", _API, str(track), str(sites)]
    else:
        cmd += ["-m", "geoexpose.cli", "scan", str(track), "--sites", str(sites)]
        cmd += ["--out", str(out), "--engine", "local", "-q", "--overwrite"]
        cmd += ["--site-maps", "none", *extra]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"scan failed: exit {done.returncode}")
    return {"seconds": seconds, "peak_mb": int(found.group(1)) / 1024.0}


def main(argv: list[str] | None = None) -> None:
    """Command line: write each size, scan it, print the peaks and bytes a fix more."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.big_track")
    parser.add_argument("--points", type=float, nargs="+", default=[1e6, 5e6, 1e7])
    parser.add_argument("--format", choices=tuple(FORMATS), default="gpx")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--scan-arg", action="append", default=[], help="one more scan argument")
    parser.add_argument("--api", action="store_true", help="gx.expose_stream, not the scan")
    args = parser.parse_args(argv)
    folder = args.dir or Path(tempfile.mkdtemp(prefix="gx_big_track_"))
    folder.mkdir(parents=True, exist_ok=True)
    sites = folder / "sites.csv"
    rows = []
    try:
        for n in sorted(int(p) for p in args.points):
            track = folder / f"track_{n}_{args.format}{FORMATS[args.format][0]}"
            if not track.exists():
                write_track(track, n, args.format)
            write_sites(sites, n)
            got = run_scan(track, sites, folder / "out", args.scan_arg, api=args.api)
            mb = track.stat().st_size / 1e6
            per_m = got["seconds"] / (n / 1e6)
            print(
                f"{n:>11,} points ({mb:,.0f} MB {args.format}): {got['seconds']:.1f} s "
                f"({per_m:.1f} s a million), peak {got['peak_mb']:,.0f} MB",
                flush=True,
            )
            rows.append((n, got["peak_mb"]))
        for (n0, p0), (n1, p1) in pairwise(rows):
            per_fix = (p1 - p0) * 1024 * 1024 / (n1 - n0)
            print(f"{n0:,} -> {n1:,}: {per_fix:.1f} bytes a fix more")
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
