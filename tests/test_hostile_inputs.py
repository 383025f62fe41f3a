"""Readers facing hostile files: each test builds the file and checks the safe outcome.

Bad times and heights cost their row only; absurd standoffs, TOML nested too deep and
files without sites are refused with one line; long lines and compression bombs are
refused before they are read whole, never echoed.
"""

from __future__ import annotations

import bz2
import gzip
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geoexpose._limits as limits
from geoexpose import read_site_layers
from geoexpose._limits import LimitError, bounded, check_line_lengths, excerpt
from geoexpose.audit.policy import MAX_POLICY_BYTES, read_policy
from geoexpose.errors import InputError, InputWarning, UsageError
from geoexpose.schema import ALT_AGL_M, ALT_MSL_M, TIME_UTC
from geoexpose.sites import MAX_STANDOFF_M, read_catalog, read_sites
from geoexpose.tracks import read_track_file
from geoexpose.tracks.normalize import clean_fixes
from geoexpose.tracks.read import read_tracks

T0 = datetime(2021, 6, 1, 10, 0, tzinfo=UTC)


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def track_csv(path: Path, times: list[str], heights: list[str] | None = None) -> Path:
    """A CSV of a slow straight flight, one row per time given (about 1 m apart)."""
    heights = heights or ["50"] * len(times)
    rows = [
        f"{55 + i * 1e-5:.6f},{12 + i * 1e-5:.6f},{t},{h}"
        for i, (t, h) in enumerate(zip(times, heights, strict=True))
    ]
    path.write_text("lat,lon,time,alt\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def entry(fixes: gpd.GeoDataFrame) -> dict:
    return fixes.attrs["geoexpose"]["files"][0]


# ----------------------------------------------------------------- times of rows
@pytest.mark.parametrize(
    "bad",
    ["9999-12-31T00:00:00Z", "9999-12-31 00:00:00", "1970-01-01T00:00:00Z", "2100-01-01T00:00:00Z"],
)
@pytest.mark.parametrize("where", [0, 150, 299])
@pytest.mark.filterwarnings("ignore:.*no time zone:geoexpose.errors.InputWarning")
def test_one_row_out_of_time_costs_that_row(tmp_path, bad, where):
    times = [iso(s) for s in range(300)]
    times[where] = bad
    fixes = read_tracks(track_csv(tmp_path / "t.csv", times))
    info = entry(fixes)
    assert info["dropped"]["time_out_of_range"] == 1
    assert info["dropped"]["time_backwards"] == 0
    assert info["rows_kept"] == len(fixes) == 299
    expected = [pd.Timestamp(t) for i, t in enumerate(times) if i != where]
    assert fixes[TIME_UTC].tolist() == expected


def test_epoch_minus_one_and_huge_cost_their_rows(tmp_path):
    seconds = [int(T0.timestamp()) + s for s in range(100)]
    seconds[10], seconds[60] = -1, 10**30  # before 1970, beyond any nanosecond time
    rows = [f"{55 + i * 1e-5},{12 + i * 1e-5},{s}" for i, s in enumerate(seconds)]
    path = tmp_path / "epoch.csv"
    path.write_text("lat,lon,time\n" + "\n".join(rows) + "\n", encoding="utf-8")
    info = entry(fixes := read_tracks(path))
    assert info["dropped"]["time_out_of_range"] == 2
    assert len(fixes) == 98


def test_lone_row_ahead_within_the_window_is_the_bad_row(tmp_path):
    # a year ahead, yet before now: only the time order tells it
    times = [iso(s) for s in range(300)]
    times[150] = iso(365 * 86400)
    info = entry(fixes := read_tracks(track_csv(tmp_path / "ahead.csv", times)))
    assert info["dropped"]["time_ahead"] == 1
    assert info["dropped"]["time_backwards"] == 0
    assert len(fixes) == 299


def test_a_run_of_rows_ahead_shorter_than_the_rest_is_dropped(tmp_path):
    times = [iso(s) for s in range(100)]
    for k in range(40, 45):
        times[k] = iso(86400 + k)
    info = entry(read_tracks(track_csv(tmp_path / "run.csv", times)))
    assert info["dropped"]["time_ahead"] == 5
    assert info["rows_kept"] == 95


def test_a_shorter_second_log_pasted_after_is_still_time_backwards(tmp_path):
    # rows 0..59 then 0..39 again: the 40 repeated rows go back in time
    times = [iso(s + 0.5) for s in range(60)] + [iso(s) for s in range(40)]
    info = entry(read_tracks(track_csv(tmp_path / "pasted.csv", times)))
    assert info["dropped"]["time_backwards"] == 40
    assert info["dropped"]["time_ahead"] == 0
    assert info["rows_kept"] == 60


def test_clean_fixes_counts_rows_once():
    n = 50
    raw = pd.DataFrame(
        {
            "lat": 55 + np.arange(n) * 1e-5,
            "lon": 12 + np.arange(n) * 1e-5,
            TIME_UTC: pd.Series(pd.to_datetime(T0) + pd.to_timedelta(np.arange(n), unit="s")),
        }
    )
    raw.loc[5, TIME_UTC] = pd.Timestamp("1999-12-31T23:59:59Z")
    raw.loc[20, TIME_UTC] = raw.loc[20, TIME_UTC] + pd.Timedelta(days=30)
    fixes, dropped = clean_fixes(raw, split_gap_s=60)
    assert dropped["time_out_of_range"] == 1
    assert dropped["time_ahead"] == 1
    assert len(fixes) + sum(dropped.values()) == n


# ------------------------------------------------------------------- heights
def test_absurd_heights_are_emptied_and_the_positions_kept(tmp_path):
    times = [iso(s) for s in range(10)]
    heights = ["50", "-inf", "1e308", "inf", "nan", "50001", "-50001", "49999", "50", "50"]
    fixes = read_tracks(track_csv(tmp_path / "h.csv", times, heights))
    assert len(fixes) == 10
    agl = fixes[ALT_AGL_M].to_numpy()
    assert np.isnan(agl[[1, 2, 3, 4, 5, 6]]).all()
    assert agl[[0, 7, 8, 9]].tolist() == [50.0, 49999.0, 50.0, 50.0]
    assert np.isfinite(fixes[ALT_MSL_M].dropna()).all()
    notes = entry(fixes)["notes"]
    assert any(note.startswith("5 row(s) with a height") for note in notes), notes


# ------------------------------------------------------------------ standoffs
def sites_csv(path: Path, standoff: str = "") -> Path:
    column = ",standoff_m" if standoff else ""
    value = f",{standoff}" if standoff else ""
    path.write_text(f"name,lon,lat,family{column}\nA,8.0,50.0,military{value}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("value", [2e7, -1.0, float("inf"), float("nan"), MAX_STANDOFF_M + 1])
def test_absurd_standoff_option_is_refused(tmp_path, value):
    with pytest.raises(UsageError, match="standoff"):
        read_sites(sites_csv(tmp_path / "s.csv"), standoff={"military": value})


def test_standoff_at_the_bound_is_taken(tmp_path):
    sites = read_sites(sites_csv(tmp_path / "s.csv"), standoff={"military": MAX_STANDOFF_M})
    assert sites["standoff_m"].tolist() == [MAX_STANDOFF_M]


@pytest.mark.parametrize("value", ["2e7", "-5", "inf", "100001"])
def test_absurd_standoff_column_is_refused_naming_the_row(tmp_path, value):
    path = sites_csv(tmp_path / "s.csv", standoff=value)
    with pytest.raises(InputError, match=r"s\.csv: row 2: standoff_m") as caught:
        read_sites(path)
    assert "\n" not in str(caught.value)


def test_catalog_with_an_absurd_standoff_is_refused(tmp_path):
    path = tmp_path / "catalog.toml"
    path.write_text(
        '[catalog]\nversion = 1\n[defaults]\nstandoff_m = 20000000\ncolor = "#123456"\n'
        '[families.water]\ncolor = "#0000ff"\nstandoff_m = 50\n'
        '[families.water.kinds.dam]\nstandoff_m = 50\ndescription = "A dam"\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"catalog\.toml.*standoff_m"):
        read_catalog(path)


def test_policy_with_an_absurd_standoff_is_refused(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("[standoff_m]\nmilitary = 2e7\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"policy\.toml: \[standoff_m\] military"):
        read_policy(path)


# ----------------------------------------------------------------- TOML files
def test_toml_nested_too_deep_is_one_line(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    for reader in (read_policy, read_catalog):
        with pytest.raises(InputError, match=r"deep\.toml: not valid TOML: nested too deep"):
            reader(path)


def test_policy_too_large_is_refused_unread(tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b"# " + b"x" * MAX_POLICY_BYTES + b"\n")
    with pytest.raises(InputError, match=r"big\.toml: larger than"):
        read_policy(path)


# ---------------------------------------------------------------- empty layers
def test_site_file_without_rows_is_refused(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("lon,lat\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"none\.csv: holds no site"):
        read_sites(path)


def test_site_file_whose_rows_are_all_dropped_is_refused(tmp_path):
    path = tmp_path / "nowhere.csv"
    path.write_text("name,lon,lat,family\nA,0,0,water\nB,,,water\n", encoding="utf-8")
    with (
        pytest.warns(InputWarning),
        pytest.raises(InputError, match=r"nowhere\.csv: holds no usable site: all 2 row"),
    ):
        read_sites(path)


def test_empty_frame_stays_an_empty_result():
    frame = gpd.GeoDataFrame({"name": [], "family": []}, geometry=[], crs="EPSG:4326")
    assert len(read_sites(frame)) == 0


def test_site_layers_name_the_empty_one(tmp_path):
    good = sites_csv(tmp_path / "good.csv")
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    with pytest.raises(InputError, match=r"empty\.geojson: holds no site"):
        read_site_layers([good, empty])


# ------------------------------------------------------------------ long lines
@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_check_line_lengths_counts_across_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(limits, "_CHUNK", chunk)
    path = tmp_path / "lines.txt"
    lines = [b"a" * n for n in (3, 0, 10, 5, 19, 2)]
    path.write_bytes(b"\n".join(lines))  # no end on the last line
    assert check_line_lengths(path, limit=20) == 6
    with pytest.raises(LimitError, match=r"^line 5 is longer than"):
        check_line_lengths(path, limit=19)  # line 5: 19 bytes and its end


def test_long_header_of_a_track_csv_is_refused_never_echoed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "wide.csv"
    secret = "\x1b]0;SECRET\x07"
    path.write_text("lat,lon,time," + secret * 2000 + "\n50,8," + iso(0) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1 is longer than 4 KiB") as caught:
        read_track_file(path)
    assert "SECRET" not in str(caught.value)
    with pytest.warns(InputWarning, match="line 1 is longer") as warned:
        fixes = read_tracks(path)
    assert len(fixes) == 0 and entry(fixes)["status"] == "skipped"
    assert all("SECRET" not in str(w.message) for w in warned)


def test_long_row_of_a_site_csv_is_refused_never_echoed(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "sites.csv"
    path.write_text("name,lon,lat\nA,8,50\n" + "B" * 5000 + ",8,50\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"sites\.csv: line 3 is longer than 4 KiB") as caught:
        read_sites(path)
    assert "BBBB" not in str(caught.value)


def test_sparse_site_file_is_refused_within_the_first_lines(tmp_path):
    path = tmp_path / "sparse.csv"
    with path.open("wb") as handle:
        handle.truncate(64 << 20)  # 64 MiB of NUL bytes, no line end
    with pytest.raises(InputError, match=r"sparse\.csv: line 1 is longer") as caught:
        read_sites(path)
    assert "\x00" not in str(caught.value) and len(str(caught.value)) < 200


def test_message_quotes_a_short_clean_excerpt(tmp_path):
    path = tmp_path / "odd.csv"
    value = "\x1b[2J" + "9" * 500
    path.write_text(f"name,lon,lat\nA,{value},50\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_sites(path)
    message = str(caught.value)
    assert "\x1b" not in message and len(message) < 200
    assert excerpt("\x1b[2J" + "9" * 500) in message


# ------------------------------------------------------------- compressed bombs
def write_kmz(path: Path, document: bytes, name: str = "doc.kml") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, document)
    return path


def kml(middle: bytes = b"") -> bytes:
    return (
        b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        + middle
        + b"<Placemark><gx:Track xmlns:gx='http://www.google.com/kml/ext/2.2'>"
        + b"<when>2021-06-01T10:00:00Z</when><gx:coord>8 50 10</gx:coord>"
        + b"<when>2021-06-01T10:00:01Z</when><gx:coord>8.0001 50 10</gx:coord>"
        + b"</gx:Track></Placemark></Document></kml>"
    )


def test_kmz_member_over_the_cap_is_refused_by_name(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 1 << 20)
    padding = b"<description>" + b"a" * (2 << 20) + b"</description>"
    path = write_kmz(tmp_path / "bomb.kmz", kml(padding))
    assert path.stat().st_size < 20_000  # a bomb: small packed, large unpacked
    with pytest.raises(InputError, match=r"KMZ member 'doc.kml' says it unpacks to \d+ bytes"):
        read_track_file(path)


def test_kmz_member_that_lies_about_its_size_is_stopped_while_read(tmp_path, monkeypatch):
    # the declared size passes; the bytes that come out are counted
    monkeypatch.setattr(limits, "RATIO_FROM_BYTES", 1 << 20)
    padding = b"<!--" + b"b" * (4 << 20) + b"-->"
    path = write_kmz(tmp_path / "comment.kmz", kml(padding))
    with pytest.raises(InputError, match=r"KMZ member 'doc.kml' unpacks to more than 200 times"):
        read_track_file(path)


def test_small_kmz_is_read(tmp_path):
    raw = read_track_file(write_kmz(tmp_path / "ok.kmz", kml()))
    assert len(raw.frame) == 2 and raw.format == "kmz"


def test_giant_xml_comment_is_parsed_in_linear_time(tmp_path):
    # expat before 2.6 scans a cut token again at every feed: fed in 16 KiB pieces,
    # 24 MiB of comment took about 40 s; fed in growing pieces, well under a second
    path = tmp_path / "comment.kml"
    path.write_bytes(kml(b"<!--" + b"c" * (24 << 20) + b"-->"))
    start = time.perf_counter()
    raw = read_track_file(path)
    assert time.perf_counter() - start < 15
    assert len(raw.frame) == 2


@pytest.mark.parametrize("opener", [gzip.open, bz2.open])
def test_osm_bomb_is_refused_before_libosmium_reads_it(tmp_path, monkeypatch, opener):
    monkeypatch.setattr(limits, "RATIO_FROM_BYTES", 1 << 20)
    suffix = ".gz" if opener is gzip.open else ".bz2"
    path = tmp_path / f"bomb.osm{suffix}"
    with opener(path, "wb") as stream:
        stream.write(b'<?xml version="1.0"?><osm version="0.6"><node id="1" lat="50" lon="8">')
        stream.write(b'<tag k="power" v="' + b"c" * (8 << 20) + b'"/></node></osm>')
    with pytest.raises(InputError, match=r"bomb\.osm\.(gz|bz2): its compressed data unpacks"):
        read_sites(path)


def test_zipped_site_layer_over_the_cap_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 1 << 16)
    path = tmp_path / "layer.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("small.txt", b"x")
        archive.writestr("big.geojson", b" " * (1 << 17))
    with pytest.raises(InputError, match=r"layer\.zip: member 'big.geojson' says it unpacks"):
        read_sites(path)


def test_bounded_counts_what_comes_out(tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "MAX_DECOMPRESSED_BYTES", 1000)
    path = tmp_path / "x.gz"
    with gzip.open(path, "wb") as stream:
        stream.write(b"z" * 1001)
    with (
        gzip.open(path, "rb") as raw,
        pytest.raises(LimitError, match="thing unpacks to more than 0 MiB"),
    ):
        bounded(raw, packed=10_000, what="thing").read()
    with gzip.open(path, "rb") as raw:
        assert len(bounded(raw, packed=10, what="thing", limit=2000).read()) == 1001


def test_point_sites_still_read(tmp_path):
    sites = read_sites(sites_csv(tmp_path / "s.csv"))
    assert shapely.equals(sites.geometry.iloc[0], shapely.Point(8.0, 50.0))


# ------------------------------------------------------------------------ GPX
def gpx(body: str, version: str = "1/1") -> bytes:
    return (
        '<?xml version="1.0"?>\n<gpx version="1.1" creator="t" '
        f'xmlns="http://www.topografix.com/GPX/{version}">{body}</gpx>'
    ).encode()


def trkpt(i: int, ele: str = "10") -> str:
    where = f'lat="{50 + i / 1e4}" lon="{8 + i / 1e4}"'
    return f"<trkpt {where}><ele>{ele}</ele><time>{iso(i)}</time></trkpt>"


@pytest.mark.parametrize("version", ["1/1", "1/0"])
def test_gpx_points_are_streamed_with_their_track_numbers(tmp_path, version):
    body = (
        "<metadata><name>x</name></metadata>"
        f"<trk><trkseg>{trkpt(0)}{trkpt(1)}</trkseg><trkseg>{trkpt(2, ' 12.5 ')}</trkseg></trk>"
        f"<trk><trkseg>{trkpt(100)}</trkseg></trk>"
    )
    path = tmp_path / "t.gpx"
    path.write_bytes(gpx(body, version))
    raw = read_track_file(path, alt_ref="msl")
    frame = raw.frame
    assert frame["lat"].tolist() == [50.0, 50.0001, 50.0002, 50.01]
    assert frame["lon"].tolist() == [8.0, 8.0001, 8.0002, 8.01]
    assert frame["segment"].tolist() == [0, 0, 0, 1]
    assert frame[ALT_MSL_M].tolist() == [10.0, 10.0, 12.5, 10.0]
    assert frame[TIME_UTC].tolist() == [pd.Timestamp(iso(s)) for s in (0, 1, 2, 100)]


def test_gpx_one_bad_time_costs_its_row(tmp_path):
    points = [trkpt(i) for i in range(50)]
    points[25] = points[25].replace(iso(25), "9999-12-31T00:00:00Z")
    path = tmp_path / "t.gpx"
    path.write_bytes(gpx("<trk><trkseg>" + "".join(points) + "</trkseg></trk>"))
    info = entry(fixes := read_tracks(path, alt_ref="msl"))
    assert info["dropped"]["time_out_of_range"] == 1 and len(fixes) == 49


def test_gpx_giant_attribute_is_parsed_in_linear_time(tmp_path):
    path = tmp_path / "attr.gpx"
    big = "d" * (24 << 20)
    path.write_bytes(gpx(f'<trk><name x="{big}"/><trkseg>{trkpt(0)}{trkpt(1)}</trkseg></trk>'))
    start = time.perf_counter()
    raw = read_track_file(path, alt_ref="msl")
    assert time.perf_counter() - start < 15
    assert len(raw.frame) == 2


def test_gpx_route_points_without_track_points(tmp_path):
    path = tmp_path / "r.gpx"
    path.write_bytes(gpx('<rte><rtept lat="50" lon="8"/><rtept lat="50.1" lon="8.1"/></rte>'))
    raw = read_track_file(path)
    assert raw.route == "planned"
    assert raw.frame["lon"].tolist() == [8.0, 8.1]


def test_malformed_gpx_is_one_line(tmp_path):
    path = tmp_path / "bad.gpx"
    path.write_bytes(gpx("<trk><trkseg>" + trkpt(0)))  # never closed
    with pytest.raises(InputError, match="not a readable GPX file") as caught:
        read_track_file(path)
    assert "\n" not in str(caught.value)
