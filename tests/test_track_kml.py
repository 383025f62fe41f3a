from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyproj import Geod

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    LAT,
    LON,
    SPEED_M_S,
    TIME_UTC,
)
from geoexpose.tracks._kml import read_kml, sniff_kml
from geoexpose.tracks._waypoints import HEIGHT_M, HEIGHT_REF, WAYPOINT_INDEX
from geoexpose.tracks._wpml import WAYLINE_ID, read_wpml_route
from geoexpose.tracks.normalize import SEGMENT, clean_fixes

KML = "http://www.opengis.net/kml/2.2"
GX = "http://www.google.com/kml/ext/2.2"
GEOD = Geod(ellps="WGS84")
NO_TIMES = "KML LineString has no times: positions only"


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def kmz(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def gx_track(whens: list[str], coords: list[tuple[float, float, float]], mode: str = "") -> str:
    mode_xml = f"<altitudeMode>{mode}</altitudeMode>" if mode else ""
    body = "".join(f"<when>{w}</when>" for w in whens)
    body += "".join(f"<gx:coord>{x} {y} {z}</gx:coord>" for x, y, z in coords)
    return f"<gx:Track>{mode_xml}{body}</gx:Track>"


def document(*placemarks: str, prefix: str = "", gx: str = "gx") -> str:
    """A KML document; ``prefix`` names the KML namespace prefix ("" = default)."""
    k = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns{":" + prefix if prefix else ""}="{KML}" xmlns:{gx}="{GX}"'
    marks = "".join(f"<{k}Placemark>{p}</{k}Placemark>" for p in placemarks)
    return f'<?xml version="1.0"?>\n<{k}kml {xmlns}><{k}Document>{marks}</{k}Document></{k}kml>'


def test_gx_tracks_keep_every_time_and_each_track_is_a_segment(tmp_path):
    first = gx_track(
        ["2024-06-01T12:00:00Z", "2024-06-01T12:00:01.5Z", "2024-06-01T14:00:03+02:00"],
        [(8.0, 50.0, 100.0), (8.0001, 50.0, 101.0), (8.0002, 50.0, 102.0)],
        "absolute",
    )
    second = gx_track(["2024-06-01T13:00:00Z"], [(9.0, 51.0, 30.0)], "relativeToGround")
    third = gx_track(["2024-06-01T13:10:00Z"], [(9.5, 51.5, 40.0)], "relativeToGround")
    path = write(
        tmp_path / "t.kml",
        document(first, f"<gx:MultiTrack>{second}{third}</gx:MultiTrack>"),
    )
    raw = read_kml(path, time_zone=None, alt_ref=None)
    frame = raw.frame
    assert raw.format == "kml" and raw.time_basis == "utc" and raw.warnings == []
    t0 = pd.Timestamp("2024-06-01T12:00:00Z")
    expected = [t0 + pd.Timedelta(seconds=s) for s in (0, 1.5, 3, 3600, 4200)]
    assert list(frame[TIME_UTC]) == expected
    assert frame[SEGMENT].tolist() == [0, 0, 0, 1, 2]
    assert frame[LON].tolist() == [8.0, 8.0001, 8.0002, 9.0, 9.5]
    assert frame[LAT].tolist() == [50.0, 50.0, 50.0, 51.0, 51.5]
    assert frame[ALT_MSL_M].tolist()[:3] == [100.0, 101.0, 102.0]
    assert frame[ALT_MSL_M].iloc[3:].isna().all()
    assert frame[ALT_AGL_M].iloc[3:].tolist() == [30.0, 40.0]
    assert frame[ALT_AGL_M].iloc[:3].isna().all()
    assert frame[ALT_REF].tolist() == [ALT_REF_TAKEOFF] * 3 + [ALT_REF_GROUND] * 2
    fixes, dropped = clean_fixes(frame, split_gap_s=60)
    assert len(fixes) == 5 and sum(dropped.values()) == 0
    assert fixes["flight_no"].tolist() == [1, 1, 1, 2, 3]


def test_namespaces_are_matched_by_uri_not_prefix(tmp_path):
    track = gx_track(["2024-06-01T12:00:00Z"], [(8.0, 50.0, 5.0)]).replace("gx:", "g:")
    track = track.replace("<when>", "<k:when>").replace("</when>", "</k:when>")
    path = write(tmp_path / "p.kml", document(track, prefix="k", gx="g"))
    assert sniff_kml(path.read_bytes()[:4096], path)
    raw = read_kml(path)
    assert raw.frame[LON].tolist() == [8.0] and raw.frame[TIME_UTC].notna().all()
    # Same local names in a foreign namespace are not KML.
    foreign = document(track, prefix="k", gx="g").replace(KML, "http://example.com/not-kml")
    with pytest.raises(InputError, match="no track"):
        read_kml(write(tmp_path / "f.kml", foreign))


def test_naive_times_use_time_zone(tmp_path):
    path = write(
        tmp_path / "n.kml", document(gx_track(["2024-06-01T12:00:00"], [(8.0, 50.0, 0.0)]))
    )
    assert read_kml(path).time_basis == "assumed_utc"
    raw = read_kml(path, time_zone="Europe/Berlin")
    assert raw.frame[TIME_UTC].iloc[0] == pd.Timestamp("2024-06-01T10:00:00Z")


def test_when_and_coord_counts_must_match(tmp_path):
    bad = gx_track(["2024-06-01T12:00:00Z", "2024-06-01T12:00:01Z"], [(8.0, 50.0, 0.0)])
    with pytest.raises(InputError, match="2 <when> for 1 <coord>"):
        read_kml(write(tmp_path / "b.kml", document(bad)))


def airdata_like() -> str:
    home = (
        "<name>Home</name><Point><altitudeMode>absolute</altitudeMode>"
        "<coordinates>-122.5,47.5,5.0</coordinates></Point>"
    )
    line = (
        "<name>path</name><LineString><altitudeMode>absolute</altitudeMode><coordinates>\n"
        "  -122.5,47.5,5.0\n-122.5001,47.5001,7.5 -122.5002,47.5002,9.0\n"
        "</coordinates></LineString>"
    )
    return document(home, line)


def test_untimed_linestring_is_an_untimed_route(tmp_path):
    raw = read_kml(write(tmp_path / "a.kml", airdata_like()))
    frame = raw.frame
    assert len(frame) == 3  # the Home point is skipped
    assert frame[LON].tolist() == [-122.5, -122.5001, -122.5002]
    assert frame[LAT].tolist() == [47.5, 47.5001, 47.5002]
    assert frame[TIME_UTC].isna().all()
    assert frame[ALT_MSL_M].tolist() == [5.0, 7.5, 9.0]
    assert frame[ALT_AGL_M].isna().all() and (frame[ALT_REF] == ALT_REF_TAKEOFF).all()
    assert raw.route == "untimed" and raw.warnings == [] and NO_TIMES in raw.notes
    assert any("absolute" in note and "placeholder" in note for note in raw.notes)
    fixes, dropped = clean_fixes(frame, split_gap_s=60)
    assert len(fixes) == 0 and dropped["no_fix"] == 3


def test_untimed_lines_are_left_out_when_the_file_has_timed_tracks(tmp_path):
    line = "<LineString><coordinates>1,2 3,4</coordinates></LineString>"
    track = gx_track(["2024-06-01T12:00:00Z"], [(8.0, 50.0, 0.0)])
    raw = read_kml(write(tmp_path / "m.kml", document(line, track)))
    assert raw.frame[LON].tolist() == [8.0] and raw.warnings == [] and raw.route is None
    assert any("left out" in note for note in raw.notes)


@pytest.mark.parametrize(
    ("alt_ref", "agl", "msl", "ref"),
    [(None, np.nan, np.nan, ALT_REF_TAKEOFF), ("msl", np.nan, 42.0, ALT_REF_TAKEOFF),
     ("ground", 42.0, np.nan, ALT_REF_GROUND), ("takeoff", 42.0, np.nan, ALT_REF_TAKEOFF)],
)  # fmt: skip
def test_clamped_altitudes_are_ignored_unless_alt_ref_says(tmp_path, alt_ref, agl, msl, ref):
    line = "<LineString><coordinates>8,50,42 8.001,50,42</coordinates></LineString>"
    raw = read_kml(write(tmp_path / "c.kml", document(line)), alt_ref=alt_ref)
    np.testing.assert_array_equal(raw.frame[ALT_AGL_M], [agl, agl])
    np.testing.assert_array_equal(raw.frame[ALT_MSL_M], [msl, msl])
    assert (raw.frame[ALT_REF] == ref).all()
    if alt_ref is None:
        assert any("clampToGround" in note for note in raw.notes)


def test_kmz_reads_doc_kml(tmp_path):
    track = gx_track(["2024-06-01T12:00:00Z"], [(8.0, 50.0, 3.0)], "absolute")
    path = kmz(
        tmp_path / "a.kmz",
        {"files/icon.png": b"\x89PNG", "other.kml": document(), "doc.kml": document(track)},
    )
    assert sniff_kml(path.read_bytes()[:4096], path)
    raw = read_kml(path)
    assert raw.format == "kmz" and raw.frame[ALT_MSL_M].tolist() == [3.0]


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("x.kmz", None, "no .kml or .wpml"),
        ("y.kmz", b"PK\x03\x04 truncated", "broken KMZ"),
        ("z.kml", '<kml xmlns="http://www.opengis.net/kml/2.2"><Document>', "malformed KML"),
        ("w.kml", document("<Point><coordinates>1,2</coordinates></Point>"), "no track"),
    ],
)
def test_unreadable_files_raise_input_error(tmp_path, name, content, match):
    path = tmp_path / name
    if content is None:
        kmz(path, {"readme.txt": "hello"})
    else:
        write(path, content)
    with pytest.raises(InputError, match=match):
        read_kml(path)


