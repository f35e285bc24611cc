"""Background work of the renewals app. The periodic scan is set-based (a bounded number of queries
per batch of contracts or renewals); reminders go out per renewal, each (renewal, milestone,
recipient) once. Tasks are acknowledged late and re-queued if the worker is lost; the broker's
visibility timeout (900 s) is longer than any task's time limit (300 s), so a task still running is
never handed to a second worker, and one that died is redelivered or swept up by the next scan."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_renewal_reminders(renewal_ids: list[int]) -> int:
    """Remind the owners of these renewals of their due milestone; safe to run twice or concurrently."""
    return services.renewals_remind(renewal_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def scan_renewals() -> dict:
    """Periodic: open renewals due, queue the reminders due (and those a crashed task left), lapse
    renewals past their grace period."""
    return {
        "opened": services.renewals_open_due(),
        "reminders_queued": services.renewals_schedule_reminders(),
        "lapsed": services.renewals_lapse_overdue(),
    }
