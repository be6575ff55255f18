"""The bench as a command of the `bench` app: `python -m bench …`, or `manage.py bench …` under
settings that install the app (bench.settings)."""
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection

from bench.framework import BENCH_GROUPS, SCALES, render_table, run_groups, write_json


class Command(BaseCommand):
    help = "Run the benchmarks in a throwaway database; print a table and write the figures as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="shandong")
        parser.add_argument("--only", action="append", choices=sorted(BENCH_GROUPS), help="Run only these groups.")
        parser.add_argument("--json", default="bench-results.json", help="Where to write the figures.")

    def handle(self, *args, scale, only, json, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            # A file, not the in-memory default, so SQLite figures include real writes.
            db.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.stdout.write(f"bench: {connection.vendor} database, scale {scale}")
            figures = run_groups(only or list(BENCH_GROUPS), scale)
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write(render_table(figures))
        write_json(figures, json)
        self.stdout.write(f"wrote {json}")
