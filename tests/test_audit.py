"""Audit: a substation inspection that strays across a depot, with answers worked out here.

The scenario is drawn in metres east and north of a point in the open North Atlantic
(an azimuthal equidistant projection made with pyproj, independent of geoexpose's
bands). The drone flies a rectangle at 10 m/s with a fix every second; the times at
which it enters and leaves each zone follow from the geometry of boxes and their
round-cornered buffers. Photos are written with exact nadir or oblique poses; which
of them show the depot follows from their analytic footprints.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from conftest import make_track
from pyproj import CRS, Transformer
from test_captures import F_PX, expected_footprint, write_photo

import geoexpose as gx
from geoexpose.cli import main

O_LON, O_LAT = -30.0, 45.0  # open ocean: no real site
LOCAL = CRS.from_proj4(f"+proj=aeqd +lat_0={O_LAT} +lon_0={O_LON} +ellps=WGS84 +units=m")
TO_LONLAT = Transformer.from_crs(LOCAL, "EPSG:4326", always_xy=True)
TO_LOCAL = Transformer.from_crs("EPSG:4326", LOCAL, always_xy=True)
T0 = pd.Timestamp("2026-06-12T10:00:00Z")
V = 10.0  # m/s
DT = 1.0  # s between fixes
X0 = -104.0  # take-off, 64 m west of the substation's fence
WAYPOINTS = np.array([(X0, 0.0), (1300.0, 0.0), (1300.0, 250.0), (X0, 250.0), (X0, 0.0)])
SUB = shapely.box(-40, -30, 40, 30)
DEPOT = shapely.box(600, -150, 1000, 150)
WATER = shapely.box(300, 220, 360, 280)
STANDOFF = {"sub": 100.0, "depot": 200.0, "water": 50.0}
POLICY = """
[families.power]
min_agl_m = 50

[outside_authorized]
max_gsd_cm = 20.0

