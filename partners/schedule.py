from celery.schedules import crontab

BEAT_SCHEDULE = {
    "partners-send-pending-invitations": {
        "task": "partners.tasks.send_pending_invitations",
        "schedule": crontab(minute="*/10"),
    },
    "partners-send-pending-notification-emails": {
        "task": "partners.tasks.send_pending_notification_emails",
        "schedule": crontab(minute="*/10"),
    },
    "partners-send-notification-digests": {
        "task": "partners.tasks.send_notification_digests",
        "schedule": crontab(minute=0, hour=7),
    },
}
