"""Large spreadsheets generated from the schools in the database, for the tests that upload a
big file (tests/test_tasks.py) and the bench's `import` group."""
from __future__ import annotations

import io

from openpyxl import Workbook

from evaluation.imports import columns as c
from evaluation.imports.workbook import _cell
from evaluation.services.demo import school_year_values
from townships.models import School


def build_school_year_xlsx(rows: int = 30_000, period: int = 2024) -> bytes:
    """A school-year sheet as an officer would upload it: Chinese headers, one row per school."""
    spec = c.SCHOOL_YEARS
    schools = list(School.objects.order_by("code").values_list("code", "name", "stage", "is_seat", "is_urban", "is_urban_quality")[:rows])
    assert len(schools) == rows, f"need {rows} schools, have {len(schools)}"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.title)
    ws.append([col.header for col in spec.columns])
    for code, name, stage, seat, urban, quality in schools:
        values = school_year_values(code=code, stage=stage, is_seat=seat, is_urban=urban, is_quality=quality, period=period)
        ws.append([code, name, period] + [_cell(col, values.get(col.key)) for col in spec.columns[3:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
