"""The audit policy file: documented defaults, and one-line refusals that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import geoexpose as gx
from geoexpose.audit.policy import FamilyRules

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "audit_policy.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_are_the_documented_ones():
    policy = gx.read_policy()
    assert policy.rules("military") == FamilyRules(never_image=True, no_entry=True, min_agl_m=0.0)
    for family in ("water", "rail", "power", "pipelines"):
        assert policy.rules(family) == FamilyRules(False, False, 0.0)
    assert policy.max_gsd_cm == 10.0 and policy.flight_time is True
    assert dict(policy.standoff_m) == {} and policy.source == "defaults"


def test_an_empty_file_gives_the_defaults(tmp_path):
    policy = gx.read_policy(write(tmp_path, "# nothing\n"))
    defaults = gx.read_policy().to_dict()
    assert {**policy.to_dict(), "source": "defaults"} == defaults


def test_a_file_changes_only_what_it_names(tmp_path):
    policy = gx.read_policy(
        write(
            tmp_path,
            "[families.military]\nmin_agl_m = 120\n\n"
            "[families.Electricity]\nmin_agl_m = 30.5\nnever_image = true\n\n"
            "[outside_authorized]\nmax_gsd_cm = 5\n\n"
            '[standoff_m]\nmilitary = 500\n"Sub Station" = 150\n',
        )
    )
    # military keeps its defaults beside the new height
    assert policy.rules("military") == FamilyRules(True, True, 120.0)
    # "Electricity" is an alias of the power family
    assert policy.rules("power") == FamilyRules(never_image=True, no_entry=False, min_agl_m=30.5)
    assert policy.max_gsd_cm == 5.0 and policy.flight_time is True
    assert dict(policy.standoff_m) == {"military": 500.0, "sub_station": 150.0}


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[familes.military]\nno_entry = true\n", "unknown table [familes]"),
        ("[families.military]\nnever_imag = true\n", "'never_imag' in [families.military]"),
        ("[outside_authorized]\nmax_gsd = 3\n", "'max_gsd' in [outside_authorized]"),
        ("[families.military]\nno_entry = 'yes'\n", "[families.military] no_entry"),
        ("[families.power]\nmin_agl_m = true\n", "[families.power] min_agl_m"),
        ("[families.power]\nmin_agl_m = -5\n", "[families.power] min_agl_m"),
        ("[families.power]\nmin_agl_m = nan\n", "[families.power] min_agl_m"),
        ("[outside_authorized]\nmax_gsd_cm = '10 cm'\n", "[outside_authorized] max_gsd_cm"),
        ("[outside_authorized]\nflight_time = 1\n", "[outside_authorized] flight_time"),
        ("[standoff_m]\nmilitary = 'far'\n", "[standoff_m] military"),
        ("families = 3\n", "[families] must be a table"),
        ("[families]\nmilitary = true\n", "[families.military] must be a table"),
        ("[families.military]\n[families.defence]\n", "[families.defence] names the family"),
        ("[families.military\nno_entry = true\n", "not valid TOML"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_key(tmp_path, text, named):
    path = write(tmp_path, text)
    with pytest.raises(gx.InputError) as caught:
        gx.read_policy(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert named in message


def test_wrong_types_say_what_was_found(tmp_path):
    with pytest.raises(gx.InputError, match=r"must be true or false, got 'yes' \(a string\)"):
        gx.read_policy(write(tmp_path, "[families.rail]\nno_entry = 'yes'\n"))
    with pytest.raises(gx.InputError, match=r"must be a number of metres >= 0, got -5"):
        gx.read_policy(write(tmp_path, "[standoff_m]\nrail = -5\n"))


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(gx.InputError, match="cannot read"):
        gx.read_policy(tmp_path / "none.toml")


def test_the_example_policy_reads_and_documents_every_key():
    policy = gx.read_policy(EXAMPLE)
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    assert set(data) == {"families", "outside_authorized", "standoff_m"}
    assert set(data["outside_authorized"]) == {"max_gsd_cm", "flight_time"}
    keys = {k for table in data["families"].values() for k in table}
    assert keys == {"never_image", "no_entry", "min_agl_m"}
    assert policy.rules("military").never_image and policy.rules("military").no_entry


def test_a_policy_family_no_site_has_is_warned_of():
    from conftest import make_sites, make_track
    from shapely import box

    sites = make_sites([box(10.0, 50.0, 10.001, 50.001)])
    fixes = make_track([10.0005, 10.0006], [50.0005, 50.0005])
    with pytest.warns(gx.InputWarning, match="'militray' is no family or kind"):
        gx.audit(sites, fixes, authorized=[], policy={"families": {"militray": {"no_entry": True}}})
