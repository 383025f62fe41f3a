from __future__ import annotations

import csv
import itertools
import json
import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    ALT_REF,
    ALT_REF_GROUND,
    ALT_REF_TAKEOFF,
    FIX_COLUMNS,
    FLIGHT_ID,
    SOURCE,
    TIME_DTYPE,
    TIME_UTC,
)
from geoexpose.tracks import (
    FORMATS,
    TRACK_FORMATS,
    TRACK_SUFFIXES,
    read_track_file,
    sniff_format,
    track_format,
)
from geoexpose.tracks.read import read_tracks

FT = 0.3048
MPH = 1609.344 / 3600
T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_csv(path: Path, seconds, *, lat=None, header="lat,lon,time,alt") -> Path:
    """A generic CSV: one fix per entry of ``seconds``, 1e-5 degrees apart."""
    lines = [header]
    for i, s in enumerate(seconds):
        y = 50 + i * 1e-5 if lat is None else lat[i]
        lines.append(f"{y},8.0,{iso(s)},{10 + i}")
    return write(path, "\n".join(lines) + "\n")


def entry(fixes, index: int = 0) -> dict:
    return fixes.attrs["geoexpose"]["files"][index]


def at(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(T0 + timedelta(seconds=seconds))


# --- AirData CSV -------------------------------------------------------------------

AIRDATA_HEADER = (
    "time(millisecond),datetime(utc),latitude,longitude,height_above_takeoff(feet),"
    "height_above_ground_at_drone_location(feet),altitude_above_seaLevel(feet),speed(mph),"
    " compass_heading(degrees),isPhoto,isVideo,gimbal_heading(degrees),gimbal_pitch(degrees),"
    "message"
)
AIRDATA_ROWS = [
    "0,2024-06-01 12:00:00,0,0,0,,100,0, 10.0,0,0,10,0,GPS signal weak",
    "100,2024-06-01 12:00:00,50.0,8.0,10,12,110,10, 90.5,0,1,91,-30,",
    "200,2024-06-01 12:00:00,50.00001,8.0,20,,120,10, 91.0,1,1,92,-45,",
    "1300,2024-06-01 12:00:01,50.00002,8.0,20,25,120,0, 92.0,0,0,93,-90,",
]


def test_airdata_csv(tmp_path):
    path = write(tmp_path / "flight.csv", AIRDATA_HEADER + "\n" + "\n".join(AIRDATA_ROWS) + "\n")
    fixes = read_tracks(path)
    info = entry(fixes)
    assert info["format"] == "airdata_csv"
    assert (info["rows_read"], info["rows_kept"], info["dropped"]["null_island"]) == (4, 3, 1)
    # Time = first datetime(utc) + time(millisecond) offsets.
    assert fixes[TIME_UTC].tolist() == [at(0.1), at(0.2), at(1.3)]
    # Height above ground where AirData gives it, else above takeoff (row by row).
    np.testing.assert_allclose(fixes[ALT_AGL_M], [12 * FT, 20 * FT, 25 * FT])
    assert fixes[ALT_REF].tolist() == [ALT_REF_GROUND, ALT_REF_TAKEOFF, ALT_REF_GROUND]
    np.testing.assert_allclose(fixes[ALT_MSL_M], [110 * FT, 120 * FT, 120 * FT])
    np.testing.assert_allclose(fixes["speed_m_s"], [10 * MPH, 10 * MPH, 0])
    np.testing.assert_allclose(fixes["yaw_deg"], [90.5, 91.0, 92.0])
    np.testing.assert_allclose(fixes["gimbal_yaw_deg"], [91, 92, 93])
    np.testing.assert_allclose(fixes["gimbal_pitch_deg"], [-30, -45, -90])
    assert fixes["is_photo"].tolist() == [False, True, False]
    assert fixes["is_video"].tolist() == [True, True, False]
    assert fixes.geometry.y.tolist() == [50.0, 50.00001, 50.00002]


def test_airdata_in_metres_reads_the_units_from_the_header(tmp_path):
    header = AIRDATA_HEADER.replace("(feet)", "(meters)").replace("(mph)", "(kmh)")
    path = write(tmp_path / "metric.csv", header + "\n" + AIRDATA_ROWS[1] + "\n")
    fixes = read_tracks(path)
    assert fixes[ALT_AGL_M].tolist() == [12.0]
    assert fixes[ALT_MSL_M].tolist() == [110.0]
    assert fixes["speed_m_s"].tolist() == pytest.approx([10 / 3.6])


# --- generic CSV -------------------------------------------------------------------


def test_generic_csv_with_aliases_and_units(tmp_path):
    text = (
        "Latitude, Lng ,Time UTC,Height [ft],alt_msl_m,Speed (km/h)\n"
        f"50.0,8.0,{iso(0)},100,300,36\n"
        f"50.001,8.001,{iso(1)},200,330,72\n"
    )
    fixes = read_tracks(write(tmp_path / "log.csv", text))
    assert entry(fixes)["format"] == "csv"
    assert fixes[TIME_UTC].tolist() == [at(0), at(1)]
    np.testing.assert_allclose(fixes[ALT_AGL_M], [100 * FT, 200 * FT])
    assert fixes[ALT_REF].tolist() == [ALT_REF_TAKEOFF] * 2
    assert fixes[ALT_MSL_M].tolist() == [300, 330]
    np.testing.assert_allclose(fixes["speed_m_s"], [10, 20])
    assert fixes.geometry.x.tolist() == [8.0, 8.001]


def test_columns_names_the_fields(tmp_path):
    text = f"a,b,c,d\n{iso(0)},50.0,8.0,12\n{iso(1)},50.001,8.0,13\n"
    path = write(tmp_path / "odd.csv", text)
    fixes = read_tracks(path, columns={"time": "a", "lat": "b", "lon": "c", "alt": "d"})
    assert fixes.geometry.y.tolist() == [50.0, 50.001]
    assert fixes[ALT_AGL_M].tolist() == [12, 13]
    with pytest.warns(InputWarning, match=r"odd\.csv: no column 'zz' \(columns\['lat'\]\)"):
        read_tracks(path, columns={"time": "a", "lat": "zz", "lon": "c"})


@pytest.mark.parametrize(
    ("alt_ref", "agl", "msl", "ref"),
    [
        ("msl", [np.nan, np.nan], [10.0, 11.0], ALT_REF_TAKEOFF),
        ("ground", [10.0, 11.0], [np.nan, np.nan], ALT_REF_GROUND),
        ("takeoff", [10.0, 11.0], [np.nan, np.nan], ALT_REF_TAKEOFF),
    ],
)
def test_alt_ref_says_what_a_generic_altitude_is(tmp_path, alt_ref, agl, msl, ref):
    fixes = read_tracks(make_csv(tmp_path / "t.csv", [0, 1]), alt_ref=alt_ref)
    np.testing.assert_array_equal(fixes[ALT_AGL_M], agl)
    np.testing.assert_array_equal(fixes[ALT_MSL_M], msl)
    assert set(fixes[ALT_REF]) == {ref}


def test_epoch_times_and_decimal_commas(tmp_path):
    epoch_ms = int(T0.timestamp() * 1000)
    text = f"latitude;longitude;timestamp\n50,5;8,25;{epoch_ms}\n50,6;8,25;{epoch_ms + 1500}\n"
    fixes = read_tracks(write(tmp_path / "semi.csv", text))
    assert fixes[TIME_UTC].tolist() == [at(0), at(1.5)]
    assert fixes.geometry.y.tolist() == [50.5, 50.6]


def test_naive_times_use_time_zone_or_warn(tmp_path):
    # Separate date and time columns, local wall time without offset.
    text = "lat,lon,date,time\n50,8,2024-06-01,14:00:00\n50,8.0001,2024-06-01,14:00:01\n"
    path = write(tmp_path / "local.csv", text)
    fixes = read_tracks(path, time_zone="Europe/Berlin")  # CEST = UTC+2
    assert fixes[TIME_UTC].tolist() == [at(0), at(1)]
    assert entry(fixes)["time_basis"] == "Europe/Berlin"
    with pytest.warns(InputWarning, match=r"local\.csv: times have no time zone; taken as UTC"):
        fixes = read_tracks(path)
    assert fixes[TIME_UTC].iloc[0] == at(2 * 3600)
    assert entry(fixes)["time_basis"] == "assumed_utc"


def test_a_flight_id_column_makes_separate_flights(tmp_path):
    text = (
        "flight_id,lat,lon,time\n"
        f"A,50,8,{iso(0)}\nA,50,8.0001,{iso(1)}\nB,51,8,{iso(0.5)}\nB,51,8.0001,{iso(1.5)}\n"
    )
    fixes = read_tracks(write(tmp_path / "two.csv", text))
    assert fixes.groupby(FLIGHT_ID).size().to_dict() == {"two.csv#1": 2, "two.csv#2": 2}
    assert entry(fixes)["dropped"]["time_backwards"] == 0


# --- drop reasons ------------------------------------------------------------------


def test_every_drop_reason_is_counted(tmp_path):
    text = (
        "lat,lon,time\n"
        f"50.0,8.0,{iso(0)}\n"
        f",8.0,{iso(1)}\n"  # no_fix
        f"0,0,{iso(2)}\n"  # null_island
        f"95,8.0,{iso(3)}\n"  # out_of_range
        f"50.0,8.0,{iso(4)}\n"
        f"50.0,8.1,{iso(4)}\n"  # duplicate_time
        f"50.0,8.0,{iso(3.5)}\n"  # time_backwards
        f"50.0,8.0,{iso(5)},extra\n"  # bad_row
        f"50.0,8.0,{iso(6)}\n"
        "50.0,8.0"  # truncated_row
    )
    fixes = read_tracks(write(tmp_path / "dirty.csv", text))
    info = entry(fixes)
    assert info["dropped"] == {
        "no_fix": 1,
        "null_island": 1,
        "out_of_range": 1,
        "time_out_of_range": 0,
        "time_ahead": 0,
        "duplicate_time": 1,
        "time_backwards": 1,
        "gps_jump": 0,
        "truncated_row": 1,
        "bad_row": 1,
        "untimed": 0,
    }
    assert info["rows_read"] == 10
    assert info["rows_kept"] == len(fixes) == 3
    assert info["rows_read"] == info["rows_kept"] + sum(info["dropped"].values())
    assert fixes[TIME_UTC].tolist() == [at(0), at(4), at(6)]
    assert any("line 11" in note for note in info["notes"])  # the truncated line
    assert any("line 9" in note for note in info["notes"])  # the row with an extra field


def test_split_gap(tmp_path):
    path = make_csv(tmp_path / "gaps.csv", [0, 1, 50, 51, 200, 201])
    assert entry(read_tracks(path))["flights"] == ["gaps.csv#1", "gaps.csv#2"]
    assert len(entry(read_tracks(path, split_gap_s=10))["flights"]) == 3
    assert len(entry(read_tracks(path, split_gap_s=float("inf")))["flights"]) == 1


# --- GPX and GeoJSON ---------------------------------------------------------------


def gpx(version: str, tracks: list[list[tuple[float, float, float | None, str]]]) -> str:
    ns = f"http://www.topografix.com/GPX/{version.replace('.', '/')}"
    out = [f'<?xml version="1.0"?>\n<gpx version="{version}" creator="test" xmlns="{ns}">']
    for points in tracks:
        out.append("<trk><trkseg>")
        for lat, lon, ele, when in points:
            ele_tag = "" if ele is None else f"<ele>{ele}</ele>"
            out.append(f'<trkpt lat="{lat}" lon="{lon}">{ele_tag}<time>{when}</time></trkpt>')
        out.append("</trkseg></trk>")
    return "\n".join([*out, "</gpx>"])


def test_gpx_tracks_are_flights_and_ele_is_msl(tmp_path):
    text = gpx(
        "1.1",
        [
            [(50.0, 8.0, 120.5, iso(0)), (50.001, 8.0, 121.5, iso(1))],
            [(50.0, 8.0, None, iso(0.5)), (0, 0, 5, iso(2))],
        ],
    )
    fixes = read_tracks(write(tmp_path / "t.gpx", text))
    info = entry(fixes)
    assert (info["format"], info["rows_read"], info["rows_kept"]) == ("gpx", 4, 3)
    assert info["dropped"]["null_island"] == 1
    assert info["flights"] == ["t.gpx#1", "t.gpx#2"]
    one = fixes[fixes[FLIGHT_ID] == "t.gpx#1"]
    assert one[ALT_MSL_M].tolist() == [120.5, 121.5]
    assert one[ALT_AGL_M].isna().all()
    assert one[TIME_UTC].tolist() == [at(0), at(1)]
    fixes = read_tracks(tmp_path / "t.gpx", alt_ref="takeoff")
    assert fixes[ALT_AGL_M].iloc[0] == 120.5


def test_gpx_1_0_times_without_zone_are_utc(tmp_path):
    naive = (T0 + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S")
    text = gpx("1.0", [[(50.0, 8.0, 1, naive), (50.0, 8.001, 1, iso(4))]])
    fixes = read_tracks(write(tmp_path / "old.gpx", text))
    assert fixes[TIME_UTC].tolist() == [at(3), at(4)]
    assert entry(fixes)["time_basis"] == "utc"


def geojson(features: list[dict]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": features})


def test_geojson_points_with_time_property(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"timestamp": iso(i), "alt_agl": 30 + i},
            "geometry": {"type": "Point", "coordinates": [8.0, 50 + i / 1000, 400]},
        }
        for i in range(3)
    ]
    fixes = read_tracks(write(tmp_path / "points.json", geojson(features)))
    assert entry(fixes)["format"] == "geojson"
    assert fixes[TIME_UTC].tolist() == [at(0), at(1), at(2)]
    assert fixes[ALT_AGL_M].tolist() == [30, 31, 32]
    assert set(fixes[ALT_REF]) == {ALT_REF_GROUND}
    assert fixes.geometry.y.tolist() == [50.0, 50.001, 50.002]


def test_geojson_lines_with_coord_times(tmp_path):
    features = [
        {
            "type": "Feature",
            "properties": {"coordTimes": [iso(0), iso(1)]},
            "geometry": {"type": "LineString", "coordinates": [[8, 50, 100], [8, 50.001, 101]]},
        },
        {
            "type": "Feature",
            "properties": {"coordTimes": [[iso(10), iso(11)], [iso(12), iso(13)]]},
            "geometry": {
                "type": "MultiLineString",
                "coordinates": [[[9, 50], [9, 50.001]], [[9, 50.002], [9, 50.003]]],
            },
        },
    ]
    fixes = read_tracks(write(tmp_path / "lines.geojson", geojson(features)))
    assert entry(fixes)["flights"] == ["lines.geojson#1", "lines.geojson#2"]
    assert fixes[TIME_UTC].tolist() == [at(0), at(1), at(10), at(11), at(12), at(13)]
    assert fixes[ALT_MSL_M].tolist()[:2] == [100, 101]
    assert fixes.geometry.x.tolist() == [8, 8, 9, 9, 9, 9]


# --- bad inputs --------------------------------------------------------------------

POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
BAD_INPUTS = {
    "empty.csv": (b"", "empty file"),
    "blank.csv": (b"\n\n  \n", "empty file"),
    "junk.csv": (bytes(range(256)) * 8, "binary data"),
    "junk_no_nul.csv": (bytes(range(1, 256)) * 8, "binary data"),
    "wrong.csv": (b"a,b,c\n1,2,3\n", "no lat column"),
    "no_time.csv": (b"lat,lon,alt\n50,8,1\n", "no time column"),
    "bad_time.csv": (b"lat,lon,time\n50,8,soon\n", "'time': no value reads as a date-time"),
    "elapsed.csv": (b"lat,lon,time\n50,8,0.1\n50,8,0.2\n", "too small for dates"),
    "unit.csv": (b"lat,lon,time,alt(furlong)\n50,8,2024-06-01T12:00:00Z,1\n", "unknown unit"),
    "quote.csv": (
        b'lat,lon,time,m\n50,8,2024-06-01T12:00:00Z,"a\n50,8,x,b\n',
        "not a readable CSV",
    ),
    "cut.gpx": (gpx("1.1", [[(50, 8, 1, iso(0))]])[:-12].encode(), "not a readable GPX"),
    "no_points.gpx": (gpx("1.1", []).encode(), "no track or route points"),
    "route.kml": (b"<?xml version='1.0'?><kml></kml>", "no track in the KML"),
    "shapes.geojson": (
        geojson([{"type": "Feature", "properties": {}, "geometry": POLYGON}]).encode(),
        "no track in the layer",
    ),
    "miscount.geojson": (
        geojson(
            [
                {
                    "type": "Feature",
                    "properties": {"coordTimes": [iso(0)]},
                    "geometry": {"type": "LineString", "coordinates": [[8, 50], [8, 51]]},
                }
            ]
        ).encode(),
        "feature 0: 1 values in 'coordTimes' for 2 vertices",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_skipped_with_a_one_line_warning(tmp_path, name):
    content, reason = BAD_INPUTS[name]
    bad = write(tmp_path / name, content)
    good = make_csv(tmp_path / "good.csv", [0, 1])
    with pytest.warns(InputWarning) as caught:
        fixes = read_tracks([bad, good])
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith(f"{bad}: ")
    assert reason in messages[0]
    assert "\n" not in messages[0]
    info = entry(fixes)
    assert (info["status"], info["rows_kept"], info["flights"]) == ("skipped", 0, [])
    assert reason in info["reason"]
    assert entry(fixes, 1)["status"] == "read"
    assert set(fixes[SOURCE]) == {str(good)}  # the rest goes on


@pytest.mark.parametrize("name", ["empty.csv", "wrong.csv", "cut.gpx"])
def test_strict_raises_with_the_file_named(tmp_path, name):
    content, reason = BAD_INPUTS[name]
    bad = write(tmp_path / name, content)
    with pytest.raises(InputError, match=rf"^{re.escape(str(bad))}: .*{re.escape(reason)}"):
        read_tracks([bad], strict=True)


def test_missing_path_is_skipped(tmp_path):
    with pytest.warns(InputWarning, match="no such file"):
        fixes = read_tracks(tmp_path / "absent.csv")
    assert entry(fixes)["status"] == "skipped"
    assert len(fixes) == 0


def test_non_utf8_text_is_read(tmp_path):
    text = f"lat,lon,time,message\n50,8,{iso(0)},Café\n50,8.001,{iso(1)},Grüße \x81\n"
    fixes = read_tracks(write(tmp_path / "latin.csv", text.encode("latin-1")))
    info = entry(fixes)
    assert info["rows_kept"] == 2
    assert info["notes"] == ["not UTF-8; text decoded as latin-1"]
    utf16 = write(tmp_path / "utf16.csv", ("\ufeff" + text).encode("utf-16-le"))
    assert len(read_tracks(utf16)) == 2


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"format": "shapefile"}, "format='shapefile'"),
        ({"alt_ref": "sea"}, "alt_ref='sea'"),
        ({"time_zone": "Mars/Olympus"}, "'Mars/Olympus'"),
        ({"split_gap_s": 0}, "split_gap_s=0"),
        ({"columns": {"latitude": "y"}}, "keys must be among"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path, option, match):
    with pytest.raises(UsageError, match=match):
        read_tracks(make_csv(tmp_path / "t.csv", [0]), **option)


# --- the table of formats ----------------------------------------------------------


def test_format_names_and_folder_suffixes_come_from_the_table():
    assert FORMATS == (
        "auto", "airdata_csv", "csv", "gpx", "geojson", "vector", "kml", "remote_id",
        "dji_srt", "dji_txt", "ardupilot_bin", "mavlink_tlog", "px4_ulog",
    )  # fmt: skip
    assert ("auto", *(f.name for f in TRACK_FORMATS)) == FORMATS
    assert sorted(TRACK_SUFFIXES) == sorted(
        [".csv", ".gpx", ".geojson", ".json", ".kml", ".kmz", ".srt", ".pcap", ".pcapng",
         ".txt", ".bin", ".tlog", ".ulg"]
    )  # fmt: skip
    assert len(set(TRACK_SUFFIXES)) == len(TRACK_SUFFIXES)
    # .txt is a DJI flight record's ending and a README's: told by content only
    assert [f.name for f in TRACK_FORMATS if f.by_content] == ["dji_txt"]
    assert track_format("kml").suffixes == (".kml", ".kmz")
    with pytest.raises(UsageError, match="format='shapefile': expected one of auto, airdata_csv"):
        track_format("shapefile")


SNIFFED = {
    "t.csv": (b"lat,lon,time\n50,8,2024-06-01T12:00:00Z\n", "csv"),
    "t.gpx": (b"\xef\xbb\xbf<?xml version='1.0'?>\n<gpx version='1.1'></gpx>", "gpx"),
    "t.json": (b'  {"type": "FeatureCollection"}', "geojson"),
    "t.gpkg": (b"SQLite format 3\x00" + bytes(64), "vector"),
    "t.shp": (bytes(100), "vector"),
    "t.kml": (b"<?xml version='1.0'?><kml xmlns='http://www.opengis.net/kml/2.2'/>", "kml"),
    "t.SRT": (b"1\n00:00:00,000 --> 00:00:00,033\nframe\n", "dji_srt"),
    "t.dat": (bytes(range(256)), "csv"),  # the CSV reader refuses binary data
}


@pytest.mark.parametrize("name", sorted(SNIFFED))
def test_sniff_format_tells_a_file_from_its_content(tmp_path, name):
    content, expected = SNIFFED[name]
    assert sniff_format(write(tmp_path / name, content)) == expected


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.gpx", b" \r\n\t", "empty file"),
        ("k.xml", b"<?xml version='1.0'?><kml:Document/>", "malformed KML"),
        ("o.xml", b"<?xml version='1.0'?><svg/>", "XML that is neither GPX nor KML"),
        ("z.zip", b"PK\x03\x04" + bytes(40), "zip archive without a .kml or .wpml file"),
    ],
)
def test_sniff_format_refuses_what_no_format_reads(tmp_path, name, content, message):
    with pytest.raises(InputError, match=message):
        sniff_format(write(tmp_path / name, content))


