"""The MDF admin (pages render, actions call the services) and the demo data."""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from mdf.models import FundClaim, FundRequest
from partners.access import ParentRole, PartnerRole
from tests.factories import PartnerFactory, parent_user, partner_user
from tests.factories.mdf import approved_request, finance_staff, marketing_staff, submitted_claim

pytestmark = pytest.mark.django_db
MODELS = sorted(model._meta.model_name for model in admin.site._registry if model._meta.app_label == "mdf")


@pytest.mark.parametrize("model_name", MODELS)
def test_admin_changelist_and_empty_add(model_name):
    client = Client(raise_request_exception=True)
    client.force_login(parent_user(ParentRole.ADMIN, superuser=True))
    assert client.get(reverse(f"admin:mdf_{model_name}_changelist")).status_code == 200
    add = client.get(reverse(f"admin:mdf_{model_name}_add"))
    assert add.status_code in (200, 403)
    if add.status_code == 200:
        response = client.post(reverse(f"admin:mdf_{model_name}_add"), {})
        assert response.status_code == 200
        assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()


def test_admin_actions_review_and_pay_through_the_services():
    partner = PartnerFactory()
    marketer = partner_user(partner, PartnerRole.MARKETING)
    fr = approved_request(partner, user=marketer)
    claim = submitted_claim(fr, user=marketer)
    client = Client(raise_request_exception=True)
    client.force_login(marketing_staff())
    url = reverse("admin:mdf_fundclaim_changelist")
    client.post(url, {"action": "approve", "_selected_action": [claim.pk]})
    assert FundClaim.objects.get(pk=claim.pk).status == "approved"
    # Marketing cannot pay: the service refuses and the admin says so.
    client.post(url, {"action": "mark_paid", "_selected_action": [claim.pk], "payment_reference": "P-1"})
    assert FundClaim.objects.get(pk=claim.pk).status == "approved"
    client.force_login(finance_staff())
    client.post(url, {"action": "mark_paid", "_selected_action": [claim.pk], "payment_reference": "P-1"})
    claim = FundClaim.objects.get(pk=claim.pk)
    assert claim.status == "paid" and claim.payment_reference == "P-1"
    page = client.get(reverse("admin:mdf_fundclaim_change", args=[claim.pk]))
    assert page.status_code == 200 and claim.files.get().filename in page.content.decode()


def test_admin_request_rejection_needs_a_reason():
    from mdf import services
    from tests.factories.mdf import FundAllocationFactory

    partner = PartnerFactory()
    marketer = partner_user(partner, PartnerRole.MARKETING)
    fr = services.fund_request_create(
        user=marketer, allocation=FundAllocationFactory(partner=partner), submit=True, title="t",
        activity_type="event", plan="p", starts_on=timezone.localdate(), ends_on=timezone.localdate(),
        requested_amount=10,
    )  # fmt: skip
    client = Client()
    client.force_login(marketing_staff())
    url = reverse("admin:mdf_fundrequest_changelist")
    client.post(url, {"action": "reject", "_selected_action": [fr.pk]})
    assert FundRequest.objects.get(pk=fr.pk).status == "submitted"
    client.post(url, {"action": "reject", "_selected_action": [fr.pk], "reason": "Off strategy"})
    fr = FundRequest.objects.get(pk=fr.pk)
    assert fr.status == "rejected" and fr.decision_reason == "Off strategy"


def test_seed_demo_covers_every_model_and_state(settings):
    from django.core.management import call_command

    from mdf.models import Asset, Campaign, FundAllocation, FundClaimStatus, FundRequestStatus
    from partners.agreement import MarketingModel
    from partners.models import Notification, Partner

    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    models = set(Partner.objects.values_list("agreement__marketing_model", flat=True))
    assert models == set(MarketingModel.values)
    assert set(FundRequest.objects.values_list("status", flat=True)) == set(FundRequestStatus.values)
    assert set(FundClaim.objects.values_list("status", flat=True)) == set(FundClaimStatus.values)
    assert FundClaim.objects.filter(decision_reason__startswith="Duplicate invoice", status="rejected").count() == 1
    assert not FundClaim.objects.filter(invoice_key="AWP7781", partner__slug="wingtip").exists()
    assert Notification.objects.filter(kind="mdf.funds_expiring").exists()
    assert FundAllocation.objects.filter(program__name="MDF current quarter").count() == 5
    assert Campaign.objects.filter(leads__partner__slug="northwind").exists()
    contoso = Partner.objects.get(slug="contoso")
    wingtip = Partner.objects.get(slug="wingtip")
    assert Asset.objects.for_partner(contoso.pk).filter(white_label_safe=False).exists()
    assert list(Asset.objects.for_partner(wingtip.pk).values_list("white_label_safe", flat=True)) == [True]
    counts = (FundRequest.objects.count(), FundClaim.objects.count())
    call_command("seed_demo", verbosity=0)
    assert (FundRequest.objects.count(), FundClaim.objects.count()) == counts


def test_admin_adds_go_through_the_services():
    from mdf.models import Asset, AssetVersion, FundAllocation
    from partners.models import AuditEvent
    from tests.factories.mdf import FundProgramFactory

    partner = PartnerFactory()
    program = FundProgramFactory(budget=1000)
    client = Client(raise_request_exception=True)
    client.force_login(finance_staff())
    url = reverse("admin:mdf_fundallocation_add")
    data = {"program": program.pk, "partner": partner.pk, "method": "fixed", "amount": "1500.00"}
    client.post(url, data)
    assert not FundAllocation.objects.exists()  # over the program's budget: refused by the service
    client.post(url, data | {"amount": "800.00"})
    allocation = FundAllocation.objects.get()
    assert allocation.amount == 800 and AuditEvent.objects.filter(verb="mdf.allocation.create").count() == 1

    client.force_login(marketing_staff())
    response = client.post(
        reverse("admin:mdf_asset_add"),
        {"title": "Flyer", "kind": "brochure", "description": "", "is_published": "on", "co_branded": "on",
         "body_html": "<p>{partner_name}</p>", "entitled_models": ["partner_led"], "entitled_countries": "de, at"},
    )  # fmt: skip
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.marketing_models == ",partner_led," and asset.countries == ",DE,AT,"
    assert asset.current_version.number == 1
    client.post(
        reverse("admin:mdf_asset_change", args=[asset.pk]),
        {"title": "Flyer", "kind": "brochure", "description": "", "is_published": "on", "co_branded": "on",
         "body_html": "<p>v2 {partner_name}</p>", "entitled_models": ["partner_led"], "entitled_countries": "DE"},
    )  # fmt: skip
    asset.refresh_from_db()
    assert asset.current_version.number == 2 and AssetVersion.objects.filter(asset=asset).count() == 2
    assert asset.countries == ",DE,"
