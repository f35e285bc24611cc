from celery.schedules import crontab

BEAT_SCHEDULE = {
    "mdf-compute-accruals": {"task": "mdf.tasks.compute_accruals", "schedule": crontab(minute=5, hour=2)},
    "mdf-close-past-deadline": {
        "task": "mdf.tasks.close_past_deadline_requests",
        "schedule": crontab(minute=15, hour=2),
    },
    "mdf-check-fund-expiry": {"task": "mdf.tasks.check_fund_expiry", "schedule": crontab(minute=25, hour=2)},
}
