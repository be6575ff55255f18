from celery import shared_task

from townships.services.divisions import load_divisions


@shared_task(acks_late=True)
def load_divisions_task(province_codes: list[str] | None = None) -> dict:
    """Load official divisions (a national load takes a while: run it as a job). Idempotent upsert."""
    result = load_divisions(provinces=set(province_codes) if province_codes else None)
    return result.__dict__