[standoff_m]
military = 200
substation = 100
water_works = 50
"""


def lonlat(x, y):
    lon, lat = TO_LONLAT.transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def to_lonlat_geom(geom):
    return shapely.transform(geom, lambda xy: np.column_stack(lonlat(xy[:, 0], xy[:, 1])))


# --- the flight: positions along the rectangle at V, one fix every DT -------------------
LEG_S = np.hypot(*np.diff(WAYPOINTS, axis=0).T) / V
T_KEY = np.r_[0.0, np.cumsum(LEG_S)]
TIMES = np.arange(0.0, T_KEY[-1] + 1e-9, DT)


def position(t):
    t = np.asarray(t, float)
    return np.interp(t, T_KEY, WAYPOINTS[:, 0]), np.interp(t, T_KEY, WAYPOINTS[:, 1])


def height(t):
    return np.where(np.asarray(t) < 10.0, 40.0, 60.0)  # low over the substation at first


def fixes(drone_id="SN-1"):
    x, y = position(TIMES)
    lon, lat = lonlat(x, y)
    track = make_track(lon, lat, times_s=TIMES, alt_agl_m=height(TIMES), flight="f1")
    track["drone_id"] = pd.Series(drone_id, index=track.index, dtype="string")
    return track


def sites():
    frame = gpd.GeoDataFrame(
        {
            "site_id": ["sub", "depot", "water"],
            "family": ["power", "military", "water"],
            "kind": ["substation", "depot", "water_works"],
            "name": ["Test Substation", "Test Depot", "Test Water Works"],
        },
        geometry=[to_lonlat_geom(g) for g in (SUB, DEPOT, WATER)],
        crs="EPSG:4326",
    )
    return frame


# --- when the flight is where: analytic ------------------------------------------------
def leg_time(leg, along_m):
    """Time at ``along_m`` metres along leg ``leg``."""
    return T_KEY[leg] + along_m / V


def expected_depot_spans():
    s = STANDOFF["depot"]
    # leg 0 along y = 0 through the box: the zone is the box widened by s east and west
    first = (leg_time(0, 600 - s - X0), leg_time(0, 1000 + s - X0))
    # leg 2 along y = 250, 100 m north of the box: the zone's rounded corners
    reach = math.sqrt(s**2 - (250 - 150) ** 2)
    second = (leg_time(2, 1300 - (1000 + reach)), leg_time(2, 1300 - (600 - reach)))
    return [first, second]


def expected_outside_span():
    s = STANDOFF["sub"]
    leave = leg_time(0, 40 + s - X0)  # east along y = 0 out of the substation's zone
    # back south along x = X0: in again where the distance to the box's corner is s
    dy = math.sqrt(s**2 - (-40 - X0) ** 2)
    enter = leg_time(3, 250 - (30 + dy))
    return leave, enter


# --- photos with exact poses -----------------------------------------------------------
# (time s, yaw, pitch): nadir shots along the way and one oblique shot to the south
PHOTOS = [
    (10.0, 0.0, -90.0),  # over the substation (authorized)
    (67.0, 0.0, -90.0),  # just short of the depot
    (68.0, 0.0, -90.0),  # its frame reaches 6 m into the depot
    (80.0, 0.0, -90.0),
    (112.0, 0.0, -90.0),
    (114.0, 0.0, -90.0),  # just past it
    (215.0, 0.0, -90.0),  # over the depot's zone, 77.5 m north of the depot
    (216.0, 180.0, -45.0),  # from the same leg, looking south into the depot
    (262.0, 0.0, -90.0),  # over the water works
]


def write_photos(folder: Path) -> dict[str, tuple[float, float, float]]:
    folder.mkdir(parents=True, exist_ok=True)
    poses = {}
    for i, (t, yaw, pitch) in enumerate(PHOTOS):
        x, y = position(t)
        lon, lat = lonlat(x, y)
        when = (T0 + pd.Timedelta(seconds=t)).strftime("%Y:%m:%d %H:%M:%S")
        name = f"P{i:02d}.jpg"
        write_photo(
            folder / name,
            lon=float(lon),
            lat=float(lat),
            height=float(height(t)),
            yaw=yaw,
            pitch=pitch,
            time=when,
        )
        poses[name] = (float(t), yaw, pitch)
    return poses


def footprint_local(t, yaw, pitch):
    """The analytic footprint in scenario metres."""
    x, y = position(t)
    fp = expected_footprint(yaw, pitch, 0.0, float(height(t)))
    return shapely.affinity.translate(fp, float(x), float(y))


def shows(t, yaw, pitch, site):
    return shapely.area(shapely.intersection(footprint_local(t, yaw, pitch), site)) > 1e-6


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    poses = write_photos(folder)
    return folder, poses


@pytest.fixture(scope="module")
def audited(photos):
    folder, _ = photos
    captures = gx.read_captures(folder)
    return gx.audit(sites(), fixes(), captures, authorized="sub", policy=POLICY_DICT)


POLICY_DICT = {
    "families": {"power": {"min_agl_m": 50}},
    "outside_authorized": {"max_gsd_cm": 20.0},
    "standoff_m": {"military": 200, "substation": 100, "water_works": 50},
}


def by_rule(findings, rule):
    return findings[findings["rule"] == rule].sort_values("start_utc").reset_index(drop=True)


def seconds(ts):
    return (pd.Timestamp(ts) - T0).total_seconds()


def test_time_in_the_depot_zone_is_within_one_fix_interval(audited):
    spans = by_rule(audited.findings, "no_entry")
    expected = expected_depot_spans()
    assert len(spans) == len(expected) == 2
    assert set(spans["site_id"]) == {"depot"} and set(spans["severity"]) == {"high"}
    for row, (enter, leave) in zip(spans.itertuples(), expected, strict=True):
        print(f"depot span {seconds(row.start_utc):.2f}-{seconds(row.end_utc):.2f} s, "
              f"expected {enter:.2f}-{leave:.2f} s")  # fmt: skip
        assert abs(seconds(row.start_utc) - enter) <= DT / 2 + 1e-6
        assert abs(seconds(row.end_utc) - leave) <= DT / 2 + 1e-6
        assert abs(row.duration_s - (leave - enter)) <= DT
        # the fixes of the span: those whose times lie between entry and exit
        inside = np.flatnonzero((enter <= TIMES) & (leave >= TIMES))
        assert (row.first_fix, row.last_fix, row.n_fixes) == (
            inside[0],
            inside[-1],
            len(inside),
        )
        assert row.flight_id == "f1" and row.drone_id == "SN-1"
    # leg 0 crosses the depot itself (0 m); leg 2 passes 100 m north of it
    assert spans.loc[0, "min_distance_m"] == pytest.approx(0.0, abs=1e-6)
    assert spans.loc[1, "min_distance_m"] == pytest.approx(100.0, abs=0.5)
    total = spans["duration_s"].sum()
    exact = sum(b - a for a, b in expected)
    assert abs(total - exact) <= 2 * DT
    site = audited.by_site.set_index("site_id")
    assert abs(site.loc["depot", "outside_authorized_s"] - exact) <= 2 * DT
    assert not site.loc["depot", "authorized"] and site.loc["sub", "authorized"]


def test_the_photos_that_show_the_depot_are_found(audited, photos):
    _, poses = photos
    expected = sorted(n for n, pose in poses.items() if shows(*pose, DEPOT))
    assert expected == ["P02.jpg", "P03.jpg", "P04.jpg", "P07.jpg"]  # the analytic answer
    found = by_rule(audited.findings, "never_image")
    assert len(found) == 1
    row = found.iloc[0]
    assert row["site_id"] == "depot" and row["flight_id"] == "f1" and row["severity"] == "high"
    assert row["capture_ids"].split(";") == expected  # in time order
    assert row["n_captures"] == len(expected)
    assert seconds(row["start_utc"]) == poses[expected[0]][0]
    assert seconds(row["end_utc"]) == poses[expected[-1]][0]
    # the finest GSD: a nadir shot straight over the depot, 60 m up
    assert row["best_gsd_cm"] == pytest.approx(100 * 60.0 / F_PX, rel=1e-3)
    # its geometry: the part of the depot that the photos show
    imaged = shapely.intersection(
        shapely.union_all([footprint_local(*poses[n]) for n in expected]), DEPOT
    )
    got = shapely.transform(row.geometry, lambda xy: np.column_stack(TO_LOCAL.transform(*xy.T)))
    overlap = shapely.area(shapely.intersection(got, imaged)) / shapely.area(
        shapely.union(got, imaged)
    )
    assert overlap > 0.99


def test_a_fine_photo_of_an_unauthorized_site_breaks_max_gsd(audited, photos):
    _, poses = photos
    expected = sorted(n for n, pose in poses.items() if shows(*pose, WATER))
    found = by_rule(audited.findings, "max_gsd")
    assert len(found) == 1 and expected == ["P08.jpg"]
    row = found.iloc[0]
    assert row["site_id"] == "water" and row["capture_ids"] == "P08.jpg"
    assert row["best_gsd_cm"] == pytest.approx(100 * 60.0 / F_PX, rel=1e-3)
    assert row["severity"] == "medium"


def test_photos_of_the_authorized_substation_are_no_finding(audited, photos):
    _, poses = photos
    assert shows(*poses["P00.jpg"], SUB)
    flagged = ";".join(audited.findings["capture_ids"]).split(";")
    assert "P00.jpg" not in flagged
    assert "sub" not in set(audited.findings.loc[audited.findings["n_captures"] > 0, "site_id"])


def test_low_flight_over_the_substation_breaks_min_agl(audited):
    found = by_rule(audited.findings, "min_agl")
    assert len(found) == 1
    row = found.iloc[0]
    # 40 m above ground from take-off until t = 10 s; the policy asks for 50 m
    assert row["site_id"] == "sub" and (row["first_fix"], row["last_fix"]) == (0, 9)
    assert abs(row["duration_s"] - 10.0) <= DT
    assert row["min_agl_m"] == 40.0


def test_time_outside_the_work_area_is_one_span(audited):
    found = by_rule(audited.findings, "outside_authorized")
    leave, enter = expected_outside_span()
    assert len(found) == 1
    row = found.iloc[0]
    assert abs(seconds(row["start_utc"]) - leave) <= DT / 2 + 1e-6
    assert abs(seconds(row["end_utc"]) - enter) <= DT / 2 + 1e-6
    assert row["severity"] == "low" and pd.isna(row["site_id"])
    flight = audited.by_flight.set_index("flight_id").loc["f1"]
    assert abs(flight["outside_authorized_s"] - (enter - leave)) <= DT
    assert (flight["high"], flight["medium"], flight["low"]) == (3, 2, 1)
    assert flight["captures_flagged"] == 5


def test_exactly_the_expected_findings(audited):
    f = audited.findings
    assert list(f.columns) == gx.schema.FINDING_COLUMNS
    assert sorted(zip(f["rule"], f["site_id"].fillna("-"), strict=True)) == sorted(
        [
            ("no_entry", "depot"),
            ("no_entry", "depot"),
            ("never_image", "depot"),
            ("min_agl", "sub"),
            ("max_gsd", "water"),
            ("outside_authorized", "-"),
        ]
    )
    assert list(f["severity"]) == sorted(f["severity"], key=["high", "medium", "low"].index)
    assert list(f["finding_id"]) == [f"F{i:03d}" for i in range(1, len(f) + 1)]
    assert f.crs == "EPSG:4326"
    spans = f[f["n_fixes"] > 0]
    assert (shapely.get_num_coordinates(spans.geometry.values) == spans["n_fixes"]).all()


def test_time_window_and_aircraft_of_an_area():
    area = gpd.GeoDataFrame(
        {
            "area_id": ["yard", "yard-other-aircraft"],
            "valid_from_utc": [str(T0.tz_localize(None)), None],
            "valid_to_utc": [str((T0 + pd.Timedelta(seconds=20.5)).tz_localize(None)), None],
            "aircraft": [None, "SN-2; SN-3"],
        },
        geometry=[to_lonlat_geom(shapely.box(-300, -300, 300, 300))] * 2,
        crs="EPSG:4326",
    )
    areas = gx.read_authorized(area)
    assert list(areas["aircraft"]) == [None, "SN-2", "SN-3"]
    result = gx.audit(sites(), fixes(), authorized=areas, policy={"families": {}})
    outside = by_rule(result.findings, "outside_authorized")
    # the window ends 20.5 s in: from then on nothing is authorized for SN-1
    assert len(outside) == 1
    assert abs(seconds(outside.loc[0, "start_utc"]) - 20.5) <= DT / 2 + 1e-6
    assert seconds(outside.loc[0, "end_utc"]) == TIMES[-1]
    # the same area for another aircraft only: the whole flight is outside
    other = gx.audit(sites(), fixes(), authorized=areas.iloc[1:], policy={"families": {}})
    outside = by_rule(other.findings, "outside_authorized")
    assert len(outside) == 1 and outside.loc[0, "n_fixes"] == len(TIMES)


def test_read_authorized_refuses_what_it_cannot_use(tmp_path):
    with pytest.raises(gx.InputError, match="no site has the id 'nope'"):
        gx.read_authorized("nope", sites())
    lines = gpd.GeoDataFrame(
        {"name": ["a"]}, geometry=[to_lonlat_geom(shapely.LineString([(0, 0), (1, 1)]))], crs=4326
    )
    path = tmp_path / "work.geojson"
    lines.to_file(path)
    with pytest.raises(gx.InputError, match=r"work.geojson: row 0: .*polygon.*LineString"):
        gx.read_authorized(path, sites())
    table = tmp_path / "order.csv"
    table.write_text("site_id,valid_from_utc,valid_to_utc\nsub,2026-06-12,2026-06-12\n")
    areas = gx.read_authorized(table, sites())
    # the site with its zone: the catalog's standoff for substations
    assert (areas.loc[0, "area_id"], areas.loc[0, "site_id"]) == ("sub", "sub")
    assert areas.loc[0, "standoff_m"] == gx.default_standoff("power", "substation")
    assert areas.loc[0, "valid_from_utc"] == pd.Timestamp("2026-06-12T00:00:00Z")
    assert areas.loc[0, "valid_to_utc"] == pd.Timestamp("2026-06-12T23:59:59.999999999Z")
    bad = tmp_path / "bad.csv"
    bad.write_text("site_id,valid_from_utc\nsub,yesterday\n")
    with pytest.raises(gx.InputError, match=r"bad.csv: row 0, field valid_from_utc: 'yesterday'"):
        gx.read_authorized(bad, sites())


# --- the command line ------------------------------------------------------------------
def write_inputs(folder: Path) -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    track = fixes()
    xy = shapely.get_coordinates(track.geometry.values)
    csv = folder / "flight.csv"
    pd.DataFrame(
        {
            "time": (T0 + pd.to_timedelta(TIMES, unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "latitude": np.round(xy[:, 1], 9),
            "longitude": np.round(xy[:, 0], 9),
            "height_above_takeoff": height(TIMES),
        }
    ).to_csv(csv, index=False)
    write_photos(folder / "photos")
    layer = folder / "sites.geojson"
    sites().to_file(layer)
    policy = folder / "policy.toml"
    policy.write_text(POLICY)
    return folder, layer, policy


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_audit_writes_findings_map_and_report(tmp_path):
    inputs, layer, policy = write_inputs(tmp_path / "in")
    out = tmp_path / "out"
    done = run("audit", inputs, "--sites", layer, "--authorized", "sub", "--policy", policy,
               "--out", out)  # fmt: skip
    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith("report.html")
    table = pd.read_csv(out / "findings.csv")
    assert sorted(table["rule"]) == sorted(
        ["no_entry", "no_entry", "never_image", "min_agl", "max_gsd", "outside_authorized"]
    )
    layer_names = set(pyogrio.list_layers(out / "exposure.gpkg")[:, 0])
    assert {"findings", "sites", "captures", "capture_sites"} <= layer_names
    stored = gpd.read_file(out / "exposure.gpkg", layer="findings")
    assert len(stored) == len(table) and stored.crs == "EPSG:4326"
    summary = json.loads((out / "summary.json").read_text())
    assert summary["audit"]["findings"]["total"] == len(table)
    assert summary["audit"]["policy"]["standoff_m"]["military"] == 200.0
    page = (out / "map.html").read_text()
    assert "findings" in page and "F001" in page
    report = (out / "report.html").read_text()
    assert "<iframe" in report and "srcdoc=" in report
    # self-contained: no script, style or frame loaded from elsewhere
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", report)
    assert "Test Depot" in report and "no_entry" in report
    again = run("audit", inputs, "--sites", layer, "--authorized", "sub", "--out", out)
    assert again.exit_code == 1 and "--overwrite" in again.stderr


def test_cli_audit_refuses_a_bad_policy_in_one_line(tmp_path):
    inputs, layer, _ = write_inputs(tmp_path / "in")
    bad = tmp_path / "bad.toml"
    bad.write_text("[families.military]\nno_entry = 'yes'\n")
    done = run("audit", inputs, "--sites", layer, "--authorized", "sub", "--policy", bad,
               "--out", tmp_path / "out")  # fmt: skip
    assert done.exit_code == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.toml" in lines[0] and "no_entry" in lines[0]
    assert not (tmp_path / "out").exists()


def test_audit_of_the_demo_finds_the_depot(tmp_path):
    demo = gx.make_demo_inputs(tmp_path / "demo")
    fixes = gx.read_tracks(demo.tracks)
    result = gx.audit(
        gx.read_sites(demo.sites),
        fixes,
        gx.read_captures(demo.sites.parent / "photos"),
        authorized="brenmoor-substation",
        # the depot is seen at 45 m per pixel only: imaged once the bound allows that
        policy={"imaging": {"max_gsd_cm": 10_000.0}},
    )
    f = result.findings
    depot = f[f["site_id"] == "brenmoor-depot"]
    assert set(depot["rule"]) == {"no_entry", "never_image"}
    inspection = depot["flight_id"].iloc[0]
    assert set(depot["flight_id"]) == {inspection}
    assert "brenmoor-substation" not in set(f["site_id"].dropna())
    # the two other flights never came near the substation: each is one span outside
    others = f[(f["flight_id"] != inspection)]
    assert set(others["rule"]) == {"outside_authorized"}
    counts = fixes.groupby("flight_id").size()
    for row in others.itertuples():
        assert row.n_fixes == counts[row.flight_id] and row.first_fix == 0


def test_the_report_lists_what_was_not_read(tmp_path):
    inputs, layer, policy = write_inputs(tmp_path / "in")
    csv = inputs / "flight.csv"
    lines = csv.read_text().splitlines()
    # a contractor's row dated 9999 in the middle of the log: dropped, and said so
    fields = lines[10].split(",")
    fields[0] = "9999-12-31T00:00:00Z"
    lines.insert(11, ",".join(fields))
    csv.write_text("\n".join(lines) + "\n")
    (inputs / "notes.md").write_text("nothing to see")
    out = tmp_path / "out"
    done = run("audit", inputs, "--sites", layer, "--authorized", "sub", "--policy", policy,
               "--out", out)  # fmt: skip
    assert done.exit_code == 0, done.output
    report = (out / "report.html").read_text()
    section = report[report.index("Inputs not read whole") :]
    assert "flight.csv" in section and "1 time_out_of_range" in section
    assert "notes.md" in section and "unknown type (.md)" in section
    assert f"1 of {len(lines) - 1} rows dropped" in section
    summary = json.loads((out / "summary.json").read_text())
    assert [e["path"] for e in summary["files_skipped"]] == [str(inputs / "notes.md")]
