"""The replay of a map: flights and captures in time, for the page's time slider.

:func:`add_replay` puts one data block on the page, read by the runtime's
``geoexpose.replay``: a slider (``<input type="range">``) with play/pause, speed
and a UTC readout that draws, at the time chosen, each aircraft's position and its
trail so far and the captures taken so far. The fixes are thinned to at most
``max_points`` (evenly over each flight, first and last fix kept), so a scan of a
million fixes adds a few hundred kilobytes to the page.

Times are milliseconds since 1970 (UTC); positions are integer micro-degrees,
each the difference from the one before in its flight, as the geometry blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geoexpose.maps._canvas import Canvas
from geoexpose.maps._html_inline import page_part
from geoexpose.maps._layers import CAPTURE_COLORS, REPLAY_COLOR, base_names
from geoexpose.schema import CAM_LAT, CAM_LON, CAPTURE_ID, FLIGHT_ID, PATH, TIME_UTC
from geoexpose.tracks import fix_lonlat

__all__ = ["REPLAY_POINTS", "add_replay", "flight_label", "replay_data", "utc_ms"]

REPLAY_POINTS = 20_000  # fixes in a page's replay, at most, over all its flights
_LABEL_CHARS = 14


def utc_ms(values: pd.Series) -> np.ndarray:
    """Each time as float milliseconds since 1970 UTC; NaN where missing or not a time.

    >>> utc_ms(pd.Series(["1970-01-01T00:00:01.5Z", None])).tolist()
    [1500.0, nan]
    """
    times = pd.to_datetime(values, utc=True, errors="coerce", format="mixed")
    ns = times.to_numpy(dtype="datetime64[ns]").astype("int64").astype("float64")
    ns[times.isna().to_numpy()] = np.nan
    return ns / 1e6


def flight_label(flight_ids: list[str]) -> list[str]:
    """Short, distinct labels of flight ids: what tells them apart, with ellipses.

    Ids of at most ``_LABEL_CHARS`` characters stay whole. Longer ones keep the
    part where they differ from the others (the text they all share before and
    after it is cut), widened to ``_LABEL_CHARS``; a label that would still be the
    same as another's is the full id.

    >>> flight_label(["f1", "Sep-5th-2021-07-23PM-Flight-Airdata.csv#1",
    ...               "Sep-5th-2021-07-48PM-Flight-Airdata.csv#1"])
    ['f1', '…2021-07-23PM-F…', '…2021-07-48PM-F…']
    >>> flight_label(["a-rather-long-flight-id.csv#1"])
    ['a-rathe…d.csv#1']
    """
    ids = [str(f) for f in flight_ids]
    longs = list(dict.fromkeys(f for f in ids if len(f) > _LABEL_CHARS))
    if len(longs) < 2:
        head = _LABEL_CHARS // 2
        cut = {f: f[:head] + "…" + f[-(_LABEL_CHARS - head) :] for f in longs}
    else:
        pre = _shared(longs)
        post = _shared([f[::-1] for f in longs])
        cut = {}
        for f in longs:
            a, b = min(pre, len(f) - post), max(pre, len(f) - post)
            spare = max(_LABEL_CHARS - (b - a), 0)
            a = max(0, a - spare * 2 // 3)  # more room before: dates and times lead
            b = min(len(f), a + max(_LABEL_CHARS, b - a))
            cut[f] = ("…" if a > 0 else "") + f[a:b] + ("…" if b < len(f) else "")
    seen: dict[str, int] = {}
    for text in cut.values():
        seen[text] = seen.get(text, 0) + 1
    return [cut[f] if f in cut and seen[cut[f]] == 1 else f for f in ids]


def _shared(texts: list[str]) -> int:
    """Count the leading characters that all ``texts`` share.

    >>> _shared(["abcx", "abdy"])
    2
    """
    n = min(len(t) for t in texts)
    for i in range(n):
        if any(t[i] != texts[0][i] for t in texts):
            return i
    return n


def _thin(flight: np.ndarray, n_max: int) -> np.ndarray:
    """Positions to keep of fixes sorted by flight: at most ``n_max``, spread evenly per flight."""
    n = len(flight)
    if n <= n_max:
        return np.arange(n)
    keep = np.unique(np.linspace(0, n - 1, n_max).round().astype("int64"))
    starts = np.flatnonzero(np.r_[True, flight[1:] != flight[:-1]])
    ends = np.r_[starts[1:] - 1, n - 1]
    return np.unique(np.concatenate([keep, starts, ends]))


def replay_data(
    fixes: pd.DataFrame | None,
    captures: pd.DataFrame | None,
    *,
    rows: np.ndarray | None = None,
    max_points: int = REPLAY_POINTS,
) -> dict[str, Any] | None:
    """Make the replay's data: per flight its thinned times and positions; the captures' times.

    ``rows``: the positions of the fixes to replay (all by default). Returns None
    when nothing has a time.
    """
    flights: list[dict[str, Any]] = []
    times: list[np.ndarray] = []
    if fixes is not None and len(fixes) and TIME_UTC in fixes:
        sub = fixes if rows is None else fixes.iloc[np.asarray(rows, dtype="int64")]
        t = utc_ms(sub[TIME_UTC])
        ids = (
            sub[FLIGHT_ID].astype(str).to_numpy(dtype=object)
            if FLIGHT_ID in sub
            else np.full(len(sub), "flight", dtype=object)
        )
        codes, names = pd.factorize(ids)
        xy = fix_lonlat(sub)
        ok = np.isfinite(t) & np.isfinite(xy).all(axis=1)
        order = np.flatnonzero(ok)[np.lexsort((t[ok], codes[ok]))]
        order = order[_thin(codes[order], max_points)]
        c, t, xy = codes[order], t[order], np.round(xy[order] * 1e6).astype("int64")
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.zeros(0, int)
        labels = flight_label([str(names[k]) for k in c[starts]])
        for k, (a, b) in enumerate(zip(starts, np.r_[starts[1:], len(c)], strict=True)):
            tt = np.round(t[a:b]).astype("int64")
            d = np.diff(xy[a:b], axis=0, prepend=np.zeros((1, 2), dtype="int64"))
            flights.append(
                {
                    "id": str(names[c[a]]),
                    "label": labels[k],
                    "t0": int(tt[0]),
                    "dt": np.diff(tt).tolist(),
                    "d": d.reshape(-1).tolist(),
                }
            )
            times.append(tt[[0, -1]].astype("float64"))
    shots: dict[str, Any] = {}
    if captures is not None and len(captures) and TIME_UTC in captures:
        t = utc_ms(captures[TIME_UTC])
        nan = np.full(len(t), np.nan)
        xy = np.column_stack(
            [
                pd.to_numeric(captures[c], errors="coerce").to_numpy("float64")
                if c in captures
                else nan
                for c in (CAM_LON, CAM_LAT)
            ]
        )
        ok = np.isfinite(t) & np.isfinite(xy).all(axis=1)
        order = np.flatnonzero(ok)[np.argsort(t[ok], kind="stable")]
        if len(order):
            names = (
                base_names(captures[PATH]).to_numpy(dtype=object)[order]
                if PATH in captures
                else captures[CAPTURE_ID].astype(str).to_numpy(dtype=object)[order]
                if CAPTURE_ID in captures
                else np.full(len(order), "capture", dtype=object)
            )
            shots = {
                "t": np.round(t[order]).astype("int64").tolist(),
                "xy": np.round(xy[order] * 1e6).astype("int64").reshape(-1).tolist(),
                "name": [str(v) for v in names],
            }
            times.append(np.array([t[order][0], t[order][-1]]))
    if not times:
        return None
    span = np.concatenate(times)
    return {
        "start": int(np.nanmin(span)),
        "end": int(np.nanmax(span)),
        "flights": flights,
        "captures": shots,
        "color": REPLAY_COLOR,
        "capture_color": CAPTURE_COLORS[1],
    }


def add_replay(canvas: Canvas, data: dict[str, Any] | None) -> bool:
    """Add the time slider of ``data`` (from :func:`replay_data`) to the map; False if None."""
    if data is None:
        return False
    block = canvas.block(data)

    def call(element: Any) -> str:
        return f'geoexpose.replay({element._parent.get_name()}, "{block}");'

    canvas.map.add_child(page_part("GeoexposeReplay", script=call))
    return True
