"""Reject and return without a reason answer 400 naming the field (schemathesis found a 500)."""

from decimal import Decimal

import pytest

from mdf import services
from mdf.models import FundClaim, FundRequest
from partners.access import PartnerRole
from partners.agreement import BusinessModel
from tests.conftest import api_as
from tests.factories import PartnerFactory, partner_user
from tests.factories.mdf import FundAllocationFactory, approved_request, marketing_staff, submitted_claim

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("verb", ["reject", "return"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_decision_without_a_reason_is_a_400_and_changes_nothing(verb, body):
    partner = PartnerFactory(business_model=BusinessModel.REGISTRATION_RETENTION)
    marketer = partner_user(partner, PartnerRole.MARKETING)
    fund_request = approved_request(partner, user=marketer, allocation=FundAllocationFactory(partner=partner))
    claim = submitted_claim(fund_request, user=marketer)
    api = api_as(marketing_staff())
    response = api.post(f"/api/v1/fund-claims/{claim.pk}/{verb}/", body, format="json")
    assert response.status_code == 400 and "reason" in response.json(), response.content
    assert FundClaim.objects.get(pk=claim.pk).status == claim.status
    submitted = services.fund_request_create(
        user=marketer,
        allocation=fund_request.allocation,
        submit=True,
        title="Trade show",
        activity_type="trade_show",
        plan="A stand",
        starts_on=fund_request.starts_on,
        ends_on=fund_request.ends_on,
        requested_amount=Decimal("100.00"),
    )
    response = api.post(f"/api/v1/fund-requests/{submitted.pk}/{verb}/", body, format="json")
    assert response.status_code == 400 and "reason" in response.json(), response.content
    assert FundRequest.objects.get(pk=submitted.pk).status == submitted.status