def test_read_track_file_by_sniffed_or_named_format(tmp_path):
    path = make_csv(tmp_path / "t.csv", [0, 1, 2])
    raw = read_track_file(path)
    assert raw.format == "csv" and len(raw.frame) == 3 and raw.route is None
    assert read_track_file(path, format="csv").format == "csv"
    with pytest.raises(InputError, match="not an AirData CSV"):
        read_track_file(path, format="airdata_csv")
    with pytest.raises(InputError, match="no such file or folder"):
        read_track_file(tmp_path / "missing.csv")
    with pytest.raises(UsageError, match="format='shapefile'"):
        read_track_file(path, format="shapefile")


# --- output ------------------------------------------------------------------------


def test_output_schema_and_order(tmp_path):
    make_csv(tmp_path / "b" / "track.csv", [5, 3.0, 6])
    make_csv(tmp_path / "a" / "track.csv", [0, 1, 100])
    write(tmp_path / "a" / "notes.txt", "not a track")
    make_csv(tmp_path / ".hidden" / "x.csv", [0])
    fixes = read_tracks(tmp_path)
    assert list(fixes.columns[: len(FIX_COLUMNS)]) == FIX_COLUMNS
    assert str(fixes[TIME_UTC].dtype) == TIME_DTYPE
    assert fixes.crs.to_epsg() == 4326
    assert isinstance(fixes.index, pd.RangeIndex)
    assert all(shapely.get_type_id(fixes.geometry.array) == 0)
    assert [e["path"] for e in fixes.attrs["geoexpose"]["files"]] == [
        str(tmp_path / "a" / "track.csv"),
        str(tmp_path / "b" / "track.csv"),
    ]
    ids = fixes[FLIGHT_ID].tolist()
    assert ids == sorted(ids)
    assert sorted(set(ids)) == ["a/track.csv#1", "a/track.csv#2", "b/track.csv#1"]
    assert fixes.groupby(FLIGHT_ID)[SOURCE].nunique().eq(1).all()
    for _, flight in fixes.groupby(FLIGHT_ID):
        assert flight[TIME_UTC].is_monotonic_increasing


