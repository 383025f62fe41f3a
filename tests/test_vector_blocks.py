"""A huge layer of Point fixes is read in batches and gives what the whole layer read gives.

Each test writes a layer (GeoJSON, GeoPackage, FlatGeobuf) whose properties a batch
alone would read otherwise than the whole layer (integers with a missing value in one
batch only, a time column whose first value comes late, epoch numbers, Z on some
points, another CRS), reads it in pieces through batches of 64 features, and compares
fixes and file entry with one reading of the whole file. Expected values in the hand
checks are worked out from the features written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import pytest
import shapely

import geoexpose as gx
from geoexpose.errors import InputError
from geoexpose.tracks import _vector_blocks, pieces, read_track_pieces
from tests._blocks_compare import WHOLE, joined, same_as_whole
from tests._pieces_peak import pieces_peak_mb

ROWS = 64  # features of a batch: every layer below spans many
T0 = pd.Timestamp("2024-05-01 08:00:00", tz="UTC")


def _path(n: int) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(n)
    return 50.0 + 0.0002 * np.sin(i / 40) + 0.00001 * i, 8.0 + 0.00001 * i


def _geojson(path: Path, props: list[dict], coords: list[list[float] | None]) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": p,
            "geometry": None if c is None else {"type": "Point", "coordinates": c},
        }
        for p, c in zip(props, coords, strict=True)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def batches(monkeypatch) -> list[int]:
    """The sizes of the batches read in blocks (read whole: none)."""
    sizes: list[int] = []
    add = _vector_blocks._Layer.add

    def recorded(self, batch, geometry):
        sizes.append(batch.num_rows)
        return add(self, batch, geometry)

    monkeypatch.setattr(_vector_blocks._Layer, "add", recorded)
    return sizes


def test_iso_times_heights_and_integers_with_a_late_null_read_as_whole(
    tmp_path: Path, monkeypatch, batches
) -> None:
    n = 1_000
    lat, lon = _path(n)
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    props = [
        {
            "time": t[k].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "height_above_takeoff(feet)": None if k == 300 else float(min(k, 200)),
            "flight_id": k // 500,
            # whole numbers, one missing in the last block: decimals in every row, as
            # GDAL gives the whole layer (a block alone would give integers)
            "speed": None if k == n - 3 else k % 7,
            "isPhoto": None if k == 850 else k % 100 == 0,
        }
        for k in range(n)
    ]
    path = _geojson(
        tmp_path / "fixes.geojson", props, [[x, y] for x, y in zip(lon, lat, strict=True)]
    )
    whole, entry = same_as_whole(path, monkeypatch)
    assert batches == [ROWS] * (n // ROWS) + [n % ROWS]  # read in batches of a block
    assert entry["format"] == "geojson" and entry["time_basis"] == "utc"
    assert whole["time_utc"].tolist()[:3] == list(t[:3])
    assert whole["alt_agl_m"].iloc[150] == pytest.approx(150 * 0.3048)
    assert len(entry["flights"]) == 2 and np.isnan(whole["speed_m_s"].iloc[-3])
    assert whole["is_photo"].sum() == 10


def test_naive_times_in_a_zone_and_z_on_some_points(tmp_path: Path, monkeypatch, batches) -> None:
    n = 700
    lat, lon = _path(n)
    t = pd.Timestamp("2024-05-01 10:00:00") + pd.to_timedelta(np.arange(n) * 2, unit="s")
    props = [{"datetime": t[k].strftime("%Y-%m-%d %H:%M:%S"), "pilot": "Jörg"} for k in range(n)]
    coords: list[list[float] | None] = [
        [x, y, 100.0 + k] if k >= 400 else [x, y]
        for k, (x, y) in enumerate(zip(lon, lat, strict=True))
    ]
    coords[10] = None  # a feature without geometry: no fix
    path = _geojson(tmp_path / "naive.geojson", props, coords)
    whole, entry = same_as_whole(path, monkeypatch, time_zone="Europe/Berlin")
    assert len(batches) == 11
    assert entry["time_basis"] == "Europe/Berlin" and entry["dropped"]["no_fix"] == 1
    # Berlin is two hours ahead of UTC in May
    assert whole["time_utc"].iloc[0] == pd.Timestamp("2024-05-01 08:00:00", tz="UTC")
    # the Z of the points that have it is their height above sea level
    msl = whole["alt_msl_m"].to_numpy()
    assert np.isnan(msl[:399]).all() and msl[-1] == 100.0 + n - 1


def test_a_date_and_a_clock_first_met_late_and_epoch_numbers(
    tmp_path: Path, monkeypatch, batches
) -> None:
    n = 600
    lat, lon = _path(n)
    t = T0 + pd.to_timedelta(np.arange(n) * 500, unit="ms")
    clock = [None] * 150 + [s for s in t[150:].strftime("%H:%M:%S.%f").str[:-3]]
    props = [{"date": "2024-05-01", "time": clock[k], "alt": 50.0} for k in range(n)]
    path = _geojson(
        tmp_path / "clock.geojson", props, [[x, y] for x, y in zip(lon, lat, strict=True)]
    )
    assert pyogrio.read_info(path)["dtypes"].tolist()[:2] == ["datetime64[D]", "object"]
    with pytest.warns(gx.InputWarning, match="no time zone"):
        whole, entry = same_as_whole(path, monkeypatch)
    assert entry["dropped"]["no_fix"] == 150
    assert whole["time_utc"].tolist() == list(t[150:])
    batches.clear()
    # milliseconds since 1970 as whole numbers, one missing late: decimals (as whole)
    ms = [None if k == 550 else int(t[k].value // 10**6) for k in range(n)]
    props = [{"timestamp": ms[k], "alt": 50.0} for k in range(n)]
    path = _geojson(
        tmp_path / "epoch.geojson", props, [[x, y] for x, y in zip(lon, lat, strict=True)]
    )
    whole, entry = same_as_whole(path, monkeypatch)
    assert len(batches) == 10 and entry["dropped"]["no_fix"] == 1
    assert whole["time_utc"].tolist() == list(t.delete(550))


def test_times_to_the_second_follow_an_elapsed_clock(tmp_path: Path, monkeypatch) -> None:
    n = 500
    lat, lon = _path(n)
    elapsed = np.arange(n) * 100 + 7  # ms, ten fixes a second
    stamps = (T0 + pd.to_timedelta(elapsed, unit="ms")).floor("s")
    text = [None] * 100 + list(stamps[100:].strftime("%Y-%m-%d %H:%M:%S"))
    props = [
        {"time(millisecond)": int(elapsed[k]), "datetime(utc)": text[k], "height": 30.0}
        for k in range(n)
    ]
    path = _geojson(
        tmp_path / "clock.geojson", props, [[x, y] for x, y in zip(lon, lat, strict=True)]
    )
    whole, _ = same_as_whole(path, monkeypatch)
    anchor = stamps[100]  # the first row with both, in block 2
    expected = anchor + pd.to_timedelta(elapsed - elapsed[100], unit="ms")
    assert whole["time_utc"].tolist() == list(expected)


@pytest.mark.parametrize(
    ("suffix", "crs"), [(".gpkg", "EPSG:32632"), (".fgb", "EPSG:3857")], ids=["utm", "web"]
)
def test_a_layer_in_another_crs_is_placed_as_whole(
    tmp_path: Path, monkeypatch, batches, suffix, crs
) -> None:
    n = 400
    lat, lon = _path(n)
    t = T0 + pd.to_timedelta(np.arange(n), unit="s")
    layer = gpd.GeoDataFrame(
        {
            "timestamp": t,  # a DateTime field
            "alt_msl": np.linspace(300.0, 400.0, n),
            "track_id": np.where(np.arange(n) < 250, "A", "B"),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    ).to_crs(crs)
    path = tmp_path / f"layer{suffix}"
    # a FlatGeobuf without spatial index keeps the features in the order written
    layer.to_file(path, **({"SPATIAL_INDEX": "NO"} if suffix == ".fgb" else {}))
    whole, entry = same_as_whole(path, monkeypatch)
    assert len(batches) == 7 and entry["flights"] == [f"{path.name}#1", f"{path.name}#2"]
    assert whole["time_utc"].tolist() == list(t)
    # back in degrees, as written (to a micrometre)
    assert np.allclose(whole.geometry.y, lat, atol=1e-11) and np.allclose(whole.geometry.x, lon)


def test_a_layer_without_crs_is_refused_as_whole(tmp_path: Path) -> None:
    layer = gpd.GeoDataFrame(
        {"time": ["2024-05-01T08:00:00Z"] * 3}, geometry=gpd.points_from_xy([1, 2, 3], [1, 2, 3])
    )
    path = tmp_path / "nocrs.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        layer.to_file(path)
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)
    assert "the layer has no CRS" in str(blocks.value)


def test_line_features_are_read_whole_and_said(tmp_path: Path, monkeypatch, batches) -> None:
    lat, lon = _path(300)
    t = (T0 + pd.to_timedelta(np.arange(300), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    features = [
        {
            "type": "Feature",
            "properties": {"coordTimes": list(t[a : a + 100])},
            "geometry": {
                "type": "LineString",
                "coordinates": np.c_[lon, lat][a : a + 100].tolist(),
            },
        }
        for a in (0, 100, 200)
    ]
    path = tmp_path / "lines.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    _, entry = same_as_whole(path, monkeypatch, in_blocks=False)
    assert batches == []
    assert f"{WHOLE}: LineString features" in entry["notes"]
    assert entry["rows_read"] == 300 and len(entry["flights"]) == 3


def test_a_line_after_many_points_sends_the_layer_to_the_whole_reading(
    tmp_path: Path, monkeypatch, batches
) -> None:
    n = 1_000
    lat, lon = _path(n)
    t = (T0 + pd.to_timedelta(np.arange(n), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    props = [{"time": t[k]} for k in range(n)]
    path = _geojson(
        tmp_path / "mixed.geojson", props, [[x, y] for x, y in zip(lon, lat, strict=True)]
    )
    data = json.loads(path.read_text())
    data["features"][450]["geometry"] = {"type": "LineString", "coordinates": [[8, 50], [8.1, 50]]}
    path.write_text(json.dumps(data))
    given: list[int] = []
    monkeypatch.setattr(pieces, "BLOCK_ROWS", ROWS)
    add = pieces.BlockCleaner.add
    monkeypatch.setattr(
        pieces.BlockCleaner, "add", lambda self, f: given.append(len(f)) or add(self, f)
    )
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)
    assert "found POINT, LINESTRING" in str(blocks.value)
    # the line is in the eighth batch: eight batches read (of 16), not a row given
    assert given == [] and batches == [ROWS] * 8


def test_points_without_a_time_are_refused_as_whole(tmp_path: Path) -> None:
    lat, lon = _path(200)
    path = _geojson(tmp_path / "notime.geojson", [{"alt": 1.0}] * 200, np.c_[lon, lat].tolist())
    with pytest.raises(InputError) as whole:
        gx.read_tracks(path, strict=True)
    with pytest.raises(InputError) as blocks:
        list(read_track_pieces(path, strict=True))
    assert str(blocks.value) == str(whole.value)


def test_every_property_type_converts_per_batch_as_the_whole_layer(tmp_path: Path) -> None:
    n = 300
    props = [
        {
            "i": None if k == 290 else k,  # a null in the last batch only
            "big": 2**40 + k,
            "b": k % 2 == 0,
            "bn": None if k == 5 else k % 3 == 0,
            "f": None if k % 50 == 0 else k / 4,
            "s": None if k == 100 else f"s{k}",
            "d": "2024-05-01",
            "clock": f"08:{k // 60:02d}:{k % 60:02d}.250",
            "when": f"2024-05-01T08:00:{k % 60:02d}+02:00",
        }
        for k in range(n)
    ]
    path = _geojson(tmp_path / "types.geojson", props, [[8.0, 50.0]] * n)
    whole = pd.DataFrame(
        pyogrio.read_dataframe(path, datetime_as_string=True).drop(columns="geometry")
    )
    with pyogrio.open_arrow(path, batch_size=64, datetime_as_string=True, use_pyarrow=True) as (
        _,
        reader,
    ):
        parts = list(reader)
    table = pa.Table.from_batches(parts)
    decimals = {name for name in ("i", "bn") if table.column(name).null_count}
    assert decimals == {"i", "bn"}
    start, frames = 0, []
    for part in parts:
        part = part.select(list(whole.columns))
        frames.append(_vector_blocks._props(part, start, decimals))
        start += part.num_rows
    got = pd.concat(frames)
    assert got.index.equals(whole.index)
    for name in whole.columns:
        assert got[name].dtype == whole[name].dtype, name
        assert got[name].astype(str).tolist() == whole[name].astype(str).tolist(), name
        assert [type(v) for v in got[name]] == [type(v) for v in whole[name]], name


def _peak_mb(tmp_path: Path, n: int) -> float:
    """Peak MB over the start of a fresh process that reads a GeoJSON of ``n`` points."""
    path = tmp_path / f"big{n}.geojson"
    lat, lon = _path(n)
    start = np.datetime64(T0.tz_localize(None), "s")
    stamps = np.datetime_as_string(start + np.arange(n).astype("timedelta64[s]"))
    with path.open("w") as out:
        out.write('{"type":"FeatureCollection","features":[\n')
        out.write(
            ",\n".join(
                f'{{"type":"Feature","properties":{{"time":"{s}Z","alt":30.0}},'
                f'"geometry":{{"type":"Point","coordinates":[{x:.7f},{y:.7f}]}}}}'
                for s, x, y in zip(stamps, lon, lat, strict=True)
            )
        )
        out.write("\n]}\n")
    return pieces_peak_mb(path, fixes=n)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self (Linux)")
def test_the_memory_of_a_huge_geojson_does_not_grow_with_its_points(tmp_path: Path) -> None:
    # read whole, a GeoJSON of points took about 760 bytes a point (761 MB for a
    # million); in batches, a batch and a piece
    small = _peak_mb(tmp_path, 100_000)
    large = _peak_mb(tmp_path, 400_000)
    assert small > 5  # the peak is measured (a piece's table of points at least)
    old = 300_000 * 760 / 2**20  # MB more for the larger file, read whole
    assert large - small < old / 4, (small, large, old)


def test_the_geometries_given_are_the_points_read(tmp_path: Path, monkeypatch) -> None:
    # the positions of the fixes are the features' points, in file order
    lat, lon = _path(200)
    t = (T0 + pd.to_timedelta(np.arange(200), unit="s")).strftime("%Y-%m-%dT%H:%M:%SZ")
    path = _geojson(tmp_path / "pts.geojson", [{"time": s} for s in t], np.c_[lon, lat].tolist())
    monkeypatch.setattr(pieces, "BLOCK_ROWS", ROWS)
    fixes = joined(list(read_track_pieces(path, piece_fixes=50)))
    expected = shapely.points(lon, lat)
    assert shapely.equals_exact(fixes.geometry.to_numpy(), expected, 0).all()
