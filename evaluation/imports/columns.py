"""The columns of each sheet. Headers are Chinese by design: they are the file format officers
fill in (the template), matched after normalising spaces and full-width characters.

The columns of each sheet. The template, the parser and the export all read this one list, so a
new fact is a model field plus one Column here."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

# Value kinds understood by parsing.PARSERS.
CODE10, CODE9, PERIOD, INT, DECIMAL, RATE, BOOL, GRADE, STAGE, HELP_KIND, TEXT = (
    "code10", "code9", "period", "int", "decimal", "rate", "bool", "grade", "stage", "help_kind", "text",
)


@dataclass(frozen=True)
class Column:
    key: str  # model field, or a key column (school_code, township_code, …)
    header: str
    kind: str
    required: bool = False
    max_value: float | None = None
    aliases: tuple[str, ...] = ()
    # Compared with last year's value; a change beyond the configured factor is flagged.
    implausible: bool = False
    note: str = ""
    # False for columns that are in the file only for the officer's own checking (a name beside a code).
    stored: bool = True


@dataclass(frozen=True)
class SheetSpec:
    kind: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    names: tuple[str, ...] = field(default=())  # other sheet names people use

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def value_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.key not in self.key)

    @property
    def value_keys(self) -> frozenset[str]:
        """Stored columns that are not part of the key: what a diff compares and a commit writes."""
        return frozenset(c.key for c in self.value_columns if c.stored)


SCHOOLS = SheetSpec(
    kind="schools",
    title="学校名录",
    names=("学校", "学校信息"),
    key=("school_code",),
    columns=(
        Column("school_code", "学校标识码", CODE10, required=True, note="10位数字"),
        Column("name", "学校名称", TEXT, required=True),
        Column("stage", "学段", STAGE, required=True, note="幼儿园/小学/初中/九年一贯制/完全中学/十二年一贯制"),
        Column("township_code", "所在乡镇代码", CODE9, required=True, aliases=("乡镇代码", "所在乡镇（街道）代码"), note="9位统计用区划代码"),
        Column("is_seat", "是否乡镇驻地学校", BOOL, required=True),
        Column("is_urban", "是否城区学校", BOOL, required=True, aliases=("是否城区（县驻地）学校",)),
        Column("is_urban_quality", "是否城区优质学校", BOOL, required=True),
    ),
)

SCHOOL_YEARS = SheetSpec(
    kind="school_years",
    title="学校年度数据",
    names=("学校数据", "学校年度"),
    key=("school_code", "period"),
    columns=(
        Column("school_code", "学校标识码", CODE10, required=True),
        Column("school_name", "学校名称", TEXT, stored=False, note="仅供核对，不导入"),
        Column("period", "学年", PERIOD, required=True, note="填起始年份，如 2024 表示 2024—2025学年"),
        Column("students", "在校生数", INT, required=True, max_value=20000, implausible=True, aliases=("在校学生数", "学生数")),
        Column("function_rooms_present", "功能室实有数", INT, max_value=200),
        Column("function_rooms_required", "功能室省定应有数", INT, max_value=200, aliases=("功能室应有数",)),
        Column("equipment_value_per_student", "生均教学仪器设备值（元）", DECIMAL, max_value=1_000_000, implausible=True, aliases=("生均教学仪器设备值",)),
        Column("books_per_student", "生均图书（册）", DECIMAL, max_value=10_000, implausible=True, aliases=("生均图书",)),
        Column("computers", "教学用计算机（台）", INT, max_value=20000, aliases=("教学用计算机",)),
        Column("multimedia_classrooms", "多媒体教室（间）", INT, max_value=1000, aliases=("多媒体教室",)),
        Column("recording_rooms", "录播教室（间）", INT, max_value=100, aliases=("录播教室", "录播室")),
        Column("has_canteen", "有食堂", BOOL),
        Column("has_boarding", "提供寄宿", BOOL),
        Column("has_school_bus", "有校车服务", BOOL),
        Column("arts_courses_complete", "音体美课程开齐开足", BOOL),
        Column("clubs", "学生社团数", INT, max_value=500),
        Column("physical_health_pass_rate", "体质健康达标率", RATE, implausible=True, note="0.95 或 95%"),
        Column("arts_skill_rate", "掌握一项以上艺术特长学生比例", RATE, implausible=True),
        Column("academic_average", "学业水平平均分", DECIMAL, max_value=100, implausible=True, note="百分制；幼儿园不填"),
        Column("mental_health_screening_rate", "心理健康测评覆盖率", RATE),
        Column("violations", "违规办学行为（次）", INT, max_value=1000, aliases=("违规办学行为",)),
        Column("care_quality_grade", "保教质量等级（幼儿园）", GRADE, aliases=("保教质量等级",), note="优/良/合格/不合格"),
        Column("play_based_curriculum", "游戏化课程（幼儿园）", BOOL, aliases=("游戏化课程",)),
        Column("safety_grade", "安全管理等级", GRADE, note="优/良/合格/不合格"),
        Column("teachers", "专任教师数", INT, max_value=5000, implausible=True),
        Column("teacher_posts", "核定教师岗位数", INT, max_value=5000, aliases=("教师编制数", "核定编制数")),
        Column("backbone_teachers", "县级以上骨干教师数", INT, max_value=5000),
        Column("degree_teachers", "达标学历教师数", INT, max_value=5000, note="中小学：本科及以上；幼儿园：专科及以上"),
        Column("psychology_teachers", "心理健康教师数", INT, max_value=500),
    ),
)

TOWNSHIP_YEARS = SheetSpec(
    kind="township_years",
    title="乡镇年度数据",
    names=("乡镇数据", "乡镇年度"),
    key=("township_code", "period"),
    columns=(
        Column("township_code", "乡镇代码", CODE9, required=True),
        Column("township_name", "乡镇名称", TEXT, stored=False, note="仅供核对，不导入"),
        Column("period", "学年", PERIOD, required=True),
        Column("registered_preschool", "户籍学前适龄儿童数", INT, max_value=1_000_000),
        Column("attending_preschool", "其中在本乡镇就读", INT, max_value=1_000_000, aliases=("学前在本乡镇就读数",)),
        Column("registered_primary", "户籍小学适龄儿童数", INT, max_value=1_000_000),
        Column("attending_primary", "其中在本乡镇小学就读", INT, max_value=1_000_000, aliases=("小学在本乡镇就读数",)),
        Column("registered_junior", "户籍初中适龄少年数", INT, max_value=1_000_000),
        Column("attending_junior", "其中在本乡镇初中就读", INT, max_value=1_000_000, aliases=("初中在本乡镇就读数",)),
        Column("parent_surveys_issued", "家长问卷发放数", INT, max_value=1_000_000),
        Column("parent_surveys_valid", "家长有效问卷数", INT, max_value=1_000_000),
        Column("parents_satisfied", "家长满意数", INT, max_value=1_000_000),
        Column("student_surveys_issued", "学生问卷发放数", INT, max_value=1_000_000),
        Column("student_surveys_valid", "学生有效问卷数", INT, max_value=1_000_000),
        Column("students_satisfied", "学生满意数", INT, max_value=1_000_000),
        Column("district_management", "实行学区化管理", BOOL),
    ),
)

HELP_RELATIONS = SheetSpec(
    kind="help_relations",
    title="帮扶关系",
    names=("帮扶",),
    key=("helper_code", "helped_code", "kind", "period"),
    columns=(
        Column("helper_code", "帮扶学校标识码", CODE10, required=True),
        Column("helped_code", "受帮扶学校标识码", CODE10, required=True),
        Column("kind", "帮扶方式", HELP_KIND, required=True, note="托管/集团化办学/联盟/结对帮扶/教研员包保"),
        Column("period", "学年", PERIOD, required=True),
    ),
)

SPECS = (SCHOOLS, SCHOOL_YEARS, TOWNSHIP_YEARS, HELP_RELATIONS)
SPEC_BY_KIND = {s.kind: s for s in SPECS}
INSTRUCTIONS_SHEET = "填报说明"

# "A ≤ B" checks across columns of one row: (smaller, larger, message).
ROW_CHECKS = {
    "school_years": (
        ("backbone_teachers", "teachers", _("backbone teachers cannot outnumber full-time teachers")),
        ("degree_teachers", "teachers", _("teachers with the required degree cannot outnumber full-time teachers")),
        ("psychology_teachers", "teachers", _("psychology teachers cannot outnumber full-time teachers")),
    ),
    "township_years": (
        ("attending_preschool", "registered_preschool", _("pre-school children attending locally cannot outnumber registered children")),
        ("attending_primary", "registered_primary", _("primary-age children attending locally cannot outnumber registered children")),
        ("attending_junior", "registered_junior", _("junior-age children attending locally cannot outnumber registered children")),
        ("parent_surveys_valid", "parent_surveys_issued", _("valid parent surveys cannot outnumber those issued")),
        ("parents_satisfied", "parent_surveys_valid", _("satisfied parents cannot outnumber valid surveys")),
        ("student_surveys_valid", "student_surveys_issued", _("valid student surveys cannot outnumber those issued")),
        ("students_satisfied", "student_surveys_valid", _("satisfied students cannot outnumber valid surveys")),
    ),
}
