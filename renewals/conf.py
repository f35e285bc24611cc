"""The renewals app's settings, with their defaults (set them in prm/settings.py or the environment)."""

from django.conf import settings


def lead_days() -> int:
    """A renewal opens this many days before term end (its first milestone)."""
    return int(getattr(settings, "RENEWALS_LEAD_DAYS", 120))


def grace_days() -> int:
    """An open renewal lapses this many days after its term ended."""
    return int(getattr(settings, "RENEWALS_GRACE_DAYS", 30))


def batch_size() -> int:
    """Rows per batch of the periodic scan: each batch costs a bounded number of queries."""
    return int(getattr(settings, "RENEWALS_BATCH_SIZE", 5000))


def reminder_chunk() -> int:
    """Renewals per reminder task."""
    return int(getattr(settings, "RENEWALS_REMINDER_CHUNK", 200))


def reminder_pause_seconds() -> float:
    """Pause between two renewals' reminders in one task (an SMTP relay's rate limit)."""
    return float(getattr(settings, "RENEWALS_REMINDER_PAUSE_SECONDS", 0))
