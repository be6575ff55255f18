from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from evaluation.imports.service import import_file
from evaluation.models import ImportStatus
from townships.jurisdiction import resolve_jurisdiction
from townships.models import User


class Command(BaseCommand):
    help = (
        "Import a school-data spreadsheet (XLSX, XLS, CSV) as USERNAME, within that user's jurisdiction. "
        "All or nothing; exits non-zero when anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as", dest="username", required=True)
        parser.add_argument("--dry-run", action="store_true", help="Preview only: check and diff, write nothing.")
        parser.add_argument("--confirm-flags", metavar="REASON", help="Confirm every implausible change with this reason.")

    def handle(self, *args, file, username, dry_run, confirm_flags, **options):
        try:
            user = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"no active user {username!r}") from None
        if not file.is_file():
            raise CommandError(f"no such file: {file}")
        run = import_file(
            user=user,
            jurisdiction=resolve_jurisdiction(user),
            data=file.read_bytes(),
            file_name=file.name,
            channel="cli",
            dry_run=dry_run,
            confirm_all=confirm_flags,
        )
        for sheet in run.summary.get("sheets", []):
            self.stdout.write(
                f"{sheet['title']}（{sheet['sheet']}）：新增 {sheet['new']}，变更 {sheet['changed']}，"
                f"未变 {sheet['unchanged']}，有误 {sheet['invalid']}"
            )
        for error in run.errors:
            self.stderr.write(error["text"])
        for flag in run.flags:
            self.stdout.write(f"异常变动：{flag['subject']}「{flag['header']}」{flag['previous']} → {flag['value']}")
        if run.status == ImportStatus.INVALID:
            raise CommandError(f"{len(run.errors)} 处错误，未写入任何数据。（上传记录 #{run.pk}）")
        if dry_run:
            self.stdout.write(f"预览完成（--dry-run），未写入任何数据。（上传记录 #{run.pk}）")
            return
        if run.status != ImportStatus.COMMITTED:
            raise CommandError(f"{run.message}（上传记录 #{run.pk}；可用 --confirm-flags 原因 确认）")
        self.stdout.write(f"已导入。（上传记录 #{run.pk}，SHA-256 {run.sha256[:12]}…）")
