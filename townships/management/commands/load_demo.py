from django.conf import settings
from django.core.management.base import BaseCommand

from townships.services import demo
from townships.services.divisions import load_divisions
from townships.services.pilots import load_aliases, load_pilot_batch

FIRST_BATCH = settings.BASE_DIR / "fixtures" / "pilots" / "batch-2021-1.txt"
FIRST_BATCH_SOURCE = "山东省教育厅《山东省教育强镇筑基行动实施方案》（2021）附件：首批教育强镇筑基试点乡镇名单"


class Command(BaseCommand):
    help = "Load Shandong's divisions, the first pilot batch, and the deterministic demo data and logins. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--villages-per-township", type=int, default=2)
        parser.add_argument("--no-users", action="store_true")
        parser.add_argument("--only-users", action="store_true", help="Only (re)create the demo logins and print them.")

    def handle(self, *args, villages_per_township, no_users, only_users, **options):
        if only_users:
            return self._users()
        result = load_divisions(provinces={"37"})
        self.stdout.write(f"山东省区划：{result.cities} 市，{result.counties} 县级，{result.townships} 乡级单位")
        load_aliases(path=settings.BASE_DIR / "fixtures" / "division_aliases.csv")
        report = load_pilot_batch(
            text=FIRST_BATCH.read_text(encoding="utf-8"), year=2021, name="首批", source_document=FIRST_BATCH_SOURCE
        )
        self.stdout.write(report.render())
        if report.unresolved:
            raise SystemExit("the first pilot batch did not resolve; fix fixtures/division_aliases.csv")
        schools = demo.load_demo_schools(villages_per_township=villages_per_township)
        self.stdout.write(f"演示学校：{schools.schools} 所（驻地学校 {schools.seat}，城区学校 {schools.urban}）")
        batch = demo.load_demo_second_batch()
        self.stdout.write(f"演示试点批次：{batch}，{batch.townships.count()} 个乡镇")
        if not no_users:
            self._users()

    def _users(self):
        logins = demo.load_demo_users()
        self.stdout.write("\n演示账号（密码均为 %s）：" % demo.DEMO_PASSWORD)
        for login in logins:
            self.stdout.write(f"  {login.username:<10} {login.description}（{login.unit_code}）")
        self.stdout.write(f"  {'admin':<10} 系统管理员（超级用户）")
