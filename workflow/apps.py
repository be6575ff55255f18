from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("Programme workflow")

    def ready(self):
        from core import ports

        from .selectors import locked_keys, locked_sql
        from .services.notifications import notify

        # Evaluation asks (is this year locked? tell these inspectors) through core's ports.
        ports.register_lock_provider(locked_keys)
        ports.register_lock_sql(locked_sql)
        ports.register_notifier(notify)
        # After a roll-up (evaluation asks nothing; it only tells): re-check the counties' items.
        ports.register_recomputed_listener(_recheck)


def _recheck(county_codes: list[str], periods: list[int]) -> None:
    from .services.recheck import recheck_items

    recheck_items(county_codes=county_codes, periods=periods)
