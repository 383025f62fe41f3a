"""Family, kind and catalog standoff of every site, worked out once per distinct value pair.

A layer of 300,000 sites holds a few dozen distinct (family, kind) attribute pairs:
labels, catalog lookups and standoffs are computed on those pairs and spread back to
the rows by their codes, so no per-row Python runs.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geoexpose.errors import InputError, UsageError
from geoexpose.schema import FAMILY, KIND
from geoexpose.sites._columns import as_labels
from geoexpose.sites.catalog import (
    KIND_UNSPECIFIED,
    MAX_STANDOFF_M,
    default_standoff,
    load_catalog,
    normalize_label,
    resolve_family,
    resolve_kind,
)

__all__ = ["Classes", "check_family", "classify", "distinct_rows"]

logger = logging.getLogger(__name__)

_PAIR = "\x1f"  # joins family and kind into one lookup key
_DECLARE = "METRES"  # the placeholder of a standoff in messages


@dataclass(frozen=True)
class Distinct:
    """The distinct combinations of some columns, and where each row falls.

    Attributes
    ----------
    table
        One row per combination (RangeIndex), in order of first appearance.
    codes
        Per input row, its combination's position in ``table``.
    first
        Per combination, the position of its first input row.
    counts
        Per combination, its number of input rows.
    """

    table: pd.DataFrame
    codes: np.ndarray
    first: np.ndarray
    counts: np.ndarray

    def spread(self, values: pd.Series, index: pd.Index) -> pd.Series:
        """Per input row, the value of its combination (``values`` is aligned to ``table``)."""
        return pd.Series(values.array.take(self.codes), index=index, name=values.name)


@dataclass(frozen=True)
class Classes:
    """Per site: family, kind, and standoff from ``standoff=`` or the catalog."""

    family: pd.Series
    kind: pd.Series
    standoff_m: pd.Series


def distinct_rows(columns: Mapping[str, pd.Series], length: int) -> Distinct:
    """Find the distinct combinations of ``columns`` (all of ``length`` rows).

    Values are told apart as they would print (an object column holding ``1`` and
    ``1.0`` gives two combinations), missing values as one more value.

    >>> d = distinct_rows({"a": pd.Series(["x", "y", "x", None])}, 4)
    >>> d.table["a"].tolist(), d.codes.tolist(), d.counts.tolist()
    (['x', 'y', nan], [0, 1, 0, 2], [2, 1, 1])
    """
    combined = np.zeros(length, dtype="int64")
    size = 1  # combined < size
    for values in columns.values():
        key = values.astype("str") if values.dtype == object else values
        codes, uniques = pd.factorize(key, use_na_sentinel=False)
        if size * max(len(uniques), 1) >= 2**62:  # keep the mixed-radix number in range
            combined = pd.factorize(combined)[0].astype("int64")
            size = int(combined.max()) + 1 if length else 1
        combined = combined * max(len(uniques), 1) + codes
        size *= max(len(uniques), 1)
    codes = pd.factorize(combined)[0].astype("int64") if length else combined
    # codes are numbered in order of first appearance: code k first appears where the
    # running maximum reaches k
    first = np.flatnonzero(np.diff(np.maximum.accumulate(codes), prepend=-1) > 0)
    counts = np.bincount(codes, minlength=len(first))
    table = pd.DataFrame(
        {name: values.iloc[first].reset_index(drop=True) for name, values in columns.items()},
        index=pd.RangeIndex(len(first)),
    )
    return Distinct(table=table, codes=codes, first=first, counts=counts)


def check_family(family: str, standoff: Mapping[str, float] | None) -> str:
    """Return the family label that ``family=`` names; refuse one the catalog lacks.

    A family of the user's own is accepted when ``standoff`` declares it: it has a
    key naming the family.

    Raises
    ------
    UsageError
        An unknown family not declared in ``standoff``; the message lists the
        catalog's families and suggests the closest.

    >>> check_family("Railroad", None)
    'rail'
    >>> check_family("pipelines", {"Pipelines": 80})
    'pipelines'
    """
    label = resolve_family(family)
    catalog = load_catalog()
    declared = {normalize_label(key) for key in (standoff or {}) if isinstance(key, str)}
    if label in catalog or label in declared:
        return label
    names = {a: f.name for f in catalog.values() for a in (f.name, *f.aliases)}
    close = difflib.get_close_matches(label, list(names), n=1, cutoff=0.6)
    hint = f"did you mean {names[close[0]]!r}? " if close else ""
    raise UsageError(
        f"family={family!r} is not a family of the layer catalog ({', '.join(sorted(catalog))}); "
        f"{hint}to use a family of your own, declare it with its standoff: "
        f"standoff={{{label!r}: {_DECLARE}}}"
    )


def classify(
    values: Distinct,
    *,
    index: pd.Index,
    given_family: str | None,
    given_kind: str | None,
    standoff: Mapping[str, float] | None,
    family_field: str | None,
    label: str,
    rows: np.ndarray,
) -> Classes:
    """Family, kind and standoff of every row from its distinct family and kind values.

    Parameters
    ----------
    values
        Distinct combinations of the columns ``family`` and ``kind`` (the layer's
        attributes that hold them; all missing where it has none).
    index
        Index of the rows.
    given_family, given_kind
        ``family=`` (a resolved label) and ``kind=`` of :func:`~geoexpose.read_sites`.
    standoff
        ``standoff=`` of :func:`~geoexpose.read_sites`.
    family_field
        The attribute that gives the family, if any, for messages.
    label
        The input, for messages.
    rows
        Per row, its row number in the file, for messages.
    """
    table = values.table
    first_rows = rows[values.first]
    families = _families(
        table[FAMILY], given_family, family_field, label, first_rows, values.counts
    )
    kinds = _kinds(table[KIND], families, given_kind, label, values.counts)
    declared = {given_family} if given_family is not None else set()
    by_pair = _standoffs(families, kinds, standoff or {}, declared)
    _warn_own_families(families, values.counts, standoff or {}, label)
    return Classes(
        family=values.spread(families, index),
        kind=values.spread(kinds, index),
        standoff_m=values.spread(by_pair, index),
    )


def _families(
    raw: pd.Series,
    given: str | None,
    field: str | None,
    label: str,
    first_rows: np.ndarray,
    counts: np.ndarray,
) -> pd.Series:
    labels = as_labels(raw)
    index = {a: f.name for f in load_catalog().values() for a in (f.name, *f.aliases)}
    families = labels.map(index).fillna(labels)
    if given is not None:
        families = families.fillna(given)
    missing = families.isna().to_numpy()
    if missing.any():
        where = f"field {field!r} is empty" if field else "no family field"
        raise InputError(
            f"{label}: row {first_rows[missing].min()} has no family ({where}; "
            f"{int(counts[missing].sum())} such rows); give family= or map a field with "
            "columns={'family': ...}"
        )
    return families


def _kinds(
    raw: pd.Series, families: pd.Series, given: str | None, label: str, counts: np.ndarray
) -> pd.Series:
    catalog = load_catalog()
    labels = as_labels(raw)
    table = {
        f"{name}{_PAIR}{alias}": kind
        for name, definition in catalog.items()
        for alias, kind in definition.kind_index().items()
    }
    kinds = (families + _PAIR + labels).map(table)
    unknown = kinds.isna() & labels.notna() & families.isin(catalog)
    if given is not None:
        fill = kinds.isna() & (labels.isna() | unknown)
        by_family = {name: resolve_kind(name, given) for name in families[fill].unique()}
        kinds = kinds.fillna(families.where(fill).map(by_family))
    elif unknown.any():
        examples = ", ".join(sorted(set(labels[unknown]))[:5])
        logger.warning(
            "%s: %d sites have a kind the catalog does not define for their family (%s); "
            "they get the family's standoff",
            label,
            int(counts[unknown.to_numpy()].sum()),
            examples,
        )
    return kinds.fillna(labels).fillna(KIND_UNSPECIFIED)


def _standoffs(
    families: pd.Series,
    kinds: pd.Series,
    standoff: Mapping[str, float],
    declared: set[str],
) -> pd.Series:
    """Per distinct pair: the override by kind, by family, else the catalog default."""
    pairs = families + _PAIR + kinds
    defaults = [
        default_standoff(f, None if k == KIND_UNSPECIFIED else k)
        for f, k in zip(families, kinds, strict=True)
    ]
    by_family, by_pair = _overrides(standoff, families, kinds, declared)
    result = pairs.map(by_pair).fillna(families.map(by_family))
    return result.fillna(pd.Series(defaults, index=pairs.index)).astype("float64")


def _overrides(
    standoff: Mapping[str, float], families: pd.Series, kinds: pd.Series, declared: set[str]
) -> tuple[dict[str, float], dict[str, float]]:
    """Standoff overrides keyed by family and by family + ``_PAIR`` + kind."""
    catalog = load_catalog()
    data_families = set(families) | declared
    data_kinds = set(kinds)
    catalog_kinds = {a for d in catalog.values() for a in d.kind_index()}
    by_family: dict[str, float] = {}
    by_pair: dict[str, float] = {}
    for key, value in standoff.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"standoff[{key!r}] must be a number of metres, not {value!r}")
        if not math.isfinite(value) or not 0 <= value <= MAX_STANDOFF_M:
            raise UsageError(
                f"standoff[{key!r}] must be a number of metres >= 0 and <= "
                f"{MAX_STANDOFF_M:.0f}, not {value!r}"
            )
        name = normalize_label(key)
        family = resolve_family(key) if name else ""
        if family in catalog or family in data_families:
            by_family[family] = float(value)
        elif name in catalog_kinds or name in data_kinds:
            for fam in set(families):
                by_pair[f"{fam}{_PAIR}{resolve_kind(fam, name)}"] = float(value)
        else:
            known = sorted(set(catalog) | data_families)
            close = difflib.get_close_matches(name, [*known, *catalog_kinds], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise UsageError(
                f"standoff has key {key!r}, neither a family nor a kind; families: "
                f"{', '.join(known)}{hint}"
            )
    return by_family, by_pair


def _warn_own_families(
    families: pd.Series, counts: np.ndarray, standoff: Mapping[str, float], label: str
) -> None:
    """Log the families the catalog does not know that ``standoff`` does not declare."""
    catalog = load_catalog()
    declared = {resolve_family(k) for k in standoff if isinstance(k, str) and normalize_label(k)}
    own = ~families.isin(catalog) & ~families.isin(declared)
    if not own.any():
        return
    by_family = pd.Series(counts[own.to_numpy()], index=families[own]).groupby(level=0).sum()
    listed = ", ".join(f"{name} ({int(n)} sites)" for name, n in by_family.items())
    logger.warning(
        "%s: families the layer catalog does not know: %s; their sites without a "
        "standoff_m of their own get the default standoff of %g m; declare one with "
        "standoff={%r: %s}",
        label,
        listed,
        default_standoff(str(by_family.index[0])),
        str(by_family.index[0]),
        _DECLARE,
    )
