"""schemathesis against the portal's own OpenAPI schema, in-process (WSGI), as two county officers
of different counties: whatever the generated requests, never a server error, and every answer
the schema documents matches it. Unsafe methods carry a CSRF token, so they reach the views."""
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

pytestmark = pytest.mark.django_db


def _schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


schema = schemathesis.openapi.from_dict(_schema())
schema.app = get_wsgi_application()
CSRF = "a" * 32  # a valid unmasked secret: cookie and header agree, so CSRF passes


@pytest.fixture
def officers(world, settings):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client

    settings.ALLOWED_HOSTS = ["localhost", "testserver", "127.0.0.1"]
    sessions = []
    for key in ("county_370881", "county_370883"):
        client = Client()
        client.force_login(world.user(key))
        sessions.append(client.cookies["sessionid"].value)
    # The WSGI handler closes the database connection after each request; inside the test's
    # transaction it must not (Django's own test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield sessions
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=int(__import__("os").environ.get("SCHEMATHESIS_EXAMPLES", "12")), derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_without_a_server_error(case, officers):
    for session in officers:
        response = case.call(cookies={"sessionid": session, "csrftoken": CSRF}, headers={"X-CSRFToken": CSRF})
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
