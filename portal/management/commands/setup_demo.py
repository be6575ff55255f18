from django.core.management import call_command
from django.core.management.base import BaseCommand

from evaluation.services.demo import load_demo_facts, load_demo_round


class Command(BaseCommand):
    help = "Everything `make run` loads: Shandong, the pilot batches, demo schools, three school years of demo facts, demo logins."

    def handle(self, *args, **options):
        call_command("load_demo", no_users=True, stdout=self.stdout)
        counts = load_demo_facts()
        self.stdout.write(
            f"演示数据：学校年度数据 {counts['school_years']} 行，乡镇年度数据 {counts['township_years']} 行，帮扶关系 {counts['help_relations']} 对"
        )
        call_command("load_demo", stdout=self.stdout, only_users=True)
        rnd = load_demo_round()
        self.stdout.write(f"演示评估轮次：{rnd.name}，{rnd.townships.count()} 个乡镇；督导组已分配到曲阜市息陬镇、邹城市郭里镇（ducha 为组长）")
