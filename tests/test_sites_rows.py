"""Row numbers in read_sites messages are the rows the user sees in the file.

Every expected number is found in the file itself, independently of geoexpose: CSV
lines with the :mod:`csv` module, spreadsheet rows from the sheet's XML (the ``r``
attribute of each ``<row>``, the number Excel shows), read with :mod:`zipfile` and
:mod:`xml.etree`.
"""

from __future__ import annotations

import csv
import re
import warnings
import zipfile
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import pytest

from geoexpose.errors import InputError, InputWarning
from geoexpose.schema import SITE_ID
from geoexpose.sites import read_sites

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROWS = re.compile(r"row\(s\) ([\d, ]+)")
EIA_XLSX = "layers/us_power_plants_eia860_2019/2___Plant_Y2019.xlsx"


# ------------------------------------------------------------------ helpers
def sheet_rows(path: Path) -> dict[int, dict[str, str | None]]:
    """Excel row number -> {column letter: cell text} of the first sheet, from its XML."""
    with zipfile.ZipFile(path) as book:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in book.namelist():
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
            for item in root.iter(f"{_MAIN}si"):
                shared.append("".join(t.text or "" for t in item.iter(f"{_MAIN}t")))
        sheets = sorted(
            n for n in book.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)
        )
        root = ElementTree.fromstring(book.read(sheets[0]))
    rows: dict[int, dict[str, str | None]] = {}
    for row in root.iter(f"{_MAIN}row"):
        cells: dict[str, str | None] = {}
        for cell in row.iter(f"{_MAIN}c"):
            column = re.match(r"[A-Z]+", cell.get("r", "")).group(0)  # type: ignore[union-attr]
            value = cell.find(f"{_MAIN}v")
            if value is None:
                inline = cell.find(f"{_MAIN}is/{_MAIN}t")
                cells[column] = None if inline is None else inline.text
            elif cell.get("t") == "s":
                cells[column] = shared[int(value.text or 0)]
            else:
                cells[column] = value.text
        rows[int(row.get("r", 0))] = cells
    return rows


def write_xlsx(path: Path, rows: dict[int, list[object]]) -> Path:
    """Write a one-sheet workbook whose Excel rows are the keys of ``rows``."""

    def letter(j: int) -> str:
        return chr(ord("A") + j)  # fewer than 27 columns here

    body = []
    for number in sorted(rows):
        cells = []
        for j, value in enumerate(rows[number]):
            ref = f"{letter(j)}{number}"
            if value is None:
                continue
            if isinstance(value, int | float):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>')
        body.append(f'<row r="{number}">{"".join(cells)}</row>')
    ns = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{ns}/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{ns}/spreadsheetml/2006/main" xmlns:r="{ns}/officeDocument/2006/'
            'relationships"><sheets><sheet name="Sites" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{ns}/package/2006/relationships"><Relationship Id="rId1" '
            f'Type="{ns}/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<worksheet xmlns="{ns}/spreadsheetml/2006/main"><sheetData>{"".join(body)}'
            "</sheetData></worksheet>"
        ),
    }
    with zipfile.ZipFile(path, "w") as book:
        for name, text in parts.items():
            book.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return path


