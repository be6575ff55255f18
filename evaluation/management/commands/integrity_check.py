"""Checks a database (after a restore) before anyone uses it: every migration applied, every
foreign key and constraint holds, denormalised codes agree with what they copy, and the results
add up. Exits non-zero on any problem."""
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import F, Sum


class Command(BaseCommand):
    help = "Check the database's integrity (after a restore)."

    def handle(self, *args, **options):
        from evaluation.models import AreaResult, ObservationPoint, PointResult, SchoolYear
        from security.models import AuditEvent
        from townships.models import Division, School

        problems = []
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            raise CommandError(f"完整性检查未通过：未应用的数据库迁移 {len(pending)} 个")
        try:
            connection.check_constraints()
        except Exception as exc:  # noqa: BLE001 - every failure is a finding, reported as such
            problems.append(f"约束检查失败：{exc}")
        moved = SchoolYear.objects.exclude(township_id=F("school__township_id")).count()
        if moved:
            problems.append(f"{moved} 条学校年度数据的乡镇代码与学校不一致")
        pointless = PointResult.objects.exclude(point_id__in=ObservationPoint.objects.values("pk")).count()
        if pointless:
            problems.append(f"{pointless} 条指标结果的观测点不存在")
        orphans = School.objects.exclude(township__code__startswith=F("township__parent_id")).count()
        if orphans:
            problems.append(f"{orphans} 所学校的乡镇不在其上级区划内")
        # A city's count of 乡镇 is the sum of its counties' (all 乡镇, all seven, each period and round).
        for row in AreaResult.objects.filter(population="all", stage="all", target_number=0).extra(where=["LENGTH(division_code) = 4"])[:200]:
            counties = AreaResult.objects.filter(
                division_code__startswith=row.division_code, population="all", stage="all", target_number=0, period=row.period, round_key=row.round_key,
            ).extra(where=["LENGTH(division_code) = 6"]).aggregate(n=Sum("townships"), a=Sum("attained"))
            if (counties["n"], counties["a"]) != (row.townships, row.attained):
                problems.append(f"{row.division_code} {row.period} 的乡镇统计与所辖县不一致")
        counts = {"区划": Division.objects.count(), "学校": School.objects.count(), "学校年度数据": SchoolYear.objects.count(), "审计记录": AuditEvent.objects.count()}
        self.stdout.write("，".join(f"{k} {v}" for k, v in counts.items()))
        if problems:
            raise CommandError("完整性检查未通过：" + "；".join(problems))
        self.stdout.write("完整性检查通过")