def test_nothing_to_read_gives_an_empty_frame(tmp_path):
    fixes = read_tracks([])
    assert list(fixes.columns[: len(FIX_COLUMNS)]) == FIX_COLUMNS
    assert len(fixes) == 0
    assert str(fixes[TIME_UTC].dtype) == TIME_DTYPE
    assert fixes.crs.to_epsg() == 4326
    assert fixes.attrs["geoexpose"] == {"files": []}


def test_inputs_are_not_modified(tmp_path):
    path = write(tmp_path / "flight.csv", AIRDATA_HEADER + "\n" + "\n".join(AIRDATA_ROWS))
    before = path.read_bytes()
    read_tracks(path)
    assert path.read_bytes() == before


# --- real files (GEOEXPOSE_REALDATA) -----------------------------------------------

MINI2 = "tracks/airdata_csv/Sep-5th-2021-07-23PM-Flight-Airdata.csv"
AIR2S = "tracks/airdata_csv/Sep-5th-2021-07-48PM-Flight-Airdata.csv"
MINI2_GPX = "tracks/airdata_gpx/Sep-5th-2021-07-23PM-Flight-Airdata.gpx"
TXTLOG = "tracks/txtlogtocsv_csv/test_drone_log.csv"


def csv_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding=encoding) as handle:
        rows = list(csv.reader(handle))
    return [name.strip() for name in rows[0]], rows[1:]


