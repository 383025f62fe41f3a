"""Share work out to forked child processes, where this process may fork, and take it back in order.

A scan's work is mostly single-threaded Python and pandas, and much of it holds the GIL,
so threads do not overlap it; forked children do, and inherit what the parent has
built (the sites, the prepared tables) without copying it. :func:`fork_map` gives each
child every ``n``-th item, and the parent takes the results back in the items' order
through one pipe per child, so a child is at most a result or two ahead of the
parent. A child's exception is raised in the parent at its item; its warnings are
warned again in the parent, in order; a child that dies (killed, out of memory)
leaves its items to the parent, which works them itself.

:func:`can_fork` says when forking is safe: on Linux only (macOS forks, but system
libraries may not survive it), and from a process with one thread, since a lock
that another thread holds at the fork stays locked in the child forever (a notebook's
kernel, a Dask worker and a caller's thread pool are never forked). Everywhere else
:func:`fork_map` works the items one after another in the caller's process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import pickle
import signal
import struct
import sys
import threading
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

__all__ = ["ForkedMap", "can_fork", "default_workers", "fork_map"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_HEADER = struct.Struct("<Q")  # the length of one pickled result
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_MAX_WORKERS = 8


def can_fork() -> bool:
    """Whether this process may fork children to work for it (see module notes)."""
    return (
        hasattr(os, "fork") and sys.platform.startswith("linux") and threading.active_count() == 1
    )


def default_workers() -> int:
    """Return the processes worth forking here: one per CPU this process may use, at most 8."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, _MAX_WORKERS))


def fork_map(
    func: Callable[[T], R], items: Sequence[T], *, workers: int, keep_freed: bool = False
) -> ForkedMap[R]:
    """Work ``func(item)`` for each item in up to ``workers`` children; results in order.

    The children are forked at once, so the caller may do other work before it takes
    the results (iterating the returned :class:`ForkedMap`, or in a ``with`` block that
    stops the children still working at its end). Where :func:`can_fork` is False,
    ``workers`` is below 2 or there are fewer than two items, the items are worked
    here, one after another, as they are taken. ``func`` and the items are not pickled
    (the children inherit them); the results are, so they must be picklable. ``func``
    must not change what the parent goes on using (its changes stay in the child)
    and should draw no progress bar (the parent draws them). ``keep_freed``: the
    children keep the memory they free for reuse (see :func:`_keep_freed_memory`),
    for items that each allocate and free buffers of some megabytes (files read).

    Examples
    --------
    >>> list(fork_map(lambda x: x * x, [1, 2, 3, 4], workers=2))
    [1, 4, 9, 16]
    """
    n = min(int(workers), len(items))
    if n >= 2 and can_fork():
        try:
            return ForkedMap(None, _Children(func, items, n, keep_freed))
        except OSError as exc:  # no more processes allowed: worked here
            logger.warning("cannot fork workers (%s); working in this process", exc)
    return ForkedMap(map(func, items), None)


