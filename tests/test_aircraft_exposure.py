"""The per-aircraft table, captures attributed to flights, and ``--hash-ids`` (issue 15.2).

Expected values are hand counts over small made-up tables.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

import geoexpose as gx
from geoexpose.errors import UsageError
from geoexpose.exposure import (
    KEY_ENV,
    aircraft_exposure,
    attribute_captures,
    hash_key,
    hash_result_ids,
)
from geoexpose.schema import (
    AIRCRAFT_COLUMNS,
    AIRCRAFT_CSV,
    AIRCRAFT_ID,
    AIRCRAFT_ID_SOURCE,
    AIRCRAFT_MODEL,
    DRONE_ID,
    OPERATOR_ID,
)

T0 = pd.Timestamp("2024-05-01T10:00:00Z")


def _flights() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "flight_id": ["f1", "f2", "f3", "f4"],
            "duration_s": [100.0, 50.0, 30.0, 7.0],
            "first_seen_utc": [T0, T0 + pd.Timedelta(hours=1), T0, T0],
            "last_seen_utc": [T0 + pd.Timedelta(seconds=s) for s in (100, 3650, 30, 7)],
            AIRCRAFT_ID: ["A", "A", "B", None],
            AIRCRAFT_MODEL: ["Mini 2", None, "M300", None],
            OPERATOR_ID: [None, "OP-A", None, None],
        }
    )


def _pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "flight_id": ["f1", "f1", "f2", "f3", "f4"],
            "site_id": ["s1", "s2", "s1", "s3", "s4"],
            "dwell_s": [10.0, 5.0, 2.0, 4.0, 1.0],
        }
    )


def _captures() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "capture_id": ["c1", "c2", "c3", "c4"],
            "flight_id": ["f1", "f3", None, None],
            "time_utc": [T0 + pd.Timedelta(seconds=s) for s in (5, 6, 7, 8)],
            AIRCRAFT_ID: [None, "P", "P", None],
            AIRCRAFT_MODEL: [None, "ZH20T", "ZH20T", None],
            OPERATOR_ID: [None, None, None, None],
        },
        geometry=[shapely.Point(0, 0)] * 4,
        crs="EPSG:4326",
    )


def _capture_sites() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "capture_id": ["c1", "c2", "c2", "c3"],
            "site_id": ["s2", "s5", "s3", "s5"],
            "gsd_cm": [3.0, 2.0, 9.0, 1.5],
        }
    )


def test_attribute_captures_takes_the_flights_id_only_where_the_photo_has_none():
    out = attribute_captures(_captures(), _flights())
    assert out[AIRCRAFT_ID].tolist() == ["A", "P", "P", None]  # c2 keeps its own, not B
    assert out[AIRCRAFT_ID_SOURCE].tolist() == ["flight", "photo", "photo", None]
    assert out[AIRCRAFT_MODEL].tolist() == ["Mini 2", "ZH20T", "ZH20T", None]
    assert _captures()[AIRCRAFT_ID].isna().tolist() == [True, False, False, True]  # untouched


def test_aircraft_table_by_hand_counts():
    table = aircraft_exposure(_flights(), _pairs(), _captures(), _capture_sites())
    assert list(table.columns) == AIRCRAFT_COLUMNS
    rows = {(r if isinstance(r, str) else None): i for i, r in enumerate(table[AIRCRAFT_ID])}
    assert set(rows) == {"A", "B", "P", None}
    a, b, p, unknown = (table.iloc[rows[k]] for k in ("A", "B", "P", None))
    # A: flights f1, f2; sites s1, s2 (pairs) + s2 (c1, attributed through f1)
    assert (a["n_flights"], a["flight_time_s"], a["n_sites"]) == (2, 150.0, 2)
    assert (a["dwell_s"], a["n_captures"], a["best_gsd_cm"]) == (17.0, 1, 3.0)
    assert a[AIRCRAFT_MODEL] == "Mini 2" and a[OPERATOR_ID] == "OP-A"
    assert a["first_seen_utc"] == T0 and a["last_seen_utc"] == T0 + pd.Timedelta(seconds=3650)
    # B: flight f3 with s3; its capture c2 names aircraft P, so it counts for P
    assert (b["n_flights"], b["flight_time_s"], b["n_sites"], b["dwell_s"]) == (1, 30.0, 1, 4.0)
    assert b["n_captures"] == 0 and np.isnan(b["best_gsd_cm"])
    # P: captures c2, c3 only; sites s5, s3; finest 1.5 cm
    assert (p["n_flights"], p["flight_time_s"], p["n_sites"], p["dwell_s"]) == (0, 0.0, 2, 0.0)
    assert (p["n_captures"], p["best_gsd_cm"]) == (2, 1.5)
    # no known aircraft: f4 and c4, last row, no model
    assert rows[None] == len(table) - 1
    assert (unknown["n_flights"], unknown["n_sites"], unknown["n_captures"]) == (1, 1, 1)
    assert pd.isna(unknown[AIRCRAFT_MODEL])
    # the rows add up to the whole
    assert table["n_flights"].sum() == 4 and table["n_captures"].sum() == 4
    assert table["dwell_s"].sum() == pytest.approx(_pairs()["dwell_s"].sum())
    # most flight time first
    assert table[AIRCRAFT_ID].tolist()[:3] == ["A", "B", "P"]


def test_aircraft_table_is_empty_without_flights_or_captures():
    empty = aircraft_exposure(
        _flights().iloc[:0], _pairs().iloc[:0], _captures().iloc[:0], _capture_sites().iloc[:0]
    )
    assert list(empty.columns) == AIRCRAFT_COLUMNS and len(empty) == 0


def test_hash_key_needs_a_long_enough_key():
    with pytest.raises(UsageError, match=KEY_ENV):
        hash_key({})
    with pytest.raises(UsageError):
        hash_key({KEY_ENV: "short"})
    assert hash_key({KEY_ENV: " 0123456789abcdef "}) == b"0123456789abcdef"


def _scene() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    times = pd.date_range("2024-05-01T10:00:00Z", periods=20, freq="1s")
    lon = np.linspace(8.0, 8.002, 20)
    fixes = gpd.GeoDataFrame(
        {
            "flight_id": ["f1"] * 20,
            "time_utc": times,
            "alt_agl_m": 50.0,
            "alt_ref": "takeoff",
            "alt_msl_m": np.nan,
            "source": "x.csv",
            DRONE_ID: "1W9DJ5S001JX5D",
            AIRCRAFT_ID: "1W9DJ5S001JX5D",
            AIRCRAFT_MODEL: "M300",
            OPERATOR_ID: "GBR-OP-123ABCD",
        },
        geometry=gpd.points_from_xy(lon, np.full(20, 52.0)),
        crs="EPSG:4326",
    )
    fixes.attrs = {"geoexpose": {"files": [{"path": "x.csv", "notes": ["drone '1W9DJ5S001JX5D'"]}]}}
    sites = gpd.GeoDataFrame(
        {"site_id": ["s"], "family": ["power"], "kind": ["substation"], "name": ["s"],
         "standoff_m": [50.0]},
        geometry=[shapely.Point(8.001, 52.0)], crs="EPSG:4326",
    )  # fmt: skip
    return fixes, sites


def test_hashed_result_is_stable_and_leaks_no_raw_id(tmp_path):
    fixes, sites = _scene()
    key = b"0123456789abcdef-org"
    result = gx.expose(sites, fixes=fixes)
    assert result.aircraft[AIRCRAFT_ID].tolist() == ["1W9DJ5S001JX5D"]
    hashed = hash_result_ids(result, key)
    expected = "h:" + hmac.new(key, b"1W9DJ5S001JX5D", hashlib.sha256).hexdigest()[:16]
    operator = "h:" + hmac.new(key, b"GBR-OP-123ABCD", hashlib.sha256).hexdigest()[:16]
    assert set(hashed.fixes[AIRCRAFT_ID]) == {expected} == set(hashed.fixes[DRONE_ID])
    assert set(hashed.flights[AIRCRAFT_ID]) == {expected}
    assert hashed.aircraft[AIRCRAFT_ID].tolist() == [expected]
    assert hashed.aircraft[OPERATOR_ID].tolist() == [operator]
    assert hashed.aircraft[AIRCRAFT_MODEL].tolist() == ["M300"]  # a model is not an identity
    # the same key, another run: the same hashes; another key: others
    again = hash_result_ids(gx.expose(sites, fixes=fixes), key)
    assert again.aircraft[AIRCRAFT_ID].tolist() == [expected]
    other = hash_result_ids(result, b"another-key-0123456789")
    assert other.aircraft[AIRCRAFT_ID].tolist() != [expected]
    # the raw result is left as it was
    assert set(result.fixes[AIRCRAFT_ID]) == {"1W9DJ5S001JX5D"}
    hashed.write(tmp_path / "out", site_maps="none")
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"1W9DJ5S001JX5D" not in data and b"GBR-OP-123ABCD" not in data, path
    table = pd.read_csv(tmp_path / "out" / AIRCRAFT_CSV)
    assert table[AIRCRAFT_ID].tolist() == [expected]
    layer = pyogrio.read_dataframe(tmp_path / "out" / "exposure.gpkg", layer="aircraft")
    assert layer[AIRCRAFT_ID].tolist() == [expected]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert expected in json.dumps(summary["inputs"])


def test_output_folder_has_the_aircraft_table(tmp_path):
    fixes, sites = _scene()
    result = gx.expose(sites, fixes=fixes)
    result.write(tmp_path / "out", site_maps="none")
    table = pd.read_csv(tmp_path / "out" / AIRCRAFT_CSV)
    assert list(table.columns) == AIRCRAFT_COLUMNS
    (row,) = table.to_dict("records")
    assert row[AIRCRAFT_ID] == "1W9DJ5S001JX5D" and row["n_flights"] == 1
    assert row["flight_time_s"] == pytest.approx(19.0)  # 20 fixes 1 s apart
    assert row["n_sites"] == 1 and row["n_captures"] == 0
    layers = dict(pyogrio.list_layers(tmp_path / "out" / "exposure.gpkg"))
    assert "aircraft" in layers
    flights = pyogrio.read_dataframe(tmp_path / "out" / "exposure.gpkg", layer="flights")
    assert flights[OPERATOR_ID].tolist() == ["GBR-OP-123ABCD"]


def test_scan_hash_ids_without_a_key_is_refused_before_reading(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from geoexpose.cli import main

    monkeypatch.delenv(KEY_ENV, raising=False)
    track = tmp_path / "t.csv"
    track.write_text("time,lat,lon,alt\n2024-05-01T10:00:00Z,52.0,8.0,10\n")
    sites = tmp_path / "sites.geojson"
    _scene()[1].to_file(sites)
    args = ["scan", str(track), "--sites", str(sites), "--out", str(tmp_path / "out"), "--hash-ids"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 2
    assert KEY_ENV in done.output
    assert not (tmp_path / "out").exists()
