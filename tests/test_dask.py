"""The Dask engine on a LocalCluster of 2 workers gives exactly the answer of one call."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import geoexpose as gx
from geoexpose import geoparquet
from tests._stream_workloads import assert_same_result, demo_inputs, generated

if importlib.util.find_spec("distributed") is None:  # part of the test extra: CI runs these
    if os.environ.get("CI", "").lower() == "true":
        raise ImportError("the Dask tests need geoexpose[dask] (in the test extra)")
    pytest.skip("the dask extra is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def client():
    """The LocalCluster that the engine starts without a scheduler address: 2 processes."""
    from geoexpose.scale.dask_engine import DaskRunner

    runner = DaskRunner(None, workers=2)
    cluster = runner._cluster
    assert cluster is not None and runner.workers == 2
    yield runner.client
    runner.close()
    assert cluster.status.name == "closed" and runner.client.status == "closed"


def test_demo_on_two_workers_equals_one_call(client, tmp_path: Path) -> None:
    _, sites, fixes, captures = demo_inputs(tmp_path / "demo")
    expected = gx.expose(sites, fixes, captures=captures)
    got = gx.expose_stream(
        sites,
        fixes,
        captures=captures,
        engine="dask",
        scheduler=client,
        batch_fixes=4_000,
        batch_captures=120,
    )
    assert got.stats["workers"] == 2
    assert got.stats["batches"] >= 2 and got.stats["capture_batches"] >= 2
    assert_same_result(expected, got)


def test_generated_geoparquet_on_two_workers_equals_one_call(client, tmp_path: Path) -> None:
    sites, fixes, captures = generated()
    folder = geoparquet.write_fixes(fixes, tmp_path / "fixes", rows_per_file=3_000)
    expected = gx.expose(sites, fixes, captures=captures)
    got = gx.expose_stream(
        sites,
        folder,
        captures=captures,
        engine="dask",
        scheduler=client,
        batch_fixes=6_000,
        batch_captures=300,
    )
    assert got.stats["workers"] == 2
    assert got.stats["batches"] >= 3 and got.stats["capture_batches"] >= 2
    assert_same_result(expected, got)
    # the workers read the files themselves: the tasks named files, not data
    assert got.stats["fixes"] == len(fixes)


def test_import_geoexpose_does_not_import_dask() -> None:
    code = "import sys, geoexpose; print([m for m in ('dask', 'distributed') if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
