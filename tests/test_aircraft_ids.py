"""Aircraft identities read from every format that carries them (issue 15, part 2).

Expected ids are read independently of geoexpose: with exiftool for photos, from the
raw bytes of logs and captures, with the csv module for CSV logs.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import struct
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.imagery.photo_tags import photo_identity, photo_tags_table
from geoexpose.schema import (
    AIRCRAFT_ID,
    AIRCRAFT_ID_SOURCE,
    AIRCRAFT_MODEL,
    FIX_COLUMNS,
    FLIGHT_COLUMNS,
    FLIGHT_ID,
    IDENTITY_COLUMNS,
    OPERATOR_ID,
)
from geoexpose.tracks import flight_lines

pytest.importorskip("pymavlink")
pytest.importorskip("pyulog")


def _fixes(*paths: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gx.read_tracks([str(p) for p in paths])


def _per_flight(fixes: pd.DataFrame) -> pd.DataFrame:
    """The identity columns of each flight, checking they hold one value per flight."""
    groups = fixes.groupby(FLIGHT_ID)[IDENTITY_COLUMNS]
    distinct = fixes[[FLIGHT_ID, *IDENTITY_COLUMNS]].astype(str).drop_duplicates()
    assert not distinct[FLIGHT_ID].duplicated().any()
    return groups.first()


def _exiftool(path: Path, *tags: str) -> dict[str, str]:
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    out = subprocess.run(
        ["exiftool", "-j", *[f"-{t}" for t in tags], str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {k: str(v) for k, v in json.loads(out)[0].items()}


def test_fix_and_flight_tables_carry_the_identity_columns(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text(
        "time,lat,lon,alt\n2024-05-01T10:00:00Z,52.0,8.0,10\n2024-05-01T10:00:01Z,52.0001,8.0,10\n"
    )
    fixes = _fixes(path)
    assert list(fixes.columns[: len(FIX_COLUMNS)]) == FIX_COLUMNS
    assert list(fixes.columns[-3:]) == IDENTITY_COLUMNS
    assert fixes[IDENTITY_COLUMNS].isna().all().all()  # a file naming no aircraft: empty
    flights = gx.expose(_sites_at(52.00005, 8.0), fixes=fixes).flights
    assert list(flights.columns) == FLIGHT_COLUMNS
    assert flights[AIRCRAFT_ID].isna().all()


def _sites_at(lat: float, lon: float) -> gx.GeoDataFrame:
    import geopandas as gpd
    import shapely

    return gpd.GeoDataFrame(
        {"site_id": ["s"], "family": ["power"], "kind": ["substation"], "name": ["s"],
         "standoff_m": [50.0]},
        geometry=[shapely.Point(lon, lat)], crs="EPSG:4326",
    )  # fmt: skip


def test_flight_lines_take_the_first_known_id_of_each_flight():
    import geopandas as gpd
    import shapely

    t = pd.to_datetime(["2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z"] * 2)
    fixes = gpd.GeoDataFrame(
        {
            FLIGHT_ID: ["a", "a", "b", "b"],
            "time_utc": t,
            AIRCRAFT_ID: [None, "X1", None, None],
            AIRCRAFT_MODEL: ["M", "M", None, None],
            OPERATOR_ID: [None, None, None, "OP"],
        },
        geometry=shapely.points([[8, 52], [8, 52.001], [9, 52], [9, 52.001]]),
        crs="EPSG:4326",
    )
    lines = flight_lines(fixes, seg_ok=np.array([True, False, True, False]))

    def values(column: str) -> list[str | None]:
        return [None if pd.isna(v) else v for v in lines[column]]

    assert values(AIRCRAFT_ID) == ["X1", None]
    assert values(AIRCRAFT_MODEL) == ["M", None]
    assert values(OPERATOR_ID) == [None, "OP"]


def test_dji_txt_v4_header_serial(realdata):
    path = realdata / "tracks/dji_txt/DJIFlightRecord_2015-12-29_[19-05-48].txt"
    data = path.read_bytes()
    (details,) = struct.unpack_from("<Q", data)  # v4: the details block sits at this offset
    serial = data[details + 267 : details + 277].split(b"\0")[0].decode()
    assert serial == "03Z0265508"
    flights = _per_flight(_fixes(path))
    assert flights[AIRCRAFT_ID].tolist() == [serial]
    assert flights[AIRCRAFT_MODEL].tolist() == ["Phantom 3 Pro"]  # product type 4
    assert data[details + 277] == 4


def test_dji_txt_v14_header_names_the_aircraft_of_a_skipped_file(realdata):
    path = realdata / "tracks/dji_txt/DJIFlightRecord_2021-09-05_[19-23-47].txt"
    from geoexpose.tracks._dji_txt import read_dji_txt_header

    header = read_dji_txt_header(path)
    assert header["encrypted"] and header["product"] == "Mini 2"  # SOURCE.txt: type 76
    assert re.fullmatch(r"[0-9A-Z]{14}", header["serial"])  # a DJI serial's shape
    fixes = _fixes(path)
    (entry,) = fixes.attrs["geoexpose"]["files"]
    assert entry["status"] == "skipped" and f"serial {header['serial']}" in entry["reason"]


def test_txtlog_csv_aircraft_serial_and_model(realdata):
    path = realdata / "tracks/txtlogtocsv_csv/test_drone_log.csv"
    with path.open(encoding="latin-1", newline="") as handle:
        rows = csv.DictReader(handle)
        first = next(r for r in rows if r.get("DETAILS.aircraftSnBytes"))
    flights = _per_flight(_fixes(path))
    assert set(flights[AIRCRAFT_ID]) == {first["DETAILS.aircraftSnBytes"]}
    assert set(flights[AIRCRAFT_MODEL]) == {first["DETAILS.droneType"]}


def test_px4_ulog_sys_uuid_and_board(realdata):
    path = realdata / "tracks/px4_ulog/sample_log_small.ulg"
    data = path.read_bytes()
    # an info message: size u16, 'I', key length u8, key "char[36] sys_uuid", value
    key = b"char[36] sys_uuid"
    at = data.index(key) + len(key)
    uuid = data[at : at + 36].decode()
    board_key = re.search(rb"char\[(\d+)\] ver_hw", data)
    assert board_key is not None
    start = board_key.end()
    board = data[start : start + int(board_key[1])].decode()
    flights = _per_flight(_fixes(path))
    assert flights[AIRCRAFT_ID].tolist() == [uuid] == ["000600000000383638393239510d0035002d"]
    assert flights[AIRCRAFT_MODEL].tolist() == [f"PX4 {board}"]


def test_tlog_board_id_from_statustext(realdata):
    (path,) = (realdata / "tracks/mavlink_tlog").glob("*.tlog")
    found = re.search(rb"PX4v3 ([0-9A-F]{8}) ([0-9A-F]{8}) ([0-9A-F]{8})", path.read_bytes())
    assert found is not None
    flights = _per_flight(_fixes(path))
    assert flights[AIRCRAFT_ID].tolist() == [b"".join(found.groups()).decode()]
    assert flights[AIRCRAFT_MODEL].tolist() == ["ArduCopter on PX4v3, frame QUAD"]


def test_ardupilot_bin_2014_logs_name_a_model_but_no_board_id(realdata):
    folder = realdata / "tracks/ardupilot_bin"
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".bin")
    for path in paths:  # no board id line in these 2014 logs: no id is made up
        assert re.search(rb"[0-9A-F]{8} [0-9A-F]{8} [0-9A-F]{8}", path.read_bytes()) is None
    flights = _per_flight(_fixes(*paths))
    assert flights[AIRCRAFT_ID].isna().all()
    models = {Path(f.split("#")[0]).name: m for f, m in flights[AIRCRAFT_MODEL].items()}
    assert models["plane_4-12-2014_329.BIN"] == "ArduPlane"
    assert models["copter_6-11-2014_Loiter_RTL.bin"] == "ArduCopter, frame QUAD"


def test_remote_id_basic_id_and_operator_id(realdata):
    folder = realdata / "tracks/remote_id_pcap"
    beacon, nan = folder / "odid_wifi_bcn_sample.pcap", folder / "odid_wifi_sample.pcap"
    assert b"MFG1A0123456789" in beacon.read_bytes()
    assert b"GBR-OP-123ABCD" in beacon.read_bytes() and b"GBR-OP-123ABCD" in nan.read_bytes()
    # the NaN capture carries no Basic ID: the drone is its transmitter address
    assert b"MFG1A0123456789" not in nan.read_bytes()
    assert bytes.fromhex("84cca8604324") in nan.read_bytes()
    flights = _per_flight(_fixes(beacon, nan))
    by_file = {f.split("#")[0]: row for f, row in flights.iterrows()}
    assert by_file[beacon.name][AIRCRAFT_ID] == "MFG1A0123456789"
    assert by_file[beacon.name][OPERATOR_ID] == "GBR-OP-123ABCD"
    assert by_file[nan.name][AIRCRAFT_ID] == "84:cc:a8:60:43:24"
    assert by_file[nan.name][OPERATOR_ID] == "GBR-OP-123ABCD"


def test_h20t_photos_serial_matches_exiftool(realdata):
    folder = realdata / "dji_images/kattenborn_h20t_thermal"
    photos = sorted(folder.glob("*.JPG"))
    expected = {_exiftool(p, "SerialNumber")["SerialNumber"] for p in photos[:2]}
    assert expected == {"1W9DJ5S001JX5D"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        caps = gx.read_captures([str(folder)])
    assert set(caps[AIRCRAFT_ID]) == expected
    assert set(caps[AIRCRAFT_MODEL]) == {_exiftool(photos[0], "Model")["Model"]}
    assert set(caps[AIRCRAFT_ID_SOURCE]) == {"photo"}
    assert caps[OPERATOR_ID].isna().all()


def test_p4rtk_tiff_body_serial_from_gdal_metadata(realdata):
    path = realdata / "dji_images/orthority_odm_p4rtk/images/100_0005_0018.tif"
    meta = _exiftool(path, "GDALMetadata")["GDALMetadata"]
    found = re.search(r'name="EXIF_BodySerialNumber">([^<]+)<', meta)
    assert found is not None
    tags = photo_tags_table([path])
    assert tags["serial"].tolist() == [found[1]]


def test_xt2_photo_without_serial_stays_empty(realdata):
    path = realdata / "dji_images/thermal_parser_samples/DJI_XT2.jpg"
    assert "SerialNumber" not in _exiftool(path, "SerialNumber")
    tags = photo_tags_table([path])
    assert tags["serial"].isna().all() and tags["drone_serial"].isna().all()


def test_xmp_drone_serial_wins_over_exif(tmp_path):

    tags = pd.DataFrame(
        {
            "serial": ["BODY1", "BODY2", None],
            "drone_serial": ["DRONE1", None, None],
            "camera_serial": [None, None, "CAM3"],
            "drone_model": ["M3E", None, None],
            "model": ["L2D-20c", "FC6310R", None],
        }
    )
    out = photo_identity(tags)
    assert out[AIRCRAFT_ID].tolist() == ["DRONE1", "BODY2", "CAM3"]
    assert out[AIRCRAFT_MODEL].tolist() == ["M3E", "FC6310R", None]
