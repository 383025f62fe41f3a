"""What the autopilot log readers (ArduPilot, MAVLink, PX4) share: decoders, times, degrees.

The decoders (pymavlink, pyulog) are optional dependencies, imported when a log is
read (:func:`import_optional`); whatever they raise or print is turned into a
one-line :class:`~geoexpose.errors.InputError` and kept off the caller's output
(:func:`library_errors`). Log times are UNIX seconds taken as plausible between
2000 and 2100 (:func:`epoch_times`); positions are degrees or integers of 1e-7
degrees (:func:`degrees`). The camera records of every log have the same columns
(:data:`CAMERA_COLUMNS`).
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pandas as pd

from geoexpose.errors import InputError
from geoexpose.schema import (
    ALT_AGL_M,
    ALT_MSL_M,
    LAT,
    LON,
    PITCH_DEG,
    ROLL_DEG,
    TIME_DTYPE,
    TIME_UTC,
    YAW_DEG,
)

__all__ = [
    "CAMERA_COLUMNS",
    "EPOCH_MAX_S",
    "EPOCH_MIN_S",
    "MESSAGE",
    "degrees",
    "epoch_times",
    "import_optional",
    "library_errors",
]

logger = logging.getLogger(__name__)

#: The log message a camera record came from (``CAM``, ``TRIG``, ``CAMERA_FEEDBACK``,
#: ``camera_capture``).
MESSAGE = "message"
#: Columns of the camera records of a log, in order.
CAMERA_COLUMNS = [TIME_UTC, LAT, LON, ALT_MSL_M, ALT_AGL_M, ROLL_DEG, PITCH_DEG, YAW_DEG, MESSAGE]

#: Plausible UNIX seconds for log times: 2000-01-01 .. 2100-01-01.
EPOCH_MIN_S, EPOCH_MAX_S = 946684800.0, 4102444800.0


def import_optional(module: str, package: str) -> ModuleType:
    """Import ``module`` of an optional dependency, or raise InputError naming pip."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise InputError(f"reading this log needs {package}: pip install {package}") from exc


@contextlib.contextmanager
def _quiet_stderr_fd() -> Iterator[None]:
    """Send what compiled code writes to file descriptor 2 to a temporary file."""
    try:
        saved = os.dup(2)
    except OSError:  # no standard error to protect
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            os.dup2(sink.fileno(), 2)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said = sink.read(2000)
            if said:
                logger.debug("log decoder wrote: %s", said.decode("utf-8", "replace"))


@contextlib.contextmanager
def library_errors(what: str) -> Iterator[None]:
    """Turn any error of a third-party log decoder into a one-line InputError.

    What the decoder prints (pymavlink prints "bad header ..." to standard error
    for every damaged byte, from Python and from its compiled indexer) is kept
    off the caller's standard output and error and logged at debug level.
    """
    printed = io.StringIO()
    try:
        with (
            contextlib.redirect_stdout(printed),
            contextlib.redirect_stderr(printed),
            _quiet_stderr_fd(),
        ):
            yield
    except InputError:
        raise
    except MemoryError as exc:
        raise InputError(f"{what} cannot be read (corrupt sizes: out of memory)") from exc
    except Exception as exc:  # decoders of damaged binary files raise anything
        text = " ".join(str(exc).split())[:120] or type(exc).__name__
        raise InputError(f"{what} cannot be read ({text})") from exc
    finally:
        if printed.getvalue():
            logger.debug("%s decoder said: %s", what, printed.getvalue()[:2000])


def epoch_times(seconds: np.ndarray) -> pd.Series:
    """UNIX seconds to UTC times; NaT outside 2000-2100 (unset or damaged clocks)."""
    seconds = np.asarray(seconds, dtype="float64")
    ok = (seconds > EPOCH_MIN_S) & (seconds < EPOCH_MAX_S)
    ns = np.where(ok, np.round(np.where(ok, seconds, 0.0) * 1e6), 0).astype("int64") * 1000
    times = pd.Series(ns.astype("datetime64[ns]")).dt.tz_localize("UTC")
    return times.where(ok).astype(TIME_DTYPE)


def degrees(values: np.ndarray) -> np.ndarray:
    """Latitudes or longitudes in degrees, from degrees or integers of 1e-7 degrees."""
    values = np.asarray(values, dtype="float64")
    finite = values[np.isfinite(values)]
    if len(finite) and np.abs(finite).max() > 360:
        return values * 1e-7
    return values
