import time

from django.core.management.base import BaseCommand, CommandError

from evaluation.rollup import current_framework, rollup_all, scorecard


class Command(BaseCommand):
    help = "Recompute the roll-up synchronously (operators, benchmarks): every data point for every 乡镇 under --prefix."

    def add_arguments(self, parser):
        parser.add_argument("--period", type=int, default=2024)
        parser.add_argument("--prefix", default="37", help="A province, city or county code.")

    def handle(self, *args, period, prefix, **options):
        framework = current_framework()
        if framework is None:
            raise CommandError("no evaluation framework is loaded")
        started = time.perf_counter()
        counties = rollup_all(period=period, prefix=prefix, analyze=True)
        self.stdout.write(f"{counties} counties, period {period}, framework {framework.version}: {time.perf_counter() - started:.2f} s")
        card = scorecard(period=period, province=prefix[:2])
        self.stdout.write(
            f"全部七项目标均达成的乡镇：{card['attained']} / {card['townships']}（{card['share']:.1%}），"
            f"目标（半数以上）{card['goal']}，差 {card['distance']}"
        )
