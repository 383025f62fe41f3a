"""Shared fixtures and builders for the geoexpose tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def _realdata_root() -> Path | None:
    value = os.environ.get("GEOEXPOSE_REALDATA")
    if not value:
        return None
    return Path(value)


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The folder of real public files named by GEOEXPOSE_REALDATA.

    Tests that use it skip where the variable is unset, and fail under CI=true:
    there the real files must be read.
    """
    root = _realdata_root()
    if root is None or not root.is_dir():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("GEOEXPOSE_REALDATA must name the real-data folder under CI=true")
        pytest.skip("GEOEXPOSE_REALDATA is not set")
    return root
