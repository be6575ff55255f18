"""Every admin list, change page, search, filter, autocomplete and export returns exactly the
user's own rows; another county's objects are "not found" and refused writes change nothing."""
import pytest
from django.urls import reverse

from tests.conftest import snapshot
from townships.models import Division, Level, PilotTownship, School, Stage, User

pytestmark = pytest.mark.django_db

STAFF = ["province", "city_3708", "city_3702", "county_370881", "county_370883", "county_370281", "county_370283"]


def prefix_of(world, key):
    return world.user(key).unit_id


def changelist_rows(client, model_name, params=None):
    response = client.get(reverse(f"admin:townships_{model_name}_changelist"), params or {})
    assert response.status_code == 200, response.status_code
    return response, response.context["cl"].queryset


@pytest.mark.parametrize("key", STAFF)
def test_school_list_is_exactly_own_rows(client, world, key):
    client.force_login(world.user(key))
    _, rows = changelist_rows(client, "school")
    prefix = prefix_of(world, key)
    expected = {s.code for s in School.objects.all() if s.township_id.startswith(prefix)}
    assert expected and {s.code for s in rows} == expected


@pytest.mark.parametrize("key", STAFF)
@pytest.mark.parametrize("model_name,level", [("township", Level.TOWNSHIP), ("county", Level.COUNTY)])
def test_division_lists_are_exactly_own_rows(client, world, key, model_name, level):
    client.force_login(world.user(key))
    _, rows = changelist_rows(client, model_name)
    prefix = prefix_of(world, key)
    expected = set(Division.objects.filter(level=level, code__startswith=prefix).values_list("code", flat=True))
    assert expected and set(rows.values_list("code", flat=True)) == expected


@pytest.mark.parametrize("key", STAFF)
def test_pilot_list_is_exactly_own_rows(client, world, key):
    client.force_login(world.user(key))
    _, rows = changelist_rows(client, "pilottownship")
    prefix = prefix_of(world, key)
    expected = {p.pk for p in PilotTownship.objects.all() if p.township_id.startswith(prefix)}
    assert {p.pk for p in rows} == expected


def test_county_officer_cannot_see_cities_list_but_city_staff_sees_own_city(client, world):
    client.force_login(world.user("county_370881"))
    assert client.get(reverse("admin:townships_city_changelist")).status_code == 403
    client.force_login(world.user("city_3708"))
    _, rows = changelist_rows(client, "city")
    assert list(rows.values_list("code", flat=True)) == ["3708"]


@pytest.mark.parametrize("key", ["county_370881", "city_3702"])
def test_search_stays_inside(client, world, key):
    client.force_login(world.user(key))
    _, rows = changelist_rows(client, "school", {"q": "学校"})
    prefix = prefix_of(world, key)
    assert rows.exists() and all(s.township_id.startswith(prefix) for s in rows)
    # Searching for another county's school by its exact code finds nothing.
    other = world.schools["370883"][0] if key == "city_3702" else world.schools["370281"][0]
    _, rows = changelist_rows(client, "school", {"q": other.code})
    assert not rows.exists()


def test_filters_offer_only_own_counties_and_ignore_foreign_values(client, world):
    client.force_login(world.user("city_3708"))
    response, rows = changelist_rows(client, "school")
    county_filter = next(f for f in response.context["cl"].filter_specs if getattr(f, "parameter_name", None) == "county")
    offered = {code for code, _name in county_filter.lookup_choices}
    assert offered == set(Division.objects.filter(level=Level.COUNTY, code__startswith="3708").values_list("code", flat=True))
    _, rows = changelist_rows(client, "school", {"county": "370881"})
    assert {s.code for s in rows} == {s.code for s in world.schools["370881"]}
    # A foreign county in the URL selects nothing (it never widens the scope).
    _, rows = changelist_rows(client, "school", {"county": "370281"})
    assert not rows.exists()


def test_autocomplete_offers_only_own_townships(client, world):
    client.force_login(world.user("county_370881"))
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "townships", "model_name": "school", "field_name": "township", "term": "镇"},
    )
    assert response.status_code == 200
    ids = [r["id"] for r in response.json()["results"]]
    assert ids and all(i.startswith("370881") for i in ids)