def test_sniff(tmp_path):
    gpx = write(tmp_path / "a.gpx", '<?xml version="1.0"?><gpx version="1.1"><trk/></gpx>')
    csv = write(tmp_path / "a.csv", "lat,lon,time\n1,2,kml\n")
    plain_zip = kmz(tmp_path / "a.zip", {"a.csv": "x"})
    wpml = kmz(tmp_path / "m.zip", {"wpmz/waylines.wpml": "<kml/>"})
    utf16 = write(tmp_path / "u.kml", "\ufeff<kml></kml>".encode("utf-16-le"))
    expected = {gpx: False, csv: False, plain_zip: False, wpml: True, utf16: True}
    for path, wanted in expected.items():
        assert sniff_kml(path.read_bytes()[:4096], path) is wanted, path.name


def wpml_doc(version: str, folders: list[tuple[str, str, list[str]]]) -> str:
    ns = f"http://www.dji.com/wpmz/{version}"
    body = ""
    for mode, extra, marks in folders:
        body += f"<Folder><wpml:executeHeightMode>{mode}</wpml:executeHeightMode>{extra}"
        body += "".join(f"<Placemark>{m}</Placemark>" for m in marks) + "</Folder>"
    return f'<kml xmlns="{KML}" xmlns:wpml="{ns}"><Document>{body}</Document></kml>'


