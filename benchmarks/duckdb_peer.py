"""The same per-site exposure in DuckDB spatial: the second peer of the scale benchmark.

This is what a competent DuckDB user writes: read both GeoParquet files, project sites
and fixes to CONUS Albers (EPSG:5070, as the geopandas baseline does), buffer each
site by its standoff, join the fixes inside the zones (DuckDB plans a spatial join on
``ST_Intersects``), and aggregate per flight x site and per site with the baseline's
conventions (``benchmarks/baseline.py``): a fix in a zone adds the interval to the
next fix of its flight when that is at most ``max_gap_s``.

The spatial extension is loaded from the installed ``duckdb-extension-spatial``
package (never downloaded): ``pip install duckdb==1.5.5 duckdb-extension-spatial==1.5.5
duckdb-extensions==1.5.5``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.baseline import BASELINE_CRS, RESULT_COLUMNS
from geoexpose.schema import TIME_DTYPE

__all__ = ["connect", "duckdb_exposure"]


def connect(threads: int | None = None) -> Any:
    """A DuckDB connection with the spatial extension of the installed package loaded."""
    import duckdb
    import duckdb_extension_spatial

    folder = Path(duckdb_extension_spatial.__file__).parent / "extensions"
    path = folder / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no spatial extension for duckdb {duckdb.__version__}")
    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    con.execute(f"LOAD '{path}'")
    return con


def duckdb_exposure(
    sites: Path, fixes: Path, *, max_gap_s: float = 5.0, threads: int | None = None
) -> tuple[pd.DataFrame, int, dict[str, float]]:
    """Per-site exposure (``baseline.RESULT_COLUMNS``), the number of pairs, and timings.

    ``load_s`` reads both files into DuckDB tables; ``run_s`` projects, buffers, joins
    and aggregates.
    """
    con = connect(threads)
    start = time.perf_counter()
    con.execute(
        f"CREATE TABLE sites AS SELECT site_id, standoff_m, geometry FROM read_parquet('{sites}')"
    )
    con.execute(
        "CREATE TABLE fixes AS SELECT flight_id, time_utc, alt_agl_m, "
        f"geometry.x AS lon, geometry.y AS lat FROM read_parquet('{fixes}')"
    )
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    crs = f"'EPSG:4326', '{BASELINE_CRS}', always_xy := true"
    con.execute(
        f"""
        CREATE TABLE zones AS
        SELECT site_id, g, ST_Buffer(g, standoff_m) AS zone
        FROM (SELECT site_id, standoff_m, ST_Transform(geometry, {crs}) AS g FROM sites)
        """
    )
    con.execute(
        f"""
        CREATE TABLE steps AS
        SELECT flight_id, time_utc, alt_agl_m,
               ST_Transform(ST_Point(lon, lat), {crs}) AS p,
               COALESCE(epoch(LEAD(time_utc) OVER w) - epoch(time_utc), 0.0) AS dt
        FROM fixes
        WINDOW w AS (PARTITION BY flight_id ORDER BY time_utc)
        """
    )
    con.execute(
        f"""
        CREATE TABLE pairs AS
        SELECT s.flight_id, z.site_id,
               count(*) AS n_fixes,
               sum(CASE WHEN s.dt <= {float(max_gap_s)} THEN s.dt ELSE 0 END) AS dwell_s,
               min(ST_Distance(s.p, z.g)) AS min_distance_m,
               min(s.alt_agl_m) AS min_agl_m,
               min(s.time_utc) AS first_seen_utc,
               max(s.time_utc) AS last_seen_utc
        FROM steps s JOIN zones z ON ST_Intersects(z.zone, s.p)
        GROUP BY s.flight_id, z.site_id
        """
    )
    query = """
        SELECT z.site_id,
               coalesce(count(p.flight_id), 0) AS n_flights,
               coalesce(sum(p.dwell_s), 0.0) AS dwell_s,
               min(p.min_distance_m) AS min_distance_m,
               min(p.min_agl_m) AS min_agl_m,
               min(p.first_seen_utc) AS first_seen_utc,
               max(p.last_seen_utc) AS last_seen_utc
        FROM zones z LEFT JOIN pairs p USING (site_id)
        GROUP BY z.site_id
        """
    per_site = con.execute(query).to_arrow_table().to_pandas()  # (.df() warns on pandas 3)
    n_pairs = int(con.execute("SELECT count(*) FROM pairs").fetchone()[0])
    run_s = time.perf_counter() - start
    con.close()
    for col in ("first_seen_utc", "last_seen_utc"):
        per_site[col] = pd.to_datetime(per_site[col], utc=True).astype(TIME_DTYPE)
    return per_site[RESULT_COLUMNS], n_pairs, {"load_s": load_s, "run_s": run_s}
