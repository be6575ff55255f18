"""The bench as a command of the `bench` app: `python -m bench …`, or `manage.py bench …` under
settings that install the app (bench.settings)."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from bench import framework
from bench.framework import SCALES, render_table, run_groups


class Command(BaseCommand):
    help = "Run the benchmarks in a throwaway database; print a table and write the figures as JSON after each group."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=SCALES, default="shandong")
        parser.add_argument("--only", action="append", choices=sorted(framework.BENCH_GROUPS), help="Run only these groups.")
        parser.add_argument("--json", default="bench-results.json", help="Where to write the figures (after each group).")

    def handle(self, *args, scale, only, json, **options):
        db = settings.DATABASES["default"]
        if db["ENGINE"].endswith("sqlite3"):
            # A file, not the in-memory default, so SQLite figures include real writes.
            db.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / "bench.sqlite3")
        elif not db.get("TEST", {}).get("NAME"):
            # Beside the named database, never the test_… one a test run may be using meanwhile.
            db.setdefault("TEST", {})["NAME"] = f"{db['NAME']}_bench"
        old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            self.stdout.write(f"bench: {connection.vendor} database, scale {scale}")
            run = run_groups(only or list(framework.BENCH_GROUPS), scale, database=connection.vendor, json_path=json,
                             out=lambda line: self.stdout.write(line) or self.stdout.flush())
        finally:
            connection.creation.destroy_test_db(old_name, verbosity=0)
        self.stdout.write(render_table(run))
        self.stdout.write(f"wrote {json}")
        if run.failed:
            # CommandError: a message and exit status 1, as manage.py reports a failed command.
            raise CommandError("failed: " + "; ".join(f"{g.name} ({g.error})" for g in run.failed))
