"""The PDF briefing: pages, text that can be read back, numbers and scale checked on the page.

Pages are read back with pypdfium2 (text, vector paths, images), never by asking the
code that drew them; expected values come from the output folder's own tables and
from geometry laid out with pyproj.Geod.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import Geod

import geoexpose as gx
from geoexpose.cli import main
from tests.conftest import make_track

pdfium = pytest.importorskip("pypdfium2")
pytest.importorskip("matplotlib")
raw = pdfium.raw

GEOD = Geod(ellps="WGS84")
SIDE_M = 400.0  # the square site's side
STANDOFF_M = 150.0
LON0, LAT0 = -3.0, 52.0  # on the central meridian of its band: grid north is true north
HOSTILE = "D\u00e9p\u00f4t $\\alpha$ <b>\x07\u202eevil \u4e2d\U0001f600 " + "x" * 3000


def _square(lon: float, lat: float, side: float) -> shapely.Polygon:
    half = side / 2
    _, s_lat, _ = GEOD.fwd(lon, lat, 180, half)
    _, n_lat, _ = GEOD.fwd(lon, lat, 0, half)
    w_lon, _, _ = GEOD.fwd(lon, lat, 270, half)
    e_lon, _, _ = GEOD.fwd(lon, lat, 90, half)
    return shapely.box(w_lon, s_lat, e_lon, n_lat)


@pytest.fixture(scope="module")
def scan_folder(tmp_path_factory) -> Path:
    """A scan's output folder: a square site, a point site, an unexposed site, two flights."""
    far_lon, _, _ = GEOD.fwd(LON0, LAT0, 90, 3000)
    point_lon, _, _ = GEOD.fwd(LON0, LAT0, 90, 1500)
    sites = gx.read_sites(
        _layer(
            tmp_path_factory.mktemp("in"),
            [
                _square(LON0, LAT0, SIDE_M),
                shapely.Point(point_lon, LAT0),
                shapely.Point(far_lon, 53.0),
            ],
            [HOSTILE, "Pump station", "Far away"],
        )
    )
    lon = np.linspace(LON0 - 0.01, point_lon + 0.005, 2000)
    fixes = pd.concat(
        [
            make_track(lon, np.full(lon.shape, LAT0), flight="alpha", dt_s=0.5),
            make_track(lon[:700], np.full(700, LAT0 + 0.0005), flight="beta", dt_s=0.5),
        ]
    )
    folder = tmp_path_factory.mktemp("scan")
    gx.expose(sites, fixes=fixes).write(folder, overwrite=True, map_html=False)
    return folder


def _layer(folder: Path, geoms: list, names: list[str]) -> Path:
    import geopandas as gpd

    frame = gpd.GeoDataFrame(
        {
            "site_id": ["square", "pump", "far"],
            "family": "power",
            "kind": "substation",
            "name": names,
            "standoff_m": STANDOFF_M,
        },
        geometry=geoms,
        crs="EPSG:4326",
    )
    path = folder / "sites.gpkg"
    frame.to_file(path, driver="GPKG")
    return path


