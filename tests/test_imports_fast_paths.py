"""The shortcuts the import takes for speed give exactly what the cell-by-cell path gives."""
import gc
from decimal import Decimal

import pytest

from core import spreadsheets
from core.spreadsheets import FileRefused, RawSheet, read_workbook
from evaluation.imports import columns as c
from evaluation.imports.parsing import PARSERS, CellError
from evaluation.imports.upsert import bulk_upsert
from evaluation.imports.validation import _cell_parser, parse_sheet
from evaluation.models import ImportStatus, SchoolYear
from tests import import_files as f
from tests.test_imports import upload

HEADERS = ["学校标识码", "学年", "在校生数", "生均图书（册）", "体质健康达标率", "有食堂", "专任教师数", "县级以上骨干教师数"]
CELLS = [
    None, "", " ", True, False, 1, 1.0, 0.0, -0.0, -1.0, 2.5, 1e300, float("nan"), float("inf"), "1", "１２", "95%", "0.95",
    "是", "否", "√", "=1", 2024.0, "2024-2025学年", 20001.0, 12.345, 12.355, 0.99995,
]


def _one_by_one(col, value):
    """What the per-cell parser makes of a value, as (typed, error text)."""
    typed, message = _cell_parser(col)(value)
    return typed, None if message is None else str(message)


@pytest.mark.parametrize("key", ["students", "books_per_student", "physical_health_pass_rate", "has_canteen", "safety_grade", "period", "school_code"])
def test_column_parsing_matches_cell_by_cell_parsing(key):
    """Mixed columns (bools beside numbers, NaN, blanks) and all-float columns alike."""
    col = c.SCHOOL_YEARS.column(key)
    base = {"school_code": "7370881001", "period": 2024.0, "students": 100.0}
    keys = list(base) if key in base else [*base, key]
    header = [c.SCHOOL_YEARS.column(k).header for k in keys]
    for cells in (CELLS, [v for v in CELLS if v.__class__ is float], [v for v in CELLS if v.__class__ is not bool]):
        rows = [header] + [[value if k == key else base[k] for k in keys] for value in cells]
        parsed = parse_sheet(RawSheet(name="t", rows=rows))
        assert not any(e.row is None for e in parsed.errors)
        errors = {e.row: e.message for e in parsed.errors if e.header == col.header}
        by_row = {r["_row"]: r[key] for r in parsed.records}
        assert len(by_row) == len(cells)
        for row_number, value in enumerate(cells, start=2):
            typed, message = _one_by_one(col, value)
            assert errors.get(row_number) == message, (value, errors.get(row_number))
            assert by_row[row_number] == typed and type(by_row[row_number]) is type(typed), value


def test_a_bool_cell_is_not_taken_for_the_number_one():
    rows = [HEADERS, ["7370881001", 2024, True, 1.0, 1, True, 3, 1], ["7370881002", 2024, 1.0, 1, 1.0, 1.0, 3, 1]]
    parsed = parse_sheet(RawSheet(name="t", rows=rows))
    assert [(e.row, e.header) for e in parsed.errors] == [(2, "在校生数")]
    assert parsed.records[1]["students"] == 1 and parsed.records[1]["books_per_student"] == Decimal("1.00")


def test_errors_keep_their_order_column_by_column_then_row_by_row():
    rows = [HEADERS, ["7370881001", 2024, "x", 1, 2, "?", 3, 1], ["7370881002", 2024, "x", "y", 2, "是", 3, 1], ["7370881003", 2024, 5, 1, 0.5, "是", 3, 4]]
    parsed = parse_sheet(RawSheet(name="t", rows=rows))
    assert [(e.row, e.header) for e in parsed.errors] == [
        # columns in the template's order, whatever their order in the file
        (2, "在校生数"), (3, "在校生数"), (3, "生均图书（册）"), (2, "有食堂"), (2, "体质健康达标率"), (3, "体质健康达标率"), (4, "县级以上骨干教师数"),
    ]


def test_float_fast_path_rounds_as_the_cell_parser_does():
    col = c.SCHOOL_YEARS.column("books_per_student")
    values = [0.005, 0.015, 2.675, 12.345, 9999.995, 0.0]
    rows = [["学校标识码", "学年", "在校生数", col.header]] + [[f"737088100{i}", 2024.0, 10.0, v] for i, v in enumerate(values)]
    parsed = parse_sheet(RawSheet(name="t", rows=rows))
    assert not parsed.errors
    assert [r["books_per_student"] for r in parsed.records] == [_one_by_one(col, v)[0] for v in values]
    with pytest.raises(CellError):
        PARSERS[col.kind](-1.0, col)


@pytest.mark.django_db
def test_new_rows_that_exist_after_all_are_upserted(world):
    """Rows the diff found absent are COPYed; if another upload stored one meanwhile, the whole
    batch is upserted instead — no error, no duplicate, nothing half written."""
    officer = world.user("county_370881")
    assert upload(officer, f.school_year_xlsx()).status == ImportStatus.COMMITTED
    stored = list(SchoolYear.objects.order_by("school_id").values_list("school_id", "period", "township_id", "students"))
    assert stored
    school_id, period, township, students = stored[0]
    bulk_upsert(
        model=SchoolYear,
        conflict=["school_id", "period"],
        columns=["school_id", "period", "township_id", "students", "care_quality_grade", "safety_grade"],
        rows=[],
        new_rows=[(school_id, period, township, students + 7, "", "")],
    )
    assert SchoolYear.objects.count() == len(stored)
    assert SchoolYear.objects.get(school_id=school_id, period=period).students == students + 7


@pytest.mark.django_db
def test_the_collector_is_restored_after_an_upload(world):
    officer = world.user("county_370881")
    assert gc.isenabled()
    upload(officer, f.school_year_xlsx())
    upload(officer, b"not a spreadsheet", dry_run=True)
    assert gc.isenabled()


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 1 << 20])
def test_the_formula_scan_reads_a_sheet_in_chunks_and_misses_no_formula_cut_between_two(monkeypatch, chunk):
    """The scan unzips a sheet a chunk at a time: a formula tag cut at any byte is still found,
    and a sheet without one still passes."""
    monkeypatch.setattr(spreadsheets, "SCAN_CHUNK", chunk)
    with pytest.raises(FileRefused, match="公式"):
        read_workbook(f.school_year_xlsx(rows=[["7370881001", "a", 2024, "=400+420"]]))
    assert read_workbook(f.school_year_xlsx())[0].rows


@pytest.mark.django_db
def test_the_collector_is_paused_while_an_upload_is_checked_and_left_off_if_it_was(world, monkeypatch):
    from evaluation.imports import commit

    seen = []
    checked = commit.evaluate
    monkeypatch.setattr(commit, "evaluate", lambda *a, **k: seen.append(gc.isenabled()) or checked(*a, **k))
    officer = world.user("county_370881")
    assert upload(officer, f.school_year_xlsx()).status == ImportStatus.COMMITTED
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        upload(officer, f.school_year_xlsx())
        assert not gc.isenabled()  # an upload does not switch on what someone else switched off
    finally:
        gc.enable()