@pytest.mark.realdata
def test_real_airdata_mini2_keeps_every_fix_in_one_flight(realdata):
    path = realdata / MINI2
    header, rows = csv_rows(path)
    ms = np.array([int(r[header.index("time(millisecond)")]) for r in rows])
    steps_s = np.diff(ms) / 1000
    repeats = int(np.sum(steps_s == 0))
    gaps = steps_s[steps_s > 20]
    assert (len(rows), repeats, len(gaps)) == (11609, 1, 3)  # the file as documented
    assert gaps.max() < 60

    start = time.perf_counter()
    fixes = read_tracks(path)
    elapsed = time.perf_counter() - start
    info = entry(fixes)
    assert info["rows_read"] == len(rows)
    assert info["rows_kept"] == len(fixes) == len(rows) - repeats
    assert info["dropped"]["duplicate_time"] == repeats
    assert sum(info["dropped"].values()) == repeats
    assert info["flights"] == [f"{path.name}#1"]  # the 27-35 s gaps do not split it
    assert elapsed < 1.0

    first = datetime.strptime(rows[0][header.index("datetime(utc)")], "%Y-%m-%d %H:%M:%S")
    first = first.replace(tzinfo=UTC)
    assert fixes[TIME_UTC].iloc[0] == pd.Timestamp(first)
    assert fixes[TIME_UTC].iloc[-1] == pd.Timestamp(first + timedelta(milliseconds=int(ms[-1])))
    msl_ft = float(rows[0][header.index("altitude_above_seaLevel(feet)")])
    assert fixes[ALT_MSL_M].iloc[0] == pytest.approx(msl_ft * FT)
    assert set(fixes[ALT_REF]) == {ALT_REF_GROUND}
    photos = sum(r[header.index("isPhoto")] == "1" for r in rows)
    assert int(fixes["is_photo"].sum()) == photos


