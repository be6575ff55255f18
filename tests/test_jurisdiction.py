import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from tests.factories import UserFactory
from townships import jurisdiction as jur
from townships.jurisdiction import Jurisdiction, get_in_jurisdiction_or_404, resolve_jurisdiction
from townships.models import Division, Role, School
from townships.selectors import schools_in


def test_prefix_rules():
    j = Jurisdiction(frozenset({"3708", "370881", "3702"}))
    assert j.covers("370881109") and j.covers("3708") and j.covers("370211103")
    assert not j.covers("3709") and not j.covers("37") and not j.covers("") and not j.covers(None)
    assert j._minimal_prefixes() == ["3702", "3708"]
    assert Jurisdiction.nothing().is_empty and not Jurisdiction.nothing().covers("37")
    assert Jurisdiction(everything=True).covers("11")


@pytest.mark.parametrize(
    "role,unit,expected",
    [
        (Role.PROVINCE_STAFF, "37", {"37"}),
        (Role.CITY_STAFF, "3708", {"3708"}),
        (Role.COUNTY_OFFICER, "370881", {"370881"}),
        # A staff role on a unit of the wrong level grants nothing rather than too much.
        (Role.COUNTY_OFFICER, "3708", set()),
        (Role.CITY_STAFF, "37", set()),
        # Inspectors see what their assignments grant (none yet), never their organising unit.
        (Role.INSPECTOR, "37", set()),
        ("", "37", set()),
    ],
)
def test_resolve_by_role(geography, role, unit, expected):
    user = UserFactory(role=role, unit_id=unit)
    assert resolve_jurisdiction(user).prefixes == frozenset(expected)


def test_anonymous_inactive_and_superuser(geography):
    assert resolve_jurisdiction(AnonymousUser()).is_empty
    assert resolve_jurisdiction(UserFactory(role=Role.PROVINCE_STAFF, unit_id="37", is_active=False)).is_empty
    assert resolve_jurisdiction(UserFactory(is_superuser=True, role="", unit_id=None)).everything


def test_providers_extend_jurisdiction_without_townships_knowing_them(geography, monkeypatch):
    monkeypatch.setattr(jur, "_providers", [])
    inspector = UserFactory(role=Role.INSPECTOR, unit_id="37")
    jur.register_provider(lambda user: ["370881109"] if user.pk == inspector.pk else [])
    assert resolve_jurisdiction(inspector).prefixes == {"370881109"}
    assert resolve_jurisdiction(UserFactory(role=Role.INSPECTOR, unit_id="37")).is_empty


def test_scoped_selectors_and_not_found(world):
    officer = world.user("county_370881")
    j = resolve_jurisdiction(officer)
    own = set(schools_in(j).values_list("code", flat=True))
    assert own == {s.code for s in world.schools["370881"]}
    other = world.schools["370883"][0]
    with pytest.raises(Http404):
        get_in_jurisdiction_or_404(School.objects.all(), j, "township", code=other.code)
    with pytest.raises(Http404):
        get_in_jurisdiction_or_404(School.objects.all(), j, "township", code="0000000000")
    assert get_in_jurisdiction_or_404(School.objects.all(), j, "township", code=world.schools["370881"][0].code)


def test_filter_is_one_indexed_prefix_condition(geography, django_assert_num_queries):
    j = Jurisdiction(frozenset({"3708"}))
    with django_assert_num_queries(1) as ctx:
        n = j.filter(Division.objects.all(), "code").count()
    assert n == Division.objects.filter(code__startswith="3708").count()
    assert "LIKE" in ctx.captured_queries[0]["sql"].upper()


def test_school_scope_needs_no_join(world, django_assert_num_queries):
    j = Jurisdiction(frozenset({"370881"}))
    with django_assert_num_queries(1) as ctx:
        list(j.filter(School.objects.all(), "township"))
    sql = ctx.captured_queries[0]["sql"].upper()
    assert "JOIN" not in sql and "LIKE" in sql
