"""Issue 17's account and transport findings: password history, no-store, the API schema behind
login, and the rectification steps' user as the schema says."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from security.models import PasswordHistory

pytestmark = pytest.mark.django_db
PASSWORDS = [f"Qzzj-Rotation-{n}a" for n in range(7)]


def change(client, old, new):
    return client.post("/accounts/password_change/", {"old_password": old, "new_password1": new, "new_password2": new})


def test_the_last_five_passwords_cannot_come_back(world):
    user = world.user("county_370881")
    user.set_password(PASSWORDS[0])
    user.save()
    client = Client()
    client.force_login(user)
    assert change(client, PASSWORDS[0], PASSWORDS[1]).status_code == 302
    # Straight back to the one before: refused in Chinese, the password stays.
    refused = change(client, PASSWORDS[1], PASSWORDS[0])
    assert refused.status_code == 200 and "最近 5 次" in refused.content.decode()
    assert get_user_model().objects.get(pk=user.pk).check_password(PASSWORDS[1])
    for old, new in zip(PASSWORDS[1:5], PASSWORDS[2:6], strict=True):
        client.force_login(get_user_model().objects.get(pk=user.pk))
        assert change(client, old, new).status_code == 302
    # Five passwords later (1–5 remembered) the first one is allowed again; the second is not.
    assert change(client, PASSWORDS[5], PASSWORDS[1]).status_code == 200
    assert change(client, PASSWORDS[5], PASSWORDS[0]).status_code == 302
    assert PasswordHistory.objects.filter(user=user).count() == 5
    # Another user's history is not this one's: the neighbour may use the same password.
    other = world.user("county_370883")
    client.force_login(other)
    assert change(client, "pw-for-tests-1", PASSWORDS[1]).status_code == 302


@pytest.mark.parametrize("url", ["/dashboard/", "/workflow/funding/", "/data/export.xlsx", "/api/schools/", "/api/funding/", "/workflow/"])
def test_data_pages_exports_and_the_api_are_not_stored(client, world, url):
    client.force_login(world.user("county_370881"))
    response = client.get(url)
    assert response.status_code == 200, url
    assert "no-store" in response["Cache-Control"]


def test_static_files_keep_their_caching(client, world):
    from django.contrib.staticfiles import finders

    assert finders.find("portal/form.js")
    response = client.get("/static/portal/form.js")
    assert "no-store" not in response.get("Cache-Control", "")


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_schema_and_docs_need_a_login(client, world, url):
    response = client.get(url)
    assert response.status_code in (302, 401, 403)
    assert b"openapi" not in response.content.lower()
    client.force_login(world.user("county_370881"))
    assert client.get(url).status_code == 200


def test_rectification_step_user_is_nullable_in_the_schema(client, world):
    client.force_login(world.user("county_370881"))
    schema = client.get("/api/schema/", {"format": "json"}).json()
    user = schema["components"]["schemas"]["Step"]["properties"]["user"]
    assert user["type"] == "string" and user.get("nullable") is True
