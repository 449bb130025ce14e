"""Read uploaded CSV/XLSX files into header + rows of text, refusing unsafe or oversized files."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

MAX_BYTES = 50 * 1024 * 1024  # uploads above this are refused before parsing
MAX_XLSX_UNPACKED = 200 * 1024 * 1024  # a zip bomb expands far beyond its file size
MAX_ROWS = 2_000_000


class TableError(ValueError):
    """A file that cannot be read as a table; the message says why and what to do."""


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]  # data rows only; file row number = index + 2


def read_table(data: bytes, filename: str) -> Table:
    """Read CSV or XLSX bytes (chosen by the file name's extension).

    >>> read_table(b"site,period\\nA,2024-03\\n", "x.csv").rows
    [['A', '2024-03']]
    """
    if len(data) > MAX_BYTES:
        raise TableError(
            f"The file is {len(data) / 1024 / 1024:.0f} MB; the limit is "
            f"{MAX_BYTES // 1024 // 1024} MB. Split it into smaller files."
        )
    if not data.strip():
        raise TableError("The file is empty: it has no header row and no data.")
    name = filename.lower()
    if name.endswith(".xlsx"):
        table = _read_xlsx(data)
    elif name.endswith((".csv", ".txt")):
        table = _read_csv(data)
    else:
        raise TableError("Upload a .csv or .xlsx file.")
    if not any(h.strip() for h in table.headers):
        raise TableError("The first row must name the columns (site, measure, period, ...).")
    if not table.rows:
        raise TableError("The file has a header row but no data rows.")
    return table


def _read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TableError("The CSV file is not UTF-8 text; save it as 'CSV UTF-8'.") from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        rows = [r for r in reader]
    except csv.Error as exc:
        raise TableError(f"The CSV file is malformed: {exc}.") from None
    while rows and not any(c.strip() for c in rows[-1]):
        rows.pop()
    if not rows:
        raise TableError("The file is empty: it has no header row and no data.")
    if len(rows) - 1 > MAX_ROWS:
        raise TableError(f"The file has more than {MAX_ROWS:,} rows; split it.")
    return Table([h.strip() for h in rows[0]], [[c.strip() for c in r] for r in rows[1:]])


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _read_xlsx(data: bytes) -> Table:
    # openpyxl parses with defusedxml when it is installed (entity expansion refused).
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:  # pragma: no cover - defusedxml is a dependency
        raise TableError("XLSX import needs defusedxml installed; upload CSV instead.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except zipfile.BadZipFile:
        raise TableError("The file is not a valid XLSX workbook.") from None
    if unpacked > MAX_XLSX_UNPACKED:
        raise TableError("The workbook expands to more than 200 MB; refused as unsafe.")
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # defusedxml and openpyxl raise many types for hostile files
        raise TableError(
            f"The XLSX workbook could not be read safely ({type(exc).__name__}); "
            "save it again from Excel or export CSV."
        ) from None
    try:
        ws = wb.worksheets[0]
        rows: list[list[str]] = []
        for r_idx, row in enumerate(ws.iter_rows(), start=1):
            out = []
            for cell in row:
                if getattr(cell, "data_type", None) == "f" or (
                    isinstance(cell.value, str) and cell.value.startswith("=")
                ):
                    raise TableError(
                        f"Cell {cell.coordinate} holds a formula; spreadsheets with formulas "
                        "are refused. Copy the sheet and paste values only."
                    )
                out.append(_cell_text(cell.value))
            rows.append(out)
            if r_idx > MAX_ROWS + 1:
                raise TableError(f"The sheet has more than {MAX_ROWS:,} rows; split it.")
    finally:
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise TableError("The workbook's first sheet is empty.")
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    return Table(rows[0], rows[1:])


def _safe(v: Any) -> Any:
    # Spreadsheet apps run text starting with these as formulas (CSV injection).
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _is_number(v):
        return "'" + v
    return v


def _is_number(v: str) -> bool:
    try:
        float(v)
    except ValueError:
        return False
    return True


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV bytes (UTF-8 with BOM so Excel reads accents), text cells made formula-safe."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(headers)
    for r in rows:
        w.writerow(["" if v is None else _safe(v) for v in r])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def write_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An XLSX workbook with one sheet per (title, headers, rows); values, never formulas."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = openpyxl.Workbook(write_only=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        head = []
        for h in headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = Font(bold=True)
            head.append(c)
        ws.append(head)
        for r in rows:
            ws.append([_safe(v) for v in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