def waypoint(index: int, lon: float, lat: float, height: float, speed: float | None) -> str:
    speed_xml = "" if speed is None else f"<wpml:waypointSpeed>{speed}</wpml:waypointSpeed>"
    return (
        f"<Point><coordinates>{lon},{lat}</coordinates></Point><wpml:index>{index}</wpml:index>"
        f"<wpml:executeHeight>{height}</wpml:executeHeight>{speed_xml}"
    )


def test_wpml_waylines_any_version(tmp_path):
    doc = wpml_doc(
        "1.0.2",
        [
            (
                "WGS84",
                "<wpml:waylineId>0</wpml:waylineId><wpml:autoFlightSpeed>7</wpml:autoFlightSpeed>",
                [waypoint(1, 8.001, 50.0, 120.0, None), waypoint(0, 8.0, 50.0, 110.0, 5.0)],
            ),
            ("EGM96", "<wpml:waylineId>1</wpml:waylineId>", [waypoint(0, 9.0, 51.0, 80.0, 3.0)]),
        ],
    )
    path = kmz(tmp_path / "mission.kmz", {"wpmz/template.kml": "<kml/>", "wpmz/waylines.wpml": doc})
    raw = read_kml(path)
    assert raw.format == "dji_wpml" and raw.frame[TIME_UTC].isna().all()
    assert raw.frame[LON].tolist() == [8.0, 8.001, 9.0]  # ordered by index
    assert raw.frame[ALT_MSL_M].iloc[:2].isna().all() and raw.frame[ALT_MSL_M].iloc[2] == 80.0
    assert raw.frame[ALT_AGL_M].isna().all() and raw.frame[SEGMENT].tolist() == [0, 0, 1]
    assert any("ellipsoid" in note for note in raw.notes) and raw.route == "planned"
    assert raw.frame[SPEED_M_S].tolist() == [5.0, 7.0, 3.0]  # the waypoint's, else the line's
    route = read_wpml_route(path)
    assert route.crs == "EPSG:4326"
    assert route[WAYLINE_ID].tolist() == [0, 0, 1]
    assert route[WAYPOINT_INDEX].tolist() == [0, 1, 0]
    assert route[HEIGHT_M].tolist() == [110.0, 120.0, 80.0]
    assert route[HEIGHT_REF].tolist() == ["ellipsoid", "ellipsoid", "egm96"]
    assert route[SPEED_M_S].tolist() == [5.0, 7.0, 3.0]
    assert route.geometry.x.tolist() == [8.0, 8.001, 9.0]


