from celery.schedules import crontab

BEAT_SCHEDULE = {
    "renewals-scan": {"task": "renewals.tasks.scan_renewals", "schedule": crontab(minute=20)},
}
