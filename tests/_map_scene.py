"""A small scene for the map tests, and a reader of the map pages' data blocks.

The reader decodes the geometry encoding that ``geoexpose/_map_encode.py``
documents (counts and integer micro-degree differences) on its own, with plain
Python loops, so that the tests do not call the code under test to read its output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from PIL import Image

T0 = pd.Timestamp("2024-05-01T10:00:00Z")


def make_sites() -> gpd.GeoDataFrame:
    t = pd.to_datetime([T0, pd.NaT, T0, pd.NaT, T0, pd.NaT, pd.NaT], utc=True)
    return gpd.GeoDataFrame(
        {
            "site_id": ["W1", "W2", "R1", "P1", "M1", "M2", "U1"],
            "family": ["water", "water", "rail", "power", "military", "military", "bees"],
            "kind": [
                "water_works",
                "reservoir",
                "rail_yard",
                "substation",
                "barracks",
                "depot",
                "x",
            ],
            "name": ["Works <A&B>", "Reservoir", "Yard", "Sub", "Camp", None, "Hive"],
            "operator": [None, "Utility", None, None, None, None, None],
            "standoff_m": [100.0, 100.0, 50.0, 150.0, 500.0, 500.0, 50.0],
            "source": ["sites.gpkg"] * 7,
            "n_flights": [1, 0, 1, 0, 2, 0, 0],
            "n_captures": [3, 0, 0, 0, 1, 0, 0],
            "dwell_s": [123.4, 0.0, 5.5, 0.0, 60.0, 0.0, 0.0],
            "min_distance_m": [0.0, np.nan, 10.0, np.nan, 0.0, np.nan, np.nan],
            "min_agl_m": [40.2, np.nan, 80.0, np.nan, 30.0, np.nan, np.nan],
            "best_gsd_cm": [1.234, np.nan, np.nan, np.nan, 2.0, np.nan, np.nan],
            "imaged_area_m2": [1500.0, 0.0, 0.0, 0.0, 30.0, 0.0, 0.0],
            "imaged_fraction": [0.5, 0.0, 0.0, 0.0, 0.01, 0.0, 0.0],
            "first_seen_utc": t,
            "last_seen_utc": t,
            "exposure_score": [72.0, 0.0, 15.0, np.nan, 95.0, 0.0, 0.0],
        },
        geometry=[
            shapely.box(8.0, 50.0, 8.01, 50.01),
            shapely.Point(8.02, 50.0),
            shapely.LineString([(8.0, 50.02), (8.03, 50.02)]),
            shapely.Point(8.04, 50.01),
            shapely.box(8.05, 50.0, 8.06, 50.01),
            shapely.box(8.07, 50.0, 8.08, 50.01),
            shapely.Point(8.0, 49.99),
        ],
        crs="EPSG:4326",
    )


def make_fixes(lats, agl, seconds, flight: str = "F1", lon: float = 8.0) -> gpd.GeoDataFrame:
    lats = np.asarray(lats, dtype=float)
    return gpd.GeoDataFrame(
        {
            "flight_id": flight,
            "time_utc": T0 + pd.to_timedelta(np.asarray(seconds, dtype=float), unit="s"),
            "alt_agl_m": np.asarray(agl, dtype=float),
            "alt_ref": "ground",
            "alt_msl_m": np.nan,
            "source": "/home/alice/flights/track.csv",
        },
        geometry=shapely.points(np.full(len(lats), lon), lats),
        crs="EPSG:4326",
    )


def make_flights(fixes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for fid, group in fixes.groupby("flight_id"):
        rows.append(
            {
                "flight_id": fid,
                "source": "track.csv",
                "n_fixes": len(group),
                "first_seen_utc": group["time_utc"].min(),
                "last_seen_utc": group["time_utc"].max(),
                "duration_s": 42.0,
                "length_m": 777.0,
                "max_agl_m": float(group["alt_agl_m"].max()),
                "alt_ref": "ground",
                "geometry": shapely.LineString(shapely.get_coordinates(group.geometry.values)),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def write_photo(path: Path, colour: tuple[int, int, int], size=(1200, 900)) -> Path:
    Image.new("RGB", size, colour).save(path, quality=90)
    return path


def make_captures(folder: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """Three captures: a readable photo over W1, a missing file, and a video frame."""
    photo = write_photo(folder / "DJI_0001.JPG", (200, 30, 30))
    captures = gpd.GeoDataFrame(
        {
            "capture_id": ["c1", "c2", "c3"],
            "path": [str(photo), str(folder / "gone" / "DJI_0002.JPG"), str(folder / "V.MP4")],
            "kind": ["photo", "photo", "video_frame"],
            "time_utc": pd.to_datetime([T0, T0 + pd.Timedelta(5, "s"), T0], utc=True),
            "flight_id": ["F1", "F1", None],
            "cam_lon": [8.005, 8.02, np.nan],
            "cam_lat": [50.005, 50.0015, np.nan],
            "alt_agl_m": [60.0, 80.0, np.nan],
            "yaw_deg": [10.0, 20.0, np.nan],
            "pitch_deg": [-90.0, -60.0, np.nan],
            "roll_deg": [0.0, 0.0, np.nan],
            "gsd_cm": [1.6543, 2.5, np.nan],
            "flags": ["", "yaw_unknown", ""],
        },
        geometry=[
            shapely.box(8.004, 50.004, 8.006, 50.006),
            shapely.box(8.019, 50.0005, 8.021, 50.0025),
            shapely.box(8.03, 50.03, 8.031, 50.031),
        ],
        crs="EPSG:4326",
    )
    capture_sites = pd.DataFrame(
        {
            "capture_id": ["c1"],
            "site_id": ["W1"],
            "flight_id": ["F1"],
            "gsd_cm": [1.6],
            "imaged_area_m2": [100.0],
        }
    )
    return captures, capture_sites


# --- reading a page ---------------------------------------------------------------

_BLOCK = re.compile(r'<script type="application/json" id="(gx-data-\d+)">(.*?)</script>', re.S)
_CALL = re.compile(r'geoexpose\.(\w+)\((\w+), "(gx-data-\d+)"\);')
_OVERLAY = re.compile(r'"([^"]+)" : (\w+),')


def blocks(text: str) -> dict[str, object]:
    return {bid: json.loads(body) for bid, body in _BLOCK.findall(text)}


def layer_specs(text: str) -> dict[str, dict]:
    """The data of each layer of the layer control, by its name there."""
    data = blocks(text)
    by_group = {group: (fn, data[bid]) for fn, group, bid in _CALL.findall(text)}
    control = re.search(r"overlays :\s*\{(.*?)\n\s*\}", text, flags=re.S).group(1)
    out = {}
    for name, group in _OVERLAY.findall(control):
        fn, spec = by_group[group]
        name = json.loads(f'"{name}"')  # as the page's JSON spells it
        out[name] = {"fn": fn, **spec, "shown": f"{group}.addTo(" in text}
        table = spec.get("table")
        if isinstance(table, str):
            out[name]["table"] = data[table]
        if fn == "levels":
            out[name]["decoded"] = [decode(data[lev["block"]]) for lev in spec["levels"]]
    return out


def decode(g: dict) -> list:
    """Shapely geometries of the encoded features (None where a feature is empty)."""
    d = g["d"]
    x = y = 0
    k = part = path = 0
    out = []
    for n_parts in g["fp"]:
        points, lines, polys = [], [], []
        for _ in range(n_parts):
            rings = []
            for _ in range(g["pr"][part]):
                ring = []
                for _ in range(g["rc"][path]):
                    x += d[k]
                    y += d[k + 1]
                    k += 2
                    ring.append((x / 1e6, y / 1e6))
                rings.append(ring)
                path += 1
            kind = g["pt"][part]
            part += 1
            if kind == 0:
                points.append(shapely.Point(rings[0][0]))
            elif kind == 1:
                lines.append(shapely.LineString(rings[0]))
            else:
                polys.append(shapely.Polygon(rings[0], rings[1:]))
        geoms = points + lines + polys
        if not geoms:
            out.append(None)
        elif len(geoms) == 1:
            out.append(geoms[0])
        elif len(geoms) == len(lines):
            out.append(shapely.MultiLineString(lines))
        elif len(geoms) == len(polys):
            out.append(shapely.MultiPolygon(polys))
        else:
            out.append(shapely.GeometryCollection(geoms))
    return out


def popups(spec: dict) -> dict[str, dict[str, str]]:
    """Column -> text of each feature's popup, by the feature's id (or title)."""
    table = spec["table"]
    keys = table.get("ids", table["title"])
    return {
        key: dict(zip(table["cols"], row, strict=True))
        for key, row in zip(keys, table["rows"], strict=True)
    }