def test_wpml_template_only_uses_global_height(tmp_path):
    ns = "http://www.dji.com/wpmz/1.0.6"
    mark = (
        "<Placemark><Point><coordinates>8,50</coordinates></Point><wpml:index>0</wpml:index>"
        "<wpml:height>99</wpml:height><wpml:useGlobalHeight>1</wpml:useGlobalHeight></Placemark>"
    )
    doc = (
        f'<kml xmlns="{KML}" xmlns:wpml="{ns}"><Document><Folder><wpml:waylineCoordinateSysParam>'
        "<wpml:heightMode>relativeToStartPoint</wpml:heightMode></wpml:waylineCoordinateSysParam>"
        f"<wpml:globalHeight>35</wpml:globalHeight>{mark}</Folder></Document></kml>"
    )
    path = kmz(tmp_path / "t.kmz", {"wpmz/template.kml": doc})
    raw = read_kml(path)
    assert raw.frame[ALT_AGL_M].tolist() == [35.0] and raw.frame[ALT_REF].tolist() == ["takeoff"]
    route = read_wpml_route(path)
    assert route[HEIGHT_REF].tolist() == ["takeoff"] and np.isnan(route[SPEED_M_S].iloc[0])
    with pytest.raises(InputError, match="no DJI WPML waypoint"):
        read_wpml_route(write(tmp_path / "plain.kml", airdata_like()))


# Real files (GEOEXPOSE_REALDATA)


def airdata_kml(realdata: Path) -> list[Path]:
    return sorted((realdata / "tracks" / "airdata_kml").glob("*.kml"))


def test_real_airdata_kml(realdata):
    paths = airdata_kml(realdata)
    assert len(paths) == 2
    for path in paths:
        raw = read_kml(path)
        frame = raw.frame
        assert raw.route == "untimed" and NO_TIMES in raw.notes and len(frame) > 2000
        # Near the home point on Bainbridge Island, WA (SOURCE.txt: same flights as the CSVs).
        assert frame[LAT].between(47.56, 47.59).all() and frame[LON].between(-122.64, -122.61).all()
        _, _, step = GEOD.inv(
            frame[LON].to_numpy()[:-1], frame[LAT].to_numpy()[:-1],
            frame[LON].to_numpy()[1:], frame[LAT].to_numpy()[1:],
        )  # fmt: skip
        assert step.max() < 40.0  # vertices of a thinned 10 Hz log
        msl = frame[ALT_MSL_M]
        assert msl.notna().all() and msl.between(0.0, 130.0).all()  # DJI cap 120 m + takeoff
        assert frame[ALT_AGL_M].isna().all()
        # The Home placemark says "Altitude:17 feet" / "18 feet": the first vertex is there.
        home_ft = 17 if "07-23PM" in path.name else 18
        assert abs(msl.iloc[0] / 0.3048 - home_ft) < 12
        fixes, dropped = clean_fixes(frame, split_gap_s=60)
        assert len(fixes) == 0 and dropped["no_fix"] == len(frame)


