"""Benchmark: the overview map of a big scan, written and opened in headless Chromium.

One command, from the repository root::

    python -m benchmarks.maps                         # 1,000,000 fixes, 10,000 captures
    python -m benchmarks.maps --flights 10 --captures 1000   # a quick run

It makes a seeded workload (the national sites and 10 Hz flights of
``benchmarks.generate``), 10,000 captures taken from random fixes of the flights
(footprints from ``geoexpose.imagery.footprints`` with a 4000 x 3000 px camera, photos
written as small JPEG files so that popups get thumbnails), runs ``gx.expose``,
writes ``map.html`` and opens it in headless Chromium (Debian's, through
Playwright, with the network blocked). It prints the map's size, the time to write
it and the time until the page has loaded and drawn. The issue asks for under
20 MB and under 5 s.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np

import geoexpose as gx
from benchmarks._flights import make_fixes
from benchmarks._sites import make_sites
from geoexpose.imagery import footprints

logger = logging.getLogger("benchmarks.maps")

CHROMIUM = "/usr/bin/chromium"


def make_captures(
    rng: np.random.Generator, fixes: gpd.GeoDataFrame, n: int, photos: Path, n_files: int
) -> gpd.GeoDataFrame:
    """``n`` nadir-ish photos taken at random fixes; ``n_files`` distinct JPEG files."""
    from PIL import Image

    pick = np.sort(rng.choice(len(fixes), size=n, replace=False))
    taken = fixes.iloc[pick]
    lon, lat = taken.geometry.x.to_numpy(), taken.geometry.y.to_numpy()
    height = np.maximum(taken["alt_agl_m"].to_numpy("float64"), 5.0)
    yaw = rng.uniform(0, 360, n)
    pitch = rng.uniform(-90, -45, n)
    camera = gx.Camera(4000, 3000, 2900.0, 2000.0, 1500.0)
    polys, gsd, flags = footprints(lon, lat, height, yaw, pitch, np.zeros(n), camera)
    photos.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n_files):
        path = photos / f"DJI_{k:05d}.JPG"
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        Image.new("RGB", (640, 480), colour).save(path, quality=85)
        paths.append(str(path))
    return gpd.GeoDataFrame(
        {
            "capture_id": [f"C{k:06d}" for k in range(n)],
            "path": np.asarray(paths, dtype=object)[np.arange(n) % n_files],
            "kind": "photo",
            "time_utc": taken["time_utc"].to_numpy(),
            "flight_id": taken["flight_id"].to_numpy(),
            "cam_lon": lon,
            "cam_lat": lat,
            "alt_agl_m": height,
            "yaw_deg": yaw,
            "pitch_deg": pitch,
            "roll_deg": 0.0,
            "gsd_cm": gsd,
            "flags": flags,
        },
        geometry=gpd.GeoSeries(polys, crs="EPSG:4326"),
    )


def open_in_chromium(path: Path) -> dict[str, float]:
    """Seconds until the page's load event and until its first frame after it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url == path.as_uri() else route.abort()
            ),
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(path.as_uri(), wait_until="load", timeout=120_000)
        loaded = time.perf_counter() - start
        page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
        drawn = time.perf_counter() - start
        timing = page.evaluate(
            "(() => { const t = performance.getEntriesByType('navigation')[0];"
            " return {load: t.loadEventEnd, dom: t.domContentLoadedEventEnd}; })()"
        )
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        browser.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return {
        "load_s": loaded,
        "drawn_s": drawn,
        "browser_load_event_s": timing["load"] / 1000,
        "js_heap_mb": heap / 1e6,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", type=int, default=3000)
    parser.add_argument("--flights", type=int, default=100)
    parser.add_argument("--fixes-per-flight", type=int, default=10_000)
    parser.add_argument("--captures", type=int, default=10_000)
    parser.add_argument("--photo-files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--out", type=Path, default=None, help="keep the map here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    rng = np.random.default_rng(args.seed)
    work = Path(tempfile.mkdtemp(prefix="gx-map-bench-"))
    try:
        t = time.perf_counter()
        layer = make_sites(rng, args.sites)
        fixes = make_fixes(
            rng, layer, n_flights=args.flights, fixes_per_flight=args.fixes_per_flight
        )
        captures = make_captures(rng, fixes, args.captures, work / "photos", args.photo_files)
        made = time.perf_counter() - t
        t = time.perf_counter()
        result = gx.expose(layer.frame, fixes, captures)
        exposed = time.perf_counter() - t
        target = (args.out or work) / "map.html"
        t = time.perf_counter()
        gx.write_map(gx.explore(result), target)
        written = time.perf_counter() - t
        figures = {
            "fixes": len(fixes),
            "captures": len(captures),
            "sites": len(layer.frame),
            "exposed_sites": len(result.exposed),
            "generate_s": made,
            "expose_s": exposed,
            "write_map_s": written,
            "map_mb": target.stat().st_size / 1e6,
            **open_in_chromium(target),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key, value in figures.items():
        print(f"{key:>22}: {value:.2f}" if isinstance(value, float) else f"{key:>22}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    ok = figures["map_mb"] < 20 and figures["drawn_s"] < 5
    print("within the issue's limits (20 MB, 5 s):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
