"""The peak memory of reading one track file in pieces, measured in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

#: Where the child imports geoexpose from (a copy of an older tree may be named, to
#: measure the code before a change).
ROOT = os.environ.get("GEOEXPOSE_BLOCKS_ROOT", str(Path(__file__).resolve().parents[1]))

_CHILD = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from geoexpose.tracks import pieces, read_track_pieces
    if sys.argv[3]:
        pieces.BLOCK_ROWS = int(sys.argv[3])
    def status(key):
        with open("/proc/self/status") as lines:
            return next(int(l.split()[1]) for l in lines if l.startswith(key))
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # the peak of the imports forgotten
    base = status("VmRSS")
    n = 0
    for piece in read_track_pieces(sys.argv[2], piece_fixes=50_000):
        n += piece.n_fixes
        piece.fixes()
    peak = status("VmHWM")
    print(json.dumps({"base_kb": base, "peak_kb": peak, "fixes": n}))
    """
)


def pieces_peak_mb(path: Path, *, fixes: int, block_rows: int | None = None) -> float:
    """Read ``path`` in pieces of 50,000 fixes in a fresh process (Linux: /proc/self).

    Returns the peak resident memory over the process's start (MB, the imports'
    peak forgotten), once the pieces gave ``fixes`` fixes (asserted); the file is
    removed then. ``block_rows``: the blocks' rows, if not the default.
    """
    args = [sys.executable, "-c", _CHILD, ROOT, str(path), str(block_rows or "")]
    done = subprocess.run(args, capture_output=True, text=True, check=True, env=os.environ)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    path.unlink()
    assert found["fixes"] == fixes
    return (found["peak_kb"] - found["base_kb"]) / 1024
