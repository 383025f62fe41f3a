"""Text from the inputs made safe to print: shown as written, never interpreted, within bounds.

Names and ids come from files the user did not write: they may hold control
characters, bidirectional overrides, characters the font has no glyph for, ``$``
signs (which matplotlib would read as mathematics) and thousands of characters.
:func:`clean` keeps what can be shown, replaces the rest with ``?``, and cuts the
text to a length; every text is also drawn with ``parse_math=False``.
"""

from __future__ import annotations

import functools
import math
import re
import textwrap
import unicodedata
from typing import Any

__all__ = ["DASH", "clean", "clean_id", "duration", "number", "utc", "wrap"]

DASH = "\u2013"
_ELLIPSIS = "\u2026"
#: Control characters, zero-width and bidirectional marks, line and paragraph separators.
_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SPACES = re.compile(r"\s+")


@functools.cache
def _glyphs() -> frozenset[int]:
    """Return the code points that both DejaVu Sans and DejaVu Sans Bold can draw."""
    from matplotlib import font_manager, ft2font

    found = None
    for weight in ("normal", "bold"):
        prop = font_manager.FontProperties(family="DejaVu Sans", weight=weight)
        path = font_manager.findfont(prop, fallback_to_default=False)
        points = frozenset(ft2font.FT2Font(path).get_charmap())
        found = points if found is None else found & points
    return found or frozenset()


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value) or value is _nat()  # NaN, NaT
    except (TypeError, ValueError):
        return False


@functools.cache
def _nat() -> Any:
    import pandas as pd

    return pd.NaT


def clean(value: Any, limit: int = 80) -> str:
    r"""Make one line of printable text of at most ``limit`` characters.

    Missing values become an en dash (U+2013); control and invisible characters a space;
    characters without a glyph in the DejaVu fonts ``?``; a longer text is cut and
    ends with an ellipsis.

    >>> clean("Depot\x00 $x$ \u202eevil", 40)
    'Depot $x$ evil'
    >>> clean("a" * 10, 6)
    'aaaaa…'
    """
    if _missing(value):
        return DASH
    text = unicodedata.normalize("NFC", str(value))
    text = _SPACES.sub(" ", _INVISIBLE.sub(" ", text)).strip()
    glyphs = _glyphs()
    text = "".join(c if ord(c) in glyphs else "?" for c in text[: limit + 1])
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + _ELLIPSIS
    return text


def clean_id(value: Any, limit: int = 30) -> str:
    """Like :func:`clean`, but an id too long is cut in its middle: ids differ at both ends.

    >>> clean_id("Jun-12th-2026-10-31AM-Flight-Airdata.csv#1", 24)
    'Jun-12th-2026-…ata.csv#1'
    """
    text = clean(value, 10 * limit)
    if len(text) <= limit:
        return text
    tail = (limit - 1) * 2 // 5
    return text[: limit - 1 - tail] + _ELLIPSIS + text[len(text) - tail :]


def wrap(value: Any, width: int, lines: int) -> str:
    r"""Wrap text to at most ``lines`` lines of ``width`` characters, cut with an ellipsis.

    >>> print(wrap("one two three four", 9, 2))
    one two
    three…
    """
    text = clean(value, width * lines + 1)
    rows = textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [DASH]
    if len(rows) > lines:
        rows = rows[:lines]
        rows[-1] = rows[-1][: width - 1].rstrip() + _ELLIPSIS
    return "\n".join(rows)


def number(value: Any, decimals: int, unit: str = "") -> str:
    """Write a number with a fixed count of decimals, thousands apart, and its unit.

    >>> number(689132.235, 0, "m²"), number(None, 1, "m") == DASH, number(0.5, 2)
    ('689,132 m²', True, '0.50')
    """
    if _missing(value):
        return DASH
    try:
        v = float(value)
    except (TypeError, ValueError):
        return DASH
    if not math.isfinite(v):
        return DASH
    text = f"{v:,.{decimals}f}"
    return f"{text} {unit}" if unit else text


def duration(value: Any) -> str:
    """Write seconds also as minutes and hours: ``253.0 s (4 min 13 s)``.

    >>> duration(253.0), duration(42.04), duration(None) == DASH
    ('253.0 s (4 min 13 s)', '42.0 s', True)
    """
    text = number(value, 1, "s")
    if text == DASH:
        return text
    s = round(float(value))
    if s < 60:
        return text
    if s < 3600:
        return f"{text} ({s // 60} min {s % 60:02d} s)"
    return f"{text} ({s // 3600} h {s % 3600 // 60:02d} min)"


def utc(value: Any) -> str:
    """Write a time as ``2026-06-12 10:02:07 UTC``."""
    if _missing(value):
        return DASH
    import pandas as pd

    try:
        t = pd.Timestamp(value)
    except (TypeError, ValueError):
        return clean(value, 30)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.strftime("%Y-%m-%d %H:%M:%S UTC")
