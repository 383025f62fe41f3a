"""A file read in pieces through blocks against the same file read at once, compared."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import geoexpose as gx
from geoexpose.tracks import pieces, read_track_pieces
from geoexpose.tracks._row_blocks import WHOLE

__all__ = ["WHOLE", "joined", "same_as_whole", "same_fixes"]


def joined(found: list) -> pd.DataFrame:
    """The pieces' fixes, each once (a repeated first fix left out)."""
    frames = []
    for piece in found:
        fixes = piece.fixes()
        repeated = fixes["flight_id"].isin(piece.continued)
        first = repeated & ~repeated.shift(1, fill_value=False)
        frames.append(fixes[~first.to_numpy()])
    return pd.concat(frames, ignore_index=True)


def same_fixes(joined: pd.DataFrame, whole: pd.DataFrame) -> None:
    """Assert the same flights, times, heights and places, fix by fix."""
    assert len(joined) == len(whole)
    for col in ("flight_id", "time_utc", "alt_agl_m", "alt_msl_m", "alt_ref"):
        assert joined[col].astype(str).tolist() == whole[col].astype(str).tolist(), col
    assert joined.geometry.geom_equals_exact(whole.geometry, 0).all()


def same_as_whole(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    rows: int = 64,
    in_blocks: bool = True,
    **options: Any,
) -> tuple[pd.DataFrame, dict]:
    """Read ``path`` whole and in pieces through blocks of ``rows``: assert the same.

    Every column of every fix, and the file entry (rows read and kept, drops, time
    basis, flights, format, notes but the note of a file read whole); the pieces'
    file entry says it was read whole exactly where ``in_blocks`` is False. Returns
    the whole reading's fixes and the pieces' file entry.
    """
    whole = gx.read_tracks(path, duplicates="keep", **options)
    w_entry = whole.attrs["geoexpose"]["files"][0]
    monkeypatch.setattr(pieces, "BLOCK_ROWS", rows)
    found = list(read_track_pieces(path, piece_fixes=150, **options))
    fixes, entry = joined(found), found[0].entry
    same_fixes(fixes, whole)
    assert list(fixes.columns) == list(whole.columns)
    for col in whole.columns.drop("geometry"):  # every column: speeds, flags, aircraft
        assert fixes[col].astype(str).tolist() == whole[col].astype(str).tolist(), col
    blocked = [note for note in entry["notes"] if note.startswith(WHOLE)]
    assert not blocked if in_blocks else blocked, entry["notes"]
    for key in ("rows_read", "rows_kept", "dropped", "time_basis", "flights", "format"):
        assert entry[key] == w_entry[key], key
    assert [n for n in entry["notes"] if not n.startswith(WHOLE)] == w_entry["notes"]
    return whole, entry
