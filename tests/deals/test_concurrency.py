"""Two partners submitting the same customer at the same moment, and two reviewers approving at the
same moment: exactly one is first, and there are never two approvals. Real threads, real
transactions, PostgreSQL only (SQLite serialises writers anyway)."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections

from deals import services
from deals.models import DealRegistration, RegistrationStatus
from partners.access import ParentRole, PartnerRole
from tests.factories import PartnerFactory, ProductFactory, parent_user, partner_user
from tests.factories.deals import registration_of

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def run_together(*calls):
    """Start every call at the same moment, each in its own thread and database connection."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except (ValidationError, PermissionDenied) as exc:
            outcomes[index] = f"refused: {exc}"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def two_drafts():
    if connection.vendor != "postgresql":
        pytest.skip("Concurrency is tested on PostgreSQL.")
    product = ProductFactory()
    reps = [partner_user(PartnerFactory(), PartnerRole.REP) for _ in range(2)]
    names = [("Racing Corp", "racing.example"), ("RACING CORPORATION", "www.racing.example")]
    return [
        registration_of(rep, name=name, domain=domain, products=[product], submit=False)
        for rep, (name, domain) in zip(reps, names, strict=True)
    ], reps


@pytest.mark.parametrize("attempt", range(3))
def test_simultaneous_submissions_then_approvals_have_exactly_one_winner(two_drafts, attempt):
    drafts, reps = two_drafts
    outcomes = run_together(
        *[
            (lambda r=r, u=u: services.deal_registration_submit(user=u, registration=r))
            for r, u in zip(drafts, reps, strict=True)
        ]
    )
    assert outcomes == ["ok", "ok"]
    submitted = list(DealRegistration.objects.filter(pk__in=[d.pk for d in drafts]).order_by("submitted_at"))
    assert [r.has_conflict for r in submitted] == [False, True]  # exactly one is first
    assert submitted[0].submitted_at < submitted[1].submitted_at

    reviewers = [parent_user(ParentRole.SALES) for _ in range(2)]
    outcomes = run_together(
        *[
            (lambda r=r, u=u: services.deal_registration_approve(user=u, registration=r))
            for r, u in zip(submitted, reviewers, strict=True)
        ]
    )
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    assert DealRegistration.objects.filter(status=RegistrationStatus.APPROVED).count() == 1
    assert DealRegistration.objects.get(status=RegistrationStatus.APPROVED).pk == submitted[0].pk


def test_double_approval_of_one_registration_approves_once(two_drafts):
    drafts, reps = two_drafts
    registration = services.deal_registration_submit(user=reps[0], registration=drafts[0])
    reviewers = [parent_user(ParentRole.SALES) for _ in range(2)]
    outcomes = run_together(
        *[(lambda u=u: services.deal_registration_approve(user=u, registration=registration)) for u in reviewers]
    )
    assert sorted(o == "ok" for o in outcomes) == [False, True]
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.APPROVED
    assert registration.opportunity is not None
