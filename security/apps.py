from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    name = "security"
    verbose_name = _("Security and audit")

    def ready(self):
        from . import receivers  # noqa: F401  (login, logout, failures and lockouts into the audit log)
