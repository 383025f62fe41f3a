"""The history store in PostGIS, on the throwaway cluster that ``.ci/run`` starts (no mock)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest

import geoexpose as gx
from geoexpose.store import Store

psycopg = pytest.importorskip("psycopg") if not os.environ.get("CI") else __import__("psycopg")
TABLES = ("gx_scans", "gx_files", "gx_flights", "gx_pairs", "gx_captures", "gx_capture_sites")
_CHILD = textwrap.dedent(
    """
    import sys, geoexpose as gx
    store, sites, *tracks = sys.argv[1:]
    gx.Store(store).add(gx.scan(tracks, sites))
    """
)


@pytest.fixture(scope="module")
def server():
    dsn = os.environ.get("GEOEXPOSE_TEST_POSTGRES")
    if not dsn:
        if os.environ.get("CI"):
            pytest.fail("GEOEXPOSE_TEST_POSTGRES is not set: .ci/run starts the cluster")
        pytest.skip("no PostgreSQL cluster (set GEOEXPOSE_TEST_POSTGRES, as .ci/run does)")
    return dsn


@pytest.fixture
def url(server):
    """A store in a schema of its own, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield f"{server}?schema={schema}"
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return gx.make_demo_inputs(tmp_path_factory.mktemp("demo"))


def _counts(url: str) -> dict[str, int]:
    dsn, schema = url.split("?schema=")
    with psycopg.connect(dsn) as con:
        return {t: con.execute(f"SELECT count(*) FROM {schema}.{t}").fetchone()[0] for t in TABLES}


def _child(url, demo, tracks, **env):
    args = [sys.executable, "-c", _CHILD, url, str(demo.sites), *map(str, tracks)]
    return subprocess.Popen(args, env={**os.environ, **env}, stderr=subprocess.PIPE)


def test_single_flight_scans_added_one_by_one_give_one_scan_of_all(demo, url):
    full = gx.scan([*demo.tracks, *demo.photos], demo.sites).result
    with Store(url) as store:
        for i, track in enumerate(demo.tracks):
            photos = track.parent / "photos" / f"flight{i + 1}"
            assert store.add(gx.scan([track, photos], demo.sites)).flights_added == 1
        history = store.history()
    a = full.sites.set_index("site_id")
    b = history.sites.set_index("site_id").loc[a.index]
    for col in ("n_flights", "n_captures", "dwell_s", "min_distance_m", "imaged_area_m2",
                "best_gsd_cm", "exposure_score"):  # fmt: skip
        np.testing.assert_allclose(a[col].astype(float), b[col].astype(float), rtol=1e-9)
    assert (a["first_seen_utc"] == b["first_seen_utc"]).all()
    assert len(history.captures) == 227  # 78 + 72 + 77 photos


def test_tables_in_their_schema_with_their_version_and_srid(demo, url):
    done = gx.scan(demo.tracks, demo.sites)
    with Store(url) as store:
        assert store.add(done).flights_added == 3
        assert store.add(done).files_known == 3
    dsn, schema = url.split("?schema=")
    with psycopg.connect(dsn) as con:
        version = con.execute(f"SELECT value FROM {schema}.gx_meta").fetchone()[0]
        srid, kind = con.execute(
            f"SELECT DISTINCT ST_SRID(geom), GeometryType(geom) FROM {schema}.gx_flights"
        ).fetchone()
        written = con.execute(f"SELECT DISTINCT geoexpose_version FROM {schema}.gx_scans")
        assert [r[0] for r in written] == [gx.__version__]
    assert (version, srid, kind) == ("1", 4326, "MULTILINESTRING")


def test_two_processes_adding_at_once_lose_nothing_and_duplicate_nothing(demo, url):
    with Store(url) as store:
        store.files()  # the tables exist; the two writers race for the rows
    a = _child(url, demo, demo.tracks[:2])
    b = _child(url, demo, demo.tracks[1:])
    for child in (a, b):
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    counts = _counts(url)
    assert (counts["gx_scans"], counts["gx_files"], counts["gx_flights"]) == (2, 3, 3)


def test_a_writer_killed_before_it_commits_leaves_the_store_as_it_was(demo, url, tmp_path):
    with Store(url) as store:
        store.add(gx.scan([demo.tracks[0]], demo.sites))
    before = _counts(url)
    marker = tmp_path / "written"
    child = _child(url, demo, demo.tracks[1:], GEOEXPOSE_STORE_TEST_PAUSE=str(marker))
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert _counts(url) == before
    with Store(url) as store:  # the lock went with the killed connection
        assert store.add(gx.scan(demo.tracks[1:], demo.sites)).flights_added == 2


def test_history_from_postgis_on_the_command_line(demo, url, tmp_path):
    from click.testing import CliRunner

    from geoexpose.cli.main import main

    run = CliRunner().invoke
    scan = ["scan", *map(str, demo.tracks), "--sites", str(demo.sites), "--out",
            str(tmp_path / "s"), "--site-maps", "none", "--store", url, "-q"]  # fmt: skip
    assert run(main, scan).exit_code == 0
    out = run(main, ["history", url, "--out", str(tmp_path / "h"), "--site-maps", "none"])
    assert out.exit_code == 0, out.output
    assert "3 flights" in out.output and (tmp_path / "h" / "summary.json").exists()
    assert "password" not in out.output


