"""GeoParquet in and out: fixes straight to lon/lat, tables partitioned by flight."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyproj import Transformer

import geoexpose as gx
from geoexpose import geoparquet
from tests.conftest import make_track


def _fixes() -> gpd.GeoDataFrame:
    """Three flights of fixes with irregular coordinates (full float64 precision)."""
    rng = np.random.default_rng(3)
    parts = []
    for k, flight in enumerate(["b-2", "a-1", "c 3"]):
        n = 50 + 20 * k
        lon = 10.0 + np.cumsum(rng.normal(0, 1e-5, n)) + rng.random() * 1e-9
        lat = 45.0 + np.cumsum(rng.normal(0, 1e-5, n))
        parts.append(make_track(lon, lat, flight=flight, alt_agl_m=rng.uniform(5, 120, n)))
    frame = pd.concat(parts, ignore_index=True)
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)  # shuffled


def test_fixes_round_trip_exactly_and_whole_flights_per_file(tmp_path: Path) -> None:
    fixes = _fixes()
    folder = geoparquet.write_fixes(fixes, tmp_path / "fixes", rows_per_file=60)
    files = sorted(folder.glob("*.parquet"))
    flights_per_file = [
        set(pq.read_table(f, columns=["flight_id"]).column(0).to_pylist()) for f in files
    ]
    assert len(files) == 3 and all(len(f) == 1 for f in flights_per_file)  # 50/70/90 rows
    back = geoparquet.read_fixes(folder)
    assert isinstance(back, pd.DataFrame) and not isinstance(back, gpd.GeoDataFrame)
    assert "geometry" not in back
    want = fixes.sort_values(["flight_id", "time_utc"], ignore_index=True)
    assert back["flight_id"].tolist() == want["flight_id"].tolist()
    assert back["time_utc"].equals(want["time_utc"])  # nanoseconds kept
    np.testing.assert_array_equal(back["lon"], want.geometry.x)  # float64 kept, bit for bit
    np.testing.assert_array_equal(back["lat"], want.geometry.y)
    np.testing.assert_array_equal(back["alt_agl_m"], want["alt_agl_m"])
    # a GeoParquet reader of GeoArrow points (geopandas) sees the same points
    other = gpd.read_parquet(files[0])
    assert other.crs.equals("OGC:CRS84") or other.crs.equals("EPSG:4326")
    one = want[want["flight_id"] == other["flight_id"].iloc[0]]
    np.testing.assert_array_equal(other.geometry.x, one.geometry.x)
    meta = json.loads(pq.read_schema(files[0]).metadata[b"geo"])
    assert meta["columns"]["geometry"]["encoding"] == "point"


def test_columns_to_read_and_the_expose_answer(tmp_path: Path) -> None:
    fixes = _fixes()
    folder = geoparquet.write_fixes(fixes, tmp_path / "fixes")
    back = geoparquet.read_fixes(folder, columns=["flight_id", "time_utc", "alt_agl_m"])
    assert list(back.columns) == ["flight_id", "time_utc", "alt_agl_m", "lon", "lat"]
    sites = gpd.GeoDataFrame(
        {"site_id": ["s"], "family": ["power"], "kind": ["substation"], "standoff_m": [60.0]},
        geometry=gpd.points_from_xy([10.0], [45.0]),
        crs="EPSG:4326",
    )
    a, b = gx.expose(sites, fixes), gx.expose(sites, back)
    assert a.pairs["dwell_s"].sum() > 0
    pd.testing.assert_frame_equal(a.pairs, b.pairs)


def test_wkb_files_in_another_crs_and_hive_folders(tmp_path: Path) -> None:
    fixes = _fixes()
    metric = fixes.to_crs("EPSG:3857")
    for flight, part in metric.groupby("flight_id"):
        folder = tmp_path / "hive" / f"flight_id={flight}"
        folder.mkdir(parents=True)
        part.drop(columns="flight_id").to_parquet(folder / "part.parquet")  # WKB, EPSG:3857
    files = geoparquet.fix_files(tmp_path / "hive")
    assert sorted(f.flight_id for f in files) == sorted(fixes["flight_id"].unique())
    back = geoparquet.read_fixes(files, columns=["flight_id", "time_utc"])
    back = back.sort_values(["flight_id", "time_utc"], ignore_index=True)
    want = fixes.sort_values(["flight_id", "time_utc"], ignore_index=True)
    assert back["flight_id"].tolist() == want["flight_id"].tolist()
    # expected: pyproj's own inverse of the stored metres
    to_lonlat = Transformer.from_crs("EPSG:3857", "EPSG:4326", always_xy=True)
    stored = want.to_crs("EPSG:3857")
    lon, lat = to_lonlat.transform(stored.geometry.x, stored.geometry.y)
    np.testing.assert_allclose(back["lon"], lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(back["lat"], lat, rtol=0, atol=1e-12)


def test_pyarrow_hive_dataset_is_read(tmp_path: Path) -> None:
    fixes = _fixes()
    xy = fixes.get_coordinates()
    table = pa.table(
        {
            "flight_id": fixes["flight_id"].astype(str).to_numpy(dtype=object),
            "time_utc": pa.array(fixes["time_utc"].array.asi8, pa.timestamp("ns", tz="UTC")),
            "lon": xy["x"].to_numpy(),
            "lat": xy["y"].to_numpy(),
        }
    )
    ds.write_dataset(
        table, tmp_path / "ds", format="parquet", partitioning=["flight_id"],
        partitioning_flavor="hive",
    )  # fmt: skip
    back = geoparquet.read_fixes(tmp_path / "ds", columns=["flight_id", "time_utc"])
    assert sorted(back["flight_id"].unique()) == sorted(fixes["flight_id"].unique())
    assert np.isclose(back["lon"].sum(), xy["x"].sum(), rtol=1e-15)


def test_bad_inputs_name_the_file(tmp_path: Path) -> None:
    naive = _fixes()
    naive["time_utc"] = naive["time_utc"].dt.tz_localize(None)
    path = tmp_path / "naive.parquet"
    naive.to_parquet(path)
    with pytest.raises(gx.InputError, match=r"naive\.parquet: time_utc has no time zone"):
        geoparquet.read_fixes(path)
    lines = gpd.GeoDataFrame(
        {"flight_id": ["x"]}, geometry=gpd.GeoSeries.from_wkt(["LINESTRING (0 0, 1 1)"]), crs=4326
    )
    lines.to_parquet(tmp_path / "lines.parquet")
    with pytest.raises(gx.InputError, match=r"lines\.parquet: geometry must be Points"):
        geoparquet.read_fixes(tmp_path / "lines.parquet")
    folder = geoparquet.write_fixes(_fixes(), tmp_path / "out")
    with pytest.raises(gx.OutputExistsError):
        geoparquet.write_fixes(_fixes(), folder)
    with (
        pytest.raises(gx.InputError, match="came in an earlier frame"),
        geoparquet.FixWriter(tmp_path / "twice") as writer,
    ):
        writer.write(_fixes())
        writer.write(_fixes())
    assert not (tmp_path / "twice").exists()  # nothing half written


def test_tables_are_partitioned_by_flight(tmp_path: Path) -> None:
    rows = pd.DataFrame(
        {"flight_id": ["b", "a", None, "b", "c", "a"], "value": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]}
    )
    folder = geoparquet.write_table(rows, tmp_path / "t", rows_per_file=2)
    parts = [pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))]
    ids = [p["flight_id"].fillna("-").tolist() for p in parts]
    assert ids == [["a", "a"], ["b", "b"], ["c"], ["-"]]
    back = geoparquet.read_table(folder)
    assert sorted(back["value"]) == sorted(rows["value"])
