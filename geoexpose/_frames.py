"""Frames without the ``attrs`` that readers record in them."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["without_attrs"]


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
