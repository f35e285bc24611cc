"""Two partners creating the same customer at the same moment: one record, and the other request a
claim. Real threads and transactions, PostgreSQL only (SQLite serialises writers anyway)."""

import pytest
from django.db import connection

from partners import services
from partners.access import PartnerRole
from partners.models import Customer, CustomerClaim
from tests.deals.test_concurrency import run_together
from tests.factories import PartnerFactory, partner_user

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("attempt", range(3))
def test_simultaneous_creates_make_one_customer_and_one_claim(attempt):
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency is tested on PostgreSQL.")
    reps = [partner_user(PartnerFactory(), PartnerRole.REP) for _ in range(2)]
    names = [("Photon Labs", "photon.example"), ("PHOTON LABS Inc.", "www.photon.example")]
    outcomes = run_together(
        *[
            (
                lambda rep=rep, name=name, domain=domain: services.customer_create(
                    user=rep, legal_name=name, domain=domain, country="US"
                )
            )
            for rep, (name, domain) in zip(reps, names, strict=True)
        ]
    )
    assert outcomes == ["ok", "ok"]
    assert Customer.objects.filter(normalized_name="photon labs").count() == 1
    assert CustomerClaim.objects.count() == 1
