"""The read-replica router: only reads inside `use_replica()` go to the `replica` alias (the test
database's mirror here, a real replica with DATABASE_REPLICA_URL); writes and all other reads stay
on `default`."""

import pytest

from partners.models import Partner
from prm.db_router import ReplicaRouter, use_replica
from tests.factories import PartnerFactory


@pytest.mark.django_db(databases=["default", "replica"], transaction=True)
def test_marked_reads_go_to_the_replica_and_writes_never_do():
    partner = PartnerFactory(slug="replicated")
    assert Partner.objects.all().db == "default"
    with use_replica():
        scoped = Partner.objects.filter(slug="replicated")
        assert scoped.db == "replica"
        assert scoped.get().pk == partner.pk  # the mirror sees the committed row
        created = Partner.objects.create(name="Written", slug="written", business_model=partner.business_model)
        assert created._state.db == "default"
    assert Partner.objects.all().db == "default"


def test_the_replica_is_never_migrated():
    router = ReplicaRouter()
    assert router.allow_migrate("default", "partners") is True
    assert router.allow_migrate("replica", "partners") is False
    assert router.db_for_read(Partner) is None and router.db_for_write(Partner) == "default"
