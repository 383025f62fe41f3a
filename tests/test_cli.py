"""The geoexpose command line, run in-process with click's runner."""

from __future__ import annotations

import json
import subprocess
import sys

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

import geoexpose as gx
from geoexpose.cli import main


@pytest.fixture(scope="module")
def demo_inputs(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("demo") / "inputs")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_demo_writes_the_whole_output_folder(tmp_path):
    out = tmp_path / "demo"
    result = run("demo", "--out", out)
    assert result.exit_code == 0, result.output
    for name in gx.OUTPUT_FILES:
        assert (out / name).stat().st_size > 0, name
    assert result.stdout.strip().endswith("map.html")
    table = pd.read_csv(out / "site_exposure.csv")
    assert list(table["exposure_score"]) == sorted(table["exposure_score"], reverse=True)
    depot = table.set_index("site_id").loc["brenmoor-depot"]
    assert depot["dwell_s"] > 30 and depot["n_flights"] == 1
    assert sorted(gpd.list_layers(out / "exposure.gpkg")["name"]) == [
        "aircraft",
        "capture_sites",
        "captures",
        "flight_sites",
        "flights",
        "footprints",
        "sites",
    ]
    again = run("demo", "--out", out)
    assert again.exit_code == 1
    assert "exists" in again.stderr and "--overwrite" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert run("demo", "--out", out, "--overwrite").exit_code == 0
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".geoexpose-manifest.json"]


def bad_files(folder):
    folder.mkdir()
    (folder / "empty.csv").write_bytes(b"")
    (folder / "junk.csv").write_bytes(bytes(range(256)) * 40)
    (folder / "wrong.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (folder / "latin1.gpx").write_bytes(
        "<?xml version='1.0'?><gpx><trk><name>\xe9".encode("latin-1")
    )
    return folder


