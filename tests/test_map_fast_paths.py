"""Site maps' fast paths for few rows give the text and styles written by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geoexpose.maps._html_text import DASH, panel_html, text_array
from geoexpose.maps._layers import _styles
from geoexpose.maps._site_data import object_strings


def test_styles_of_few_rows_in_order_of_first_appearance() -> None:
    frame = pd.DataFrame({"color": ["#a", "#b", "#a"], "radius": np.array([8, 6, 8])})
    styles, codes = _styles(frame)
    assert styles == [{"color": "#a", "radius": 8}, {"color": "#b", "radius": 6}]
    assert codes.tolist() == [0, 1, 0]


def test_styles_with_nan_still_one_style_per_distinct_row() -> None:
    frame = pd.DataFrame({"w": [np.nan, np.nan, 1.0]})
    styles, codes = _styles(frame)
    assert len(styles) == 2 and codes[0] == codes[1] != codes[2]


def test_text_of_one_value_rounds_by_unit() -> None:
    assert text_array(pd.Series([2.345]), "best_gsd_cm").tolist() == ["2.35"]  # 2.345 < 2.345
    assert text_array(pd.Series([1234.5]), "area_m2").tolist() == ["1234"]  # half to even
    assert text_array(pd.Series([np.nan]), "area_m2").tolist() == [DASH]
    assert text_array(pd.Series(["a", None], dtype="str"), "name").tolist() == ["a", DASH]


def test_panel_wide_table_rows_escaped() -> None:
    frame = pd.DataFrame({"flight_id": ["<f1>", "f2"], "n_fixes": [3, 12]})
    page = panel_html("T&1", [("Flights", frame, True)])
    assert page == (
        "<div class='gx-panel'><h1>T&amp;1</h1><h2>Flights</h2>"
        "<table class='gx-wide'><tr><th>flight_id</th><th>n_fixes</th></tr>"
        "<tr><td>&lt;f1&gt;</td><td>3</td></tr><tr><td>f2</td><td>12</td></tr></table></div>"
    )


def test_object_strings_leaves_input_alone() -> None:
    frame = pd.DataFrame({"a": pd.array(["x", None], dtype="str"), "b": [1, 2]})
    out = object_strings(frame)
    assert out["a"].dtype == object and out["a"].tolist() == ["x", None]
    assert frame["a"].dtype != object