@pytest.mark.realdata
def test_real_airdata_air2s_drops_the_rows_at_null_island(realdata):
    path = realdata / AIR2S
    header, rows = csv_rows(path)
    lat, lon = header.index("latitude"), header.index("longitude")
    zeros = sum(float(r[lat]) == 0 and float(r[lon]) == 0 for r in rows)
    assert zeros == 116
    fixes = read_tracks(path)
    info = entry(fixes)
    assert info["dropped"]["null_island"] == zeros
    assert info["rows_kept"] == len(rows) - zeros
    assert sum(info["dropped"].values()) == zeros
    assert len(info["flights"]) == 1
    assert (fixes.geometry.y != 0).all()


def gpx_points(path: Path) -> list[tuple[float, float, str]]:
    points = []
    for _, element in ET.iterparse(path):
        if element.tag.endswith("}trkpt"):
            when = next(child.text for child in element if child.tag.endswith("}time"))
            points.append((float(element.get("lat")), float(element.get("lon")), when))
            element.clear()
    return points


@pytest.mark.realdata
def test_real_airdata_gpx(realdata):
    path = realdata / MINI2_GPX
    points = gpx_points(path)
    assert len(points) == 10941
    fixes = read_tracks(path)
    info = entry(fixes)
    assert (info["format"], info["rows_read"], info["rows_kept"]) == ("gpx", 10941, 10941)
    assert info["flights"] == [f"{path.name}#1"]
    # a drone app's GPX starting on the ground: <ele> above sea level, and above take-off
    assert fixes[ALT_MSL_M].notna().all()
    assert (fixes[ALT_AGL_M] - (fixes[ALT_MSL_M] - fixes[ALT_MSL_M].iloc[0])).abs().max() < 1e-9
    assert (fixes[ALT_REF] == "takeoff").all()
    lat, lon, when = points[0]
    assert (fixes.geometry.y.iloc[0], fixes.geometry.x.iloc[0]) == (lat, lon)
    assert fixes[TIME_UTC].iloc[0] == pd.Timestamp(when)


