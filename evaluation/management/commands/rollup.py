import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evaluation.rollup import framework_for_period, rollup_all, scorecard


class Command(BaseCommand):
    help = "Recompute the roll-up synchronously (operators, benchmarks): every data point for every 乡镇 under --prefix."

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, default=2024,
                            help="The school year; every year up to it is recomputed first only with --all-years.")
        parser.add_argument("--all-years", action="store_true", help="Every school year held, oldest first.")
        parser.add_argument("--prefix", default="37", help='A province, city or county code; "" for every province at once.')

    def handle(self, *args, period, prefix, all_years=False, **options):
        framework = framework_for_period(period)
        if framework is None:
            raise CommandError("no evaluation framework is loaded")
        started = time.perf_counter()
        counties = rollup_all(period=None if all_years else period, prefix=prefix, analyze=True)
        self.stdout.write(f"{counties} counties, period {period}, framework {framework.version}: {time.perf_counter() - started:.2f} s")
        card = scorecard(period=period, province=prefix[:2] or settings.PROVINCE_CODE)  # the whole country: the portal's province
        self.stdout.write(
            f"全部七项目标均达成的乡镇：{card['attained']} / {card['townships']}（{card['share']:.1%}），"
            f"目标（半数以上）{card['goal']}，差 {card['distance']}"
        )
