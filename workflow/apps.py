from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Programme workflow")

    def ready(self):
        from evaluation.locks import register_lock_provider

        from .selectors import locked_keys

        register_lock_provider(locked_keys)
