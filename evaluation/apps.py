from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "evaluation"
    verbose_name = _("Evaluation")

    def ready(self):
        from townships.jurisdiction import register_provider

        from .selectors import assigned_township_codes

        # Inspectors see the townships they are assigned to; townships/ never imports us.
        register_provider(assigned_township_codes)

        from core import ports
        from evaluation.services.rollup_jobs import queue_years_from_on_commit

        ports.register_facts_listener(queue_years_from_on_commit)
