from celery.schedules import crontab

BEAT_SCHEDULE = {
    "cases-check-slas": {"task": "cases.tasks.check_slas", "schedule": crontab(minute="*/5")},
}
