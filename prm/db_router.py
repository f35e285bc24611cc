"""Reads that may be served a little stale (analytics, exports, channel-wide reports) go to the
read replica when the code asks for it with `use_replica()`; everything else, and every write,
stays on `default` (a request reads its own writes). Without `DATABASE_REPLICA_URL` the `replica`
alias is the primary itself, so the same code runs on one database."""

import contextvars
from contextlib import contextmanager

REPLICA = "replica"
_reads_on_replica = contextvars.ContextVar("prm_reads_on_replica", default=False)


@contextmanager
def use_replica():
    """Send the ORM reads inside the block to the replica."""
    token = _reads_on_replica.set(True)
    try:
        yield
    finally:
        _reads_on_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if _reads_on_replica.get():
            from django.conf import settings

            if REPLICA in settings.DATABASES:
                return REPLICA
        return None  # the default

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica is a copy: it follows by replication
