"""Do two methods give the same per-site answer? Agreement within documented tolerances.

The two methods differ in conventions, so only some columns must match exactly:

- which sites are exposed (``n_flights > 0``) and ``n_flights``: equal, except for
  fixes lying within a few metres of a zone's edge (the CRSs and buffer polygons differ);
- ``dwell_s``: within 1 s + 2 % (the baseline counts whole 0.1-s fix intervals and
  cannot interpolate zone entry and exit; edge fixes add a few tenths of a second);
- ``min_distance_m``: within 0.5 m + 1 % (CONUS Albers is off scale by up to ~1 %);
- ``min_agl_m``: within 0.5 m; ``first_seen_utc``/``last_seen_utc``: within 1 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoexpose.schema import (
    DWELL_S,
    FIRST_SEEN_UTC,
    LAST_SEEN_UTC,
    MIN_AGL_M,
    MIN_DISTANCE_M,
    N_FLIGHTS,
    SITE_ID,
    TIME_DTYPE,
)

__all__ = ["TOLERANCES", "Agreement", "compare", "format_agreement"]

# column: (absolute tolerance, relative tolerance); times in seconds.
TOLERANCES: dict[str, tuple[float, float]] = {
    N_FLIGHTS: (0.0, 0.0),
    DWELL_S: (1.0, 0.02),
    MIN_DISTANCE_M: (0.5, 0.01),
    MIN_AGL_M: (0.5, 0.0),
    FIRST_SEEN_UTC: (1.0, 0.0),
    LAST_SEEN_UTC: (1.0, 0.0),
}


@dataclass(frozen=True)
class Agreement:
    """How two per-site results agree.

    ``within`` maps each compared column to the share of sites exposed by both methods
    whose values agree within ``TOLERANCES``; ``max_diff`` to the largest absolute
    difference (seconds for times).
    """

    exposed_a: int
    exposed_b: int
    exposed_both: int
    only_a: list[str]
    only_b: list[str]
    within: dict[str, float]
    max_diff: dict[str, float]
    dwell_total_a: float
    dwell_total_b: float


def _as_float(values: pd.Series) -> np.ndarray:
    """Numbers as float; tz-aware times as seconds since the epoch."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        ns = values.astype(TIME_DTYPE).array.asi8.astype("float64")
        return np.where(values.isna().to_numpy(), np.nan, ns / 1e9)
    return values.to_numpy(dtype="float64", na_value=np.nan)


def compare(a: pd.DataFrame, b: pd.DataFrame) -> Agreement:
    """Compare per-site results ``a`` and ``b`` (columns of ``baseline.RESULT_COLUMNS``)."""
    a_exp = a[a[N_FLIGHTS] > 0].set_index(SITE_ID)
    b_exp = b[b[N_FLIGHTS] > 0].set_index(SITE_ID)
    both = a_exp.index.intersection(b_exp.index)
    within: dict[str, float] = {}
    max_diff: dict[str, float] = {}
    for column, (atol, rtol) in TOLERANCES.items():  # six columns
        x = _as_float(a_exp.loc[both, column])
        y = _as_float(b_exp.loc[both, column])
        diff = np.abs(x - y)
        ok = diff <= atol + rtol * np.maximum(np.abs(x), np.abs(y))
        within[column] = float(ok.mean()) if ok.size else 1.0
        max_diff[column] = float(np.nanmax(diff)) if diff.size else 0.0
    return Agreement(
        exposed_a=len(a_exp),
        exposed_b=len(b_exp),
        exposed_both=len(both),
        only_a=sorted(a_exp.index.difference(b_exp.index)),
        only_b=sorted(b_exp.index.difference(a_exp.index)),
        within=within,
        max_diff=max_diff,
        dwell_total_a=float(a_exp[DWELL_S].sum()),
        dwell_total_b=float(b_exp[DWELL_S].sum()),
    )


def format_agreement(agreement: Agreement, name_a: str, name_b: str) -> str:
    """A few lines for the terminal."""
    g = agreement
    lines = [
        f"sites exposed: {name_a} {g.exposed_a}, {name_b} {g.exposed_b}, both {g.exposed_both}"
        f" (only {name_a}: {len(g.only_a)}, only {name_b}: {len(g.only_b)})",
    ]
    for label, ids in ((name_a, g.only_a), (name_b, g.only_b)):
        if ids:
            lines.append(f"  only {label}, first few: {', '.join(ids[:5])}")
    total = max(abs(g.dwell_total_a), abs(g.dwell_total_b), 1e-9)
    lines.append(
        f"total dwell: {name_a} {g.dwell_total_a:,.1f} s, {name_b} {g.dwell_total_b:,.1f} s"
        f" ({100.0 * (g.dwell_total_a - g.dwell_total_b) / total:+.2f} %)"
    )
    lines.append("sites exposed by both, share agreeing within tolerance (largest difference):")
    for column, share in g.within.items():
        atol, rtol = TOLERANCES[column]
        tol = f"{atol:g}" + (f" + {100 * rtol:g} %" if rtol else "")
        largest = g.max_diff[column]
        lines.append(f"  {column:<15} {100.0 * share:6.2f} %  (tolerance {tol}; max {largest:.3g})")
    return "\n".join(lines)
