from celery.schedules import crontab

BEAT_SCHEDULE = {
    "analytics-refresh-facts": {"task": "analytics.tasks.refresh_facts", "schedule": crontab(minute="*/30")},
    "analytics-fraud-sweep": {"task": "analytics.tasks.fraud_sweep", "schedule": crontab(hour=2, minute=15)},
}
