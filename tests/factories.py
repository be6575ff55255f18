import factory

from townships.models import Role, School, Stage, User


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"7{n:09d}")
    name = factory.Sequence(lambda n: f"测试学校{n}")
    stage = Stage.PRIMARY
    township_id = "370881109"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.COUNTY_OFFICER
    unit_id = "370881"
    is_staff = factory.LazyAttribute(lambda u: u.role != Role.INSPECTOR)
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