def test_scan_skips_bad_files_and_finishes(tmp_path, demo_inputs):
    inputs = bad_files(tmp_path / "in")
    good = demo_inputs.tracks[0]
    other = demo_inputs.tracks[
        1
    ].read_bytes()  # another flight: a cut copy of ``good`` is a duplicate
    truncated = inputs / "truncated.csv"
    truncated.write_bytes(other[: len(other) // 2])
    out = tmp_path / "out"
    result = run("scan", inputs, good, "--sites", demo_inputs.sites, "--out", out)
    assert result.exit_code == 0, result.output
    warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
    for name in ("empty.csv", "junk.csv", "wrong.csv", "latin1.gpx"):
        assert any(name in line for line in warned), name
    summary = json.loads((out / "summary.json").read_text())
    skipped = {e["path"].rsplit("/", 1)[-1] for e in summary["files_skipped"]}
    assert {"empty.csv", "junk.csv", "wrong.csv", "latin1.gpx"} <= skipped
    kept = {e["path"].rsplit("/", 1)[-1]: e for e in summary["inputs"]["track_files"]}
    assert kept["truncated.csv"]["status"] == "read"
    assert kept["truncated.csv"]["dropped"].get("truncated_row", 0) <= 1
    assert summary["rows"]["fixes_kept"] > 0


def test_strict_scan_stops_with_one_line_and_status_1(tmp_path, demo_inputs):
    inputs = bad_files(tmp_path / "in")
    result = run(
        "scan",
        inputs / "junk.csv",
        "--sites",
        demo_inputs.sites,
        "--strict",
        "--out",
        tmp_path / "out",
    )
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "junk.csv" in lines[0]
    assert not (tmp_path / "out" / "summary.json").exists()


def test_bad_usage_is_status_2(tmp_path, demo_inputs):
    result = run(
        "scan",
        demo_inputs.tracks[0],
        "--sites",
        demo_inputs.sites,
        "--standoff",
        "military",
        "--out",
        tmp_path,
    )
    assert result.exit_code == 2
    assert run("scan", demo_inputs.tracks[0]).exit_code == 2  # no --sites


def test_standoff_override_widens_the_zone(tmp_path, demo_inputs):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run("scan", *demo_inputs.tracks, "--sites", demo_inputs.sites, "--out", a).exit_code == 0
    assert (
        run(
            "scan",
            *demo_inputs.tracks,
            "--sites",
            demo_inputs.sites,
            "--out",
            b,
            "--standoff",
            "military=900",
        ).exit_code
        == 0
    )
    da = pd.read_csv(a / "site_exposure.csv").set_index("site_id").loc["brenmoor-depot"]
    db = pd.read_csv(b / "site_exposure.csv").set_index("site_id").loc["brenmoor-depot"]
    assert db["standoff_m"] == 900 and db["dwell_s"] > da["dwell_s"]


def test_inspect_reports_format_rows_and_problems(tmp_path, demo_inputs):
    result = run(
        "inspect", "--json", demo_inputs.tracks[0], bad_files(tmp_path / "in") / "junk.csv"
    )
    assert result.exit_code == 0, result.output
    good, junk = json.loads(result.stdout)
    assert good["format"] == "airdata_csv" and good["status"] == "read"
    assert good["dropped"]["null_island"] == 5
    assert good["rows_read"] == good["rows_kept"] + sum(good["dropped"].values())
    assert len(good["bounds_lonlat"]) == 4 and good["time_span_utc"][0] < good["time_span_utc"][1]
    assert junk["status"] == "skipped" and junk["reason"]
    text = run("inspect", demo_inputs.tracks[0]).stdout
    assert "airdata_csv" in text and "rows_kept" in text


def test_layers_list_shows_every_family():
    result = run("layers", "list", "--json")
    rows = json.loads(result.stdout)
    assert {r["family"] for r in rows} == {
        *("water", "rail", "power", "military"),
        *("hazmat", "transport", "emergency"),
    }
    sub = next(r for r in rows if r["kind"] == "substation")
    assert sub["standoff_m"] == gx.default_standoff("power", "substation")


def test_map_rebuilds_from_the_output_folder(tmp_path):
    out = tmp_path / "demo"
    assert run("demo", "--out", out).exit_code == 0
    target = tmp_path / "again.html"
    result = run("map", out, "--out", target)
    assert result.exit_code == 0, result.output
    html = target.read_text()
    assert "brenmoor-depot" in html and "https://" not in html.split("<script>")[0]


def test_console_script_is_installed():
    done = subprocess.run(
        [sys.executable, "-m", "geoexpose.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 or "geoexpose" in done.stdout


def test_import_stays_light():
    code = (
        "import sys, geoexpose; "
        "print(sorted(m for m in ('folium', 'rasterio') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_site_family_fills_layers_without_one(tmp_path, demo_inputs):
    sites = gpd.read_file(demo_inputs.sites)
    plants = tmp_path / "plants.csv"
    pd.DataFrame(
        {"Plant Name": sites["name"], "lon": sites.geometry.representative_point().x,
         "lat": sites.geometry.representative_point().y}
    ).to_csv(plants, index=False)  # fmt: skip
    without = run("scan", *demo_inputs.tracks, "--sites", plants, "--out", tmp_path / "a")
    assert without.exit_code == 1 and "no family" in without.stderr
    done = run("scan", *demo_inputs.tracks, "--sites", plants, "--site-family", "power",
               "--out", tmp_path / "b")  # fmt: skip
    assert done.exit_code == 0, done.output
    table = pd.read_csv(tmp_path / "b" / "site_exposure.csv")
    assert len(table) > 0 and set(table["family"]) == {"power"}


def test_inspect_reports_photo_pose_and_site_layers(tmp_path, demo_inputs):
    from PIL import Image

    photo = tmp_path / "p.jpg"
    Image.new("RGB", (64, 48)).save(photo)
    result = run("inspect", "--json", photo, demo_inputs.sites)
    assert result.exit_code == 0, result.output
    pic, layer = json.loads(result.stdout)
    assert pic["format"] == "photo" and pic["pose"]["width_px"] == 64
    assert pic["problems"]  # no focal length at all: said, not guessed
    n_sites = len(gpd.read_file(demo_inputs.sites))
    assert layer["format"] == "sites" and layer["rows_kept"] == n_sites
    assert sum(layer["sites_by_family"].values()) == n_sites


@pytest.mark.realdata
def test_inspect_real_photos_give_their_pose(realdata):
    photo = realdata / "dji_images" / "orthority_odm_p4rtk" / "images" / "100_0005_0018.tif"
    (report,) = json.loads(run("inspect", "--json", photo).stdout)
    assert report["pose"]["model"] == "FC6310R"
    assert report["pose"]["gimbal_pitch_deg"] == pytest.approx(-60.0)
    assert report["intrinsics"] == "calibrated"


def test_scan_photos_on_a_dsm(tmp_path, realdata):
    """scan --dem: the real P4 RTK frames marched into their DSM, next to a site."""
    root = realdata / "dji_images" / "orthority_odm_p4rtk"
    site = gpd.GeoDataFrame(
        {"site_id": ["pad"], "family": ["power"], "kind": ["substation"]},
        geometry=gpd.points_from_xy([120.9517], [24.6800]),
        crs="EPSG:4326",
    )
    site.to_file(tmp_path / "site.geojson")
    args = ("scan", root / "images", "--sites", tmp_path / "site.geojson", "--time-zone",
            "Asia/Taipei")  # fmt: skip
    flat = run(*args, "--out", tmp_path / "flat")
    on_dsm = run(*args, "--dem", root / "odm_dem" / "dsm.tif", "--out", tmp_path / "dsm")
    assert flat.exit_code == 0 and on_dsm.exit_code == 0, on_dsm.output
    a = gpd.read_file(tmp_path / "flat" / "exposure.gpkg", layer="captures")
    b = gpd.read_file(tmp_path / "dsm" / "exposure.gpkg", layer="captures")
    assert len(a) == len(b) == 4
    assert set(a["alt_ref"]) == {"takeoff"} and set(b["alt_ref"]) == {"ground"}
    assert b["flags"].str.contains("elevation_from_absolute").all()
    # the DSM lies 10-25 m above the take-off point under these cameras: lower heights
    assert (b["alt_agl_m"] < a["alt_agl_m"] - 5).all()
    assert pd.read_csv(tmp_path / "dsm" / "site_exposure.csv")["n_captures"].iloc[0] >= 1


def test_scan_of_logs_alone_takes_their_photo_triggers(tmp_path, realdata):
    folder = realdata / "tracks" / "airdata_csv"
    logged = gx.read_tracks(folder)
    # an independent count: rises of isPhoto within each flight, from the fixes
    rises = 0
    for _, flight in logged.groupby("flight_id"):
        flag = flight["is_photo"].fillna(False).astype(bool).to_numpy()
        rises += int(flag[0]) + int((flag[1:] & ~flag[:-1]).sum())
    assert rises > 0
    first = logged.geometry.iloc[0]
    site = gpd.GeoDataFrame(
        {"site_id": ["s"], "family": ["water"], "kind": ["water_tower"]},
        geometry=[first],
        crs="EPSG:4326",
    )
    site.to_file(tmp_path / "s.geojson")
    result = run("scan", folder, "--sites", tmp_path / "s.geojson", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    assert "photo triggers" in result.stderr
    caps = gpd.read_file(tmp_path / "o" / "exposure.gpkg", layer="captures")
    assert len(caps) == rises
    assert caps["flags"].str.contains("from_log_trigger").all()
    assert caps["flight_id"].notna().all()


def test_inspect_tells_an_elevation_model_from_a_photo(realdata):
    root = realdata / "dji_images"
    dsm = root / "orthority_odm_p4rtk" / "odm_dem" / "dsm.tif"
    photo = root / "thermal_parser_samples" / "DJI_H20T.jpg"
    result = run("inspect", "--json", dsm, photo)
    assert result.exit_code == 0, result.output
    dem, shot = json.loads(result.stdout)
    assert dem["format"] == "elevation" and dem["crs"] == "EPSG:32651"
    assert dem["size_px"] == [488, 445]
    assert shot["format"] == "photo" and shot["intrinsics"] == "table"
    assert "horizon_clipped" in shot["footprint"]["flags"]


def test_a_scan_with_nothing_to_scan_exits_1_saying_what_was_found(tmp_path, demo_inputs):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("scan", empty, "--sites", demo_inputs.sites, "--out", tmp_path / "o1")
    assert result.exit_code == 1
    assert result.stderr.strip() == f"geoexpose: error: nothing to scan: no file under {empty}"
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "readme.md").write_text("flown on Tuesday")
    (notes / "plan.kml").write_text(
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><LineString><coordinates>'
        "10.0,50.0,20 10.001,50.001,20</coordinates></LineString></Placemark></kml>"
    )
    result = run("scan", notes, "--sites", demo_inputs.sites, "--out", tmp_path / "o2")
    assert result.exit_code == 1
    error = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(error) == 1 and "no fix or capture in 2 files" in error[0]
    assert "plan.kml" in error[0] and "readme.md: unknown type (.md)" in error[0]
    assert not (tmp_path / "o2").exists()


def test_messages_name_the_options_and_v_q_go_after_the_command(tmp_path, demo_inputs, caplog):
    result = run("scan", demo_inputs.tracks[0], "--sites", demo_inputs.sites,
                 "--site-family", "waterr", "--out", tmp_path / "o")  # fmt: skip
    assert result.exit_code == 2
    assert "--site-family 'waterr'" in result.stderr and "family=" not in result.stderr
    assert "--standoff waterr=METRES" in result.stderr
    # a log without a time zone: the hint names --time-zone, not the parameter
    log = tmp_path / "local.csv"
    log.write_text("time,lat,lon,alt\n2026-06-12 10:00:00,52.0,-35.0,30\n"
                   "2026-06-12 10:00:01,52.00001,-35.0,30\n")  # fmt: skip
    for flags in ([], ["-q"], ["-v"]):
        out = tmp_path / f"out{len(flags)}{''.join(flags)}"
        caplog.clear()
        result = run("scan", log, "--sites", demo_inputs.sites, "--out", out, *flags)
        assert result.exit_code == 0, result.output
        warned = [line for line in result.stderr.splitlines() if line.startswith("warning:")]
        if flags == ["-q"]:
            assert warned == [] and "1 warnings (-q" in result.stderr
        else:
            assert len(warned) == 1 and "(pass --time-zone ZONE)" in warned[0]
        info = [r for r in caplog.records if r.name.startswith("geoexpose") and r.levelno == 20]
        assert bool(info) == (flags == ["-v"])


def test_the_site_layer_inside_the_input_folder_is_not_a_track(tmp_path, demo_inputs):
    folder = demo_inputs.sites.parent
    out = tmp_path / "out"
    result = run("scan", folder, "--sites", demo_inputs.sites, "--out", out)
    assert result.exit_code == 0, result.output
    assert "warning:" not in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    layer = [e for e in summary["other_files"] if e["path"] == str(demo_inputs.sites)]
    assert layer == [{"path": str(demo_inputs.sites), "format": None, "status": "layer",
                      "reason": "read as a site layer, not as a track or capture"}]  # fmt: skip
    tracks = {e["path"] for e in summary["inputs"]["track_files"]}
    assert str(demo_inputs.sites) not in tracks and len(tracks) == len(demo_inputs.tracks)
    files_on_disk = sum(1 for p in folder.rglob("*") if p.is_file())
    assert sum(summary["input_files"].values()) == files_on_disk


def test_site_maps_option_chooses_which_sites_get_a_map(tmp_path, demo_inputs):
    args = ["scan", *demo_inputs.tracks, "--sites", demo_inputs.sites]
    one = tmp_path / "one"
    result = run(*args, "--out", one, "--site-maps", "1")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(one / "site_exposure.csv")
    assert len(table) > 1  # more sites exposed than maps written
    top = table.sort_values(["exposure_score", "site_id"], ascending=[False, True]).iloc[0]
    record = json.loads((one / "summary.json").read_text())["site_maps"]
    assert record["limit"] == 1 and record["written"] == 1
    assert record["exposed_sites"] == len(table)
    assert list(record["maps"]) == [top["site_id"]]
    assert sorted(p.name for p in (one / "sites").iterdir()) == [f"{top['site_id']}.html"]
    none = tmp_path / "none"
    assert run(*args, "--out", none, "--site-maps", "none").exit_code == 0
    assert not any((none / "sites").glob("*.html"))
    assert json.loads((none / "summary.json").read_text())["site_maps"]["written"] == 0
    bad = run(*args, "--out", tmp_path / "bad", "--site-maps", "some")
    assert bad.exit_code == 2 and "--site-maps" in bad.stderr