@pytest.mark.realdata
def test_real_csv_and_gpx_of_one_flight_agree(realdata):
    fixes = read_tracks([realdata / MINI2, realdata / MINI2_GPX], duplicates="keep")
    assert fixes[FLIGHT_ID].nunique() == 2
    by_source = dict(tuple(fixes.groupby(SOURCE)))
    both = by_source[str(realdata / MINI2)].merge(
        by_source[str(realdata / MINI2_GPX)], on=TIME_UTC, suffixes=("_csv", "_gpx")
    )
    assert len(both) > 10000
    _, _, metres = Geod(ellps="WGS84").inv(
        both["geometry_csv"].x,
        both["geometry_csv"].y,
        both["geometry_gpx"].x,
        both["geometry_gpx"].y,
    )
    assert np.median(metres) < 1.0
    assert np.median(np.abs(both["alt_msl_m_csv"] - both["alt_msl_m_gpx"])) < 0.01


@pytest.mark.realdata
def test_real_txtlog_csv_latin1_local_times(realdata):
    path = realdata / TXTLOG
    header, rows = csv_rows(path, encoding="latin-1")
    when = [r[header.index("CUSTOM.updateTime")] for r in rows]
    repeats = sum(a == b for a, b in itertools.pairwise(when))
    fixes = read_tracks(path, time_zone="Europe/Copenhagen")
    info = entry(fixes)
    assert info["rows_read"] == len(rows) == 2437
    assert info["dropped"]["duplicate_time"] == repeats == 145
    assert info["rows_kept"] == len(rows) - repeats
    assert "text decoded as" in info["notes"][0]
    local = datetime.strptime(when[0], "%Y/%m/%d %H:%M:%S.%f").replace(
        tzinfo=ZoneInfo("Europe/Copenhagen")
    )
    assert fixes[TIME_UTC].iloc[0] == pd.Timestamp(local.astimezone(UTC))
    np.testing.assert_allclose(
        fixes[ALT_AGL_M].iloc[:3], [float(r[header.index("OSD.height [m]")]) for r in rows[:3]]
    )
    with pytest.warns(InputWarning, match="times have no time zone"):
        read_tracks(path)