def csv_record_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(first line, fields) of every record after the header; blank lines are no records."""
    out = []
    with path.open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        end = 0
        for record in reader:
            if record:
                out.append((end + 1, record))
            end = reader.line_num
    return out[1:]


def named_rows(caught: list[warnings.WarningMessage], reason: str) -> list[int]:
    """The row numbers a read_sites warning names for ``reason``."""
    for item in caught:
        text = str(item.message)
        if reason in text:
            return [int(n) for n in _ROWS.search(text).group(1).split(", ")]  # type: ignore[union-attr]
    raise AssertionError(f"no warning about {reason!r} in {[str(w.message) for w in caught]}")


def read_warned(path: Path, **options: object) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_sites(path, **options)  # type: ignore[arg-type]
    return [w for w in caught if issubclass(w.category, InputWarning)]


# ------------------------------------------------------------------ spreadsheets
def test_spreadsheet_rows_are_excel_rows(tmp_path: Path) -> None:
    rows: dict[int, list[object]] = {
        2: ["Plants of the county (title above the header)"],
        4: ["Plant Code", "Plant Name", "Longitude", "Latitude"],
        5: [1, "Alpha", 10.0, 50.0],
        6: [2, "Bravo", None, None],  # no coordinates
        8: [3, "Charlie", 11.0, 51.0],  # row 7 is empty
        9: [4, "Delta", 12.0, 95.0],  # latitude out of range
        10: [5, "Echo", 0, 0],  # 0/0
    }
    path = write_xlsx(tmp_path / "plants.xlsx", rows)
    cells = sheet_rows(path)  # the file as Excel shows it
    caught = read_warned(path, family="power")
    (no_geometry,) = named_rows(caught, "no geometry")
    assert cells[no_geometry]["B"] == "Bravo" and "C" not in cells[no_geometry]
    (out_of_range,) = named_rows(caught, "out of range")
    assert float(cells[out_of_range]["D"] or 0) > 90
    (null_island,) = named_rows(caught, "0/0")
    assert cells[null_island]["B"] == "Echo"
    assert len(caught) == 3  # the empty row 7 is no row of the table, and not warned about


def test_spreadsheet_bad_number_names_the_excel_row(tmp_path: Path) -> None:
    rows: dict[int, list[object]] = {
        1: ["Title"],
        2: ["name", "lon", "lat", "standoff_m"],
        3: ["a", 1.0, 1.0, 10],
        4: ["b", 2.0, 2.0, "far"],
    }
    path = write_xlsx(tmp_path / "bad.xlsx", rows)
    with pytest.raises(InputError) as caught:
        read_sites(path, family="rail")
    row = int(re.search(r"row (\d+):", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert sheet_rows(path)[row]["D"] == "far"


# ------------------------------------------------------------------ CSV
def test_csv_rows_are_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(
        'name,lon,lat,note\nAlpha,1,1,\n\nBravo,,,"two\nlines"\nCharlie,2,2,\nDelta,200,2,\n\n',
        encoding="utf-8",
    )
    records = csv_record_lines(path)
    by_line = dict(records)
    caught = read_warned(path, family="water")
    (no_geometry,) = named_rows(caught, "no geometry")
    assert by_line[no_geometry][0] == "Bravo"
    (out_of_range,) = named_rows(caught, "out of range")
    assert by_line[out_of_range][0] == "Delta"


def test_latin1_csv_with_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,lon,lat\nM\u00fcnchen,11,48\n\n\nBonn,,\n".encode("latin-1"))
    with path.open(encoding="latin-1", newline="") as stream:
        lines = [n for n, line in enumerate(stream, start=1) if line.startswith("Bonn")]
    (no_geometry,) = named_rows(read_warned(path, family="rail"), "no geometry")
    assert [no_geometry] == lines


def test_csv_one_line_per_record(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text("lon,lat,family\n1,1,water\nabc,2,water\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row (\d+): lon 'abc'") as caught:
        read_sites(path)
    line = int(re.search(r"row (\d+):", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert dict(csv_record_lines(path))[line][0] == "abc"


def test_site_ids_still_count_data_rows(tmp_path: Path) -> None:
    path = tmp_path / "ids.csv"
    path.write_text("lon,lat\n1,1\n\n2,2\n", encoding="utf-8")
    # ids count the rows of data from 1 (unchanged), whatever line a row is on
    assert read_sites(path, family="rail")[SITE_ID].tolist() == ["ids:1", "ids:2"]


# ------------------------------------------------------------------ real data
@pytest.mark.realdata
@pytest.mark.parametrize("options", [{"family": "power"}, {"registry": "auto"}])
def test_realdata_eia860_xlsx_rows(realdata: Path, options: dict) -> None:
    path = realdata / EIA_XLSX
    cells = sheet_rows(path)
    header = next(n for n, row in sorted(cells.items()) if row.get("A") == "Utility ID")
    assert header == 2  # a title row above the header
    names = {v: k for k, v in cells[header].items()}
    lat, lon = names["Latitude"], names["Longitude"]

    def blank(value: str | None) -> bool:
        return value is None or not value.strip()

    expected_missing = [
        n
        for n, row in sorted(cells.items())
        if n > header and blank(row.get(lat)) and blank(row.get(lon)) and row.get("C")
    ]
    caught = read_warned(path, **options)
    missing = named_rows(caught, "no geometry")
    assert missing == expected_missing[: len(missing)]
    assert len(missing) == 10  # the first ten are named
    for row in named_rows(caught, "out of range"):
        latitude, longitude = float(cells[row][lat] or 0), float(cells[row][lon] or 0)
        assert not (-90 <= latitude <= 90 and -180 <= longitude <= 180)
