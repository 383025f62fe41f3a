"""Progress bars that start no thread, so that a process with one thread may still fork.

tqdm starts a monitor thread with its first bar (shown or not) unless its class says
``monitor_interval = 0``; a thread makes :func:`geoexpose._fork.can_fork` False for
the rest of the process. :class:`Bar` is tqdm without that monitor, leaving the
caller's own tqdm settings alone; :func:`progress_bar` makes no bar at all where none
is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from tqdm import tqdm

__all__ = ["Bar", "progress_bar"]

T = TypeVar("T")


class Bar(tqdm):  # type: ignore[type-arg]
    """A tqdm bar without a monitor thread; drawn only on a terminal."""

    monitor_interval = 0


def progress_bar(iterable: Iterable[T], *, progress: bool, **kwargs: Any) -> Iterable[T]:
    """Return ``iterable`` with a bar over it where ``progress`` (on a terminal), else itself.

    >>> progress_bar([1, 2], progress=False)
    [1, 2]
    """
    if not progress:
        return iterable
    return Bar(iterable, disable=None, **kwargs)