# --- routes: positions without times ------------------------------------------------

UNTIMED_KML = (
    '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><LineString>'
    "<altitudeMode>absolute</altitudeMode><coordinates>"
    "8.0,50.0,100 8.001,50.001,110 0,0,0 8.002,50.002,120"
    "</coordinates></LineString></Placemark></Document></kml>"
)
MISSION = (
    "latitude,longitude,altitude(ft),heading(deg),curvesize(ft),altitudemode,speed(m/s)\n"
    "51.5,-0.1,100,0,0,0,5\n51.501,-0.1,200,0,0,1,0\n"
)
GPX_ROUTE = (
    '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    '<rte><rtept lat="45.0" lon="7.0"><ele>300</ele></rtept>'
    '<rtept lat="45.001" lon="7.001"><ele>310</ele></rtept></rte></gpx>'
)
GPX_UNTIMED = (
    '<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1">'
    '<trk><trkseg><trkpt lat="46.0" lon="6.0"><ele>5</ele></trkpt>'
    '<trkpt lat="46.001" lon="6.0"><ele>6</ele></trkpt></trkseg></trk></gpx>'
)
LINE = {"type": "LineString", "coordinates": [[9, 47, 30], [9.001, 47, 31]]}
UNTIMED_GEOJSON = geojson([{"type": "Feature", "properties": {}, "geometry": LINE}])


def route_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    write(folder / "line.kml", UNTIMED_KML)
    write(folder / "mission.csv", MISSION)
    write(folder / "plan.gpx", GPX_ROUTE)
    write(folder / "notime.gpx", GPX_UNTIMED)
    write(folder / "lines.geojson", UNTIMED_GEOJSON)
    make_csv(folder / "timed.csv", [0, 1, 2])
    return folder