def test_real_wpml_kmz(realdata):
    path = realdata / "tracks" / "dji_wpml_kmz" / "Seed.kmz"
    assert sniff_kml(path.read_bytes()[:4096], path)
    raw = read_kml(path)
    assert raw.format == "dji_wpml" and len(raw.frame) == 2
    assert raw.frame[ALT_AGL_M].tolist() == [10.0, 10.0]
    assert (raw.frame[ALT_REF] == ALT_REF_TAKEOFF).all()
    route = read_wpml_route(path)
    assert (route[HEIGHT_REF] == ALT_REF_TAKEOFF).all() and (route[SPEED_M_S] == 15.0).all()
    x, y = route.geometry.x.to_numpy(), route.geometry.y.to_numpy()
    assert np.allclose(y, 49.715, atol=0.002) and np.allclose(x, -101.1484, atol=0.002)
    _, _, length = GEOD.inv(x[0], y[0], x[1], y[1])
    assert abs(length - 121.03) < 1.0  # wpml:distance of the wayline


def printable_mutations(data: bytes, seed: int, count: int):
    """Flips to characters that keep XML well-formed more often than random bytes."""
    alphabet = np.frombuffer(b'0123456789.,-+ :<>/"=TZeEnaix\n', dtype=np.uint8)
    rng = np.random.default_rng(seed)
    for _ in range(count):
        blob = np.frombuffer(data, dtype=np.uint8).copy()
        at = rng.integers(0, len(blob), size=int(rng.integers(1, 8)))
        blob[at] = alphabet[rng.integers(0, len(alphabet), size=len(at))]
        yield blob.tobytes()


def test_mutated_xml_content_reads_or_raises_input_error(tmp_path):
    coords = [(8.0 + i / 1e4, 50.0, float(i)) for i in range(10)]
    whens = [f"2024-06-01T12:00:{i:02d}Z" for i in range(10)]
    line = "<LineString><coordinates>1,2,3 4,5,6</coordinates></LineString>"
    track = document(f"<gx:MultiTrack>{gx_track(whens, coords, 'absolute')}</gx:MultiTrack>", line)
    marks = [waypoint(i, 8.0 + i / 1e3, 50.0, 20.0, 4.0) for i in range(3)]
    mission = wpml_doc("1.0.6", [("relativeToStartPoint", "", marks)])
    outcomes = {"read": 0, "error": 0}
    for number, base in enumerate((track.encode(), mission.encode())):
        for k, blob in enumerate(printable_mutations(base, seed=number, count=300)):
            path = tmp_path / f"x{number}_{k}.kmz"
            kmz(path, {"wpmz/waylines.wpml" if number else "doc.kml": blob})
            try:
                clean_fixes(read_kml(path).frame, split_gap_s=60)
                if number:
                    read_wpml_route(path)
                outcomes["read"] += 1
            except InputError:
                outcomes["error"] += 1
    assert outcomes["read"] > 0 and outcomes["error"] > 0


def test_odd_when_text_reads_or_raises_input_error(tmp_path):
    whens = ["2024-06-01T12:00:00Z", "2024-06-01T12:00.08Z"]  # a TypeError inside pandas
    path = write(tmp_path / "o.kml", document(gx_track(whens, [(8, 50, 0), (8, 50.001, 0)])))
    try:
        raw = read_kml(path)
    except InputError as exc:
        assert "when" in str(exc)
    else:
        assert raw.frame[TIME_UTC].iloc[0] == pd.Timestamp(whens[0])


@pytest.mark.parametrize(("text", "expected"), [("7", 7), ("inf", 0), ("2.5", 0), ("x", 0)])
def test_wayline_id_from_the_file_or_its_order(tmp_path, text, expected):
    extra = f"<wpml:waylineId>{text}</wpml:waylineId>"
    doc = wpml_doc("1.0.6", [("EGM96", extra, [waypoint(0, 8.0, 50.0, 5.0, None)])])
    route = read_wpml_route(kmz(tmp_path / "w.kmz", {"wpmz/waylines.wpml": doc}))
    assert route[WAYLINE_ID].tolist() == [expected] and np.isnan(route[SPEED_M_S].iloc[0])
