"""Load the statistics bureau's division codes (fixtures/divisions/, 2023 edition) into Division."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from townships.models import Division, Level, township_kind_for_code

DIVISIONS_DIR = settings.BASE_DIR / "fixtures" / "divisions"
BATCH_SIZE = 2000


@dataclass(frozen=True)
class DivisionLoadResult:
    provinces: int
    cities: int
    counties: int
    townships: int


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def read_division_rows(*, provinces: set[str] | None = None, directory: Path = DIVISIONS_DIR) -> list[Division]:
    """Division objects for the given province codes (None: all of China), parents before children."""

    def wanted(code: str) -> bool:
        return provinces is None or code[:2] in provinces

    rows: list[Division] = []
    for r in _read(directory / "provinces.csv"):
        if wanted(r["code"]):
            rows.append(Division(code=r["code"], name=r["name"], level=Level.PROVINCE, parent_id=None))
    for r in _read(directory / "cities.csv"):
        if wanted(r["code"]):
            rows.append(Division(code=r["code"], name=r["name"], level=Level.CITY, parent_id=r["provinceCode"]))
    for r in _read(directory / "areas.csv"):
        if wanted(r["code"]):
            rows.append(Division(code=r["code"], name=r["name"], level=Level.COUNTY, parent_id=r["cityCode"]))
    for r in _read(directory / "streets.csv"):
        if wanted(r["code"]):
            rows.append(
                Division(
                    code=r["code"],
                    name=r["name"],
                    level=Level.TOWNSHIP,
                    parent_id=r["areaCode"],
                    kind=township_kind_for_code(r["code"]),
                )
            )
    return rows


@transaction.atomic
def load_divisions(*, provinces: set[str] | None = None, directory: Path = DIVISIONS_DIR) -> DivisionLoadResult:
    """Upsert the official divisions; running it twice changes nothing."""
    rows = read_division_rows(provinces=provinces, directory=directory)
    Division.objects.bulk_create(
        rows,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "parent", "kind"],
    )
    counts = {level: 0 for level in Level.values}
    for row in rows:
        counts[row.level] += 1
    return DivisionLoadResult(
        provinces=counts[Level.PROVINCE],
        cities=counts[Level.CITY],
        counties=counts[Level.COUNTY],
        townships=counts[Level.TOWNSHIP],
    )
