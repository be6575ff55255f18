"""The template officers fill and the export of current data: one layout, from columns.py, so an
export can be edited and uploaded again."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from evaluation.models import HelpRelation, SchoolYear, TownshipYear
from townships.jurisdiction import Jurisdiction
from townships.models import PROGRAMME_KINDS, Division, Level, School, Stage

from . import columns as c
from .parsing import FORMULA_PREFIXES, GRADES, HELP_KINDS, STAGES

STAGE_LABEL = {v: k for k, v in reversed(list(STAGES.items()))}
GRADE_LABEL = {"excellent": "优", "good": "良", "pass": "合格", "fail": "不合格"}
HELP_LABEL = {"trusteeship": "托管", "group": "集团化办学", "alliance": "联盟", "pairing": "结对帮扶", "researcher": "教研员包保"}
CHOICES = {
    c.BOOL: ["是", "否"],
    c.GRADE: ["优", "良", "合格", "不合格"],
    c.STAGE: ["幼儿园", "小学", "初中", "九年一贯制", "完全中学", "十二年一贯制"],
    c.HELP_KIND: list(HELP_LABEL.values()),
}
assert set(CHOICES[c.GRADE]) <= set(GRADES) and set(CHOICES[c.HELP_KIND]) <= set(HELP_KINDS)


def escape_formula(value):
    """Text a spreadsheet would run as a formula is written with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES + ("\t", "\r")):
        return "'" + value
    return value


def _cell(col: c.Column, value):
    if value is None or value == "":
        return None
    if col.kind == c.BOOL:
        return "是" if value else "否"
    if col.kind == c.GRADE:
        return GRADE_LABEL.get(value, value)
    if col.kind == c.STAGE:
        return STAGE_LABEL.get(value, value)
    if col.kind == c.HELP_KIND:
        return HELP_LABEL.get(value, value)
    if isinstance(value, Decimal):
        return float(value)
    return escape_formula(value)


def sheet_rows(spec: c.SheetSpec, jurisdiction: Jurisdiction, period: int, *, with_values: bool) -> list[list]:
    """Rows (without header) for one sheet: the area's schools / townships, and their data if asked."""
    if spec is c.SCHOOLS:
        schools = jurisdiction.filter(School.objects.all(), "township").order_by("code")
        return [
            [_cell(col, v) for col, v in zip(spec.columns, (s.code, s.name, s.stage, s.township_id, s.is_seat, s.is_urban, s.is_urban_quality), strict=True)]
            for s in schools
        ]
    if spec is c.SCHOOL_YEARS:
        schools = jurisdiction.filter(School.objects.all(), "township").order_by("code").values_list("id", "code", "name")
        data = {}
        if with_values:
            fields = [col.key for col in spec.columns[3:]]
            for row in jurisdiction.filter(SchoolYear.objects.filter(period=period), "township").values("school_id", *fields):
                data[row["school_id"]] = row
        rows = []
        for pk, code, name in schools:
            values = data.get(pk, {})
            rows.append([code, escape_formula(name), period] + [_cell(col, values.get(col.key)) for col in spec.columns[3:]])
        return rows
    if spec is c.TOWNSHIP_YEARS:
        towns = jurisdiction.filter(Division.objects.filter(level=Level.TOWNSHIP, kind__in=PROGRAMME_KINDS), "code").order_by("code")
        data = {}
        if with_values:
            fields = [col.key for col in spec.columns[3:]]
            data = {r["township_id"]: r for r in jurisdiction.filter(TownshipYear.objects.filter(period=period), "township").values("township_id", *fields)}
        return [[t.code, t.name, period] + [_cell(col, data.get(t.code, {}).get(col.key)) for col in spec.columns[3:]] for t in towns]
    if spec is c.HELP_RELATIONS:
        if not with_values:
            return []
        qs = jurisdiction.filter(HelpRelation.objects.filter(period=period), "township").select_related("helper", "helped")
        return [[h.helper.code, h.helped.code, HELP_LABEL[h.kind], h.period] for h in qs]
    raise ValueError(spec.kind)


INSTRUCTIONS = [
    "教育强镇筑基 学校数据填报模板",
    "1. 每个工作表一类数据：学校名录、学校年度数据、乡镇年度数据、帮扶关系。请勿修改表头；不需要的工作表可以删除或留空。",
    "2. 学年填起始年份，如 2024 表示 2024—2025学年。比例可填 0.95 或 95%。是否类填“是/否”。",
    "3. 请直接填写数值，不要使用公式；从其他表格复制时请“粘贴为数值”。",
    "4. 上传后先预览：系统列出新增、变更、未变和有误的行；有任何错误时不会写入任何数据。",
    "5. 与上一学年相比变动过大的数据会被标出，需要填写原因确认后才能提交。",
    "6. 学校年度数据、乡镇年度数据已按本单位辖区预填学校和乡镇，只能填报本辖区的数据。",
]


def build_workbook(*, jurisdiction: Jurisdiction, period: int, with_values: bool) -> bytes:
    wb = Workbook()
    guide = wb.active
    guide.title = c.INSTRUCTIONS_SHEET
    for i, line in enumerate(INSTRUCTIONS, start=1):
        guide.cell(row=i, column=1, value=line).font = Font(bold=(i == 1), size=14 if i == 1 else 11)
    guide.column_dimensions["A"].width = 110
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    for spec in c.SPECS:
        ws = wb.create_sheet(spec.title)
        for idx, col in enumerate(spec.columns, start=1):
            cell = ws.cell(row=1, column=idx, value=col.header)
            cell.font = Font(bold=True, color="A4161A" if col.required else "000000")
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            ws.column_dimensions[get_column_letter(idx)].width = max(10, min(24, len(col.header) * 2 + 2))
        ws.freeze_panes = "A2"
        rows = sheet_rows(spec, jurisdiction, period, with_values=with_values)
        for row in rows:
            ws.append(row)
        last = max(len(rows) + 1, 1000)
        for idx, col in enumerate(spec.columns, start=1):
            letter = get_column_letter(idx)
            if col.kind in CHOICES:
                dv = DataValidation(type="list", formula1='"' + ",".join(CHOICES[col.kind]) + '"', allow_blank=not col.required)
                dv.error = _("Choose a value from the list.")
                dv.errorTitle = col.header
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{last}")
            elif col.kind in (c.CODE10, c.CODE9):
                ws.column_dimensions[letter].width = 14
                for row_idx in range(2, len(rows) + 2):
                    ws.cell(row=row_idx, column=idx).number_format = "@"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def build_csv(*, spec: c.SheetSpec, jurisdiction: Jurisdiction, period: int) -> bytes:
    """CSV (UTF-8 with BOM, so Excel and WPS open it as Chinese) of one sheet's current data."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([col.header for col in spec.columns])
    for row in sheet_rows(spec, jurisdiction, period, with_values=True):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


__all__ = ["build_workbook", "build_csv", "escape_formula", "Stage"]
