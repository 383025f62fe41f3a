"""Replace aircraft and operator identities by keyed hashes, in tables and in a whole result.

Serial numbers are short and structured (a DJI serial is 14 characters of which the
first four name the model; a Remote ID Operator ID follows a national pattern), so a
plain hash of one is reversed by trying every serial of a model: an unkeyed SHA-256
hides nothing. The hash is therefore an HMAC-SHA256 under a key that the
organisation keeps (:data:`KEY_ENV`, at least :data:`MIN_KEY_CHARS` characters):
the same id gives the same hash in every report made with the same key, so reports
can be compared and shared, while no one without the key can tell which aircraft a
hash stands for. A hash is ``h:`` and the first 16 hexadecimal digits (64 bits) of
the HMAC of the id as written (spaces around it removed).

:func:`hash_result_ids` hashes ``aircraft_id``, ``operator_id`` and ``drone_id`` in
every table of an exposure result, and every raw id that the readers' notes and
reasons quote (``summary.json``), so no output carries a raw id.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from geoexpose.errors import UsageError
from geoexpose.exposure.result import ExposureResult, StreamResult
from geoexpose.schema import AIRCRAFT_ID, DRONE_ID, OPERATOR_ID

__all__ = [
    "HASHED_COLUMNS",
    "KEY_ENV",
    "MIN_KEY_CHARS",
    "hash_id",
    "hash_key",
    "hash_result_ids",
    "hash_table_ids",
    "scrub_record",
]

#: Environment variable holding the organisation's key for ``--hash-ids``.
KEY_ENV = "GEOEXPOSE_ID_KEY"
#: Shortest key accepted (characters).
MIN_KEY_CHARS = 16
#: The columns whose values are hashed.
HASHED_COLUMNS = (AIRCRAFT_ID, OPERATOR_ID, DRONE_ID)
_PREFIX = "h:"
# ids quoted in the readers' messages: "(serial 3NZCJ270048FFC)", "drone 'MFG1A...'"
_QUOTED = re.compile(r"(\bserial |\bdrone ')([^\s')(;,]+)")

T = TypeVar("T")


def hash_key(environ: Mapping[str, str] | None = None) -> bytes:
    """Return the key for hashing ids, from :data:`KEY_ENV`.

    Raises
    ------
    UsageError
        The variable is unset or shorter than :data:`MIN_KEY_CHARS` characters.
    """
    value = (os.environ if environ is None else environ).get(KEY_ENV, "")
    if len(value.strip()) < MIN_KEY_CHARS:
        raise UsageError(
            f"hashing ids needs a key of at least {MIN_KEY_CHARS} characters in the "
            f"environment variable {KEY_ENV} (e.g. export {KEY_ENV}=$(openssl rand -hex 32)); "
            "keep it: the same key gives the same hashes in every report"
        )
    return value.strip().encode("utf-8")


def hash_id(value: str, key: bytes) -> str:
    """Return the keyed hash of one id (an id already hashed is returned as it is).

    >>> key = b"0123456789abcdef"
    >>> hash_id("1W9DJ5S001JX5D", key)
    'h:1505304f2efc209c'
    >>> hash_id(" 1W9DJ5S001JX5D ", key) == hash_id(hash_id("1W9DJ5S001JX5D", key), key)
    True
    """
    text = str(value).strip()
    if text.startswith(_PREFIX) and len(text) == len(_PREFIX) + 16:
        return text
    digest = hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return _PREFIX + digest[:16]


def hash_table_ids(frame: T, key: bytes, columns: Iterable[str] = HASHED_COLUMNS) -> T:
    """Return a copy of a table with the ids in ``columns`` hashed (missing stay missing)."""
    if not isinstance(frame, pd.DataFrame):
        return frame
    present = [c for c in columns if c in frame]
    if not present:
        return frame
    out = frame.copy()  # attrs copied too: the readers' record, scrubbed by hash_result_ids
    for column in present:
        values = out[column]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        hashed = np.array([hash_id(u, key) for u in uniques.tolist()], dtype=object)
        mapped = np.where(codes >= 0, hashed[np.maximum(codes, 0)] if len(hashed) else None, None)
        out[column] = pd.array(mapped, dtype=values.dtype) if _is_text(values) else mapped
    return out  # type: ignore[return-value]


def _is_text(values: pd.Series) -> bool:
    return isinstance(values.dtype, pd.StringDtype)


def _scrub(value: Any, replace: Callable[[str], str]) -> Any:
    """Return ``value`` (nested dicts, lists, strings) with ``replace`` applied to its texts."""
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, dict):
        return {k: _scrub(v, replace) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub(v, replace) for v in value)
    return value


def _text_replacer(raw_ids: Iterable[str], key: bytes) -> Callable[[str], str]:
    """Return a function that hashes every raw id (and every quoted one) in a text."""
    ids = sorted({i for i in raw_ids if len(i) >= 4}, key=len, reverse=True)
    known = re.compile("|".join(re.escape(i) for i in ids)) if ids else None

    def replace(text: str) -> str:
        text = _QUOTED.sub(lambda m: m[1] + hash_id(m[2], key), text)
        if known is not None:
            text = known.sub(lambda m: hash_id(m[0], key), text)
        return text

    return replace


def _raw_ids(frames: Iterable[Any]) -> set[str]:
    found: set[str] = set()
    for frame in frames:
        if isinstance(frame, pd.DataFrame):
            for column in HASHED_COLUMNS:
                if column in frame:
                    values = frame[column].dropna().astype(str).str.strip()
                    found.update(v for v in values.unique().tolist() if not v.startswith(_PREFIX))
    return found


def hash_result_ids(result: ExposureResult, key: bytes) -> ExposureResult:
    """Return a copy of an exposure result with every aircraft and operator id hashed.

    The fixes, captures and flights (of a streamed result) are hashed column by column;
    the flights and the per-aircraft table are then made from them; the readers'
    records (``inputs``, the tables' ``attrs``: notes and reasons quoting an id) have
    every raw id replaced by its hash.
    """
    tables = [result.fixes, result.captures]
    if isinstance(result, StreamResult):
        tables.append(result.flight_table)
    replace = _text_replacer(_raw_ids(tables), key)
    changes: dict[str, Any] = {
        "fixes": hash_table_ids(result.fixes, key),
        "captures": hash_table_ids(result.captures, key),
        "inputs": _scrub(result.inputs, replace),
    }
    if isinstance(result, StreamResult):
        changes["flight_table"] = hash_table_ids(result.flight_table, key)
    out = dataclasses.replace(result, **changes)
    for name in ("fixes", "captures"):
        frame = getattr(out, name)
        if isinstance(frame, pd.DataFrame) and frame.attrs:
            frame.attrs = _scrub(frame.attrs, replace)
    return out


def scrub_record(record: T, raw: ExposureResult, key: bytes) -> T:
    """Return a copy of a reader record (a scan's file entries) with the ids of ``raw`` hashed.

    ``raw`` is the result before :func:`hash_result_ids`: its tables say which ids to
    look for.
    """
    tables = [raw.fixes, raw.captures]
    if isinstance(raw, StreamResult):
        tables.append(raw.flight_table)
    return _scrub(record, _text_replacer(_raw_ids(tables), key))  # type: ignore[no-any-return]
