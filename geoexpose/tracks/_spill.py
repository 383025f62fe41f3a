"""Keep blocks of one large file's columns on disk while it is read, in a folder removed after.

A :class:`Spill` is a temporary folder (:func:`tempfile.mkdtemp`, never the output
folder) holding numbered blocks of several kinds (the reader's rows, the rows kept,
masks of a cleaning pass), each written and read back whole with :mod:`pickle`. The
blocks are read into ordinary memory (not mapped), so what a reader holds at once is
the block it works on, however long the file. The folder goes when the spill is
closed, on error too, and at the latest when the object is collected.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

__all__ = ["Spill"]


class Spill:
    """Numbered blocks of named kinds in a temporary folder.

    Examples
    --------
    >>> with Spill() as spill:
    ...     spill.put("rows", 0, [1, 2])
    ...     folder = spill.folder
    ...     spill.get("rows", 0), folder.is_dir()
    ([1, 2], True)
    >>> folder.exists()
    False
    """

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="geoexpose_spill_"))
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _path(self, kind: str, number: int) -> Path:
        return self.folder / f"{kind}_{number}.pkl"

    def put(self, kind: str, number: int, value: Any) -> None:
        """Write block ``number`` of ``kind`` (replacing one written before)."""
        with self._path(kind, number).open("wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)

    def get(self, kind: str, number: int) -> Any:
        """Read block ``number`` of ``kind`` back."""
        with self._path(kind, number).open("rb") as handle:
            return pickle.load(handle)  # our own file, of this run

    def drop(self, kind: str, number: int) -> None:
        """Remove block ``number`` of ``kind`` (no longer needed)."""
        self._path(kind, number).unlink(missing_ok=True)

    def close(self) -> None:
        """Remove the folder and all its blocks."""
        self._cleanup()
