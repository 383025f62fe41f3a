"""Which attribute of a site file holds which site field, and how values become text.

Attribute names are compared as labels (:func:`geoexpose.sites.catalog.normalize_label`):
``"Plant Name"``, ``"PLANT_NAME"`` and ``"plant-name"`` all read as ``plant_name``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from geoexpose.errors import InputError, UsageError
from geoexpose.sites.catalog import LABEL_SEPARATORS, normalize_label

__all__ = [
    "FIELD_ALIASES",
    "as_labels",
    "as_numbers",
    "as_text",
    "coalesce_text",
    "match_fields",
]

logger = logging.getLogger(__name__)

# Site field -> attribute names (as labels) that hold it, most specific first.
# "site_id" is taken verbatim; "id" is prefixed (see geoexpose.sites.read_sites).
FIELD_ALIASES: Mapping[str, tuple[str, ...]] = {
    "site_id": ("site_id",),
    "id": (
        "id",
        "source_id",
        "plant_code",  # EIA-860 "Plant Code", HIFLD PLANT_CODE
        "eia_plant_code",
        "eia_860_plant_code",
        "plant_id",  # EIA-860M
        "nid_id",  # USACE NID
        "facility_id",
        "code",  # NTAD Amtrak stations
        "objectid",
        "fid",
        "osm_id",
    ),
    "family": ("family", "site_family"),
    "kind": ("kind", "site_kind", "type", "site_type", "facility_type"),
    "name": (
        "name",
        "site_name",  # MIRTA
        "plant_name",  # EIA-860
        "facility_name",
        "facility",
        "station_name",
        "stationnam",  # NTAD Amtrak (shapefile-truncated)
        "primary_name",  # EPA FRS
        "dam_name",  # USACE NID
        "label_name",
        "fullname",  # Census TIGER
        "full_name",
    ),
    "operator": (
        "operator",
        "operator_name",
        "owner",
        "owner_name",
        "owner_names",  # USACE NID
        "utility_name",  # EIA-860
        "utility",
        "entity_name",  # EIA-860M
        "component",  # MIRTA
        "rrowner1",  # NTAD rail lines
    ),
    "standoff_m": ("standoff_m", "standoff", "buffer_m"),
    "source": ("source",),
    "capacity_mw": ("capacity_mw", "gppd_capacity_mw", "nameplate_capacity_mw", "oper_cap"),
    "voltage_kv": ("voltage_kv", "grid_voltage_kv", "max_volt"),
}
# Fields whose value is the first non-empty one over every matching attribute.
_COALESCED = frozenset({"name", "operator"})


def match_fields(
    fields: Sequence[str],
    mapping: Mapping[str, str | None] | None,
    label: str,
) -> dict[str, list[str]]:
    """Attributes that hold each site field, in the order they are consulted.

    Parameters
    ----------
    fields
        The attribute names of the input (geometry and coordinate columns excluded).
    mapping
        The user's ``columns=``: site field -> attribute name, or None to read the
        field from no attribute. Given fields are not looked up in the alias table.
    label
        The input, for messages.

    Returns
    -------
    dict
        Site field -> attribute names; an empty list where none holds it.
    """
    mapping = dict(mapping or {})
    unknown = sorted(set(mapping) - set(FIELD_ALIASES))
    if unknown:
        raise UsageError(
            f"columns= has unknown site field(s) {', '.join(map(repr, unknown))}; "
            f"the fields are: {', '.join(FIELD_ALIASES)}"
        )
    by_label: dict[str, str] = {}
    for field in fields:
        by_label.setdefault(normalize_label(field), field)
    matched: dict[str, list[str]] = {}
    for site_field, aliases in FIELD_ALIASES.items():
        if site_field in mapping:
            matched[site_field] = _given_field(mapping[site_field], site_field, fields, label)
        else:
            found = [by_label[alias] for alias in aliases if alias in by_label]
            matched[site_field] = found if site_field in _COALESCED else found[:1]
    # A user-given id of either form replaces the other one.
    for one, other in (("id", "site_id"), ("site_id", "id")):
        if one in mapping and other not in mapping:
            matched[other] = []
    for site_field, found in matched.items():
        if found:
            logger.debug("%s: %s from %s", label, site_field, ", ".join(found))
    return matched


def _given_field(
    given: str | None, site_field: str, fields: Sequence[str], label: str
) -> list[str]:
    if given is None:
        return []
    if not isinstance(given, str):
        raise UsageError(f"columns[{site_field!r}] must be a field name, not {given!r}")
    if given in fields:
        return [given]
    folded = [field for field in fields if field.casefold() == given.casefold()]
    if len(folded) == 1:
        return folded
    raise InputError(
        f"{label}: no field {given!r} (given as columns[{site_field!r}]); "
        f"its fields are: {', '.join(map(str, fields)) or '(none)'}"
    )


def as_text(values: pd.Series) -> pd.Series:
    """Each value as stripped text; missing and blank values become NaN.

    Whole-number floats lose their ``.0`` (an id column with gaps reads as float).
    """
    if pd.api.types.is_float_dtype(values.dtype):
        finite = values[np.isfinite(values)]
        if bool((finite == np.round(finite)).all()) and bool((finite.abs() < 2**53).all()):
            values = values.where(np.isfinite(values)).astype("Int64")
    text = values.astype("str").str.strip()
    blank = text == ""
    return text.mask(blank) if blank.any() else text


def coalesce_text(frame: pd.DataFrame, fields: Sequence[str]) -> pd.Series:
    """Per row, the first non-empty text over ``fields``; NaN where all are empty."""
    if not fields:
        return pd.Series(np.nan, index=frame.index, dtype="str")
    result = as_text(frame[fields[0]])
    for field in fields[1:]:
        if not result.isna().any():
            break
        result = result.fillna(as_text(frame[field]))
    return result


def as_labels(values: pd.Series) -> pd.Series:
    """Each value as a label (see :func:`~geoexpose.sites.catalog.normalize_label`)."""
    text = as_text(values).str.lower().str.replace(LABEL_SEPARATORS, "_", regex=True)
    text = text.str.strip("_")
    return text.mask(text == "")


def as_numbers(
    values: pd.Series,
    *,
    label: str,
    field: str,
    rows: np.ndarray,
    strict: bool,
    maximum: float = np.inf,
) -> pd.Series:
    """Values as float; missing ones NaN.

    With ``strict``, a value that is not a number >= 0 (and <= ``maximum``) is an
    InputError naming the row; without, it becomes NaN (negative values are the
    -999999 "unknown" of HIFLD and similar layers).
    """
    text: pd.Series | None = None  # a number's text is made only for a message
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.astype("float64")
        bad = np.isinf(numbers) | (numbers < 0) | (numbers > maximum)
    else:
        text = as_text(values)
        numbers = pd.to_numeric(text, errors="coerce").astype("float64")
        bad = (text.notna() & numbers.isna()) | np.isinf(numbers) | (numbers < 0)
        bad |= numbers > maximum
    if bad.any():
        if strict:
            first = int(np.flatnonzero(bad.to_numpy())[0])
            shown = str(numbers.iloc[first]) if text is None else text.iloc[first]
            shown = shown if len(shown) <= 40 else shown[:40] + "..."
            bound = "" if np.isinf(maximum) else f" and <= {maximum:.0f}"
            raise InputError(
                f"{label}: row {rows[first]}: {field} {shown!r} is not a number "
                f"of metres >= 0{bound} ({int(bad.sum())} such rows)"
            )
        count = int(bad.sum())
        logger.info("%s: %d values of %s are not numbers >= 0; read as empty", label, count, field)
        numbers = numbers.mask(bad)
    return numbers
