from celery.schedules import crontab

BEAT_SCHEDULE = {
    "cases-check-slas": {"task": "cases.tasks.check_slas", "schedule": crontab(minute="*/5")},
    "cases-close-resolved": {"task": "cases.tasks.close_resolved_cases", "schedule": crontab(minute=17, hour="*")},
}
