"""Bytes of an uploaded file → sheets of raw cells, refusing what is not a safe spreadsheet.

Type is decided by content, never by the file name. An XLSX is a zip: its entry count and
unpacked size are checked before anything is unpacked (zip bombs), password-protected OOXML
(an OLE container holding EncryptionInfo) is named as such, and formula cells are refused
because their cached values may not be what the officer sees.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from python_calamine import CalamineWorkbook

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[ >/]")


class FileRefused(ValueError):
    """The whole file is refused; the message is for the user."""


@dataclass
class RawSheet:
    name: str
    rows: list[list]


def limits() -> dict:
    return {
        "max_bytes": getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024),
        "max_unpacked": getattr(settings, "IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024),
        "max_entries": getattr(settings, "IMPORT_MAX_ZIP_ENTRIES", 2000),
        "max_rows": getattr(settings, "IMPORT_MAX_ROWS", 200_000),
    }


def read_workbook(data: bytes) -> list[RawSheet]:
    lim = limits()
    if not data:
        raise FileRefused(_("The file is empty."))
    if len(data) > lim["max_bytes"]:
        raise FileRefused(_("The file is larger than %(mb)d MB.") % {"mb": lim["max_bytes"] // (1024 * 1024)})
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data, lim)
    if data.startswith(OLE_MAGIC):
        if "EncryptionInfo".encode("utf-16-le") in data[:1_000_000] or b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00" in data:
            raise FileRefused(_("The file is protected by a password. Remove the password in Excel or WPS and upload it again."))
        return _read_with_calamine(data, lim)
    return [_read_csv(data, lim)]


def _read_xlsx(data: bytes, lim: dict) -> list[RawSheet]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused(_("The file is damaged or is not an Excel file.")) from None
    if len(entries) > lim["max_entries"] or sum(e.file_size for e in entries) > lim["max_unpacked"]:
        raise FileRefused(_("The file unpacks to more than the allowed size; it is not a normal spreadsheet."))
    names = {e.filename for e in entries}
    if "xl/workbook.xml" not in names:
        raise FileRefused(_("The file is a zip archive but not an Excel workbook (.xlsx)."))
    sheets = [e for e in entries if e.filename.startswith("xl/worksheets/") and e.filename.endswith(".xml")]
    # The formula scan (unzipping, in C without the GIL, and a byte search) runs beside calamine's
    # parse, which releases the GIL too: on two cores the scan no longer adds to the read. A
    # formula is refused whatever calamine made of the file, as when the scan came first.
    with ThreadPoolExecutor(max_workers=1) as pool:
        scan = pool.submit(_holds_formula, archive, sheets)
        try:
            read, refused = _read_with_calamine(data, lim), None
        except FileRefused as e:
            read, refused = None, e
        if scan.result():
            raise FileRefused(_formula_message(data))
    if refused is not None:
        raise refused
    return read


SCAN_CHUNK = 1 << 20


def _holds_formula(archive: zipfile.ZipFile, sheets: list[zipfile.ZipInfo]) -> bool:
    """Whether a worksheet holds a formula cell, unzipped a megabyte at a time (a 30,000-row sheet
    is 31 MB of XML, never held whole). A match holds one "<", its first byte, so one that
    straddles two chunks starts at the last "<" of the first: that tail is carried over."""
    for entry in sheets:
        with archive.open(entry) as xml:
            tail = b""
            while chunk := xml.read(SCAN_CHUNK):
                buf = tail + chunk
                # Cheap tests first: one byte (memchr: a sheet's cells rarely hold an "f"), two,
                # and the regex only on text that may hold a formula.
                if b"f" in buf and (b"<f" in buf or b":f" in buf) and _FORMULA_RE.search(buf):
                    return True
                last = buf.rfind(b"<")
                tail = buf[last:] if last >= 0 else b""
    return False


def _formula_message(data: bytes) -> str:
    # Rare path: locate the first formula with openpyxl so the message names the cell.
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    return _("Sheet “%(sheet)s” cell %(cell)s holds a formula. Copy the data and paste it as values, then upload again.") % {
                        "sheet": ws.title,
                        "cell": cell.coordinate,
                    }
    return _("The file holds formulas. Copy the data and paste it as values, then upload again.")


def _read_with_calamine(data: bytes, lim: dict) -> list[RawSheet]:
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception:  # calamine raises several error types for broken files
        raise FileRefused(_("The file is damaged or is not an Excel file.")) from None
    sheets = []
    for name in workbook.sheet_names:
        try:
            rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=True)
        except Exception:
            raise FileRefused(_("Sheet “%(sheet)s” cannot be read.") % {"sheet": name}) from None
        # Files that claim a million rows: trailing blank rows cost nothing past here.
        while rows and all(v is None or v == "" for v in rows[-1]):
            rows.pop()
        if len(rows) > lim["max_rows"]:
            raise FileRefused(_("Sheet “%(sheet)s” has more than %(n)d rows.") % {"sheet": name, "n": lim["max_rows"]})
        sheets.append(RawSheet(name=name, rows=rows))
    return sheets


def _read_csv(data: bytes, lim: dict) -> RawSheet:
    if b"\x00" in data[:4096]:
        raise FileRefused(_("The file is not a spreadsheet (Excel .xlsx/.xls or CSV)."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileRefused(_("The file is not a spreadsheet (Excel .xlsx/.xls or CSV)."))
    if text.lstrip().lower().startswith(("<html", "<!doctype", "<?xml", "%pdf", "{")):
        raise FileRefused(_("The file is not a spreadsheet (Excel .xlsx/.xls or CSV)."))
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect)]
    while rows and not any(cell.strip() for cell in rows[-1]):
        rows.pop()
    if len(rows) > lim["max_rows"]:
        raise FileRefused(_("Sheet “%(sheet)s” has more than %(n)d rows.") % {"sheet": "CSV", "n": lim["max_rows"]})
    return RawSheet(name="CSV", rows=rows)
