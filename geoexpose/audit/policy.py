"""The audit policy: what an audit counts as a finding, read from a TOML file.

Every key is optional; what a file leaves out keeps its default. Unknown tables or
keys, and values of the wrong type, are refused with a one-line message that names
them (:class:`~geoexpose.errors.InputError`).

.. code-block:: toml

    [families.military]   # one table per family: a catalog family (water, rail, power,
                          # military, hazmat, transport, emergency), an alias, or your own
    never_image = true    # a capture that shows such a site, outside authorized areas,
                          # is a finding (default: true for military, false otherwise)
    no_entry = true       # time inside such a site's zone, outside authorized areas, is a
                          # finding (default: true for military, false otherwise)
    min_agl_m = 120       # a fix in such a site's zone lower than this above ground is a
                          # finding, authorized or not (default 0: no limit)

    [outside_authorized]
    max_gsd_cm = 10.0     # a capture that shows a site outside the authorized areas at a
                          # ground sample distance finer than this is a finding
                          # (default 10.0; 0 turns the rule off)
    flight_time = true    # time flown outside every authorized area is a finding
                          # (default true)

    [imaging]
    max_gsd_cm = 100.0    # a capture images a site only where its ground sample distance
                          # is at most this (default 100); coarser views are no finding
    detail_gsd_cm = 1.0   # the GSD of the detail area, detail_area_m2 (default 1.0)

    [standoff_m]          # zone widths, metres, by family or kind (kinds win); they
    military = 500        # replace the catalog defaults and the sites' own standoff_m
    substation = 150

Examples
--------
>>> policy = read_policy({"families": {"power": {"min_agl_m": 30}}})
>>> policy.rules("military").never_image, policy.rules("power").min_agl_m
(True, 30.0)
>>> try:
...     read_policy({"outside_authorized": {"max_gsd": 5}})
... except InputError as exc:
...     print(exc)
policy: unknown key 'max_gsd' in [outside_authorized]; expected max_gsd_cm or flight_time
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geoexpose.errors import InputError, UsageError
from geoexpose.sites import MAX_STANDOFF_M, normalize_label, resolve_family

__all__ = ["DEFAULT_FAMILY_RULES", "MAX_POLICY_BYTES", "FamilyRules", "Policy", "read_policy"]


@dataclass(frozen=True)
class FamilyRules:
    """What an audit checks for the sites of one family.

    Attributes
    ----------
    never_image
        A capture that shows such a site, outside the authorized areas, is a finding.
    no_entry
        Time inside such a site's zone, outside the authorized areas, is a finding.
    min_agl_m
        A fix in such a site's zone lower than this (metres above ground, or above the
        take-off point where the log says so) is a finding; 0: no limit.
    """

    never_image: bool = False
    no_entry: bool = False
    min_agl_m: float = 0.0


#: The rules of the families a policy file does not name.
DEFAULT_FAMILY_RULES: Mapping[str, FamilyRules] = MappingProxyType(
    {"military": FamilyRules(never_image=True, no_entry=True)}
)
_DEFAULT_MAX_GSD_CM = 10.0
_DEFAULT_IMAGING_GSD_CM = 100.0  # geoexpose.expose's max_gsd_cm
_DEFAULT_DETAIL_GSD_CM = 1.0  # geoexpose.expose's detail_gsd_cm
#: A policy file larger than this (bytes) is refused unread: a policy is a few tables.
MAX_POLICY_BYTES = 1 << 20


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, eq=False)
class Policy:
    """An audit policy; :func:`read_policy` makes one from a TOML file.

    Attributes
    ----------
    families
        Rules by family label (families not named get :class:`FamilyRules` defaults,
        military never imaged and never entered).
    max_gsd_cm
        A capture that shows a site outside the authorized areas finer than this is a
        finding; 0: no limit.
    flight_time
        Time flown outside every authorized area is a finding.
    imaging_max_gsd_cm
        A capture images a site only where its GSD is at most this (``[imaging]
        max_gsd_cm``, passed to :func:`geoexpose.expose`); coarser views are no finding.
    imaging_detail_gsd_cm
        The GSD of the detail area (``[imaging] detail_gsd_cm``).
    standoff_m
        Zone widths, metres, by family or kind label.
    source
        Where the policy was read from (for messages and ``summary.json``).
    """

    families: Mapping[str, FamilyRules] = field(default_factory=lambda: DEFAULT_FAMILY_RULES)
    max_gsd_cm: float = _DEFAULT_MAX_GSD_CM
    flight_time: bool = True
    imaging_max_gsd_cm: float = _DEFAULT_IMAGING_GSD_CM
    imaging_detail_gsd_cm: float = _DEFAULT_DETAIL_GSD_CM
    standoff_m: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    source: str = "defaults"

    def rules(self, family: str) -> FamilyRules:
        """Return the rules of a family (a label such as ``"military"``)."""
        return self.families.get(str(family), FamilyRules())

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain data, in the layout of the TOML file."""
        return {
            "source": self.source,
            "families": {
                name: {
                    "never_image": r.never_image,
                    "no_entry": r.no_entry,
                    "min_agl_m": r.min_agl_m,
                }
                for name, r in sorted(self.families.items())
            },
            "outside_authorized": {"max_gsd_cm": self.max_gsd_cm, "flight_time": self.flight_time},
            "imaging": {
                "max_gsd_cm": self.imaging_max_gsd_cm,
                "detail_gsd_cm": self.imaging_detail_gsd_cm,
            },
            "standoff_m": dict(sorted(self.standoff_m.items())),
        }


