"""Write an output folder in a child process, for the tests of interrupted and concurrent writes.

Run as ``python tests/_outputs_writer.py OUT SITE_MAPS [--overwrite] [--pause stage|commit]``.
The result is the fleet of ``test_site_maps``: eight sites 1 km apart at 50 N, six of
them (s1 to s6) flown over. ``--pause stage`` stops after the first map is written into the
staging folder, ``--pause commit`` after the first file is moved into ``OUT``; both
print ``PAUSED`` and sleep, for the parent to kill the process with SIGKILL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import numpy as np
import pandas as pd
import shapely
from conftest import make_sites, make_track

import geoexpose as gx
from geoexpose import _atomic
from geoexpose.maps import _canvas


def fleet() -> gx.ExposureResult:
    """Eight point sites 1 km apart; flights pass s1 to s5 and hover over s6."""
    lon = 8.0 + 0.014 * np.arange(8)
    sites = make_sites(shapely.points(lon, np.full(8, 50.0)))
    a = make_track(np.linspace(lon[1] - 0.002, lon[2] + 0.002, 600), 50.0, dt_s=1.0, flight="a")
    b = make_track(np.linspace(lon[2], lon[5], 300), 50.0003, dt_s=1.0, flight="b")
    c = make_track(np.full(50, lon[6]), np.full(50, 50.0002), dt_s=1.0, flight="c")
    return gx.expose(sites, pd.concat([a, b, c], ignore_index=True))


def _pause() -> None:
    print("PAUSED", flush=True)
    time.sleep(120)


def main() -> None:
    args = argparse.ArgumentParser()
    args.add_argument("out")
    args.add_argument("site_maps")
    args.add_argument("--overwrite", action="store_true")
    args.add_argument("--pause", choices=["stage", "commit"])
    opts = args.parse_args()
    if opts.pause == "stage":
        write_page = _canvas.write_page

        def slow_page(m, path):  # type: ignore[no-untyped-def]
            out = write_page(m, path)
            _pause()
            return out

        _canvas.write_page = slow_page
        import geoexpose.maps._output_maps as output_maps

        output_maps.write_page = slow_page  # type: ignore[attr-defined]
    if opts.pause == "commit":
        replace = os.replace

        def slow_replace(src, dst):  # type: ignore[no-untyped-def]
            replace(src, dst)
            if _atomic.STAGE_PREFIX in str(src) and _atomic.STAGE_PREFIX not in str(dst):
                _pause()

        _atomic.os.replace = slow_replace  # type: ignore[assignment]
    fleet().write(opts.out, overwrite=opts.overwrite, site_maps=opts.site_maps)
    print("DONE", flush=True)


if __name__ == "__main__":
    main()
