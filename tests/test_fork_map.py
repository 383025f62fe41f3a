"""Work shared out to forked children: results in order, errors and warnings where they arose.

A process that runs threads is never forked (see :func:`geoexpose._fork.can_fork`),
and tests run before these may leave some (a Dask cluster's). Each test here that
needs to fork runs, where this process cannot, in a new Python process of its own.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import warnings

import pytest

from geoexpose import _fork
from geoexpose._fork import can_fork, fork_map
from geoexpose.errors import InputError, InputWarning

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
_FRESH = "GEOEXPOSE_TEST_FRESH_PROCESS"


def fresh(test):
    """Run ``test`` here where this process may fork, else alone in a new pytest process."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        if can_fork() or os.environ.get(_FRESH):
            return test(*args, **kwargs)
        node = f"{__file__}::{test.__name__}"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node]
        env = {**os.environ, _FRESH: "1"}
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert " passed" in done.stdout  # it ran, and was not skipped

    return run


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


@linux
@fresh
def test_results_come_in_order_from_other_processes():
    out = list(fork_map(_pid_and_square, list(range(23)), workers=3))
    assert [sq for _, sq in out] == [x * x for x in range(23)]
    pids = {pid for pid, _ in out}
    assert os.getpid() not in pids
    assert len(pids) == 3  # every n-th item to one child


def test_one_worker_or_one_item_works_here():
    assert {pid for pid, _ in fork_map(_pid_and_square, [1, 2, 3], workers=1)} == {os.getpid()}
    assert [pid for pid, _ in fork_map(_pid_and_square, [5], workers=4)] == [os.getpid()]


@linux
@fresh
def test_a_threaded_process_is_never_forked():
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        out = list(fork_map(_pid_and_square, [1, 2, 3], workers=2))
    finally:
        stop.set()
        thread.join()
    assert {pid for pid, _ in out} == {os.getpid()}
    assert can_fork()


def _fails_on_three(x: int) -> int:
    if x == 3:
        raise InputError(f"item {x} is bad")
    return x


@linux
@fresh
def test_an_error_is_raised_at_its_item_and_the_children_are_reaped():
    taken = []
    with pytest.raises(InputError, match="item 3 is bad"):
        for value in fork_map(_fails_on_three, list(range(10)), workers=2):
            taken.append(value)
    assert taken == [0, 1, 2]
    with pytest.raises(ChildProcessError):  # no child left behind
        os.waitpid(-1, os.WNOHANG)


def _warns(x: int) -> int:
    warnings.warn(InputWarning(f"file {x}: odd"), stacklevel=1)
    return x


@linux
@fresh
def test_warnings_are_warned_again_in_order():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert list(fork_map(_warns, [0, 1, 2, 3], workers=2)) == [0, 1, 2, 3]
    said = [str(w.message) for w in caught if issubclass(w.category, InputWarning)]
    assert said == [f"file {x}: odd" for x in range(4)]


def _dies_on_two(x: int) -> tuple[int, int]:
    if x == 2 and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return os.getpid(), x


PARENT = os.getpid()


@linux
@fresh
def test_a_child_that_dies_leaves_its_items_to_the_parent(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "PARENT", os.getpid())
    out = list(fork_map(_dies_on_two, [0, 1, 2, 3, 4, 5], workers=2))
    assert [x for _, x in out] == [0, 1, 2, 3, 4, 5]
    # child 0 had items 0, 2, 4: it died at 2, so 2 and 4 were worked here
    assert [pid == os.getpid() for pid, _ in out] == [False, False, True, False, True, False]


@linux
@fresh
def test_the_caller_works_while_the_children_do():
    with fork_map(_pid_and_square, [1, 2, 3, 4], workers=2) as done:
        mine = _pid_and_square(10)  # the parent's own share, meanwhile
        theirs = list(done)
    assert mine == (os.getpid(), 100)
    assert [sq for _, sq in theirs] == [1, 4, 9, 16]


@linux
@fresh
def test_results_not_taken_are_dropped_and_the_children_reaped():
    done = fork_map(_pid_and_square, list(range(50)), workers=2)
    assert next(done)[1] == 0
    done.close()
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
    assert _fork.default_workers() >= 1


@linux
@fresh
def test_real_tracks_read_by_two_children_are_those_read_here(realdata):
    """Every real track format, read in forked children: same fixes, entries, warnings."""
    import pandas as pd

    import geoexpose as gx

    def read(workers: int):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fixes = gx.read_tracks(realdata / "tracks", workers=workers)
        return fixes, [str(w.message) for w in caught if issubclass(w.category, InputWarning)]

    assert can_fork()
    here, said_here = read(1)
    forked, said_forked = read(2)
    assert len(here) > 1000
    pd.testing.assert_frame_equal(forked, here)
    assert forked.attrs["geoexpose"] == here.attrs["geoexpose"]
    assert said_forked == said_here and said_here  # the real folder has files to warn of


@linux
@fresh
def test_real_photos_read_in_shares_by_children_are_those_read_here(realdata, monkeypatch):
    import pandas as pd

    import geoexpose as gx
    from geoexpose.imagery import read as imagery_read

    def read(workers: int):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            captures = gx.read_captures(realdata / "dji_images", workers=workers)
        return captures, [str(w.message) for w in caught]

    assert can_fork()  # so the shares below go to children
    here, said_here = read(1)
    monkeypatch.setattr(imagery_read, "_PHOTO_SHARE", 3)  # several shares of a few photos
    forked, said_forked = read(2)
    assert len(here) >= 10
    pd.testing.assert_frame_equal(forked, here)
    assert forked.attrs["geoexpose"] == here.attrs["geoexpose"]
    assert said_forked == said_here


def _same_page(path_a, path_b) -> bool:
    """Whether two pages are the same but for folium's random element ids."""
    import re

    def norm(p):
        return re.sub(r"[0-9a-f]{32}", "X", p.read_text(encoding="utf-8"))

    return norm(path_a) == norm(path_b)


@linux
@fresh
@pytest.mark.parametrize("photos", [True, False])
def test_site_maps_drawn_by_children_are_those_drawn_here(tmp_path, photos):
    # with photos the overview is drawn first (the children reuse its thumbnails),
    # without them the children draw while the overview is drawn
    import geoexpose as gx
    from geoexpose.maps import write_maps

    assert can_fork()
    demo = gx.demo.make_demo_inputs(tmp_path / "inputs")
    inputs = [*demo.tracks, *demo.photos] if photos else list(demo.tracks)
    result = gx.scan(inputs, demo.sites).result
    files = result.captures["path"].str.lower().str.endswith(".jpg")
    assert bool(files.any()) == photos  # else only the logs' photo triggers
    here = write_maps(result, tmp_path / "here", site_maps="all", workers=1)
    forked = write_maps(result, tmp_path / "forked", site_maps="all", workers=2)
    assert [p.name for p in forked] == [p.name for p in here]
    assert len(here) >= 6  # the overview and the demo town's exposed sites
    for a, b in zip(here, forked, strict=True):
        assert _same_page(a, b), a.name


@linux
@fresh
def test_no_fork_allowed_works_here(monkeypatch):
    forked = []

    def refuse() -> int:
        if forked:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        forked.append(1)
        return real_fork()

    real_fork = os.fork
    monkeypatch.setattr(os, "fork", refuse)  # the first child is made, the second not
    out = list(fork_map(_pid_and_square, [1, 2, 3, 4], workers=2))
    assert out == [(os.getpid(), x * x) for x in [1, 2, 3, 4]]
    with pytest.raises(ChildProcessError):  # the first child was stopped and reaped
        os.waitpid(-1, os.WNOHANG)