_FAMILY_KEYS = {"never_image": "bool", "no_entry": "bool", "min_agl_m": "metres"}
_OUTSIDE_KEYS = {"max_gsd_cm": "centimetres", "flight_time": "bool"}
_IMAGING_KEYS = {"max_gsd_cm": "centimetres", "detail_gsd_cm": "centimetres"}
_TABLES = ("families", "outside_authorized", "imaging", "standoff_m")


def _expected(names: Any) -> str:
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _type_name(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return names.get(type(value), type(value).__name__)


def _check(source: str, where: str, key: str, value: Any, kind: str) -> Any:
    """Return ``value`` checked against ``kind`` (``bool``, or a unit for numbers >= 0)."""
    if kind == "bool":
        if not isinstance(value, bool):
            raise InputError(
                f"{source}: {where} {key} must be true or false, got {value!r} "
                f"({_type_name(value)})"
            )
        return value
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or not math.isfinite(value) or value < 0:
        raise InputError(
            f"{source}: {where} {key} must be a number of {kind} >= 0, got {value!r} "
            f"({_type_name(value)})"
        )
    return float(value)


def _table(source: str, where: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InputError(f"{source}: {where} must be a table, got {value!r} ({_type_name(value)})")
    return value


def _unknown(source: str, where: str, key: str, known: Any) -> InputError:
    return InputError(f"{source}: unknown key {key!r} in {where}; expected {_expected(known)}")


def _families(source: str, value: Any) -> dict[str, FamilyRules]:
    families = dict(DEFAULT_FAMILY_RULES)
    seen: dict[str, str] = {}
    for name, rules in _table(source, "[families]", value).items():
        where = f"[families.{name}]"
        try:
            family = resolve_family(name)
        except UsageError as exc:
            raise InputError(f"{source}: {where}: {exc}") from exc
        if family in seen:
            again = f"[families.{seen[family]}]"
            raise InputError(f"{source}: {where} names the family {family!r} again (as {again})")
        seen[family] = name
        rules = _table(source, where, rules)
        checked = {}
        for key, item in rules.items():
            if key not in _FAMILY_KEYS:
                raise _unknown(source, where, key, _FAMILY_KEYS)
            checked[key] = _check(source, where, key, item, _FAMILY_KEYS[key])
        families[family] = replace(families.get(family, FamilyRules()), **checked)
    return families


def _standoffs(source: str, value: Any) -> dict[str, float]:
    out = {}
    for key, item in _table(source, "[standoff_m]", value).items():
        label = normalize_label(key)
        if not label:
            raise InputError(f"{source}: [standoff_m] key {key!r} is no family or kind")
        out[label] = _check(source, "[standoff_m]", key, item, "metres")
        if out[label] > MAX_STANDOFF_M:
            raise InputError(
                f"{source}: [standoff_m] {key} must be at most {MAX_STANDOFF_M:.0f} metres, "
                f"got {item!r}"
            )
    return out


def _imaging(source: str, value: Any) -> dict[str, float]:
    """Check the keys of the ``[imaging]`` table: GSD bounds, centimetres > 0."""
    out = {}
    for key, item in _table(source, "[imaging]", value).items():
        if key not in _IMAGING_KEYS:
            raise _unknown(source, "[imaging]", key, _IMAGING_KEYS)
        out[key] = _check(source, "[imaging]", key, item, _IMAGING_KEYS[key])
        if not out[key] > 0:
            raise InputError(f"{source}: [imaging] {key} must be a number of centimetres > 0")
    return out


def _policy_text(path: Path) -> str:
    """Return the text of a policy file; refuse it unread beyond :data:`MAX_POLICY_BYTES`."""
    with path.open("rb") as handle:
        data = handle.read(MAX_POLICY_BYTES + 1)
    if len(data) > MAX_POLICY_BYTES:
        raise InputError(
            f"{path}: larger than {MAX_POLICY_BYTES // 1024} KiB; a policy is a few tables"
        )
    return data.decode("utf-8")


def read_policy(
    policy: str | os.PathLike[str] | Mapping[str, Any] | Policy | None = None,
) -> Policy:
    """Read an audit policy.

    Parameters
    ----------
    policy
        A TOML file, the same tables as a mapping (as :func:`tomllib.load` gives),
        a :class:`Policy` (returned as it is), or None for the defaults.

    Returns
    -------
    Policy

    Raises
    ------
    InputError
        The file cannot be read or is not TOML; a table or key is unknown; a value has
        the wrong type. The one-line message names the file, the table and the key.
    """
    if isinstance(policy, Policy):
        return policy
    if policy is None:
        return Policy()
    if isinstance(policy, Mapping):
        source, data = "policy", dict(policy)
    else:
        source = str(policy)
        try:
            data = tomllib.loads(_policy_text(Path(policy)))
        except OSError as exc:
            raise InputError(f"{source}: cannot read ({exc.strerror or exc})") from exc
        except UnicodeDecodeError as exc:
            raise InputError(f"{source}: not UTF-8 text ({exc.reason})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{source}: not valid TOML: {exc}") from exc
        except RecursionError as exc:  # arrays or tables nested thousands deep
            raise InputError(f"{source}: not valid TOML: nested too deep to read") from exc
    for name in data:
        if name not in _TABLES:
            raise InputError(
                f"{source}: unknown table [{name}]; expected [families.<family>], "
                "[outside_authorized], [imaging] or [standoff_m]"
            )
    outside = _table(source, "[outside_authorized]", data.get("outside_authorized", {}))
    checked = {}
    for key, item in outside.items():
        if key not in _OUTSIDE_KEYS:
            raise _unknown(source, "[outside_authorized]", key, _OUTSIDE_KEYS)
        checked[key] = _check(source, "[outside_authorized]", key, item, _OUTSIDE_KEYS[key])
    imaging = _imaging(source, data.get("imaging", {}))
    return Policy(
        families=_frozen(_families(source, data.get("families", {}))),
        max_gsd_cm=checked.get("max_gsd_cm", _DEFAULT_MAX_GSD_CM),
        flight_time=checked.get("flight_time", True),
        imaging_max_gsd_cm=imaging.get("max_gsd_cm", _DEFAULT_IMAGING_GSD_CM),
        imaging_detail_gsd_cm=imaging.get("detail_gsd_cm", _DEFAULT_DETAIL_GSD_CM),
        standoff_m=_frozen(_standoffs(source, data.get("standoff_m", {}))),
        source=source,
    )
