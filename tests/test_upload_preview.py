"""The preview says what a file would change: old and new values, every added row (help relations
too), and "no change" with nothing to confirm when the file equals what is held; the template
can come prefilled with the year's values."""
import io

import pytest

from evaluation.models import HelpRelation, ImportStatus, SchoolYear
from tests import import_files as f
from tests.conftest import snapshot
from tests.test_imports import DOMAIN, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(world):
    return world.user("county_370881")


def test_added_rows_are_listed_help_relations_included(client, officer, world):
    # A helper inside the officer's own county (one outside it is the city's to enter).
    helper = world.schools["370881"][1]
    data = f.xlsx({"帮扶关系": [["帮扶学校标识码", "受帮扶学校标识码", "帮扶方式", "学年"], [helper.code, "7370881001", "结对帮扶", 2024]]})
    run = upload(officer, data, dry_run=True)
    assert run.status == ImportStatus.PREVIEWED and not HelpRelation.objects.exists()
    assert len(run.changes["added"]) == 1
    sheet, subject, values = run.changes["added"][0]
    assert sheet == "帮扶关系" and "7370881001" in subject + values

    client.force_login(officer)
    page = client.get(f"/data/imports/{run.pk}/").content.decode()
    assert 'id="added"' in page and "7370881001" in page.split('id="added"')[1]
    assert 'id="commit"' in page and 'id="no-change"' not in page


def test_changed_cells_are_headed_old_and_new_value(client, officer):
    upload(officer, f.school_year_xlsx())
    run = upload(officer, f.school_year_xlsx(rows=[[*f.SY_ROWS[0][:4], 60, *f.SY_ROWS[0][5:]], f.SY_ROWS[1]]), dry_run=True)
    client.force_login(officer)
    page = client.get(f"/data/imports/{run.pk}/").content.decode()
    changes = page.split('id="changes"')[1]
    assert "<th>原值</th><th>新值</th>" in changes and "58" in changes and "60" in changes


def test_a_file_that_changes_nothing_says_so_and_offers_no_save(client, officer):
    data = f.school_year_xlsx()
    upload(officer, data)
    before = snapshot(*DOMAIN)
    run = upload(officer, data, dry_run=True)
    assert run.summary["sheets"][0]["unchanged"] == 2
    client.force_login(officer)
    page = client.get(f"/data/imports/{run.pk}/").content.decode()
    assert 'id="no-change"' in page and "无变化" in page
    assert 'id="discard"' in page and 'id="commit"' not in page
    assert snapshot(*DOMAIN) == before


def test_the_template_can_come_prefilled_with_the_years_values(client, officer):
    from openpyxl import load_workbook

    upload(officer, f.school_year_xlsx())
    held = SchoolYear.objects.get(school__code="7370881001", period=2024)
    client.force_login(officer)

    def sheet(**params):
        wb = load_workbook(io.BytesIO(client.get("/data/template.xlsx", {"period": 2024, **params}).content))
        ws = wb["学校年度数据"]
        header = [c.value for c in ws[1]]
        row = next(r for r in ws.iter_rows(min_row=2, values_only=True) if r[0] == "7370881001")
        return dict(zip(header, row, strict=False))

    assert sheet()["专任教师数"] is None
    assert sheet(prefill="1")["专任教师数"] == held.teachers == 58