class ForkedMap(Iterator[R]):
    """The results of :func:`fork_map`, taken in the items' order."""

    def __init__(self, here: Iterator[R] | None, children: _Children | None) -> None:
        self._here, self._children, self._next = here, children, 0

    def __iter__(self) -> ForkedMap[R]:
        return self

    def __next__(self) -> R:
        if self._here is not None:
            return next(self._here)
        children = self._children
        if children is None or self._next >= len(children.items):
            self.close()
            raise StopIteration
        i, self._next = self._next, self._next + 1
        try:
            return children.result(i)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the children still working (their results are lost) and reap them."""
        if self._children is not None:
            self._children.close()
            self._children = None

    def __enter__(self) -> ForkedMap[R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter exit, for one
            self.close()


class _Children:
    """The forked children of one :func:`fork_map`, and their pipes."""

    def __init__(
        self, func: Callable[[Any], Any], items: Sequence[Any], n: int, keep_freed: bool
    ) -> None:
        self.func, self.items, self.n, self.keep_freed = func, items, n, keep_freed
        self.pids: list[int | None] = []
        self.pipes: list[Any] = []
        for stream in (sys.stdout, sys.stderr):  # nothing buffered is written twice
            with contextlib.suppress(OSError, ValueError):  # closed, or a reader gone
                stream.flush()
        try:
            for w in range(n):
                self._fork(w)
        except OSError:
            self.close()  # the children forked already go: the caller works alone
            raise

    def _fork(self, w: int) -> None:
        """Fork child ``w``: it works items ``w``, ``w + n``, ... and sends the results."""
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            raise
        if pid == 0:  # pragma: no cover  (the child; coverage does not follow it)
            os.close(read_end)
            for pipe in self.pipes:
                pipe.close()
            if self.keep_freed:
                _keep_freed_memory()
            _work(self.func, self.items, w, self.n, write_end)
        os.close(write_end)
        self.pids.append(pid)
        self.pipes.append(os.fdopen(read_end, "rb"))

    def result(self, i: int) -> Any:
        """Return the result of item ``i`` (raise its error; warn its warnings)."""
        w = i % self.n
        message = _receive(self.pipes[w]) if self.pids[w] is not None else None
        if message is None:  # the child is gone: its items are worked here
            if self.pids[w] is not None:
                logger.warning("a forked worker stopped; its share is worked here")
                self._reap(w)
            return self.func(self.items[i])
        ok, value, caught = message
        for text, category, filename, lineno in caught:
            warnings.warn_explicit(text, category, filename, lineno)
        if not ok:
            raise value
        return value

    def _reap(self, w: int, *, kill: bool = False) -> None:
        pid = self.pids[w]
        if pid is None:
            return
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        self.pids[w] = None

    def close(self) -> None:
        """Stop the children that are still working and close the pipes."""
        for pipe in self.pipes:
            pipe.close()
        for w in range(len(self.pids)):
            self._reap(w, kill=True)


def _keep_freed_memory() -> None:
    """Let glibc's malloc keep freed blocks below 64 MB for reuse, in this (child) process.

    A reader of files allocates and frees buffers of some megabytes per file; by
    default glibc gives blocks over its threshold back at once, and the next file
    faults in new, zeroed pages: half a million page faults and over a second of
    kernel time for 200 logs of 4 MB. A child gives all back when it ends, but holds
    more while it lives, so only :func:`fork_map` calls with ``keep_freed`` ask for it
    (a site map's child would hold 250 MB more); a parent never changes its allocator.
    """
    with contextlib.suppress(OSError, AttributeError):  # not glibc: as it is
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
        mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        mallopt(_M_MMAP_THRESHOLD, 64 << 20)
        mallopt(_M_TRIM_THRESHOLD, 256 << 20)


def _work(func: Callable[[Any], Any], items: Sequence[Any], w: int, n: int, fd: int) -> None:
    """Work items ``w``, ``w + n``, ... in the child, send each result, then end the child."""
    status = 0
    try:
        with os.fdopen(fd, "wb") as pipe:
            for i in range(w, len(items), n):
                with warnings.catch_warnings(record=True) as caught:
                    try:
                        ok, value = True, func(items[i])
                    except Exception as exc:  # raised again in the parent, at this item
                        ok, value = False, exc
                said = [(str(c.message), c.category, c.filename, c.lineno) for c in caught]
                _send(pipe, (ok, value, said))
    except BaseException:  # a broken pipe (the parent stopped), an interrupt: just leave
        status = 1
    finally:
        os._exit(status)


def _send(pipe: Any, message: tuple[bool, Any, list[Any]]) -> None:
    """Write one message: its pickled length, then the pickle."""
    try:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable result or exception: say what it was
        problem = RuntimeError(f"{type(message[1]).__name__} from a forked worker: {exc}")
        data = pickle.dumps((False, problem, message[2]), protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def _receive(pipe: Any) -> tuple[bool, Any, list[Any]] | None:
    """Read one message, or None where the child's pipe ended before it."""
    head = pipe.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = pipe.read(size)
    if len(data) < size:
        return None
    return pickle.loads(data)
