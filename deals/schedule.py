from celery.schedules import crontab

BEAT_SCHEDULE = {
    "deals-expire-lead-offers": {"task": "deals.tasks.expire_lead_offers", "schedule": crontab(minute="*/15")},
    "deals-expire-registrations": {"task": "deals.tasks.expire_registrations", "schedule": crontab(minute=5)},
}
