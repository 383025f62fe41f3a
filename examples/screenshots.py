"""Make the README's pictures: the demo's maps, a real two-flight scan, a PDF page.

Run by ``make screenshots``. It writes into ``docs/``:

- ``demo_map.png`` and ``demo_site_map.png``: the synthetic demo's overview and the
  map of its water works;
- ``real_map.png`` (replayed to 02:55 UTC) and ``real_site_map.png``: a scan of the
  two DJI flights near Bremerton (AirData CSVs read where they lie, under ``$GEOEXPOSE_REALDATA``,
  never copied) against a few made-up sites placed around them;
- ``report_page.png``: the cover of the real scan's PDF briefing.

The maps are shot by Debian's headless Chromium (``apt-get install chromium``)
with the network cut off; the PDF page is rendered by pypdfium2. Without
``GEOEXPOSE_REALDATA`` the real-flight pictures are skipped, saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "screenshots"
DOCS = ROOT / "docs"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WINDOW = "1200,800"

# Made-up sites around the two flights (they took off near 47.5735 N, 122.628 W).
# Nothing is really there: the names say so.
SITES = [
    ("made-up-pump-station", "Made-up pump station", "water", (-122.6283, 47.5733), 60.0),
    ("made-up-substation", "Made-up substation", "power", (-122.6271, 47.5738), 40.0),
    ("made-up-rail-yard", "Made-up rail yard", "rail", (-122.6300, 47.5721), 50.0),
    ("made-up-armory", "Made-up armory", "military", (-122.6255, 47.5748), 45.0),
    ("made-up-fuel-depot", "Made-up fuel depot", "hazmat", (-122.6320, 47.5755), 35.0),
]


def _square(lon: float, lat: float, half_m: float) -> list[list[list[float]]]:
    """A square of ``2 * half_m`` metres around a point, as GeoJSON coordinates."""
    dlat = half_m / 111_320.0
    dlon = dlat / 0.6749  # cos(47.57 degrees)
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return [[[round(x, 7), round(y, 7)] for x, y in ring]]


def write_sites(path: Path) -> Path:
    """Write the made-up sites as GeoJSON (squares around the points above)."""
    features = [
        {
            "type": "Feature",
            "properties": {"site_id": sid, "name": name, "family": family},
            "geometry": {"type": "Polygon", "coordinates": _square(lon, lat, half)},
        }
        for sid, name, family, (lon, lat), half in SITES
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def scan(tracks: Path, sites: Path, out: Path) -> None:
    """Scan the tracks against the sites and write the output folder (maps, PDF)."""
    import geoexpose as gx

    gx.scan([tracks], [sites]).write(out, overwrite=True)
    gx.write_report(out, overwrite=True)


def shoot(page: Path, png: Path, fragment: str = "") -> None:
    """Screenshot a map page in headless Chromium, offline, at ``WINDOW`` pixels."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--hide-scrollbars",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                f"--window-size={WINDOW}",
                "--virtual-time-budget=5000",
                f"--screenshot={png}",
                page.resolve().as_uri() + fragment,
            ],
            check=True,
            capture_output=True,
        )
    print(f"wrote {png.relative_to(ROOT)}")


def pdf_page(pdf: Path, index: int, png: Path, width_px: int = 1100) -> None:
    """Render one page of a PDF as a PNG ``width_px`` wide (pypdfium2)."""
    import pypdfium2

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        page = doc[min(index, len(doc) - 1)]
        scale = width_px / page.get_width()
        page.render(scale=scale).to_pil().save(png)
    finally:
        doc.close()
    print(f"wrote {png.relative_to(ROOT)}")


def main() -> int:
    """Make every picture; return 0."""
    OUT.mkdir(parents=True, exist_ok=True)
    DOCS.mkdir(exist_ok=True)
    demo = OUT / "demo"
    subprocess.run(
        [sys.executable, "-m", "geoexpose.cli", "-q", "demo", "--out", demo, "--overwrite"],
        check=True,
        cwd=ROOT,
    )
    shoot(demo / "map.html", DOCS / "demo_map.png")
    shoot(demo / "sites" / "brenmoor-water-works.html", DOCS / "demo_site_map.png")

    realdata = os.environ.get("GEOEXPOSE_REALDATA")
    tracks = Path(realdata or "-") / "tracks" / "airdata_csv"
    if not tracks.is_dir():
        print(
            "GEOEXPOSE_REALDATA is not set (or has no tracks/airdata_csv): no real-flight pictures"
        )
        return 0
    real = OUT / "bremerton"
    sites = write_sites(OUT / "made_up_sites.geojson")
    scan(tracks, sites, real)
    # The overview at 02:55 UTC, during the second flight: its trail so far and photos.
    shoot(real / "map.html", DOCS / "real_map.png", "#time=2021-09-06T02:55:00Z")
    table = (real / "site_exposure.csv").read_text().splitlines()
    first = table[1].split(",")[0] if len(table) > 1 else None
    if first and (real / "sites" / f"{first}.html").is_file():
        shoot(real / "sites" / f"{first}.html", DOCS / "real_site_map.png")
    pdf_page(real / "report.pdf", 0, DOCS / "report_page.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
