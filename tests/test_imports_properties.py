"""Property: whatever malformed rows a file holds, the upload never fails with a server error and
never writes part of a file."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evaluation.imports.service import import_file
from evaluation.models import ImportStatus, SchoolYear
from tests import import_files as f
from tests.conftest import snapshot
from tests.test_imports import DOMAIN
from townships.jurisdiction import resolve_jurisdiction

pytestmark = pytest.mark.django_db

cell = st.one_of(
    st.none(),
    st.integers(min_value=-10**6, max_value=10**7),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["是", "否", "95%", "0.95", "１２", "十二", "=1+1", "@x", "2024", "优", "", " ", "7370881001", "7370883001"]),
)
code = st.sampled_from(["7370881001", "7370881002", "7370883001", "737088100", "x", "", None])
row = st.tuples(code, cell, st.one_of(st.just(2024), cell), cell, cell, cell, cell, cell, cell, cell).map(list)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=8), as_csv=st.booleans())
def test_malformed_rows_never_crash_and_never_write_part_of_a_file(world, rows, as_csv):
    officer = world.user("county_370881")
    data = f.csv_bytes([f.SY_HEADERS, *rows]) if as_csv else f.school_year_xlsx(rows=[[_xlsx_safe(v) for v in r] for r in rows])
    before = snapshot(*DOMAIN)
    run = import_file(user=officer, jurisdiction=resolve_jurisdiction(officer), data=data, file_name="h.dat", channel="test", dry_run=False)
    if run.status == ImportStatus.COMMITTED:
        # All or nothing: every row of the file is stored (duplicates would have been refused).
        assert SchoolYear.objects.count() == len(rows)
        assert set(SchoolYear.objects.values_list("school__code", flat=True)) == {r[0] for r in rows}
    else:
        assert run.status == ImportStatus.INVALID and run.errors
        assert snapshot(*DOMAIN) == before
    SchoolYear.objects.all().delete()


def _xlsx_safe(value):
    # openpyxl cannot write control characters or an infinite float; officers' files never hold them.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch >= " " or ch in "\t")
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    return value