def _texts(pdf_path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(pdf_path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _paths(pdf_path: Path, index: int) -> list[tuple[tuple[int, int, int], tuple[float, ...]]]:
    """Fill colour and bounds (points) of every vector path on one page."""
    pdf = pdfium.PdfDocument(pdf_path)
    out = []
    for obj in pdf[index].get_objects(filter=[raw.FPDF_PAGEOBJ_PATH]):
        rgba = [ctypes.c_uint() for _ in range(4)]
        raw.FPDFPageObj_GetFillColor(obj.raw, *rgba)
        out.append((tuple(c.value for c in rgba[:3]), tuple(obj.get_bounds())))
    pdf.close()
    return out


def test_a_cover_then_one_page_per_exposed_site(scan_folder):
    pdf = gx.write_report(scan_folder, overwrite=True)
    assert pdf == scan_folder / "report.pdf"
    table = pd.read_csv(scan_folder / "site_exposure.csv")
    assert len(table) == 2  # the far site is not exposed
    texts = _texts(pdf)
    assert len(texts) == 1 + len(table)
    assert "Exposure briefing" in texts[0]
    assert "Pump station" in texts[0]
    assert "Far away" not in "".join(texts[1:])


def test_numbers_on_a_site_page_are_the_site_tables(scan_folder):
    pdf = gx.write_report(scan_folder, overwrite=True)
    texts = _texts(pdf)
    table = pd.read_csv(scan_folder / "site_exposure.csv").set_index("site_id")
    for site_id, page_text in (("pump", next(t for t in texts[1:] if "Pump station" in t)),):
        r = table.loc[site_id]
        assert f"site_id {site_id}" in page_text
        assert f"{r['dwell_s']:.1f} s" in page_text
        assert f"{r['min_distance_m']:.1f} m" in page_text
        assert f"{r['min_agl_m']:.1f} m" in page_text
        assert f"{r['exposure_score']:.1f}" in page_text
        assert f"{STANDOFF_M:.0f} m" in page_text
        assert f"Flights ({int(r['n_flights'])})" in page_text


def test_a_hostile_name_is_text_on_its_page_shown_not_interpreted(scan_folder):
    texts = _texts(gx.write_report(scan_folder, overwrite=True))
    page = next(t for t in texts[1:] if "site_id square" in t)
    assert "D\u00e9p\u00f4t $\\alpha$ <b>" in page  # no mathematics, no markup
    assert "\x07" not in page and "\u202e" not in page
    assert "\u4e2d" not in page  # no glyph in DejaVu: shown as ?
    assert "x" * 200 not in page  # cut
    assert "\u2026" in page


def test_the_scale_bar_matches_the_ground(scan_folder):
    """Metres per point from the square (400 m a side) give the scale bar its length."""
    pdf = gx.write_report(scan_folder, sites=["square"], out=scan_folder / "one.pdf")
    texts = _texts(pdf)
    assert len(texts) == 2
    paths = _paths(pdf, 1)
    boxes = [
        b
        for _, b in paths
        if (b[2] - b[0]) > 20 and abs((b[2] - b[0]) - (b[3] - b[1])) < 0.02 * (b[2] - b[0])
    ]
    widths = sorted(b[2] - b[0] for b in boxes)
    site_pt = widths[0]
    m_per_pt = SIDE_M / site_pt
    zone_pt = next(w for w in widths if w > site_pt * 1.2)  # the square buffered by the standoff
    assert zone_pt * m_per_pt == pytest.approx(SIDE_M + 2 * STANDOFF_M, rel=0.02)
    black = [
        b
        for c, b in paths
        if c == (0, 0, 0) and b[3] - b[1] > 3 and b[2] - b[0] > 3 * (b[3] - b[1])
    ]
    assert len(black) == 1  # the scale bar's black half
    bar_m = 2 * (black[0][2] - black[0][0]) * m_per_pt
    label = next(line for line in texts[1].splitlines() if line.strip().endswith((" m", " km")))
    value, unit = label.split()
    expected = float(value) * (1000 if unit == "km" else 1)
    assert bar_m == pytest.approx(expected, rel=0.03)
    assert float(value) / 10 ** np.floor(np.log10(float(value))) in (1.0, 2.0, 5.0)


def test_pdf_metadata_names_no_path(scan_folder):
    pdf = gx.write_report(scan_folder, overwrite=True)
    doc = pdfium.PdfDocument(pdf)
    meta = doc.get_metadata_dict()
    doc.close()
    assert meta["Title"] == f"Exposure briefing: {scan_folder.name}"
    assert meta["Creator"].startswith("geoexpose ")
    assert not any(str(scan_folder.parent) in v for v in meta.values())


def test_the_report_joins_the_folders_manifest_and_is_not_clobbered(scan_folder):
    gx.write_report(scan_folder, overwrite=True)
    manifest = json.loads((scan_folder / ".geoexpose-manifest.json").read_text())
    assert "report.pdf" in manifest["files"]
    assert "exposure.gpkg" in manifest["files"]  # the scan's files stay listed
    with pytest.raises(gx.OutputExistsError):
        gx.write_report(scan_folder)
    with pytest.raises(gx.InputError, match="nope"):
        gx.write_report(scan_folder, sites=["nope"], out=scan_folder / "x.pdf")
    assert not (scan_folder / "x.pdf").exists()


def test_cli_report(scan_folder, tmp_path):
    runner = CliRunner()
    out = tmp_path / "brief.pdf"
    done = runner.invoke(main, ["report", str(scan_folder), "--out", str(out), "--site", "pump"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == str(out)
    assert len(_texts(out)) == 2
    again = runner.invoke(main, ["report", str(scan_folder), "--out", str(out)])
    assert again.exit_code == 1
    assert "exists" in again.output
    bad = runner.invoke(
        main, ["report", str(scan_folder), "--out", str(out), "--overwrite", "--site", "nope"]
    )
    assert bad.exit_code == 1
    assert "'nope'" in bad.output and "Traceback" not in bad.output


def test_without_matplotlib_the_command_names_the_extra(scan_folder, tmp_path):
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from geoexpose.cli import main\n"
        f"main(['report', {str(scan_folder)!r}, '--out', {str(tmp_path / 'r.pdf')!r}])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines == [
        "geoexpose: error: the PDF briefing needs matplotlib: pip install 'geoexpose[report]'"
    ]


def test_import_geoexpose_does_not_import_matplotlib():
    code = "import sys, geoexpose; print('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert done.stdout.strip() == "False"


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "demo"
    done = CliRunner().invoke(main, ["demo", "--out", str(out)])
    assert done.exit_code == 0, done.output
    return out


@pytest.mark.slow
def test_demo_briefing_shows_photos_or_says_they_are_missing(demo_folder):
    table = pd.read_csv(demo_folder / "site_exposure.csv")
    pdf = gx.write_report(demo_folder)
    texts = _texts(pdf)
    assert len(texts) == 1 + len(table)
    for (_, r), page in zip(table.iterrows(), texts[1:], strict=True):  # most exposed first
        assert r["name"] in page
        assert f"{r['best_gsd_cm']:,.2f} cm" in page
    doc = pdfium.PdfDocument(pdf)
    images = len(list(doc[1].get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE])))
    doc.close()
    assert images == 5  # the five finest photos of the most exposed site
    assert "photo not available" not in texts[1]
    photos = demo_folder / "inputs" / "photos"
    gone = photos.with_name("photos-away")
    os.rename(photos, gone)
    try:
        texts = _texts(gx.write_report(demo_folder, overwrite=True, out=demo_folder / "b.pdf"))
    finally:
        os.rename(gone, photos)
    assert texts[1].count("photo not available") == 5


def test_a_local_geotiff_is_drawn_under_the_maps(scan_folder, tmp_path):
    rasterio = pytest.importorskip("rasterio")
    from affine import Affine

    tif = tmp_path / "base.tif"
    pixels = np.zeros((3, 200, 200), dtype="uint8")
    pixels[0] = 200  # a red ground, so the map is visibly drawn on it
    west, south, east, north = LON0 - 0.05, LAT0 - 0.03, LON0 + 0.08, LAT0 + 0.03
    grid = Affine((east - west) / 200, 0, west, 0, -(north - south) / 200, north)
    profile = {"driver": "GTiff", "width": 200, "height": 200, "count": 3, "dtype": "uint8"}
    with rasterio.open(tif, "w", crs="EPSG:4326", transform=grid, **profile) as dst:
        dst.write(pixels)
    pdf = gx.write_report(scan_folder, out=tmp_path / "b.pdf", sites=["square"], basemap=tif)
    doc = pdfium.PdfDocument(pdf)
    images = [len(list(doc[i].get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE]))) for i in range(2)]
    bitmap = doc[1].render(scale=1).to_pil().convert("RGB")
    doc.close()
    assert images == [1, 1]  # one basemap per map, no photo in this scan
    # the map's corner (inside the frame, outside the zone) shows the red basemap
    w, h = bitmap.size
    r, g, b = bitmap.getpixel((int(w * 0.12), int(h * 0.17)))
    assert r > 150 and g < 80 and b < 80


def test_a_photo_that_cannot_be_read_safely_gets_no_thumbnail(tmp_path):
    from PIL import Image

    from geoexpose.report._photos import MAX_PHOTO_PIXELS, photo_thumbnail

    good = tmp_path / "good.jpg"
    Image.new("RGB", (640, 480), (10, 120, 200)).save(good)
    image = photo_thumbnail(str(good), tmp_path, side=100)
    assert image is not None and image.shape == (75, 100, 3)
    assert np.abs(image[40, 50].astype(int) - (10, 120, 200)).max() <= 6
    assert photo_thumbnail("good.jpg", tmp_path, side=100) is not None  # relative: from the folder
    huge = tmp_path / "huge.png"  # a few kilobytes that decode to 144 megapixels
    side = int(np.sqrt(MAX_PHOTO_PIXELS)) + 1000
    Image.new("1", (side, side)).save(huge)
    assert huge.stat().st_size < 2_000_000
    fake = tmp_path / "fake.jpg"
    fake.write_text("not an image")
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(good.read_bytes()[:200])
    for path in (huge, fake, cut, tmp_path, tmp_path / "missing.jpg", None, ""):
        assert photo_thumbnail(None if path is None else str(path), tmp_path) is None
