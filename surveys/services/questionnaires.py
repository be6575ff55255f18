"""Questionnaires as data: loaded from a JSON fixture (the 2021 default pair), edited by
provincial staff in the admin while no survey used them, frozen from the first survey on."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from surveys.models import Item, ItemKind, Questionnaire

DEFAULT_QUESTIONNAIRES = settings.BASE_DIR / "fixtures" / "surveys" / "questionnaires-2021.json"


class QuestionnaireFrozen(ValidationError):
    pass


def check_definition(*, scale: list, satisfied_choices: list, items: list[dict]) -> None:
    """A questionnaire that can be answered and counted: a scale, satisfied choices taken from it,
    at least one scale item counting toward satisfied, numbers unique."""
    if len(scale) < 2 or len(set(scale)) != len(scale):
        raise ValidationError(_("The scale needs at least two different choices."))
    if not satisfied_choices or not set(satisfied_choices) <= set(scale):
        raise ValidationError(_("The satisfied choices must be choices of the scale."))
    numbers = [i["number"] for i in items]
    if len(set(numbers)) != len(numbers):
        raise ValidationError(_("Two questions have the same number."))
    if not any(i.get("counts") and i.get("kind", ItemKind.SCALE) == ItemKind.SCALE for i in items):
        raise ValidationError(_("At least one question on the scale must count toward satisfied."))


def ensure_editable(questionnaire: Questionnaire) -> None:
    if questionnaire.frozen:
        raise QuestionnaireFrozen(_("This questionnaire has been used by a survey and can no longer change; create a new version."))


@transaction.atomic
def load_questionnaires(*, path: Path = DEFAULT_QUESTIONNAIRES) -> list[Questionnaire]:
    """Create the versions in the file, or update them in place while no survey uses them; a
    frozen version is left as it is (idempotent: setup_demo runs it every time)."""
    loaded = []
    for doc in json.loads(Path(path).read_text(encoding="utf-8")):
        items = doc["items"]
        check_definition(scale=doc["scale"], satisfied_choices=doc["satisfied_choices"], items=items)
        fields = {k: v for k, v in doc.items() if k not in ("code", "version", "items")}
        questionnaire, created = Questionnaire.objects.get_or_create(code=doc["code"], version=doc["version"], defaults=fields)
        if not created:
            if questionnaire.frozen:
                loaded.append(questionnaire)
                continue
            Questionnaire.objects.filter(pk=questionnaire.pk).update(**fields)
            questionnaire.items.all().delete()
        Item.objects.bulk_create([Item(questionnaire=questionnaire, **item) for item in items])
        loaded.append(questionnaire)
    return loaded


def freeze(questionnaire: Questionnaire) -> None:
    if not questionnaire.frozen:
        Questionnaire.objects.filter(pk=questionnaire.pk).update(frozen=True)
        questionnaire.frozen = True
