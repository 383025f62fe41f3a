"""The file entries readers record in a frame's ``attrs``: taken, kept, or left behind."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["concat_keeping_files", "reader_files", "without_attrs"]


def without_attrs(frame: Any) -> Any:
    """Return a shallow copy of a frame without its ``attrs``; the input is untouched.

    What readers record in ``attrs`` (file entries, sometimes thousands) would be
    deep-copied by every pandas step. Anything but a frame with ``attrs`` is returned
    as it is.

    >>> frame = pd.DataFrame({"a": [1]})
    >>> frame.attrs["geoexpose"] = {"files": []}
    >>> without_attrs(frame).attrs, frame.attrs
    ({}, {'geoexpose': {'files': []}})
    """
    if not isinstance(frame, pd.DataFrame) or not frame.attrs:
        return frame
    out = frame.copy(deep=False)
    out.attrs = {}
    return out


def reader_files(frame: pd.DataFrame | None) -> list[dict[str, Any]]:
    """Return the file entries a reader recorded in ``attrs["geoexpose"]["files"]``.

    >>> frame = pd.DataFrame({"a": [1]})
    >>> frame.attrs["geoexpose"] = {"files": [{"path": "a.csv"}]}
    >>> reader_files(frame), reader_files(None)
    ([{'path': 'a.csv'}], [])
    """
    attrs = frame.attrs if frame is not None else {}
    return list(attrs.get("geoexpose", {}).get("files", []))


def concat_keeping_files(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames (a new index) keeping the file entries of the first one.

    >>> first = pd.DataFrame({"a": [1]})
    >>> first.attrs["geoexpose"] = {"files": [{"path": "a.csv"}]}
    >>> both = concat_keeping_files([first, pd.DataFrame({"a": [2]})])
    >>> both["a"].tolist(), reader_files(both)
    ([1, 2], [{'path': 'a.csv'}])
    """
    files = reader_files(frames[0])
    out = pd.concat(frames, ignore_index=True)
    out.attrs["geoexpose"] = {"files": files}
    return out
