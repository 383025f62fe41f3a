"""The unit of epoch numbers given in blocks is the one the whole column's median picks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoexpose.tracks._epoch import EpochFacts


def _unit_of_whole(values: np.ndarray, given: float | None = None) -> float | None:
    """The rule on the whole column, with numpy's median (None: too small for dates)."""
    finite = np.abs(values[np.isfinite(values)])
    median = float(np.median(finite)) if len(finite) else 0.0
    unit = given
    if unit is None:
        unit = 1.0
        for scale in (1e-3, 1e-6, 1e-9):
            if median * unit >= 1e11:
                unit = scale
    return None if 0 < median * unit < 1e8 else unit


def _unit_of_blocks(values: np.ndarray, cuts: np.ndarray, given: float | None = None):
    facts = EpochFacts(given)
    for part in np.split(values, cuts):
        facts.see(pd.Series(part))
    try:
        return facts.unit("t")
    except ValueError:
        return None


MAGNITUDES = [0.0, 3e3, 9.99e7, 1.7e9, 1.7e12, 1.7e15, 1.7e18, np.nan, np.inf, -1.7e12]


@pytest.mark.parametrize("seed", range(40))
def test_blocks_pick_the_unit_of_the_whole_median(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    kinds = rng.choice(len(MAGNITUDES), size=n, p=rng.dirichlet(np.ones(len(MAGNITUDES))))
    values = np.array(MAGNITUDES)[kinds] * rng.uniform(0.5, 1.5, n)
    cuts = np.sort(rng.choice(np.arange(1, n + 1), size=min(n, 5), replace=False))
    given = [None, 1e-3][seed % 2]
    assert _unit_of_blocks(values, cuts, given) == _unit_of_whole(values, given)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (9.9e10, 1.01e11),  # the mean of the two middle values is 1e11: milliseconds
        (9.9e10, 1.0e11 + 2.0),  # just over
        (9.0e10, 1.09e11),  # just under
        (0.0, 2.0e8),  # zero and a date: the mean, 1e8, is a date in seconds
        (0.0, 1.9e8),  # below 1e8: too small for a date
    ],
)
def test_the_two_middle_values_in_different_blocks_are_averaged(low: float, high: float) -> None:
    values = np.array([low, low, high, high])  # the median is (low + high) / 2
    for cuts in ([1], [2], [3], [1, 2, 3]):
        assert _unit_of_blocks(values, np.array(cuts)) == _unit_of_whole(values)