def test_a_password_in_the_address_is_refused():
    with pytest.raises(gx.UsageError, match="PGPASSWORD") as err:
        Store("postgresql://me:secret@localhost:5432/db")
    assert "secret" not in str(err.value)


@pytest.fixture
def utm_table(server, demo):
    """The demo's sites in a PostGIS table in UTM zone 26N (EPSG:32626), not EPSG:4326."""
    from urllib.parse import quote

    import geopandas as gpd

    schema = f"s_{uuid.uuid4().hex[:12]}"
    sites = gpd.read_file(demo.sites)
    utm = sites.to_crs(32626)
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            f"CREATE TABLE {schema}.plants (site_id text, family text, kind text, name text, "
            "operator text, capacity_mw numeric, geom geometry(Geometry, 32626), "
            '"a "" quote" text)'  # a column name that must not close its own quotes
        )
        with con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {schema}.plants VALUES (%s, %s, %s, %s, %s, %s, "
                "ST_GeomFromWKB(%s, 32626), 'q')",
                [
                    (
                        r.site_id,
                        r.family,
                        r.kind,
                        r.name,
                        r.operator,
                        12.5 if i == 0 else None,
                        g.wkb,
                    )
                    for i, (r, g) in enumerate(zip(utm.itertuples(), utm.geometry, strict=True))
                ],
            )
    yield sites, f"{server}?table={schema}.plants", f"{schema}.plants", quote
    with psycopg.connect(server, autocommit=True) as con:
        con.execute(f"DROP SCHEMA {schema} CASCADE")


def test_sites_read_from_a_postgis_table_in_another_srid(utm_table):
    sites, url, _, _ = utm_table
    got = gx.read_sites(url)
    assert got.crs.to_epsg() == 4326 and got["site_id"].tolist() == sites["site_id"].tolist()
    import shapely

    far = shapely.hausdorff_distance(got.geometry.to_numpy(), sites.geometry.to_numpy())
    assert far.max() < 1e-7  # degrees: a round trip through UTM, about 1 cm
    assert got["capacity_mw"].iloc[0] == 12.5 and got["capacity_mw"].iloc[1:].isna().all()
    assert got["operator"].tolist() == sites["operator"].tolist()
    assert "plants" in got["source"].iloc[0] and got["source"].iloc[0].startswith("postgresql://")


def test_sites_from_a_postgis_query_and_a_scan_over_them(utm_table, demo, tmp_path):
    sites, url, table, quote = utm_table
    base = url.split("?")[0]
    power = gx.read_sites(
        f"{base}?sql={quote(f'SELECT * FROM {table} WHERE family = ' + repr('power'))}"
    )
    assert sorted(power["site_id"]) == sorted(sites.loc[sites["family"] == "power", "site_id"])
    from_db = gx.scan(demo.tracks, url).result.sites.set_index("site_id")
    from_file = gx.scan(demo.tracks, demo.sites).result.sites.set_index("site_id")
    assert (from_db["n_flights"] == from_file.loc[from_db.index, "n_flights"]).all()
    np.testing.assert_allclose(
        from_db["dwell_s"], from_file.loc[from_db.index, "dwell_s"], rtol=1e-6, atol=1e-6
    )
    with pytest.raises(gx.InputError, match=r"no_such_table|does not exist"):
        gx.read_sites(f"{base}?table=public.no_such_table")
    with pytest.raises(gx.UsageError, match=r"table=SCHEMA\.TABLE or"):
        gx.read_sites(base)


def test_results_written_to_postgis_tables(demo, server, tmp_path):
    from click.testing import CliRunner

    from geoexpose.cli.main import main

    schema = f"r_{uuid.uuid4().hex[:12]}"
    url = f"{server}?schema={schema}"
    args = ["scan", *map(str, demo.tracks), "--sites", str(demo.sites), "--out",
            str(tmp_path / "s"), "--site-maps", "none", "--to-postgis", url, "-q"]  # fmt: skip
    try:
        done = CliRunner().invoke(main, args)
        assert done.exit_code == 0, done.output
        full = gx.scan(demo.tracks, demo.sites).result
        with psycopg.connect(server) as con:
            n_sites, srid = con.execute(
                f"SELECT count(*), max(ST_SRID(geom)) FROM {schema}.sites"
            ).fetchone()
            dwell = dict(con.execute(f"SELECT site_id, dwell_s FROM {schema}.sites").fetchall())
            n_flights = con.execute(f"SELECT count(*) FROM {schema}.flights").fetchone()[0]
            kind = con.execute(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'flights' AND column_name = 'first_seen_utc'",
                (schema,),
            ).fetchone()[0]
        assert (n_sites, srid, n_flights) == (len(full.sites), 4326, 3)
        assert kind == "timestamp with time zone"
        expected = full.sites.set_index("site_id")["dwell_s"]
        assert dwell == pytest.approx(expected.to_dict())
        again = CliRunner().invoke(main, [*args[:5], str(tmp_path / "t"), *args[6:]])
        assert again.exit_code == 1 and "exists" in again.output
    finally:
        with psycopg.connect(server, autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
