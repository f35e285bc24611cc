from celery.schedules import crontab

BEAT_SCHEDULE = {
    "quotes-expire-quotes": {"task": "quotes.tasks.expire_quotes", "schedule": crontab(minute=15, hour="*")},
    "quotes-provision-pending": {"task": "quotes.tasks.provision_pending", "schedule": crontab(minute="*/5")},
}
