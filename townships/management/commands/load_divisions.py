import time

from django.core.management.base import BaseCommand

from townships.services.divisions import load_divisions


class Command(BaseCommand):
    help = "Load official division codes (2023) from fixtures/divisions/: one or more provinces, or all of China."

    def add_arguments(self, parser):
        parser.add_argument("--province", action="append", default=[], help="Province code, e.g. 37 (repeatable).")
        parser.add_argument("--all", action="store_true", help="Load all of China (41,352 township-level units).")

    def handle(self, *args, province, all, **options):
        provinces = None if all else set(province or ["37"])
        started = time.perf_counter()
        result = load_divisions(provinces=provinces)
        self.stdout.write(
            f"provinces {result.provinces}, cities {result.cities}, counties {result.counties}, "
            f"townships {result.townships} in {time.perf_counter() - started:.2f} s"
        )
