"""Spreadsheets as officers produce them, built in memory for the upload tests."""
import csv
import io
import zipfile

from openpyxl import Workbook

SY_HEADERS = ["学校标识码", "学校名称", "学年", "在校生数", "专任教师数", "县级以上骨干教师数", "体质健康达标率", "有食堂", "安全管理等级", "生均图书（册）"]
# The two 曲阜 schools of the test world, period 2024.
SY_ROWS = [
    ["7370881001", "吴村镇学校1", 2024, 820, 58, 12, 0.93, "是", "良", 31.5],
    ["7370881002", "姚村镇学校2", 2024, 640, 45, 8, 0.9, "否", "优", 28],
]
# What the clean file stores, written out by hand.
SY_EXPECTED = {
    ("7370881001", 2024): {"students": 820, "teachers": 58, "backbone_teachers": 12, "physical_health_pass_rate": "0.9300", "has_canteen": True, "safety_grade": "good", "books_per_student": "31.50"},
    ("7370881002", 2024): {"students": 640, "teachers": 45, "backbone_teachers": 8, "physical_health_pass_rate": "0.9000", "has_canteen": False, "safety_grade": "excellent", "books_per_student": "28.00"},
}


def xlsx(sheets: dict[str, list[list]]) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def school_year_xlsx(rows=None, headers=None) -> bytes:
    return xlsx({"学校年度数据": [headers or SY_HEADERS, *(SY_ROWS if rows is None else rows)]})


def csv_bytes(rows: list[list], encoding="utf-8", bom=False) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    text = out.getvalue()
    return (("\ufeff" if bom else "") + text).encode(encoding)


def xls(rows: list[list]) -> bytes:
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("学校年度数据")
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            ws.write(r, c, v)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def wps_style_xlsx(rows: list[list]) -> bytes:
    """A minimal workbook the way WPS writes one: inline strings, no shared-strings part, its own
    application name — a different writer than openpyxl's."""

    def col(i):
        return chr(ord("A") + i)

    cells = []
    for r, row in enumerate(rows, start=1):
        out = []
        for i, v in enumerate(row):
            ref = f"{col(i)}{r}"
            if isinstance(v, (int, float)):
                out.append(f'<c r="{ref}"><v>{v}</v></c>')
            else:
                out.append(f'<c r="{ref}" t="inlineStr"><is><t>{v}</t></is></c>')
        cells.append(f'<row r="{r}">{"".join(out)}</row>')
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<sheetData>{"".join(cells)}</sheetData></worksheet>'
    )
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>',
        "docProps/app.xml": '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>WPS 表格</Application></Properties>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="学校年度数据" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(name, text)
    return out.getvalue()


def phantom_rows_xlsx(rows: list[list]) -> bytes:
    """A file that claims a million rows: a formatted but empty cell in the sheet's last row."""
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "学校年度数据"
    for row in rows:
        ws.append(row)
    for r in (len(rows) + 5, 1_048_576):
        ws.cell(row=r, column=3).font = Font(bold=True)
    ws.cell(row=len(rows) + 3, column=2, value="   ")
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def titled_xlsx(rows: list[list]) -> bytes:
    """A merged title row and a blank row above the header, as offices like to do."""
    wb = Workbook()
    ws = wb.active
    ws.title = "学校年度数据"
    ws.append(["曲阜市2024—2025学年学校基本数据统计表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(rows[0]))
    ws.append([])
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def zip_bomb_xlsx(unpacked_mb: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (unpacked_mb * 1024 * 1024))
    return out.getvalue()


def encrypted_ooxml() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE compound file whose directory
    holds EncryptionInfo and EncryptedPackage streams (header and directory entries only)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[0x18:0x1A] = (0x3E).to_bytes(2, "little")
    header[0x1A:0x1C] = (3).to_bytes(2, "little")
    header[0x1C:0x1E] = b"\xfe\xff"
    header[0x1E:0x20] = (9).to_bytes(2, "little")
    directory = bytearray()
    for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage"):
        entry = bytearray(128)
        raw = name.encode("utf-16-le")
        entry[: len(raw)] = raw
        entry[64:66] = (len(raw) + 2).to_bytes(2, "little")
        directory += entry
    return bytes(header) + bytes(directory) + b"\0" * 1024
