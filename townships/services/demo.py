"""Deterministic demo data: there is no public school list, so the portal invents one.

Every school made here has is_demo=True and "（演示）" in its name. The same call always makes the
same rows (codes, names, flags), so demo logins, screenshots and benchmarks are reproducible.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from townships.models import (
    PROGRAMME_KINDS,
    Division,
    Level,
    Phase,
    PilotBatch,
    PilotTownship,
    Role,
    School,
    Stage,
    TownshipKind,
    User,
)
from townships.services.pilots import add_batch_townships

DEMO_SUFFIX = "（演示）"
DEMO_PASSWORD = "Qzzj-demo-2026"

# Urban (县城) schools every county gets, per stage; the first of each stage is a quality school.
URBAN_SCHOOLS = {Stage.KINDERGARTEN: 2, Stage.PRIMARY: 3, Stage.JUNIOR: 2}
STAGE_NAME = {
    Stage.KINDERGARTEN: "幼儿园",
    Stage.PRIMARY: "小学",
    Stage.JUNIOR: "中学",
    Stage.NINE_YEAR: "学校",
}


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:8], "big")


@dataclass(frozen=True)
class DemoSchoolsResult:
    schools: int
    seat: int
    urban: int


def build_demo_schools(*, townships: list[Division], villages_per_township: int = 2) -> list[School]:
    """School objects (unsaved) for the given township-level units, grouped by county.

    Each 乡/镇 gets seat schools for its stages (a kindergarten, and either a primary and a junior
    middle school or one nine-year school) and village schools; each county gets urban schools
    in its first 街道 (or its first 镇 when it has no 街道).
    """
    by_county: dict[str, list[Division]] = defaultdict(list)
    for t in townships:
        by_county[t.parent_id].append(t)
    schools: list[School] = []
    for county_code in sorted(by_county):
        units = sorted(by_county[county_code], key=lambda d: d.code)
        seq = iter(range(1, 10**6))

        def code(seq=seq, county_code=county_code) -> str:  # bound now: called within this county only
            n = next(seq)
            # 学校标识码 has 10 digits; demo codes start with 9 (no real code does) + county + serial.
            return f"9{county_code}{n:03d}" if n < 1000 else f"8{county_code}{n - 1000:03d}"

        urban_home = next((u for u in units if u.kind == TownshipKind.SUBDISTRICT), None) or next(
            (u for u in units if u.kind in PROGRAMME_KINDS), None
        )
        if urban_home is not None:
            for stage, count in URBAN_SCHOOLS.items():
                for i in range(1, count + 1):
                    schools.append(
                        School(
                            code=code(),
                            name=f"{urban_home.name}城区第{i}{STAGE_NAME[stage]}{DEMO_SUFFIX}",
                            stage=stage,
                            township_id=urban_home.code,
                            is_urban=True,
                            is_urban_quality=(i == 1),
                            is_demo=True,
                        )
                    )
        for unit in units:
            if unit.kind not in PROGRAMME_KINDS:
                continue
            short = unit.name.removesuffix("镇").removesuffix("乡") or unit.name
            seat_stages = [Stage.KINDERGARTEN]
            seat_stages += [Stage.NINE_YEAR] if _hash(unit.code, "nine") % 5 == 0 else [Stage.PRIMARY, Stage.JUNIOR]
            for stage in seat_stages:
                prefix = "中心" if stage in (Stage.KINDERGARTEN, Stage.PRIMARY) else ""
                schools.append(
                    School(
                        code=code(),
                        name=f"{short}{prefix}{STAGE_NAME[stage]}{DEMO_SUFFIX}",
                        stage=stage,
                        township_id=unit.code,
                        is_seat=True,
                        is_demo=True,
                    )
                )
            for v in range(1, villages_per_township + 1):
                stage = Stage.KINDERGARTEN if v % 3 == 0 else Stage.PRIMARY
                schools.append(
                    School(
                        code=code(),
                        name=f"{short}第{v}村{STAGE_NAME[stage]}{DEMO_SUFFIX}",
                        stage=stage,
                        township_id=unit.code,
                        is_demo=True,
                    )
                )
    return schools


@transaction.atomic
def load_demo_schools(*, province_prefix: str = "37", villages_per_township: int = 2) -> DemoSchoolsResult:
    townships = list(
        Division.objects.filter(level=Level.TOWNSHIP, code__startswith=province_prefix).only("code", "name", "parent_id", "kind")
    )
    schools = build_demo_schools(townships=townships, villages_per_township=villages_per_township)
    School.objects.bulk_create(
        schools,
        batch_size=2000,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "stage", "township", "is_seat", "is_urban", "is_urban_quality", "is_demo"],
    )
    return DemoSchoolsResult(
        schools=len(schools),
        seat=sum(s.is_seat for s in schools),
        urban=sum(s.is_urban for s in schools),
    )


# A second, invented batch, so batch filters have something to filter. Jining reports 20 pilot
# townships by 2024 (seed 000), so the demo tops Jining up to 20; other cities get a few.
SECOND_BATCH_PER_CITY = {"3708": 15}
SECOND_BATCH_DEFAULT = 4


@transaction.atomic
def load_demo_second_batch(*, province_prefix: str = "37") -> PilotBatch:
    batch, _ = PilotBatch.objects.update_or_create(
        year=2022,
        name="第二批（演示）",
        defaults={"source_document": "演示数据：虚构的第二批试点名单，仅供演示筛选功能", "is_demo": True},
    )
    already = set(PilotTownship.objects.exclude(batch=batch).values_list("township_id", flat=True))
    candidates: dict[str, list[Division]] = defaultdict(list)
    for t in Division.objects.filter(level=Level.TOWNSHIP, code__startswith=province_prefix, kind__in=PROGRAMME_KINDS):
        if t.code not in already:
            candidates[t.code[:4]].append(t)
    listed: dict[str, str] = {}
    for city, units in sorted(candidates.items()):
        units.sort(key=lambda d: _hash(d.code, "batch2"))
        for unit in units[: SECOND_BATCH_PER_CITY.get(city, SECOND_BATCH_DEFAULT)]:
            listed[unit.code] = unit.name
    add_batch_townships(batch=batch, listed=listed, phase=Phase.FOCUS)
    # A few demo pilots have moved on to the whole-area phase.
    whole = [code for code in sorted(listed) if _hash(code, "phase") % 4 == 0]
    batch.townships.filter(township_id__in=whole).update(phase=Phase.WHOLE)
    return batch


@dataclass(frozen=True)
class DemoLogin:
    username: str
    role: str
    unit_code: str
    description: str
    person: str = ""  # the name the header shows (a demo person's, marked as such)


DEMO_LOGINS = [
    DemoLogin("sheng", Role.PROVINCE_STAFF, "37", "省教育厅 工作人员", "李明（演示）"),
    DemoLogin("jining", Role.CITY_STAFF, "3708", "济宁市教育局 工作人员", "王芳（演示）"),
    DemoLogin("qingdao", Role.CITY_STAFF, "3702", "青岛市教育局 工作人员", "张伟（演示）"),
    DemoLogin("qufu", Role.COUNTY_OFFICER, "370881", "曲阜市教育局 县级管理员", "孔磊（演示）"),
    DemoLogin("zoucheng", Role.COUNTY_OFFICER, "370883", "邹城市教育局 县级管理员", "孟静（演示）"),
    DemoLogin("jiaozhou", Role.COUNTY_OFFICER, "370281", "胶州市教育局 县级管理员", "赵强（演示）"),
    DemoLogin("ducha", Role.INSPECTOR, "37", "省级督导评估专家（组长）", "陈刚（演示）"),
    DemoLogin("ducha2", Role.INSPECTOR, "37", "省级督导评估专家（组员）", "刘洋（演示）"),
]


@transaction.atomic
def load_demo_users(*, password: str = DEMO_PASSWORD) -> list[DemoLogin]:
    from townships.services.users import upsert_portal_user

    for login in DEMO_LOGINS:
        user = upsert_portal_user(username=login.username, role=login.role, unit_code=login.unit_code, password=password)
        if login.person and user.first_name != login.person:
            user.first_name = login.person
            user.save(update_fields=["first_name"])
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser(username="admin", password=password, email="")
    return DEMO_LOGINS
