from django.core.management.base import BaseCommand, CommandError

from portal.provisioning import ProvisioningError, provision


class Command(BaseCommand):
    help = (
        "First run of a new installation: the province's divisions, its pilot batches from fixtures/, "
        "the current framework and the first provincial administrator (one-time password printed once; "
        "a TOTP device is enrolled at first login). Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--province", required=True, help="Official 2-digit code, e.g. 37 for 山东省.")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-name", default="", help="The administrator's full name.")
        parser.add_argument("--admin-phone", default="")

    def handle(self, *args, province, admin_username, admin_name, admin_phone, **options):
        try:
            done = provision(province=province, admin_username=admin_username, admin_full_name=admin_name, admin_phone=admin_phone)
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        d = done.divisions
        self.stdout.write(f"区划：{d.provinces} 省，{d.cities} 市，{d.counties} 县级，{d.townships} 乡级单位")
        for batch in done.batches:
            self.stdout.write(f"试点批次：{batch} 个乡镇")
        self.stdout.write(f"指标体系：{done.framework}")
        if done.password:
            self.stdout.write(
                f"管理员 {done.administrator} 已创建。一次性密码（仅显示这一次）：{done.password}\n"
                "首次登录须修改密码，并用身份验证器应用扫描页面上的二维码绑定第二因素。"
            )
        else:
            self.stdout.write(f"管理员 {done.administrator} 已存在，未作改动。")
