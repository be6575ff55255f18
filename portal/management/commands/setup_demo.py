from django.core.management import call_command
from django.core.management.base import BaseCommand

from evaluation.rollup import rollup_all, scorecard
from evaluation.services.demo import DEMO_PERIODS, load_demo_facts, load_demo_round
from evaluation.services.rollup_jobs import recomputation_held_back


class Command(BaseCommand):
    help = "Everything `make run` loads: Shandong, the pilot batches, demo schools, three school years of demo facts, demo logins."

    def handle(self, *args, **options):
        # Every year is recomputed below, once everything is loaded.
        with recomputation_held_back():
            self._load()
        for period in DEMO_PERIODS:  # oldest first, so each year sees the one before it
            rollup_all(period=period, prefix="37", analyze=True)
        self._after()

    def _load(self):
        call_command("load_demo", no_users=True, stdout=self.stdout)
        counts = load_demo_facts()
        self.stdout.write(
            f"演示数据：学校年度数据 {counts['school_years']} 行，乡镇年度数据 {counts['township_years']} 行，帮扶关系 {counts['help_relations']} 对"
        )
        call_command("load_demo", stdout=self.stdout, only_users=True)
        from surveys.services.questionnaires import load_questionnaires

        questionnaires = load_questionnaires()
        self.stdout.write(f"满意度问卷：{len(questionnaires)} 份（2021年门户默认：家长、学生）")
        self.rnd = rnd = load_demo_round()
        self.stdout.write(f"演示评估轮次：2022–2024 每学年一轮，各 {rnd.townships.count()} 个乡镇（评估意见为演示数据）；{rnd.name}中曲阜市息陬镇、邹城市郭里镇待督导组填报（ducha 为组长）")

    def _after(self):
        rnd = self.rnd
        from workflow.services.demo import load_demo_workflow

        flow = load_demo_workflow()
        if not flow.get("skipped"):
            self.stdout.write(
                f"演示工作流程：2021年方案报送期限（省4月1日、市5月1日、县6月1日），整改事项 {flow['items']} 项（通报 {flow['notice']}、约谈 {flow['talk']}），"
                f"已发布优秀案例 {flow['cases']} 个；曲阜市姚村镇自评待济宁市复核，邹城市自评待省级审核"
            )
        card = scorecard(period=DEMO_PERIODS[-1], round_key=rnd.pk)
        self.stdout.write(f"统计结果（{DEMO_PERIODS[-1]}学年，演示数据）：七项目标全部达成的乡镇 {card['attained']} / {card['townships']}，目标 {card['goal']}")
