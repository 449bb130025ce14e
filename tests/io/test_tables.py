"""Reading uploaded tables: CSV and XLSX, and the files that must be refused."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from spreadscale.io.observations import guess_mapping, parse_rows
from spreadscale.io.tables import MAX_BYTES, TableError, read_table, write_csv, write_xlsx


def _xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_it_reads_a_csv_with_a_bom_and_semicolons():
    table = read_table("\ufeffsite;period\nA;2024-03\n".encode(), "x.csv")
    assert table.headers == ["site", "period"]
    assert table.rows == [["A", "2024-03"]]


def test_it_reads_an_xlsx_with_dates_and_whole_numbers():
    from datetime import datetime

    table = read_table(
        _xlsx([["site", "period", "n"], ["A", datetime(2024, 3, 1), 12.0]]), "x.xlsx"
    )
    assert table.rows == [["A", "2024-03-01", "12"]]


def test_an_empty_file_is_refused():
    with pytest.raises(TableError, match="empty"):
        read_table(b"  \n", "x.csv")


def test_a_header_without_rows_is_refused():
    with pytest.raises(TableError, match="no data rows"):
        read_table(b"site,period\n", "x.csv")


def test_a_file_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(TableError, match="limit is 50 MB"):
        read_table(b"a" * (MAX_BYTES + 1), "x.csv")


def test_a_workbook_with_formulas_is_refused():
    data = _xlsx([["site", "numerator"], ["A", "=1+1"]])
    with pytest.raises(TableError, match="B2 holds a formula"):
        read_table(data, "x.xlsx")


def test_an_xml_bomb_is_refused():
    good = _xlsx([["site"], ["A"]])
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol3;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    src = zipfile.ZipFile(io.BytesIO(good))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = bomb.encode()
            z.writestr(item, body)
    with pytest.raises(TableError, match="could not be read safely"):
        read_table(out.getvalue(), "bomb.xlsx")


def test_a_file_that_is_not_a_workbook_is_refused():
    with pytest.raises(TableError, match="not a valid XLSX"):
        read_table(b"hello", "x.xlsx")


def test_text_in_a_number_column_and_missing_cells_are_named_by_row():
    table = read_table(
        b"measure,site,period,numerator,denominator\nm,A,2024-03,abc,10\nm,,2024-04,1,10\n",
        "x.csv",
    )
    parsed = parse_rows(table, guess_mapping(table.headers))
    assert [str(p) for p in parsed.problems] == [
        "row 2, numerator: 'abc' is not a number",
        "row 3, site: is empty",
    ]


def test_wrong_headers_say_which_columns_are_expected():
    table = read_table(b"foo,bar\n1,2\n", "x.csv")
    parsed = parse_rows(table, guess_mapping(table.headers))
    assert "no column for measure, site, period" in parsed.problems[0].message


def test_exports_neutralise_formulas_and_round_trip():
    body = write_csv(["note"], [["=HYPERLINK(1)"], ["-3"]])
    assert b"'=HYPERLINK(1)" in body and b"\r\n-3\r\n" in body
    wb = openpyxl.load_workbook(io.BytesIO(write_xlsx([("S", ["note"], [["=1+1"]])])))
    assert wb.active["A2"].value == "'=1+1"
