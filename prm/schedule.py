"""The periodic schedule run by `celery beat`. Each domain app adds its entries here."""

from celery.schedules import crontab

BEAT_SCHEDULE = {
    "partners-send-pending-invitations": {
        "task": "partners.tasks.send_pending_invitations",
        "schedule": crontab(minute="*/10"),
    },
}
