"""A user who opens what is not theirs gets the portal's own page in Chinese — in the demo's
settings too — and the API documentation sits in the footer, not in a role's navigation."""
import pytest

from tests.test_settings import run_settings

pytestmark = pytest.mark.django_db


def test_the_demo_settings_run_without_debug():
    out = run_settings("portal.settings.local")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[3] == "False"


def test_another_countys_township_is_a_chinese_not_found_page(client, world):
    from django.test import override_settings

    client.force_login(world.user("county_370881"))
    with override_settings(DEBUG=False):
        response = client.get("/dashboard/township/370883114/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page and "管辖范围以外" in page
    assert "URLconf" not in page and "Page not found" not in page
    assert "返回首页" in page


def test_a_server_error_is_a_chinese_page(rf):
    from portal.errors import server_error

    try:
        raise RuntimeError("boom")
    except RuntimeError:
        response = server_error(rf.get("/dashboard/"))
    assert response.status_code == 500
    assert "系统出错" in response.content.decode() and "boom" not in response.content.decode()


def test_a_refusal_is_a_chinese_page(rf):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/admin/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403 and "无权访问" in response.content.decode()


@pytest.mark.parametrize("key", ["province", "city_3708", "county_370881", "inspector_a"])
def test_api_docs_are_in_the_footer_not_the_navigation(client, world, key):
    import re

    client.force_login(world.user(key))
    page = client.get("/workflow/").content.decode()
    nav = re.search(r"<nav>(.*?)</nav>", page, re.S).group(1)
    assert "/api/docs/" not in nav
    footer = re.search(r'<footer class="footer">(.*?)</footer>', page, re.S).group(1)
    assert "/api/docs/" in footer and "接口文档" in footer


@pytest.mark.parametrize("path", ["/api/point-results/1/", "/api/no-such-thing/", "/api/scorecards/370883/extra/"])
def test_an_unknown_api_path_answers_json_not_a_page(client, world, path):
    """A removed route (point results have no detail, their rows no id) or a mistyped one: the
    API client reads the API's own 404, in Chinese, not the HTML page meant for a browser."""
    from django.test import override_settings

    client.force_login(world.user("county_370883"))
    with override_settings(DEBUG=False):
        response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "未找到。"}
    # Written as the API's own 404s are (DRF renders Unicode as is), not as \u escapes.
    assert "未找到。" in response.content.decode()


def test_an_unknown_page_path_stays_a_page(client, world):
    from django.test import override_settings

    client.force_login(world.user("county_370883"))
    with override_settings(DEBUG=False):
        response = client.get("/dashboard/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "页面不存在" in response.content.decode()


def test_a_bad_parameter_under_the_api_is_answered_in_chinese_json(rf):
    """The middleware's 400 (a parameter `core.params` could not read, raised under /api/) is
    written like the API's own answers: JSON, the Chinese as it is."""
    from core.params import BadParameter
    from portal.middleware import BadParameterMiddleware

    middleware = BadParameterMiddleware(lambda request: None)
    response = middleware.process_exception(rf.get("/api/schools/"), BadParameter("参数“area”的值无法使用。"))
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.content.decode() == '{"detail": "参数“area”的值无法使用。"}'
    assert middleware.process_exception(rf.get("/api/schools/"), ValueError("a bug")) is None
