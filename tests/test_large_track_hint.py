"""A track file too large for the memory engine is read with a hint to stream it."""

from __future__ import annotations

import subprocess
import sys
import warnings

import pytest

from geoexpose.errors import InputWarning
from geoexpose.tracks import read as tracks_read
from geoexpose.tracks.read import read_tracks


def _track(path):
    rows = [f"2025-05-01T10:00:{s:02d}Z,50.0{s:02d},8.0,30" for s in range(10)]
    path.write_text("time,lat,lon,alt\n" + "\n".join(rows) + "\n")
    return path


def test_a_file_over_the_limit_warns_before_it_is_read(tmp_path, monkeypatch):
    small, big = _track(tmp_path / "small.csv"), _track(tmp_path / "big.csv")
    with big.open("a") as f:  # a few bytes larger than the other
        f.write("\n\n")
    monkeypatch.setattr(tracks_read, "LARGE_TRACK_BYTES", small.stat().st_size)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fixes = read_tracks([small, big], duplicates="keep")
    said = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    hints = [m for m in said if "held in memory" in m]
    assert len(hints) == 1 and hints[0].startswith(str(big))
    assert "engine='local'" in hints[0]
    assert len(fixes) == 20  # read all the same


def test_the_command_line_names_its_option(tmp_path):
    track = _track(tmp_path / "t.csv")
    sites = tmp_path / "sites.csv"
    sites.write_text("site_id,family,lat,lon\nA,water,50.0,8.0\n")
    probe = (
        "import sys\n"
        "from geoexpose.tracks import read\n"
        "read.LARGE_TRACK_BYTES = 10\n"
        "from geoexpose.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    args = [sys.executable, "-c", probe, "scan", str(track), "--sites", str(sites)]
    args += ["--out", str(tmp_path / "out")]
    done = subprocess.run(args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stderr.splitlines() if "held in memory" in x)
    assert "--engine local" in line and "engine=" not in line


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))
