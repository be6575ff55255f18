"""Load a framework version from its JSON fixture; frameworks used by a round are frozen."""
from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evaluation.models import Framework, ObservationPoint, SchoolYear, SourceKind, Target, TownshipYear

DEFAULT_FRAMEWORK = settings.BASE_DIR / "fixtures" / "framework" / "framework-2021.json"


def column_exists(source_kind: str, column: str) -> bool:
    model = {SourceKind.SCHOOL_COLUMN: SchoolYear, SourceKind.TOWNSHIP_COLUMN: TownshipYear}.get(source_kind)
    if model is None:
        return True
    return any(f.name == column for f in model._meta.concrete_fields)


def validate_point(point: dict) -> None:
    for key in ("column", "denominator"):
        if point.get(key) and not column_exists(point["source_kind"], point[key]):
            raise ValidationError(_("Observation point %(code)s names a column that does not exist: %(column)s") % {"code": point["code"], "column": point[key]})


@transaction.atomic
def load_framework(*, path: Path = DEFAULT_FRAMEWORK, document: dict | None = None) -> Framework:
    """Create the version in the file (or `document`), or update it in place while no round uses
    it; either way every year's results are recomputed once the transaction commits (the version
    in force for a year may have changed; a round keeps the version it names)."""
    doc = document if document is not None else json.loads(Path(path).read_text(encoding="utf-8"))
    framework, created = Framework.objects.get_or_create(
        version=doc["version"], defaults={"name": doc["name"], "source_document": doc["source_document"]}
    )
    if not created and framework.frozen:
        return framework  # a frozen version never changes; a new one needs a new version string
    framework.name, framework.source_document = doc["name"], doc["source_document"]
    framework.applies_from = int(doc.get("applies_from", 2021))
    framework.verification_tolerances = doc.get("verification_tolerances", {})
    framework.save()
    framework.targets.all().delete()
    for t in doc["targets"]:
        target = Target.objects.create(framework=framework, number=t["number"], name=t["name"], name_en=t["name_en"], source_quote=t["source_quote"])
        points = []
        for order, p in enumerate(t["points"]):
            validate_point(p)
            points.append(ObservationPoint(target=target, order=order, **p))
        ObservationPoint.objects.bulk_create(points)
    _results_follow()
    return framework


@transaction.atomic
def copy_framework(*, framework: Framework, version: str, applies_from: int | None = None) -> Framework:
    """A new, editable version of a (frozen) framework, in force from `applies_from` (by default
    the same year as the original, which it then replaces for results without a round)."""
    new = Framework.objects.create(
        version=version, name=framework.name, source_document=framework.source_document,
        applies_from=framework.applies_from if applies_from is None else applies_from,
        verification_tolerances=framework.verification_tolerances,
    )
    for target in framework.targets.prefetch_related("points"):
        points = list(target.points.all())
        target.pk, target.framework = None, new
        target.save()
        for p in points:
            p.pk, p.target = None, target
        ObservationPoint.objects.bulk_create(points)
    _results_follow()
    return new


def _results_follow() -> None:
    from evaluation.services.rollup_jobs import queue_framework_rollup_on_commit

    queue_framework_rollup_on_commit()