def test_change_page_of_another_countys_school_is_not_found_like_a_missing_one(client, world):
    client.force_login(world.user("county_370881"))
    other = world.schools["370883"][0]
    foreign = client.get(reverse("admin:townships_school_change", args=[other.pk]), follow=True)
    missing = client.get(reverse("admin:townships_school_change", args=[999999]), follow=True)
    assert foreign.redirect_chain[-1][0] == missing.redirect_chain[-1][0] == reverse("admin:index")
    assert [str(m).replace(str(other.pk), "ID") for m in foreign.context["messages"]] == [
        str(m).replace("999999", "ID") for m in missing.context["messages"]
    ]
    assert "不存在" in str(list(foreign.context["messages"])[0])


def test_writes_to_another_countys_school_change_nothing(client, world):
    client.force_login(world.user("county_370881"))
    other = world.schools["370883"][0]
    before = snapshot(School)
    client.post(
        reverse("admin:townships_school_change", args=[other.pk]),
        {"code": other.code, "name": "改名", "stage": Stage.PRIMARY, "township": other.township_id},
    )
    client.post(reverse("admin:townships_school_delete", args=[other.pk]), {"post": "yes"})
    client.post(
        reverse("admin:townships_school_add"),
        {"code": "7999999999", "name": "越界学校", "stage": Stage.PRIMARY, "township": other.township_id},
    )
    assert snapshot(School) == before


def test_own_school_is_read_only_in_the_admin_and_points_to_the_upload(client, world):
    """A school's stage, flags and township are read by every year's results: they change through
    the school-list upload (checked, audited, recomputed), not around it."""
    client.force_login(world.user("county_370881"))
    own = world.schools["370881"][0]
    before = snapshot(School)
    url = reverse("admin:townships_school_change", args=[own.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    moved = client.post(url, {"code": own.code, "name": "息陬镇中心小学", "stage": Stage.PRIMARY, "township": "370881109"})
    added = client.post(reverse("admin:townships_school_add"), {"code": "7370881999", "name": "新学校", "stage": Stage.PRIMARY, "township": "370881109"})
    deleted = client.post(reverse("admin:townships_school_delete", args=[own.pk]), {"post": "yes"})
    assert (moved.status_code, added.status_code, deleted.status_code) == (403, 403, 403)
    assert snapshot(School) == before
    listing = client.get(reverse("admin:townships_school_changelist"))
    assert "upload a spreadsheet" in listing.content.decode() or "上传" in listing.content.decode()


def test_export_contains_only_own_rows(client, world):
    client.force_login(world.user("county_370881"))
    response = client.post(
        reverse("admin:townships_school_export"),
        {"format": "0", "resource": "0", **{f"schoolresource_{f}": "on" for f in ["code", "name", "township"]}},
    )
    assert response.status_code == 200, response.content[:500]
    body = response.content.decode("utf-8-sig")
    for code in (s.code for s in world.schools["370881"]):
        assert code in body
    for county in ("370883", "370281", "370283"):
        for school in world.schools[county]:
            assert school.code not in body


def test_inspector_gets_no_admin(client, world):
    client.force_login(world.user("inspector_a"))
    assert client.get(reverse("admin:index"), follow=True).status_code == 403
    assert client.get(reverse("admin:townships_school_changelist"), follow=True).status_code == 403
    client.logout()
    response = client.get(reverse("admin:index"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("login"))


def test_user_admin_is_provincial_and_scoped(client, world):
    client.force_login(world.user("city_3708"))
    assert client.get(reverse("admin:townships_user_changelist")).status_code == 403
    client.force_login(world.user("province"))
    _, rows = changelist_rows(client, "user")
    assert set(rows.values_list("username", flat=True)) == set(
        User.objects.filter(unit__code__startswith="37").values_list("username", flat=True)
    )


def test_provincial_staff_cannot_create_a_county_account_on_a_city(client, world):
    client.force_login(world.user("province"))
    before = User.objects.count()
    response = client.post(
        reverse("admin:townships_user_add"),
        {"username": "wrong", "role": "county", "unit": "3708", "usable_password": "true", "password1": "Xk93-abcd-Q", "password2": "Xk93-abcd-Q"},
    )
    assert response.status_code == 200 and "unit" in response.context["adminform"].form.errors
    assert User.objects.count() == before


@pytest.mark.parametrize("key", STAFF)
def test_every_admin_changelist_renders_in_chinese(client, world, key):
    client.force_login(world.user(key))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "学校" in response.content.decode()
