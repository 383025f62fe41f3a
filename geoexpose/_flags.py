"""Flags: the ``;``-joined words per row of the ``flags`` columns."""

from __future__ import annotations

import numpy as np

__all__ = ["add_flag", "join_flags"]


def add_flag(flags: np.ndarray, where: np.ndarray, word: str) -> np.ndarray:
    """Return a copy of ``flags`` with ``word`` appended where ``where`` is true.

    >>> add_flag(np.array(["", "a"], dtype=object), np.array([True, True]), "b").tolist()
    ['b', 'a;b']
    """
    out = np.array(flags, dtype=object)
    for i in np.flatnonzero(where):
        out[i] = f"{out[i]};{word}" if out[i] else word
    return out


def join_flags(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Join two arrays of flags row by row, each word once, in order of first appearance.

    >>> join_flags(np.array(["a;b", ""]), np.array(["b;c", "d"])).tolist()
    ['a;b;c', 'd']
    """
    out = np.empty(len(a), dtype=object)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        out[i] = ";".join(w for w in dict.fromkeys(f"{x};{y}".split(";")) if w)
    return out
