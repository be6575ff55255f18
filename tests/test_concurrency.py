"""Many at once, over real HTTP: inspectors save and then submit their forms at the same moment —
each twice, as a double click does — while other users browse, against gunicorn on the test's
PostgreSQL database. Nothing is lost, nothing is counted twice, no answer is an error. The same
code (tests/support/load.py) measures the full peak (50 inspectors, 100 users, 60 s) in the
bench's `load` group."""
import pytest
from django.db import connection

from evaluation.services.framework import load_framework
from tests.support.live_server import Server
from tests.support.load import browsing_users, inspector_forms, peak, rolled_up, submissions
from townships.services.demo import load_demo_schools

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the server is another process: the data must be committed
    pytest.mark.skipif(connection.vendor != "postgresql", reason="many processes writing at once: the PostgreSQL pass runs it"),
]


def test_inspectors_submitting_at_once_while_others_browse_lose_and_duplicate_nothing(geography):
    load_framework()
    load_demo_schools(province_prefix="3708", villages_per_township=1)
    users = browsing_users(12)
    inspectors = inspector_forms(12)
    form_ids = [pk for _, pk in inspectors]
    with Server() as server:
        answers = peak(server.port, users, inspectors, duration=10, save_at=3, submit_at=5)
    assert answers.errors == []
    assert len(answers.latencies["submit"]) == 2 * len(form_ids)  # every double click was sent
    assert len(answers.latencies["browse"]) >= len(users)
    held = submissions(form_ids)
    assert held == {"forms": 12, "submitted": 12, "lost": 0, "duplicated": 0, "events": 12, "audits": 12}, held
    assert rolled_up(form_ids, wait_s=60) == 12
