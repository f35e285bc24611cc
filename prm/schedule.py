"""The periodic schedule run by `celery beat`: the union of each domain app's `schedule.py`
(`BEAT_SCHEDULE = {name: {"task": ..., "schedule": ...}}`)."""

import importlib

DOMAIN_APPS = ["partners", "deals", "quotes", "cases", "renewals", "mdf", "analytics"]


def collect() -> dict:
    schedule = {}
    for app in DOMAIN_APPS:
        try:
            module = importlib.import_module(f"{app}.schedule")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.schedule":
                raise
            continue
        schedule.update(module.BEAT_SCHEDULE)
    return schedule


BEAT_SCHEDULE = collect()
