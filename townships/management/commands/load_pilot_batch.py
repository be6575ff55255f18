from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from townships.models import Phase
from townships.services.pilots import load_pilot_batch


class Command(BaseCommand):
    help = (
        "Load a pilot batch from a list in the policy document's form (市:县镇、镇;县镇), "
        "reconciling every name with the official codes. Nothing is written if any name is unresolved."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--source", required=True, help="The document the list comes from.")
        parser.add_argument("--phase", choices=Phase.values, default=Phase.FOCUS)
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, file, year, name, source, phase, dry_run, **options):
        report = load_pilot_batch(
            text=file.read_text(encoding="utf-8"), year=year, name=name, source_document=source, phase=phase, dry_run=dry_run
        )
        self.stdout.write(report.render())
        if report.unresolved:
            raise CommandError(f"{len(report.unresolved)} unresolved; nothing was loaded.")
