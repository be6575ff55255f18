"""The API and the portal's pages use the same scoping as the admin."""
import pytest
from django.urls import reverse

from townships.models import PROGRAMME_KINDS, Division, Level, PilotTownship, School

pytestmark = pytest.mark.django_db


def test_school_api_lists_exactly_own_rows(client, world):
    client.force_login(world.user("county_370881"))
    response = client.get(reverse("school-list"), {"limit": 1000})
    codes = {r["code"] for r in response.json()["results"]}
    assert codes == {s.code for s in world.schools["370881"]}


def test_foreign_school_is_not_found_like_a_missing_one(client, world):
    client.force_login(world.user("county_370881"))
    foreign = client.get(reverse("school-detail", args=[world.schools["370883"][0].code]))
    missing = client.get(reverse("school-detail", args=["0000000000"]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "未找到。"}
    own = client.get(reverse("school-detail", args=[world.schools["370881"][0].code]))
    assert own.status_code == 200


def test_division_api_scoped_for_city_staff(client, world):
    client.force_login(world.user("city_3702"))
    response = client.get(reverse("division-list"), {"level": "county", "limit": 1000})
    codes = {r["code"] for r in response.json()["results"]}
    assert codes == set(Division.objects.filter(level=Level.COUNTY, code__startswith="3702").values_list("code", flat=True))
    assert client.get(reverse("division-detail", args=["3708"])).status_code == 404


def test_api_refuses_anonymous_and_inspector_sees_nothing_yet(client, world):
    assert client.get(reverse("school-list")).status_code == 403
    client.force_login(world.user("inspector_a"))
    assert client.get(reverse("school-list")).json()["count"] == 0


def test_api_is_read_only(client, world):
    client.force_login(world.user("province"))
    before = School.objects.count()
    response = client.post(reverse("school-list"), {"code": "7000000001", "name": "x", "stage": "primary", "township": "370881109"})
    assert response.status_code == 405 and School.objects.count() == before


def test_schema_is_served_without_cdn(client, world):
    client.force_login(world.user("province"))
    assert client.get(reverse("schema")).status_code == 200
    docs = client.get(reverse("api-docs")).content.decode()
    assert "cdn" not in docs.lower() and "https://" not in docs


@pytest.mark.parametrize("key,prefix", [("province", "37"), ("city_3708", "3708"), ("county_370281", "370281")])
def test_home_page_figures_are_the_users_area(client, world, key, prefix, django_assert_max_num_queries):
    client.force_login(world.user(key))
    with django_assert_max_num_queries(8):
        response = client.get(reverse("home"))
    assert response.status_code == 200
    summary = response.context["summary"]
    towns = Division.objects.filter(level=Level.TOWNSHIP, code__startswith=prefix)
    assert summary["townships"]["programme"] == towns.filter(kind__in=PROGRAMME_KINDS).count()
    assert summary["schools"]["all"] == School.objects.filter(township__code__startswith=prefix).count()
    pilots = PilotTownship.objects.filter(township__code__startswith=prefix).count()
    assert sum(b["n"] for b in summary["batches"]) == pilots
    html = response.content.decode()
    assert "我的辖区" in html and "乡镇（乡、镇）" in html


def test_home_requires_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_english_is_available(client, world):
    client.force_login(world.user("province"))
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert "My area" in html and "我的辖区" not in html
