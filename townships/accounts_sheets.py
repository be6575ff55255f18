"""The accounts spreadsheet's template and the list of one-time passwords, as XLSX."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from townships.models import Role

HEADERS = ["登录名", "姓名", "手机号码", "角色", "单位代码"]


def _bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def accounts_template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "账号"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDE", (16, 12, 14, 16, 12), strict=True):
        ws.column_dimensions[column].width = width
    # Text cells so Excel keeps the leading digits of codes and phones as typed.
    for column in "ACE":
        for row in range(2, 502):
            ws[f"{column}{row}"].number_format = "@"
    roles = DataValidation(type="list", formula1='"省级工作人员,市级工作人员,县级管理员,督导评估专家"', allow_blank=False)
    roles.add("D2:D501")
    ws.add_data_validation(roles)
    notes = wb.create_sheet("说明")
    for line in (
        "每行一个账号。登录名：3–30 位字母、数字、点、横线或下划线，不得与已有账号重复。",
        "角色：" + "、".join(str(r.label) for r in Role) + "（省级工作人员属省，市级工作人员属市，县级管理员属县）。",
        "单位代码：国家统计局统计用区划代码（省 2 位、市 4 位、县 6 位），须在您的辖区内。",
        "文件中任何一行有误，则不创建任何账号。创建后每个账号获得一次性密码，首次登录须修改。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    return _bytes(wb)


def issued_passwords(issued) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "一次性密码"
    ws.append(["登录名", "姓名", "角色", "单位代码", "单位", "一次性密码"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for account in issued:
        ws.append([account.username, account.full_name, account.role_label, account.unit_code, account.unit_name, account.password])
    for column, width in zip("ABCDEF", (16, 12, 16, 12, 24, 18), strict=True):
        ws.column_dimensions[column].width = width
    return _bytes(wb)