def test_files_without_times_are_reported_as_routes_not_fixes(tmp_path):
    folder = route_folder(tmp_path)
    with pytest.warns(InputWarning) as caught:
        fixes = read_tracks(folder)
    assert set(fixes[SOURCE]) == {str(folder / "timed.csv")}
    entries = {Path(e["path"]).name: e for e in fixes.attrs["geoexpose"]["files"]}
    messages = [str(w.message) for w in caught]
    assert len(messages) == 5 and all("\n" not in m for m in messages)
    for name in ("line.kml", "mission.csv", "plan.gpx", "notime.gpx", "lines.geojson"):
        info = entries[name]
        assert info["status"] == "route" and info["rows_kept"] == 0
        assert info["rows_read"] == sum(info["dropped"].values())
        assert sum(f"{folder / name}: " in m and "gx.read_routes" in m for m in messages) == 1
    line = entries["line.kml"]
    assert line["dropped"]["untimed"] == 3 and line["dropped"]["null_island"] == 1
    assert line["route"] == {
        "kind": "untimed",
        "routes": 1,
        "positions": 3,
        "bounds_lonlat": [8.0, 50.0, 8.002, 50.002],
        "alt_msl_m": [100.0, 120.0],
    }
    assert "planned route (Litchi mission)" in entries["mission.csv"]["reason"]
    assert entries["mission.csv"]["route"]["alt_agl_m"] == [30.5, 61.0]  # 100 ft, 200 ft
    assert entries["mission.csv"]["route"]["alt_ref"] == ["ground", "takeoff"]
    assert entries["plan.gpx"]["route"]["kind"] == "planned"
    assert entries["notime.gpx"]["route"]["kind"] == "untimed"


def test_read_routes_gives_each_position_in_route_order(tmp_path):
    from geoexpose.tracks.routes import ROUTE_COLUMNS, read_routes

    folder = route_folder(tmp_path)
    routes = read_routes(folder)  # no warning: every file is read
    assert list(routes.columns) == ROUTE_COLUMNS and routes.crs == "EPSG:4326"
    by_id = dict(tuple(routes.groupby("route_id", sort=False)))
    assert sorted(by_id) == [
        "line.kml#1", "lines.geojson#1", "mission.csv#1", "notime.gpx#1", "plan.gpx#1",
    ]  # fmt: skip
    line = by_id["line.kml#1"]
    assert line["vertex"].tolist() == [0, 1, 2]  # the 0/0 vertex dropped
    assert line.geometry.x.tolist() == [8.0, 8.001, 8.002]
    assert line["alt_msl_m"].tolist() == [100.0, 110.0, 120.0] and line["alt_agl_m"].isna().all()
    mission = by_id["mission.csv#1"]
    assert (mission["route_kind"] == "planned").all()
    np.testing.assert_allclose(mission["alt_agl_m"], [100 * FT, 200 * FT])
    assert mission["alt_ref"].tolist() == ["takeoff", "ground"]
    assert mission["speed_m_s"].tolist()[0] == 5.0 and np.isnan(mission["speed_m_s"].iloc[1])
    assert (by_id["plan.gpx#1"]["route_kind"] == "planned").all()
    assert by_id["plan.gpx#1"]["alt_msl_m"].tolist() == [300.0, 310.0]
    assert (by_id["notime.gpx#1"]["route_kind"] == "untimed").all()
    assert by_id["lines.geojson#1"]["alt_msl_m"].tolist() == [30.0, 31.0]
    entries = {Path(e["path"]).name: e for e in routes.attrs["geoexpose"]["files"]}
    assert entries["timed.csv"]["status"] == "track"
    assert entries["line.kml"]["status"] == "read" and entries["line.kml"]["rows_kept"] == 3
    assert str(routes["vertex"].dtype) == "int64"


def test_inspect_says_what_a_route_file_holds(tmp_path):
    from click.testing import CliRunner

    from geoexpose.cli import main

    path = write(tmp_path / "line.kml", UNTIMED_KML)
    result = CliRunner().invoke(main, ["inspect", str(path)], catch_exceptions=False)
    assert result.exit_code == 0
    assert f"{path}: kml, route" in result.stdout
    assert "positions without times (KML LineString)" in result.stdout
    assert "'kind': 'untimed'" in result.stdout and "'positions': 3" in result.stdout


def test_a_file_that_keeps_no_fix_says_why(tmp_path):
    path = write(tmp_path / "nofix.csv", f"lat,lon,time\n0,0,{iso(0)}\n0,0,{iso(1)}\n")
    with pytest.warns(InputWarning, match=r"no fix kept of 2 rows \(2 null_island: at 0/0"):
        fixes = read_tracks(path)
    assert entry(fixes)["reason"].startswith("no fix kept of 2 rows")


def test_a_gps_jump_is_dropped_and_counted(tmp_path):
    # 1 fix a second, 5 m apart; the fourth 0.01 degrees (1.1 km) off
    lat = [50 + i * 5e-5 for i in range(8)]
    lat[3] += 0.01
    fixes = read_tracks(make_csv(tmp_path / "jump.csv", range(8), lat=lat))
    assert entry(fixes)["dropped"]["gps_jump"] == 1 and len(fixes) == 7
    assert lat[3] not in fixes.geometry.y.tolist()
    kept = read_tracks(make_csv(tmp_path / "jump.csv", range(8), lat=lat), max_speed_m_s=2000)
    assert len(kept) == 8
