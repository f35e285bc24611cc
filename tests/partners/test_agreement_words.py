"""Issue 8, item 7: the agreement summary has a sentence for every dimension, no template braces,
and a white-label partner reads it in its own brand."""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from partners.access import PartnerRole
from partners.agreement import DIMENSIONS, PRESETS, BusinessModel
from tests.conftest import BUSINESS_MODELS, api_as
from tests.factories import PartnerFactory, partner_user

pytestmark = pytest.mark.django_db

ALTERNATIVES = {
    "renewal_exclusive_days": [0, 45],
    "renewal_commission": [True, False],
    "referral_fee": [Decimal("0.00"), Decimal("750.00")],
    "commission_rate": [Decimal("0.00"), Decimal("12.50")],
    "renewal_uplift_percent": [Decimal("0.00"), Decimal("5.00")],
    "renewal_commission_rate": [Decimal("5.00"), Decimal("7.50")],
    "renewal_parent_marketing": [True, False],
}


def _choices(agreement, name):
    field = agreement._meta.get_field(name)
    return [value for value, _ in field.choices] if field.choices else ALTERNATIVES[name]


@pytest.mark.parametrize("business_model", BUSINESS_MODELS)
def test_every_line_is_a_sentence_without_braces(business_model):
    """Today: "{Helios Cloud}" with its braces, and a bare "Either." for the marketing model."""
    partner = PartnerFactory(business_model=business_model, display_name="Own Brand Cloud")
    lines = partner.agreement.describe()
    for line in lines:
        assert "{" not in line and "}" not in line, line
        assert line[0].isupper() and line.endswith("."), line
        assert len(line.split()) >= 4, line  # a sentence, not a label such as "Either."
    text = " ".join(lines)
    if business_model == BusinessModel.WHITE_LABEL:
        assert settings.PARENT_COMPANY_NAME not in text and "Own Brand Cloud" in text
    else:
        assert settings.PARENT_COMPANY_NAME in text


@pytest.mark.parametrize("name", DIMENSIONS)
def test_every_dimension_is_put_in_words(name):
    """Changing any one dimension changes what the partner reads (so each has its sentence)."""
    partner = PartnerFactory(business_model=BusinessModel.DUAL)
    agreement = partner.agreement
    # Commission amounts are read only under the commission model that uses them.
    if name == "referral_fee":
        agreement.commission_model = "on_referral"
    if name == "commission_rate":
        agreement.commission_model = "on_close"
    if name == "renewal_exclusive_days":
        agreement.renewal_owner = "shared"
    if name == "renewal_commission_rate":
        agreement.renewal_owner, agreement.renewal_commission = "parent", True
    if name == "renewal_parent_marketing":
        agreement.renewal_owner = "partner"
    summaries = set()
    for value in _choices(agreement, name):
        setattr(agreement, name, value)
        summaries.add(tuple(agreement.describe()))
    assert len(summaries) == len(_choices(agreement, name)), name


def test_the_summary_reaches_the_partner_through_the_api_and_the_portal(client):
    partner = PartnerFactory(business_model=BusinessModel.WHITE_LABEL, display_name="Wingtip Cloud")
    admin = partner_user(partner, PartnerRole.ADMIN)
    summary = api_as(admin).get(f"/api/v1/partners/{partner.pk}/agreement/").json()["summary"]
    assert any("Wingtip Cloud" in line for line in summary)
    client.force_login(admin)
    page = client.get("/portal/profile/").content.decode()
    assert "Wingtip Cloud" in page and not re.search(r"\{[^}%]*\}", page.split("<main")[-1])
    assert PRESETS[BusinessModel.WHITE_LABEL]["customer_awareness"] == partner.agreement.customer_awareness
