"""Run a streamed exposure on a Dask cluster (``expose_stream(..., engine="dask")``).

Each batch of whole flights (a few files of a GeoParquet table partitioned by flight,
a few track files, or a part of a frame) is one task; a worker reads its files itself,
so only descriptions of the batches travel, except for frames given in memory, which
are scattered. The sites, the capture windows and the parameters travel once: they
are scattered to every worker (``broadcast=True``) before the first task. Tasks come
back as they finish and their partial aggregates are merged exactly on the client
(:mod:`geoexpose.scale._merge`).

Without a scheduler address a :class:`distributed.LocalCluster` of worker processes
(one thread each, listening on 127.0.0.1 only, no dashboard) is started for the call
and closed after it. With an address (``"tcp://scheduler:8786"``) or a
``distributed.Client`` the work goes to that cluster; every worker needs geoexpose
installed and must see the input files at the same paths.

Needs ``pip install geoexpose[dask]``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from geoexpose.errors import UsageError

__all__ = ["DaskRunner"]

logger = logging.getLogger(__name__)

_IN_FLIGHT = 2  # tasks queued per worker: enough to keep it busy, few in memory


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Dask engine needs dask and distributed: pip install 'geoexpose[dask]'"
        ) from exc
    return distributed


def _load_and_run(func: Callable[[Any, Any], Any], batch: Any, shared: Any) -> Any:
    """Load a batch where the task runs, then work on it."""
    return func(batch.load(), shared)


class DaskRunner:
    """Run batches as tasks on a Dask cluster; see the module notes."""

    name = "dask"

    def __init__(self, scheduler: Any = None, *, threads: int = 1, workers: int | None = None):
        distributed = _import_distributed()
        self.threads = threads
        self._cluster = None
        if isinstance(scheduler, distributed.Client):
            self.client, self._own_client = scheduler, False
            return
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            logger.info("starting a LocalCluster of %d worker processes", n)
            self._cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            )
            scheduler = self._cluster
        elif not isinstance(scheduler, str):
            raise UsageError(f"scheduler: expected an address or a Client, got {scheduler!r}")
        try:
            self.client, self._own_client = distributed.Client(scheduler), True
        except OSError as exc:
            self.close()
            raise UsageError(f"scheduler {scheduler!r}: cannot connect ({exc})") from exc

    @property
    def workers(self) -> int:
        """The cluster's workers now."""
        return len(self.client.scheduler_info()["workers"])

    def share(self, obj: Any) -> Any:
        """Ship ``obj`` to every worker once; tasks get it by reference."""
        return self.client.scatter(obj, broadcast=True, hash=False)

    def map(
        self, func: Callable[[Any, Any], Any], batches: Iterable[Any], shared: Any
    ) -> Iterator[Any]:
        """Yield ``func(batch.load(), shared)`` for every batch, as tasks finish.

        Only a few tasks per worker are queued at a time, so batches given in memory
        are scattered as the work goes on, not all at once.
        """
        distributed = _import_distributed()
        limit = _IN_FLIGHT * max(self.workers, 1)
        queue = distributed.as_completed()
        it = iter(batches)

        def submit(batch: Any) -> None:
            frame = getattr(batch, "frame", None)
            if frame is not None:  # data in memory: ship it with its task
                data = self.client.scatter(frame, hash=False)
                queue.add(
                    self.client.submit(_frame_task, func, type(batch), data, shared, pure=False)
                )
            else:
                queue.add(self.client.submit(_load_and_run, func, batch, shared, pure=False))

        for running, batch in enumerate(it, start=1):
            submit(batch)
            if running >= limit:
                break
        for future in queue:
            result = future.result()
            future.release()
            nxt = next(it, None)
            if nxt is not None:
                submit(nxt)
            yield result

    def close(self) -> None:
        """Close the client and the LocalCluster this runner started."""
        if getattr(self, "_own_client", False):
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _frame_task(func: Callable[[Any, Any], Any], kind: type, frame: Any, shared: Any) -> Any:
    """Work on a frame that was scattered to the cluster ahead of the task."""
    return func(kind(frame).load(), shared)
